/**
 * Schemas, on valibot: functional and tree-shakable, so a bundle carries only the schema kinds it uses, and one
 * small module to load (zod 4, measured beside it, costs some 45 ms to import on these machines, past the
 * library's budget of 40 ms for everything). What this module adds to valibot is small: English messages for its
 * issues, used by every parse of ours (a schema's own message still wins); a parse that applies them and reports
 * issues with plain paths; and the helpers our schemas share (a transform or a check that reports problems).
 *
 *   import * as v from "valibot";
 *   import { parse } from "../klaviyo/schema.js";
 *   const result = parse(v.strictObject({ name: v.string() }), value);
 *
 * (valibot is imported as a namespace where it is used, and never re-exported as a value: a bundler then keeps
 * only what is called.)
 */
import * as v from "valibot";

/** A schema whose output is `Out` and whose input is `In`. */
export type Schema<Out = unknown, In = unknown> = v.GenericSchema<In, Out>;
/**
 * `schema`, typed by what it takes and gives only: for exported schemas built of variants, whose full type names
 * valibot's internal `VariantOptionSchema`, which declarations cannot name.
 */
export function typed<S extends v.GenericSchema>(
  schema: S,
): v.GenericSchema<v.InferInput<S>, v.InferOutput<S>> {
  return schema;
}

/** What `v.variant` takes as options: object schemas, or variants of them. */
export type Discriminable = v.VariantOptions<string>[number];

/**
 * One problem a parse found: what kind (`code`: `unrecognized_keys` for a member an object does not take, the
 * failed schema or check's type otherwise), where (`path`, keys and indexes from the value parsed), and why.
 */
export interface Issue {
  readonly code: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
  /** For `unrecognized_keys`: the members not taken. */
  readonly keys?: readonly string[];
}

export type SafeParseResult<T> =
  | { readonly success: true; readonly data: T }
  | { readonly success: false; readonly error: { readonly issues: readonly Issue[] } };

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: "a string",
  number: "a number",
  boolean: "a boolean",
  object: "an object",
  strict_object: "an object",
  loose_object: "an object",
  record: "an object",
  array: "an array",
  tuple: "an array",
  null: "null",
  never: "nothing",
};

