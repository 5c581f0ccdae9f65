import type { RouteTable } from "../env.js";
import type { EmulatorState } from "../state.js";

/** Handlers for the events operations (to be filled in). */
export function eventRoutes(_state: EmulatorState): RouteTable {
  return {};
}
