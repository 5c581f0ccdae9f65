/**
 * The change feed (src/feed) under load, as issue #20's closing note asks: changes per second at the tier's
 * ceiling, and memory over 1,000,000 changes. Run with `npx tsx bench/feed.bench.ts` after `npm run build`.
 *
 *  1. Rate: `changeFeed` through a `KlaviyoClient` with its default rate limiter, from a `since` before the data,
 *     `horizonSeconds: 0`, `lookbackSeconds: 0`, no network delay: the `profiles` stream in pages of 100
 *     (get_profiles: 75/s burst, 750/min steady) and the `events` stream in pages of 1000 (get_events: 350/s,
 *     3500/min). Two servers, both counting Klaviyo's real windows: an emulator process (`--rate-limits real`)
 *     seeded with BENCH_FEED_PROFILES profiles (default 20,000) and BENCH_FEED_EVENTS events (default 100,000), and
 *     a stub process (bench/feed-stub.ts: the same documents, answered from arithmetic; 429 past the windows)
 *     serving the same profiles and BENCH_FEED_STUB_EVENTS events (default 1,000,000). The emulator filters and
 *     sorts every stored record on every page of a sorted walk, so its pages slow down as it holds more (about
 *     20 ms a page of profiles at 20,000, 0.1 s a page of events at 100,000, 4 s at 1,000,000): it tells how the
 *     feed does against a server that takes its time, the stub how near the feed itself comes to the tier.
 *     Reported: changes/s, the ceiling, their ratio, the 429s the server answered (the emulator's request log,
 *     the stub's count; target 0), the time a page took and our process's CPU a page.
 *
 *     The ceiling is changes / floor, the floor being the earliest the last request may be sent under the windows
 *     (throughput.bench.ts's at no network delay): each request sent as soon as the 1-second burst and 1-minute
 *     steady windows, aligned to the epoch as Klaviyo's and the emulator's are, have room for it, from the run's
 *     start (on a second's boundary, wherever in the minute; for n requests within one minute's allowance,
 *     floor((n - 1) / burst) s). It leaves out the server's and the client's own work. When every request fits the
 *     first second's burst (the floor is 0), the tier does not bound the walk and no ceiling is reported. A feed
 *     reads one page after another (each cursor comes from the previous answer).
 *
 *  2. Memory: peak RSS (`process.resourceUsage().maxRSS`) of a child process (`node bench/feed-reader.mjs`, on
 *     `dist/`) reading BENCH_FEED_MEMORY_EVENTS events (default 1,000,000) with the feed's defaults but `since`
 *     and the lookback, and saving every page's checkpoint to a file (`JSON.stringify`, then written), as a
 *     consumer does; the final checkpoint's size, and changes/s. The 1,000,000 events come from the stub, limits
 *     off (`x-emulator-rate-limits: off`, as the emulator's `--rate-limits off` says), since the emulator would take
 *     an hour. Three runs: events one a minute, as the emulator's seed spaces them (10,080 of them in the 7-day
 *     lookback), with the default lookback; one every 0.5 s, all within the lookback (a digest of every event in
 *     the checkpoint, the worst case), with the default lookback; the same with lookback 0. Then one run against
 *     an emulator process seeded with BENCH_FEED_MEMORY_EMULATOR_EVENTS events (default 100,000; 0 skips it), with
 *     the default lookback, to check the stub's figures; and the RSS of a process that only imports the library.
 *
 * BENCH_FEED_PARTS=rate,memory picks parts. Results go to bench/results.json.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { KlaviyoClient } from "../src/core/client.js";
import { changeFeed, type StreamName } from "../src/feed/index.js";
import { getOperation } from "../src/klaviyo/operations.js";
import type { StubOptions } from "./feed-stub.js";
import { type Figure, record } from "./results.js";

const KEY = "pk_bench_feed_key_0123456789abcdef0";
const PROFILES = Number(process.env.BENCH_FEED_PROFILES ?? 20_000);
const EVENTS = Number(process.env.BENCH_FEED_EVENTS ?? 100_000);
const STUB_EVENTS = Number(process.env.BENCH_FEED_STUB_EVENTS ?? 1_000_000);
const MEMORY_EVENTS = Number(process.env.BENCH_FEED_MEMORY_EVENTS ?? 1_000_000);
const EMULATOR_MEMORY_EVENTS = Number(process.env.BENCH_FEED_MEMORY_EMULATOR_EVENTS ?? 100_000);
const PARTS = new Set((process.env.BENCH_FEED_PARTS ?? "rate,memory").split(","));
const BIN = fileURLToPath(new URL("../bin/klaviyo.js", import.meta.url));
const READER = fileURLToPath(new URL("./feed-reader.mjs", import.meta.url));
const STUB = fileURLToPath(new URL("./feed-stub.ts", import.meta.url));
const MINUTE = 60_000;

const results: Figure[] = [];
const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** A server process that prints `listening on URL`. */
async function serve(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "ignore"] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`${args.join(" ")} exited ${code}`)));
  });
  return { url, child };
}

