import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAction } from "../../src/actions/index.js";
import { KlaviyoClient } from "../../src/core/client.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { BIN, type CliResult, requireBuild, runCli } from "../helpers/cli.js";

const KEY = "pk_cli_ingest_key_abcdef0123456789ab";
let running: RunningEmulator;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  requireBuild();
  running = await startEmulator({ apiKeys: [{ key: KEY }], rateLimits: "off" });
  dir = mkdtempSync(join(tmpdir(), "ingest-cli-"));
  env = { KLAVIYO_API_KEY: KEY, KLAVIYO_BASE_URL: running.url };
});
afterAll(async () => {
  await running?.close();
  rmSync(dir, { recursive: true, force: true });
});

function event(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    metric: "Placed Order",
    profile: { email: `cli${i % 41}@example.com` },
    properties: { n: i },
    time: "2026-02-01T10:00:00Z",
    ...extra,
  };
}

const ndjson = (items: readonly unknown[]) => `${items.map((i) => JSON.stringify(i)).join("\n")}\n`;

interface Summary {
  total: number;
  accepted: number;
  rejected: Array<{ index: number; reason: string }>;
  failed: number[];
  unsent: number[];
  complete: boolean;
  duplicates: number;
  requests?: Array<{ status: string; items: number }>;
}

const summaryOf = (res: CliResult) => JSON.parse(res.stdout) as Summary;

