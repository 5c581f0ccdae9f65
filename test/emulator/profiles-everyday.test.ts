import { beforeEach, describe, expect, it } from "vitest";
import { KlaviyoClient } from "../../src/core/client.js";
import { createEmulator } from "../../src/emulator/index.js";
import { deserialize, serialize } from "../../src/emulator/snapshot.js";
import type { HttpMethod } from "../../src/klaviyo/operations.js";
import { checkedFetch, expectNoContractProblems } from "../helpers/contract.js";
import type { KlaviyoErrorEntry } from "./helpers.js";

const KEY = "pk_profiles_everyday_test_000000000";
const emulator = createEmulator({ apiKeys: [{ key: KEY }], rateLimits: "off" });
const clientWith = (requests: boolean) =>
  new KlaviyoClient({
    apiKey: KEY,
    baseUrl: emulator.baseUrl,
    fetch: checkedFetch(emulator.fetch, { requests }),
    rateLimiter: false,
    retry: { maxRetries: 0 },
  });
const client = clientWith(true);
/** Sends bodies the document forbids on purpose (responses are still checked). */
const loose = clientWith(false);

type Json = Record<string, unknown>;
interface Doc {
  data: { id: string; type: string; attributes: Json; relationships?: Json };
}

async function call<T = Json>(method: HttpMethod, path: string, body?: unknown, c = client) {
  const res = await c.request<T>({ method, path, ...(body ? { body } : {}), throwOnError: false });
  return { status: res.status, body: res.body };
}
const errorOf = (body: unknown) => (body as { errors: KlaviyoErrorEntry[] }).errors[0] as KlaviyoErrorEntry;

const upsert = (attributes: Json, id?: string) =>
  call<Doc>("POST", "/api/profile-import", { data: { type: "profile", ...(id ? { id } : {}), attributes } });

async function event(who: string | Json, name: string, uniqueId: string) {
  const res = await call("POST", "/api/events", {
    data: {
      type: "event",
      attributes: {
        properties: {},
        unique_id: uniqueId,
        metric: { data: { type: "metric", attributes: { name } } },
        profile: { data: { type: "profile", attributes: typeof who === "string" ? { email: who } : who } },
      },
    },
  });
  expect(res.status).toBe(202);
}

async function listWith(...profileIds: string[]): Promise<string> {
  const list = await call<Doc>("POST", "/api/lists", { data: { type: "list", attributes: { name: "L" } } });
  if (profileIds.length > 0) {
    const added = await call("POST", `/api/lists/${list.body.data.id}/relationships/profiles`, {
      data: profileIds.map((id) => ({ type: "profile", id })),
    });
    expect(added.status).toBe(204);
  }
  return list.body.data.id;
}

const marketingOf = (id: string) =>
  ((emulator.state.profiles.get(id)?.subscriptions.email as Json | undefined)?.marketing ?? {}) as Json;

beforeEach(() => {
  emulator.reset();
});

