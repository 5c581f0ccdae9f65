/** Schemas of single values: strings (with bounds, patterns and ISO formats), numbers, booleans, literals, enums. */
import { INVALID, Schema } from "./base.js";
import type { Check } from "./checks.js";
import { type ErrorParam, errorOf, type Params, type ParseContext, report, type TypeName } from "./issues.js";

function typeIssue(
  ctx: ParseContext,
  expected: TypeName,
  input: unknown,
  error: ErrorParam | undefined,
): typeof INVALID {
  report(ctx, { code: "invalid_type", expected }, input, error, true);
  return INVALID;
}

export class StringSchema extends Schema<string, string> {
  constructor(readonly error?: ErrorParam) {
    super();
  }

  _parse(input: unknown, ctx: ParseContext): unknown {
    return typeof input === "string" ? input : typeIssue(ctx, "string", input, this.error);
  }

  /** Removes leading and trailing white space before the checks that follow. */
  trim(): this {
    return this.withCheck({ kind: "trim" });
  }

  toLowerCase(): this {
    return this.withCheck({ kind: "toLowerCase" });
  }

  /** At least `length` characters (code points: an emoji is one). */
  min(length: number, params?: Params): this {
    return this.withCheck({ kind: "min_length", limit: length, error: errorOf(params) });
  }

  max(length: number, params?: Params): this {
    return this.withCheck({ kind: "max_length", limit: length, error: errorOf(params) });
  }

  regex(regex: RegExp, params?: Params): this {
    return this.withCheck({ kind: "regex", regex, error: errorOf(params) });
  }

  startsWith(prefix: string, params?: Params): this {
    return this.withCheck({ kind: "starts_with", text: prefix, error: errorOf(params) });
  }

  endsWith(suffix: string, params?: Params): this {
    return this.withCheck({ kind: "ends_with", text: suffix, error: errorOf(params) });
  }

  /** A string of an ISO format (`z.iso`); `error` names both a wrong type and a wrong format. */
  static format(check: Extract<Check, { kind: "datetime" | "date" }>): StringSchema {
    return new StringSchema(check.error).withCheck(check);
  }
}

/** Options of `z.iso.datetime`: which forms besides `…T12:00:00Z` are accepted. */
export interface DateTimeOptions {
  /** A numeric offset (`+02:00`) besides `Z`. */
  offset?: boolean;
  /** No zone at all (seconds then optional). */
  local?: boolean;
  error?: ErrorParam;
}

export function isoDateTime(options: DateTimeOptions = {}): StringSchema {
  const { error } = options;
  return StringSchema.format({
    kind: "datetime",
    offset: options.offset === true,
    local: options.local === true,
    error,
  });
}

export function isoDate(params?: Params): StringSchema {
  return StringSchema.format({ kind: "date", error: errorOf(params) });
}

/** A number; `In` is `unknown` for `z.coerce.number()`, which takes anything `Number()` converts. */
export class NumberSchema<In = number> extends Schema<number, In> {
  constructor(
    readonly error?: ErrorParam,
    /** `z.int()`: a wrong type is reported as "expected an integer". */
    readonly integer = false,
    /** `z.coerce.number()`: `Number(input)` first. */
    readonly coerce = false,
  ) {
    super();
  }

  _parse(input: unknown, ctx: ParseContext): unknown {
    let value = input;
    if (this.coerce) {
      try {
        value = Number(input);
      } catch {
        // A symbol cannot be converted: reported as not a number below.
      }
    }
    if (typeof value === "number" && Number.isFinite(value)) return value;
    return typeIssue(ctx, this.integer ? "integer" : "number", value, this.error);
  }

  min(value: number, params?: Params): this {
    return this.withCheck({ kind: "min", limit: value, inclusive: true, error: errorOf(params) });
  }

  max(value: number, params?: Params): this {
    return this.withCheck({ kind: "max", limit: value, inclusive: true, error: errorOf(params) });
  }

  /** Greater than 0. */
  positive(params?: Params): this {
    return this.withCheck({ kind: "min", limit: 0, inclusive: false, error: errorOf(params) });
  }

  /** An integer (a fraction is a wrong type), within the safe range (±2^53 - 1). */
  int(params?: Params): this {
    return this.withCheck({ kind: "int", error: errorOf(params) });
  }

  /** `z.int()`: a number that must be an integer; `error` names a wrong type and a fraction alike. */
  static integer(error: ErrorParam | undefined): NumberSchema {
    return new NumberSchema(error, true).withCheck({ kind: "int", error });
  }
}

export class BooleanSchema extends Schema<boolean, boolean> {
  constructor(readonly error?: ErrorParam) {
    super();
  }

  _parse(input: unknown, ctx: ParseContext): unknown {
    return typeof input === "boolean" ? input : typeIssue(ctx, "boolean", input, this.error);
  }
}

export class NullSchema extends Schema<null, null> {
  constructor(readonly error?: ErrorParam) {
    super();
  }

  _parse(input: unknown, ctx: ParseContext): unknown {
    return input === null ? null : typeIssue(ctx, "null", input, this.error);
  }

  override "~literals"(): ReadonlySet<unknown> {
    return new Set([null]);
  }
}

export class UnknownSchema extends Schema<unknown, unknown> {
  _parse(input: unknown): unknown {
    return input;
  }
}

/** Refuses every value (`z.never().optional()`: a member that must be absent). */
export class NeverSchema extends Schema<never, never> {
  constructor(readonly error?: ErrorParam) {
    super();
  }

  _parse(input: unknown, ctx: ParseContext): unknown {
    return typeIssue(ctx, "never", input, this.error);
  }
}

export type Primitive = string | number | boolean | bigint | null | undefined;

/** One of a few exact values. */
export class LiteralSchema<L extends Primitive> extends Schema<L, L> {
  private readonly set: ReadonlySet<unknown>;

  constructor(
    readonly values: readonly L[],
    readonly error?: ErrorParam,
  ) {
    super();
    this.set = new Set(values);
  }

  _parse(input: unknown, ctx: ParseContext): unknown {
    if (this.values.length === 1 ? input === this.values[0] : this.set.has(input)) return input;
    report(ctx, { code: "invalid_value", values: this.values }, input, this.error, true);
    return INVALID;
  }

  /** The value of a single literal. */
  get value(): L | undefined {
    return this.values[0];
  }

  override "~literals"(): ReadonlySet<unknown> {
    return this.set;
  }
}

/** One of a list of strings. */
export class EnumSchema<V extends string> extends Schema<V, V> {
  private readonly set: ReadonlySet<unknown>;

  constructor(
    readonly options: readonly V[],
    readonly error?: ErrorParam,
  ) {
    super();
    this.set = new Set(options);
  }

  _parse(input: unknown, ctx: ParseContext): unknown {
    if (this.set.has(input)) return input;
    report(ctx, { code: "invalid_value", values: this.options }, input, this.error, true);
    return INVALID;
  }

  override "~literals"(): ReadonlySet<unknown> {
    return this.set;
  }
}
