/**
 * Throughput at the rate-limit ceiling, against the emulator on a real port with Klaviyo's real tier limits and
 * a fixed added latency per request (BENCH_LATENCY_MS, default 300 ms, about what Klaviyo's list endpoints take).
 * Contenders: this connector; Klaviyo's official Node SDK (`klaviyo-api`) driven the way its README shows (a loop
 * over pages; a loop over chunks of 1000 for bulk events); plain fetch where it makes sense.
 *
 *  1. Ingest N events (BENCH_EVENTS, default 100,000): wall time, and floor / time (target >= 0.90).
 *  2. Export P profiles (BENCH_PROFILES, default 20,000): wall time, floor / time (target >= 0.80), and the
 *     speed-up over the official SDK's sequential walk (target >= 5x).
 *  4. Memory: peak RSS of a process ingesting BENCH_MEMORY_EVENTS (default 1,000,000) events from an NDJSON file
 *     (limits scaled up, no latency) and of one exporting BENCH_MEMORY_PROFILES (default 100,000) profiles to
 *     NDJSON. Target <= 150 MB each.
 * (3 and 5, CPU per request and footprint, are in transport.bench.ts and footprint.bench.ts.)
 *
 * BENCH_PARTS=ingest,export,memory picks parts.
 *
 * The floor is the fastest any client could go under the limits: requests spread over 1-second (burst) and
 * 1-minute (steady) windows from a window boundary, plus one latency; so every timed run starts on a boundary.
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
import { RateLimiter } from "../src/core/rate-limit.js";
import { ingestEvents } from "../src/ingest/index.js";
import { type Figure, record } from "./results.js";

const KEY = "pk_bench_throughput_key_0123456789ab";
const LATENCY = Number(process.env.BENCH_LATENCY_MS ?? 300);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const PROFILES = Number(process.env.BENCH_PROFILES ?? 20_000);
/** Partitions of the parallel export, all walked at once. */
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 64);
/** Runs of this connector's parallel export; the median is reported. */
const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
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

