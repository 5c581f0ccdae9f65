import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KlaviyoClient } from "../../src/core/client.js";
import type { QueryInput } from "../../src/core/url.js";
import { createEmulator } from "../../src/emulator/index.js";
import type { HttpMethod } from "../../src/klaviyo/operations.js";
import { checkedFetch, expectNoContractProblems } from "../helpers/contract.js";
import { openApiAvailable } from "../helpers/openapi.js";
import type { KlaviyoErrorEntry } from "./helpers.js";

const KEY = "pk_profiles_test_000000000000000000";
const emulator = createEmulator({ apiKeys: [{ key: KEY }], rateLimits: "off" });
const base = emulator.baseUrl;
const contract = openApiAvailable();
const clientWith = (requests: boolean) =>
  new KlaviyoClient({
    apiKey: KEY,
    baseUrl: base,
    fetch: contract ? checkedFetch(emulator.fetch, { requests }) : emulator.fetch,
    rateLimiter: false,
    retry: { maxRetries: 0 },
  });
/** Requests that follow the document; `loose` sends bodies it forbids on purpose (responses still checked). */
const client = clientWith(true);
const loose = clientWith(false);

type Json = Record<string, unknown>;
interface Resource {
  type: string;
  id: string;
  attributes: Json;
  relationships?: Record<
    string,
    { data?: Array<{ type: string; id: string }>; links: { self: string; related: string } }
  >;
  links: { self: string };
}
interface Doc {
  data: Resource;
  included?: Resource[];
  links: Json;
}
interface Collection {
  data: Resource[];
  included?: Resource[];
  links: { self: string; next?: string; prev?: string };
}

async function call<T = Json>(
  method: HttpMethod,
  path: string,
  body?: unknown,
  query?: QueryInput,
  c = client,
) {
  const res = await c.request<T>({
    method,
    path,
    ...(body ? { body } : {}),
    ...(query ? { query } : {}),
    throwOnError: false,
  });
  return { status: res.status, body: res.body };
}

async function fails(method: HttpMethod, path: string, body?: unknown, query?: QueryInput) {
  const res = await call<{ errors: KlaviyoErrorEntry[] }>(method, path, body, query, loose);
  const error = res.body.errors[0] as KlaviyoErrorEntry;
  expect(error.status).toBe(res.status);
  return { status: res.status, error, errors: res.body.errors };
}

const profileBody = (attributes: Json) => ({ data: { type: "profile", attributes } });

async function createProfile(attributes: Json): Promise<Resource> {
  const res = await call<Doc>("POST", "/api/profiles", profileBody(attributes));
  expect(res.status).toBe(201);
  return res.body.data;
}

beforeEach(() => emulator.reset());
afterEach(() => {
  if (contract) expectNoContractProblems();
});

