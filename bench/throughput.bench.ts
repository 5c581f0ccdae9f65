/**
 * Throughput at the rate-limit ceiling on a network, with the defaults (no tuning flags), against the emulator on a
 * real port with Klaviyo's real tier limits. Each network is a one-way delay each way, drawn per request:
 * BENCH_NETWORKS (default `0,20-80,100-300`, milliseconds): the request's delay before the emulator counts it (as
 * Klaviyo's gateway counts on arrival) and the answer's on its way back. Contenders: this connector with its
 * defaults; Klaviyo's official Node SDK (`klaviyo-api`) driven the way its README shows (a loop over chunks of 1000
 * for bulk events, a loop over pages); plain fetch loops.
 *
 *  1. Ingest N events (BENCH_EVENTS, default 100,000) at each network: wall time, floor / time (target >= 0.95)
 *     and the 429s the emulator answered (target 0).
 *  2. Export P profiles (BENCH_PROFILES, default 20,000) at each network: the same (target >= 0.80, 0 429s).
 *  4. Memory: peak RSS of a process ingesting BENCH_MEMORY_EVENTS (default 1,000,000) events from an NDJSON file
 *     (limits scaled up, no latency) and of one exporting BENCH_MEMORY_PROFILES (default 100,000) profiles to
 *     NDJSON. Target <= 150 MB each.
 * (3 and 5, CPU per request and footprint, are in transport.bench.ts and footprint.bench.ts.)
 *
 * BENCH_PARTS=ingest,export,memory picks parts.
 *
 * The floor is the fastest any client could go under the limits: the last request sent as the earliest window with
 * room for it opens (1-second burst and 1-minute steady windows, counted from a window boundary, so every timed
 * run starts on one), reaching the server no sooner than one request delay after the start, and answered one answer
 * delay later (the means of the ranges). It leaves out the server's own work, so no contender reaches 1.
 * Results go to bench/results.json.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ApiKeySession, EventsApi, ProfilesApi } from "klaviyo-api";
import { KlaviyoClient } from "../src/core/client.js";
import { partitionedItems } from "../src/core/partition.js";
import { ingestEvents } from "../src/ingest/index.js";
import { type Figure, record } from "./results.js";

const KEY = "pk_bench_throughput_key_0123456789ab";
const NETWORKS = (process.env.BENCH_NETWORKS ?? "0,20-80,100-300").split(",").map((text) => {
  const [lo, hi] = text.split("-").map(Number) as [number, number | undefined];
  return { text, min: lo, max: hi ?? lo, mean: (lo + (hi ?? lo)) / 2 };
});
type Network = (typeof NETWORKS)[number];
const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const PROFILES = Number(process.env.BENCH_PROFILES ?? 20_000);
/** Runs of this connector's export per network; the median is reported. */
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const MEMORY_EVENTS = Number(process.env.BENCH_MEMORY_EVENTS ?? 1_000_000);
const MEMORY_PROFILES = Number(process.env.BENCH_MEMORY_PROFILES ?? 100_000);
/** Which parts to run: BENCH_PARTS=ingest,export,memory (default all). */
const PARTS = new Set((process.env.BENCH_PARTS ?? "ingest,export,memory").split(","));
const BIN = fileURLToPath(new URL("../bin/klaviyo.js", import.meta.url));

const results: Figure[] = [];

async function emulator(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [BIN, "emulator", "--port", "0", "--api-key", KEY, ...args], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`emulator exited ${code}`)));
  });
  return { url, child };
}

/** The emulator's arguments for a network: the same delay range each way. */
function networkArgs(network: Network): string[] {
  return ["--request-latency", network.text, "--latency", network.text, "--rate-limits", "real"];
}