/** What a value is, for a message: its type, or the value itself when it is short. */
function received(input: unknown, showValue: boolean): string {
  if (input === null) return "null";
  if (Array.isArray(input)) return "an array";
  if (typeof input === "number") {
    if (Number.isNaN(input)) return "NaN";
    if (showValue || !Number.isFinite(input)) return String(input);
    return "a number";
  }
  if (typeof input === "string") return showValue && input.length <= 40 ? JSON.stringify(input) : "a string";
  if (typeof input === "boolean") return showValue ? String(input) : "a boolean";
  return typeof input === "object" ? "an object" : typeof input;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The literal values a picklist or literal expected, as `"a", "b"`. */
function options(expected: string | null): string {
  return (expected ?? "")
    .split(" | ")
    .map((o) => o.trim())
    .join(", ");
}

type AnyIssue = v.BaseIssue<unknown>;

function isObjectType(type: string): boolean {
  return (
    type === "object" || type === "strict_object" || type === "loose_object" || type === "object_with_rest"
  );
}

/**
 * Our English for valibot's issues: "is required: expected a string", "expected one of "a", "b", received "c"",
 * "must be at least 3 characters", "'x' is not a valid field". A message a schema sets itself takes precedence.
 */
export function issueMessage(issue: AnyIssue): string {
  const input = issue.input;
  const requirement = issue.requirement;
  if (isObjectType(issue.type) && issue.expected === "never")
    return `'${String(input)}' is not a valid field`;
  if (isObjectType(issue.type) && input === undefined && issue.path?.at(-1)?.origin === "key")
    return "is required";
  switch (issue.type) {
    case "literal":
    case "picklist":
    case "enum": {
      const expected = options(issue.expected);
      const shown = expected.includes(",") ? `one of ${expected}` : expected;
      return input === undefined
        ? `is required: expected ${shown}`
        : `expected ${shown}, received ${received(input, true)}`;
    }
    case "variant": {
      const key = String(issue.path?.at(-1)?.key ?? "");
      return input === undefined
        ? `'${key}' is required: one of ${options(issue.expected)}`
        : `'${key}' must be one of ${options(issue.expected)}, received ${received(input, true)}`;
    }
    case "union": {
      const names = (issue.expected ?? "")
        .replace(/^\(|\)$/g, "")
        .split(" | ")
        .map(
          (name) =>
            TYPE_NAMES[name.toLowerCase()] ?? (name.startsWith('"') ? name : `a ${name.toLowerCase()}`),
        );
      const last = names.pop();
      const expected = names.length > 0 ? `${names.join(", ")} or ${last}` : last;
      return input === undefined
        ? `is required: expected ${expected}`
        : `expected ${expected}, received ${received(input, false)}`;
    }
    case "integer":
      return `expected an integer, received ${received(input, true)}`;
    case "min_length":
    case "max_length":
    case "length": {
      const n = Number(requirement);
      const bound =
        issue.type === "min_length" ? "at least" : issue.type === "max_length" ? "at most" : "exactly";
      return Array.isArray(input)
        ? `must have ${bound} ${plural(n, "item", "items")}`
        : `must be ${bound} ${plural(n, "character", "characters")}`;
    }
    case "min_value":
      return `must be at least ${String(requirement)}`;
    case "max_value":
      return `must be at most ${String(requirement)}`;
    case "gt_value":
      return `must be greater than ${String(requirement)}`;
    case "lt_value":
      return `must be less than ${String(requirement)}`;
    case "regex":
      return `must match the pattern ${String(requirement)}`;
    case "starts_with":
      return `must start with ${JSON.stringify(requirement)}`;
    case "ends_with":
      return `must end with ${JSON.stringify(requirement)}`;
    case "iso_date":
      return "must be an ISO 8601 date such as 2026-07-15";
    default: {
      const expected = TYPE_NAMES[issue.type];
      if (issue.kind === "schema" && expected !== undefined) {
        if (issue.type === "never") return "is not allowed here";
        return input === undefined
          ? `is required: expected ${expected}`
          : `expected ${expected}, received ${received(input, false)}`;
      }
      return "is invalid";
    }
  }
}

const parseConfig = { message: issueMessage } as const;

/** The keys and indexes of a valibot issue path. */
function keysOf(path: AnyIssue["path"]): PropertyKey[] {
  return (path ?? []).map((item) => item.key as PropertyKey);
}

/** A valibot issue in our terms (`Issue`). */
function normalise(issue: AnyIssue): Issue {
  const path = keysOf(issue.path);
  if (isObjectType(issue.type) && issue.expected === "never") {
    return {
      code: "unrecognized_keys",
      path: path.slice(0, -1),
      keys: [String(issue.input)],
      message: issue.message,
    };
  }
  return { code: issue.type, path, message: issue.message };
}

/** Parses `value` with our messages; never throws. */
export function parse<S extends v.GenericSchema>(
  schema: S,
  value: unknown,
): SafeParseResult<v.InferOutput<S>> {
  const result = v.safeParse(schema, value, parseConfig);
  if (result.success) return { success: true, data: result.output };
  return { success: false, error: { issues: result.issues.map(normalise) } };
}

/** A path as text: `condition_groups[0].conditions[1].type`. */
export function pathText(path: readonly PropertyKey[]): string {
  return path
    .map((step, i) => (typeof step === "number" ? `[${step}]` : `${i > 0 ? "." : ""}${String(step)}`))
    .join("");
}

/** Each issue as one line, `path: message` (`unknown member "x"` for an unrecognized key). */
export function issueLines(issues: readonly Issue[]): string[] {
  return issues.map((issue) => {
    const at = pathText(issue.path);
    const message =
      issue.code === "unrecognized_keys"
        ? `unknown member${(issue.keys?.length ?? 0) > 1 ? "s" : ""} ${(issue.keys ?? []).map((k) => `"${k}"`).join(", ")}`
        : issue.message;
    return at ? `${at}: ${message}` : message;
  });
}

/** How many problems one message lists before it says how many more there are. */
export const MAX_LISTED_PROBLEMS = 20;

/** What a transform or a check reports its problems to. */
export interface IssueSink {
  /** A problem with the value, or with a member below it (`path`). */
  addIssue(issue: { readonly message: string; readonly path?: readonly PropertyKey[] }): void;
}

/** Reports `problems`, the first few in full and a count of the rest. */
export function reportProblems(ctx: IssueSink, problems: readonly string[]): void {
  for (const message of problems.slice(0, MAX_LISTED_PROBLEMS)) ctx.addIssue({ message });
  const more = problems.length - MAX_LISTED_PROBLEMS;
  if (more > 0) ctx.addIssue({ message: `and ${more} more problem${more > 1 ? "s" : ""}` });
}

type AddIssue = (info?: { message?: string; path?: [v.IssuePathItem, ...v.IssuePathItem[]] }) => void;

/** An `IssueSink` over valibot's `addIssue`, whose paths are items rather than keys. */
function sinkOf(addIssue: AddIssue, input: unknown): IssueSink & { failed: boolean } {
  const sink = {
    failed: false,
    addIssue(issue: { readonly message: string; readonly path?: readonly PropertyKey[] }) {
      sink.failed = true;
      const path = issue.path?.map(
        (key): v.IssuePathItem => ({ type: "unknown", origin: "value", input, key, value: undefined }),
      );
      addIssue({
        message: issue.message,
        ...(path && path.length > 0 ? { path: path as [v.IssuePathItem, ...v.IssuePathItem[]] } : {}),
      });
    },
  };
  return sink;
}

/**
 * A transformation that may find problems: `fn` returns the new value, or reports what is wrong through its
 * context (the value it returns is then dropped).
 */
export function transformWith<In, Out>(fn: (value: In, ctx: IssueSink) => Out) {
  return v.rawTransform<In, Out>(({ dataset, addIssue, NEVER }) => {
    const sink = sinkOf(addIssue, dataset.value);
    const out = fn(dataset.value, sink);
    return sink.failed ? NEVER : out;
  });
}

/** A check that reports what is wrong through its context (for several problems, or problems below the value). */
export function checkWith<T>(fn: (value: T, ctx: IssueSink) => void) {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    if (dataset.typed) fn(dataset.value, sinkOf(addIssue, dataset.value));
  });
}

