import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KlaviyoClient } from "../../src/core/client.js";
import type { QueryInput } from "../../src/core/url.js";
import { createEmulator } from "../../src/emulator/index.js";
import type { HttpMethod } from "../../src/klaviyo/operations.js";
import { checkedFetch, expectNoContractProblems } from "../helpers/contract.js";
import { openApiAvailable } from "../helpers/openapi.js";
import type { KlaviyoErrorEntry } from "./helpers.js";

const KEY = "pk_lists_test_000000000000000000000";
/** The real time, moved on by `skip` where a test needs distinct seconds (Klaviyo's times are whole seconds). */
const clock = { skipped: 0, now: () => Date.now() + clock.skipped };
const emulator = createEmulator({ apiKeys: [{ key: KEY }], rateLimits: "off", clock });
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
const client = clientWith(true);
/** Sends bodies the document forbids on purpose (responses are still checked). */
const loose = clientWith(false);

type Json = Record<string, unknown>;
interface Resource {
  type: string;
  id: string;
  attributes: Json;
  relationships?: Record<string, { data?: unknown[]; links: { self: string; related: string } }>;
  links: { self: string };
}
interface Doc {
  data: Resource;
  included?: Resource[];
}
interface Collection {
  data: Resource[];
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
  return { status: res.status, error };
}

async function createList(name: string, opt_in_process?: string): Promise<Resource> {
  const res = await call<Doc>("POST", "/api/lists", {
    data: { type: "list", attributes: { name, ...(opt_in_process ? { opt_in_process } : {}) } },
  });
  expect(res.status).toBe(201);
  return res.body.data;
}

let profileCounter = 0;
async function createProfiles(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await call<Doc>("POST", "/api/profiles", {
      data: { type: "profile", attributes: { email: `member${profileCounter++}@example.com` } },
    });
    ids.push(res.body.data.id);
  }
  return ids;
}

const members = (ids: string[]) => ({ data: ids.map((id) => ({ type: "profile", id })) });
const addMembers = async (listId: string, ids: string[]) =>
  (await call("POST", `/api/lists/${listId}/relationships/profiles`, members(ids))).status;

async function walk(
  path: string,
  query: Record<string, string> = {},
  pageSize = 3,
  during?: () => Promise<void>,
) {
  const seen: Resource[] = [];
  for await (const page of client.paginate<Resource>({ method: "GET", path, query, pageSize })) {
    seen.push(...page.data);
    await during?.();
  }
  return seen;
}

beforeEach(() => emulator.reset());
afterEach(() => {
  if (contract) expectNoContractProblems();
});

