/**
 * Eight worker processes sharing one account, against the emulator at Klaviyo's real limits (Bulk Create Events:
 * 10 a second, 150 a minute). With the Redis store they share one budget: no 429, and the emulator's log shows no
 * window over its limit. With Redis stopped part-way, the run still completes, every event recorded exactly once.
 * (Throughput against the ceiling, and the in-memory comparison, are measured by bench/shared-limits.bench.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator } from "../../src/emulator/server.js";
import { redisAvailable, startRedis, type TestRedis } from "../helpers/redis.js";
import { fullestWindow, runWorkers, type WorkerResult } from "./fixtures/workers.js";

const WORKERS = 8;
const EACH = 10;

const total = (results: WorkerResult[], status: string) =>
  results.reduce((sum, r) => sum + (r.statuses[status] ?? 0), 0);

describe.skipIf(!redisAvailable())("8 workers sharing one account through Redis (real limits)", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("share one budget: no 429, no window over its limit, every event once", async () => {
    const apiKey = "pk_shared_limits_one_0123456789abcdef";
    const emulator = await startEmulator({ rateLimits: "real", apiKeys: [{ key: apiKey }] });
    try {
      // The guard band covers the time from a request's count to its arrival (a request counted at the end of a
      // second that arrives in the next one must have room there too). Here the emulator answers from this test's
      // process while the rest of the suite runs on the same two cores, so that time can pass 50 ms (CI saw two
      // 429s at the default): the workers keep 300 ms of guard. The bench runs at the default.
      const results = await runWorkers({
        baseUrl: emulator.url,
        apiKey,
        redisUrl: redis.url,
        firstWorker: 0,
        guardMs: 300,
      });
      expect(results.map((r) => r.failed)).toEqual(Array(WORKERS).fill(0));
      expect(total(results, "202")).toBe(WORKERS * EACH);
      expect(total(results, "429")).toBe(0);
      expect(fullestWindow(emulator, "bulk_create_events", 1000)).toBeLessThanOrEqual(10);
      expect(fullestWindow(emulator, "bulk_create_events", 60_000)).toBeLessThanOrEqual(150);
      expect(emulator.emulator.state.events.size).toBe(WORKERS * EACH);
      expect(results.flatMap((r) => r.logs)).toEqual([]);
    } finally {
      await emulator.close();
    }
  }, 60_000);

  it("Redis stopped part-way: the run completes, every event exactly once, every worker saw the outage and said it once", async () => {
    const apiKey = "pk_shared_limits_two_0123456789abcdef";
    const emulator = await startEmulator({ rateLimits: "real", apiKeys: [{ key: apiKey }] });
    try {
      const run = runWorkers({ baseUrl: emulator.url, apiKey, redisUrl: redis.url, firstWorker: 100 });
      // Redis stops once the run is under way and no worker can be done: at 8 of the 80 events recorded (each worker
      // has 10 to send, at 10 a second shared by all), not on a timer, which drifts from the workers' start on a
      // loaded machine (with a 4 s timer, a CI run once had a worker that never met the outage).
      await expect
        .poll(() => emulator.emulator.state.events.size, { timeout: 60_000, interval: 10 })
        .toBeGreaterThanOrEqual(8);
      await redis.stop();
      const results = await run;
      await redis.start();
      expect(results.map((r) => r.failed)).toEqual(Array(WORKERS).fill(0));
      expect(total(results, "202")).toBe(WORKERS * EACH);
      expect(emulator.emulator.state.events.size).toBe(WORKERS * EACH);
      // Every worker saw the outage. Each outage is said once and each return once: a worker whose first
      // connection was slow (eight processes starting at once on two cores) may have said so once more at start,
      // followed by its "back"; the run ends with Redis down, so the outages said are one more than the returns.
      for (const r of results) {
        const down = r.logs.filter((l) => /unavailable/i.test(l)).length;
        const back = r.logs.filter((l) => /is back/i.test(l)).length;
        expect(down, r.logs.join(" | ")).toBeGreaterThanOrEqual(1);
        expect(down, r.logs.join(" | ")).toBe(back + 1);
      }
    } finally {
      await emulator.close();
    }
  }, 90_000);
});