describe("POST /api/profile-import", () => {
  it("201 with a new profile, then 200 updating it: absent attributes kept, null clears, properties merged", async () => {
    const made = await upsert({
      email: "ada@example.com",
      first_name: "Ada",
      title: "T",
      properties: { a: 1 },
    });
    expect(made.status).toBe(201);
    const again = await upsert({ email: "ADA@example.com", title: null, properties: { b: 2 } });
    expect(again.status).toBe(200);
    expect(again.body.data.id).toBe(made.body.data.id);
    // Found by its email, compared case-insensitively.
    expect(again.body.data.attributes).toMatchObject({
      first_name: "Ada",
      title: null,
      properties: { a: 1, b: 2 },
    });
    expect(emulator.state.profiles.size).toBe(1);
  });

  it("finds by id, by phone number or by external ID; meta.patch_properties applies", async () => {
    const made = await upsert({ external_id: "x-1", properties: { tags: ["a"] } });
    const byId = await call<Doc>("POST", "/api/profile-import", {
      data: {
        type: "profile",
        id: made.body.data.id,
        attributes: { phone_number: "+15005550006" },
        meta: { patch_properties: { append: { tags: "b" } } },
      },
    });
    expect(byId.status).toBe(200);
    expect(byId.body.data.attributes.properties).toEqual({ tags: ["a", "b"] });
    expect((await upsert({ phone_number: "+15005550006", first_name: "P" })).status).toBe(200);
    expect((await upsert({ external_id: "x-1", last_name: "Q" })).body.data.attributes).toMatchObject({
      first_name: "P",
      last_name: "Q",
    });
  });

  it("409 duplicate_profile naming the other profile when identifiers belong to two; nothing changes", async () => {
    const one = await upsert({ email: "one@example.com" });
    const two = await upsert({ phone_number: "+15005550006" });
    const clash = await upsert({ email: "one@example.com", phone_number: "+15005550006", first_name: "Z" });
    expect(clash.status).toBe(409);
    const error = errorOf(clash.body);
    expect(error.code).toBe("duplicate_profile");
    expect(error.meta.duplicate_profile_id).toBe(two.body.data.id);
    expect(emulator.state.profiles.get(one.body.data.id)?.attributes.first_name).toBeNull();
  });

  it("400 without an identifier or with a bad email; 404 for an unknown id", async () => {
    const none = await upsert({ first_name: "Nobody" });
    expect(none.status).toBe(400);
    expect(errorOf(none.body).source.pointer).toBe("/data/attributes");
    const bad = await upsert({ email: "not-an-address" });
    expect(errorOf(bad.body).source.pointer).toBe("/data/attributes/email");
    const unknown = await upsert({ email: "u@example.com" }, "01GDDKASAP8TKDDA2GRZDSVP4H");
    expect(unknown.status).toBe(404);
    expect(emulator.state.profiles.size).toBe(0);
  });
});

describe("POST /api/profile-merge", () => {
  it("201; the source is gone, its events, list memberships and missing identifiers pass to the destination", async () => {
    const keep = await upsert({ email: "keep@example.com", properties: { plan: "gold" } });
    const source = await upsert({
      email: "old@example.com",
      phone_number: "+15005550006",
      first_name: "Old",
      properties: { plan: "free", pets: 2 },
    });
    const keepId = keep.body.data.id;
    const sourceId = source.body.data.id;
    await event("old@example.com", "Viewed Product", "e1");
    await event("keep@example.com", "Viewed Product", "e2");
    const listId = await listWith(sourceId);

    const res = await call<Doc>("POST", "/api/profile-merge", {
      data: {
        type: "profile-merge",
        id: keepId,
        relationships: { profiles: { data: [{ type: "profile", id: sourceId }] } },
      },
    });
    expect(res.status).toBe(201);
    expect(res.body.data).toEqual({
      type: "profile",
      id: keepId,
      links: { self: expect.stringContaining(keepId) },
    });
    expect(emulator.state.profiles.get(sourceId)).toBeUndefined();
    expect(emulator.state.profiles.get(keepId)?.attributes).toMatchObject({
      email: "keep@example.com",
      phone_number: "+15005550006",
      first_name: "Old",
      properties: { plan: "gold", pets: 2 },
    });
    expect([...emulator.state.events.values()].map((e) => e.profileId)).toEqual([keepId, keepId]);
    expect(emulator.state.memberships.get(listId)?.has(keepId)).toBe(true);
    expect(emulator.state.memberships.get(listId)?.has(sourceId)).toBe(false);
    // The source's identifiers now find the destination; the source's id is gone.
    const found = await call<{ data: Array<{ id: string }> }>(
      "GET",
      `/api/profiles?filter=${encodeURIComponent("equals(phone_number,'+15005550006')")}`,
    );
    expect(found.body.data.map((p) => p.id)).toEqual([keepId]);
    expect((await call("GET", `/api/profiles/${sourceId}`)).status).toBe(404);
    // A repeated event of the source's, now the destination's (found by the phone number it took over), is
    // still de-duplicated.
    await event({ phone_number: "+15005550006" }, "Viewed Product", "e1");
    expect(emulator.state.events.size).toBe(2);
    // The destination kept its own email address: the source's is free again.
    expect((await upsert({ email: "old@example.com" })).status).toBe(201);
  });

  it("400 for several sources or the destination itself, 404 for an unknown profile, 409 for a wrong type", async () => {
    const a = (await upsert({ email: "a@example.com" })).body.data.id;
    const b = (await upsert({ email: "b@example.com" })).body.data.id;
    const merge = (id: string, sources: string[], type = "profile") =>
      call("POST", "/api/profile-merge", {
        data: {
          type: "profile-merge",
          id,
          relationships: { profiles: { data: sources.map((s) => ({ type, id: s })) } },
        },
      });
    expect((await merge(a, [b, b])).status).toBe(400);
    expect((await merge(a, [a])).status).toBe(400);
    const unknown = await merge(a, ["01GDDKASAP8TKDDA2GRZDSVP4H"]);
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown.body).source.pointer).toBe("/data/relationships/profiles/data/0/id");
    expect((await merge("01GDDKASAP8TKDDA2GRZDSVP4H", [a])).status).toBe(404);
    const wrongType = await call(
      "POST",
      "/api/profile-merge",
      {
        data: {
          type: "profile-merge",
          id: a,
          relationships: { profiles: { data: [{ type: "list", id: b }] } },
        },
      },
      loose,
    );
    expect(wrongType.status).toBe(409);
    expect(emulator.state.profiles.size).toBe(2);
  });
});

