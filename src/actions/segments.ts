import type { AnyAction } from "./define.js";

/** The segments actions (to be filled in). */
export const segmentsActions: readonly AnyAction[] = [];
