import { beforeEach, describe, expect, it } from "vitest";
import { getAction } from "../../src/actions/index.js";
import type { ListOutput } from "../../src/actions/list.js";
import { InputValidationError } from "../../src/core/errors.js";
import { actionsSetup } from "./helpers.js";

interface TemplateResource {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
}
interface TemplateDoc {
  data: TemplateResource;
  links: Record<string, string>;
}

let t: ReturnType<typeof actionsSetup>;
beforeEach(() => {
  t = actionsSetup();
});

const HTML = "<html><body>Hello {{ first_name|default:'there' }}</body></html>";

/** A drag-and-drop definition: one text block, and exactly one of each of the eight style sets. */
function definition(text: string) {
  return {
    body: {
      properties: {},
      styles: { background_color: "#f4f1ea", width: 600 },
      sections: [
        {
          content_type: "section",
          type: "section",
          data: { properties: {}, display_options: {}, styles: {} },
          rows: [
            {
              data: { styles: { column_layout: "1-column-full-width" } },
              columns: [
                {
                  blocks: [
                    {
                      content_type: "block",
                      type: "text",
                      data: { content: text, display_options: {}, styles: {} },
                    },
                  ],
                },
              ],
            },
          ],
        },
      ],
    },
    styles: [
      { style_type: "base-styles", properties: {}, styles: {} },
      { style_type: "mobile-styles", properties: {}, styles: {} },
      { style_type: "text-styles", styles: {} },
      { style_type: "heading-1-styles", styles: {} },
      { style_type: "heading-2-styles", styles: {} },
      { style_type: "heading-3-styles", styles: {} },
      { style_type: "heading-4-styles", styles: {} },
      { style_type: "link-styles", styles: {} },
    ],
  };
}

async function refused(key: string, inputs: Record<string, unknown>): Promise<InputValidationError> {
  const error = await t.run(key, inputs).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputValidationError);
  expect(t.sent).toHaveLength(0);
  return error as InputValidationError;
}

const createCode = (name: string, extra: Record<string, unknown> = {}) =>
  t.run<TemplateDoc>("create-template", { name, editorType: "CODE", html: HTML, ...extra });

