import { execFileSync } from "node:child_process";
import { createClient } from "@redis/client";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { RateLimiter } from "../../src/core/rate-limit.js";
import { InMemoryRateLimitStore, type RateLimitKey } from "../../src/core/rate-store.js";
import { DAY, MINUTE, SECOND, type WindowSpec, windowStart } from "../../src/klaviyo/rate-window.js";
import {
  BACK_MESSAGE,
  createRedisRateLimitStore,
  type RedisCommandClient,
  type RedisRateLimitStore,
  type RedisRateLimitStoreOptions,
  UNAVAILABLE_MESSAGE,
} from "../../src/redis/rate-store.js";
import { freePort, redisAvailable, startRedis, type TestRedis } from "../helpers/redis.js";

const KEY: RateLimitKey = { credential: "acct-1", tier: "get_campaigns" };
const BURST10 = { name: "get_campaigns", burst: 10, steady: 0, daily: 0 };

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The pid listening on a loopback port (from `ss`), or undefined where `ss` cannot tell. */
function listenerPid(port: number): number | undefined {
  try {
    const out = execFileSync("ss", ["-ltnpH", `sport = :${port}`], { encoding: "utf8" });
    const pid = /pid=(\d+)/.exec(out)?.[1];
    return pid ? Number(pid) : undefined;
  } catch {
    return undefined;
  }
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await sleep(20);
  }
}

describe("the Redis store without a server to talk to", () => {
  it("a command that does not answer in time is counted locally, said once, and nothing throws", async () => {
    const messages: string[] = [];
    const hung: RedisCommandClient = { sendCommand: () => new Promise(() => {}) };
    const store = await createRedisRateLimitStore({
      client: hung,
      logger: (m) => messages.push(m),
      commandTimeoutMs: 100,
    });
    const windows: WindowSpec[] = [{ limit: 2, lengthMs: SECOND }];
    // The command never answers: the take still does (or the test would time out), counted locally.
    expect(await store.take(KEY, windows, 0, 10_100)).toBe(0);
    expect(store.usingRedis).toBe(false);
    // From now on, locally at once (no waiting on the hung server), with the same limits.
    expect(await store.take(KEY, windows, 0, 10_200)).toBe(0);
    expect(await store.take(KEY, windows, 0, 10_300)).toBe(700);
    await store.block(KEY, 20_000, 10_300);
    expect(await store.take(KEY, windows, 0, 11_000)).toBe(9_000);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(UNAVAILABLE_MESSAGE);
    await store.close();
  });

  it("starts (locally) when the server cannot be reached, and says so once", async () => {
    const messages: string[] = [];
    const store = await createRedisRateLimitStore({
      url: `redis://127.0.0.1:${await freePort()}`,
      logger: (m) => messages.push(m),
      connectTimeoutMs: 200,
    });
    expect(store.usingRedis).toBe(false);
    for (let i = 0; i < 5; i++)
      expect(await store.take(KEY, [{ limit: 3, lengthMs: SECOND }], 0, 5_000 + i)).toBe(
        i < 3 ? 0 : SECOND - i,
      );
    expect(messages.filter((m) => m.includes(UNAVAILABLE_MESSAGE))).toHaveLength(1);
    await store.close();
  });

  it("needs a url or a client", async () => {
    await expect(createRedisRateLimitStore({})).rejects.toThrow(/url or a client/);
  });
});

