import type { AnyAction } from "./define.js";

/** The campaigns actions (to be filled in). */
export const campaignsActions: readonly AnyAction[] = [];
