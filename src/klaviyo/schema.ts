/**
 * Schemas, on zod (its tree-shakable `zod/mini` flavour: the library's bundle carries only the schema kinds it
 * uses). What this module adds to zod is small: English messages for zod's issues, used by every parse of ours
 * (a schema's own message still wins), a parse that applies them, and the few types our definitions name.
 *
 *   import * as z from "zod/mini";
 *   import { parse } from "../klaviyo/schema.js";
 *   const result = parse(z.strictObject({ name: z.string() }), value);
 *
 * (`zod/mini` is imported as a namespace where it is used and never re-exported as a value: a bundler then keeps
 * only the schema kinds called, instead of the whole namespace with zod's locales.)
 */
import * as z from "zod/mini";

/** A schema whose output is `Out` and whose input is `In`: zod's base type, of either flavour. */
export type Schema<Out = unknown, In = unknown> = z.core.$ZodType<Out, In>;
/** What `z.discriminatedUnion` takes as options. */
export type Discriminable = z.core.$ZodTypeDiscriminable;
/** The context `z.superRefine` hands its function. */
export type RefinementCtx<T = unknown> = z.core.$RefinementCtx<T>;
/** One problem a parse found: its `code`, `path` and `message`. */
export type Issue = z.core.$ZodIssue;
export type SafeParseResult<T> = z.core.util.SafeParseResult<T>;

/** What a transform's context offers (zod/mini hands transforms the parse payload). */
interface IssueSink {
  issues: z.core.$ZodRawIssue[];
  value: unknown;
}

/** Reports a problem from inside `z.transform` (return `z.NEVER` after it). */
export function addIssue(
  ctx: IssueSink,
  issue: { code?: "custom"; message?: string; path?: PropertyKey[]; params?: Record<string, unknown> },
): void {
  ctx.issues.push({
    code: "custom",
    input: ctx.value,
    ...(issue.message !== undefined ? { message: issue.message } : {}),
    ...(issue.path ? { path: issue.path } : {}),
    ...(issue.params ? { params: issue.params } : {}),
  });
}

type TypeName = string;

const TYPE_NAMES: Readonly<Record<TypeName, string>> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "a boolean",
  object: "an object",
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