async function admin(url: string, path: string, init?: { method: string; body?: unknown }): Promise<unknown> {
  const res = await fetch(`${url}/__emulator${path}`, {
    method: init?.method ?? "GET",
    ...(init?.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return res.status === 204 ? null : res.json();
}

/** Fresh rate windows and an empty request log for the next contender (and, with `state`, a fresh account). */
async function resetFor(url: string, state: boolean): Promise<void> {
  if (state) await admin(url, "/reset", { method: "POST" });
  await admin(url, "/config", { method: "PUT", body: { rateLimits: "real" } });
  await admin(url, "/requests", { method: "DELETE" });
}

/** The 429s the emulator answered since the last reset: the server's count, the same for every contender. */
async function throttled(url: string): Promise<number> {
  const { requests } = (await admin(url, "/requests")) as { requests: Array<{ status: number }> };
  return requests.filter((r) => r.status === 429).length;
}

/** The floor (see the module comment), in seconds, for `requests` requests under burst/s and steady/min windows. */
function floorSeconds(requests: number, burst: number, steady: number, network: Network): number {
  const last = requests - 1;
  const opens = Math.max(Math.floor(last / burst), 60 * Math.floor(last / steady));
  return Math.max(opens, network.mean / 1000) + network.mean / 1000;
}

function event(i: number): Record<string, unknown> {
  return {
    metric: "Bench Order",
    profile: { email: `bench-${i % 1000}@example.com` },
    properties: { i, sku: `SKU-${i % 97}` },
    time: "2026-07-15T12:00:00Z",
    value: i % 50,
    unique_id: `bench-${i}`,
  };
}

/**
 * The entries of one Bulk Create Events request from event `from` (1000 of them, at most), each one event of one
 * profile; `naming` gives the attributes whose names or types a caller writes its own way.
 */
function bulkEntries(
  from: number,
  naming: (e: Record<string, unknown>) => Record<string, unknown>,
): unknown[] {
  const data: unknown[] = [];
  for (let i = from; i < Math.min(EVENTS, from + 1000); i++) {
    const e = event(i);
    const attributes = {
      properties: e.properties,
      value: e.value,
      metric: { data: { type: "metric", attributes: { name: e.metric } } },
      ...naming(e),
    };
    data.push({
      type: "event-bulk-create",
      attributes: {
        profile: { data: { type: "profile", attributes: e.profile } },
        events: { data: [{ type: "event", attributes }] },
      },
    });
  }
  return data;
}

async function* events(n: number): AsyncGenerator<Record<string, unknown>> {
  for (let i = 0; i < n; i++) yield event(i);
}

/**
 * Wall time of `fn`, started on a rate-window boundary (a whole second of the epoch, as Klaviyo's windows and
 * the emulator's are aligned), the same start the floor assumes, for every contender alike.
 */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000)));
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

async function eventCount(url: string): Promise<number> {
  return ((await admin(url, "/health")) as { resources: { events: number } }).resources.events;
}

/**
 * A plain fetch loop as a careful user writes one: on a 429 it waits the `Retry-After` Klaviyo sends and sends
 * again (without it a loop "finishes" having stored nothing).
 */
