import type { AnyAction } from "./define.js";

/** The raw-request actions (to be filled in). */
export const rawRequestActions: readonly AnyAction[] = [];
