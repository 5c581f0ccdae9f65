import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
