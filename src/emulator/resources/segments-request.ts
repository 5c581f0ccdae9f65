/**
 * JSON:API request documents for creates and updates (used by segments and campaigns; generic enough to move
 * to a shared module): a wrong `data.type` is JSON:API's 409 `conflict`, a PATCH whose `data.id` differs from
 * the path id is a 400 at `/data/id`, and everything else is the zod schema's 400s with pointers.
 */
import type { z } from "zod";
import { readJson, validate } from "../body.js";
import type { EmulatorContext } from "../env.js";
import { EmulatorProblem, invalidBody } from "../errors.js";

function member(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/** 409 when the document names another resource type, as JSON:API prescribes. */
export function checkType(document: unknown, type: string): void {
  const given = member(member(document, "data"), "type");
  if (typeof given === "string" && given !== type) {
    throw new EmulatorProblem({
      status: 409,
      code: "conflict",
      title: "Conflict.",
      detail: `The resource type '${given}' does not match the endpoint's type '${type}'.`,
      source: { pointer: "/data/type" },
    });
  }
}

/**
 * Reads a request document for resource `type`, validated by `schema`; with `pathId` (a PATCH) the body's
 * `data.id` must equal it.
 */
export async function readResource<T>(
  c: EmulatorContext,
  type: string,
  schema: z.ZodType<T>,
  pathId?: string,
): Promise<T> {
  const document = await readJson(c);
  checkType(document, type);
  const body = validate(schema, document);
  if (pathId !== undefined) {
    const id = member(member(document, "data"), "id");
    if (id !== pathId) {
      throw new EmulatorProblem(
        invalidBody(
          "/data/id",
          `The id in the body ('${String(id)}') must match the id in the path ('${pathId}').`,
        ),
      );
    }
  }
  return body;
}

/** A 400 for several members at once (Klaviyo lists every invalid member, not just the first). */
export function invalidMembers(
  problems: ReadonlyArray<{ pointer: string; detail: string }>,
): EmulatorProblem | undefined {
  const [first, ...others] = problems.map((p) => invalidBody(p.pointer, p.detail));
  return first ? new EmulatorProblem(first, {}, others) : undefined;
}
