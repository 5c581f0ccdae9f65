import type { RouteTable } from "../env.js";
import type { EmulatorState } from "../state.js";

/** Handlers for the campaigns operations (to be filled in). */
export function campaignRoutes(_state: EmulatorState): RouteTable {
  return {};
}
