import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KlaviyoClient } from "../../src/core/client.js";
import { createEmulator } from "../../src/emulator/index.js";
import type { HttpMethod } from "../../src/klaviyo/operations.js";
import { checkedFetch, expectNoContractProblems } from "../helpers/contract.js";
import { openApiAvailable } from "../helpers/openapi.js";
import type { KlaviyoErrorEntry } from "./helpers.js";

const KEY = "pk_bulk_import_test_000000000000000";
const emulator = createEmulator({ apiKeys: [{ key: KEY }], rateLimits: "off" });
const contract = openApiAvailable();
const clientWith = (requests: boolean) =>
  new KlaviyoClient({
    apiKey: KEY,
    baseUrl: emulator.baseUrl,
    fetch: contract ? checkedFetch(emulator.fetch, { requests }) : emulator.fetch,
    rateLimiter: false,
    retry: { maxRetries: 0 },
  });
const client = clientWith(true);
/** Sends bodies the document forbids on purpose (responses are still checked). */
const loose = clientWith(false);

type Json = Record<string, unknown>;
interface JobDoc {
  data: {
    type: string;
    id: string;
    attributes: Json;
    relationships: { lists: { data: Array<{ id: string }> }; [k: string]: unknown };
  };
  included?: Array<{ type: string; id: string }>;
}
interface ErrorsDoc {
  data: Array<{ type: string; id: string; attributes: Json }>;
  links?: { next?: string | null };
}

const JOBS = "/api/profile-bulk-import-jobs";

