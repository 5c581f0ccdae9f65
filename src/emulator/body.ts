/**
 * Request bodies: read within Klaviyo's size limit (413 beyond it), parsed (400 `parse_error` when the JSON is
 * malformed), then validated against a schema (valibot) whose every issue becomes one Klaviyo error pointing at the
 * member (`source.pointer`), so a client can map a rejection back to its input.
 */
import { parse, type Schema } from "../klaviyo/schema.js";
import type { EmulatorContext } from "./env.js";
import { EmulatorProblem, invalidBody, type ProblemInit } from "./errors.js";
import { readBodyWithin } from "./request-body.js";

/** Klaviyo's ceiling for a JSON request (the bulk endpoints document 5 MB). */
export const MAX_JSON_BYTES = 5 * 1024 * 1024;

/**
 * How deep a JSON request may nest (the document itself being level 1): far deeper than any Klaviyo document
 * (event properties stop at 10 levels), far shallower than the few thousand levels at which serialising a stored
 * value overflows the stack. `JSON.parse` reads any depth, so without this bound a profile's free-form
 * `properties` nested 5,000 deep was stored, and every later read of that profile answered 500.
 */
export const MAX_JSON_DEPTH = 64;

function tooLarge(limit: number): EmulatorProblem {
  return new EmulatorProblem({
    status: 413,
    code: "request_too_large",
    title: "Request entity too large.",
    detail: `The request body exceeds the limit of ${limit} bytes.`,
  });
}

/**
 * JSON bodies up to this size are kept in the request log (`RequestRecord.body`), for a test to assert what was
 * sent; larger ones (bulk jobs, up to 5 MB) are logged by size only, so that the log's 1,000 records stay small.
 */
export const LOGGED_BODY_LIMIT = 256 * 1024;

/** The raw body bytes, refused with 413 past `limit` (by Content-Length when given, else as read). */
export async function readBytes(c: EmulatorContext, limit: number): Promise<Uint8Array> {
  const declared = Number(c.req.header("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const bytes = await readBodyWithin(c.req.raw, c.env?.incoming, limit);
  if (!bytes) throw tooLarge(limit);
  c.set("bodyBytes", bytes.byteLength);
  return bytes;
}

/** The JSON body, parsed; 415 for a media type that is not JSON, 400 when it does not parse or nests too deep. */
export async function readJson(c: EmulatorContext, limit = MAX_JSON_BYTES): Promise<unknown> {
  const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (type !== "" && type !== "application/vnd.api+json" && type !== "application/json") {
    throw new EmulatorProblem({
      status: 415,
      code: "unsupported_media_type",
      title: "Unsupported media type.",
      detail: `Unsupported media type "${type}" in request. Use application/vnd.api+json.`,
    });
  }
  const bytes = await readBytes(c, limit);
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  if (bytes.byteLength <= LOGGED_BODY_LIMIT) c.set("bodyText", text);
  if (text.trim() === "") throw parseError("the body is empty");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw parseError(error instanceof Error ? error.message : String(error));
  }
  const deep = tooDeep(value, 1);
  if (deep) {
    throw new EmulatorProblem(
      invalidBody(pointerOf(deep), `JSON cannot be nested more than ${MAX_JSON_DEPTH} levels deep.`),
    );
  }
  return value;
}

/** The path to the first object or array nested deeper than `MAX_JSON_DEPTH`, if any (recursion stays bounded). */
function tooDeep(value: unknown, depth: number): PropertyKey[] | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  if (depth > MAX_JSON_DEPTH) return [];
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const path = tooDeep(value[i], depth + 1);
      if (path) return [i, ...path];
    }
    return undefined;
  }
  for (const key in value) {
    const path = tooDeep((value as Record<string, unknown>)[key], depth + 1);
    if (path) return [key, ...path];
  }
  return undefined;
}

function parseError(why: string): EmulatorProblem {
  return new EmulatorProblem({
    status: 400,
    code: "parse_error",
    title: "Malformed request.",
    detail: `JSON parse error - ${why}`,
  });
}

/** JSON pointer of a schema issue path (`["data","attributes","name"]` → `/data/attributes/name`). */
export function pointerOf(path: readonly PropertyKey[]): string {
  return `/${path.map((p) => String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("/")}`;
}

/** Validates `value` with `schema`; every issue becomes a Klaviyo 400 error pointing at its member. */
export function validate<T>(schema: Schema<T>, value: unknown): T {
  const result = parse(schema, value);
  if (result.success) return result.data;
  const problems: ProblemInit[] = result.error.issues.slice(0, 20).map((issue) => {
    const path = issue.path;
    let detail = issue.message;
    if (issue.code === "unrecognized_keys") {
      const keys = issue.keys ?? [];
      detail = `${keys.map((k) => `'${k}'`).join(", ")} ${keys.length > 1 ? "are not valid fields" : "is not a valid field"} here.`;
    }
    return invalidBody(pointerOf(path), detail);
  });
  const [first, ...others] = problems;
  throw new EmulatorProblem(first ?? invalidBody("/data/", "Invalid input."), {}, others);
}

/** Reads and validates a JSON:API request body in one step. */
export async function readBody<T>(c: EmulatorContext, schema: Schema<T>, limit = MAX_JSON_BYTES): Promise<T> {
  return validate(schema, await readJson(c, limit));
}
