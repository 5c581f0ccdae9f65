/**
 * Sparse fieldsets (`fields[<type>]=a,b.c`), for any resource type: the allowed names are the enum of that
 * type's `fields[...]` parameter in Klaviyo's OpenAPI document; dotted names reach into nested objects, and a
 * parent name keeps its whole subtree.
 */
import { isObject } from "../klaviyo/formats.js";
import { type EmulatorContext, requestUrl } from "./env.js";
import { invalidParameter } from "./errors.js";

type Json = Record<string, unknown>;

/**
 * The field paths a request asked for with `fields[type]` (several occurrences are merged), or `undefined`
 * when it asked for none; throws a 400 naming the parameter and the first unknown field.
 */
export function requestedFields(
  c: EmulatorContext,
  type: string,
  allowed: readonly string[],
): string[] | undefined {
  const parameter = `fields[${type}]`;
  const values = requestUrl(c).searchParams.getAll(parameter);
  if (values.length === 0) return undefined;
  return parseFieldset(values.join(","), type, allowed);
}

/** Splits and checks one `fields[type]` value; empty entries are ignored, as a trailing comma should be. */
export function parseFieldset(value: string, type: string, allowed: readonly string[]): string[] | undefined {
  const fields = value
    .split(",")
    .map((f) => f.trim())
    .filter((f) => f.length > 0);
  for (const field of fields) {
    if (!allowed.includes(field)) {
      throw invalidParameter(
        `fields[${type}]`,
        `'${field}' is not a valid field for the resource '${type}'. Valid fields: ${allowed.join(", ")}.`,
      );
    }
  }
  return fields.length > 0 ? fields : undefined;
}

/**
 * Keeps only the given paths of `attributes` (all of them when `fields` is undefined). Paths that name no
 * attribute, such as `id` (which is always sent beside the attributes), keep nothing. Never shares objects
 * with the input, so a response cannot alias the emulator's state.
 */
export function applyFieldset(attributes: Json, fields: readonly string[] | undefined): Json {
  if (!fields) return structuredClone(attributes);
  const out: Json = {};
  for (const field of fields) {
    const path = field.split(".");
    let from: unknown = attributes;
    let to = out;
    for (let i = 0; i < path.length; i++) {
      const key = path[i] as string;
      if (!isObject(from) || !(key in from)) break;
      const value = from[key];
      if (i === path.length - 1) {
        to[key] = structuredClone(value);
        break;
      }
      if (!isObject(value)) break;
      const next = to[key];
      if (isObject(next)) {
        to = next;
      } else {
        const created: Json = {};
        to[key] = created;
        to = created;
      }
      from = value;
    }
  }
  return out;
}
