/**
 * The transport's CPU cost per request, next to plain `fetch` doing the same requests (GET /api/accounts/{id},
 * Get Account's call), measured as a ratio in one run: absolute times on a shared machine say little, ratios
 * taken side by side say more. Target: the client within 1.2x of plain fetch.
 *
 * 1. In-process: both sides call the emulator's `fetch` (its `app.fetch`), so the emulator's own work is in
 *    both numbers.
 * 2. Over loopback: the emulator runs in a child process, both sides use Node's global `fetch`, and only this
 *    process's CPU is counted: the client's cost alone, next to undici's.
 *
 * A third side, plain fetch with an AbortController timeout, shows what any caller pays for a timeout on Node 20
 * (a controller costs a few microseconds there): the client always has one.
 *
 * Rounds alternate between the sides so that drift on the machine (other load, JIT warm-up) falls on both.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { AccountsApi, ApiKeySession } from "klaviyo-api";
import { createEmulator, DEV_API_KEY } from "../src/emulator/index.js";
import { KlaviyoClient, RateLimiter } from "../src/index.js";
import { record } from "./results.js";

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

const N = Number(process.env.BENCH_REQUESTS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function measure(run: () => Promise<unknown>): Promise<number> {
  const start = cpuMicros();
  for (let i = 0; i < N; i++) await run();
  return (cpuMicros() - start) / N;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

async function compare(
  title: string,
  sides: Record<string, () => Promise<unknown>>,
): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
  for (const run of Object.values(sides)) for (let i = 0; i < 200; i++) await run(); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(sides)) samples[name]?.push(await measure(run));
  }
  const medians = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
  const base = medians["plain fetch"] ?? Number.NaN;
  console.log(`\n${title} (${N} requests x ${ROUNDS} rounds, median CPU per request)`);
  for (const [name, us] of Object.entries(medians)) {
    console.log(`  ${name.padEnd(34)} ${us.toFixed(1).padStart(7)} us   ${(us / base).toFixed(2)}x`);
  }
  return medians;
}

function sides(fetchImpl: Fetch, baseUrl: string, accountId: string): Record<string, () => Promise<unknown>> {
  const url = `${baseUrl}/api/accounts/${accountId}`;
  const headers = {
    Authorization: `Klaviyo-API-Key ${DEV_API_KEY}`,
    revision: "2026-07-15",
    Accept: "application/vnd.api+json",
  };
  const bare = new KlaviyoClient({ apiKey: DEV_API_KEY, baseUrl, fetch: fetchImpl, rateLimiter: false });
  // The limiter on, with limits so high it never waits: what counting costs.
  const limited = new KlaviyoClient({
    apiKey: DEV_API_KEY,
    baseUrl,
    fetch: fetchImpl,
    rateLimiter: new RateLimiter({ scale: 1e6 }),
  });
  return {
    "plain fetch": async () => {
      const res = await fetchImpl(url, { headers });
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      return res.json();
    },
    // What any caller pays for a timeout on fetch: a controller and a timer per request.
    "plain fetch + timeout signal": async () => {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 60_000);
      try {
        const res = await fetchImpl(url, { headers, signal: controller.signal });
        if (res.status !== 200) throw new Error(`status ${res.status}`);
        return await res.json();
      } finally {
        clearTimeout(timer);
      }
    },
    "KlaviyoClient.request": () => bare.request({ method: "GET", path: `/api/accounts/${accountId}` }),
    "KlaviyoClient.request + rate limiter": () =>
      limited.request({ method: "GET", path: `/api/accounts/${accountId}` }),
  };
}

async function startChildEmulator(): Promise<{ url: string; stop: () => void }> {
  const bin = fileURLToPath(new URL("../bin/klaviyo.js", import.meta.url));
  const child = spawn(process.execPath, [bin, "emulator", "--port", "0", "--rate-limits", "off"], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`emulator exited ${code}`)));
  });
  return { url, stop: () => child.kill("SIGTERM") };
}

const emulator = createEmulator({ rateLimits: "off" });
const inProcess = await compare(
  "In-process emulator (app.fetch)",
  sides(emulator.fetch, emulator.baseUrl, emulator.account.id),
);

const child = await startChildEmulator();
let loopback: Record<string, number>;
try {
  // Klaviyo's official Node SDK, used as its README shows, for the same call.
  const accounts = new AccountsApi(new ApiKeySession(DEV_API_KEY));
  accounts.basePath = child.url;
  loopback = await compare("Emulator in a child process, over loopback (this process's CPU only)", {
    ...sides((i, init) => fetch(i, init), child.url, emulator.account.id),
    "official SDK (klaviyo-api)": () => accounts.getAccount(emulator.account.id),
  });
} finally {
  child.stop();
}

const ratio = (m: Record<string, number>, base: string) => (m["KlaviyoClient.request"] ?? 0) / (m[base] ?? 1);
console.log(
  `\nclient / plain fetch: in-process ${ratio(inProcess, "plain fetch").toFixed(2)}x, loopback ${ratio(loopback, "plain fetch").toFixed(2)}x (target <= 1.20x)`,
);
console.log(
  `client / official SDK, loopback: ${((loopback["KlaviyoClient.request"] ?? 0) / (loopback["official SDK (klaviyo-api)"] ?? 1)).toFixed(2)}x`,
);
console.log(
  `client / plain fetch with a timeout: in-process ${ratio(inProcess, "plain fetch + timeout signal").toFixed(2)}x, loopback ${ratio(loopback, "plain fetch + timeout signal").toFixed(2)}x`,
);

const client = loopback["KlaviyoClient.request"] ?? Number.NaN;
record([
  {
    name: "CPU per request over loopback (latency 0, limits off)",
    unit: "us",
    value: client,
    peer: {
      "plain fetch": loopback["plain fetch"] ?? Number.NaN,
      "plain fetch + timeout signal": loopback["plain fetch + timeout signal"] ?? Number.NaN,
      "klaviyo-api": loopback["official SDK (klaviyo-api)"] ?? Number.NaN,
    },
    ceiling: 1.2 * (loopback["plain fetch"] ?? Number.NaN),
  },
  {
    name: "CPU per request over loopback: client / plain fetch",
    unit: "ratio",
    value: ratio(loopback, "plain fetch"),
    peer: { "klaviyo-api": (loopback["official SDK (klaviyo-api)"] ?? 0) / (loopback["plain fetch"] ?? 1) },
    ceiling: 1.2,
  },
  {
    name: "CPU per request in-process (app.fetch): client / plain fetch",
    unit: "ratio",
    value: ratio(inProcess, "plain fetch"),
    peer: {},
    ceiling: null,
  },
]);
