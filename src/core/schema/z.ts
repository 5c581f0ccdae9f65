/**
 * The `z` namespace: the schema constructors by the names zod gave them (`z.strictObject`, `z.literal`, `z.iso.datetime`,
 * …) and the types to read a schema with (`z.infer`, `z.Schema<Out, In>`, `z.RefinementCtx`, `z.Discriminable`).
 */
import type { AnySchema, Schema } from "./base.js";
import {
  ArraySchema,
  type Discriminable,
  DiscriminatedUnionSchema,
  ObjectSchema,
  RecordSchema,
  type Shape,
  UnionSchema,
} from "./composites.js";
import { errorOf, type Params } from "./issues.js";
import {
  BooleanSchema,
  type DateTimeOptions,
  EnumSchema,
  isoDate,
  isoDateTime,
  LiteralSchema,
  NeverSchema,
  NullSchema,
  NumberSchema,
  type Primitive,
  StringSchema,
  UnknownSchema,
} from "./scalars.js";

export type { AnySchema, SafeParseResult, Schema } from "./base.js";
export type { Discriminable, Shape } from "./composites.js";
export type { CustomIssue, ErrorFn, ErrorParam, Issue, Params, RawIssue, RefinementCtx } from "./issues.js";
export { SchemaError } from "./issues.js";

/** What a schema produces. */
export type output<S extends AnySchema> = S["~out"];
/** What a schema accepts. */
export type input<S extends AnySchema> = S["~in"];
export type { output as infer };

/** Returned by a transform after `ctx.addIssue`: the parse fails, so the value is never used. */
export const NEVER = Symbol("never") as never;

export function string(params?: Params): StringSchema {
  return new StringSchema(errorOf(params));
}

/** A finite number. */
export function number(params?: Params): NumberSchema {
  return new NumberSchema(errorOf(params));
}

/** An integer within the safe range. */
export function int(params?: Params): NumberSchema {
  return NumberSchema.integer(errorOf(params));
}

export function boolean(params?: Params): BooleanSchema {
  return new BooleanSchema(errorOf(params));
}

function nullSchema(params?: Params): NullSchema {
  return new NullSchema(errorOf(params));
}

export function unknown(): UnknownSchema {
  return new UnknownSchema();
}

export function never(params?: Params): NeverSchema {
  return new NeverSchema(errorOf(params));
}

/** Exactly `value`, or (given an array) one of the values. */
export function literal<const L extends Primitive>(value: L, params?: Params): LiteralSchema<L>;
export function literal<const L extends readonly Primitive[]>(
  values: L,
  params?: Params,
): LiteralSchema<L[number]>;
export function literal(value: Primitive | readonly Primitive[], params?: Params): LiteralSchema<Primitive> {
  return new LiteralSchema(Array.isArray(value) ? value : [value], errorOf(params));
}

function enumOf<const V extends readonly string[]>(values: V, params?: Params): EnumSchema<V[number]> {
  return new EnumSchema(values, errorOf(params));
}

export function array<E extends AnySchema>(element: E, params?: Params): ArraySchema<E> {
  return new ArraySchema(element, errorOf(params));
}

/** An object whose members are checked by `valueSchema` (and their names by `keySchema`). */
export function record<V extends AnySchema>(
  keySchema: Schema<string, unknown>,
  valueSchema: V,
  params?: Params,
): RecordSchema<V> {
  return new RecordSchema(keySchema, valueSchema, errorOf(params));
}

/** An object of `shape`'s members, unknown members dropped. */
export function object<S extends Shape>(shape: S, params?: Params): ObjectSchema<S> {
  return new ObjectSchema(shape, false, errorOf(params));
}

/** An object of `shape`'s members, unknown members refused. */
export function strictObject<S extends Shape>(shape: S, params?: Params): ObjectSchema<S> {
  return new ObjectSchema(shape, true, errorOf(params));
}

export function union<const O extends readonly AnySchema[]>(options: O, params?: Params): UnionSchema<O> {
  return new UnionSchema(options, errorOf(params));
}

/** The option whose member `key` holds the value given; options are object schemas or such unions. */
export function discriminatedUnion<const O extends readonly Discriminable[]>(
  key: string,
  options: O,
  params?: Params,
): DiscriminatedUnionSchema<O> {
  return new DiscriminatedUnionSchema(key, options, errorOf(params));
}

/** ISO 8601 text (RFC 3339): `z.iso.datetime({ offset, local })`, `z.iso.date()`. */
export const iso = { datetime: isoDateTime, date: isoDate } as const;

/** Schemas that convert their input first. */
export const coerce = {
  /** `Number(input)`, then a finite number's checks. */
  number(params?: Params): NumberSchema<unknown> {
    return new NumberSchema<unknown>(errorOf(params), false, true);
  },
} as const;

export type { DateTimeOptions };
export { enumOf as enum, nullSchema as null };