describe("Create Template", () => {
  it("creates a CODE template from HTML and text, sending only what was given", async () => {
    const doc = await createCode("Monthly newsletter", { text: "Hello there" });
    expect(doc.data.type).toBe("template");
    expect(doc.data.attributes).toMatchObject({
      name: "Monthly newsletter",
      editor_type: "CODE",
      html: HTML,
      text: "Hello there",
    });
    expect(t.emulator.state.templates.get(doc.data.id)?.attributes.html).toBe(HTML);
    const body = (await t.sent[0]?.json()) as { data: { attributes: Record<string, unknown> } };
    expect(body.data.attributes).toEqual({
      name: "Monthly newsletter",
      editor_type: "CODE",
      html: HTML,
      text: "Hello there",
    });
  });

  it("creates a SYSTEM_DRAGGABLE template from a definition, returned when asked", async () => {
    const doc = await t.run<TemplateDoc>("create-template", {
      name: "Drag and drop",
      editorType: "SYSTEM_DRAGGABLE",
      definition: definition("<p>Sale</p>"),
      includeDefinition: true,
    });
    expect(doc.data.attributes.editor_type).toBe("SYSTEM_DRAGGABLE");
    expect((doc.data.attributes.definition as { body: unknown }).body).toEqual(
      definition("<p>Sale</p>").body,
    );
    expect(t.emulator.state.templates.size).toBe(1);
  });

  it("refuses CODE without HTML, and SYSTEM_DRAGGABLE with HTML or without a definition, before sending", async () => {
    const noHtml = await refused("create-template", { name: "x", editorType: "CODE", text: "hi" });
    expect(noHtml.message).toContain("Template HTML: is required when Editor Type is CODE");

    const dnd = await refused("create-template", {
      name: "x",
      editorType: "SYSTEM_DRAGGABLE",
      html: HTML,
    });
    expect(dnd.message).toContain("Template Definition: is required when Editor Type is SYSTEM_DRAGGABLE");
    expect(dnd.message).toContain("Template HTML: is not allowed when Editor Type is SYSTEM_DRAGGABLE");

    const stray = await refused("create-template", {
      name: "x",
      editorType: "USER_DRAGGABLE",
      html: HTML,
      definition: definition("x"),
    });
    expect(stray.message).toContain("Template Definition: only applies when Editor Type is SYSTEM_DRAGGABLE");

    const missing = await refused("create-template", { editorType: "HTML", html: HTML });
    expect(missing.message).toContain("Template Name: is required");
    expect(missing.message).toContain("Editor Type: must be one of CODE, USER_DRAGGABLE, SYSTEM_DRAGGABLE");

    const noType = await refused("create-template", { name: "x", html: HTML });
    expect(noType.message).toContain("Editor Type: is required");
    expect(t.emulator.state.templates.size).toBe(0);
  });

  it("keeps Editor Type without a default, as the specification has it", () => {
    const editor = Object.values(getAction("create-template")?.inputs ?? {}).find(
      (i) => i.label === "Editor Type",
    );
    expect(editor?.default).toBeUndefined();
    expect(editor?.options).toEqual(["CODE", "USER_DRAGGABLE", "SYSTEM_DRAGGABLE"]);
  });

  it("refuses a definition Klaviyo's document refuses before sending, naming the member (issue #8)", async () => {
    const bad = definition("x");
    const dropped = bad.styles.pop()?.style_type;
    const error = await refused("create-template", {
      name: "x",
      editorType: "SYSTEM_DRAGGABLE",
      definition: bad,
    });
    expect(error.message).toContain("Template Definition: styles: ");
    expect(error.message).toContain(`missing: ${dropped}`);
    const block = definition("x");
    (block.body.sections[0]?.rows[0]?.columns[0]?.blocks[0] as { type: string }).type = "carousel";
    const badBlock = await refused("update-template", { templateId: "RipRmi", definition: block });
    expect(badBlock.message).toContain(
      "Template Definition: body.sections[0].rows[0].columns[0].blocks[0].type",
    );
  });
});

describe("Get Template", () => {
  it("returns the template, with sparse fields", async () => {
    const created = await createCode("Welcome");
    const doc = await t.run<TemplateDoc>("get-template", { templateId: created.data.id });
    expect(doc.data.attributes).toMatchObject({ name: "Welcome", html: HTML, editor_type: "CODE" });
    expect(doc.data.attributes).not.toHaveProperty("definition");
    const sparse = await t.run<TemplateDoc>("get-template", {
      templateId: created.data.id,
      fields: "name,editor_type",
    });
    expect(sparse.data.attributes).toEqual({ name: "Welcome", editor_type: "CODE" });
    const withDefinition = await t.run<TemplateDoc>("get-template", {
      templateId: created.data.id,
      includeDefinition: true,
    });
    expect(withDefinition.data.attributes.definition).toBeNull();
  });

  it("refuses an empty ID and unknown fields before sending", async () => {
    const error = await refused("get-template", { templateId: "", fields: "name,body" });
    expect(error.message).toContain("Template ID: is required");
    expect(error.message).toContain('Fields: unknown field "body"');
  });

  it("fails with 404 for a template that does not exist", async () => {
    await expect(t.run("get-template", { templateId: "NoSuch" })).rejects.toMatchObject({ status: 404 });
  });
});

