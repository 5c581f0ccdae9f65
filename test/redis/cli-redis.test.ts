/**
 * The CLI with KLAVIYO_REDIS_URL: its requests are counted in Redis (the keys appear there), and the command still
 * ends as soon as it is done (the Redis connection is closed with it). With Redis unreachable, the command works
 * all the same, saying once on stderr that it limits locally.
 */
import { createClient } from "@redis/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_API_KEY } from "../../src/emulator/index.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { requireBuild, runCli } from "../helpers/cli.js";
import { freePort, redisAvailable, startRedis, type TestRedis } from "../helpers/redis.js";

describe.skipIf(!redisAvailable())("klaviyo with KLAVIYO_REDIS_URL", () => {
  let redis: TestRedis;
  let emulator: RunningEmulator;
  beforeAll(async () => {
    requireBuild();
    redis = await startRedis();
    emulator = await startEmulator({ rateLimits: "real" });
  });
  afterAll(async () => {
    await emulator?.close();
    await redis?.stop();
  });

  it("counts its requests in Redis and exits when done", async () => {
    const result = await runCli(["run", "list-accounts"], {
      KLAVIYO_API_KEY: DEV_API_KEY,
      KLAVIYO_BASE_URL: emulator.url,
      KLAVIYO_REDIS_URL: redis.url,
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const keys = await client.keys("klaviyo:rl:*");
      expect(keys.some((k) => k.includes("get_accounts"))).toBe(true);
    } finally {
      await client.quit();
    }
  }, 30_000);

  it("with Redis unreachable: the command works, and says once that it limits locally", async () => {
    const result = await runCli(["run", "list-accounts"], {
      KLAVIYO_API_KEY: DEV_API_KEY,
      KLAVIYO_BASE_URL: emulator.url,
      KLAVIYO_REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    });
    expect(result.code).toBe(0);
    expect(result.stderr.match(/Redis unavailable/g)).toHaveLength(1);
  }, 30_000);
});