/** An emulator process on a free port. */
function emulator(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  return serve([BIN, "emulator", "--port", "0", "--api-key", KEY, ...args]);
}

/** A bench/feed-stub.ts process on a free port. */
function stubServer(options: StubOptions): Promise<{ url: string; child: ChildProcess }> {
  return serve(["--import", "tsx", STUB, JSON.stringify(options)]);
}

/** The requests a stub counted, and the 429s it answered. */
async function stubLog(url: string): Promise<{ requests: number; throttled: number }> {
  return (await (await fetch(`${url}/__stub/log`)).json()) as { requests: number; throttled: number };
}

async function admin(url: string, path: string, init?: { method: string; body?: unknown }): Promise<unknown> {
  const res = await fetch(`${url}/__emulator${path}`, {
    method: init?.method ?? "GET",
    ...(init?.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return res.status === 204 ? null : res.json();
}

/** The emulator's rate limits (fresh windows) and an empty request log for the next run. */
async function resetFor(url: string, rateLimits: "real" | "off"): Promise<void> {
  await admin(url, "/config", { method: "PUT", body: { rateLimits } });
  await admin(url, "/requests", { method: "DELETE" });
}

/** The requests the emulator logged since the last reset, and how many it answered 429. */
async function logged(url: string): Promise<{ requests: number; throttled: number }> {
  const { requests } = (await admin(url, "/requests")) as {
    requests: Array<{ status: number; path: string }>;
  };
  const api = requests.filter((r) => r.path.startsWith("/api/"));
  return { requests: api.length, throttled: api.filter((r) => r.status === 429).length };
}

/**
 * The floor (see the module comment), in seconds, for `requests` requests under burst/s and steady/min windows
 * aligned to the epoch, from `startMs`: each request sent at the earliest time both windows have room for it.
 */
function floorSeconds(requests: number, burst: number, steady: number, startMs: number): number {
  let t = startMs;
  let second = Number.NaN;
  let inSecond = 0;
  let minute = Number.NaN;
  let inMinute = 0;
  for (let k = 0; k < requests; k++) {
    for (;;) {
      const s = Math.floor(t / 1000);
      const m = Math.floor(t / MINUTE);
      if (s !== second) [second, inSecond] = [s, 0];
      if (m !== minute) [minute, inMinute] = [m, 0];
      if (inMinute >= steady) t = (m + 1) * MINUTE;
      else if (inSecond >= burst) t = (s + 1) * 1000;
      else break;
    }
    inSecond++;
    inMinute++;
  }
  return (t - startMs) / 1000;
}

/** Starts on a rate-window boundary (a whole second of the epoch), as throughput.bench.ts's runs do. */
async function onWindow(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000)));
}

interface Walk {
  /** When it began (epoch ms, on a second's boundary). */
  startMs: number;
  seconds: number;
  changes: number;
  distinct: number;
  pages: number;
  cpuMs: number;
}