describe("klaviyo ingest, the real binary against the emulator on a real port", () => {
  it("events: a bad line is rejected by position, the rest recorded; summary on stdout, nothing on stderr off a terminal", async () => {
    running.emulator.reset();
    const lines = ndjson(Array.from({ length: 1500 }, (_, i) => event(i))).split("\n");
    lines[700] = "{not json";
    const file = join(dir, "bad-line.ndjson");
    writeFileSync(file, lines.join("\n"));
    const res = await runCli(["ingest", "events", file], env);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(2); // bad input, every other record accepted
    const summary = summaryOf(res);
    expect(summary).toMatchObject({ total: 1500, accepted: 1499, failed: [], unsent: [], complete: false });
    // One convention for positions: the 0-based index; the reason names no line.
    expect(summary.rejected).toEqual([{ index: 700, reason: expect.stringMatching(/^not valid JSON/) }]);
    expect(summary.requests).toBeUndefined();
    expect(running.emulator.state.events.size).toBe(1499);

    // The same file again, with the line fixed: only the fixed event is new.
    lines[700] = JSON.stringify(event(700));
    writeFileSync(file, lines.join("\n"));
    const again = await runCli(["ingest", "events", file, "--verbose"], env);
    expect(again.code).toBe(0);
    const verbose = summaryOf(again);
    expect(verbose).toMatchObject({ total: 1500, accepted: 1500, complete: true });
    expect(verbose.requests?.map((r) => [r.items, r.status])).toEqual([
      [1000, "accepted"],
      [500, "accepted"],
    ]);
    expect(running.emulator.state.events.size).toBe(1500);
  });

  it("an interrupt part-way reports the rest unsent and --unsent writes them; a re-run of that file completes the job", async () => {
    running.emulator.reset();
    running.emulator.setLatency(250);
    // Half without a time: the unsent file carries the time and unique_id they were given.
    const events = Array.from({ length: 6000 }, (_, i) => (i % 2 ? event(i, { time: undefined }) : event(i)));
    const file = join(dir, "events.json");
    writeFileSync(file, JSON.stringify(events, null, 1));
    const unsentFile = join(dir, "unsent.ndjson");
    const logged = running.emulator.requests.length;
    const child = spawn(
      process.execPath,
      [BIN, "ingest", "events", file, "--concurrency", "1", "--unsent", unsentFile],
      { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    // The first request answered (the log holds every earlier test's too): the second is on its way.
    const bulk = () =>
      running.emulator.requests.slice(logged).filter((r) => r.operationId === "bulk_create_events");
    while (bulk().length < 1) await sleep(5);
    child.kill("SIGINT");
    const code = await exited;
    running.emulator.setLatency(0);
    expect(code).toBe(1);
    expect(stderr).toMatch(/stopping: what was not sent is reported unsent/);
    const summary = JSON.parse(stdout) as Summary;
    expect(summary.total).toBe(6000);
    expect(summary.accepted).toBeGreaterThanOrEqual(1000);
    expect(summary.accepted).toBeLessThan(6000);
    expect(summary.accepted + summary.unsent.length + summary.failed.length).toBe(6000);
    expect(summary.unsent.at(-1)).toBe(5999);
    const unsentLines = readFileSync(unsentFile, "utf8").trim().split("\n");
    expect(unsentLines).toHaveLength(summary.unsent.length + summary.failed.length);

    // The re-run may write its own unsent file over the one it reads.
    const rerun = await runCli(["ingest", "events", unsentFile, "--unsent", unsentFile], env);
    expect(rerun.stderr).toBe("");
    expect(rerun.code).toBe(0);
    expect(summaryOf(rerun)).toMatchObject({
      total: unsentLines.length,
      accepted: unsentLines.length,
      complete: true,
    });
    expect(readFileSync(unsentFile, "utf8")).toBe("");
    expect(running.emulator.state.events.size).toBe(6000);
  });

  it("subscribe from standard input with --list-id (jobs of 1,000), unsubscribe from a JSON array file (jobs of 100)", async () => {
    running.emulator.reset();
    const client = new KlaviyoClient({ apiKey: KEY, baseUrl: running.url, rateLimiter: false });
    const list = (await runAction("create-list", { listName: "Ingested" }, { client })) as {
      data: { id: string };
    };
    const profiles = Array.from({ length: 2500 }, (_, i) => ({ email: `sub${i}@example.com` }));
    const sub = await runCli(
      ["ingest", "subscribe", "-", "--list-id", list.data.id, "--verbose"],
      env,
      ndjson(profiles),
    );
    expect(sub.stderr).toBe("");
    expect(sub.code).toBe(0);
    const subscribed = summaryOf(sub);
    expect(subscribed).toMatchObject({ total: 2500, accepted: 2500, complete: true });
    expect(subscribed.requests?.map((r) => r.items)).toEqual([1000, 1000, 500]);
    expect(running.emulator.state.memberships.get(list.data.id)?.size).toBe(2500);

    const file = join(dir, "unsubscribe.json");
    writeFileSync(file, JSON.stringify(profiles));
    const unsub = await runCli(["ingest", "unsubscribe", file, "--list-id", list.data.id, "--verbose"], env);
    expect(unsub.code).toBe(0);
    const unsubscribed = summaryOf(unsub);
    expect(unsubscribed).toMatchObject({ total: 2500, accepted: 2500, complete: true });
    expect(unsubscribed.requests).toHaveLength(25);
    expect(unsubscribed.requests?.every((r) => r.items === 100)).toBe(true);
  });

  it("--unsent keeps the rejected records too, their reason beside them: fixed, the same file completes the job", async () => {
    running.emulator.reset();
    const file = join(dir, "mixed.ndjson");
    const left = join(dir, "mixed-left.ndjson");
    writeFileSync(
      file,
      [
        JSON.stringify(event(1)),
        "",
        JSON.stringify(event(2, { profile: { email: "not-an-email" } })),
        "{broken",
        JSON.stringify(event(3)),
      ].join("\n"),
    );
    const res = await runCli(["ingest", "events", file, "--unsent", left], env);
    expect(res.code).toBe(2); // rejected records, every other one accepted
    const summary = summaryOf(res);
    // Positions count records from 0 (the blank line is none); reasons name no line.
    expect(summary.rejected).toEqual([
      { index: 1, reason: expect.stringMatching(/^profile email "not-an-email" is not an email address/) },
      { index: 2, reason: expect.stringMatching(/^not valid JSON/) },
    ]);
    expect(summary).toMatchObject({ total: 4, accepted: 2, failed: [], unsent: [] });
    const lines = readFileSync(left, "utf8").trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0] ?? "")).toEqual({
      _rejected: summary.rejected[0]?.reason,
      ...event(2, { profile: { email: "not-an-email" } }),
    });
    expect(lines[1]).toBe("{broken");

    // The user fixes both lines (the reason may stay: ingest ignores it) and runs the file again, over itself.
    const fixed = JSON.parse(lines[0] ?? "") as Record<string, unknown>;
    fixed.profile = { email: "fixed@example.com" };
    writeFileSync(left, `${JSON.stringify(fixed)}\n${JSON.stringify(event(4))}\n`);
    const again = await runCli(["ingest", "events", left, "--unsent", left], env);
    expect(again.code).toBe(0);
    expect(summaryOf(again)).toMatchObject({ total: 2, accepted: 2, complete: true });
    expect(readFileSync(left, "utf8")).toBe("");
    expect(running.emulator.state.events.size).toBe(4);
  });

  it("from standard input and from a JSON array, rejected records reach --unsent as well", async () => {
    running.emulator.reset();
    const left = join(dir, "stdin-left.ndjson");
    const people = [{ email: "ok@example.com" }, { email: "nope" }, { email: "fine@example.com" }];
    const sub = await runCli(["ingest", "subscribe", "-", "--unsent", left], env, ndjson(people));
    expect(sub.code).toBe(2);
    expect(summaryOf(sub).rejected.map((r) => r.index)).toEqual([1]);
    expect(
      readFileSync(left, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
    ).toEqual([{ _rejected: summaryOf(sub).rejected[0]?.reason, email: "nope" }]);
    expect(readdirSync(dir).filter((f) => f.includes(".tmp"))).toEqual([]); // the copy of stdin is gone

    const array = join(dir, "events.json");
    writeFileSync(array, JSON.stringify([event(1), { metric: "No profile" }, event(2)]));
    const res = await runCli(["ingest", "events", array, "--unsent", left], env);
    expect(res.code).toBe(2);
    const rejected = readFileSync(left, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(rejected).toEqual([{ _rejected: summaryOf(res).rejected[0]?.reason, metric: "No profile" }]);
  });

  it("profiles: imported in jobs and waited for; bad lines and Klaviyo's import errors rejected by position, kept by --unsent for a re-run", async () => {
    running.emulator.reset();
    const client = new KlaviyoClient({ apiKey: KEY, baseUrl: running.url, rateLimiter: false });
    const list = (await runAction("create-list", { listName: "Imported" }, { client })) as {
      data: { id: string };
    };
    await runAction("create-profile", { email: "held@example.com" }, { client });
    await runAction("create-profile", { email: "other@example.com", externalId: "crm-held" }, { client });
    const people = Array.from({ length: 12_000 }, (_, i) => ({
      email: `p${i}@example.com`,
      first_name: `P${i}`,
    }));
    const lines = ndjson(people).split("\n");
    lines[3] = "{not json";
    lines[5] = JSON.stringify({ first_name: "No identifier" });
    // Valid to send; Klaviyo does not import it: its email and its external ID belong to two profiles.
    lines[11_000] = JSON.stringify({ email: "held@example.com", external_id: "crm-held" });
    const file = join(dir, "people.ndjson");
    const left = join(dir, "people-left.ndjson");
    writeFileSync(file, lines.join("\n"));
    const res = await runCli(
      ["ingest", "profiles", file, "--list-id", list.data.id, "--unsent", left, "--verbose"],
      env,
    );
    expect(res.stderr).toBe("");
    expect(res.code).toBe(2); // rejected records, every other one accepted
    const summary = JSON.parse(res.stdout) as Omit<Summary, "requests"> & {
      requests: Array<{ items: number; id: string; job_status: string; failed_count: number }>;
    };
    expect(summary).toMatchObject({ total: 12_000, accepted: 11_997, failed: [], unsent: [] });
    expect(summary.rejected.map((r) => r.index)).toEqual([3, 5, 11_000]);
    expect(summary.rejected[0]?.reason).toMatch(/^not valid JSON/);
    expect(summary.rejected[1]?.reason).toMatch(/^needs an identifier/);
    expect(summary.rejected[2]?.reason).toMatch(/duplicate_profile/);
    expect(summary.requests.map((r) => [r.items, r.job_status, r.failed_count])).toEqual([
      [10_000, "complete", 0],
      [1_998, "complete", 1],
    ]);
    expect(running.emulator.state.memberships.get(list.data.id)?.size).toBe(11_997);
    const kept = readFileSync(left, "utf8").trim().split("\n");
    expect(kept).toHaveLength(3);
    expect(kept[0]).toBe("{not json");
    expect(JSON.parse(kept[2] ?? "")).toEqual({
      _rejected: summary.rejected[2]?.reason,
      email: "held@example.com",
      external_id: "crm-held",
    });

    // Fixed (the reasons may stay: ingest ignores them), the file runs again over itself and completes.
    writeFileSync(
      left,
      `${[
        { email: "p3@example.com" },
        { email: "p5@example.com" },
        { _rejected: "fixed", email: "held@example.com", external_id: "crm-held-2" },
      ]
        .map((r) => JSON.stringify(r))
        .join("\n")}\n`,
    );
    const again = await runCli(["ingest", "profiles", left, "--unsent", left], env);
    expect(again.code).toBe(0);
    expect(summaryOf(again)).toMatchObject({ total: 3, accepted: 3, complete: true });
    expect(readFileSync(left, "utf8")).toBe("");
    expect(running.emulator.state.profiles.size).toBe(12_001);
  });

  it("profiles: bad --job-timeout exits 2 before anything is sent", async () => {
    const logged = running.emulator.requests.length;
    const file = join(dir, "person.ndjson");
    writeFileSync(file, ndjson([{ email: "a@example.com" }]));
    const res = await runCli(["ingest", "profiles", file, "--job-timeout", "0"], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/--job-timeout: must be a whole number of seconds/);
    expect(running.emulator.requests).toHaveLength(logged);
  });

  it("exit codes: 1 when requests failed, 3 when the key is refused", async () => {
    running.emulator.reset();
    const file = join(dir, "two.ndjson");
    writeFileSync(file, ndjson([event(1), event(2)]));
    running.emulator.setFaults([{ kind: "500", probability: 1, operation: "bulk_create_events" }]);
    try {
      const failed = await runCli(["ingest", "events", file, "--max-retries", "0"], env);
      expect(failed.code).toBe(1);
      expect(summaryOf(failed).failed).toEqual([0, 1]);
    } finally {
      running.emulator.setFaults([]);
    }
    const refused = await runCli(["ingest", "events", file], {
      ...env,
      KLAVIYO_API_KEY: "pk_not_known_000000000000",
    });
    expect(refused.code).toBe(3);
    expect(summaryOf(refused).unsent).toEqual([0, 1]);
  });

  it("bad usage exits 2 before anything is sent", async () => {
    const logged = running.emulator.requests.length;
    const file = join(dir, "one.ndjson");
    writeFileSync(file, ndjson([event(1)]));
    const zero = await runCli(["ingest", "events", file, "--concurrency", "0"], env);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/--concurrency: must be a whole number from 1 to 100/);
    const missing = await runCli(["ingest", "events", join(dir, "nope.ndjson")], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read/);
    const badList = await runCli(["ingest", "subscribe", file, "--list-id", "a b"], env);
    expect(badList.code).toBe(2);
    expect(running.emulator.requests).toHaveLength(logged);
  });
});