describe("POST /api/data-privacy-deletion-jobs", () => {
  const job = (profile: Json) =>
    call("POST", "/api/data-privacy-deletion-jobs", {
      data: {
        type: "data-privacy-deletion-job",
        attributes: { profile: { data: { type: "profile", ...profile } } },
      },
    });

  it("202 and the profile is gone at once, with its events and list memberships", async () => {
    const gone = (await upsert({ email: "gone@example.com" })).body.data.id;
    const stays = (await upsert({ email: "stays@example.com" })).body.data.id;
    await event("gone@example.com", "Opened Email", "g1");
    await event("stays@example.com", "Opened Email", "s1");
    const listId = await listWith(gone, stays);
    const res = await job({ attributes: { email: "gone@example.com" } });
    expect(res.status).toBe(202);
    expect(res.body).toBeNull();
    expect(emulator.state.profiles.get(gone)).toBeUndefined();
    expect([...emulator.state.events.values()].map((e) => e.profileId)).toEqual([stays]);
    expect([...(emulator.state.memberships.get(listId)?.keys() ?? [])]).toEqual([stays]);
    // The address is free again: a new profile may take it.
    expect((await upsert({ email: "gone@example.com" })).status).toBe(201);
  });

  it("by id or phone number; an identifier nobody holds is accepted and deletes nothing", async () => {
    const byId = (await upsert({ external_id: "x" })).body.data.id;
    const byPhone = (await upsert({ phone_number: "+15005550009" })).body.data.id;
    expect((await job({ id: byId, attributes: {} })).status).toBe(202);
    expect((await job({ attributes: { phone_number: "+15005550009" } })).status).toBe(202);
    expect(emulator.state.profiles.get(byId)).toBeUndefined();
    expect(emulator.state.profiles.get(byPhone)).toBeUndefined();
    const kept = (await upsert({ email: "kept@example.com" })).body.data.id;
    expect((await job({ attributes: { email: "nobody@example.com" } })).status).toBe(202);
    expect(emulator.state.profiles.get(kept)).toBeDefined();
  });

  it("400 for no identifier or two of them", async () => {
    const kept = (await upsert({ email: "kept@example.com" })).body.data.id;
    expect((await job({ attributes: {} })).status).toBe(400);
    const two = await job({ attributes: { email: "kept@example.com", phone_number: "+15005550006" } });
    expect(two.status).toBe(400);
    expect(errorOf(two.body).source.pointer).toBe("/data/attributes/profile/data/attributes/phone_number");
    expect(emulator.state.profiles.get(kept)).toBeDefined();
  });
});

