import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_SCOPES } from "../../src/actions/connections.js";
import { type AnyAction, actionContext, validateInputs } from "../../src/actions/define.js";
import { bulkImportProfiles, runAction } from "../../src/actions/index.js";
import { KlaviyoClient } from "../../src/core/client.js";
import { FakeClock } from "../../src/core/clock.js";
import { createEmulator } from "../../src/emulator/index.js";
import { RequestBuilder } from "../../src/ingest/engine.js";
import { importCheckedProfiles } from "../../src/ingest/index.js";
import { type ImportItem, importRules } from "../../src/ingest/profile-import.js";
import {
  type ImportProfile,
  importErrorPositions,
  importJobBody,
} from "../../src/ingest/profile-import-records.js";
import { checkedFetch } from "../helpers/contract.js";
import { ACTION_KEY, refused } from "./helpers.js";

const emulator = createEmulator({ apiKeys: [{ key: ACTION_KEY }], rateLimits: "off" });
const sent: Request[] = [];
/** A client on virtual time: the polls' waits cost nothing; every request and answer held against the document. */
function clientOn(clock = new FakeClock(Date.now()), maxRetries?: number) {
  const checked = checkedFetch(emulator.fetch);
  return new KlaviyoClient({
    apiKey: ACTION_KEY,
    baseUrl: emulator.baseUrl,
    rateLimiter: false,
    clock,
    ...(maxRetries !== undefined ? { retry: { maxRetries } } : {}),
    fetch: (input, init) => {
      sent.push(new Request(input, init));
      return checked(input, init);
    },
  });
}
const client = clientOn();
const run = (inputs: Record<string, unknown>) =>
  runAction("bulk-import-profiles", inputs as never, { client }) as Promise<Result>;

interface JobReport {
  from: number;
  to: number;
  items: number;
  status: string;
  id?: string;
  job_status?: string;
  total_count?: number;
  completed_count?: number;
  failed_count?: number;
  errors?: Array<{ index: number | null; code?: string; detail?: string }>;
  error?: string;
}
interface Result {
  total: number;
  accepted: number;
  rejected: Array<{ index: number; reason: string }>;
  failed: number[];
  unsent: number[];
  complete: boolean;
  requests: JobReport[];
}

const byEmail = (email: string) =>
  [...emulator.state.profiles.values()].find((p) => p.attributes.email === email);
const operations = (from: number) =>
  sent.slice(from).map((r) => `${r.method} ${new URL(r.url).pathname.replace(/\/[0-9A-Z]{26}/, "/{id}")}`);

beforeEach(() => {
  emulator.reset();
});

