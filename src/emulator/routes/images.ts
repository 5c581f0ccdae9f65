import type { RouteTable } from "../env.js";
import type { EmulatorState } from "../state.js";

/** Handlers for the images operations (to be filled in). */
export function imageRoutes(_state: EmulatorState): RouteTable {
  return {};
}