describe("POST /api/profiles", () => {
  it("creates a profile that reads back with every attribute, null where not given", async () => {
    const created = await createProfile({
      email: "sarah.mason@example.com",
      phone_number: "+15005550006",
      first_name: "Sarah",
      location: { city: "Boston", latitude: "42.36", longitude: -71.06 },
      properties: { plan: "gold" },
    });
    expect(created.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(created.links.self).toBe(`${base}/api/profiles/${created.id}/`);
    const read = await call<Doc>("GET", `/api/profiles/${created.id}`);
    expect(read.status).toBe(200);
    expect(read.body.data.attributes).toMatchObject({
      email: "sarah.mason@example.com",
      phone_number: "+15005550006",
      external_id: null,
      first_name: "Sarah",
      last_name: null,
      organization: null,
      last_event_date: null,
      location: { city: "Boston", latitude: "42.36", longitude: -71.06, zip: null, ip: null },
      properties: { plan: "gold" },
    });
    expect(read.body.data.attributes.created).toBe(created.attributes.created);
    expect(read.body.data.relationships?.lists?.links.related).toBe(
      `${base}/api/profiles/${created.id}/lists/`,
    );
    expect(emulator.state.profiles.get(created.id)?.attributes.first_name).toBe("Sarah");
  });

  it("answers 409 duplicate_profile with the first profile's id, for email, phone and external id", async () => {
    const first = await createProfile({
      email: "dup@example.com",
      phone_number: "+15005550001",
      external_id: "ext-1",
    });
    for (const attributes of [
      { email: "dup@example.com" },
      { email: "DUP@example.com" },
      { phone_number: "+15005550001" },
      { external_id: "ext-1", first_name: "Other" },
    ]) {
      const { status, error } = await fails("POST", "/api/profiles", profileBody(attributes));
      expect(status).toBe(409);
      expect(error).toMatchObject({
        code: "duplicate_profile",
        title: "Conflict.",
        detail: "A profile already exists with one of these identifiers.",
        source: { pointer: "/data/attributes" },
        meta: { duplicate_profile_id: first.id },
      });
    }
    expect(emulator.state.profiles.size).toBe(1);
  });

  it("needs an identifier and checks email syntax and E.164 numbers", async () => {
    const none = await fails("POST", "/api/profiles", profileBody({ first_name: "Nobody" }));
    expect(none.status).toBe(400);
    expect(none.error.source).toEqual({ pointer: "/data/attributes" });
    const email = await fails("POST", "/api/profiles", profileBody({ email: "not-an-address" }));
    expect([email.status, email.error.source]).toEqual([400, { pointer: "/data/attributes/email" }]);
    const phone = await fails("POST", "/api/profiles", profileBody({ phone_number: "555-0100" }));
    expect([phone.status, phone.error.source]).toEqual([400, { pointer: "/data/attributes/phone_number" }]);
    expect(emulator.state.profiles.size).toBe(0);
  });

  it("refuses unknown attributes with a pointer, and a wrong type with 409", async () => {
    const unknown = await fails(
      "POST",
      "/api/profiles",
      profileBody({ email: "a@example.com", nickname: "A" }),
    );
    expect(unknown.status).toBe(400);
    expect(unknown.error.source).toEqual({ pointer: "/data/attributes" });
    expect(unknown.error.detail).toContain("nickname");
    const wrongType = await fails("POST", "/api/profiles", {
      data: { type: "list", attributes: { email: "a@example.com" } },
    });
    expect(wrongType.status).toBe(409);
    expect(wrongType.error).toMatchObject({ code: "conflict", source: { pointer: "/data/type" } });
  });

  it("adds subscriptions and predictive_analytics when additional-fields asks", async () => {
    const res = await call<Doc>("POST", "/api/profiles", profileBody({ email: "extra@example.com" }), {
      "additional-fields[profile]": "subscriptions,predictive_analytics",
    });
    expect(res.status).toBe(201);
    const { subscriptions, predictive_analytics } = res.body.data.attributes as {
      subscriptions: { email: { marketing: Json }; sms: { marketing: Json } };
      predictive_analytics: Json;
    };
    expect(subscriptions.email.marketing).toMatchObject({
      consent: "NEVER_SUBSCRIBED",
      can_receive_email_marketing: true,
    });
    expect(subscriptions.sms.marketing).toMatchObject({
      consent: "NEVER_SUBSCRIBED",
      can_receive_sms_marketing: false,
    });
    expect(predictive_analytics).toMatchObject({ historic_number_of_orders: 0, predicted_clv: null });
    const plain = await call<Doc>("GET", `/api/profiles/${res.body.data.id}`);
    expect(plain.body.data.attributes).not.toHaveProperty("subscriptions");
  });
});

describe("GET /api/profiles/{id}", () => {
  it("is 404 naming an unknown id", async () => {
    const { status, error } = await fails("GET", "/api/profiles/01JAFS0VVWGJFE7QE4EJQBA5AS");
    expect(status).toBe(404);
    expect(error.code).toBe("not_found");
    expect(error.detail).toContain("01JAFS0VVWGJFE7QE4EJQBA5AS");
  });

  it("include=lists gives the profile's lists as relationship data and included resources", async () => {
    const profile = await createProfile({ email: "member@example.com" });
    const list = await call<Doc>("POST", "/api/lists", {
      data: { type: "list", attributes: { name: "VIP" } },
    });
    await call("POST", `/api/lists/${list.body.data.id}/relationships/profiles`, {
      data: [{ type: "profile", id: profile.id }],
    });
    const res = await call<Doc>("GET", `/api/profiles/${profile.id}`, undefined, {
      include: "lists,segments",
    });
    expect(res.body.data.relationships?.lists?.data).toEqual([{ type: "list", id: list.body.data.id }]);
    expect(res.body.data.relationships?.segments?.data).toEqual([]);
    expect(res.body.included?.map((r) => [r.type, r.id, r.attributes.name])).toEqual([
      ["list", list.body.data.id, "VIP"],
    ]);
    const lists = await call<Collection>("GET", `/api/profiles/${profile.id}/lists`);
    expect(lists.body.data.map((l) => l.id)).toEqual([list.body.data.id]);
    const ids = await call<Collection>("GET", `/api/profiles/${profile.id}/relationships/lists`);
    expect(ids.body.data).toEqual([{ type: "list", id: list.body.data.id }]);
  });

  it("applies sparse fieldsets, reaching into subscriptions", async () => {
    const profile = await createProfile({ email: "sparse@example.com", first_name: "Sparse" });
    const res = await call<Doc>("GET", `/api/profiles/${profile.id}`, undefined, {
      "fields[profile]": "first_name,subscriptions.email.marketing.consent",
      "additional-fields[profile]": "subscriptions",
    });
    expect(res.body.data.attributes).toEqual({
      first_name: "Sparse",
      subscriptions: { email: { marketing: { consent: "NEVER_SUBSCRIBED" } } },
    });
  });
});

describe("PATCH /api/profiles/{id}", () => {
  const patch = (id: string, attributes: Json, meta?: Json) => ({
    data: { type: "profile", id, attributes, ...(meta ? { meta } : {}) },
  });

  it("keeps absent attributes, clears null ones, merges location and properties", async () => {
    const profile = await createProfile({
      email: "patch@example.com",
      first_name: "Pat",
      last_name: "Ch",
      title: "Engineer",
      location: { city: "Boston", region: "MA" },
      properties: { plan: "gold", visits: 3 },
    });
    const res = await call<Doc>(
      "PATCH",
      `/api/profiles/${profile.id}`,
      patch(profile.id, {
        first_name: "Patricia",
        title: null,
        location: { city: "Austin" },
        properties: { visits: 4 },
      }),
    );
    expect(res.status).toBe(200);
    const read = await call<Doc>("GET", `/api/profiles/${profile.id}`);
    expect(read.body.data.attributes).toMatchObject({
      email: "patch@example.com",
      first_name: "Patricia",
      last_name: "Ch",
      title: null,
      location: { city: "Austin", region: "MA" },
      properties: { plan: "gold", visits: 4 },
    });
    expect(String(read.body.data.attributes.updated) >= String(profile.attributes.updated)).toBe(true);
  });

  it("meta.patch_properties appends, unappends and unsets", async () => {
    const profile = await createProfile({
      email: "props@example.com",
      properties: { skus: ["1", "2"], old: true, keep: 1 },
    });
    await call(
      "PATCH",
      `/api/profiles/${profile.id}`,
      patch(
        profile.id,
        {},
        {
          patch_properties: { append: { skus: "3", tags: "new" }, unappend: { skus: "1" }, unset: ["old"] },
        },
      ),
    );
    const read = await call<Doc>("GET", `/api/profiles/${profile.id}`);
    expect(read.body.data.attributes.properties).toEqual({ skus: ["2", "3"], tags: ["new"], keep: 1 });
  });

  it("409 duplicate_profile when a changed identifier belongs to another profile; the profile is unchanged", async () => {
    const first = await createProfile({ email: "first@example.com" });
    const second = await createProfile({ email: "second@example.com" });
    const { status, error } = await fails(
      "PATCH",
      `/api/profiles/${second.id}`,
      patch(second.id, { email: "first@example.com", first_name: "X" }),
    );
    expect(status).toBe(409);
    expect(error).toMatchObject({ code: "duplicate_profile", meta: { duplicate_profile_id: first.id } });
    expect(emulator.state.profiles.get(second.id)?.attributes).toMatchObject({
      email: "second@example.com",
      first_name: null,
    });
    // Its own identifier again is no conflict.
    expect(
      (await call("PATCH", `/api/profiles/${second.id}`, patch(second.id, { email: "second@example.com" })))
        .status,
    ).toBe(200);
  });

  it("checks the body's id, type and the profile's last identifier", async () => {
    const profile = await createProfile({ email: "ids@example.com" });
    const other = await fails(
      "PATCH",
      `/api/profiles/${profile.id}`,
      patch("01JAFS0VVWGJFE7QE4EJQBA5AS", { first_name: "A" }),
    );
    expect([other.status, other.error.source]).toEqual([400, { pointer: "/data/id" }]);
    const type = await fails("PATCH", `/api/profiles/${profile.id}`, {
      data: { type: "list", id: profile.id, attributes: {} },
    });
    expect([type.status, type.error.code]).toEqual([409, "conflict"]);
    const last = await fails("PATCH", `/api/profiles/${profile.id}`, patch(profile.id, { email: null }));
    expect(last.status).toBe(400);
    const missing = await fails(
      "PATCH",
      "/api/profiles/01JAFS0VVWGJFE7QE4EJQBA5AS",
      patch("01JAFS0VVWGJFE7QE4EJQBA5AS", {}),
    );
    expect(missing.status).toBe(404);
  });
});

describe("GET /api/profiles", () => {
  async function seed(count: number): Promise<Resource[]> {
    const out: Resource[] = [];
    for (let i = 0; i < count; i++) {
      out.push(
        await createProfile({ email: `p${String(i).padStart(2, "0")}@example.com`, external_id: `ext-${i}` }),
      );
    }
    return out;
  }

  it("pages 20 by default, up to 100, and a walk sees every profile once, even with creations mid-walk", async () => {
    const made = await seed(45);
    const first = await call<Collection>("GET", "/api/profiles");
    expect(first.body.data).toHaveLength(20);
    expect(first.body.links.next).toMatch(/^http:\/\/klaviyo\.emulator\.local\/api\/profiles\?/);
    const seen: string[] = [];
    let added = 0;
    for await (const page of client.paginate<Resource>({
      method: "GET",
      path: "/api/profiles",
      pageSize: 7,
    })) {
      seen.push(...page.data.map((p) => p.id));
      if (added < 3) {
        made.push(await createProfile({ email: `late${added++}@example.com` }));
      }
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(made.map((p) => p.id));
    const tooBig = await fails("GET", "/api/profiles", undefined, { "page[size]": 101 });
    expect([tooBig.status, tooBig.error.source]).toEqual([400, { parameter: "page[size]" }]);
  });

  it("filters by equals, any and created, and sorts", async () => {
    const made = await seed(5);
    const byEmail = await call<Collection>("GET", "/api/profiles", undefined, {
      filter: "equals(email,'p03@example.com')",
    });
    expect(byEmail.body.data.map((p) => p.id)).toEqual([made[3]?.id]);
    const anyId = await call<Collection>("GET", "/api/profiles", undefined, {
      filter: `any(id,['${made[1]?.id}','${made[4]?.id}'])`,
    });
    expect(anyId.body.data.map((p) => p.id)).toEqual([made[1]?.id, made[4]?.id]);
    const ext = await call<Collection>("GET", "/api/profiles", undefined, {
      filter: "equals(external_id,['ext-0','ext-2'])",
    });
    expect(ext.body.data.map((p) => p.attributes.external_id)).toEqual(["ext-0", "ext-2"]);
    const later = await call<Collection>("GET", "/api/profiles", undefined, {
      filter: "greater-than(created,2000-01-01T00:00:00Z)",
    });
    expect(later.body.data).toHaveLength(5);
    const none = await call<Collection>("GET", "/api/profiles", undefined, {
      filter: "less-than(created,2000-01-01T00:00:00Z)",
    });
    expect(none.body.data).toHaveLength(0);
    const sorted = await call<Collection>("GET", "/api/profiles", undefined, { sort: "-email" });
    expect(sorted.body.data.map((p) => p.attributes.email)).toEqual([
      "p04@example.com",
      "p03@example.com",
      "p02@example.com",
      "p01@example.com",
      "p00@example.com",
    ]);
  });

  it("a bad filter or sort is 400 naming the parameter", async () => {
    const field = await fails("GET", "/api/profiles", undefined, { filter: "equals(first_name,'Sarah')" });
    expect([field.status, field.error.source]).toEqual([400, { parameter: "filter" }]);
    const syntax = await fails("GET", "/api/profiles", undefined, { filter: "equals(email," });
    expect([syntax.status, syntax.error.source]).toEqual([400, { parameter: "filter" }]);
    const sort = await fails("GET", "/api/profiles", undefined, { sort: "first_name" });
    expect([sort.status, sort.error.source]).toEqual([400, { parameter: "sort" }]);
  });
});
