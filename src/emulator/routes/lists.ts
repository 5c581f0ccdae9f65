import type { RouteTable } from "../env.js";
import type { EmulatorState } from "../state.js";

/** Handlers for the lists operations (to be filled in). */
export function listRoutes(_state: EmulatorState): RouteTable {
  return {};
}
