import { type InputIssue, InputValidationError } from "../core/errors.js";
import { FIELDSETS, OPERATION_PARAMETERS } from "../klaviyo/operations.js";
// The document's TemplateDefinition, which the emulator also judges requests by (a pure schema).
import { objectOnly } from "../klaviyo/schema.js";
import { templateDefinition as templateDefinitionDocument } from "../klaviyo/template-definition.js";
import { defineAction } from "./define.js";
import { input } from "./inputs.js";
import { listOutput, pagingInputs } from "./list.js";

/**
 * The editors Klaviyo's API creates templates for. The specification's comment ("Restricted to CODE") predates
 * the drag-and-drop editors; today's API takes all three: CODE and USER_DRAGGABLE from HTML, SYSTEM_DRAGGABLE
 * from a structured definition.
 */
export const EDITOR_TYPES = ["CODE", "USER_DRAGGABLE", "SYSTEM_DRAGGABLE"] as const;

const TEMPLATE_FIELDS = FIELDSETS.template ?? [];

const templateFields = () =>
  input.fields(
    {
      key: "fields",
      label: "Fields",
      comments:
        "The template attributes to return (Klaviyo's sparse fieldset fields[template]), as a list or comma-separated text, e.g. name,editor_type,updated; html and text can be large, so leave them out when only names are needed. definition.* names only apply with Include Definition. Leave empty for all of them.",
      example: "name,editor_type,updated",
    },
    TEMPLATE_FIELDS,
  );

const includeDefinition = () =>
  input.boolean({
    key: "includeDefinition",
    label: "Include Definition",
    comments:
      "Also return the drag-and-drop structure of SYSTEM_DRAGGABLE templates (attributes.definition; Klaviyo's additional-fields[template]=definition). Other templates have none. Off (false) by default.",
    default: false,
  });

const templateId = () =>
  input.id({
    key: "templateId",
    label: "Template ID",
    comments: "The template's ID, as Klaviyo generated it (List Templates shows it), e.g. RipRmi.",
    example: "RipRmi",
  });

const templateName = <R extends boolean>(required: R, comments: string) =>
  input.nonBlank<R>({
    key: "name",
    label: "Template Name",
    required,
    comments,
    example: "Monthly newsletter",
  });

const templateHtml = (comments: string) =>
  input.text({
    key: "html",
    label: "Template HTML",
    comments,
    example: "<html><body><p>Hello {{ first_name|default:'there' }}</p></body></html>",
  });

const templateText = (comments: string) =>
  input.text({ key: "text", label: "Template Text", comments, example: "Hello there" });

const templateAmp = (comments: string) => input.text({ key: "amp", label: "Template AMP", comments });

/** A definition checked as Klaviyo's document defines one (body, sections, rows, columns, blocks, the eight style sets). */
const templateDefinition = (comments: string) =>
  input.json(
    { key: "definition", label: "Template Definition", comments },
    objectOnly(templateDefinitionDocument),
    "text and html blocks need their content, and the styles hold exactly one set of each of the eight style types, as Klaviyo's document says",
  );

const templateQuery = (fields: string[] | undefined, definition: boolean | undefined) => ({
  "fields[template]": fields?.length ? fields : undefined,
  "additional-fields[template]": definition ? "definition" : undefined,
});

