/**
 * The base of every schema, with what all of them offer (`optional`, `nullable`, `transform`, `refine`, `pipe`,
 * `parse`, …), and the wrapper schemas those methods return. Schemas are immutable: a method returns a new one.
 */
import { type Check, runChecks } from "./checks.js";
import { type ErrorParam, errorOf, ParseContext, type RefinementCtx, SchemaError } from "./issues.js";

/** Returned by `_parse` when the value is not even of the schema's type (the issue is already reported). */
export const INVALID: unique symbol = Symbol("invalid");

const NO_CHECKS: readonly Check[] = Object.freeze([]);

export type SafeParseResult<T> =
  | { success: true; data: T; error?: undefined }
  | { success: false; data?: undefined; error: SchemaError };

/** What `refine` takes besides the test: a message (or `{ error }`), and `abort` to skip the checks after it. */
export type RefineParams = string | { error?: ErrorParam; abort?: boolean };

/**
 * What containers and wrappers need of a schema: its types and its parse. (An interface, not the class, so that a
 * schema's `this`-typed methods are not compared when checking one against it.)
 */
export interface AnySchema {
  readonly "~out": unknown;
  readonly "~in": unknown;
  _run(input: unknown, ctx: ParseContext): unknown;
  "~literals"(): ReadonlySet<unknown> | undefined;
}

/** A schema whose output is `Out` and whose input is `In` (what it accepts; `unknown` when anything is tried). */
export abstract class Schema<Out = unknown, In = unknown> {
  /** The output type, for `z.infer` (types only). */
  declare readonly "~out": Out;
  /** The input type, for `z.input` (types only). */
  declare readonly "~in": In;
  /** Refinements, bounds and overwrites, in the order they were added. */
  readonly checks: readonly Check[] = NO_CHECKS;

  /** Type check and conversion: the output, or `INVALID` after reporting that the value has the wrong type. */
  abstract _parse(input: unknown, ctx: ParseContext): unknown;

  /** The values this schema accepts, when they are a fixed set (literals, enums): what discriminates a union. */
  "~literals"(): ReadonlySet<unknown> | undefined {
    return undefined;
  }

  /** Parses `input` within a parse, issues going to `ctx`; returns the output (meaningless if issues were added). */
  _run(input: unknown, ctx: ParseContext): unknown {
    if (this.checks.length === 0) {
      const out = this._parse(input, ctx);
      return out === INVALID ? input : out;
    }
    const fatalBefore = ctx.fatal;
    const out = this._parse(input, ctx);
    return out === INVALID ? input : runChecks(this.checks, out, ctx, fatalBefore);
  }

  /** A copy with one more check. */
  protected withCheck(check: Check): this {
    const copy: this = Object.create(Object.getPrototypeOf(this));
    return Object.assign(copy, this, { checks: [...this.checks, check] });
  }

  safeParse(input: unknown): SafeParseResult<Out> {
    const ctx = new ParseContext();
    const data = this._run(input, ctx);
    if (ctx.issues.length > 0) return { success: false, error: new SchemaError(ctx.issues) };
    // The output type is what `_run` produces when no issue was reported.
    return { success: true, data: data as Out };
  }

  /** The output, or a `SchemaError` listing every issue. */
  parse(input: unknown): Out {
    const result = this.safeParse(input);
    if (!result.success) throw result.error;
    return result.data;
  }

  async parseAsync(input: unknown): Promise<Out> {
    return this.parse(input);
  }

  optional(): OptionalSchema<this> {
    return new OptionalSchema(this);
  }

  nullable(): NullableSchema<this> {
    return new NullableSchema(this);
  }

  nullish(): OptionalSchema<NullableSchema<this>> {
    return new OptionalSchema(new NullableSchema(this));
  }

  /** Converts the output; `ctx.addIssue` fails the parse. Not run when the value already has issues. */
  transform<N>(fn: (value: Out, ctx: RefinementCtx) => N): TransformSchema<this, N> {
    return new TransformSchema(this, fn);
  }

  /** Parses the output with `next` (when it has no issues). */
  pipe<N extends AnySchema>(next: N): PipeSchema<this, N> {
    return new PipeSchema(this, next);
  }

