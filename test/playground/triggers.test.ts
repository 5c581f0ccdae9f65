/**
 * The playground's triggers over real HTTP: the catalogue, polls of the platforms' triggers on the embedded
 * emulator (items from a Look-back Date; none at first without one, then exactly the change made since; errors
 * by label), the pickers, the same token and Host checks as runs, and no credential in any answer. Against a
 * remote server a poll keeps the feed's horizon behind now.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmulator, DEV_API_KEY } from "../../src/emulator/index.js";
import { TRIGGERS } from "../../src/platforms/triggers.js";
import type { TriggerCatalogue, TriggerPoll } from "../../src/playground/contract.js";
import { type Playground, startPlayground } from "../../src/playground/server.js";

interface Answer {
  status: number;
  body: string;
  json: <T = unknown>() => T;
}

/** Every answer, to search for the key. */
const answers: Answer[] = [];

function call(
  pg: Playground,
  path: string,
  options: { method?: string; body?: unknown; token?: string | null; host?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token !== null) headers["x-playground-token"] = options.token ?? pg.token;
  if (options.host) headers.host = options.host;
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  if (body !== undefined) headers["content-type"] = "application/json";
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port: pg.port, path, method: options.method ?? "GET", headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const answer = { status: res.statusCode ?? 0, body: text, json: <T>() => JSON.parse(text) as T };
          answers.push(answer);
          resolve(answer);
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function poll(
  pg: Playground,
  key: string,
  inputs: Record<string, unknown>,
  state?: unknown,
): Promise<TriggerPoll> {
  const answer = await call(pg, "/api/triggers/poll", {
    method: "POST",
    body: { key, inputs, state: state ?? null },
  });
  expect(answer.status).toBe(200);
  return answer.json<TriggerPoll>();
}

async function run(pg: Playground, action: string, inputs: Record<string, unknown>) {
  const answer = await call(pg, "/api/run", { method: "POST", body: { action, inputs } });
  expect(answer.status).toBe(200);
  const result = answer.json<{ ok: boolean; output?: { data?: { id?: string } } }>();
  expect(result.ok).toBe(true);
  return result;
}

/** Waits into the next whole second (Klaviyo's times are whole seconds; the emulator's horizon is 0). */
const nextSecond = () => new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 60));

const anHourAgo = () => new Date(Date.now() - 3_600_000).toISOString();

const PROFILES = "new-and-updated-profiles";

