import type { AnyAction } from "./define.js";

/** The templates actions (to be filled in). */
export const templatesActions: readonly AnyAction[] = [];