/**
 * `outline`, then `read`: the outline is what JSON Schema can state of the value (its shape), and `read` checks
 * the rest and converts it, pushing what it finds wrong onto `problems` (the value it returns is then dropped).
 */
export function reading<S extends v.GenericSchema, Out>(
  outline: S,
  read: (value: v.InferOutput<S>, problems: string[]) => Out,
): Schema<Out, v.InferInput<S>> {
  return v.pipe(
    outline,
    transformWith((value: v.InferOutput<S>, ctx): Out => {
      const problems: string[] = [];
      const out = read(value, problems);
      reportProblems(ctx, problems);
      return out;
    }),
  );
}

/** `schema` with one more check after it (`check` reports through its context). */
export function refined<Out, In>(
  schema: Schema<Out, In>,
  check: (value: Out, ctx: IssueSink) => void,
): Schema<Out, In> {
  return v.pipe(schema, checkWith(check));
}

const NOT_AN_ARRAY = v.check<unknown, string>(
  (value) => !Array.isArray(value),
  "expected an object, received an array",
);

/** The object schema each `objectOnly` stands for, by the schema its pipe starts with (see `objectSchemaOf`). */
const objectOnlyStarts = new WeakMap<object, v.GenericSchema>();

/**
 * `schema` (an object or a record), arrays refused first: valibot's object and record schemas take an array (an
 * object to JavaScript) and copy its items out, where JSON Schema's `type: object` refuses it. The manifest
 * publishes `schema`'s JSON Schema for it.
 */
export function objectOnly<S extends v.GenericSchema>(schema: S) {
  const start = v.unknown();
  objectOnlyStarts.set(start, schema);
  return v.pipe(start, NOT_AN_ARRAY, schema);
}

/**
 * The object schema an `objectOnly` stands for, given the schema its pipe starts with (what a JSON Schema
 * converter sees of it), or `undefined`.
 */
export function objectSchemaOf(start: object): v.GenericSchema | undefined {
  return objectOnlyStarts.get(start);
}

/** Any JSON object (its members unchecked). */
export const jsonObject = objectOnly(v.record(v.string(), v.unknown()));