describe("triggers in the playground, on the embedded emulator", () => {
  let pg: Playground;

  beforeAll(async () => {
    pg = await startPlayground({ port: 0, emulator: true });
  });
  afterAll(() => pg.close());

  it("lists the triggers with their inputs, and a horizon of 0", async () => {
    const catalogue = (await call(pg, "/api/triggers")).json<TriggerCatalogue>();
    expect(catalogue.horizonSeconds).toBe(0);
    expect(catalogue.triggers.map((t) => t.key)).toEqual(TRIGGERS.map((t) => t.key));
    const profiles = catalogue.triggers.find((t) => t.key === PROFILES);
    expect(profiles).toMatchObject({ label: "New and Updated Profiles", stream: "profiles" });
    expect(profiles?.description).toBeTruthy();
    expect(profiles?.inputs).toEqual([
      expect.objectContaining({
        key: "lookBackDate",
        label: "Look-back Date",
        type: "date",
        required: false,
      }),
      expect.objectContaining({ key: "showNewRecords", type: "boolean", default: true }),
      expect.objectContaining({ key: "showUpdatedRecords", type: "boolean", default: true }),
    ]);
    const list = catalogue.triggers.find((t) => t.key === "profile-added-to-list");
    expect(list?.inputs[0]).toMatchObject({ key: "listId", label: "List", required: true, picker: "lists" });
  });

  it("polls New and Updated Profiles from a Look-back Date: the demo's profiles, then nothing again", async () => {
    const first = await poll(pg, PROFILES, { lookBackDate: anHourAgo() });
    expect(first.ok).toBe(true);
    expect(first.trigger).toBe(PROFILES);
    expect(first.more).toBe(false);
    expect(first.changes).toHaveLength(24);
    expect(first.changes.every((c) => c.change === "created" && c.record.type === "profile")).toBe(true);
    expect(new Set(first.changes.map((c) => c.record.id)).size).toBe(24);
    expect(first.changes[0]?.record.attributes?.email).toMatch(/@example\.com$/);
    // The wire, recorded as runs are: the profiles read, the key masked.
    expect(first.exchanges.length).toBeGreaterThan(0);
    for (const exchange of first.exchanges) {
      expect(new URL(exchange.request.url).pathname).toBe("/api/profiles");
      expect(exchange.request.headers.authorization).toBe("Klaviyo-API-Key pk_…****");
    }
    const again = await poll(pg, PROFILES, { lookBackDate: anHourAgo() }, first.state);
    expect(again.ok).toBe(true);
    expect(again.changes).toEqual([]);
    // Show New Records off: none of them (they were all created since the date).
    const updatedOnly = await poll(pg, PROFILES, { lookBackDate: anHourAgo(), showNewRecords: "false" });
    expect(updatedOnly.ok).toBe(true);
    expect(updatedOnly.changes).toEqual([]);
  });

  it("without a Look-back Date, delivers nothing at first, then exactly the profile made since, once", async () => {
    await nextSecond();
    const first = await poll(pg, PROFILES, {});
    expect(first.ok).toBe(true);
    expect(first.changes).toEqual([]);
    const email = `trigger.${Date.now()}@example.com`;
    const created = await run(pg, "create-profile", { email, firstName: "Ada" });
    const id = created.output?.data?.id;
    expect(id).toBeTruthy();
    await nextSecond();
    const second = await poll(pg, PROFILES, {}, first.state);
    expect(second.ok).toBe(true);
    expect(second.changes.map((c) => [c.change, c.record.id, c.record.attributes?.email])).toEqual([
      ["created", id, email],
    ]);
    expect(second.changes[0]?.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const third = await poll(pg, PROFILES, {}, second.state);
    expect(third.changes).toEqual([]);
    // A change to it comes as an update.
    await run(pg, "update-profile", { profileId: id, lastName: "Lovelace" });
    await nextSecond();
    const fourth = await poll(pg, PROFILES, {}, third.state);
    expect(fourth.changes.map((c) => [c.change, c.record.id, c.record.attributes?.last_name])).toEqual([
      ["updated", id, "Lovelace"],
    ]);
  });

  it("offers the lists by picker, and polls Profile Added to List for one", async () => {
    const picked = await call(pg, "/api/pickers/lists");
    expect(picked.status).toBe(200);
    const { options } = picked.json<{ options: Array<{ label: string; value: string }> }>();
    expect(options.map((o) => o.label).sort()).toEqual(["Back in Stock", "Newsletter", "VIP Customers"]);
    expect((await call(pg, "/api/pickers/nothing")).status).toBe(404);
    const vip = options.find((o) => o.label === "VIP Customers")?.value;
    const joined = await poll(pg, "profile-added-to-list", { listId: vip, lookBackDate: anHourAgo() });
    expect(joined.ok).toBe(true);
    expect(joined.changes).toHaveLength(6);
    expect(joined.changes.every((c) => c.change === "joined")).toBe(true);
  });

  it("reports bad inputs by label, and refuses an unknown trigger or a malformed body", async () => {
    const noList = await poll(pg, "profile-added-to-list", {});
    expect(noList.ok).toBe(false);
    expect(noList.changes).toEqual([]);
    expect(noList.error?.name).toBe("InputValidationError");
    expect(noList.error?.issues).toEqual([expect.objectContaining({ key: "listId", label: "List" })]);
    const badDate = await poll(pg, PROFILES, { lookBackDate: "last tuesday" });
    expect(badDate.ok).toBe(false);
    expect(badDate.error?.issues?.[0]).toMatchObject({ key: "lookBackDate", label: "Look-back Date" });
    const badState = await poll(pg, PROFILES, {}, { checkpoint: { v: 9 } });
    expect(badState.ok).toBe(false);
    expect(badState.error?.message).toBeTruthy();
    const unknown = await call(pg, "/api/triggers/poll", {
      method: "POST",
      body: { key: "nope", inputs: {} },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.json()).toEqual({ error: 'unknown trigger "nope"' });
    const noKey = await call(pg, "/api/triggers/poll", { method: "POST", body: { inputs: {} } });
    expect(noKey.status).toBe(400);
    const listInputs = await call(pg, "/api/triggers/poll", {
      method: "POST",
      body: { key: PROFILES, inputs: [] },
    });
    expect(listInputs.status).toBe(400);
  });

  it("takes the token and the Host of runs", async () => {
    for (const path of ["/api/triggers", "/api/pickers/lists"]) {
      expect((await call(pg, path, { token: null })).status).toBe(403);
      expect((await call(pg, path, { token: "wrong" })).status).toBe(403);
      expect((await call(pg, path, { host: "evil.example:80" })).status).toBe(403);
    }
    const poll = { method: "POST", body: { key: PROFILES, inputs: {} } };
    expect((await call(pg, "/api/triggers/poll", { ...poll, token: null })).status).toBe(403);
    expect((await call(pg, "/api/triggers/poll", { ...poll, host: `attacker.test:${pg.port}` })).status).toBe(
      403,
    );
  });

  it("never answers with the API key", () => {
    expect(answers.length).toBeGreaterThan(15);
    for (const answer of answers) expect(answer.body).not.toContain(DEV_API_KEY);
  });
});

describe("triggers in the playground, connected with an API key", () => {
  const KEY = "pk_triggerCanary_0a1b2c3d4e5f6a7b";
  let pg: Playground;

  beforeAll(async () => {
    const emulator = createEmulator({ apiKeys: [{ key: KEY }], rateLimits: "off", seed: "demo" });
    pg = await startPlayground({
      port: 0,
      apiKey: KEY,
      baseUrl: emulator.baseUrl,
      client: { fetch: emulator.fetch },
    });
  });
  afterAll(() => pg.close());

  it("keeps the feed's horizon behind now, and never lets the key out", async () => {
    const mine: Answer[] = [];
    const catalogue = await call(pg, "/api/triggers");
    mine.push(catalogue);
    expect(catalogue.json<TriggerCatalogue>().horizonSeconds).toBe(30);
    const before = Date.now();
    const answer = await call(pg, "/api/triggers/poll", {
      method: "POST",
      body: { key: PROFILES, inputs: { lookBackDate: anHourAgo() }, state: null },
    });
    mine.push(answer);
    const result = answer.json<TriggerPoll>();
    expect(result.ok).toBe(true);
    // The walk stops 30 seconds behind now: the demo's profiles, made a few seconds ago, wait for a later poll.
    const url = decodeURIComponent(result.exchanges[0]?.request.url ?? "");
    const upper = Date.parse(/less-than\(updated,([^)]+)\)/.exec(url)?.[1] ?? "");
    expect(Math.abs(before - 30_000 - upper)).toBeLessThan(2_000);
    expect(result.changes).toEqual([]);
    expect(result.exchanges[0]?.request.headers.authorization).toBe("Klaviyo-API-Key pk_…****");
    const failed = await call(pg, "/api/triggers/poll", {
      method: "POST",
      body: { key: "profile-added-to-list", inputs: { listId: `${KEY}` }, state: null },
    });
    mine.push(failed);
    mine.push(await call(pg, "/api/pickers/lists"));
    for (const a of mine) {
      expect(a.body).not.toContain(KEY);
      expect(a.body).not.toContain(KEY.slice(3));
    }
  });
});
