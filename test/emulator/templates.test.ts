import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createEmulator } from "../../src/emulator/index.js";
import { checkedFetch, expectNoContractProblems } from "../helpers/contract.js";
import { klaviyoHeaders, onlyError } from "./helpers.js";

const key = "pk_templates_test_key";
const em = createEmulator({ apiKeys: [{ key }], rateLimits: "off" });
const base = em.baseUrl;
/** Checks requests and responses against Klaviyo's OpenAPI document. */
const api = checkedFetch(em.fetch);
/** For requests the document itself forbids (sent on purpose to see them refused): only responses are checked. */
const unchecked = checkedFetch(em.fetch, { requests: false });

interface TemplateResource {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  links: { self: string };
}
interface TemplateDocument {
  data: TemplateResource;
  links: { self: string };
}
interface TemplateList {
  data: TemplateResource[];
  links: { self: string; next?: string; prev?: string };
}

const json = { ...klaviyoHeaders(key), "Content-Type": "application/vnd.api+json" };

function send(method: string, path: string, body?: unknown, fetcher = api) {
  return fetcher(`${base}${path}`, {
    method,
    headers: body === undefined ? klaviyoHeaders(key) : json,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

function templateBody(attributes: Record<string, unknown>) {
  return { data: { type: "template", attributes } };
}

async function create(attributes: Record<string, unknown>): Promise<TemplateResource> {
  const res = await send("POST", "/api/templates", templateBody(attributes));
  expect(res.status).toBe(201);
  return ((await res.json()) as TemplateDocument).data;
}

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

beforeEach(() => em.reset());
afterEach(() => expectNoContractProblems());

describe("Create / Get Template", () => {
  it("stores a CODE template and reads it back with every attribute", async () => {
    const html = "<html><body>Hello {{ first_name|default:'' }}</body></html>";
    const created = await create({ name: "Monthly newsletter", editor_type: "CODE", html, text: "Hello" });
    expect(created.id).toMatch(/^[A-Za-z0-9]{6}$/);
    expect(created.links.self).toBe(`${base}/api/templates/${created.id}/`);
    expect(created.attributes).toEqual({
      name: "Monthly newsletter",
      editor_type: "CODE",
      html,
      text: "Hello",
      amp: null,
      created: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*\+00:00$/),
      updated: created.attributes.created,
    });
    const got = (await (await send("GET", `/api/templates/${created.id}`)).json()) as TemplateDocument;
    expect(got.data).toEqual(created);
    expect(em.state.templates.get(created.id)?.attributes.name).toBe("Monthly newsletter");
  });

  it("refuses an editor_type Klaviyo does not create, pointing at it", async () => {
    const res = await send(
      "POST",
      "/api/templates",
      templateBody({ name: "x", editor_type: "SIMPLE", html: "<p/>" }),
    );
    expect(res.status).toBe(400);
    const error = await onlyError(res);
    expect(error.code).toBe("invalid");
    expect(error.source.pointer).toBe("/data/attributes/editor_type");
    expect(em.state.templates.size).toBe(0);
  });

  it("requires html for CODE and USER_DRAGGABLE", async () => {
    for (const editor of ["CODE", "USER_DRAGGABLE"]) {
      const res = await send(
        "POST",
        "/api/templates",
        templateBody({ name: "no html", editor_type: editor }),
      );
      expect(res.status).toBe(400);
      expect((await onlyError(res)).source.pointer).toBe("/data/attributes/html");
    }
    const hybrid = await create({ name: "Hybrid", editor_type: "USER_DRAGGABLE", html: "<p>hi</p>" });
    expect(hybrid.attributes).toMatchObject({ editor_type: "USER_DRAGGABLE", html: "<p>hi</p>" });
  });

  it("forbids html and amp and requires a definition for SYSTEM_DRAGGABLE", async () => {
    const withHtml = await send(
      "POST",
      "/api/templates",
      templateBody({
        name: "dnd",
        editor_type: "SYSTEM_DRAGGABLE",
        html: "<p/>",
        definition: definition("x"),
      }),
    );
    expect(withHtml.status).toBe(400);
    expect((await onlyError(withHtml)).source.pointer).toBe("/data/attributes/html");

    const withAmp = await send(
      "POST",
      "/api/templates",
      templateBody({
        name: "dnd",
        editor_type: "SYSTEM_DRAGGABLE",
        amp: "<html amp4email/>",
        definition: definition("x"),
      }),
    );
    expect((await onlyError(withAmp)).source.pointer).toBe("/data/attributes/amp");

    const bare = await send(
      "POST",
      "/api/templates",
      templateBody({ name: "dnd", editor_type: "SYSTEM_DRAGGABLE" }),
    );
    expect(bare.status).toBe(400);
    expect((await onlyError(bare)).source.pointer).toBe("/data/attributes/definition");
    expect(em.state.templates.size).toBe(0);
  });

  it("stores a SYSTEM_DRAGGABLE template, renders its html, and sends the definition only when asked", async () => {
    const created = await create({
      name: "Drag",
      editor_type: "SYSTEM_DRAGGABLE",
      definition: definition("<p>Sale</p>"),
    });
    expect(created.attributes.html).toContain("<p>Sale</p>");
    expect(created.attributes.html).toContain("#f4f1ea");
    expect(created.attributes).not.toHaveProperty("definition");

    const plain = (await (await send("GET", `/api/templates/${created.id}`)).json()) as TemplateDocument;
    expect(plain.data.attributes).not.toHaveProperty("definition");
    const full = (await (
      await send("GET", `/api/templates/${created.id}?additional-fields[template]=definition`)
    ).json()) as TemplateDocument;
    const stored = full.data.attributes.definition as {
      template_id: string;
      id: string;
      body: unknown;
      styles: unknown[];
    };
    expect(stored.template_id).toBe(created.id);
    expect(typeof stored.id).toBe("string");
    expect(stored.body).toEqual(definition("<p>Sale</p>").body);
    expect(stored.styles).toHaveLength(8);

    const code = await create({ name: "Code", editor_type: "CODE", html: "<p/>" });
    const codeFull = (await (
      await send("GET", `/api/templates/${code.id}?additional-fields[template]=definition`)
    ).json()) as TemplateDocument;
    expect(codeFull.data.attributes.definition).toBeNull();
  });

  it("checks the definition's structure, pointing into it", async () => {
    const missingStyle = definition("x");
    missingStyle.styles = missingStyle.styles.filter((s) => s.style_type !== "link-styles");
    const res = await send(
      "POST",
      "/api/templates",
      templateBody({ name: "dnd", editor_type: "SYSTEM_DRAGGABLE", definition: missingStyle }),
    );
    expect(res.status).toBe(400);
    const error = await onlyError(res);
    expect(error.source.pointer).toBe("/data/attributes/definition/styles");
    expect(error.detail).toContain("link-styles");

    const badBlock = definition("x");
    const column = badBlock.body.sections[0]?.rows[0]?.columns[0];
    if (!column) throw new Error("fixture");
    column.blocks = [
      { content_type: "block", type: "marquee", data: { content: "", display_options: {}, styles: {} } },
    ];
    const bad = await send(
      "POST",
      "/api/templates",
      templateBody({ name: "dnd", editor_type: "SYSTEM_DRAGGABLE", definition: badBlock }),
      unchecked,
    );
    expect(bad.status).toBe(400);
    expect((await onlyError(bad)).source.pointer).toBe(
      "/data/attributes/definition/body/sections/0/rows/0/columns/0/blocks/0/type",
    );
  });

  it("refuses unknown attributes with a pointer at them, and a wrong type with 409", async () => {
    const unknown = await send(
      "POST",
      "/api/templates",
      templateBody({ name: "x", editor_type: "CODE", html: "<p/>", subject: "Hi" }),
      unchecked,
    );
    expect(unknown.status).toBe(400);
    expect((await onlyError(unknown)).source.pointer).toBe("/data/attributes/subject");

    const wrongType = await send(
      "POST",
      "/api/templates",
      { data: { type: "list", attributes: { name: "x", editor_type: "CODE", html: "<p/>" } } },
      unchecked,
    );
    expect(wrongType.status).toBe(409);
    const error = await onlyError(wrongType);
    expect(error.code).toBe("conflict");
    expect(error.source.pointer).toBe("/data/type");

    const noName = await send(
      "POST",
      "/api/templates",
      templateBody({ editor_type: "CODE", html: "<p/>" }),
      unchecked,
    );
    expect((await onlyError(noName)).source.pointer).toBe("/data/attributes/name");
    expect(em.state.templates.size).toBe(0);
  });

  it("answers 404 naming the template for an unknown id", async () => {
    const res = await send("GET", "/api/templates/NOPE00");
    expect(res.status).toBe(404);
    const error = await onlyError(res);
    expect(error.code).toBe("not_found");
    expect(error.detail).toContain("NOPE00");
  });

  it("stops creating at 1000 templates in the account, and creates again once one is deleted", async () => {
    for (let i = 0; i < 1000; i++) {
      em.state.templates.insert({
        id: `T${String(i).padStart(5, "0")}`,
        seq: em.state.templates.seq(),
        attributes: {
          name: `t${i}`,
          editor_type: "CODE",
          html: "<p/>",
          text: null,
          amp: null,
          created: null,
          updated: null,
          definition: null,
        },
      });
    }
    const refused = await send(
      "POST",
      "/api/templates",
      templateBody({ name: "one more", editor_type: "CODE", html: "<p/>" }),
    );
    expect(refused.status).toBe(400);
    expect((await onlyError(refused)).detail).toContain("1000");
    expect(em.state.templates.size).toBe(1000);

    expect((await send("DELETE", "/api/templates/T00000")).status).toBe(204);
    const again = await create({ name: "one more", editor_type: "CODE", html: "<p/>" });
    expect(em.state.templates.get(again.id)?.attributes.name).toBe("one more");
  });
});

describe("Update / Delete Template", () => {
  it("changes what is sent, keeps what is absent, clears text with null", async () => {
    const created = await create({ name: "Welcome", editor_type: "CODE", html: "<p>v1</p>", text: "v1" });
    const res = await send("PATCH", `/api/templates/${created.id}`, {
      data: { type: "template", id: created.id, attributes: { html: "<p>v2</p>", text: null } },
    });
    expect(res.status).toBe(200);
    const updated = ((await res.json()) as TemplateDocument).data;
    expect(updated.attributes).toMatchObject({
      name: "Welcome",
      editor_type: "CODE",
      html: "<p>v2</p>",
      text: null,
    });
    const got = (await (await send("GET", `/api/templates/${created.id}`)).json()) as TemplateDocument;
    expect(got.data.attributes).toMatchObject({ name: "Welcome", html: "<p>v2</p>", text: null });
    expect(Date.parse(String(got.data.attributes.updated))).toBeGreaterThanOrEqual(
      Date.parse(String(created.attributes.updated)),
    );
    expect(got.data.attributes.created).toBe(created.attributes.created);
  });

  it("replaces a SYSTEM_DRAGGABLE definition entirely and re-renders its html", async () => {
    const created = await create({
      name: "Drag",
      editor_type: "SYSTEM_DRAGGABLE",
      definition: definition("<p>old</p>"),
    });
    const replacement = definition("<p>new</p>");
    replacement.body.styles = { background_color: "#000000", width: 640 };
    const res = await send("PATCH", `/api/templates/${created.id}?additional-fields[template]=definition`, {
      data: { type: "template", id: created.id, attributes: { definition: replacement } },
    });
    expect(res.status).toBe(200);
    const updated = ((await res.json()) as TemplateDocument).data.attributes;
    expect(updated.html).toContain("<p>new</p>");
    expect(updated.html).not.toContain("<p>old</p>");
    expect((updated.definition as { body: unknown }).body).toEqual(replacement.body);

    const html = await send("PATCH", `/api/templates/${created.id}`, {
      data: { type: "template", id: created.id, attributes: { html: "<p>sneaky</p>" } },
    });
    expect(html.status).toBe(400);
    expect((await onlyError(html)).source.pointer).toBe("/data/attributes/html");
    expect(em.state.templates.get(created.id)?.attributes.html).toContain("<p>new</p>");
  });

  it("refuses editor_type, a mismatched id and a wrong type", async () => {
    const created = await create({ name: "T", editor_type: "CODE", html: "<p/>" });
    const editor = await send(
      "PATCH",
      `/api/templates/${created.id}`,
      { data: { type: "template", id: created.id, attributes: { editor_type: "SYSTEM_DRAGGABLE" } } },
      unchecked,
    );
    expect(editor.status).toBe(400);
    expect((await onlyError(editor)).source.pointer).toBe("/data/attributes/editor_type");

    const otherId = await send("PATCH", `/api/templates/${created.id}`, {
      data: { type: "template", id: "XXXXXX", attributes: { name: "n" } },
    });
    expect(otherId.status).toBe(400);
    expect((await onlyError(otherId)).source.pointer).toBe("/data/id");

    const wrongType = await send(
      "PATCH",
      `/api/templates/${created.id}`,
      { data: { type: "image", id: created.id, attributes: { name: "n" } } },
      unchecked,
    );
    expect(wrongType.status).toBe(409);
    expect(em.state.templates.get(created.id)?.attributes).toMatchObject({ name: "T", editor_type: "CODE" });

    const missing = await send("PATCH", "/api/templates/NOPE00", {
      data: { type: "template", id: "NOPE00", attributes: { name: "n" } },
    });
    expect(missing.status).toBe(404);
  });

  it("deletes: 204, then the template is gone", async () => {
    const created = await create({ name: "Gone soon", editor_type: "CODE", html: "<p/>" });
    const res = await send("DELETE", `/api/templates/${created.id}`);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect(em.state.templates.get(created.id)).toBeUndefined();
    expect((await send("GET", `/api/templates/${created.id}`)).status).toBe(404);
    expect((await send("DELETE", `/api/templates/${created.id}`)).status).toBe(404);
  });
});

describe("Get Templates", () => {
  it("pages 10 at most, following links.next to the end", async () => {
    const names = Array.from({ length: 13 }, (_, i) => `Template ${String(i).padStart(2, "0")}`);
    for (const name of names) await create({ name, editor_type: "CODE", html: `<p>${name}</p>` });

    const tooBig = await send("GET", "/api/templates?page[size]=11", undefined, unchecked);
    expect(tooBig.status).toBe(400);
    expect((await onlyError(tooBig)).source.parameter).toBe("page[size]");

    const first = (await (await send("GET", "/api/templates")).json()) as TemplateList;
    expect(first.data).toHaveLength(10);
    expect(first.links.next).toBeDefined();
    const seen: string[] = first.data.map((t) => String(t.attributes.name));
    let next = first.links.next;
    while (next) {
      const page = (await (await api(next, { headers: klaviyoHeaders(key) })).json()) as TemplateList;
      seen.push(...page.data.map((t) => String(t.attributes.name)));
      next = page.links.next;
    }
    expect(seen).toEqual(names);
  });

  it("filters by name, id and created, and sorts", async () => {
    const a = await create({ name: "Spring sale", editor_type: "CODE", html: "<p/>" });
    const b = await create({ name: "Summer sale", editor_type: "CODE", html: "<p/>" });
    const c = await create({ name: "Welcome", editor_type: "CODE", html: "<p/>" });
    const list = async (query: string) =>
      ((await (await send("GET", `/api/templates?${query}`)).json()) as TemplateList).data.map((t) => t.id);

    expect(await list(`filter=${encodeURIComponent("contains(name,'sale')")}`)).toEqual([a.id, b.id]);
    expect(await list(`filter=${encodeURIComponent("equals(name,'Welcome')")}`)).toEqual([c.id]);
    expect(await list(`filter=${encodeURIComponent(`any(id,['${a.id}','${c.id}'])`)}`)).toEqual([a.id, c.id]);
    expect(await list("sort=-name")).toEqual([c.id, b.id, a.id]);
    expect(
      await list(`filter=${encodeURIComponent("greater-than(created,2000-01-01T00:00:00Z)")}`),
    ).toHaveLength(3);
    expect(await list(`filter=${encodeURIComponent("less-than(created,2000-01-01T00:00:00Z)")}`)).toEqual([]);

    const badField = await send("GET", `/api/templates?filter=${encodeURIComponent("equals(html,'x')")}`);
    expect(badField.status).toBe(400);
    expect((await onlyError(badField)).source.parameter).toBe("filter");
  });

  it("applies sparse fieldsets and additional fields to every item", async () => {
    await create({ name: "Drag", editor_type: "SYSTEM_DRAGGABLE", definition: definition("<p>x</p>") });
    await create({ name: "Code", editor_type: "CODE", html: "<p/>" });
    const sparse = (await (
      await send("GET", "/api/templates?fields[template]=name,editor_type")
    ).json()) as TemplateList;
    expect(sparse.data.map((t) => t.attributes)).toEqual([
      { name: "Drag", editor_type: "SYSTEM_DRAGGABLE" },
      { name: "Code", editor_type: "CODE" },
    ]);
    const full = (await (
      await send("GET", "/api/templates?additional-fields[template]=definition")
    ).json()) as TemplateList;
    expect(full.data[0]?.attributes.definition).toMatchObject({ styles: expect.any(Array) });
    expect(full.data[1]?.attributes.definition).toBeNull();
  });
});
