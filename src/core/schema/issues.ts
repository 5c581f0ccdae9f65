/**
 * What a failed parse reports: issues with a code, the exact path of the member (it becomes a JSON pointer) and a
 * message in plain English, plus the parse context that collects them and the error `parse` throws.
 */

/** The names a type issue can expect. */
export type TypeName = "string" | "number" | "integer" | "boolean" | "object" | "array" | "null" | "never";

/** What went wrong, by `code`; each issue also carries its `path` and `message`. */
export type IssueDetail =
  | { code: "invalid_type"; expected: TypeName }
  | { code: "invalid_value"; values: readonly unknown[] }
  | { code: "too_small"; origin: "string" | "array" | "number"; minimum: number; inclusive: boolean }
  | { code: "too_big"; origin: "string" | "array" | "number"; maximum: number; inclusive: boolean }
  | {
      code: "invalid_format";
      format: "regex" | "starts_with" | "ends_with" | "datetime" | "date";
      /** The pattern, prefix or suffix the text had to match. */
      expected?: string;
    }
  | { code: "unrecognized_keys"; keys: string[] }
  | {
      code: "invalid_union";
      /** Each option's issues (paths from the root), when no option matched. */
      errors: Issue[][];
      /** For a discriminated union: the member that chose the option, and the values it may take. */
      discriminator?: string;
      options?: unknown[];
    }
  | { code: "custom"; params?: Readonly<Record<string, unknown>> };

/** One problem found by a parse. */
export type Issue = IssueDetail & {
  /** Where, from the parsed value: `["data", "attributes", "name"]`, `[0, "id"]`. */
  path: PropertyKey[];
  message: string;
};

/** An issue as an error function sees it: without a message yet, with the value it is about. */
export type RawIssue = IssueDetail & { readonly input: unknown; readonly path: readonly PropertyKey[] };

/** Chooses a message for an issue; `undefined` keeps the default one. */
export type ErrorFn = (issue: RawIssue) => string | undefined;
/** A fixed message, or a function choosing one. */
export type ErrorParam = string | ErrorFn;
/** What schema constructors and checks take: a message, or `{ error }`. */
export type Params = string | { error?: ErrorParam };

export function errorOf(params: Params | undefined): ErrorParam | undefined {
  return typeof params === "string" ? params : params?.error;
}

/** An issue raised by a transform or refinement through its context. */
export interface CustomIssue {
  code?: "custom";
  message?: string;
  /** Below the value being refined (`["data", "content"]`). */
  path?: readonly PropertyKey[];
  /** Stop the checks that would follow (a transform's issues always do). */
  fatal?: boolean;
  params?: Readonly<Record<string, unknown>>;
}

/** The context transforms and `superRefine` receive. */
export interface RefinementCtx {
  addIssue(issue: CustomIssue): void;
}

/**
 * One parse: the issues found so far, the path of the value being parsed, and how many issues are fatal (a wrong
 * type, a failed transform), which skip the refinements that follow; a failed bound or refinement does not.
 */
export class ParseContext implements RefinementCtx {
  readonly issues: Issue[] = [];
  readonly path: PropertyKey[] = [];
  fatal = 0;
  /** The value a transform or refinement is looking at, and whether its issues are fatal. */
  current: unknown;
  currentIsFatal = false;

  addIssue(issue: CustomIssue): void {
    const detail: IssueDetail = issue.params ? { code: "custom", params: issue.params } : { code: "custom" };
    report(this, detail, this.current, issue.message, issue.fatal ?? this.currentIsFatal, issue.path);
  }
}

/** Records an issue at the context's path (plus `below`), with the message `error` chooses or the default one. */
export function report(
  ctx: ParseContext,
  detail: IssueDetail,
  input: unknown,
  error: ErrorParam | undefined,
  fatal: boolean,
  below?: readonly PropertyKey[],
): void {
  const path = below && below.length > 0 ? [...ctx.path, ...below] : ctx.path.slice();
  let message = typeof error === "string" ? error : undefined;
  if (message === undefined) {
    const raw: RawIssue = { ...detail, input, path };
    message = (typeof error === "function" ? error(raw) : undefined) ?? defaultMessage(raw);
  }
  ctx.issues.push({ ...detail, path, message });
  if (fatal) ctx.fatal++;
}

