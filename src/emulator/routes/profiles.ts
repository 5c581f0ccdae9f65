import type { RouteTable } from "../env.js";
import type { EmulatorState } from "../state.js";

/** Handlers for the profiles operations (to be filled in). */
export function profileRoutes(_state: EmulatorState): RouteTable {
  return {};
}