function shown(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

function plural(n: number | bigint, one: string, many: string): string {
  return `${n} ${Number(n) === 1 ? one : many}`;
}

type RawIssue = z.core.$ZodRawIssue;

/** The union's expected types and values, when every option failed on the value itself rather than inside it. */
function unionExpectation(errors: readonly (readonly Issue[])[]): string | undefined {
  const expected: string[] = [];
  for (const option of errors) {
    const [only, ...more] = option;
    if (!only || more.length > 0 || only.path.length > 0) return undefined;
    if (only.code === "invalid_type") expected.push(TYPE_NAMES[only.expected] ?? `a ${only.expected}`);
    else if (only.code === "invalid_value") expected.push(...only.values.map(shown));
    else return undefined;
  }
  const last = expected.pop();
  return expected.length > 0 ? `${expected.join(", ")} or ${last}` : last;
}

/**
 * Our English for zod's issues: "is required: expected a string", "expected one of "a", "b", received "c"",
 * "must be at least 3 characters", "'x' is not a valid field". A message a schema sets itself takes precedence.
 */
export function issueMessage(issue: RawIssue): string {
  switch (issue.code) {
    case "invalid_type": {
      if (issue.expected === "never") return "is not allowed here";
      const expected = TYPE_NAMES[issue.expected] ?? `a ${issue.expected}`;
      if (issue.input === undefined) return `is required: expected ${expected}`;
      // A fraction given for an integer is shown: "received a number" would not say what is wrong.
      const showValue = issue.expected === "int" && typeof issue.input === "number";
      return `expected ${expected}, received ${received(issue.input, showValue)}`;
    }
    case "invalid_value": {
      const values = issue.values.map(shown);
      const expected = values.length === 1 ? values[0] : `one of ${values.join(", ")}`;
      if (issue.input === undefined) return `is required: expected ${expected}`;
      return `expected ${expected}, received ${received(issue.input, true)}`;
    }
    case "too_small":
      if (issue.origin === "string")
        return `must be at least ${plural(issue.minimum, "character", "characters")}`;
      if (issue.origin === "array") return `must have at least ${plural(issue.minimum, "item", "items")}`;
      return issue.inclusive === false
        ? `must be greater than ${issue.minimum}`
        : `must be at least ${issue.minimum}`;
    case "too_big":
      if (issue.origin === "string")
        return `must be at most ${plural(issue.maximum, "character", "characters")}`;
      if (issue.origin === "array") return `must have at most ${plural(issue.maximum, "item", "items")}`;
      return issue.inclusive === false
        ? `must be less than ${issue.maximum}`
        : `must be at most ${issue.maximum}`;
    case "invalid_format": {
      const format = issue as z.core.$ZodRawIssue<z.core.$ZodIssueInvalidStringFormat> & {
        prefix?: string;
        suffix?: string;
      };
      switch (format.format) {
        case "regex":
          return `must match the pattern ${format.pattern}`;
        case "starts_with":
          return `must start with ${JSON.stringify(format.prefix)}`;
        case "ends_with":
          return `must end with ${JSON.stringify(format.suffix)}`;
        case "datetime":
          return "must be an ISO 8601 date-time such as 2026-07-15T12:00:00Z";
        case "date":
          return "must be an ISO 8601 date such as 2026-07-15";
        default:
          return `must be ${format.format === "email" ? "an email address" : `a valid ${format.format}`}`;
      }
    }
    case "unrecognized_keys": {
      const keys = issue.keys.map((key) => `'${key}'`).join(", ");
      return issue.keys.length === 1 ? `${keys} is not a valid field` : `${keys} are not valid fields`;
    }
    case "invalid_union": {
      if (issue.discriminator !== undefined) {
        const name = `'${issue.discriminator}'`;
        const options = (issue as { options?: readonly unknown[] }).options ?? [];
        const valid = options.map((o) => `'${String(o)}'`).join(", ");
        const given =
          typeof issue.input === "object" && issue.input !== null
            ? Reflect.get(issue.input, issue.discriminator)
            : undefined;
        return given === undefined
          ? `${name} is required: one of ${valid}`
          : `${name} must be one of ${valid}, received ${received(given, true)}`;
      }
      const expected = unionExpectation(issue.errors);
      if (expected === undefined) return "does not match any of the allowed forms";
      if (issue.input === undefined) return `is required: expected ${expected}`;
      // Against literal values, the value given says more than its type.
      const showValue = issue.errors.some((option) => option[0]?.code === "invalid_value");
      return `expected ${expected}, received ${received(issue.input, showValue)}`;
    }
    default:
      return "is invalid";
  }
}

const parseOptions = { error: issueMessage } as const;

/** Parses `value` with our messages; never throws. */
export function parse<S extends z.core.$ZodType>(schema: S, value: unknown): SafeParseResult<z.output<S>> {
  return z.safeParse(schema, value, parseOptions);
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
        ? `unknown member${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`
        : issue.message;
    return at ? `${at}: ${message}` : message;
  });
}

/** How many problems one message lists before it says how many more there are. */
export const MAX_LISTED_PROBLEMS = 20;

/** Adds `problems` to a parse, the first few in full and a count of the rest. */
export function reportProblems(ctx: IssueSink, problems: readonly string[]): void {
  for (const message of problems.slice(0, MAX_LISTED_PROBLEMS)) addIssue(ctx, { message });
  const more = problems.length - MAX_LISTED_PROBLEMS;
  if (more > 0) addIssue(ctx, { message: `and ${more} more problem${more > 1 ? "s" : ""}` });
}

/**
 * `outline`, then `read`: the outline is what JSON Schema can state of the value (its shape), and `read` checks
 * the rest and converts it, pushing what it finds wrong onto `problems` (the value it returns is then dropped).
 */
export function reading<In, Out>(
  outline: Schema<In, unknown>,
  read: (value: In, problems: string[]) => Out,
): Schema<Out, unknown> {
  return z.pipe(
    outline,
    z.transform((value: In, ctx): Out => {
      const problems: string[] = [];
      const out = read(value, problems);
      if (problems.length === 0) return out;
      reportProblems(ctx, problems);
      return z.NEVER;
    }),
  );
}

/** `schema` with one more check after it (`check` reports through the context, as `z.superRefine`'s does). */
export function refined<Out, In>(
  schema: Schema<Out, In>,
  check: (value: Out, ctx: RefinementCtx<Out>) => void,
): Schema<Out, In> {
  return z.pipe(schema, z.custom<Out>().check(z.superRefine(check))) as unknown as Schema<Out, In>;
}

/** Any JSON object (its members unchecked). */
export const jsonObject = z.record(z.string(), z.unknown());
