import type { AnyAction } from "./define.js";

/** The lists actions (to be filled in). */
export const listsActions: readonly AnyAction[] = [];
