import type { AnyAction } from "./define.js";

/** The subscriptions actions (to be filled in). */
export const subscriptionsActions: readonly AnyAction[] = [];
