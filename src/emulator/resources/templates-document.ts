/**
 * The JSON:API checks of a write request that a schema alone cannot phrase as Klaviyo does: a wrong `data.type` is a
 * 409 (JSON:API's rule, not a 400), a PATCH's `data.id` must be the path's id, and an attribute the operation
 * does not take is refused with a pointer at that attribute (strict object schemas would point at the parent).
 * Not template-specific: the image routes use it too.
 */
import { isObject } from "../../klaviyo/formats.js";
import { EmulatorProblem, invalidBody, type ProblemInit } from "../errors.js";

export interface WriteDocumentRules {
  /** The resource type the operation takes (`template`, `image`). */
  readonly type: string;
  /** The path id a PATCH addresses; `data.id` must equal it. */
  readonly id?: string;
  /** The attributes the operation accepts; any other is refused with a pointer at it. */
  readonly attributes: readonly string[];
  /** Why an attribute that exists on the resource but is not writable here is refused (`editor_type`). */
  readonly readOnly?: Readonly<Record<string, string>>;
}

/** Runs the type, id and attribute-name checks on a parsed body; shape errors are left to the schema. */
export function checkWriteDocument(body: unknown, rules: WriteDocumentRules): void {
  if (!isObject(body) || !isObject(body.data)) return;
  const { data } = body;
  if (typeof data.type === "string" && data.type !== rules.type) {
    throw new EmulatorProblem({
      status: 409,
      code: "conflict",
      title: "Conflict.",
      detail: `The resource type '${data.type}' does not match this endpoint, which takes '${rules.type}'.`,
      source: { pointer: "/data/type" },
    });
  }
  if (rules.id !== undefined && data.id !== undefined && data.id !== rules.id) {
    throw new EmulatorProblem(
      invalidBody(
        "/data/id",
        `The id in the body (${JSON.stringify(data.id)}) does not match the id in the URL ('${rules.id}').`,
      ),
    );
  }
  if (!isObject(data.attributes)) return;
  const problems: ProblemInit[] = [];
  for (const name of Object.keys(data.attributes)) {
    if (rules.attributes.includes(name)) continue;
    const pointer = `/data/attributes/${name.replace(/~/g, "~0").replace(/\//g, "~1")}`;
    problems.push(
      invalidBody(pointer, rules.readOnly?.[name] ?? `'${name}' is not a valid field for this operation.`),
    );
  }
  const [first, ...others] = problems;
  if (first) throw new EmulatorProblem(first, {}, others);
}
