import { describe, expect, it } from "vitest";
import { NotFoundError } from "../../src/core/errors.js";
import { actionsSetup, bodyOf, refused } from "./helpers.js";

type Json = Record<string, unknown>;
interface Doc {
  data: { type: string; id: string; attributes: Json };
}

const HTML = "<p>Hello {{ first_name|default:'there' }}, {{ person.city }}</p>";

async function template(run: <T>(key: string, inputs?: Json) => Promise<T>, extra: Json = {}) {
  return run<Doc>("create-template", {
    name: "Greeting",
    editorType: "CODE",
    html: HTML,
    text: "Hi {{ first_name }}",
    ...extra,
  });
}

describe("Render Template", () => {
  it("renders html and text with the context, the template unchanged", async () => {
    const { run, runText, sent, emulator } = actionsSetup();
    const created = await template(run);
    const rendered = await runText<Doc>("render-template", {
      templateId: created.data.id,
      context: '{"first_name":"Ada <3","person":{"city":"London"}}',
    });
    expect(rendered.data.id).toBe(created.data.id);
    expect(rendered.data.attributes).toMatchObject({
      html: "<p>Hello Ada &lt;3, London</p>",
      text: "Hi Ada <3",
      amp: null,
    });
    expect(await bodyOf(sent.at(-1))).toEqual({
      data: {
        type: "template",
        id: created.data.id,
        attributes: { context: { first_name: "Ada <3", person: { city: "London" } } },
      },
    });
    expect(emulator.state.templates.get(created.data.id)?.attributes.html).toBe(HTML);
  });

  it("sends an empty context when none is given, and can ask for some fields only", async () => {
    const { run, sent } = actionsSetup();
    const created = await template(run);
    const rendered = await run<Doc>("render-template", { templateId: created.data.id, fields: "html" });
    expect(rendered.data.attributes).toEqual({ html: "<p>Hello there, </p>" });
    expect(((await bodyOf(sent.at(-1))).data as { attributes: Json }).attributes).toEqual({ context: {} });
  });

  it("refuses a context that is not a JSON object before sending; an unknown template is a NotFoundError", async () => {
    const { run, runText, sent } = actionsSetup();
    const array = await refused(runText("render-template", { templateId: "RipRmi", context: "[1,2]" }));
    expect(array.message).toContain("Context:");
    const broken = await refused(
      runText("render-template", { templateId: "RipRmi", context: "{first_name:" }),
    );
    expect(broken.message).toContain("Context: is not valid JSON");
    expect(sent).toHaveLength(0);
    await expect(run("render-template", { templateId: "NoSuch", context: {} })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});

describe("Clone Template", () => {
  it("makes a copy under the name given, or Klaviyo's default name", async () => {
    const { run, sent, emulator } = actionsSetup();
    const created = await template(run);
    const named = await run<Doc>("clone-template", {
      templateId: created.data.id,
      name: "Greeting (August)",
    });
    expect(named.data.id).not.toBe(created.data.id);
    expect(named.data.attributes).toMatchObject({
      name: "Greeting (August)",
      editor_type: "CODE",
      html: HTML,
    });
    expect(await bodyOf(sent.at(-1))).toEqual({
      data: { type: "template", id: created.data.id, attributes: { name: "Greeting (August)" } },
    });
    const unnamed = await run<Doc>("clone-template", { templateId: created.data.id });
    expect(unnamed.data.attributes.name).toBe("Greeting (Clone)");
    expect(((await bodyOf(sent.at(-1))).data as { attributes: Json }).attributes).toEqual({});
    expect(emulator.state.templates.size).toBe(3);
  });

  it("refuses a blank name before sending; an unknown template is a NotFoundError", async () => {
    const { run, sent } = actionsSetup();
    const error = await refused(run("clone-template", { templateId: "RipRmi", name: "   " }));
    expect(error.message).toContain("New Template Name: must not be blank");
    expect(sent).toHaveLength(0);
    await expect(run("clone-template", { templateId: "NoSuch" })).rejects.toBeInstanceOf(NotFoundError);
  });
});