describe("lists", () => {
  it("creates a list (single opt-in by default) that reads back, with relationship links", async () => {
    const list = await createList("Newsletter");
    expect(list.id).toMatch(/^[A-Za-z0-9]{6}$/);
    expect(list.attributes).toMatchObject({ name: "Newsletter", opt_in_process: "single_opt_in" });
    const read = await call<Doc>("GET", `/api/lists/${list.id}`);
    expect(read.body.data.attributes).toEqual(list.attributes);
    expect(read.body.data.links.self).toBe(`${base}/api/lists/${list.id}/`);
    expect(read.body.data.relationships?.profiles?.links).toEqual({
      self: `${base}/api/lists/${list.id}/relationships/profiles/`,
      related: `${base}/api/lists/${list.id}/profiles/`,
    });
    expect((await createList("Confirmed", "double_opt_in")).attributes.opt_in_process).toBe("double_opt_in");
  });

  it("refuses a list without a name, with an unknown attribute, or of the wrong type", async () => {
    const noName = await fails("POST", "/api/lists", { data: { type: "list", attributes: {} } });
    expect([noName.status, noName.error.source]).toEqual([400, { pointer: "/data/attributes/name" }]);
    const blank = await fails("POST", "/api/lists", { data: { type: "list", attributes: { name: "  " } } });
    expect([blank.status, blank.error.source]).toEqual([400, { pointer: "/data/attributes/name" }]);
    const badOptIn = await fails("POST", "/api/lists", {
      data: { type: "list", attributes: { name: "A", opt_in_process: "triple" } },
    });
    expect([badOptIn.status, badOptIn.error.source]).toEqual([
      400,
      { pointer: "/data/attributes/opt_in_process" },
    ]);
    const type = await fails("POST", "/api/lists", { data: { type: "segment", attributes: { name: "A" } } });
    expect([type.status, type.error.code, type.error.source]).toEqual([
      409,
      "conflict",
      { pointer: "/data/type" },
    ]);
    expect(emulator.state.lists.size).toBe(0);
  });

  it("profile_count counts members, only when additional-fields asks", async () => {
    const list = await createList("Counted");
    const ids = await createProfiles(4);
    expect(await addMembers(list.id, ids)).toBe(204);
    expect(await addMembers(list.id, ids.slice(0, 2))).toBe(204);
    const counted = await call<Doc>("GET", `/api/lists/${list.id}`, undefined, {
      "additional-fields[list]": "profile_count",
    });
    expect(counted.body.data.attributes.profile_count).toBe(4);
    const plain = await call<Doc>("GET", `/api/lists/${list.id}`);
    expect(plain.body.data.attributes).not.toHaveProperty("profile_count");
    await call("DELETE", `/api/lists/${list.id}/relationships/profiles`, members([ids[0] as string]));
    const after = await call<Doc>("GET", `/api/lists/${list.id}`, undefined, {
      "additional-fields[list]": "profile_count",
      "fields[list]": "profile_count",
    });
    expect(after.body.data.attributes).toEqual({ profile_count: 3 });
  });

  it("updates with PATCH semantics and deletes (memberships go too)", async () => {
    const list = await createList("Old name");
    const [profile] = await createProfiles(1);
    await addMembers(list.id, [profile as string]);
    const patched = await call<Doc>("PATCH", `/api/lists/${list.id}`, {
      data: { type: "list", id: list.id, attributes: { name: "New name" } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.data.attributes).toMatchObject({ name: "New name", opt_in_process: "single_opt_in" });
    const optIn = await call<Doc>("PATCH", `/api/lists/${list.id}`, {
      data: { type: "list", id: list.id, attributes: { opt_in_process: "double_opt_in" } },
    });
    expect(optIn.body.data.attributes).toMatchObject({ name: "New name", opt_in_process: "double_opt_in" });
    const wrongId = await fails("PATCH", `/api/lists/${list.id}`, {
      data: { type: "list", id: "AbC123", attributes: {} },
    });
    expect([wrongId.status, wrongId.error.source]).toEqual([400, { pointer: "/data/id" }]);
    expect((await call("DELETE", `/api/lists/${list.id}`)).status).toBe(204);
    expect(emulator.state.memberships.has(list.id)).toBe(false);
    const gone = await fails("GET", `/api/lists/${list.id}`);
    expect([gone.status, gone.error.code]).toEqual([404, "not_found"]);
    expect(gone.error.detail).toContain(list.id);
    expect((await fails("DELETE", `/api/lists/${list.id}`)).status).toBe(404);
    const lists = await call<Collection>("GET", `/api/profiles/${profile}/lists`);
    expect(lists.body.data).toEqual([]);
  });

  it("Get Lists pages 10 at most, filters and sorts; bad ones are 400 naming the parameter", async () => {
    const made: Resource[] = [];
    for (const name of [
      "Charlie",
      "Alpha",
      "Bravo",
      "Delta",
      "Echo",
      "Foxtrot",
      "Golf",
      "Hotel",
      "India",
      "Juliet",
      "Kilo",
      "Lima",
    ]) {
      made.push(await createList(name));
    }
    const first = await call<Collection>("GET", "/api/lists");
    expect(first.body.data).toHaveLength(10);
    expect(first.body.links.next).toBeDefined();
    const all = await walk("/api/lists", {}, 10);
    expect(all.map((l) => l.id)).toEqual(made.map((l) => l.id));
    expect((await fails("GET", "/api/lists", undefined, { "page[size]": 11 })).error.source).toEqual({
      parameter: "page[size]",
    });
    const byName = await call<Collection>("GET", "/api/lists", undefined, {
      filter: "equals(name,['Bravo','Kilo'])",
    });
    expect(byName.body.data.map((l) => l.attributes.name)).toEqual(["Bravo", "Kilo"]);
    const byId = await call<Collection>("GET", "/api/lists", undefined, {
      filter: `equals(id,'${made[2]?.id}')`,
    });
    expect(byId.body.data.map((l) => l.id)).toEqual([made[2]?.id]);
    const sorted = await walk("/api/lists", { sort: "-name" }, 5);
    expect(sorted.map((l) => l.attributes.name)).toEqual([
      "Lima",
      "Kilo",
      "Juliet",
      "India",
      "Hotel",
      "Golf",
      "Foxtrot",
      "Echo",
      "Delta",
      "Charlie",
      "Bravo",
      "Alpha",
    ]);
    const badFilter = await fails("GET", "/api/lists", undefined, { filter: "contains(name,'a')" });
    expect([badFilter.status, badFilter.error.source]).toEqual([400, { parameter: "filter" }]);
    const badSort = await fails("GET", "/api/lists", undefined, { sort: "opt_in_process" });
    expect([badSort.status, badSort.error.source]).toEqual([400, { parameter: "sort" }]);
  });
});

describe("list members", () => {
  it("serves members in joining order with joined_group_at, every one exactly once while members join mid-walk", async () => {
    const list = await createList("Big");
    const ids = await createProfiles(23);
    // Joined in an order unlike creation order.
    const order = [...ids].reverse();
    for (const id of order) await addMembers(list.id, [id]);
    const late = await createProfiles(4);
    let next = 0;
    const seen = await walk(`/api/lists/${list.id}/profiles`, {}, 5, async () => {
      if (next < late.length) await addMembers(list.id, [late[next++] as string]);
    });
    expect(seen.map((p) => p.id)).toEqual([...order, ...late]);
    expect(seen[0]?.attributes.joined_group_at).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT/));
    expect(seen[0]?.attributes.email).toBe(emulator.state.profiles.get(order[0] as string)?.attributes.email);
  });

  it("a member leaving mid-walk does not make the walk skip anyone else", async () => {
    const list = await createList("Leaving");
    const ids = await createProfiles(12);
    await addMembers(list.id, ids);
    let removed = false;
    const seen = await walk(`/api/lists/${list.id}/profiles`, {}, 4, async () => {
      if (!removed) {
        removed = true;
        await call(
          "DELETE",
          `/api/lists/${list.id}/relationships/profiles`,
          members([ids[0] as string, ids[1] as string]),
        );
      }
    });
    expect(seen.map((p) => p.id)).toEqual(ids);
  });

  it("filters by email and joined_group_at, sorts by joined_group_at, and refuses other fields", async () => {
    const list = await createList("Filtered");
    const ids = await createProfiles(3);
    for (const id of ids) {
      await addMembers(list.id, [id]);
      // Distinct joining times (whole seconds), so the descending sort is not decided by the tie-break.
      clock.skipped += 1000;
    }
    const [a, , c] = ids.map((id) => emulator.state.profiles.get(id)?.attributes.email as string);
    const byEmail = await call<Collection>("GET", `/api/lists/${list.id}/profiles`, undefined, {
      filter: `any(email,['${a}','${c}'])`,
    });
    expect(byEmail.body.data.map((p) => p.attributes.email)).toEqual([a, c]);
    const joined = await call<Collection>("GET", `/api/lists/${list.id}/profiles`, undefined, {
      filter: "greater-or-equal(joined_group_at,2000-01-01T00:00:00Z)",
      sort: "-joined_group_at",
    });
    expect(joined.body.data.map((p) => p.id)).toEqual([...ids].reverse());
    const bad = await fails("GET", `/api/lists/${list.id}/profiles`, undefined, {
      filter: "equals(first_name,'A')",
    });
    expect([bad.status, bad.error.source]).toEqual([400, { parameter: "filter" }]);
    const badSort = await fails("GET", `/api/lists/${list.id}/profiles`, undefined, { sort: "email" });
    expect([badSort.status, badSort.error.source]).toEqual([400, { parameter: "sort" }]);
    expect((await fails("GET", "/api/lists/AbC123/profiles")).status).toBe(404);
  });

  it("relationships: ids only, adding twice keeps the first joining time, unknown profiles are 404", async () => {
    const list = await createList("Rel");
    const ids = await createProfiles(2);
    await addMembers(list.id, ids);
    const joinedBefore = emulator.state.memberships.get(list.id)?.get(ids[0] as string);
    await addMembers(list.id, [ids[0] as string]);
    expect(emulator.state.memberships.get(list.id)?.get(ids[0] as string)).toBe(joinedBefore);
    const rel = await call<Collection>("GET", `/api/lists/${list.id}/relationships/profiles`);
    expect(rel.body.data).toEqual(ids.map((id) => ({ type: "profile", id })));
    const unknown = await fails(
      "POST",
      `/api/lists/${list.id}/relationships/profiles`,
      members(["01JAFS0VVWGJFE7QE4EJQBA5AS"]),
    );
    expect([unknown.status, unknown.error.source]).toEqual([404, { pointer: "/data/0/id" }]);
    const wrongType = await fails("POST", `/api/lists/${list.id}/relationships/profiles`, {
      data: [{ type: "list", id: list.id }],
    });
    expect([wrongType.status, wrongType.error.source]).toEqual([409, { pointer: "/data/0/type" }]);
    const noList = await fails("POST", "/api/lists/AbC123/relationships/profiles", members(ids));
    expect(noList.status).toBe(404);
  });
});