async function fetchPolitely(url: string, init: RequestInit): Promise<Response> {
  for (;;) {
    const res = await fetch(url, init);
    if (res.status !== 429) return res;
    await res.arrayBuffer();
    const wait = Number(res.headers.get("retry-after") ?? 1);
    await new Promise((resolve) => setTimeout(resolve, 1000 * (Number.isFinite(wait) ? wait : 1)));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const HEADERS = { revision: "2026-07-15", Accept: "application/vnd.api+json" };

/** A contender's run: wall time and the 429s it met. */
interface Run {
  seconds: number;
  throttled: number;
}

function line(label: string, run: Run, floor: number, extra = ""): void {
  console.log(
    `   ${label.padEnd(34)} ${run.seconds.toFixed(2).padStart(7)} s   floor/time ${(floor / run.seconds).toFixed(2)}   429s ${run.throttled}${extra}`,
  );
}

/** The figures of one part at one network: floor / time and the 429s, ours beside the peers'. */
function figures(what: string, network: Network, floor: number, ours: Run, peers: Record<string, Run>): void {
  const at = `at ${network.text} ms each way`;
  results.push({
    name: `${what} ${at}: floor / wall time`,
    unit: "ratio",
    value: floor / ours.seconds,
    peer: Object.fromEntries(Object.entries(peers).map(([k, r]) => [k, floor / r.seconds])),
    ceiling: 1,
  });
  results.push({
    name: `${what} ${at}: wall time`,
    unit: "s",
    value: ours.seconds,
    peer: Object.fromEntries(Object.entries(peers).map(([k, r]) => [k, r.seconds])),
    ceiling: floor,
  });
  results.push({
    name: `${what} ${at}: 429 answers`,
    unit: "count",
    value: ours.throttled,
    peer: Object.fromEntries(Object.entries(peers).map(([k, r]) => [k, r.throttled])),
    ceiling: 0,
  });
}

// 1. Ingestion, with the defaults: the concurrency is sized by the tier and the latency the client observes.
if (PARTS.has("ingest")) {
  for (const network of NETWORKS) {
    const { url, child } = await emulator(networkArgs(network));
    try {
      const requests = Math.ceil(EVENTS / 1000);
      const floor = floorSeconds(requests, 10, 150, network);
      await resetFor(url, true);
      const client = new KlaviyoClient({ apiKey: KEY, baseUrl: url });
      const seconds = await timed(async () => {
        const result = await ingestEvents(client, events(EVENTS));
        if (!result.complete)
          throw new Error(`ingestion incomplete: ${JSON.stringify({ ...result, requests: undefined })}`);
      });
      const ours = { seconds, throttled: await throttled(url) };
      const stored = await eventCount(url);
      if (stored !== EVENTS) throw new Error(`ingestion stored ${stored} of ${EVENTS} events`);

      await resetFor(url, true);
      const sdkApi = new EventsApi(new ApiKeySession(KEY));
      sdkApi.basePath = url;
      const sdkSeconds = await timed(async () => {
        for (let from = 0; from < EVENTS; from += 1000) {
          // The SDK's own names (camelCase, a Date), which it turns into the wire's.
          const data = bulkEntries(from, (e) => ({
            time: new Date(e.time as string),
            uniqueId: e.unique_id,
          }));
          await sdkApi.bulkCreateEvents({
            data: { type: "event-bulk-create-job", attributes: { eventsBulkCreate: { data } } },
          } as never);
        }
      });
      const sdk = { seconds: sdkSeconds, throttled: await throttled(url) };
      if ((await eventCount(url)) !== EVENTS) throw new Error("the SDK loop did not store every event");

      await resetFor(url, true);
      const plainSeconds = await timed(async () => {
        for (let from = 0; from < EVENTS; from += 1000) {
          const data = bulkEntries(from, (e) => ({ time: e.time, unique_id: e.unique_id }));
          const res = await fetchPolitely(`${url}/api/event-bulk-create-jobs`, {
            method: "POST",
            headers: {
              ...HEADERS,
              Authorization: `Klaviyo-API-Key ${KEY}`,
              "Content-Type": "application/vnd.api+json",
            },
            body: JSON.stringify({
              data: { type: "event-bulk-create-job", attributes: { "events-bulk-create": { data } } },
            }),
          });
          if (res.status !== 202) throw new Error(`plain fetch: ${res.status} ${await res.text()}`);
          await res.arrayBuffer();
        }
      });
      const plain = { seconds: plainSeconds, throttled: await throttled(url) };
      if ((await eventCount(url)) !== EVENTS)
        throw new Error("the plain fetch loop did not store every event");

      console.log(
        `\n1. Ingest ${EVENTS} events, ${requests} requests (network ${network.text} ms each way; 10/s, 150/m; floor ${floor.toFixed(2)} s)`,
      );
      line("klaviyo-connector (defaults)", ours, floor, `   (${stored} events stored)`);
      line("official SDK loop", sdk, floor);
      line("plain fetch loop", plain, floor);
      figures(`ingest ${EVENTS} events`, network, floor, ours, {
        "klaviyo-api": sdk,
        "plain fetch": plain,
      });
    } finally {
      child.kill("SIGTERM");
    }
  }
}

// 2. Export, with the defaults: time partitions, as many walked at once as the latency asks for.
if (PARTS.has("export")) {
  for (const network of NETWORKS) {
    const { url, child } = await emulator([...networkArgs(network), "--seed-profiles", String(PROFILES)]);
    try {
      const pages = Math.ceil(PROFILES / 100);
      const floor = floorSeconds(pages, 75, 750, network);
      const count = async (items: AsyncIterable<{ id: string }>) => {
        const ids = new Set<string>();
        for await (const item of items) ids.add(item.id);
        return ids.size;
      };
      // Ours is quick: the median of REPEAT runs, each from fresh rate windows and a fresh client (which knows
      // nothing of the network yet).
      const runs: Run[] = [];
      for (let r = 0; r < REPEAT; r++) {
        await resetFor(url, false);
        let seen = 0;
        const seconds = await timed(async () => {
          const client = new KlaviyoClient({ apiKey: KEY, baseUrl: url });
          seen = await count(
            partitionedItems<{ id: string }>(client, {
              method: "GET",
              path: "/api/profiles",
              operation: "get_profiles",
            }),
          );
        });
        if (seen !== PROFILES) throw new Error(`partitioned export saw ${seen} of ${PROFILES}`);
        runs.push({ seconds, throttled: await throttled(url) });
      }
      const ours = {
        seconds: median(runs.map((r) => r.seconds)),
        throttled: runs.reduce((sum, r) => sum + r.throttled, 0),
      };

      await resetFor(url, false);
      const profiles = new ProfilesApi(new ApiKeySession(KEY));
      profiles.basePath = url;
      const sdkSeconds = await timed(async () => {
        let cursor: string | undefined;
        let n = 0;
        do {
          const page = await profiles.getProfiles({
            pageSize: 100,
            ...(cursor ? { pageCursor: cursor } : {}),
          });
          n += page.body.data.length;
          // The README passes links.next whole; the SDK extracts the cursor itself only from https:// links, so
          // against the emulator's http:// address we take it out as a user would.
          const next = page.body.links?.next;
          cursor = next ? (new URL(next).searchParams.get("page[cursor]") ?? undefined) : undefined;
        } while (cursor);
        if (n !== PROFILES) throw new Error(`SDK walk saw ${n}`);
      });
      const sdk = { seconds: sdkSeconds, throttled: await throttled(url) };

      await resetFor(url, false);
      const plainSeconds = await timed(async () => {
        let next: string | undefined = `${url}/api/profiles?page%5Bsize%5D=100`;
        let n = 0;
        while (next) {
          const res = await fetchPolitely(next, {
            headers: { ...HEADERS, Authorization: `Klaviyo-API-Key ${KEY}` },
          });
          const body = (await res.json()) as { data: unknown[]; links?: { next?: string } };
          n += body.data.length;
          next = body.links?.next;
        }
        if (n !== PROFILES) throw new Error(`plain fetch walk saw ${n}`);
      });
      const plain = { seconds: plainSeconds, throttled: await throttled(url) };

      console.log(
        `\n2. Export ${PROFILES} profiles, ${pages} pages of 100 (network ${network.text} ms each way; 75/s, 750/m; floor ${floor.toFixed(2)} s)`,
      );
      line(
        "klaviyo-connector (defaults)",
        ours,
        floor,
        `   (median of ${REPEAT}: ${runs.map((r) => r.seconds.toFixed(2)).join(", ")} s; 429s of all runs)`,
      );
      line("official SDK loop", sdk, floor, `   (${(sdk.seconds / ours.seconds).toFixed(1)}x slower)`);
      line("plain fetch loop", plain, floor);
      figures(`export ${PROFILES} profiles`, network, floor, ours, {
        "klaviyo-api": sdk,
        "plain fetch": plain,
      });
    } finally {
      child.kill("SIGTERM");
    }
  }
}

// 4. Memory.
if (PARTS.has("memory")) {
  const dir = mkdtempSync(join(tmpdir(), "klaviyo-bench-"));
  try {
    const file = join(dir, "events.ndjson");
    const out = createWriteStream(file);
    for (let i = 0; i < MEMORY_EVENTS; i++) {
      if (!out.write(`${JSON.stringify(event(i))}\n`))
        await new Promise<void>((r) => out.once("drain", () => r()));
    }
    await new Promise<void>((r) => out.end(() => r()));
    const { url, child } = await emulator([
      "--rate-limits",
      "scale=50",
      "--seed-profiles",
      String(MEMORY_PROFILES),
    ]);
    try {
      const measure = (args: string[]): { mb: number; code: number } => {
        const script = `import { main } from ${JSON.stringify(join(fileURLToPath(new URL("..", import.meta.url)), "dist/cli/main.js"))};
const code = await main(["node", "klaviyo", ...${JSON.stringify(args)}], { stdout: () => {}, stderr: () => {} });
console.log(process.resourceUsage().maxRSS, code);`;
        const text = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
          env: { ...process.env, KLAVIYO_API_KEY: KEY, KLAVIYO_BASE_URL: url },
          encoding: "utf8",
        });
        const [kb, code] = text.trim().split(/\s+/).map(Number);
        return { mb: (kb ?? 0) / 1024, code: code ?? -1 };
      };
      const ingest = measure(["ingest", "events", file, "--rate-limit-scale", "50"]);
      const exported = measure(["run", "list-profile", "--all", "--rate-limit-scale", "50"]);
      console.log(`\n4. Memory (peak RSS of the process doing the work)`);
      console.log(
        `   ingest ${MEMORY_EVENTS} events from NDJSON      ${ingest.mb.toFixed(0)} MB (exit ${ingest.code}, ${await eventCount(url)} events stored)`,
      );
      console.log(
        `   export ${MEMORY_PROFILES} profiles to NDJSON    ${exported.mb.toFixed(0)} MB (exit ${exported.code})`,
      );
      results.push({
        name: `peak RSS ingesting ${MEMORY_EVENTS} events from NDJSON`,
        unit: "MB",
        value: ingest.mb,
        peer: {},
        ceiling: 150,
      });
      results.push({
        name: `peak RSS exporting ${MEMORY_PROFILES} profiles to NDJSON`,
        unit: "MB",
        value: exported.mb,
        peer: {},
        ceiling: 150,
      });
    } finally {
      child.kill("SIGTERM");
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

record(results);
