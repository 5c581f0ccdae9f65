/**
 * Our own small schema module: the subset of zod's API the connector uses (same names and behaviour), typed
 * end to end, with no dependency. `z.strictObject({...})`, `schema.safeParse(value)`, `z.infer<typeof schema>`.
 * Issues carry a `code`, the exact `path` (it becomes a JSON pointer) and an English `message`.
 */

export type { Discriminable, Issue, RawIssue, RefinementCtx, SafeParseResult, Schema } from "./schema/z.js";
export * as z from "./schema/z.js";
export { SchemaError } from "./schema/z.js";
