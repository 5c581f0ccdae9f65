import { type RouteRuntime, type RouteTable, SYSTEM_RUNTIME } from "../env.js";
import { settleSendJobs } from "../resources/campaign-send.js";
import type { EmulatorState } from "../state.js";
import { accountRoutes } from "./accounts.js";
import { campaignSendRoutes } from "./campaign-send.js";
import { campaignRoutes } from "./campaigns.js";
import { eventRoutes } from "./events.js";
import { flowRoutes } from "./flows.js";
import { imageRoutes } from "./images.js";
import { listRoutes } from "./lists.js";
import { metricRoutes } from "./metrics.js";
import { profileImportRoutes } from "./profile-import.js";
import { profileRoutes } from "./profiles.js";
import { profileEverydayRoutes } from "./profiles-everyday.js";
import { segmentRoutes } from "./segments.js";
import { subscriptionRoutes } from "./subscriptions.js";
import { tagRoutes } from "./tags.js";
import { templateRoutes } from "./templates.js";
import { templateEverydayRoutes } from "./templates-everyday.js";
import { webhookRoutes } from "./webhooks.js";

/**
 * Every operation the emulator implements, by operation id; the others answer 501. `runtime` gives the clock every
 * recorded time comes from (the system clock by default).
 */
export function implementedRoutes(state: EmulatorState, runtime: RouteRuntime = SYSTEM_RUNTIME): RouteTable {
  return withSendJobs(state, runtime, {
    ...accountRoutes(state),
    ...profileRoutes(state, runtime),
    ...listRoutes(state, runtime),
    ...subscriptionRoutes(state, runtime),
    ...profileImportRoutes(state, runtime),
    ...eventRoutes(state, runtime),
    ...segmentRoutes(state, runtime),
    ...campaignRoutes(state, runtime),
    ...templateRoutes(state, runtime),
    ...imageRoutes(state, runtime),
    ...flowRoutes(state, runtime),
    ...templateEverydayRoutes(state, runtime),
    ...tagRoutes(state),
    ...campaignSendRoutes(state, runtime),
    ...metricRoutes(state),
    ...profileEverydayRoutes(state, runtime),
    ...webhookRoutes(state, runtime),
  });
}

/**
 * Every handler first moves campaign send jobs on to where their time has brought them (Klaviyo sends in the
 * background), so that every operation sees the account as it is now.
 */
function withSendJobs(state: EmulatorState, runtime: RouteRuntime, routes: RouteTable): RouteTable {
  return Object.fromEntries(
    Object.entries(routes).map(([operation, handler]) => [
      operation,
      (c: Parameters<typeof handler>[0]) => {
        if (state.campaignSendJobs.size > 0) settleSendJobs(state, runtime.now());
        return handler(c);
      },
    ]),
  ) as RouteTable;
}
