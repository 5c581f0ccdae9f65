/**
 * The emulator's flows (Get Flows, Get Flow, Update Flow) and template render / clone, every request and answer
 * held against Klaviyo's OpenAPI document.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { createEmulator } from "../../src/emulator/index.js";
import { escapeHtml, renderTemplateSource } from "../../src/emulator/resources/template-render.js";
import { deserialize, serialize } from "../../src/emulator/snapshot.js";
import { checkedFetch, expectNoContractProblems } from "../helpers/contract.js";
import { klaviyoHeaders, onlyError } from "./helpers.js";

const key = "pk_flows_templates_test_key";

interface Resource {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  relationships?: Record<string, { data?: Array<{ type: string; id: string }> }>;
}
interface Doc {
  data: Resource;
  included?: Resource[];
}
interface Collection {
  data: Resource[];
  links: { next?: string };
  included?: Resource[];
}

function setup() {
  const em = createEmulator({ apiKeys: [{ key }], rateLimits: "off", seed: "demo" });
  const api = checkedFetch(em.fetch);
  const unchecked = checkedFetch(em.fetch, { requests: false });
  const send = (method: string, path: string, body?: unknown, fetcher = api) =>
    fetcher(`${em.baseUrl}${path}`, {
      method,
      headers:
        body === undefined
          ? klaviyoHeaders(key)
          : { ...klaviyoHeaders(key), "Content-Type": "application/vnd.api+json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const json = async <T>(res: Response, status = 200): Promise<T> => {
    expect(res.status).toBe(status);
    return (await res.json()) as T;
  };
  return { em, send, json, unchecked };
}

afterEach(() => expectNoContractProblems());

const names = (docs: Resource[]) => docs.map((d) => d.attributes.name);

describe("Get Flows", () => {
  it("lists the seeded flows, leaving the archived one out unless equals(archived,true) asks", async () => {
    const { send, json } = setup();
    const all = await json<Collection>(await send("GET", "/api/flows"));
    expect(names(all.data)).toEqual(["Welcome Series", "Abandoned Cart", "Browse Abandonment"]);
    expect(all.data[0]?.attributes).toMatchObject({
      status: "live",
      archived: false,
      trigger_type: "Added to List",
    });
    expect(all.data[0]?.attributes).not.toHaveProperty("definition");
    const archived = await json<Collection>(await send("GET", "/api/flows?filter=equals(archived,true)"));
    expect(names(archived.data)).toEqual(["Winback 2024"]);
    const both = await json<Collection>(
      await send("GET", "/api/flows?filter=and(equals(archived,true),starts-with(name,'Win'))"),
    );
    expect(names(both.data)).toEqual(["Winback 2024"]);
    const notArchived = await json<Collection>(await send("GET", "/api/flows?filter=equals(archived,false)"));
    expect(notArchived.data).toHaveLength(3);
  });

  it("filters by status, trigger type and name, sorts, and pages at most 50", async () => {
    const { send, json, unchecked } = setup();
    const live = await json<Collection>(await send("GET", "/api/flows?filter=equals(status,'manual')"));
    expect(names(live.data)).toEqual(["Abandoned Cart"]);
    const metric = await json<Collection>(
      await send("GET", "/api/flows?filter=equals(trigger_type,'Metric')&sort=-name"),
    );
    expect(names(metric.data)).toEqual(["Browse Abandonment", "Abandoned Cart"]);
    const contains = await json<Collection>(
      await send("GET", "/api/flows?filter=contains(name,'Aband')&sort=name"),
    );
    expect(names(contains.data)).toEqual(["Abandoned Cart", "Browse Abandonment"]);
    const page = await json<Collection>(await send("GET", "/api/flows?page[size]=2"));
    expect(page.data).toHaveLength(2);
    expect(page.links.next).toBeDefined();
    const next = await json<Collection>(
      await send("GET", (page.links.next as string).replace(/^https?:\/\/[^/]+/, "")),
    );
    expect(names(next.data)).toEqual(["Browse Abandonment"]);
    const tooBig = await send("GET", "/api/flows?page[size]=51", undefined, unchecked);
    expect(tooBig.status).toBe(400);
    expect((await onlyError(tooBig)).source.parameter).toBe("page[size]");
    // `status` takes equals only, as the document says.
    const any = await send("GET", "/api/flows?filter=any(status,['live'])", undefined, unchecked);
    expect(any.status).toBe(400);
  });

  it("includes each flow's actions", async () => {
    const { send, json } = setup();
    const res = await json<Collection>(
      await send("GET", "/api/flows?include=flow-actions,tags&filter=equals(name,'Welcome Series')"),
    );
    const flow = res.data[0] as Resource;
    const ids = flow.relationships?.["flow-actions"]?.data?.map((d) => d.id) ?? [];
    expect(ids).toHaveLength(3);
    expect(res.included?.map((r) => [r.type, r.id])).toEqual(ids.map((id) => ["flow-action", id]));
    expect(flow.relationships?.tags?.data).toEqual([]);
  });
});

describe("Get Flow", () => {
  it("returns the flow; its definition only when asked; 404 for an unknown id", async () => {
    const { send, json, unchecked } = setup();
    const first = (await json<Collection>(await send("GET", "/api/flows"))).data[0] as Resource;
    const plain = await json<Doc>(await send("GET", `/api/flows/${first.id}`));
    expect(plain.data.attributes.name).toBe("Welcome Series");
    expect(plain.data.attributes).not.toHaveProperty("definition");
    const full = await json<Doc>(
      await send("GET", `/api/flows/${first.id}?additional-fields[flow]=definition`),
    );
    const definition = full.data.attributes.definition as {
      triggers: Array<{ type: string }>;
      actions: Array<{ id: string; type: string; links: { next: string | null } }>;
      entry_action_id: string;
    };
    expect(definition.triggers[0]?.type).toBe("list");
    expect(definition.actions.map((a) => a.type)).toEqual(["send-email", "time-delay", "send-email"]);
    expect(definition.entry_action_id).toBe(definition.actions[0]?.id);
    expect(definition.actions[0]?.links.next).toBe(definition.actions[1]?.id);
    const missing = await send("GET", "/api/flows/NoSuch", undefined, unchecked);
    expect(missing.status).toBe(404);
    expect((await onlyError(missing)).code).toBe("not_found");
  });
});

describe("Update Flow", () => {
  it("sets the status of the flow and of its actions that have one", async () => {
    const { em, send, json } = setup();
    const flow = [...em.state.flows.values()].find((f) => f.attributes.name === "Welcome Series");
    const id = flow?.id as string;
    const before = flow?.attributes.updated;
    const body = { data: { type: "flow", id, attributes: { status: "manual" } } };
    const res = await json<Doc>(await send("PATCH", `/api/flows/${id}`, body));
    expect(res.data.attributes.status).toBe("manual");
    expect(typeof before).toBe("string");
    expect(String(res.data.attributes.updated) > String(before)).toBe(true);
    const withActions = await json<Doc>(await send("GET", `/api/flows/${id}?include=flow-actions`));
    const statuses = (withActions.included ?? []).map(
      (a) => (a.attributes.definition as { data: { status?: string } }).data.status,
    );
    expect(statuses).toEqual(["manual", undefined, "manual"]);
  });

  it("refuses any other status, other attributes and a mismatched id, in Klaviyo's format", async () => {
    const { em, send, unchecked } = setup();
    const id = ([...em.state.flows.values()][0]?.id ?? "") as string;
    const bad = await send(
      "PATCH",
      `/api/flows/${id}`,
      { data: { type: "flow", id, attributes: { status: "paused" } } },
      unchecked,
    );
    expect(bad.status).toBe(400);
    const error = await onlyError(bad);
    expect(error.source.pointer).toBe("/data/attributes/status");
    expect(error.detail).toContain("draft, manual, live");
    const renamed = await send(
      "PATCH",
      `/api/flows/${id}`,
      { data: { type: "flow", id, attributes: { status: "live", name: "New" } } },
      unchecked,
    );
    expect(renamed.status).toBe(400);
    expect((await onlyError(renamed)).source.pointer).toBe("/data/attributes/name");
    const other = await send(
      "PATCH",
      `/api/flows/${id}`,
      { data: { type: "flow", id: "Other1", attributes: { status: "live" } } },
      unchecked,
    );
    expect(other.status).toBe(400);
    expect(em.state.flows.get(id)?.attributes.status).toBe("live");
  });

  it("keeps flows in snapshots", () => {
    const { em } = setup();
    const restored = deserialize(JSON.parse(JSON.stringify(serialize(em.state))));
    expect([...restored.flows.values()].map((f) => f.attributes.name)).toEqual(
      [...em.state.flows.values()].map((f) => f.attributes.name),
    );
  });
});

describe("Render Template", () => {
  it("renders variables, dotted paths and default, escaping HTML in html but not in text", async () => {
    const { send, json } = setup();
    const created = await json<Doc>(
      await send("POST", "/api/templates", {
        data: {
          type: "template",
          attributes: {
            name: "Greeting",
            editor_type: "CODE",
            html: "<p>Hi {{ first_name|default:'there' }} from {{ person.city }}{# note #}{% if vip %}!{% endif %}</p>",
            text: "Hi {{ first_name|default:'there' }} ({{ missing }})",
          },
        },
      }),
      201,
    );
    const render = (context: unknown) =>
      send("POST", "/api/template-render", {
        data: { type: "template", id: created.data.id, attributes: { context } },
      });
    const withName = await json<Doc>(
      await render({ first_name: "Ada & <Bo>", person: { city: "London" } }),
      201,
    );
    expect(withName.data.id).toBe(created.data.id);
    expect(withName.data.attributes).toMatchObject({
      name: "Greeting",
      editor_type: "CODE",
      html: "<p>Hi Ada &amp; &lt;Bo&gt; from London{% if vip %}!{% endif %}</p>",
      text: "Hi Ada & <Bo> ()",
      amp: null,
    });
    const empty = await json<Doc>(await render({}), 201);
    expect(empty.data.attributes.html).toBe("<p>Hi there from {% if vip %}!{% endif %}</p>");
    // Nothing is stored by rendering.
    const again = await json<Doc>(await send("GET", `/api/templates/${created.data.id}`));
    expect(again.data.attributes.html).toContain("{{ first_name|default:'there' }}");
  });

  it("refuses a context that is not an object and an unknown template", async () => {
    const { send, unchecked } = setup();
    const missing = await send(
      "POST",
      "/api/template-render",
      { data: { type: "template", id: "NoSuch", attributes: { context: {} } } },
      unchecked,
    );
    expect(missing.status).toBe(404);
    const array = await send(
      "POST",
      "/api/template-render",
      { data: { type: "template", id: "NoSuch", attributes: { context: [1] } } },
      unchecked,
    );
    expect(array.status).toBe(400);
    expect((await onlyError(array)).source.pointer).toBe("/data/attributes/context");
  });
});

describe("Clone Template", () => {
  it("copies the template under the name given, or '<name> (Clone)'", async () => {
    const { send, json, em } = setup();
    const created = await json<Doc>(
      await send("POST", "/api/templates", {
        data: {
          type: "template",
          attributes: { name: "Monthly", editor_type: "CODE", html: "<p>x</p>", text: "x" },
        },
      }),
      201,
    );
    const named = await json<Doc>(
      await send("POST", "/api/template-clone", {
        data: { type: "template", id: created.data.id, attributes: { name: "Monthly copy" } },
      }),
      201,
    );
    expect(named.data.id).not.toBe(created.data.id);
    expect(named.data.attributes).toMatchObject({
      name: "Monthly copy",
      editor_type: "CODE",
      html: "<p>x</p>",
      text: "x",
    });
    const unnamed = await json<Doc>(
      await send("POST", "/api/template-clone", {
        data: { type: "template", id: created.data.id, attributes: {} },
      }),
      201,
    );
    expect(unnamed.data.attributes.name).toBe("Monthly (Clone)");
    expect(em.state.templates.size).toBe(3);
    const missing = await send("POST", "/api/template-clone", {
      data: { type: "template", id: "NoSuch", attributes: {} },
    });
    expect(missing.status).toBe(404);
  });
});

describe("the template language subset", () => {
  it("escapes any string value in html and keeps it as given in text", () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        const source = "<b>{{ v }}</b>|{{ v|default:'none' }}";
        const html = renderTemplateSource(source, { v: value }, { autoescape: true });
        const text = renderTemplateSource(source, { v: value }, { autoescape: false });
        const fallback = value === "" ? "none" : value;
        expect(html).toBe(`<b>${escapeHtml(value)}</b>|${value === "" ? "none" : escapeHtml(value)}`);
        expect(text).toBe(`<b>${value}</b>|${fallback}`);
      }),
    );
  });

  it("follows dotted paths through objects and arrays, and writes values as Python does", () => {
    const context = { a: { b: [10, { c: "deep" }] }, t: true, n: null, l: ["x", 1], f: 1.5 };
    const render = (source: string) => renderTemplateSource(source, context, { autoescape: true });
    expect(render("{{ a.b.0 }} {{ a.b.1.c }} {{ a.b.9 }} {{ a.x.y }}")).toBe("10 deep  ");
    expect(render("{{ t }} {{ n }} {{ f }}")).toBe("True None 1.5");
    expect(render("{{ l }}")).toBe("[&#x27;x&#x27;, 1]");
    expect(render("{{ n|default_if_none:'-' }} {{ missing|default:0 }} {{ a.b|length }}")).toBe("- 0 2");
    expect(render("{{ a|lookup:'b'|length }} {{ 'lit'|upper }}")).toBe("2 LIT");
  });

  it("leaves block tags, multi-line tags and unknown filters as written", () => {
    const source = "{% for x in l %}{{ x }}{% endfor %} {{ a\n}} {{ name|truncatechars:3 }}";
    expect(renderTemplateSource(source, { name: "Ada" }, { autoescape: true })).toBe(
      "{% for x in l %}{% endfor %} {{ a\n}} {{ name|truncatechars:3 }}",
    );
  });
});