async function call<T = Json>(
  method: HttpMethod,
  path: string,
  body?: unknown,
  query?: Record<string, string>,
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

function importJob(profiles: Json[], list?: string) {
  return {
    data: {
      type: "profile-bulk-import-job",
      attributes: { profiles: { data: profiles.map((attributes) => ({ type: "profile", attributes })) } },
      ...(list ? { relationships: { lists: { data: [{ type: "list", id: list }] } } } : {}),
    },
  };
}

async function createList(name: string): Promise<string> {
  const res = await call<{ data: { id: string } }>("POST", "/api/lists", {
    data: { type: "list", attributes: { name } },
  });
  return res.body.data.id;
}

const byEmail = (email: string) =>
  [...emulator.state.profiles.values()].find(
    (p) => String(p.attributes.email).toLowerCase() === email.toLowerCase(),
  );

beforeEach(() => emulator.reset());
afterEach(() => {
  if (contract) expectNoContractProblems();
});

describe("Bulk Import Profiles jobs", () => {
  it("answers 202 with the job queued; reads move it to processing, then complete with its counts", async () => {
    const created = await call<JobDoc>(
      "POST",
      JOBS,
      importJob([{ email: "ada@example.com" }, { email: "grace@example.com" }]),
    );
    expect(created.status).toBe(202);
    expect(created.body.data.type).toBe("profile-bulk-import-job");
    expect(created.body.data.attributes).toMatchObject({
      status: "queued",
      total_count: 2,
      started_at: null,
    });
    const id = created.body.data.id;

    const first = await call<JobDoc>("GET", `${JOBS}/${id}`);
    expect(first.status).toBe(200);
    expect(first.body.data.attributes.status).toBe("processing");
    expect(first.body.data.attributes.started_at).toEqual(expect.any(String));
    expect(first.body.data.attributes.completed_at).toBeNull();

    const second = await call<JobDoc>("GET", `${JOBS}/${id}`);
    expect(second.body.data.attributes).toMatchObject({
      status: "complete",
      total_count: 2,
      completed_count: 2,
      failed_count: 0,
    });
    expect(second.body.data.attributes.completed_at).toEqual(expect.any(String));
    // Complete stays complete.
    const third = await call<JobDoc>("GET", `${JOBS}/${id}`);
    expect(third.body.data.attributes.status).toBe("complete");

    const errors = await call<ErrorsDoc>("GET", `${JOBS}/${id}/import-errors`);
    expect(errors.body.data).toEqual([]);
    const jobs = await call<{ data: Array<{ id: string }> }>("GET", JOBS, undefined, {
      filter: "equals(status,'complete')",
      sort: "-created_at",
    });
    expect(jobs.body.data.map((j) => j.id)).toEqual([id]);
    const queued = await call<{ data: unknown[] }>("GET", JOBS, undefined, {
      filter: "equals(status,'queued')",
    });
    expect(queued.body.data).toEqual([]);
  });

  it("creates or updates by identifier, keeping absent attributes, and adds every imported profile to the list", async () => {
    const list = await createList("Imported");
    await call("POST", "/api/profiles", {
      data: {
        type: "profile",
        attributes: {
          email: "ada@example.com",
          first_name: "Ada",
          last_name: "Byron",
          properties: { plan: "gold" },
        },
      },
    });
    const created = await call<JobDoc>(
      "POST",
      JOBS,
      importJob(
        [
          { email: "ADA@example.com", last_name: "Lovelace", properties: { pets: 2 } },
          { external_id: "crm-1", first_name: "Grace" },
        ],
        list,
      ),
    );
    expect(created.status).toBe(202);
    expect(created.body.data.relationships.lists.data).toEqual([{ type: "list", id: list }]);
    const ada = byEmail("ada@example.com");
    expect(ada?.attributes).toMatchObject({
      first_name: "Ada",
      last_name: "Lovelace",
      properties: { plan: "gold", pets: 2 },
    });
    expect(emulator.state.profiles.size).toBe(2);
    expect(emulator.state.memberships.get(list)?.size).toBe(2);

    const id = created.body.data.id;
    const withList = await call<JobDoc>("GET", `${JOBS}/${id}`, undefined, { include: "lists" });
    expect(withList.body.included?.map((l) => [l.type, l.id])).toEqual([["list", list]]);
    const profiles = await call<{ data: Array<{ id: string }> }>("GET", `${JOBS}/${id}/profiles`);
    expect(profiles.body.data.map((p) => p.id).sort()).toEqual(
      [...emulator.state.profiles.values()].map((p) => p.id).sort(),
    );
    const ids = await call<{ data: Array<{ type: string }> }>("GET", `${JOBS}/${id}/relationships/profiles`);
    expect(ids.body.data).toHaveLength(2);
    const lists = await call<{ data: Array<{ id: string }> }>("GET", `${JOBS}/${id}/lists`);
    expect(lists.body.data.map((l) => l.id)).toEqual([list]);
    const listIds = await call<{ data: Array<{ id: string }> }>("GET", `${JOBS}/${id}/relationships/lists`);
    expect(listIds.body.data).toEqual([{ type: "list", id: list }]);
  });

  it("profiles Klaviyo refuses become import errors (the rest imported), paginated, each with its payload", async () => {
    for (const attributes of [
      { email: "held@example.com" },
      { email: "other@example.com", external_id: "crm-held" },
    ])
      await call("POST", "/api/profiles", { data: { type: "profile", attributes } });
    const profiles: Json[] = [
      { email: "ok1@example.com" },
      { email: "not-an-email" },
      { phone_number: "5551234" },
      { first_name: "Nobody" },
      // Found by its email, but the external_id it would take belongs to another profile.
      { email: "held@example.com", external_id: "crm-held" },
      ...Array.from({ length: 30 }, (_, i) => ({ email: `bad${i}@` })),
      { email: "ok3@example.com" },
    ];
    const created = await call<JobDoc>("POST", JOBS, importJob(profiles), undefined, loose);
    expect(created.status).toBe(202);
    const id = created.body.data.id;
    await call("GET", `${JOBS}/${id}`);
    const done = await call<JobDoc>("GET", `${JOBS}/${id}`);
    expect(done.body.data.attributes).toMatchObject({
      status: "complete",
      total_count: 36,
      completed_count: 2,
      failed_count: 34,
    });
    expect(byEmail("ok3@example.com")).toBeDefined();
    expect(byEmail("not-an-email")).toBeUndefined();

    const first = await call<ErrorsDoc>("GET", `${JOBS}/${id}/import-errors`, undefined, {
      "page[size]": "20",
    });
    expect(first.body.data).toHaveLength(20);
    const next = first.body.links?.next;
    expect(next).toEqual(expect.any(String));
    const cursor = new URL(next as string).searchParams.get("page[cursor]") as string;
    const second = await call<ErrorsDoc>("GET", `${JOBS}/${id}/import-errors`, undefined, {
      "page[size]": "20",
      "page[cursor]": cursor,
    });
    const errors = [...first.body.data, ...second.body.data];
    expect(errors).toHaveLength(34);
    expect(errors.every((e) => e.type === "import-error")).toBe(true);
    expect(errors.slice(0, 4).map((e) => e.attributes)).toEqual([
      {
        code: "invalid",
        title: "Invalid input.",
        detail: "Invalid email address: 'not-an-email'.",
        source: { pointer: "/data/attributes/email" },
        original_payload: { email: "not-an-email" },
      },
      expect.objectContaining({
        source: { pointer: "/data/attributes/phone_number" },
        original_payload: { phone_number: "5551234" },
      }),
      expect.objectContaining({ code: "invalid", original_payload: { first_name: "Nobody" } }),
      expect.objectContaining({
        code: "duplicate_profile",
        original_payload: { email: "held@example.com", external_id: "crm-held" },
      }),
    ]);
  });

  it("limits: 413 past 5 MB, 400 past 10,000 profiles or for a profile over 100 KB, 404 for an unknown list; nothing imported", async () => {
    const big = "x".repeat(90_000);
    const heavy = Array.from({ length: 60 }, (_, i) => ({ email: `h${i}@example.com`, properties: { big } }));
    const tooBig = await call<{ errors: KlaviyoErrorEntry[] }>("POST", JOBS, importJob(heavy));
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.errors[0]?.code).toBe("request_too_large");

    const many = Array.from({ length: 10_001 }, (_, i) => ({ email: `m${i}@example.com` }));
    const tooMany = await call<{ errors: KlaviyoErrorEntry[] }>("POST", JOBS, importJob(many));
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors[0]?.source.pointer).toBe("/data/attributes/profiles/data");

    const huge = await call<{ errors: KlaviyoErrorEntry[] }>(
      "POST",
      JOBS,
      importJob([
        { email: "a@example.com" },
        { email: "h@example.com", properties: { big: "y".repeat(100_001) } },
      ]),
    );
    expect(huge.status).toBe(400);
    expect(huge.body.errors[0]?.source.pointer).toBe("/data/attributes/profiles/data/1");

    const unknownList = await call<{ errors: KlaviyoErrorEntry[] }>(
      "POST",
      JOBS,
      importJob([{ email: "a@example.com" }], "NoSuch"),
    );
    expect(unknownList.status).toBe(404);

    const unknownMember = await call<{ errors: KlaviyoErrorEntry[] }>(
      "POST",
      JOBS,
      importJob([{ email: "a@example.com", nickname: "A" }]),
      undefined,
      loose,
    );
    expect(unknownMember.status).toBe(400);
    expect(unknownMember.body.errors[0]?.source.pointer).toMatch(/^\/data\/attributes\/profiles\/data\/0\//);

    // 10,000 profiles exactly are taken.
    const full = await call<JobDoc>("POST", JOBS, importJob(many.slice(0, 10_000)));
    expect(full.status).toBe(202);
    expect(full.body.data.attributes.total_count).toBe(10_000);
    expect(emulator.state.profiles.size).toBe(10_000);
    expect(emulator.state.profileImportJobs.size).toBe(1);
  });

  it("404 for an unknown job, on the job and its errors", async () => {
    expect((await call("GET", `${JOBS}/01NOSUCHJOB`)).status).toBe(404);
    expect((await call("GET", `${JOBS}/01NOSUCHJOB/import-errors`)).status).toBe(404);
  });
});