describe("Bulk Import Profiles", () => {
  it("creates and updates by identifier (absent attributes kept), adds them to the list, and reports the job", async () => {
    const list = (await runAction("create-list", { listName: "Imported" }, { client })) as {
      data: { id: string };
    };
    await runAction(
      "create-profile",
      { email: "ada@example.com", firstName: "Ada", title: "Countess" },
      { client },
    );
    const before = sent.length;
    const result = await run({
      profiles: [
        { email: "ada@example.com", last_name: "Lovelace", properties: { plan: "gold" } },
        { type: "profile", attributes: { phone_number: "+15005550006", external_id: "crm-2" } },
        { email: "grace@example.com", location: { city: "Arlington", latitude: 38.88 } },
      ],
      listId: list.data.id,
    });
    expect(result).toMatchObject({
      total: 3,
      accepted: 3,
      rejected: [],
      failed: [],
      unsent: [],
      complete: true,
    });
    expect(result.requests).toEqual([
      expect.objectContaining({
        from: 0,
        to: 3,
        items: 3,
        status: "accepted",
        id: expect.any(String),
        job_status: "complete",
        total_count: 3,
        completed_count: 3,
        failed_count: 0,
        errors: [],
      }),
    ]);
    // Create, then polled through processing to complete; no errors to read.
    expect(operations(before)).toEqual([
      "POST /api/profile-bulk-import-jobs",
      "GET /api/profile-bulk-import-jobs/{id}",
      "GET /api/profile-bulk-import-jobs/{id}",
    ]);
    expect(byEmail("ada@example.com")?.attributes).toMatchObject({
      first_name: "Ada",
      title: "Countess",
      last_name: "Lovelace",
      properties: { plan: "gold" },
    });
    expect(emulator.state.profiles.size).toBe(3);
    expect(emulator.state.memberships.get(list.data.id)?.size).toBe(3);
  });

  it("refuses bad profiles before anything is sent, naming each by its position from 0", async () => {
    const before = sent.length;
    const error = await refused(
      run({
        profiles: [
          { email: "fine@example.com" },
          { first_name: "No identifier" },
          { email: "not-an-email" },
          { phone_number: "555-1234" },
          { email: "x@example.com", nickname: "X" },
          "sarah@example.com",
        ],
      }),
    );
    expect(error.issues.map((i) => i.label)).toEqual(["Profiles"]);
    const problems = error.issues[0]?.message.split("; ");
    expect(problems).toEqual([
      expect.stringMatching(/^item 1: needs an identifier/),
      expect.stringMatching(/^item 2: email "not-an-email" is not an email address/),
      expect.stringMatching(/^item 3: phone_number "555-1234" is not in E.164 format/),
      expect.stringMatching(/^item 4: unknown member "nickname"/),
      expect.stringMatching(/^item 5: must be a profile object/),
    ]);
    await refused(run({ profiles: [] }));
    await refused(run({ profiles: [{ email: "a@example.com" }], listId: "a b" }));
    await refused(run({ profiles: [{ email: "a@example.com" }], waitTimeout: 0 }));
    await refused(run({ profiles: [{ email: "a@example.com", properties: { big: "x".repeat(100_001) } }] }));
    expect(sent.length).toBe(before);
  });

  it("maps Klaviyo's import errors back to input positions; the rest accepted", async () => {
    await runAction("create-profile", { email: "grace@example.com", externalId: "crm-grace" }, { client });
    const result = await run({
      profiles: [
        { email: "one@example.com" },
        { email: "two@example.com" },
        // Found by email; the external ID it would take belongs to grace: Klaviyo does not import it.
        { email: "one@example.com", external_id: "crm-grace" },
        { email: "three@example.com" },
      ],
    });
    expect(result).toMatchObject({ total: 4, accepted: 3, failed: [], unsent: [], complete: false });
    expect(result.rejected).toEqual([
      { index: 2, reason: expect.stringMatching(/already exists.*\(duplicate_profile\)/) },
    ]);
    expect(result.requests[0]).toMatchObject({
      failed_count: 1,
      completed_count: 3,
      errors: [{ index: 2, code: "duplicate_profile" }],
    });
  });

  it("places import errors by pointer or by payload, a repeated profile at its own position, an unknown one at none", () => {
    const profiles: ImportProfile[] = [
      { type: "profile", attributes: { email: "a@example.com" } },
      { type: "profile", attributes: { email: "b@example.com", first_name: "B" } },
      { type: "profile", attributes: { email: "a@example.com" } },
      { type: "profile", attributes: { external_id: "x-1", first_name: "Old" } },
    ];
    const positions = [10, 11, 12, 13];
    const error = (pointer: string, payload?: Record<string, unknown>) => ({
      attributes: { code: "invalid", detail: "no", source: { pointer }, original_payload: payload ?? null },
    });
    const placed = importErrorPositions(
      [
        error("/data/attributes/profiles/data/1/attributes/email"),
        error("/data/attributes/email", { email: "a@example.com" }),
        error("/data/attributes/email", { email: "a@example.com" }),
        error("/data/attributes/first_name", { external_id: "x-1", first_name: "New" }),
        error("/data/attributes/email", {
          type: "profile",
          attributes: { email: "b@example.com", first_name: "B" },
        }),
        error("/data", { email: "nobody@example.com" }),
      ],
      profiles,
      positions,
    );
    expect(placed.map((p) => p.index)).toEqual([11, 10, 12, 13, 11, null]);
  });

  it("chunks any profiles into jobs under 10,000 profiles and 5 MB, every position in exactly one job, in order", () => {
    const big = (n: number) => "x".repeat(n);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 22_000 }),
        fc.array(fc.record({ at: fc.nat(), bytes: fc.integer({ min: 1, max: 99_800 }) }), { maxLength: 150 }),
        (count, heavy) => {
          const padding = new Map<number, string>();
          for (const h of heavy) padding.set(h.at % count, big(h.bytes));
          const builder = new RequestBuilder(importRules());
          const jobs: ImportItem[][] = [];
          const positions: number[] = [];
          const collect = (done: readonly { members: Array<{ position: number; value: ImportItem }> }[]) => {
            for (const batch of done) {
              jobs.push(batch.members.map((m) => m.value));
              positions.push(...batch.members.map((m) => m.position));
            }
          };
          for (let i = 0; i < count; i++) {
            const pad = padding.get(i);
            const profile: ImportProfile = {
              type: "profile",
              attributes: { email: `p${i}@example.com`, ...(pad ? { properties: { pad } } : {}) },
            };
            collect(builder.push({ position: i, value: { profile, raw: profile } }));
          }
          collect(builder.end());
          expect(positions).toEqual(Array.from({ length: count }, (_, i) => i));
          for (const job of jobs) {
            expect(job.length).toBeGreaterThan(0);
            expect(job.length).toBeLessThanOrEqual(10_000);
            const body = JSON.stringify(
              importJobBody(
                job.map((j) => j.profile),
                "Y6nRLr",
              ),
            );
            expect(Buffer.byteLength(body)).toBeLessThanOrEqual(5_000_000);
          }
          // Jobs are full: no two neighbours could have been one.
          const heavyCount = padding.size;
          if (heavyCount === 0) expect(jobs).toHaveLength(Math.ceil(count / 10_000));
        },
      ),
      { numRuns: 25 },
    );
  });

  it("splits 10,001 profiles by count, and ~5.4 MB of profiles by bytes; the emulator takes every job", async () => {
    const many = Array.from({ length: 10_001 }, (_, i) => ({ email: `m${i}@example.com` }));
    const counted = await run({ profiles: many });
    expect(counted).toMatchObject({ total: 10_001, accepted: 10_001, complete: true });
    expect(counted.requests.map((r) => [r.from, r.to, r.items])).toEqual([
      [0, 10_000, 10_000],
      [10_000, 10_001, 1],
    ]);
    emulator.reset();
    const pad = "y".repeat(90_000);
    const heavy = Array.from({ length: 60 }, (_, i) => ({ email: `h${i}@example.com`, properties: { pad } }));
    const weighed = await run({ profiles: heavy });
    expect(weighed).toMatchObject({ total: 60, accepted: 60, complete: true });
    expect(weighed.requests.length).toBe(2);
    expect(weighed.requests.every((r) => r.items < 60 && r.status === "accepted")).toBe(true);
    expect(emulator.state.profiles.size).toBe(60);
  });

  it("a job whose end is not seen in time: its profiles failed with the job id; jobs not yet created unsent", async () => {
    const clock = new FakeClock(Date.now());
    const slow = clientOn(clock);
    const profiles = Array.from({ length: 5 }, (_, i) => ({
      type: "profile" as const,
      attributes: { email: `t${i}@example.com` },
    }));
    const result = await importCheckedProfiles(slow, profiles, {
      batchSize: 2,
      concurrency: 1,
      deadline: clock.now() + 400,
    });
    // The first job is created and read once (processing) before the deadline; the others are never created.
    expect(result).toMatchObject({
      total: 5,
      accepted: 0,
      failed: [0, 1],
      unsent: [2, 3, 4],
      complete: false,
    });
    expect(result.requests[0]).toMatchObject({
      status: "accepted",
      job_status: "processing",
      id: expect.any(String),
      error: expect.stringMatching(/still processing when the wait for it ended/),
    });
    expect(result.requests.slice(1).map((r) => r.status)).toEqual(["unsent", "unsent"]);
    expect(emulator.state.profileImportJobs.size).toBe(1);
  });

  it("a job that cannot be read is failed (re-importing is safe); a refused key stops the rest, reported unsent", async () => {
    const profiles = Array.from({ length: 4 }, (_, i) => ({
      type: "profile" as const,
      attributes: { email: `f${i}@example.com` },
    }));
    const noRetry = clientOn(new FakeClock(Date.now()), 0);
    emulator.setFaults([{ kind: "500", probability: 1, operation: "get_bulk_import_profiles_job" }]);
    try {
      const result = await importCheckedProfiles(noRetry, profiles, { batchSize: 2, concurrency: 1 });
      expect(result).toMatchObject({
        total: 4,
        accepted: 0,
        failed: [0, 1, 2, 3],
        unsent: [],
        complete: false,
      });
      expect(result.requests.map((r) => r.error)).toEqual([
        expect.stringMatching(/^the job was created, but its end could not be read/),
        expect.stringMatching(/^the job was created, but its end could not be read/),
      ]);
    } finally {
      emulator.setFaults([]);
    }
    const refusedKey = new KlaviyoClient({
      apiKey: "pk_not_known_00000000000000000000",
      baseUrl: emulator.baseUrl,
      rateLimiter: false,
      fetch: emulator.fetch,
    });
    const stopped = await importCheckedProfiles(refusedKey, profiles, { batchSize: 2, concurrency: 1 });
    expect(stopped).toMatchObject({ accepted: 0, failed: [], unsent: [0, 1, 2, 3] });
    expect(stopped.requests.map((r) => r.httpStatus)).toEqual([401, undefined]);
  });

  it("names the job's reads among its operations, so their scopes join the defaults", () => {
    expect(bulkImportProfiles.alsoCalls).toEqual([
      "get_bulk_import_profiles_job",
      "get_errors_for_bulk_import_profiles_job",
    ]);
    for (const scope of ["profiles:write", "lists:write", "profiles:read", "lists:read"])
      expect(DEFAULT_SCOPES.split(" ")).toContain(scope);
    expect(bulkImportProfiles.description).toMatch(/Needs the profiles:write scope[^.]*\.$/);
  });

  it("takes its inputs as text too (the CLI, the platforms)", async () => {
    const values = validateInputs(
      bulkImportProfiles,
      { profiles: '[{"email":"text@example.com"}]', waitTimeout: "60" },
      { text: true },
    );
    const action = bulkImportProfiles as AnyAction;
    const result = (await action.perform(actionContext(action, client), values)) as Result;
    expect(result).toMatchObject({ total: 1, accepted: 1, complete: true });
  });
});
