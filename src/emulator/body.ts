/**
 * Request bodies: read within Klaviyo's size limit (413 beyond it), parsed (400 `parse_error` when the JSON is
 * malformed), then validated against a schema (`src/core/schema.ts`) whose every issue becomes one Klaviyo error pointing at the
 * member (`source.pointer`), so a client can map a rejection back to its input.
 */
import type { z } from "../core/schema.js";
import type { EmulatorContext } from "./env.js";
import { EmulatorProblem, invalidBody, type ProblemInit } from "./errors.js";

/** Klaviyo's ceiling for a JSON request (the bulk endpoints document 5 MB). */
export const MAX_JSON_BYTES = 5 * 1024 * 1024;

function tooLarge(limit: number): EmulatorProblem {
  return new EmulatorProblem({
    status: 413,
    code: "request_too_large",
    title: "Request entity too large.",
    detail: `The request body exceeds the limit of ${limit} bytes.`,
  });
}

/** The raw body bytes, refused with 413 past `limit` (by Content-Length when given, else as read). */
export async function readBytes(c: EmulatorContext, limit: number): Promise<Uint8Array> {
  const declared = Number(c.req.header("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const bytes = await c.req.bytes(limit);
  if (!bytes) throw tooLarge(limit);
  return bytes;
}

/** The JSON body, parsed; 415 for a media type that is not JSON, 400 when it does not parse. */
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
  if (text.trim() === "") throw parseError("the body is empty");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw parseError(error instanceof Error ? error.message : String(error));
  }
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
export function validate<T>(schema: z.Schema<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems: ProblemInit[] = result.error.issues.slice(0, 20).map((issue) => {
    const path = issue.path;
    let detail = issue.message;
    if (issue.code === "unrecognized_keys") {
      detail = `${issue.keys.map((k) => `'${k}'`).join(", ")} ${issue.keys.length > 1 ? "are not valid fields" : "is not a valid field"} here.`;
    }
    return invalidBody(pointerOf(path), detail);
  });
  const [first, ...others] = problems;
  throw new EmulatorProblem(first ?? invalidBody("/data/", "Invalid input."), {}, others);
}

/** Reads and validates a JSON:API request body in one step. */
export async function readBody<T>(
  c: EmulatorContext,
  schema: z.Schema<T>,
  limit = MAX_JSON_BYTES,
): Promise<T> {
  return validate(schema, await readJson(c, limit));
}
