/** Templates beyond the specification: Render Template and Clone Template. */
import { FIELDSETS } from "../klaviyo/operations.js";
import { jsonObject } from "../klaviyo/schema.js";
import { defineAction } from "./define.js";
import { input } from "./inputs.js";
import { listParam } from "./profiles-inputs.js";

/** Render and Clone's `fields[template]` (no definition: their answers never carry one). */
const RESULT_FIELDS = (FIELDSETS.template ?? []).filter((f) => !f.startsWith("definition"));

const templateId = (comments: string) =>
  input.id({ key: "templateId", label: "Template ID", comments, example: "RipRmi" });

const resultFields = () =>
  input.fields(
    {
      key: "fields",
      label: "Fields",
      comments: `The template attributes to return (Klaviyo's sparse fieldset fields[template]), as a list or comma-separated text: ${RESULT_FIELDS.join(", ")}. Leave empty for all of them.`,
      example: "name,html,text",
    },
    RESULT_FIELDS,
  );

/** `POST /api/template-render` (3/s, 60/m). */
export const renderTemplate = defineAction({
  key: "render-template",
  label: "Render Template",
  description:
    "Renders an email template, found by its ID, with the variables given in Context, the way Klaviyo fills it in for a recipient, and returns the template with its html, text and (when the template has one) amp versions rendered; nothing is sent or saved. Variables the context does not hold render as nothing. Fails with a NotFoundError when no template has that ID. Limited to 3 requests per second, 60 per minute. Needs the templates:read scope.",
  operation: "render_template",
  inputs: {
    templateId: templateId(
      "The ID of the template to render, as Klaviyo generated it (List Templates shows it), e.g. RipRmi.",
    ),
    context: input.json<Record<string, unknown>>(
      {
        key: "context",
        label: "Context",
        comments:
          'The variables to render the template with, as a JSON object: {{ first_name }} in the template takes "first_name", {{ person.city }} takes {"person":{"city":…}}, and {{ first_name|default:\'there\' }} falls back when it is missing. Example: {"first_name":"Ada","person":{"city":"London"}}. Leave empty to render with none ({} is sent).',
        default: {},
        example: '{"first_name":"Ada"}',
      },
      jsonObject,
    ),
    fields: resultFields(),
  },
  async perform({ send }, { templateId, context, fields }) {
    const res = await send({
      query: { "fields[template]": listParam(fields) },
      body: { data: { type: "template", id: templateId, attributes: { context: context ?? {} } } },
    });
    return res.body;
  },
});

/** `POST /api/template-clone` (75/s, 750/m). */
export const cloneTemplate = defineAction({
  key: "clone-template",
  label: "Clone Template",
  description:
    "Copies an email template, found by its ID, into a new template with the same editor type, HTML, text and AMP versions, and returns the new template with its own ID (201). It takes the name given, or Klaviyo's own when none is. An account can hold at most 1,000 templates created through the API; beyond that Klaviyo refuses. Fails with a NotFoundError when no template has that ID. Limited to 75 requests per second, 750 per minute. Needs the templates:write scope.",
  operation: "clone_template",
  inputs: {
    templateId: templateId(
      "The ID of the template to copy, as Klaviyo generated it (List Templates shows it), e.g. RipRmi.",
    ),
    name: input.nonBlank({
      key: "name",
      label: "New Template Name",
      comments:
        "The name of the copy, such as Monthly newsletter (August). Leave empty to let Klaviyo name it after the original.",
      example: "Monthly newsletter (copy)",
    }),
    fields: resultFields(),
  },
  async perform({ send }, { templateId, name, fields }) {
    const res = await send({
      query: { "fields[template]": listParam(fields) },
      body: {
        data: { type: "template", id: templateId, attributes: name !== undefined ? { name } : {} },
      },
    });
    return res.body;
  },
});