describe("bulk suppression jobs", () => {
  const CREATE = "/api/profile-suppression-bulk-create-jobs";
  const DELETE = "/api/profile-suppression-bulk-delete-jobs";
  const emails = (path: string, list: string[]) =>
    call<Doc>("POST", path, {
      data: {
        type: path === CREATE ? "profile-suppression-bulk-create-job" : "profile-suppression-bulk-delete-job",
        attributes: { profiles: { data: list.map((email) => ({ type: "profile", attributes: { email } })) } },
      },
    });

  it("202 with the job queued; reads move it to processing, then complete with its counts", async () => {
    await upsert({ email: "a@example.com" });
    const res = await emails(CREATE, ["a@example.com", "new@example.com"]);
    expect(res.status).toBe(202);
    expect(res.body.data).toMatchObject({
      type: "profile-suppression-bulk-create-job",
      attributes: { status: "queued", total_count: 2, completed_count: 0, completed_at: null },
    });
    const id = res.body.data.id;
    const read = () => call<Doc>("GET", `${CREATE}/${id}`);
    expect((await read()).body.data.attributes.status).toBe("processing");
    const done = (await read()).body.data.attributes;
    expect(done).toMatchObject({ status: "complete", completed_count: 2, skipped_count: 0 });
    expect(typeof done.completed_at).toBe("string");
    expect((await read()).body.data.attributes.status).toBe("complete");
    // The unknown address got a profile, suppressed.
    const created = [...emulator.state.profiles.values()].find(
      (p) => p.attributes.email === "new@example.com",
    );
    expect(marketingOf(created?.id ?? "").suppression).toEqual([
      { reason: "USER_SUPPRESSED", timestamp: res.body.data.attributes.created_at },
    ]);
    // Suppressing again changes nothing and is counted as skipped.
    const again = await emails(CREATE, ["a@example.com"]);
    const againId = again.body.data.id;
    await call("GET", `${CREATE}/${againId}`);
    expect((await call<Doc>("GET", `${CREATE}/${againId}`)).body.data.attributes).toMatchObject({
      completed_count: 0,
      skipped_count: 1,
    });
    // The jobs' list, filtered by status; a suppress job is not an unsuppress job.
    const listed = await call<{ data: Array<{ id: string }> }>(
      "GET",
      `${CREATE}?filter=${encodeURIComponent("equals(status,'complete')")}`,
    );
    expect(listed.body.data.map((j) => j.id)).toEqual([id, againId]);
    expect((await call("GET", `${DELETE}/${id}`)).status).toBe(404);
  });

  it("the suppression shows on the profile and in the profiles filter; unsuppress lifts USER_SUPPRESSED only", async () => {
    const plain = (await upsert({ email: "plain@example.com" })).body.data.id;
    const unsubscribed = (await upsert({ email: "unsub@example.com" })).body.data.id;
    const bounced = (await upsert({ email: "bounce@example.com" })).body.data.id;
    const row = emulator.state.profiles.get(bounced);
    if (row)
      row.subscriptions = {
        email: {
          marketing: { suppression: [{ reason: "HARD_BOUNCE", timestamp: "2026-01-01T00:00:00+00:00" }] },
        },
      };
    const unsub = await call("POST", "/api/profile-subscription-bulk-delete-jobs", {
      data: {
        type: "profile-subscription-bulk-delete-job",
        attributes: {
          profiles: {
            data: [
              {
                type: "profile",
                attributes: {
                  email: "unsub@example.com",
                  subscriptions: { email: { marketing: { consent: "UNSUBSCRIBED" } } },
                },
              },
            ],
          },
        },
      },
    });
    expect(unsub.status).toBe(202);
    const all = ["plain@example.com", "unsub@example.com", "bounce@example.com"];
    expect((await emails(CREATE, all)).status).toBe(202);
    const doc = await call<Doc>("GET", `/api/profiles/${plain}?additional-fields[profile]=subscriptions`);
    const marketing = ((doc.body.data.attributes.subscriptions as Json).email as Json).marketing as Json;
    expect(marketing.suppression).toEqual([{ reason: "USER_SUPPRESSED", timestamp: expect.any(String) }]);
    expect(marketing.can_receive_email_marketing).toBe(false);
    const filtered = await call<{ data: Array<{ id: string }> }>(
      "GET",
      `/api/profiles?filter=${encodeURIComponent("equals(subscriptions.email.marketing.suppression.reason,'USER_SUPPRESSED')")}`,
    );
    expect(filtered.body.data.map((p) => p.id)).toEqual([plain]);

    const lifted = await emails(DELETE, [...all, "stranger@example.com"]);
    expect(lifted.status).toBe(202);
    const jobId = lifted.body.data.id;
    await call("GET", `${DELETE}/${jobId}`);
    expect((await call<Doc>("GET", `${DELETE}/${jobId}`)).body.data.attributes).toMatchObject({
      status: "complete",
      total_count: 4,
      completed_count: 3,
      skipped_count: 1,
    });
    expect(marketingOf(plain).suppression).toEqual([]);
    expect(marketingOf(unsubscribed).suppression).toEqual([
      expect.objectContaining({ reason: "UNSUBSCRIBE" }),
    ]);
    expect(marketingOf(unsubscribed).consent).toBe("UNSUBSCRIBED");
    expect(marketingOf(bounced).suppression).toEqual([expect.objectContaining({ reason: "HARD_BOUNCE" })]);
    // No profile was made for the stranger.
    expect(
      [...emulator.state.profiles.values()].some((p) => p.attributes.email === "stranger@example.com"),
    ).toBe(false);
  });

  it("a whole list in one job; the job names its list", async () => {
    const a = (await upsert({ email: "a@example.com" })).body.data.id;
    const b = (await upsert({ email: "b@example.com" })).body.data.id;
    const outside = (await upsert({ email: "c@example.com" })).body.data.id;
    const listId = await listWith(a, b);
    const res = await call<Doc>("POST", CREATE, {
      data: {
        type: "profile-suppression-bulk-create-job",
        attributes: {},
        relationships: { list: { data: { type: "list", id: listId } } },
      },
    });
    expect(res.status).toBe(202);
    expect(res.body.data.attributes.total_count).toBe(2);
    expect(res.body.data.relationships?.lists).toMatchObject({ data: [{ type: "list", id: listId }] });
    expect(marketingOf(a).suppression).toHaveLength(1);
    expect(marketingOf(b).suppression).toHaveLength(1);
    expect(marketingOf(outside).suppression ?? []).toEqual([]);
    const byList = await call<{ data: Array<{ id: string }> }>(
      "GET",
      `${CREATE}?filter=${encodeURIComponent(`equals(list_id,'${listId}')`)}`,
    );
    expect(byList.body.data.map((j) => j.id)).toEqual([res.body.data.id]);
  });

  it("400 for more than 100 addresses, a bad address, or emails and a list together; 404 for an unknown list", async () => {
    const many = Array.from({ length: 101 }, (_, i) => `m${i}@example.com`);
    expect((await emails(CREATE, many)).status).toBe(400);
    const bad = await emails(CREATE, ["ok@example.com", "nope"]);
    expect(bad.status).toBe(400);
    expect(errorOf(bad.body).source.pointer).toBe("/data/attributes/profiles/data/1/attributes/email");
    const both = await call("POST", CREATE, {
      data: {
        type: "profile-suppression-bulk-create-job",
        attributes: { profiles: { data: [{ type: "profile", attributes: { email: "x@example.com" } }] } },
        relationships: { list: { data: { type: "list", id: "Y6nRLr" } } },
      },
    });
    expect(both.status).toBe(400);
    const unknown = await call("POST", CREATE, {
      data: {
        type: "profile-suppression-bulk-create-job",
        attributes: {},
        relationships: { list: { data: { type: "list", id: "Y6nRLr" } } },
      },
    });
    expect(unknown.status).toBe(404);
    expect(emulator.state.profiles.size).toBe(0);
    expect(emulator.state.suppressionJobs.size).toBe(0);
  });

  it("jobs survive a snapshot", async () => {
    const res = await emails(CREATE, ["s@example.com"]);
    const copy = deserialize(JSON.parse(JSON.stringify(serialize(emulator.state))));
    expect(copy.suppressionJobs.get(res.body.data.id)?.attributes.status).toBe("queued");
    expectNoContractProblems();
  });
});
