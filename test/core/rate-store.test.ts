import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AuthStrategy } from "../../src/core/auth-strategy.js";
import { KlaviyoClient } from "../../src/core/client.js";
import { FakeClock } from "../../src/core/clock.js";
import { RateLimiter } from "../../src/core/rate-limit.js";
import { InMemoryRateLimitStore, type RateLimitKey, type RateLimitStore } from "../../src/core/rate-store.js";
import { createEmulator } from "../../src/emulator/index.js";
import { DAY, MINUTE, SECOND, type WindowSpec, windowStart } from "../../src/klaviyo/rate-window.js";

const KEY: RateLimitKey = { credential: "c1", tier: "get_campaigns" };
const BURST2: WindowSpec[] = [{ limit: 2, lengthMs: SECOND }];

/**
 * What a store must answer, from first principles: every take admitted so far, and the blocks asked for.
 * A request at `t` counts in its window, and in the next one when it is in the last `guard` ms of its window.
 * It is admitted when no block holds at `t` and each window it would count in has fewer than `limit` counted.
 * Refused, the wait is the longest of: the block's remaining time, and for each full window, the time to the
 * end of the window `t` is in.
 */
class Model {
  private readonly admitted = new Map<string, number[]>();
  private readonly blocks = new Map<string, number>();
  constructor(
    private readonly windows: readonly WindowSpec[],
    private readonly guard: number,
  ) {}

  private countsIn(times: number[], w: WindowSpec, start: number): number {
    let n = 0;
    for (const s of times) {
      const own = windowStart(s, w.lengthMs);
      const guarded = this.guard > 0 && own + w.lengthMs - s <= this.guard;
      if (own === start || (guarded && own + w.lengthMs === start)) n++;
    }
    return n;
  }

  take(key: string, t: number): number {
    const times = this.admitted.get(key) ?? [];
    let wait = (this.blocks.get(key) ?? 0) - t;
    for (const w of this.windows) {
      const start = windowStart(t, w.lengthMs);
      const left = start + w.lengthMs - t;
      const guarded = this.guard > 0 && left <= this.guard;
      const full =
        this.countsIn(times, w, start) >= w.limit ||
        (guarded && this.countsIn(times, w, start + w.lengthMs) >= w.limit);
      if (full) wait = Math.max(wait, left);
    }
    if (wait > 0) return wait;
    times.push(t);
    this.admitted.set(key, times);
    return 0;
  }

  block(key: string, until: number): void {
    this.blocks.set(key, Math.max(this.blocks.get(key) ?? 0, until));
  }
}

/** The in-memory store behind a promise: what a shared store looks like to the limiter. */
class AsyncStore implements RateLimitStore {
  readonly takes: number[] = [];
  readonly blocks: number[] = [];
  constructor(
    private readonly inner: InMemoryRateLimitStore,
    private readonly failBlock = false,
  ) {}
  async take(
    key: RateLimitKey,
    windows: readonly WindowSpec[],
    guardMs: number,
    now: number,
  ): Promise<number> {
    await Promise.resolve();
    this.takes.push(now);
    return this.inner.take(key, windows, guardMs, now);
  }
  async block(key: RateLimitKey, until: number): Promise<void> {
    this.blocks.push(until);
    if (this.failBlock) throw new Error("store down");
    this.inner.block(key, until);
  }
}

