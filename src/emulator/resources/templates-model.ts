/**
 * Email templates as Klaviyo keeps them: the request bodies Create and Update Template accept, the editor rules
 * the schema can only describe in prose (html for CODE / USER_DRAGGABLE, a definition for SYSTEM_DRAGGABLE), the
 * API's creation limit, and the stored row in wire form.
 */
import * as v from "valibot";
import {
  renderDefinitionHtml,
  type TemplateDefinition,
  templateDefinition,
} from "../../klaviyo/template-definition.js";
import { validate } from "../body.js";
import { EmulatorProblem, invalidBody, type ProblemInit } from "../errors.js";
import type { EmulatorState } from "../state.js";
import { isoNow, type ResourceRow, shortId } from "../store.js";
import { checkWriteDocument } from "./templates-document.js";

/** The editors a template can be created for; `SIMPLE` exists in responses (older templates) but not here. */
export const EDITOR_TYPES = ["CODE", "USER_DRAGGABLE", "SYSTEM_DRAGGABLE"] as const;
export type EditorType = (typeof EDITOR_TYPES)[number];

/** Klaviyo refuses to create more than this many templates in an account through the API. */
export const TEMPLATE_API_LIMIT = 1000;

const nullableString = v.optional(v.nullable(v.string()));

const createBody = v.strictObject({
  data: v.strictObject({
    type: v.literal("template"),
    attributes: v.strictObject({
      name: v.pipe(v.string(), v.minLength(1, "The template name may not be blank.")),
      editor_type: v.string(),
      html: nullableString,
      definition: v.optional(v.nullable(templateDefinition)),
      text: nullableString,
      amp: nullableString,
    }),
  }),
});

const updateBody = v.strictObject({
  data: v.strictObject({
    type: v.literal("template"),
    id: v.string(),
    attributes: v.strictObject({
      name: v.optional(v.nullable(v.pipe(v.string(), v.minLength(1, "The template name may not be blank.")))),
      html: nullableString,
      definition: v.optional(v.nullable(templateDefinition)),
      text: nullableString,
      amp: nullableString,
    }),
  }),
});

const CREATE_ATTRIBUTES = ["name", "editor_type", "html", "definition", "text", "amp"];
const UPDATE_ATTRIBUTES = ["name", "html", "definition", "text", "amp"];
const READ_ONLY = {
  editor_type: "'editor_type' cannot be changed once a template is created.",
  created: "'created' is read-only.",
  updated: "'updated' is read-only.",
};

const pointer = (name: string) => `/data/attributes/${name}`;

function fail(problems: ProblemInit[]): void {
  const [first, ...others] = problems;
  if (first) throw new EmulatorProblem(first, {}, others);
}

function isEditorType(value: string): value is EditorType {
  return (EDITOR_TYPES as readonly string[]).includes(value);
}

/** The definition as stored: given members kept, its read-only ids filled in as Klaviyo does. */
function storedDefinition(
  definition: TemplateDefinition,
  templateId: string,
  previousId?: unknown,
): TemplateDefinition {
  const id = typeof previousId === "string" ? previousId : shortId(8);
  return { ...structuredClone(definition), id, template_id: templateId };
}

function uniqueTemplateId(state: EmulatorState): string {
  let id = shortId();
  while (state.templates.get(id)) id = shortId();
  return id;
}

/** Validates a Create Template body, applies the editor rules and the API limit, and stores the template. */
export function createTemplate(state: EmulatorState, body: unknown, now: number): ResourceRow {
  checkWriteDocument(body, { type: "template", attributes: CREATE_ATTRIBUTES });
  const { attributes } = validate(createBody, body).data;
  const { editor_type: editorType, html, definition, amp } = attributes;
  if (!isEditorType(editorType)) {
    throw new EmulatorProblem(
      invalidBody(
        pointer("editor_type"),
        `'${editorType}' is not a valid editor_type. Valid: ${EDITOR_TYPES.join(", ")}.`,
      ),
    );
  }
  const problems: ProblemInit[] = [];
  if (editorType === "SYSTEM_DRAGGABLE") {
    if (html != null)
      problems.push(invalidBody(pointer("html"), "'html' is not allowed for SYSTEM_DRAGGABLE templates."));
    if (amp != null)
      problems.push(invalidBody(pointer("amp"), "'amp' is not allowed for SYSTEM_DRAGGABLE templates."));
    if (definition == null) {
      problems.push(
        invalidBody(pointer("definition"), "'definition' is required for SYSTEM_DRAGGABLE templates."),
      );
    }
  } else if (html == null) {
    problems.push(invalidBody(pointer("html"), `'html' is required for ${editorType} templates.`));
  }
  fail(problems);
  if (state.templates.size >= TEMPLATE_API_LIMIT) {
    throw new EmulatorProblem(
      invalidBody(
        "/data/",
        `This account has ${state.templates.size} templates; at most ${TEMPLATE_API_LIMIT} templates can be created through the API.`,
      ),
    );
  }
  const id = uniqueTemplateId(state);
  const stamp = isoNow(now);
  // Klaviyo ignores a definition sent with a CODE / USER_DRAGGABLE template.
  const stored = editorType === "SYSTEM_DRAGGABLE" && definition ? storedDefinition(definition, id) : null;
  return state.templates.insert({
    id,
    seq: state.templates.seq(),
    attributes: {
      name: attributes.name,
      editor_type: editorType,
      html: stored ? renderDefinitionHtml(stored) : (html ?? ""),
      text: attributes.text ?? null,
      amp: amp ?? null,
      created: stamp,
      updated: stamp,
      definition: stored,
    },
  });
}

/**
 * Validates an Update Template body against the stored template and applies it: absent members keep their value,
 * `null` clears `text` / `amp` and leaves the members a template cannot lack (`name`, `html`, `definition`) as they
 * are; a new definition replaces the old one entirely and re-renders the html.
 */
export function updateTemplate(row: ResourceRow, body: unknown, now: number): ResourceRow {
  checkWriteDocument(body, {
    type: "template",
    id: row.id,
    attributes: UPDATE_ATTRIBUTES,
    readOnly: READ_ONLY,
  });
  const { attributes } = validate(updateBody, body).data;
  const current = row.attributes;
  const draggable = current.editor_type === "SYSTEM_DRAGGABLE";
  if (draggable) {
    const problems: ProblemInit[] = [];
    if (attributes.html != null) {
      problems.push(invalidBody(pointer("html"), "'html' is not allowed for SYSTEM_DRAGGABLE templates."));
    }
    if (attributes.amp != null) {
      problems.push(invalidBody(pointer("amp"), "'amp' is not allowed for SYSTEM_DRAGGABLE templates."));
    }
    fail(problems);
  }
  const next: Record<string, unknown> = { ...current };
  if (attributes.name != null) next.name = attributes.name;
  if (attributes.text !== undefined) next.text = attributes.text;
  if (attributes.amp !== undefined) next.amp = attributes.amp;
  if (!draggable && attributes.html != null) next.html = attributes.html;
  if (draggable && attributes.definition != null) {
    const previous = current.definition as { id?: unknown } | null;
    const definition = storedDefinition(attributes.definition, row.id, previous?.id);
    next.definition = definition;
    next.html = renderDefinitionHtml(definition);
  }
  next.updated = isoNow(now);
  row.attributes = next;
  return row;
}

/** The attributes a response carries: `definition` only when `additional-fields[template]=definition` asks. */
export function templateAttributes(row: ResourceRow, withDefinition: boolean): Record<string, unknown> {
  const { definition, ...rest } = row.attributes;
  return withDefinition ? { ...rest, definition: definition ?? null } : rest;
}