  /** The output, or `value` whenever the parse would fail. */
  catch(value: Out): CatchSchema<this> {
    return new CatchSchema(this, value);
  }

  /** Fails with a `custom` issue when `test` returns a falsy value. */
  refine(test: (value: Out) => unknown, params?: RefineParams): this {
    const abort = typeof params === "object" && params.abort === true;
    return this.withCheck({ kind: "refine", test, error: errorOf(params), abort });
  }

  /** Runs `refine`, which reports what it finds with `ctx.addIssue`. */
  superRefine(refine: (value: Out, ctx: RefinementCtx) => void): this {
    return this.withCheck({ kind: "superRefine", refine });
  }
}

/** Accepts `undefined` (an absent member), else parses with the inner schema. */
export class OptionalSchema<S extends AnySchema> extends Schema<S["~out"] | undefined, S["~in"] | undefined> {
  constructor(readonly inner: S) {
    super();
  }

  override _run(input: unknown, ctx: ParseContext): unknown {
    // The common case of an absent optional member, without the general path.
    return input === undefined && this.checks.length === 0 ? undefined : super._run(input, ctx);
  }

  _parse(input: unknown, ctx: ParseContext): unknown {
    return input === undefined ? undefined : this.inner._run(input, ctx);
  }

  override "~literals"(): ReadonlySet<unknown> | undefined {
    const values = this.inner["~literals"]();
    return values && new Set([...values, undefined]);
  }

  /** The schema without the `optional()`. */
  unwrap(): S {
    return this.inner;
  }
}

/** Accepts `null`, else parses with the inner schema. */
export class NullableSchema<S extends AnySchema> extends Schema<S["~out"] | null, S["~in"] | null> {
  constructor(readonly inner: S) {
    super();
  }

  _parse(input: unknown, ctx: ParseContext): unknown {
    return input === null ? null : this.inner._run(input, ctx);
  }

  override "~literals"(): ReadonlySet<unknown> | undefined {
    const values = this.inner["~literals"]();
    return values && new Set([...values, null]);
  }

  unwrap(): S {
    return this.inner;
  }
}

/** The inner schema's output, converted by a function. */
export class TransformSchema<S extends AnySchema, N> extends Schema<N, S["~in"]> {
  /** The function, held with method syntax so that transforms compare by what they produce. */
  private readonly step: { apply(value: S["~out"], ctx: RefinementCtx): N };

  constructor(
    readonly inner: S,
    fn: (value: S["~out"], ctx: RefinementCtx) => N,
  ) {
    super();
    this.step = { apply: fn };
  }

  _parse(input: unknown, ctx: ParseContext): unknown {
    const before = ctx.issues.length;
    const value = this.inner._run(input, ctx);
    if (ctx.issues.length > before) return INVALID;
    ctx.current = value;
    ctx.currentIsFatal = true;
    // `inner` produced no issue, so `value` is its output.
    return this.step.apply(value as S["~out"], ctx);
  }
}

/** Two schemas in a row: the second parses the output of the first. */
export class PipeSchema<A extends AnySchema, B extends AnySchema> extends Schema<B["~out"], A["~in"]> {
  constructor(
    readonly first: A,
    readonly second: B,
  ) {
    super();
  }

  _parse(input: unknown, ctx: ParseContext): unknown {
    const before = ctx.issues.length;
    const value = this.first._run(input, ctx);
    return ctx.issues.length > before ? INVALID : this.second._run(value, ctx);
  }
}

/** The inner schema's output, or a fallback value instead of any issue. */
export class CatchSchema<S extends AnySchema> extends Schema<S["~out"], unknown> {
  constructor(
    readonly inner: S,
    private readonly fallback: S["~out"],
  ) {
    super();
  }

  _parse(input: unknown, ctx: ParseContext): unknown {
    const before = ctx.issues.length;
    const fatal = ctx.fatal;
    const value = this.inner._run(input, ctx);
    if (ctx.issues.length === before) return value;
    ctx.issues.length = before;
    ctx.fatal = fatal;
    return this.fallback;
  }
}
