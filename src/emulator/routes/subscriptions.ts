import type { RouteTable } from "../env.js";
import type { EmulatorState } from "../state.js";

/** Handlers for the subscriptions operations (to be filled in). */
export function subscriptionRoutes(_state: EmulatorState): RouteTable {
  return {};
}