/** `POST /api/templates` (75/s, 750/m). */
export const createTemplate = defineAction({
  key: "create-template",
  label: "Create Template",
  description:
    "Creates an email template. A CODE template (hand-written HTML) or a USER_DRAGGABLE one is made from Template HTML; a SYSTEM_DRAGGABLE one from a drag-and-drop Template Definition instead. HTML may use Klaviyo's template tags, e.g. {{ first_name }}. Klaviyo answers with the new template (201). An account can hold at most 1,000 templates created through the API; beyond that Klaviyo refuses. 75 requests per second, 750 per minute.",
  operation: "create_template",
  inputs: {
    name: templateName(
      true,
      "The name the template is listed under in Klaviyo; it does not have to be unique, but must not be blank.",
    ),
    editorType: input.enum(
      {
        key: "editorType",
        label: "Editor Type",
        required: true,
        comments:
          "The editor the template belongs to, fixed once created: CODE (your own HTML, edited as code; the usual choice), USER_DRAGGABLE (your HTML, editable in Klaviyo's drag-and-drop editor) or SYSTEM_DRAGGABLE (built from Template Definition; no HTML). CODE and USER_DRAGGABLE need Template HTML.",
        example: "CODE",
      },
      EDITOR_TYPES,
    ),
    html: templateHtml(
      "The full HTML of the email. Required for CODE and USER_DRAGGABLE, not allowed for SYSTEM_DRAGGABLE (Klaviyo renders those from the definition).",
    ),
    text: templateText(
      "The plain-text version of the email, for mail clients and readers that do not show HTML. Optional.",
    ),
    amp: templateAmp(
      "The AMP for Email version, shown by clients that support it. Optional; the account must have AMP Email enabled, and SYSTEM_DRAGGABLE templates take none.",
    ),
    definition: templateDefinition(
      'Only for SYSTEM_DRAGGABLE (and required then): the drag-and-drop structure as a JSON object, {"body": {"properties": …, "styles": …, "sections": [...]}, "styles": [...]}, with exactly one style set of each of the eight types (base, mobile, text, heading 1 to 4, link). Get Template with Include Definition shows an existing one to start from.',
    ),
    fields: templateFields(),
    includeDefinition: includeDefinition(),
  },
  async perform({ send }, { name, editorType, html, text, amp, definition, fields, includeDefinition }) {
    const issues: InputIssue[] = [];
    if (editorType === "SYSTEM_DRAGGABLE") {
      if (definition === undefined) {
        issues.push({
          label: "Template Definition",
          key: "definition",
          message: "is required when Editor Type is SYSTEM_DRAGGABLE",
        });
      }
      if (html !== undefined) {
        issues.push({
          label: "Template HTML",
          key: "html",
          message:
            "is not allowed when Editor Type is SYSTEM_DRAGGABLE (Klaviyo renders it from the definition)",
        });
      }
      if (amp !== undefined) {
        issues.push({
          label: "Template AMP",
          key: "amp",
          message: "is not allowed when Editor Type is SYSTEM_DRAGGABLE",
        });
      }
    } else {
      if (html === undefined || html.trim() === "") {
        issues.push({
          label: "Template HTML",
          key: "html",
          message: `is required when Editor Type is ${editorType}`,
        });
      }
      if (definition !== undefined) {
        issues.push({
          label: "Template Definition",
          key: "definition",
          message: `only applies when Editor Type is SYSTEM_DRAGGABLE; Klaviyo would ignore it for ${editorType}`,
        });
      }
    }
    if (issues.length > 0) throw new InputValidationError(issues, "Create Template");
    const res = await send({
      query: templateQuery(fields, includeDefinition),
      body: {
        data: {
          type: "template",
          attributes: {
            name,
            editor_type: editorType,
            ...(html !== undefined ? { html } : {}),
            ...(text !== undefined ? { text } : {}),
            ...(amp !== undefined ? { amp } : {}),
            ...(definition !== undefined ? { definition } : {}),
          },
        },
      },
    });
    return res.body;
  },
});

/** `GET /api/templates/{id}` (75/s, 750/m). */
export const getTemplate = defineAction({
  key: "get-template",
  label: "Get Template",
  description:
    "Fetches one email template by its ID: name, editor type, HTML, plain text, AMP version and when it was created and last updated; with Include Definition also the drag-and-drop structure of a SYSTEM_DRAGGABLE template. An unknown ID fails with 404. 75 requests per second, 750 per minute.",
  operation: "get_template",
  inputs: { templateId: templateId(), fields: templateFields(), includeDefinition: includeDefinition() },
  async perform({ send }, { templateId, fields, includeDefinition }) {
    const res = await send({
      path: { id: templateId },
      query: templateQuery(fields, includeDefinition),
    });
    return res.body;
  },
});

const TEMPLATE_SORTS = OPERATION_PARAMETERS.get_templates?.sort ?? [];

