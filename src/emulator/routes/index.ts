import type { RouteTable } from "../env.js";
import type { EmulatorState } from "../state.js";
import { accountRoutes } from "./accounts.js";

/** Every operation the emulator implements, by operation id; the others answer 501. */
export function implementedRoutes(state: EmulatorState): RouteTable {
  return { ...accountRoutes(state) };
}
