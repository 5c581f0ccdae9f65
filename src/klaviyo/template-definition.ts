/**
 * A SYSTEM_DRAGGABLE template's `definition` (Klaviyo's `TemplateDefinition`): checked down to the block level —
 * body, sections, rows, columns, blocks and the eight style sets, with their discriminators and required members
 * — while the many style and display option objects inside are taken as given. The document describes ~100
 * schemas below this one; modelling every option would copy the document, not emulate the API. Also renders the
 * definition to the `html` Klaviyo returns for drag-and-drop templates.
 */
import * as v from "valibot";
import { checkWith } from "./schema.js";

const options = v.record(v.string(), v.unknown());
/** Members the document marks `readOnly`: accepted (a definition read back can be sent again) and kept. */
const readOnlyId = v.optional(v.nullable(v.string()));

export const BLOCK_TYPES = [
  "button",
  "coupon",
  "drop_shadow",
  "header",
  "horizontal_rule",
  "html",
  "image",
  "product",
  "review",
  "social",
  "spacer",
  "split",
  "table",
  "text",
  "video",
] as const;

const block = v.pipe(
  v.strictObject({
    id: readOnlyId,
    data_id: readOnlyId,
    universal_id: readOnlyId,
    content_type: v.literal("block"),
    type: v.picklist(BLOCK_TYPES),
    data: v.nullable(options),
  }),
  checkWith((value, ctx) => {
    // Text and HTML blocks are the two whose data is not nullable and must carry their content.
    if (value.type !== "text" && value.type !== "html") return;
    if (value.data === null) ctx.addIssue({ path: ["data"], message: `A ${value.type} block needs data.` });
    else if (typeof value.data.content !== "string") {
      ctx.addIssue({
        path: ["data", "content"],
        message: `A ${value.type} block needs a string content.`,
      });
    }
  }),
);

const column = v.strictObject({
  id: readOnlyId,
  data_id: readOnlyId,
  data: v.optional(v.nullable(v.strictObject({}))),
  blocks: v.optional(v.nullable(v.array(block))),
});

const row = v.strictObject({
  id: readOnlyId,
  data_id: readOnlyId,
  data: v.strictObject({ styles: options }),
  columns: v.optional(v.nullable(v.array(column))),
});

const section = v.strictObject({
  id: readOnlyId,
  data_id: readOnlyId,
  universal_id: readOnlyId,
  content_type: v.literal("section"),
  type: v.literal("section"),
  data: v.strictObject({ properties: options, display_options: options, styles: options }),
  rows: v.optional(v.nullable(v.array(row))),
});

const body = v.strictObject({
  id: readOnlyId,
  properties: v.strictObject({
    id: v.optional(v.nullable(v.string())),
    css_class: v.optional(v.nullable(v.string())),
  }),
  styles: v.strictObject({
    background_color: v.optional(v.nullable(v.string())),
    width: v.optional(v.nullable(v.pipe(v.number(), v.finite(), v.integer()))),
  }),
  sections: v.optional(v.nullable(v.array(section))),
});

/** Style sets with `properties` besides `styles`; the others take `styles` only. */
const STYLES_WITH_PROPERTIES = ["base-styles", "mobile-styles"] as const;
const STYLES_WITHOUT_PROPERTIES = [
  "text-styles",
  "heading-1-styles",
  "heading-2-styles",
  "heading-3-styles",
  "heading-4-styles",
  "link-styles",
] as const;
export const STYLE_TYPES = [...STYLES_WITH_PROPERTIES, ...STYLES_WITHOUT_PROPERTIES] as const;

const style = v.variant("style_type", [
  v.strictObject({
    id: readOnlyId,
    style_type: v.picklist(STYLES_WITH_PROPERTIES),
    properties: options,
    styles: options,
  }),
  v.strictObject({ id: readOnlyId, style_type: v.picklist(STYLES_WITHOUT_PROPERTIES), styles: options }),
]);

/** `TemplateDefinition`; its `styles` must hold exactly one set of each of the eight style types. */
export const templateDefinition = v.strictObject({
  id: readOnlyId,
  template_id: readOnlyId,
  body,
  styles: v.pipe(
    v.array(style),
    checkWith((styles, ctx) => {
      const seen = new Set<string>();
      styles.forEach((s, index) => {
        if (seen.has(s.style_type)) {
          ctx.addIssue({
            path: [index, "style_type"],
            message: `'${s.style_type}' appears more than once.`,
          });
        }
        seen.add(s.style_type);
      });
      const missing = STYLE_TYPES.filter((t) => !seen.has(t));
      if (missing.length > 0) {
        ctx.addIssue({
          message: `Styles must contain exactly one of each style type; missing: ${missing.join(", ")}.`,
        });
      }
    }),
  ),
});

export type TemplateDefinition = v.InferOutput<typeof templateDefinition>;

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function renderBlock(b: v.InferOutput<typeof block>): string {
  const data = b.data ?? {};
  const properties = (
    typeof data.properties === "object" && data.properties !== null ? data.properties : {}
  ) as Record<string, unknown>;
  switch (b.type) {
    case "text":
    case "html":
      // Their content is already HTML, written by the user.
      return `<div class="kl-${b.type}">${text(data.content)}</div>`;
    case "button":
      return `<a class="kl-button" href="${escapeHtml(text(properties.href))}">${text(data.content)}</a>`;
    case "image":
      return `<img class="kl-image" src="${escapeHtml(text(properties.src))}" alt="${escapeHtml(text(properties.alt_text))}">`;
    case "horizontal_rule":
      return "<hr>";
    default:
      return `<div class="kl-${b.type}"></div>`;
  }
}

/** The `html` of a drag-and-drop template: its blocks in order, section by section, in a minimal document. */
export function renderDefinitionHtml(definition: TemplateDefinition): string {
  const background = definition.body.styles.background_color;
  const sections = (definition.body.sections ?? []).map((s) => {
    const rows = (s.rows ?? []).map((r) => {
      const columns = (r.columns ?? []).map((c) => `<td>${(c.blocks ?? []).map(renderBlock).join("")}</td>`);
      return `<tr>${columns.join("")}</tr>`;
    });
    return `<table class="kl-section" width="100%"><tbody>${rows.join("")}</tbody></table>`;
  });
  const style = background ? ` style="background-color:${escapeHtml(background)}"` : "";
  return `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body${style}>${sections.join("")}</body></html>`;
}
