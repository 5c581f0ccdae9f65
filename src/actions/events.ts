import type { AnyAction } from "./define.js";

/** The events actions (to be filled in). */
export const eventsActions: readonly AnyAction[] = [];