describe("the in-memory store, through the interface", () => {
  it("counts in fixed windows aligned to the epoch, and answers the wait to the window's end", () => {
    const store = new InMemoryRateLimitStore();
    expect(store.synchronous).toBe(true);
    expect(store.take(KEY, BURST2, 0, 10_100)).toBe(0);
    expect(store.take(KEY, BURST2, 0, 10_200)).toBe(0);
    expect(store.take(KEY, BURST2, 0, 10_300)).toBe(700);
    expect(store.waitMs(KEY, BURST2, 0, 10_999)).toBe(1);
    expect(store.take(KEY, BURST2, 0, 11_000)).toBe(0);
    // Credentials and tiers are counted apart.
    expect(store.take({ ...KEY, credential: "c2" }, BURST2, 0, 10_300)).toBe(0);
    expect(store.take({ ...KEY, tier: "other" }, BURST2, 0, 10_300)).toBe(0);
  });

  it("answers the longest wait of all windows (steady and daily as well as burst)", () => {
    const store = new InMemoryRateLimitStore();
    const windows: WindowSpec[] = [
      { limit: 3, lengthMs: MINUTE },
      { limit: 2, lengthMs: SECOND },
      { limit: 4, lengthMs: DAY },
    ];
    const t0 = 5 * DAY;
    expect(store.take(KEY, windows, 0, t0)).toBe(0);
    expect(store.take(KEY, windows, 0, t0 + 1)).toBe(0);
    expect(store.take(KEY, windows, 0, t0 + 2)).toBe(SECOND - 2);
    expect(store.take(KEY, windows, 0, t0 + SECOND)).toBe(0);
    expect(store.take(KEY, windows, 0, t0 + 2 * SECOND)).toBe(MINUTE - 2 * SECOND);
    expect(store.take(KEY, windows, 0, t0 + MINUTE)).toBe(0);
    // The day's fourth: the next waits for the next day.
    expect(store.take(KEY, windows, 0, t0 + 2 * MINUTE)).toBe(DAY - 2 * MINUTE);
    expect(store.take(KEY, windows, 0, t0 + DAY)).toBe(0);
  });

  it("counts a request in the guard band in the next window too", () => {
    const store = new InMemoryRateLimitStore();
    expect(store.take(KEY, BURST2, 50, 10_960)).toBe(0); // counted in [10 s, 11 s) and in [11 s, 12 s)
    expect(store.take(KEY, BURST2, 50, 10_970)).toBe(0);
    // The window has no room left, nor has the next: wait to the boundary, then find the next full as well.
    expect(store.take(KEY, BURST2, 50, 10_980)).toBe(20);
    expect(store.take(KEY, BURST2, 50, 11_000)).toBe(1000);
    expect(store.take(KEY, BURST2, 50, 12_000)).toBe(0);
    // A request before the band counts in its own window only.
    const other = { ...KEY, credential: "c3" };
    expect(store.take(other, BURST2, 50, 20_949)).toBe(0);
    expect(store.take(other, BURST2, 50, 20_950)).toBe(0); // in the band: counted in [21 s, 22 s) as well
    expect(store.take(other, BURST2, 50, 21_500)).toBe(0);
    expect(store.take(other, BURST2, 50, 21_600)).toBe(400);
  });

  it("a block holds every window back until it ends, and the latest block wins", () => {
    const store = new InMemoryRateLimitStore();
    store.block(KEY, 5_000); // before any request of the key
    expect(store.take(KEY, BURST2, 0, 1_000)).toBe(4_000);
    store.block(KEY, 3_000); // earlier: changes nothing
    expect(store.take(KEY, BURST2, 0, 2_000)).toBe(3_000);
    store.block(KEY, 9_000);
    expect(store.take(KEY, BURST2, 0, 5_000)).toBe(4_000);
    expect(store.take(KEY, BURST2, 0, 9_000)).toBe(0);
    expect(store.take({ ...KEY, credential: "c2" }, BURST2, 0, 1_000)).toBe(0);
  });

  it("property: answers exactly as the model, for any takes, blocks and guard", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("take" as const), key: fc.nat(2), dt: fc.nat(400) }),
      fc.record({ kind: fc.constant("block" as const), key: fc.nat(2), dt: fc.nat(400), ms: fc.nat(3000) }),
    );
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 200 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 3, max: 20 }),
        fc.constantFrom(0, 50, 200),
        (ops, burst, steady, guard) => {
          const windows: WindowSpec[] = [
            { limit: steady, lengthMs: 10 * SECOND },
            { limit: burst, lengthMs: SECOND },
          ];
          const store = new InMemoryRateLimitStore();
          const model = new Model(windows, guard);
          let t = 1_000_000;
          for (const o of ops) {
            t += o.dt;
            const key = { credential: `c${o.key}`, tier: "t" };
            if (o.kind === "block") {
              store.block(key, t + o.ms);
              model.block(key.credential, t + o.ms);
            } else {
              expect(store.take(key, windows, guard, t)).toBe(model.take(key.credential, t));
            }
          }
        },
      ),
    );
  });

  it("property: whatever the take times and network delays up to the guard, no window on the server exceeds its limit", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(30 * SECOND), fc.nat(50)), { maxLength: 400 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 60 }),
        (sends, burst, steady) => {
          const windows: WindowSpec[] = [
            { limit: steady, lengthMs: 10 * SECOND },
            { limit: burst, lengthMs: SECOND },
          ];
          const store = new InMemoryRateLimitStore();
          const arrivals: number[] = [];
          for (const [at, delay] of [...sends].sort((a, b) => a[0] - b[0])) {
            if (store.take(KEY, windows, 50, at) === 0) arrivals.push(at + delay);
          }
          for (const w of windows) {
            const per = new Map<number, number>();
            for (const t of arrivals)
              per.set(windowStart(t, w.lengthMs), (per.get(windowStart(t, w.lengthMs)) ?? 0) + 1);
            expect(Math.max(0, ...per.values())).toBeLessThanOrEqual(w.limit);
          }
          if (sends.length > 0) expect(arrivals.length).toBeGreaterThan(0);
        },
      ),
    );
  });
});

