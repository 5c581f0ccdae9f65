/**
 * `klaviyo changes` and `klaviyo sync` against the emulator on a port (real HTTP), the CLI in-process (`main`),
 * except `--follow`, which runs the real binary so that it can be stopped with a real signal.
 *
 * The emulator's times are whole seconds and the feed reads only up to a second behind now with `--horizon 0`, so
 * a change is waited for into the next second before a run that must see it.
 */
import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { KlaviyoClient } from "../../src/core/client.js";
import { DEV_API_KEY, type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { parseCheckpoint } from "../../src/feed/index.js";
import { BIN, requireBuild } from "../helpers/cli.js";
import { type InProcessResult, runInProcess } from "../helpers/cli-in-process.js";

const cli = runInProcess;
const saved = { ...process.env };
let running: RunningEmulator;
let client: KlaviyoClient;
let root: string;
let dir: string;

interface Line {
  stream: string;
  change: string;
  at: string;
  record: { type: string; id: string; attributes: Record<string, unknown>; [key: string]: unknown };
  related?: Array<{ type: string; id: string; attributes?: Record<string, unknown> }>;
  late?: true;
}

const linesOf = (text: string): Line[] =>
  text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Line);

function ok(result: InProcessResult): InProcessResult {
  expect(result.code, `${result.stderr}${result.stdout}`).toBe(0);
  return result;
}

/** A usage error (exit 2) whose one line names every one of `words`. */
function refused(result: InProcessResult, ...words: string[]): void {
  expect(result.code, `${result.stderr}${result.stdout}`).toBe(2);
  expect(result.stdout).toBe("");
  for (const word of words) expect(result.stderr).toContain(word);
}

/** Waits into the next whole second (plus a margin): what was written before is then behind a horizon of 0. */
async function nextSecond(): Promise<void> {
  await sleep(1000 - (Date.now() % 1000) + 30);
}

/** The requests the emulator answered since `mark` (its length then). */
const requestsSince = (mark: number) => running.emulator.requests.slice(mark);

async function createProfile(email: string): Promise<string> {
  const res = await client.request<{ data: { id: string } }>({
    method: "POST",
    path: "/api/profiles",
    body: { data: { type: "profile", attributes: { email } } },
  });
  return res.body.data.id;
}

async function renameProfile(id: string, firstName: string): Promise<void> {
  await client.request({
    method: "PATCH",
    path: `/api/profiles/${id}`,
    body: { data: { type: "profile", id, attributes: { first_name: firstName } } },
  });
}

const files = (path: string) => readdirSync(path).sort();

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "klaviyo-changes-"));
  for (const name of ["KLAVIYO_REDIS_URL", "KLAVIYO_TOKEN_ENCRYPTION_KEY", "KLAVIYO_CLIENT_SECRET"])
    delete process.env[name];
  process.env.KLAVIYO_CONFIG_DIR = join(root, "config");
  process.env.KLAVIYO_HEAP_TUNING = "off";
});
afterAll(() => {
  process.env = saved;
  rmSync(root, { recursive: true, force: true });
});
beforeEach(async () => {
  running = await startEmulator({ seed: "demo", rateLimits: "off" });
  process.env.KLAVIYO_API_KEY = DEV_API_KEY;
  process.env.KLAVIYO_BASE_URL = running.url;
  client = new KlaviyoClient({ apiKey: DEV_API_KEY, baseUrl: running.url });
  dir = mkdtempSync(join(root, "run-"));
  // The demo data is written as the emulator starts: a horizon of 0 reads it from the next second on.
  await nextSecond();
});
afterEach(async () => {
  await running?.close();
});

