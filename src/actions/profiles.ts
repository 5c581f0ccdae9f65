import type { AnyAction } from "./define.js";

/** The profiles actions (to be filled in). */
export const profilesActions: readonly AnyAction[] = [];
