/**
 * Beyond one process: 8 worker processes sharing one account, against the emulator on a port at Klaviyo's real
 * limits (Bulk Create Events: 10 a second, 150 a minute) behind a network of BENCH_SHARED_NETWORK ms each way
 * (default 20-80: the request's delay before the emulator counts it, and the answer's), each sending its share of
 * BENCH_SHARED_REQUESTS (default 120) one-event requests, 4 at a time. Contenders: the limiters sharing their windows through Redis, and each
 * worker limiting in its own memory (today's default in every process). Figures: wall time from the first request
 * to the last answer, the floor (the fastest any set of clients could send them under the windows, from the run's
 * actual start: windows are aligned to the epoch, plus the mean answer delay), floor / time (target >= 0.9 with Redis), and the 429s.
 * Needs redis-server on the PATH (apt-get install -y redis-server); without it, says so and records nothing.
 */
import { startEmulator } from "../src/emulator/server.js";
import { redisServerPath, startRedis } from "../test/helpers/redis.js";
import { runWorkers, type WorkerResult } from "../test/redis/fixtures/workers.js";
import { type Figure, record } from "./results.js";

const WORKERS = 8;
const REQUESTS = Number(process.env.BENCH_SHARED_REQUESTS ?? 120);
const BURST = 10;
const STEADY = 150;
const NETWORK = process.env.BENCH_SHARED_NETWORK ?? "20-80";
const [LO, HI] = NETWORK.split("-").map(Number) as [number, number | undefined];
const DELAY: [number, number] = [LO, HI ?? LO];
const MEAN_DELAY_MS = (DELAY[0] + DELAY[1]) / 2;

/** The send time of the last of `n` requests started at `t0`, under fixed 1 s and 1 min windows aligned to the epoch. */
function floorMs(t0: number, n: number): number {
  let t = t0;
  let second = Math.floor(t / 1000);
  let minute = Math.floor(t / 60_000);
  let inSecond = 0;
  let inMinute = 0;
  for (let i = 0; i < n; i++) {
    for (;;) {
      const s = Math.floor(t / 1000);
      const m = Math.floor(t / 60_000);
      if (s !== second) [second, inSecond] = [s, 0];
      if (m !== minute) [minute, inMinute] = [m, 0];
      if (inSecond < BURST && inMinute < STEADY) break;
      t = inMinute >= STEADY ? (m + 1) * 60_000 : (s + 1) * 1000;
    }
    inSecond++;
    inMinute++;
  }
  return t - t0;
}

async function contender(label: string, redisUrl: string | undefined, n: number) {
  const apiKey = `pk_bench_shared_${n}_0123456789abcdef`;
  const emulator = await startEmulator({
    rateLimits: "real",
    apiKeys: [{ key: apiKey }],
    requestLatencyMs: DELAY,
    latencyMs: DELAY,
  });
  try {
    const results: WorkerResult[] = await runWorkers({
      baseUrl: emulator.url,
      apiKey,
      ...(redisUrl ? { redisUrl } : {}),
      firstWorker: n * 100,
      workers: WORKERS,
      each: Math.ceil(REQUESTS / WORKERS),
      concurrency: 4,
    });
    const start = Math.min(...results.map((r) => r.started));
    const end = Math.max(...results.map((r) => r.finished));
    const seconds = (end - start) / 1000;
    const floor = (floorMs(start, WORKERS * Math.ceil(REQUESTS / WORKERS)) + MEAN_DELAY_MS) / 1000;
    const throttled = results.reduce((sum, r) => sum + (r.statuses["429"] ?? 0), 0);
    const failed = results.reduce((sum, r) => sum + r.failed, 0);
    const stored = emulator.emulator.state.events.size;
    console.log(
      `   ${label.padEnd(24)} ${seconds.toFixed(1).padStart(6)} s  floor ${floor.toFixed(1)} s  ratio ${(floor / seconds).toFixed(2)}  429s ${throttled}  failed ${failed}  events ${stored}`,
    );
    return { seconds, floor, ratio: floor / seconds, throttled };
  } finally {
    await emulator.close();
  }
}

if (!redisServerPath()) {
  console.log("shared-limits: redis-server is not on the PATH (apt-get install -y redis-server); skipped");
} else {
  const redis = await startRedis();
  try {
    console.log(
      `\nShared limits: ${WORKERS} worker processes, one account, ${REQUESTS} requests at 10/s, 150/min, network ${NETWORK} ms each way`,
    );
    const shared = await contender("Redis store", redis.url, 1);
    const local = await contender("in-memory per worker", undefined, 2);
    const figures: Figure[] = [
      {
        name: `${WORKERS} workers sharing one account at ${NETWORK} ms each way: floor / time`,
        unit: "ratio",
        value: shared.ratio,
        peer: { "in-memory limiters": local.ratio },
        ceiling: 1,
      },
      {
        name: `${WORKERS} workers sharing one account at ${NETWORK} ms each way: 429 answers`,
        unit: "count",
        value: shared.throttled,
        peer: { "in-memory limiters": local.throttled },
        ceiling: null,
      },
    ];
    record(figures);
  } finally {
    await redis.stop();
  }
}
