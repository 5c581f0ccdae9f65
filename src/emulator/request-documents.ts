/**
 * JSON:API request documents, for every route that takes one: a resource object of the wrong
 * `type` is 409 `conflict` (JSON:API's rule, checked before the schema so it is not reported as a mere 400),
 * and a PATCH body's `data.id` must name the resource of the path.
 */

import { isObject } from "../klaviyo/formats.js";
import type { Schema } from "../klaviyo/schema.js";
import { readJson, validate } from "./body.js";
import type { EmulatorContext } from "./env.js";
import { EmulatorProblem, invalidBody } from "./errors.js";

/** 409 `conflict` for a resource object whose `type` is not the one the endpoint takes. */
export function typeConflict(pointer: string, got: string, expected: string): EmulatorProblem {
  return new EmulatorProblem({
    status: 409,
    code: "conflict",
    title: "Conflict.",
    detail: `The type '${got}' does not match the expected resource type '${expected}'.`,
    source: { pointer },
  });
}

/** Throws 409 when `value.type` is a string other than `expected` (a missing or non-string type is the schema's to report). */
export function checkType(value: unknown, pointer: string, expected: string): void {
  if (!isObject(value)) return;
  const type = value.type;
  if (typeof type === "string" && type !== expected) throw typeConflict(`${pointer}/type`, type, expected);
}

/** The member at a path of plain objects, or undefined. */
export function memberAt(value: unknown, ...path: string[]): unknown {
  let at = value;
  for (const key of path) {
    if (!isObject(at)) return undefined;
    at = at[key];
  }
  return at;
}

/** A 400 `invalid` pointing at one member of the body. */
export function invalidAt(pointer: string, detail: string): EmulatorProblem {
  return new EmulatorProblem(invalidBody(pointer, detail));
}

export interface ResourceBodyOptions {
  /** The `data.type` the endpoint takes. */
  readonly type: string;
  /** For PATCH: the path id that `data.id` must equal. */
  readonly id?: string;
  /** Bytes the body may have (413 beyond); default `MAX_JSON_BYTES`. */
  readonly limit?: number;
  /** Further checks of the raw body before the schema (the types of related resources, 409 as `checkType`). */
  readonly check?: (raw: unknown) => void;
}

/**
 * Reads a `{data: {type, …}}` body: 409 for a wrong `data.type` (and whatever `check` refuses), then the schema,
 * then (PATCH) 400 pointing at `/data/id` when it is not the path's id.
 */
export async function readResourceBody<T>(
  c: EmulatorContext,
  schema: Schema<T>,
  options: ResourceBodyOptions,
): Promise<T> {
  const raw = await readJson(c, options.limit);
  checkType(memberAt(raw, "data"), "/data", options.type);
  options.check?.(raw);
  const body = validate(schema, raw);
  if (options.id !== undefined) {
    const id = memberAt(body, "data", "id");
    if (id !== options.id) {
      throw invalidAt(
        "/data/id",
        `The id '${String(id)}' in the body does not match the id '${options.id}' in the URL.`,
      );
    }
  }
  return body;
}

/** Reads a `{data: [{type, id}, …]}` relationship body: 409 for an item of the wrong type, then the schema. */
export async function readRelationshipBody<T>(
  c: EmulatorContext,
  schema: Schema<T>,
  type: string,
): Promise<T> {
  const raw = await readJson(c);
  const items = memberAt(raw, "data");
  if (Array.isArray(items)) {
    for (const [i, item] of items.entries()) checkType(item, `/data/${i}`, type);
  }
  return validate(schema, raw);
}

/** A 400 for several members at once (Klaviyo lists every invalid member, not just the first). */
export function invalidMembers(
  problems: ReadonlyArray<{ pointer: string; detail: string }>,
): EmulatorProblem | undefined {
  const [first, ...others] = problems.map((p) => invalidBody(p.pointer, p.detail));
  return first ? new EmulatorProblem(first, {}, others) : undefined;
}