describe("List Templates", () => {
  it("pages by 10, filters and sorts", async () => {
    for (let i = 0; i < 13; i++)
      await createCode(`${i % 2 ? "Promo" : "Newsletter"} ${String(i).padStart(2, "0")}`);
    t.sent.length = 0;
    const first = await t.run<ListOutput<TemplateResource>>("list-templates", {
      fields: ["name"],
      sort: "name",
    });
    expect(first.data).toHaveLength(10);
    expect(first.nextCursor).toBeTruthy();
    expect(first.data[0]?.attributes).toEqual({ name: "Newsletter 00" });

    const all = await t.run<ListOutput<TemplateResource>>("list-templates", { limit: 50, pageSize: 5 });
    expect(all.data).toHaveLength(13);
    expect(all.pages).toBe(3);

    const promos = await t.run<ListOutput<TemplateResource>>("list-templates", {
      filter: "contains(name,'Promo')",
      sort: "-name",
      fields: "name",
    });
    expect(promos.data.map((d) => d.attributes.name)).toEqual([
      "Promo 11",
      "Promo 09",
      "Promo 07",
      "Promo 05",
      "Promo 03",
      "Promo 01",
    ]);
    const url = new URL(t.sent.at(-1)?.url ?? "");
    expect(url.searchParams.get("filter")).toBe("contains(name,'Promo')");
  });

  it("refuses a malformed filter and a bad sort before sending", async () => {
    const error = await refused("list-templates", { filter: "contains(name,'x'", sort: "editor_type" });
    expect(error.message).toContain("Filter: is not a valid Klaviyo filter");
    expect(error.message).toContain("Sort: must be one of");
  });
});

describe("Update Template", () => {
  it("sends only the attributes given and changes only those", async () => {
    const created = await createCode("Welcome", { text: "Hi" });
    t.sent.length = 0;
    const doc = await t.run<TemplateDoc>("update-template", {
      templateId: created.data.id,
      name: "Welcome v2",
    });
    expect(doc.data.attributes).toMatchObject({ name: "Welcome v2", html: HTML, text: "Hi" });
    const body = (await t.sent[0]?.json()) as { data: Record<string, unknown> };
    expect(body.data).toEqual({ type: "template", id: created.data.id, attributes: { name: "Welcome v2" } });

    await t.run("update-template", { templateId: created.data.id, html: "<p>New</p>", text: "New" });
    expect(t.emulator.state.templates.get(created.data.id)?.attributes).toMatchObject({
      name: "Welcome v2",
      html: "<p>New</p>",
      text: "New",
    });
  });

  it("replaces a SYSTEM_DRAGGABLE definition", async () => {
    const created = await t.run<TemplateDoc>("create-template", {
      name: "dnd",
      editorType: "SYSTEM_DRAGGABLE",
      definition: definition("old"),
    });
    const doc = await t.run<TemplateDoc>("update-template", {
      templateId: created.data.id,
      definition: definition("new"),
      includeDefinition: true,
    });
    expect((doc.data.attributes.definition as { body: unknown }).body).toEqual(definition("new").body);
  });

  it("refuses an update with nothing to change, and a definition that is not an object, before sending", async () => {
    const created = await createCode("Welcome");
    t.sent.length = 0;
    const nothing = await refused("update-template", { templateId: created.data.id });
    expect(nothing.message).toContain("nothing to change");
    expect(nothing.message).toContain("Template HTML");
    const notObject = await refused("update-template", { templateId: created.data.id, definition: [1] });
    expect(notObject.message).toContain("Template Definition: expected an object, received an array");
    const blank = await refused("update-template", { templateId: created.data.id, name: "  " });
    expect(blank.message).toContain("Template Name: must not be blank");
    expect(t.emulator.state.templates.get(created.data.id)?.attributes.name).toBe("Welcome");
  });
});

describe("Delete Template", () => {
  it("deletes the template and says so", async () => {
    const created = await createCode("Welcome");
    const result = await t.run("delete-template", { templateId: created.data.id });
    expect(result).toEqual({ deleted: true, id: created.data.id });
    expect(t.emulator.state.templates.get(created.data.id)).toBeUndefined();
    await expect(t.run("get-template", { templateId: created.data.id })).rejects.toMatchObject({
      status: 404,
    });
  });

  it("refuses an ID with spaces before sending", async () => {
    const error = await refused("delete-template", { templateId: "a b" });
    expect(error.message).toContain("Template ID: must not contain spaces");
  });
});
