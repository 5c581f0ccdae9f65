/**
 * Render Template (`POST /api/template-render`) and Clone Template (`POST /api/template-clone`): the bodies as
 * Klaviyo's document defines them (`TemplateRenderQuery`, `TemplateCloneQuery`), checked the way the other
 * template writes are, and what each makes.
 */
import * as v from "valibot";
import { validate } from "../body.js";
import { EmulatorProblem, invalidBody, notFound } from "../errors.js";
import type { EmulatorState } from "../state.js";
import { isoNow, type ResourceRow, shortId } from "../store.js";
import { renderTemplateSource } from "./template-render.js";
import { checkWriteDocument } from "./templates-document.js";
import { TEMPLATE_API_LIMIT } from "./templates-model.js";

const renderBody = v.strictObject({
  data: v.strictObject({
    type: v.literal("template"),
    id: v.string(),
    attributes: v.strictObject({
      context: v.custom<Record<string, unknown>>(
        (value) => typeof value === "object" && value !== null && !Array.isArray(value),
        "'context' must be a JSON object.",
      ),
    }),
  }),
});

const cloneBody = v.strictObject({
  data: v.strictObject({
    type: v.literal("template"),
    id: v.string(),
    attributes: v.strictObject({ name: v.optional(v.nullable(v.string())) }),
  }),
});

function findTemplate(state: EmulatorState, id: string): ResourceRow {
  const row = state.templates.get(id);
  if (!row) throw notFound(`No template found with id '${id}'.`);
  return row;
}

/**
 * The template rendered with the body's context, as Render Template answers it: the template's attributes with
 * html, text and amp rendered (text and amp stay null when the template has none). Nothing is stored.
 */
export function renderTemplate(state: EmulatorState, body: unknown): ResourceRow {
  checkWriteDocument(body, { type: "template", attributes: ["context"] });
  const { data } = validate(renderBody, body);
  const row = findTemplate(state, data.id);
  const { context } = data.attributes;
  const render = (value: unknown, autoescape: boolean) =>
    typeof value === "string" ? renderTemplateSource(value, context, { autoescape }) : (value ?? null);
  const { definition: _definition, ...attributes } = row.attributes;
  return {
    id: row.id,
    seq: row.seq,
    attributes: {
      ...attributes,
      html: render(attributes.html, true),
      text: render(attributes.text, false),
      amp: render(attributes.amp, true),
    },
  };
}

/**
 * A new template with the source's editor type, html, text, amp and (drag-and-drop) definition, named as the body
 * says or, when it gives no name, "<name> (Clone)". Klaviyo's document does not say what it names a clone without
 * a name; that is our reading. Refused beyond the API's 1,000 templates, as Create Template is.
 */
export function cloneTemplate(state: EmulatorState, body: unknown, now: number): ResourceRow {
  checkWriteDocument(body, { type: "template", attributes: ["name"] });
  const { data } = validate(cloneBody, body);
  const source = findTemplate(state, data.id);
  const name = data.attributes.name;
  if (name !== undefined && name !== null && name.trim() === "") {
    throw new EmulatorProblem(invalidBody("/data/attributes/name", "The template name may not be blank."));
  }
  if (state.templates.size >= TEMPLATE_API_LIMIT) {
    throw new EmulatorProblem(
      invalidBody(
        "/data/",
        `This account has ${state.templates.size} templates; at most ${TEMPLATE_API_LIMIT} templates can be created through the API.`,
      ),
    );
  }
  let id = shortId();
  while (state.templates.get(id)) id = shortId();
  const stamp = isoNow(now);
  const definition = source.attributes.definition as Record<string, unknown> | null | undefined;
  return state.templates.insert({
    id,
    seq: state.templates.seq(),
    attributes: {
      ...structuredClone(source.attributes),
      name: name ?? `${String(source.attributes.name)} (Clone)`,
      created: stamp,
      updated: stamp,
      definition: definition ? { ...structuredClone(definition), id: shortId(8), template_id: id } : null,
    },
  });
}
