import type { RouteTable } from "../env.js";
import type { EmulatorState } from "../state.js";
import { accountRoutes } from "./accounts.js";
import { campaignRoutes } from "./campaigns.js";
import { eventRoutes } from "./events.js";
import { imageRoutes } from "./images.js";
import { listRoutes } from "./lists.js";
import { profileImportRoutes } from "./profile-import.js";
import { profileRoutes } from "./profiles.js";
import { segmentRoutes } from "./segments.js";
import { subscriptionRoutes } from "./subscriptions.js";
import { templateRoutes } from "./templates.js";

/** Every operation the emulator implements, by operation id; the others answer 501. */
export function implementedRoutes(state: EmulatorState): RouteTable {
  return {
    ...accountRoutes(state),
    ...profileRoutes(state),
    ...listRoutes(state),
    ...subscriptionRoutes(state),
    ...profileImportRoutes(state),
    ...eventRoutes(state),
    ...segmentRoutes(state),
    ...campaignRoutes(state),
    ...templateRoutes(state),
    ...imageRoutes(state),
  };
}