/** `GET /api/templates` (75/s, 750/m; at most 10 per page). */
export const listTemplates = defineAction({
  key: "list-templates",
  label: "List Templates",
  description:
    "Lists the account's email templates. Klaviyo returns at most 10 per page, HTML included: by default one page is returned with a nextCursor to continue from; set Limit to gather several pages, and Fields (e.g. name,editor_type) to leave the HTML out. Can be narrowed with a filter (by id, name, or creation/update time) and sorted. 75 requests per second, 750 per minute.",
  operation: "get_templates",
  inputs: {
    fields: templateFields(),
    filter: input.filter(
      {
        key: "filter",
        label: "Filter",
        comments:
          "Only return templates matching this Klaviyo filter. Allowed: id with equals or any (a list in brackets), name with equals, any or contains, created and updated with equals, greater-than, greater-or-equal, less-than or less-or-equal (unquoted ISO 8601 times); combine with and(...). Strings take single quotes.",
        example: "contains(name,'newsletter')",
      },
      "get_templates",
    ),
    sort: input.enum(
      {
        key: "sort",
        label: "Sort",
        comments: `The order of the templates: ${TEMPLATE_SORTS.join(", ")} (a leading - for descending). Klaviyo's own order when empty.`,
        example: "-updated",
      },
      TEMPLATE_SORTS,
    ),
    includeDefinition: includeDefinition(),
    ...pagingInputs(10),
  },
  async perform(ctx, { fields, filter, sort, includeDefinition, pageSize, cursor, limit }) {
    return listOutput(
      ctx,
      {
        query: { ...templateQuery(fields, includeDefinition), filter, sort },
      },
      { pageSize, cursor, limit },
    );
  },
});

/** `PATCH /api/templates/{id}` (75/s, 750/m). */
export const updateTemplate = defineAction({
  key: "update-template",
  label: "Update Template",
  description:
    "Changes an email template's name, HTML, plain text, AMP version or (SYSTEM_DRAGGABLE only) drag-and-drop definition. Only the inputs given are sent; the rest stay as they are. The editor type cannot be changed, and Klaviyo refuses HTML or AMP for a SYSTEM_DRAGGABLE template. An unknown ID fails with 404. 75 requests per second, 750 per minute.",
  operation: "update_template",
  inputs: {
    templateId: templateId(),
    name: templateName(false, "A new name for the template; leave empty to keep the current one."),
    html: templateHtml(
      "New HTML for the email, replacing the current HTML; leave empty to keep it. Not allowed for SYSTEM_DRAGGABLE templates.",
    ),
    text: templateText("A new plain-text version of the email; leave empty to keep the current one."),
    amp: templateAmp(
      "A new AMP for Email version (the account must have AMP Email enabled); leave empty to keep the current one. Not allowed for SYSTEM_DRAGGABLE templates.",
    ),
    definition: templateDefinition(
      "SYSTEM_DRAGGABLE templates only: a new drag-and-drop structure as a JSON object. It replaces the current definition entirely (it is not merged), so start from Get Template with Include Definition.",
    ),
    fields: templateFields(),
    includeDefinition: includeDefinition(),
  },
  async perform({ send }, { templateId, name, html, text, amp, definition, fields, includeDefinition }) {
    const attributes: Record<string, unknown> = {};
    if (name !== undefined) attributes.name = name;
    if (html !== undefined) attributes.html = html;
    if (text !== undefined) attributes.text = text;
    if (amp !== undefined) attributes.amp = amp;
    if (definition !== undefined) attributes.definition = definition;
    if (Object.keys(attributes).length === 0) {
      throw new InputValidationError(
        [
          {
            label: "",
            key: "",
            message:
              "nothing to change: give at least one of Template Name, Template HTML, Template Text, Template AMP or Template Definition",
          },
        ],
        "Update Template",
      );
    }
    const res = await send({
      path: { id: templateId },
      query: templateQuery(fields, includeDefinition),
      body: { data: { type: "template", id: templateId, attributes } },
    });
    return res.body;
  },
});

/** `DELETE /api/templates/{id}` (75/s, 750/m). */
export const deleteTemplate = defineAction({
  key: "delete-template",
  label: "Delete Template",
  description:
    "Deletes an email template by its ID, for good. Klaviyo answers 204 with no body; the result is { deleted: true, id }. An unknown ID fails with 404. 75 requests per second, 750 per minute.",
  operation: "delete_template",
  inputs: { templateId: templateId() },
  async perform({ send }, { templateId }) {
    await send({
      path: { id: templateId },
    });
    return { deleted: true as const, id: templateId };
  },
});

/** The templates actions. */