async function admin(url: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${url}/__emulator${path}`, {
    method: body === undefined ? (path === "/reset" ? "POST" : "GET") : "PUT",
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return res.status === 204 ? null : res.json();
}

/** Fresh state and fresh rate windows for the next contender. */
async function resetFor(url: string): Promise<void> {
  await admin(url, "/reset");
  await admin(url, "/config", { rateLimits: "real" });
}

/** Start time of the last of `requests` requests under burst/s and steady/min windows, plus one latency. */
function floorSeconds(requests: number, burst: number, steady: number): number {
  const last = requests - 1;
  return Math.max(Math.floor(last / burst), 60 * Math.floor(last / steady)) + LATENCY / 1000;
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

// 1. Ingestion.
if (PARTS.has("ingest")) {
  const { url, child } = await emulator(["--latency", String(LATENCY), "--rate-limits", "real"]);
  try {
    const floor = floorSeconds(Math.ceil(EVENTS / 1000), 10, 150);
    await resetFor(url);
    const client = new KlaviyoClient({ apiKey: KEY, baseUrl: url, rateLimiter: new RateLimiter() });
    const ours = await timed(async () => {
      const result = await ingestEvents(client, events(EVENTS), {
        concurrency: Number(process.env.BENCH_CONCURRENCY ?? 20),
      });
      if (!result.complete)
        throw new Error(`ingestion incomplete: ${JSON.stringify({ ...result, requests: undefined })}`);
    });
    const stored = await eventCount(url);
    await resetFor(url);
    const sdkApi = new EventsApi(new ApiKeySession(KEY));
    sdkApi.basePath = url;
    const sdk = await timed(async () => {
      for (let from = 0; from < EVENTS; from += 1000) {
        const data = [];
        for (let i = from; i < Math.min(EVENTS, from + 1000); i++) {
          const e = event(i);
          data.push({
            type: "event-bulk-create",
            attributes: {
              profile: { data: { type: "profile", attributes: e.profile } },
              events: {
                data: [
                  {
                    type: "event",
                    attributes: {
                      properties: e.properties,
                      time: new Date(e.time as string),
                      value: e.value,
                      uniqueId: e.unique_id,
                      metric: { data: { type: "metric", attributes: { name: e.metric } } },
                    },
                  },
                ],
              },
            },
          });
        }
        await sdkApi.bulkCreateEvents({
          data: { type: "event-bulk-create-job", attributes: { eventsBulkCreate: { data } } },
        } as never);
      }
    });
    console.log(
      `\n1. Ingest ${EVENTS} events (${LATENCY} ms latency, 10/s burst, 150/m steady; floor ${floor.toFixed(1)} s)`,
    );
    console.log(
      `   klaviyo-connector   ${ours.toFixed(1)} s   floor/time ${(floor / ours).toFixed(2)}   (${stored} events stored)`,
    );
    console.log(`   official SDK loop   ${sdk.toFixed(1)} s   floor/time ${(floor / sdk).toFixed(2)}`);
    results.push({
      name: `ingest ${EVENTS} events: floor / wall time`,
      unit: "ratio",
      value: floor / ours,
      peer: { "klaviyo-api": floor / sdk },
      ceiling: 1,
    });
    results.push({
      name: `ingest ${EVENTS} events: wall time`,
      unit: "s",
      value: ours,
      peer: { "klaviyo-api": sdk },
      ceiling: floor,
    });
  } finally {
    child.kill("SIGTERM");
  }
}

// 2. Export.
if (PARTS.has("export")) {
  const { url, child } = await emulator([
    "--latency",
    String(LATENCY),
    "--rate-limits",
    "real",
    "--seed-profiles",
    String(PROFILES),
  ]);
  try {
    const pages = Math.ceil(PROFILES / 100);
    const floor = floorSeconds(pages, 75, 750);
    const client = () => new KlaviyoClient({ apiKey: KEY, baseUrl: url, rateLimiter: new RateLimiter() });
    const count = async (items: AsyncIterable<{ id: string }>) => {
      const ids = new Set<string>();
      for await (const item of items) ids.add(item.id);
      return ids.size;
    };
    let seen = 0;
    // Ours is quick: the median of REPEAT runs, each from fresh rate windows.
    const runs: number[] = [];
    for (let r = 0; r < REPEAT; r++) {
      await admin(url, "/config", { rateLimits: "real" });
      runs.push(
        await timed(async () => {
          seen = await count(
            partitionedItems<{ id: string }>(client(), {
              method: "GET",
              path: "/api/profiles",
              operation: "get_profiles",
              partitions: PARTITIONS,
              concurrency: PARTITIONS,
            }),
          );
        }),
      );
      if (seen !== PROFILES) throw new Error(`parallel export saw ${seen} of ${PROFILES}`);
    }
    const parallel = [...runs].sort((a, b) => a - b)[Math.floor(runs.length / 2)] as number;
    if (seen !== PROFILES) throw new Error(`parallel export saw ${seen} of ${PROFILES}`);
    await admin(url, "/config", { rateLimits: "real" });
    const sequential = await timed(async () => {
      seen = await count(client().paginateItems<{ id: string }>({ method: "GET", path: "/api/profiles" }));
    });
    await admin(url, "/config", { rateLimits: "real" });
    const profiles = new ProfilesApi(new ApiKeySession(KEY));
    profiles.basePath = url;
    const sdk = await timed(async () => {
      let cursor: string | undefined;
      let n = 0;
      do {
        const page = await profiles.getProfiles({ pageSize: 100, ...(cursor ? { pageCursor: cursor } : {}) });
        n += page.body.data.length;
        // The README passes links.next whole; the SDK extracts the cursor itself only from https:// links, so
        // against the emulator's http:// address we take it out as a user would.
        const next = page.body.links?.next;
        cursor = next ? (new URL(next).searchParams.get("page[cursor]") ?? undefined) : undefined;
      } while (cursor);
      if (n !== PROFILES) throw new Error(`SDK walk saw ${n}`);
    });
    await admin(url, "/config", { rateLimits: "real" });
    const plain = await timed(async () => {
      let next: string | undefined = `${url}/api/profiles?page%5Bsize%5D=100`;
      const headers = {
        Authorization: `Klaviyo-API-Key ${KEY}`,
        revision: "2026-07-15",
        Accept: "application/vnd.api+json",
      };
      while (next) {
        const res = await fetch(next, { headers });
        const body = (await res.json()) as { links?: { next?: string } };
        next = body.links?.next;
      }
    });
    console.log(
      `\n2. Export ${PROFILES} profiles (${pages} pages of 100; 75/s, 750/m; floor ${floor.toFixed(1)} s)`,
    );
    console.log(
      `   klaviyo-connector, ${PARTITIONS} partitions   ${parallel.toFixed(2)} s   floor/time ${(floor / parallel).toFixed(2)}   (median of ${REPEAT}: ${runs.map((r) => r.toFixed(2)).join(", ")} s)`,
    );
    console.log(`   klaviyo-connector, one cursor      ${sequential.toFixed(1)} s`);
    console.log(
      `   official SDK loop                  ${sdk.toFixed(1)} s   (${(sdk / parallel).toFixed(1)}x slower)`,
    );
    console.log(`   plain fetch loop                   ${plain.toFixed(1)} s`);
    results.push({
      name: `export ${PROFILES} profiles: floor / wall time`,
      unit: "ratio",
      value: floor / parallel,
      peer: {
        "klaviyo-api": floor / sdk,
        "plain fetch": floor / plain,
        "klaviyo-connector sequential": floor / sequential,
      },
      ceiling: 1,
    });
    results.push({
      name: `export ${PROFILES} profiles: speed-up over the official SDK`,
      unit: "x",
      value: sdk / parallel,
      peer: {},
      ceiling: null,
    });
  } finally {
    child.kill("SIGTERM");
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