describe("klaviyo changes", () => {
  it("prints one JSON line per change: stream, change, at, and the record exactly as Klaviyo sent it", async () => {
    const { stdout, stderr } = ok(
      await cli(["changes", "profiles", "--since", "2000-01-01", "--horizon", "0"]),
    );
    expect(stderr).toBe("");
    const lines = linesOf(stdout);
    expect(lines).toHaveLength(running.emulator.state.profiles.size);
    const sent = new Map<string, unknown>();
    for await (const profile of client.paginateItems<{ id: string }>({
      method: "GET",
      path: "/api/profiles",
    }))
      sent.set(profile.id, profile);
    for (const line of lines) {
      expect(Object.keys(line)).toEqual(["stream", "change", "at", "record"]);
      expect(line.stream).toBe("profiles");
      expect(line.change).toBe("created");
      expect(line.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      // Untouched: snake_case members, links and all, as the collection answers them.
      expect(line.record).toEqual(sent.get(line.record.id));
      expect(line.record.attributes).toHaveProperty("first_name");
      expect(Date.parse(line.at)).toBe(Date.parse(String(line.record.attributes.updated)));
    }
    expect(new Set(lines.map((l) => l.record.id)).size).toBe(lines.length);
  });

  it("a second run with the same --state prints nothing already printed, then only the new changes; the state is JSON, written atomically", async () => {
    const state = join(dir, "profiles.json");
    const args = ["changes", "profiles", "--state", state, "--horizon", "0"];
    const first = linesOf(ok(await cli([...args, "--since", "2000-01-01"])).stdout);
    expect(first).toHaveLength(running.emulator.state.profiles.size);
    expect(files(dir)).toEqual(["profiles.json"]);
    expect(parseCheckpoint(readFileSync(state, "utf8")).stream).toBe("profiles");

    // --since only says where a run with no state starts: with a state it is not used, and says so.
    const again = ok(await cli([...args, "--since", "2000-01-01"]));
    expect(again.stdout).toBe("");
    expect(again.stderr).toContain("--since is not used");

    const renamed = first[0]?.record.id as string;
    await renameProfile(renamed, "Renamed");
    const created = await createProfile("new.one@example.com");
    await nextSecond();
    const third = linesOf(ok(await cli(args)).stdout);
    expect(third.map((l) => [l.record.id, l.change]).sort()).toEqual(
      [
        [renamed, "updated"],
        [created, "created"],
      ].sort(),
    );
    expect(third.find((l) => l.record.id === renamed)?.record.attributes.first_name).toBe("Renamed");
    expect(ok(await cli(args)).stdout).toBe("");
    expect(files(dir)).toEqual(["profiles.json"]);
    expect(() => parseCheckpoint(readFileSync(state, "utf8"))).not.toThrow();
  });

  it("with no --since and no state, starts now: the state written at once, so a run that found nothing loses nothing after it", async () => {
    const state = join(dir, "fresh.json");
    const args = ["changes", "profiles", "--state", state, "--horizon", "0"];
    expect(ok(await cli(args)).stdout).toBe("");
    expect(existsSync(state)).toBe(true);
    await nextSecond();
    const created = await createProfile("after.start@example.com");
    await nextSecond();
    expect(linesOf(ok(await cli(args)).stdout).map((l) => l.record.id)).toEqual([created]);
  });

  it("an unknown stream, a list-members stream without --list-id, a bad --since, and flags a stream does not take are refused before any request", async () => {
    const mark = running.emulator.requests.length;
    refused(
      await cli(["changes", "nope"]),
      "<stream>",
      '"nope" is not a stream',
      "profiles",
      "segment-members",
      "suppressions",
    );
    refused(await cli(["changes", "tags"]), "klaviyo sync tags");
    refused(await cli(["changes", "list-members", "--state", join(dir, "s.json")]), "--list-id", "required");
    refused(await cli(["changes", "segment-members"]), "--segment-id", "required");
    refused(await cli(["changes", "profiles", "--since", "yesterday"]), "--since", "not a date");
    refused(
      await cli(["changes", "profiles", "--list-id", "Y6nRLr"]),
      "--list-id",
      "not taken by the profiles stream",
    );
    refused(await cli(["changes", "profiles", "--metric", "Placed Order"]), "--metric", "events stream only");
    refused(await cli(["changes", "events", "--metric", "A", "--metric-id", "B"]), "--metric", "--metric-id");
    refused(await cli(["changes", "profiles", "--lookback", "60"]), "--lookback", "events stream only");
    refused(await cli(["changes", "events", "--lookback", "-1"]), "--lookback");
    refused(await cli(["changes", "profiles", "--horizon", "soon"]), "--horizon");
    refused(await cli(["changes", "profiles", "--interval", "5"]), "--interval", "--follow");
    refused(await cli(["changes", "profiles", "--follow", "--interval", "0"]), "--interval");
    refused(
      await cli(["changes", "profiles", "--state", join(dir, "missing", "s.json")]),
      "--state",
      "does not exist",
    );
    expect(requestsSince(mark)).toEqual([]);
    expect(files(dir)).toEqual([]);
  });

  it("a state file of another stream or scope, or not a checkpoint, is refused before any request", async () => {
    const state = join(dir, "p.json");
    ok(await cli(["changes", "profiles", "--state", state]));
    const mark = running.emulator.requests.length;
    refused(await cli(["changes", "lists", "--state", state]), "--state", "profiles stream, not lists");
    const notJson = join(dir, "bad.json");
    appendFileSync(notJson, "{not json");
    refused(await cli(["changes", "profiles", "--state", notJson]), "--state", "not JSON");
    expect(requestsSince(mark)).toEqual([]);
  });

  it("--metric NAME reads that metric's events (found by name with List Metrics), as --metric-id does; an unknown name sends nothing else", async () => {
    const metrics = [...running.emulator.state.metrics.values()] as unknown as Array<{
      id: string;
      attributes: { name: string };
    }>;
    const placed = metrics.find((m) => m.attributes.name === "Placed Order");
    expect(placed).toBeDefined();
    const args = ["changes", "events", "--since", "2000-01-01", "--horizon", "0", "--lookback", "0"];
    const byName = ok(await cli([...args, "--metric", "Placed Order"]));
    const lines = linesOf(byName.stdout);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line.change).toBe("recorded");
      expect((line.record.relationships as { metric: { data: { id: string } } }).metric.data.id).toBe(
        placed?.id,
      );
      expect(line.related?.find((r) => r.type === "metric")?.attributes?.name).toBe("Placed Order");
    }
    const all = linesOf(ok(await cli(args)).stdout);
    expect(all.length).toBeGreaterThan(lines.length);
    expect(ok(await cli([...args, "--metric-id", placed?.id as string])).stdout).toBe(byName.stdout);

    const mark = running.emulator.requests.length;
    refused(
      await cli([...args, "--metric", "placed order"]),
      "--metric",
      'no metric is named "placed order"',
      "Placed Order",
    );
    const sent = requestsSince(mark);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((r) => r.operationId === "get_metrics")).toBe(true);
  });

  it("list-members with --list-id: each member as joined", async () => {
    const list = [...running.emulator.state.lists.values()][0] as { id: string };
    const lines = linesOf(
      ok(
        await cli([
          "changes",
          "list-members",
          "--list-id",
          list.id,
          "--since",
          "2000-01-01",
          "--horizon",
          "0",
        ]),
      ).stdout,
    );
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line.stream).toBe("list-members");
      expect(line.change).toBe("joined");
      expect(line.record.type).toBe("profile");
    }
  });

  it("--follow prints a change made while it runs, and SIGINT stops it cleanly (exit 0, state saved, nothing printed twice after)", async () => {
    requireBuild();
    const state = join(dir, "follow.json");
    const child = spawn(
      process.execPath,
      [BIN, "changes", "profiles", "--follow", "--interval", "1", "--horizon", "0", "--state", state],
      {
        env: {
          PATH: process.env.PATH ?? "",
          KLAVIYO_API_KEY: DEV_API_KEY,
          KLAVIYO_BASE_URL: running.url,
          KLAVIYO_CONFIG_DIR: join(root, "config"),
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    try {
      const until = async (what: () => boolean, label: string) => {
        const deadline = Date.now() + 10_000;
        while (!what()) {
          if (Date.now() > deadline)
            throw new Error(`${label}: not within 10 s; stdout ${stdout}, stderr ${stderr}`);
          await sleep(50);
        }
      };
      await until(() => existsSync(state), "the state written as it starts");
      const created = await createProfile("followed@example.com");
      await until(() => stdout.includes(created), "the new profile printed");
      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(stderr).toBe("");
      const printed = linesOf(stdout);
      expect(printed.map((l) => [l.record.id, l.change])).toEqual([[created, "created"]]);
      expect(files(dir)).toEqual(["follow.json"]);
      // The change followed is behind the state: a run from it does not print it again.
      expect(ok(await cli(["changes", "profiles", "--state", state, "--horizon", "0"])).stdout).toBe("");
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("each flag acts or is refused: --segment-id, --lookback, --verbose and the connection flags", async () => {
    const list = [...running.emulator.state.lists.values()][0] as { id: string };
    const segment = await client.request<{ data: { id: string } }>({
      method: "POST",
      path: "/api/segments",
      body: {
        data: {
          type: "segment",
          attributes: {
            name: "Members of the first list",
            definition: {
              condition_groups: [
                { conditions: [{ type: "profile-group-membership", is_member: true, group_ids: [list.id] }] },
              ],
            },
          },
        },
      },
    });
    await nextSecond();
    const members = linesOf(
      ok(
        await cli([
          "changes",
          "segment-members",
          "--segment-id",
          segment.body.data.id,
          "--since",
          "2000-01-01",
          "--horizon",
          "0",
        ]),
      ).stdout,
    );
    expect(members.length).toBeGreaterThan(0);
    for (const line of members)
      expect([line.stream, line.change, line.record.type]).toEqual(["segment-members", "joined", "profile"]);
    // --lookback 0 turns the lookback off: the checkpoint keeps no digests of delivered events.
    const state = join(dir, "events.json");
    ok(await cli(["changes", "events", "--state", state, "--lookback", "0"]));
    expect(parseCheckpoint(readFileSync(state, "utf8")).delivered).toBeUndefined();
    const withLookback = join(dir, "events-lookback.json");
    ok(await cli(["changes", "events", "--state", withLookback, "--lookback", "3600"]));
    expect(parseCheckpoint(readFileSync(withLookback, "utf8")).partitions).toHaveProperty("lookback");
    // The connection flags are the other commands': a wrong key is Klaviyo's 401 (exit 3), --verbose adds the error.
    const refusedKey = await cli([
      "changes",
      "profiles",
      "--since",
      "2000-01-01",
      "--api-key",
      "pk_wrong_key_0123456789abcdef01234",
      "--verbose",
    ]);
    expect(refusedKey.code).toBe(3);
    expect(refusedKey.stderr.split("\n").length).toBeGreaterThan(2);
    expect(refusedKey.stderr).not.toContain("pk_wrong_key_0123456789abcdef01234");
    refused(await cli(["changes", "profiles", "--base-url", "not a url"]), "--base-url");
  });
});

interface SyncLine {
  id: string;
  type: string;
  change?: string;
  at?: string;
  record?: Line["record"];
  deleted?: true;
  deleted_at?: string;
}

const readLines = (file: string): SyncLine[] =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as SyncLine);

describe("klaviyo sync", () => {
  it("writes one file per stream, upserts an updated profile to one line, marks a deleted tag and metric deleted", async () => {
    const state = join(dir, "sync.json");
    const out = join(dir, "out");
    const args = [
      "sync",
      "profiles",
      "lists",
      "tags",
      "metrics",
      "--state",
      state,
      "--out",
      out,
      "--horizon",
      "0",
    ];
    const first = ok(await cli(args));
    const summary = JSON.parse(first.stdout) as {
      streams: Record<string, { records: number; changes?: number; deleted?: number }>;
    };
    expect(files(out)).toEqual(["lists.ndjson", "metrics.ndjson", "profiles.ndjson", "tags.ndjson"]);
    const profiles = readLines(join(out, "profiles.ndjson"));
    expect(profiles).toHaveLength(running.emulator.state.profiles.size);
    expect(summary.streams.profiles).toMatchObject({ changes: profiles.length, records: profiles.length });
    for (const line of profiles) {
      expect(Object.keys(line)).toEqual(["id", "type", "change", "at", "record"]);
      expect(line.id).toBe(line.record?.id);
      expect(line.type).toBe("profile");
    }
    const tags = readLines(join(out, "tags.ndjson"));
    const metrics = readLines(join(out, "metrics.ndjson"));
    expect(tags).toHaveLength(running.emulator.state.tags.size);
    expect(metrics).toHaveLength(running.emulator.state.metrics.size);
    expect(tags.every((t) => t.type === "tag" && t.record?.id === t.id && t.deleted === undefined)).toBe(
      true,
    );

    const target = profiles[3] as SyncLine;
    await renameProfile(target.id, "Upserted");
    const goneTag = tags[0] as SyncLine;
    await client.request({ method: "DELETE", path: `/api/tags/${goneTag.id}` });
    // Klaviyo's API deletes no metric: the emulator's state stands in for one deleted in Klaviyo's app.
    const goneMetric = metrics[0] as SyncLine;
    running.emulator.state.metrics.delete(goneMetric.id);
    await nextSecond();

    const second = JSON.parse(ok(await cli(args)).stdout) as typeof summary;
    expect(second.streams.profiles).toMatchObject({ changes: 1, records: profiles.length });
    expect(second.streams.tags).toMatchObject({ records: tags.length, deleted: 1 });
    expect(second.streams.metrics).toMatchObject({ records: metrics.length, deleted: 1 });
    const upserted = readLines(join(out, "profiles.ndjson"));
    expect(upserted).toHaveLength(profiles.length);
    const mine = upserted.filter((l) => l.id === target.id);
    expect(mine).toHaveLength(1);
    expect(mine[0]?.change).toBe("updated");
    expect(mine[0]?.record?.attributes.first_name).toBe("Upserted");
    const tagLine = readLines(join(out, "tags.ndjson")).find((l) => l.id === goneTag.id);
    expect(tagLine).toMatchObject({ id: goneTag.id, type: "tag", deleted: true, record: goneTag.record });
    expect(Date.parse(tagLine?.deleted_at as string)).toBeGreaterThan(Date.now() - 60_000);
    expect(readLines(join(out, "metrics.ndjson")).find((l) => l.id === goneMetric.id)).toMatchObject({
      deleted: true,
      record: goneMetric.record,
    });

    // A third run changes nothing: the deletion stays as it was, with its time.
    const third = JSON.parse(ok(await cli(args)).stdout) as typeof summary;
    expect(third.streams.profiles).toMatchObject({ changes: 0, records: profiles.length });
    expect(third.streams.tags).toMatchObject({ deleted: 0 });
    expect(readLines(join(out, "tags.ndjson")).find((l) => l.id === goneTag.id)).toEqual(tagLine);

    // The state: every stream's checkpoint in one JSON file; no temporary file left anywhere.
    const saved = JSON.parse(readFileSync(state, "utf8")) as {
      v: number;
      streams: Record<string, Record<string, unknown>>;
    };
    expect(saved.v).toBe(1);
    expect(parseCheckpoint(saved.streams.profiles?.checkpoint).stream).toBe("profiles");
    expect(saved.streams.profiles?.compacted).toBe(true);
    expect(typeof saved.streams.tags?.snapshot_at).toBe("string");
    expect(files(dir)).toEqual(["out", "sync.json"]);
    expect(files(out)).toEqual(["lists.ndjson", "metrics.ndjson", "profiles.ndjson", "tags.ndjson"]);
  });

  it("a partial last line (a run killed while writing) is cut, and the run carries on", async () => {
    const state = join(dir, "sync.json");
    const out = join(dir, "out");
    const args = ["sync", "profiles", "--state", state, "--out", out, "--horizon", "0"];
    ok(await cli(args));
    const before = readFileSync(join(out, "profiles.ndjson"), "utf8");
    appendFileSync(join(out, "profiles.ndjson"), '{"id":"01PARTIAL","type":"prof');
    const created = await createProfile("after.crash@example.com");
    await nextSecond();
    ok(await cli(args));
    const lines = readLines(join(out, "profiles.ndjson"));
    const ids = before
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => (JSON.parse(l) as SyncLine).id);
    expect(lines.map((l) => l.id)).toEqual([...ids, created]);
  });

  it("bad streams and flags are refused before any request", async () => {
    const mark = running.emulator.requests.length;
    const base = ["--state", join(dir, "s.json"), "--out", join(dir, "out")];
    refused(
      await cli(["sync", "profiles", "nope", ...base]),
      "<streams…>",
      '"nope" is not a stream',
      "metrics",
      "tags",
    );
    refused(await cli(["sync", "profiles", "--list-id", "Y6nRLr", ...base]), "--list-id", "list-members");
    refused(await cli(["sync", "list-members", ...base]), "--list-id", "required");
    refused(await cli(["sync", "profiles", "--metric", "Placed Order", ...base]), "--metric", "events");
    refused(await cli(["sync", "tags", "--lookback", "60", ...base]), "--lookback");
    refused(await cli(["sync", "profiles", "--since", "soon", ...base]), "--since");
    expect((await cli(["sync", "profiles", "--state", join(dir, "s.json")])).code).toBe(2);
    expect(requestsSince(mark)).toEqual([]);
    expect(files(dir)).toEqual([]);
  });
});
