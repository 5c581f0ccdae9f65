/**
 * Schemas of several values: objects (strict or stripping unknown members), arrays, records, unions, and unions
 * chosen by a discriminating member (Klaviyo's `type`, `operator`, `channel`…), which report at that member.
 */
import { type AnySchema, INVALID, Schema } from "./base.js";
import { type ErrorParam, errorOf, type Issue, type Params, type ParseContext, report } from "./issues.js";

/** An object that is not an array (what an object schema takes: its members are read by name). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A plain object (`{…}`, `Object.create(null)`, one from another realm): what a record takes, key by key. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (!isObject(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null;
}

function notA(
  ctx: ParseContext,
  expected: "object" | "array",
  input: unknown,
  error: ErrorParam | undefined,
) {
  report(ctx, { code: "invalid_type", expected }, input, error, true);
  return INVALID;
}

/** The members of an object schema. */
export type Shape = { readonly [key: string]: AnySchema };

type Flatten<T> = { [K in keyof T]: T[K] } & {};

/** An object schema's output: a member whose schema may produce `undefined` is optional. */
export type ObjectOutput<S extends Shape> = Flatten<
  { [K in keyof S as undefined extends S[K]["~out"] ? K : never]?: S[K]["~out"] } & {
    [K in keyof S as undefined extends S[K]["~out"] ? never : K]: S[K]["~out"];
  }
>;

/** An object schema's input: a member whose schema accepts `undefined` may be absent. */
export type ObjectInput<S extends Shape> = Flatten<
  { [K in keyof S as undefined extends S[K]["~in"] ? K : never]?: S[K]["~in"] } & {
    [K in keyof S as undefined extends S[K]["~in"] ? never : K]: S[K]["~in"];
  }
>;

/** A schema a discriminated union can choose by a member's value: an object schema, or such a union itself. */
export interface Discriminable extends AnySchema {
  /** The values member `key` may take, or `undefined` when they are not a fixed set. */
  "~values"(key: string): ReadonlySet<unknown> | undefined;
}

/**
 * An object of the members of `shape`, in that order (absent optional members stay absent). A strict schema
 * reports unknown members (`unrecognized_keys`, at the object, with `keys`); otherwise they are dropped.
 */
export class ObjectSchema<S extends Shape>
  extends Schema<ObjectOutput<S>, ObjectInput<S>>
  implements Discriminable
{
  private readonly keys: readonly string[];
  private readonly schemas: readonly AnySchema[];
  private readonly keySet: ReadonlySet<string>;

  constructor(
    readonly shape: S,
    readonly strictKeys: boolean,
    readonly error?: ErrorParam,
  ) {
    super();
    this.keys = Object.keys(shape);
    this.schemas = Object.values(shape);
    this.keySet = new Set(this.keys);
  }

  _parse(input: unknown, ctx: ParseContext): unknown {
    if (!isObject(input)) return notA(ctx, "object", input, this.error);
    const out: Record<string, unknown> = {};
    const { keys, schemas } = this;
    const path = ctx.path;
    let defined = 0;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const value = input[key];
      path.push(key);
      const result = (schemas[i] as AnySchema)._run(value, ctx);
      path.pop();
      if (value !== undefined) {
        defined++;
        out[key] = result;
      } else if (result !== undefined) out[key] = result;
    }
    // More members than defined ones: unknown members, or members given as `undefined` (kept, as given).
    let count = 0;
    for (const _ in input) count++;
    return count > defined ? this.unusual(input, out, ctx) : out;
  }

  /** The rare case: members present with the value `undefined`, and unknown members (refused when strict). */
  private unusual(input: Record<string, unknown>, out: Record<string, unknown>, ctx: ParseContext): unknown {
    let result = out;
    if (this.keys.some((key) => input[key] === undefined && !(key in out) && key in input)) {
      result = {};
      for (const key of this.keys) {
        if (key in out) result[key] = out[key];
        else if (key in input) result[key] = undefined;
      }
    }
    if (this.strictKeys) {
      const unknown: string[] = [];
      for (const key in input) if (!this.keySet.has(key)) unknown.push(key);
      if (unknown.length > 0)
        report(ctx, { code: "unrecognized_keys", keys: unknown }, input, this.error, false);
    }
    return result;
  }

  "~values"(key: string): ReadonlySet<unknown> | undefined {
    return Object.hasOwn(this.shape, key) ? this.shape[key]?.["~literals"]() : undefined;
  }

  /** The same object with more members (or members replaced); refinements are not carried over. */
  extend<E extends Shape>(extra: E): ObjectSchema<Omit<S, keyof E> & E> {
    return new ObjectSchema<Omit<S, keyof E> & E>({ ...this.shape, ...extra }, this.strictKeys, this.error);
  }

  /** The same object, refusing unknown members. */
  strict(): ObjectSchema<S> {
    return new ObjectSchema(this.shape, true, this.error);
  }
}

export class ArraySchema<E extends AnySchema> extends Schema<E["~out"][], E["~in"][]> {
  constructor(
    readonly element: E,
    readonly error?: ErrorParam,
  ) {
    super();
  }