describe.skipIf(!redisAvailable())("the Redis rate-limit store, against a real redis-server", () => {
  let redis: TestRedis;
  const stores: RedisRateLimitStore[] = [];
  let run = 0;

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await redis?.stop();
  });

  /** A store of its own ("a worker"), on a prefix shared by the stores of one test. */
  async function worker(
    prefix: string,
    options: RedisRateLimitStoreOptions = {},
  ): Promise<RedisRateLimitStore> {
    // Every worker sees the server stop in the outage test: only that test's own logger is looked at.
    const store = await createRedisRateLimitStore({ url: redis.url, prefix, logger: () => {}, ...options });
    stores.push(store);
    return store;
  }
  const fresh = () => `t${process.pid}-${run++}:`;

  /** The keys under a prefix, each with its time to live in ms (-1: none). */
  async function keysOf(prefix: string): Promise<Array<[string, number]>> {
    const client = createClient({ url: redis.url });
    client.on("error", () => {});
    await client.connect();
    try {
      const keys = (await client.keys(`${prefix}*`)).sort();
      return await Promise.all(keys.map(async (k): Promise<[string, number]> => [k, await client.pTTL(k)]));
    } finally {
      await client.close();
    }
  }

  it("two workers share one budget: 30 concurrent requests at 10/s, never more than 10 in a second", async () => {
    const prefix = fresh();
    const pair = [await worker(prefix), await worker(prefix)];
    const limiters = pair.map((store) => new RateLimiter({ store, guardMs: 100 }));
    const admitted: number[] = [];
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        limiters[i % 2]?.acquire("acct-1", BURST10).then(() => admitted.push(Date.now())),
      ),
    );
    const perSecond = new Map<number, number>();
    for (const t of admitted)
      perSecond.set(windowStart(t, SECOND), (perSecond.get(windowStart(t, SECOND)) ?? 0) + 1);
    expect(admitted).toHaveLength(30);
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(10);
    expect(perSecond.size).toBeGreaterThanOrEqual(3);
    expect(pair.every((s) => s.usingRedis)).toBe(true);
  });

  it("the script is atomic: 100 concurrent takes from 4 workers with room for 10 admit exactly 10", async () => {
    const prefix = fresh();
    const workers = await Promise.all([1, 2, 3, 4].map(() => worker(prefix)));
    const windows: WindowSpec[] = [
      { limit: 150, lengthMs: MINUTE },
      { limit: 10, lengthMs: SECOND },
    ];
    const now = 1_800_000_000_500;
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => workers[i % 4]?.take(KEY, windows, 50, now)),
    );
    expect(answers.filter((a) => a === 0)).toHaveLength(10);
    expect(answers.filter((a) => a === 500)).toHaveLength(90);
    // The block key is absent (never set); one counter per window, each expiring a window after its end.
    const keys = await keysOf(prefix);
    expect(keys.map(([k]) => k)).toEqual([
      `${prefix}{acct-1:get_campaigns}:1000:1800000000000`,
      `${prefix}{acct-1:get_campaigns}:60000:1800000000000`,
    ]);
    const [burstTtl, steadyTtl] = keys.map(([, ttl]) => ttl);
    expect(burstTtl).toBeGreaterThan(1_000);
    expect(burstTtl).toBeLessThanOrEqual(1_500);
    expect(steadyTtl).toBeGreaterThan(110_000);
    expect(steadyTtl).toBeLessThanOrEqual(119_500);
  });

  it("the daily window is shared: the day's last request goes from either worker, then both wait for the next day", async () => {
    const prefix = fresh();
    const [a, b] = [await worker(prefix), await worker(prefix)];
    const windows: WindowSpec[] = [
      { limit: 100, lengthMs: MINUTE },
      { limit: 10, lengthMs: SECOND },
      { limit: 3, lengthMs: DAY },
    ];
    const day = 20_000 * DAY;
    expect(await a.take(KEY, windows, 50, day + 1_000)).toBe(0);
    expect(await b.take(KEY, windows, 50, day + 2_000)).toBe(0);
    expect(await a.take(KEY, windows, 50, day + 3 * MINUTE)).toBe(0);
    expect(await b.take(KEY, windows, 50, day + 4 * MINUTE)).toBe(DAY - 4 * MINUTE);
    expect(await a.take(KEY, windows, 50, day + 5 * MINUTE)).toBe(DAY - 5 * MINUTE);
    expect(await b.take(KEY, windows, 50, day + DAY)).toBe(0);
    // Another account has its own day.
    expect(await b.take({ ...KEY, credential: "acct-2" }, windows, 50, day + 6 * MINUTE)).toBe(0);
  });

  it("a block (Retry-After) seen by one worker holds the others back; a shorter one does not shorten it", async () => {
    const prefix = fresh();
    const [a, b] = [await worker(prefix), await worker(prefix)];
    const windows: WindowSpec[] = [{ limit: 10, lengthMs: SECOND }];
    await a.block(KEY, 15_000, 10_000);
    await a.block(KEY, 12_000, 10_000);
    expect(await b.take(KEY, windows, 50, 10_000)).toBe(5_000);
    expect(await b.take(KEY, windows, 50, 14_000)).toBe(1_000);
    expect(await b.take(KEY, windows, 50, 15_000)).toBe(0);
    const [block] = (await keysOf(prefix)).filter(([k]) => k.endsWith(":block"));
    expect(block?.[1]).toBeGreaterThan(5_000);
    expect(block?.[1]).toBeLessThanOrEqual(6_000);

    // Through two limiters: one observes a 429's Retry-After, the other's next request waits it out.
    const clock = new FakeClock(100_000);
    const [la, lb] = [
      new RateLimiter({ clock, store: await worker(prefix) }),
      new RateLimiter({ clock, store: await worker(prefix) }),
    ];
    la.observe("acct-1", BURST10, { observedAt: 100_000, retryAfterMs: 3_000 });
    await sleep(50); // observe does not wait for the write
    await lb.acquire("acct-1", BURST10);
    expect(clock.now()).toBe(103_000);
  });

  it("property: answers exactly as the in-memory store, for any takes, blocks and guard", async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("take" as const), key: fc.nat(1), dt: fc.nat(300) }),
      fc.record({ kind: fc.constant("block" as const), key: fc.nat(1), dt: fc.nat(300), ms: fc.nat(2000) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 40 }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom(0, 50, 200),
        async (ops, burst, guard) => {
          const prefix = fresh();
          const shared = await createRedisRateLimitStore({ url: redis.url, prefix });
          const local = new InMemoryRateLimitStore();
          const windows: WindowSpec[] = [
            { limit: burst * 3, lengthMs: 5 * SECOND },
            { limit: burst, lengthMs: SECOND },
          ];
          let t = 1_700_000_000_000;
          try {
            for (const o of ops) {
              t += o.dt;
              const key = { credential: `c${o.key}`, tier: "t" };
              if (o.kind === "block") {
                await shared.block(key, t + o.ms, t);
                local.block(key, t + o.ms);
              } else {
                expect(await shared.take(key, windows, guard, t)).toBe(local.take(key, windows, guard, t));
              }
            }
            expect(shared.usingRedis).toBe(true);
          } finally {
            await shared.close();
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it("uses a client it is given, and leaves it open on close", async () => {
    const client = createClient({ url: redis.url });
    client.on("error", () => {});
    await client.connect();
    const prefix = fresh();
    const store = await createRedisRateLimitStore({ client, prefix });
    expect(await store.take(KEY, [{ limit: 1, lengthMs: SECOND }], 0, 1_000)).toBe(0);
    expect(await store.take(KEY, [{ limit: 1, lengthMs: SECOND }], 0, 1_500)).toBe(500);
    await store.close();
    expect(client.isReady).toBe(true);
    expect(await client.keys(`${prefix}*`)).toHaveLength(1);
    await client.close();
  });

  it("Redis stopped mid-run: limits locally and says so once; restarted: back to Redis, said once; nothing throws", async () => {
    const prefix = fresh();
    const messages: string[] = [];
    const store = await worker(prefix, { logger: (m) => messages.push(m) });
    const windows: WindowSpec[] = [{ limit: 3, lengthMs: SECOND }];
    let t = 50_000_000;
    expect(await store.take(KEY, windows, 0, t)).toBe(0);
    expect(await keysOf(prefix)).toHaveLength(1);

    await redis.stop();
    const limiter = new RateLimiter({ store, clock: new FakeClock(t) });
    const answers: number[] = [];
    for (let i = 0; i < 20; i++) {
      t += 100;
      answers.push(await store.take(KEY, windows, 0, t));
      await store.block({ ...KEY, tier: "other" }, t + 10, t);
    }
    await limiter.acquire("acct-1", BURST10);
    limiter.observe("acct-1", BURST10, { observedAt: t, retryAfterMs: 1000 });
    expect(store.usingRedis).toBe(false);
    // Counted locally, with the same windows: three per second.
    const perSecond = new Map<number, number>();
    answers.forEach((a, i) => {
      if (a === 0) {
        const at = windowStart(50_000_000 + 100 * (i + 1), SECOND);
        perSecond.set(at, (perSecond.get(at) ?? 0) + 1);
      }
    });
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(3);
    expect(answers.filter((a) => a === 0).length).toBeGreaterThanOrEqual(5);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(UNAVAILABLE_MESSAGE);

    await redis.start();
    await until(() => messages.length >= 2, 5_000);
    expect(messages).toEqual([expect.stringContaining(UNAVAILABLE_MESSAGE), BACK_MESSAGE]);
    expect(store.usingRedis).toBe(true);
    // Counted in Redis again (an empty server: the script is sent again with EVAL).
    t += 10_000;
    expect(await store.take(KEY, windows, 0, t)).toBe(0);
    expect(await keysOf(prefix)).toHaveLength(1);
    await sleep(100);
    expect(messages).toHaveLength(2);
  });
  it("a server that stops answering (SIGSTOP): local after the command timeout, back once it answers again", async (ctx) => {
    const pid = listenerPid(redis.port);
    if (!pid) ctx.skip();
    const prefix = fresh();
    const messages: string[] = [];
    const store = await worker(prefix, { logger: (m) => messages.push(m), commandTimeoutMs: 150 });
    const windows: WindowSpec[] = [{ limit: 2, lengthMs: SECOND }];
    expect(await store.take(KEY, windows, 0, 70_000_000)).toBe(0);
    process.kill(pid as number, "SIGSTOP");
    try {
      expect(await store.take(KEY, windows, 0, 70_000_100)).toBe(0); // waited 150 ms, then counted locally
      expect(store.usingRedis).toBe(false);
      expect(await store.take(KEY, windows, 0, 70_000_200)).toBe(0); // locally now
      expect(await store.take(KEY, windows, 0, 70_000_300)).toBe(700);
    } finally {
      process.kill(pid as number, "SIGCONT");
    }
    await until(() => messages.length >= 2, 5_000);
    expect(messages).toEqual([expect.stringContaining("no answer within 150 ms"), BACK_MESSAGE]);
    expect(await store.take(KEY, windows, 0, 80_000_000)).toBe(0);
    expect(store.usingRedis).toBe(true);
  });
});
