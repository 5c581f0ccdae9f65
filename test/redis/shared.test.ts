/**
 * `redisRateLimiter(url)` (the CLI's KLAVIYO_REDIS_URL): the lazily made Redis store. With a real Redis, two limiters over two
 * connections (two URLs naming the same server: one URL is one connection per process) share one budget; without
 * a server, requests are counted locally and nothing fails.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisUrlFromEnv } from "../../src/cli/env.js";
import { KlaviyoClient } from "../../src/core/client.js";
import { RateLimiter } from "../../src/core/rate-limit.js";
import { createEmulator, DEV_API_KEY } from "../../src/emulator/index.js";
import { closeSharedStores, redisRateLimiter, redisStoreFor } from "../../src/redis/shared.js";
import { freePort, redisAvailable, startRedis, type TestRedis } from "../helpers/redis.js";

const tier = { credential: "key:test", tier: "get_accounts" };
// An hour's window: the three takes below fall in one, however long the first waits for its connection.
const windows = [{ limit: 2, lengthMs: 3_600_000 }];

describe("the CLI's redisUrlFromEnv", () => {
  it("reads KLAVIYO_REDIS_URL, trimmed, and nothing when it is empty", () => {
    expect(redisUrlFromEnv({ KLAVIYO_REDIS_URL: " redis://127.0.0.1:6379 " })).toBe("redis://127.0.0.1:6379");
    expect(redisUrlFromEnv({ KLAVIYO_REDIS_URL: "" })).toBeUndefined();
    expect(redisUrlFromEnv({})).toBeUndefined();
  });
});

describe("the lazy Redis store", () => {
  afterAll(async () => {
    await closeSharedStores();
  });

  it("with no server there, counts locally (one warning), and never fails a request", async () => {
    const logs: string[] = [];
    const store = redisStoreFor(`redis://127.0.0.1:${await freePort()}`, (m) => logs.push(m));
    expect(await store.take(tier, windows, 0, Date.now())).toBe(0);
    expect(await store.take(tier, windows, 0, Date.now())).toBe(0);
    expect(await store.take(tier, windows, 0, Date.now())).toBeGreaterThan(0);
    await store.block(tier, Date.now() + 5000, Date.now());
    expect(logs.filter((l) => /unavailable/i.test(l))).toHaveLength(1);
  });

  it("answers the same store for the same URL", () => {
    expect(redisStoreFor("redis://a.example:6379")).toBe(redisStoreFor("redis://a.example:6379"));
  });
});

describe.skipIf(!redisAvailable())("redisRateLimiter against a real Redis", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await closeSharedStores();
    await redis?.stop();
  });

  it("two limiters on one Redis share the windows: the third request of a 2-per-second window waits", async () => {
    const a = new RateLimiter({ store: redisStoreFor(redis.url) });
    const b = new RateLimiter({ store: redisStoreFor(`redis://localhost:${redis.port}`) });
    const key = "key:shared-test";
    const t = { name: "shared_test", burst: 2, steady: 0, daily: 0 };
    // Both connections made first (on another tier), so the timed part is only the counting.
    const warm = { name: "shared_warm_up", burst: 100, steady: 0, daily: 0 };
    await a.acquire(key, warm);
    await b.acquire(key, warm);
    // Start just after a second begins, so the three fall in one window.
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
    const started = Date.now();
    await a.acquire(key, t);
    await b.acquire(key, t);
    await a.acquire(key, t);
    expect(Date.now() - started).toBeGreaterThan(500);
  });

  it("a client given redisRateLimiter(url) runs requests through it, against the emulator", async () => {
    const emulator = createEmulator({ rateLimits: "off" });
    const client = new KlaviyoClient({
      apiKey: DEV_API_KEY,
      baseUrl: emulator.baseUrl,
      fetch: emulator.fetch,
      rateLimiter: redisRateLimiter(redis.url),
    });
    const res = await client.request({ method: "GET", path: "/api/accounts" });
    expect(res.status).toBe(200);
  });
});