async function walk(url: string, stream: StreamName, pageSize: number): Promise<Walk> {
  const client = new KlaviyoClient({ apiKey: KEY, baseUrl: url });
  const ids = new Set<string>();
  let changes = 0;
  let pages = 0;
  await onWindow();
  const startMs = Date.now();
  const cpu = process.cpuUsage();
  const started = performance.now();
  for await (const page of changeFeed(client, {
    stream,
    since: new Date(0),
    pageSize,
    horizonSeconds: 0,
    lookbackSeconds: 0,
  })) {
    pages++;
    for (const change of page.changes) {
      changes++;
      ids.add(change.record.id);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { startMs, seconds, changes, distinct: ids.size, pages, cpuMs: (used.user + used.system) / 1000 };
}

// 1. Changes per second at the tier's ceiling.
if (PARTS.has("rate")) {
  const streams = [
    {
      stream: "profiles" as const,
      emulated: PROFILES,
      stubbed: PROFILES,
      pageSize: 100,
      operation: "get_profiles",
    },
    {
      stream: "events" as const,
      emulated: EVENTS,
      stubbed: STUB_EVENTS,
      pageSize: 1000,
      operation: "get_events",
    },
  ];
  console.log(`1. Changes per second at the tier's ceiling (real tiers, no network delay)`);
  const emulated = await emulator([
    "--rate-limits",
    "real",
    "--seed-profiles",
    String(PROFILES),
    "--seed-events",
    String(EVENTS),
  ]);
  // The stub's records: profiles one a second, events one a minute, as the emulator's seed spaces them.
  const stub = await stubServer({
    profiles: { count: PROFILES, spacingMs: 1000 },
    events: { count: STUB_EVENTS, spacingMs: MINUTE },
    tiers: true,
    now: Date.now(),
  });
  try {
    for (const s of streams) {
      const { burst, steady } = getOperation(s.operation).tier;
      const runs: Array<{ server: string; seeded: number; walk: Walk; requests: number; throttled: number }> =
        [];
      await resetFor(emulated.url, "real");
      const onEmulator = await walk(emulated.url, s.stream, s.pageSize);
      runs.push({
        server: "emulator",
        seeded: s.emulated,
        walk: onEmulator,
        ...(await logged(emulated.url)),
      });
      const before = await stubLog(stub.url);
      const onStub = await walk(stub.url, s.stream, s.pageSize);
      const after = await stubLog(stub.url);
      runs.push({
        server: "stub",
        seeded: s.stubbed,
        walk: onStub,
        requests: after.requests - before.requests,
        throttled: after.throttled - before.throttled,
      });
      for (const { server, seeded, walk: w } of runs) {
        if (w.changes !== seeded || w.distinct !== seeded)
          throw new Error(
            `${s.stream} on the ${server}: ${w.changes} changes (${w.distinct} distinct) of ${seeded}`,
          );
      }
      for (const run of runs) {
        const w = run.walk;
        const floor = floorSeconds(run.requests, burst, steady, w.startMs);
        const rate = w.changes / w.seconds;
        // With every request inside one second's burst the windows do not bound the walk: no ceiling.
        const ceiling = floor > 0 ? w.changes / floor : Number.POSITIVE_INFINITY;
        const against =
          floor > 0
            ? `ceiling ${fmt(ceiling)} changes/s (floor ${floor.toFixed(2)} s): ratio ${(rate / ceiling).toFixed(3)}`
            : `no ceiling: ${run.requests} requests fit one second's burst of ${burst}`;
        console.log(
          `   ${s.stream.padEnd(9)} on the ${run.server.padEnd(8)} ${fmt(w.changes).padStart(9)} changes, ${w.pages} pages (${run.requests} requests): ${w.seconds.toFixed(2)} s, ${fmt(rate)} changes/s; ${against}; 429s ${run.throttled}; ${((1000 * w.seconds) / w.pages).toFixed(1)} ms a page, our CPU ${(w.cpuMs / w.pages).toFixed(1)} ms a page`,
        );
        const name = `feed ${s.stream} ${fmt(run.seeded)} changes, pages of ${s.pageSize}, real tier (${burst}/s, ${steady}/min), ${run.server === "stub" ? "stub server" : "emulator"}`;
        results.push(
          {
            name: `${name}: changes per second`,
            unit: "changes/s",
            value: rate,
            peer: {},
            ceiling: floor > 0 ? ceiling : null,
          },
          ...(floor > 0
            ? [
                {
                  name: `${name}: changes per second / ceiling`,
                  unit: "ratio",
                  value: rate / ceiling,
                  peer: {},
                  ceiling: 1,
                },
              ]
            : []),
          { name: `${name}: 429 answers`, unit: "count", value: run.throttled, peer: {}, ceiling: 0 },
          {
            name: `${name}: our CPU per page`,
            unit: "ms",
            value: w.cpuMs / w.pages,
            peer: {},
            ceiling: null,
          },
        );
      }
    }
  } finally {
    emulated.child.kill("SIGTERM");
    stub.child.kill("SIGTERM");
  }
}

interface Reading {
  changes: number;
  pages: number;
  late: number;
  ordered: boolean;
  seconds: number;
  maxRssKb: number;
  heapUsedKb: number;
  checkpointBytes: number;
  digests: number;
  hours: number;
}

const execFileAsync = promisify(execFile);

/** Runs bench/feed-reader.mjs in a child process and returns what it printed. */
async function read(env: Record<string, string>): Promise<Reading> {
  const { stdout } = await execFileAsync(process.execPath, [READER], {
    env: { ...process.env, FEED_API_KEY: KEY, ...env },
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as Reading;
}

// 2. Memory over 1,000,000 changes.
if (PARTS.has("memory")) {
  const dir = mkdtempSync(join(tmpdir(), "klaviyo-feed-bench-"));
  console.log(
    `\n2. Memory: peak RSS of a process reading the events stream and saving each page's checkpoint to a file`,
  );
  /** One reader's run against `url`, printed and recorded as `name`. */
  const measure = async (name: string, url: string, expected: number, lookback?: number): Promise<void> => {
    const r = await read({
      FEED_BASE_URL: url,
      FEED_SINCE: new Date(0).toISOString(),
      FEED_CHECKPOINT: join(dir, "checkpoint.json"),
      ...(lookback === undefined ? {} : { FEED_LOOKBACK: String(lookback) }),
    });
    if (r.changes !== expected || !r.ordered || r.late !== 0)
      throw new Error(
        `${name}: ${r.changes} changes of ${expected} (ordered: ${r.ordered}, late: ${r.late})`,
      );
    console.log(
      `   ${name.padEnd(62)} ${fmt(r.maxRssKb / 1024).padStart(4)} MB   checkpoint ${fmt(r.checkpointBytes).padStart(10)} bytes (${fmt(r.digests)} events in the lookback)   ${fmt(r.changes / r.seconds).padStart(6)} changes/s (${r.seconds.toFixed(1)} s; heap at the end ${fmt(r.heapUsedKb / 1024)} MB)`,
    );
    results.push(
      {
        name: `feed memory: ${name}: peak RSS`,
        unit: "MB",
        value: r.maxRssKb / 1024,
        peer: {},
        ceiling: null,
      },
      {
        name: `feed memory: ${name}: final checkpoint`,
        unit: "bytes",
        value: r.checkpointBytes,
        peer: { "events in the lookback (a digest each)": r.digests },
        ceiling: null,
      },
      {
        name: `feed memory: ${name}: changes per second`,
        unit: "changes/s",
        value: r.changes / r.seconds,
        peer: {},
        ceiling: null,
      },
    );
  };
  try {
    const baseline = await read({ FEED_IMPORT_ONLY: "1", FEED_BASE_URL: "http://127.0.0.1:9" });
    console.log(
      `   ${"a process that only imports the library".padEnd(62)} ${fmt(baseline.maxRssKb / 1024).padStart(4)} MB`,
    );
    results.push({
      name: "feed memory: peak RSS of a process only importing the library",
      unit: "MB",
      value: baseline.maxRssKb / 1024,
      peer: {},
      ceiling: null,
    });
    const runs = [
      { key: "one a minute, default lookback (7 days)", spacing: MINUTE, lookback: undefined },
      { key: "one every 0.5 s (all within 7 days), default lookback", spacing: 500, lookback: undefined },
      { key: "one every 0.5 s, lookback 0", spacing: 500, lookback: 0 },
    ];
    for (const run of runs) {
      // The last event a minute ago, past the feed's default horizon (30 s), which the reader keeps.
      const stub = await stubServer({
        events: { count: MEMORY_EVENTS, spacingMs: run.spacing },
        tiers: false,
        now: Date.now() - MINUTE,
      });
      try {
        await measure(
          `${fmt(MEMORY_EVENTS)} events (stub), ${run.key}`,
          stub.url,
          MEMORY_EVENTS,
          run.lookback,
        );
      } finally {
        stub.child.kill("SIGTERM");
      }
    }
    if (EMULATOR_MEMORY_EVENTS > 0) {
      const emulated = await emulator([
        "--rate-limits",
        "off",
        "--seed-events",
        String(EMULATOR_MEMORY_EVENTS),
      ]);
      try {
        await measure(
          `${fmt(EMULATOR_MEMORY_EVENTS)} events (emulator), one a minute, default lookback (7 days)`,
          emulated.url,
          EMULATOR_MEMORY_EVENTS,
        );
      } finally {
        emulated.child.kill("SIGTERM");
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

record(results);
