import type { AnyAction } from "./define.js";

/** The images actions (to be filled in). */
export const imagesActions: readonly AnyAction[] = [];