describe("RateLimiter with a store", () => {
  const XS = { name: "get_accounts", burst: 1, steady: 15, daily: 0 };

  it("uses the in-memory store by default: tryAcquire counts synchronously", () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter({ clock });
    expect(limiter.tryAcquire("k", XS)).toBe(true);
    expect(limiter.tryAcquire("k", XS)).toBe(false);
    expect(limiter.waitMs("k", XS)).toBe(1000);
  });

  it("with an asynchronous store: tryAcquire declines, acquire waits through the store, observe blocks in it", async () => {
    const clock = new FakeClock(0);
    const store = new AsyncStore(new InMemoryRateLimitStore());
    const limiter = new RateLimiter({ clock, store });
    expect(limiter.tryAcquire("k", XS)).toBe(false);
    expect(store.takes).toEqual([]); // nothing counted by the declined fast path
    expect(limiter.waitMs("k", XS)).toBe(0);
    await limiter.acquire("k", XS);
    await limiter.acquire("k", XS);
    expect(clock.now()).toBe(1000);
    limiter.observe("k", XS, { observedAt: 1000, retryAfterMs: 5000 });
    limiter.observe("k", XS, { observedAt: 1000, remaining: 3, resetSeconds: 9 }); // room left: no block
    expect(store.blocks).toEqual([6000]);
    await limiter.acquire("k", XS);
    expect(clock.now()).toBe(6000);
  });

  it("a failing block is swallowed (no unhandled rejection), and acquire stays abortable", async () => {
    const clock = new FakeClock(0);
    const store = new AsyncStore(new InMemoryRateLimitStore(), true);
    const limiter = new RateLimiter({ clock, store });
    limiter.observe("k", XS, { observedAt: 0, retryAfterMs: 1000 });
    await new Promise((r) => setImmediate(r));
    await limiter.acquire("k", XS);
    const controller = new AbortController();
    const pending = limiter.acquire("k", XS, controller.signal);
    controller.abort(new Error("stop"));
    await expect(pending).rejects.toThrow("stop");
  });

  it("through the transport: two clients with their own limiters over one shared store never collect a 429", async () => {
    const apiKey = "pk_rate_store_test_key_0123456789ab";
    const clock = new FakeClock(Date.parse("2026-11-26T12:00:00.000Z"));
    const emulator = createEmulator({ apiKeys: [{ key: apiKey }], clock });
    const shared = new InMemoryRateLimitStore();
    const stores = [new AsyncStore(shared), new AsyncStore(shared)];
    const clients = stores.map(
      (store) =>
        new KlaviyoClient({
          apiKey,
          baseUrl: emulator.baseUrl,
          fetch: emulator.fetch,
          clock,
          rateLimiter: new RateLimiter({ clock, store }),
        }),
    );
    const start = clock.now();
    await Promise.all(
      Array.from({ length: 6 }, (_, i) => clients[i % 2]?.request({ method: "GET", path: "/api/accounts" })),
    );
    expect(emulator.requests.map((r) => r.status)).toEqual(Array(6).fill(200));
    // Get Accounts allows 1 request per second: six requests from the two clients span five seconds.
    expect(clock.now() - start).toBeGreaterThanOrEqual(5000);
    // Both went through the store (the transport used acquire, not the synchronous fast path).
    expect(stores.every((s) => s.takes.length >= 3)).toBe(true);
  });

  it("counts under the credential's id as it is when the request goes (OAuth learns its id on first use)", async () => {
    const store = new AsyncStore(new InMemoryRateLimitStore());
    const seen: string[] = [];
    const recording: RateLimitStore = {
      take: (key, windows, guardMs, now) => {
        seen.push(key.credential);
        return store.take(key, windows, guardMs, now);
      },
      block: (key, until) => store.block(key, until),
    };
    const auth: AuthStrategy = {
      kind: "oauth",
      id: "oauth:unknown",
      authorization() {
        (this as { id: string }).id = "oauth:app1:acct9"; // as the OAuth strategy does once tokens are loaded
        return "Bearer t";
      },
      secrets: () => ["t"],
    };
    const client = new KlaviyoClient({
      auth,
      fetch: async () =>
        new Response("{}", { status: 200, headers: { "content-type": "application/vnd.api+json" } }),
      rateLimiter: new RateLimiter({ clock: new FakeClock(0), store: recording }),
    });
    await client.request({ method: "GET", path: "/api/accounts" });
    await client.request({ method: "GET", path: "/api/accounts" });
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(new Set(seen)).toEqual(new Set(["oauth:app1:acct9"]));
  });
});
