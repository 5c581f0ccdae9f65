import type { RouteTable } from "../env.js";
import type { EmulatorState } from "../state.js";

/** Handlers for the segments operations (to be filled in). */
export function segmentRoutes(_state: EmulatorState): RouteTable {
  return {};
}