/** The error `parse` throws: every issue, and a message listing them. */
export class SchemaError extends Error {
  readonly issues: Issue[];

  constructor(issues: Issue[]) {
    super(
      issues
        .map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message))
        .join("; "),
    );
    this.name = "SchemaError";
    this.issues = issues;
  }
}

const TYPE_NAMES: Readonly<Record<TypeName, string>> = {
  string: "a string",
  number: "a number",
  integer: "an integer",
  boolean: "a boolean",
  object: "an object",
  array: "an array",
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
  if (typeof input === "string") {
    return showValue && input.length <= 40 ? JSON.stringify(input) : "a string";
  }
  if (typeof input === "boolean") return showValue ? String(input) : "a boolean";
  return typeof input === "object" ? "an object" : typeof input;
}

function shown(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The union's expected types and values, when every option failed on the value itself rather than inside it. */
function unionExpectation(issue: Extract<RawIssue, { code: "invalid_union" }>): string | undefined {
  const expected: string[] = [];
  for (const option of issue.errors) {
    const [only, ...more] = option;
    if (!only || more.length > 0 || only.path.length !== issue.path.length) return undefined;
    if (only.code === "invalid_type") expected.push(TYPE_NAMES[only.expected]);
    else if (only.code === "invalid_value") expected.push(...only.values.map(shown));
    else return undefined;
  }
  const last = expected.pop();
  return expected.length > 0 ? `${expected.join(", ")} or ${last}` : last;
}

/** The default English message of an issue. */
export function defaultMessage(issue: RawIssue): string {
  switch (issue.code) {
    case "invalid_type": {
      if (issue.expected === "never") return "is not allowed here";
      const expected = TYPE_NAMES[issue.expected];
      if (issue.input === undefined) return `is required: expected ${expected}`;
      // A fraction given for an integer is shown: "received a number" would not say what is wrong.
      const showValue = issue.expected === "integer" && typeof issue.input === "number";
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
      return issue.inclusive ? `must be at least ${issue.minimum}` : `must be greater than ${issue.minimum}`;
    case "too_big":
      if (issue.origin === "string")
        return `must be at most ${plural(issue.maximum, "character", "characters")}`;
      if (issue.origin === "array") return `must have at most ${plural(issue.maximum, "item", "items")}`;
      return issue.inclusive ? `must be at most ${issue.maximum}` : `must be less than ${issue.maximum}`;
    case "invalid_format":
      switch (issue.format) {
        case "regex":
          return `must match the pattern ${issue.expected}`;
        case "starts_with":
          return `must start with ${JSON.stringify(issue.expected)}`;
        case "ends_with":
          return `must end with ${JSON.stringify(issue.expected)}`;
        case "datetime":
          return "must be an ISO 8601 date-time such as 2026-07-15T12:00:00Z";
        case "date":
          return "must be an ISO 8601 date such as 2026-07-15";
      }
      break;
    case "unrecognized_keys": {
      const keys = issue.keys.map((key) => `'${key}'`).join(", ");
      return issue.keys.length === 1 ? `${keys} is not a valid field` : `${keys} are not valid fields`;
    }
    case "invalid_union": {
      if (issue.discriminator !== undefined) {
        const name = `'${issue.discriminator}'`;
        const valid = (issue.options ?? []).map((o) => `'${String(o)}'`).join(", ");
        const given =
          typeof issue.input === "object" && issue.input !== null
            ? Reflect.get(issue.input, issue.discriminator)
            : undefined;
        return given === undefined
          ? `${name} is required: one of ${valid}`
          : `${name} must be one of ${valid}, received ${received(given, true)}`;
      }
      const expected = unionExpectation(issue);
      if (expected === undefined) return "does not match any of the allowed forms";
      if (issue.input === undefined) return `is required: expected ${expected}`;
      // Against literal values, the value given says more than its type.
      const showValue = issue.errors.some((option) => option[0]?.code === "invalid_value");
      return `expected ${expected}, received ${received(issue.input, showValue)}`;
    }
    case "custom":
      return "is invalid";
  }
  return "is invalid";
}