  _parse(input: unknown, ctx: ParseContext): unknown {
    if (!Array.isArray(input)) return notA(ctx, "array", input, this.error);
    const out: unknown[] = new Array(input.length);
    const path = ctx.path;
    for (let i = 0; i < input.length; i++) {
      path.push(i);
      out[i] = this.element._run(input[i], ctx);
      path.pop();
    }
    return out;
  }

  /** At least `length` items; checked even when an item is wrong. */
  min(length: number, params?: Params): this {
    return this.withCheck({ kind: "min_length", limit: length, error: errorOf(params) });
  }

  max(length: number, params?: Params): this {
    return this.withCheck({ kind: "max_length", limit: length, error: errorOf(params) });
  }
}

/** An object of any members, each value checked (a `__proto__` member is dropped). */
export class RecordSchema<V extends AnySchema> extends Schema<
  Record<string, V["~out"]>,
  Record<string, V["~in"]>
> {
  constructor(
    readonly keySchema: Schema<string, unknown>,
    readonly valueSchema: V,
    readonly error?: ErrorParam,
  ) {
    super();
  }

  _parse(input: unknown, ctx: ParseContext): unknown {
    if (!isPlainObject(input)) return notA(ctx, "object", input, this.error);
    const out: Record<string, unknown> = {};
    const path = ctx.path;
    for (const key in input) {
      if (key === "__proto__") continue;
      path.push(key);
      const name = this.keySchema._run(key, ctx);
      out[typeof name === "string" ? name : key] = this.valueSchema._run(input[key], ctx);
      path.pop();
    }
    return out;
  }
}

/**
 * The first option that parses the value. When none does: the issues of the only option that failed inside the
 * value rather than on its type, if there is exactly one, else one `invalid_union` issue.
 */
export class UnionSchema<O extends readonly AnySchema[]> extends Schema<O[number]["~out"], O[number]["~in"]> {
  constructor(
    readonly options: O,
    readonly error?: ErrorParam,
  ) {
    super();
  }

  _parse(input: unknown, ctx: ParseContext): unknown {
    const start = ctx.issues.length;
    const fatal = ctx.fatal;
    const errors: Issue[][] = [];
    let close: { issues: Issue[]; value: unknown } | undefined;
    let closeCount = 0;
    for (const option of this.options) {
      const value = option._run(input, ctx);
      if (ctx.issues.length === start) return value;
      const issues = ctx.issues.splice(start);
      if (ctx.fatal === fatal) {
        close = { issues, value };
        closeCount++;
      }
      ctx.fatal = fatal;
      errors.push(issues);
    }
    if (close && closeCount === 1) {
      ctx.issues.push(...close.issues);
      return close.value;
    }
    report(ctx, { code: "invalid_union", errors }, input, this.error, true);
    return INVALID;
  }

  override "~literals"(): ReadonlySet<unknown> | undefined {
    const all = new Set<unknown>();
    for (const option of this.options) {
      const values = option["~literals"]();
      if (!values) return undefined;
      for (const value of values) all.add(value);
    }
    return all;
  }
}

/**
 * The option whose member `key` holds the value given: its issues are the union's. A value no option takes is
 * one `invalid_union` issue at `key`, with `discriminator` and the `options` it may take. An option may itself
 * be a discriminated union (on another member).
 */
export class DiscriminatedUnionSchema<O extends readonly Discriminable[]>
  extends Schema<O[number]["~out"], O[number]["~in"]>
  implements Discriminable
{
  /** Option by discriminator value; `null` for `undefined` claimed by several options (none is chosen). */
  private readonly byValue = new Map<unknown, Discriminable | null>();
  private readonly valid: readonly unknown[];

  constructor(
    readonly key: string,
    readonly options: O,
    readonly error?: ErrorParam,
  ) {
    super();
    if (options.length === 0) throw new Error(`discriminatedUnion("${key}") needs at least one option`);
    options.forEach((option, i) => {
      const values = option["~values"](key);
      if (!values || values.size === 0) {
        throw new Error(`discriminatedUnion("${key}"): option ${i} has no literal value for "${key}"`);
      }
      for (const value of values) {
        if (!this.byValue.has(value)) this.byValue.set(value, option);
        else if (value === undefined) this.byValue.set(value, null);
        else throw new Error(`discriminatedUnion("${key}"): the value ${String(value)} chooses two options`);
      }
    });
    this.valid = [...this.byValue.keys()].filter((value) => value !== undefined);
  }

  _parse(input: unknown, ctx: ParseContext): unknown {
    if (!isObject(input)) return notA(ctx, "object", input, this.error);
    const option = this.byValue.get(Object.hasOwn(input, this.key) ? input[this.key] : undefined);
    if (option) return option._run(input, ctx);
    report(
      ctx,
      { code: "invalid_union", errors: [], discriminator: this.key, options: [...this.valid] },
      input,
      this.error,
      true,
      [this.key],
    );
    return INVALID;
  }

  "~values"(key: string): ReadonlySet<unknown> | undefined {
    const all = new Set<unknown>();
    for (const option of this.options) {
      const values = option["~values"](key);
      if (values) for (const value of values) all.add(value);
    }
    return all.size > 0 ? all : undefined;
  }
}
