import { MINUTE, type RateTier, type WindowSpec, windowsOf } from "../klaviyo/rate-window.js";
import { type Clock, systemClock } from "./clock.js";
import type { RateLimitState } from "./errors.js";
import { MIN_GUARD_MS } from "./latency.js";
import { InMemoryRateLimitStore, type RateLimitKey, type RateLimitStore } from "./rate-store.js";

export { InMemoryRateLimitStore, type RateLimitKey, type RateLimitStore } from "./rate-store.js";

export interface RateLimiterOptions {
  clock?: Clock;
  /** Multiplies every tier's limits (e.g. 0.8 to leave headroom for other clients of the same account). */
  scale?: number;
  /**
   * A request sent this close (ms) to the end of a window is counted in the next one too, since it may arrive
   * there. Given, it is fixed. By default each client's own learned band is used (`LatencyWindow`: the longest
   * recent time from a slot to an answer, widened by any 429 let through; at least 50 ms).
   */
  guardMs?: number;
  /**
   * Where the counts are kept: in this process by default, or shared by every worker of the account
   * (`createRedisRateLimitStore`), so that together they stay within the account's limits.
   */
  store?: RateLimitStore;
}

/**
 * Client-side rate limiting per (credential, tier), with Klaviyo's fixed windows. A request that would exceed
 * a window **waits** for the window to roll over instead of being sent to collect a 429. The server's own
 * headers correct it where Klaviyo's real limits are lower than the table (another process using the same
 * key, a tier that changed): `RateLimit-Remaining: 0` and `Retry-After` hold every later request back.
 *
 * One limiter is shared by default by every client of the process, since the limits belong to the account,
 * not to a client object. With a shared store (Redis), the limits are shared by every process as well.
 */
export class RateLimiter {
  private readonly clock: Clock;
  private readonly scale: number;
  /** A fixed guard band, when one was given; otherwise each request's own (`guardFor`). */
  private readonly fixedGuardMs: number | undefined;
  private readonly store: RateLimitStore;
  /** The store answers synchronously: `tryAcquire` can count without a promise. */
  private readonly synchronous: boolean;
  /** Each tier's windows at this limiter's scale, made once per tier object. */
  private readonly specs = new WeakMap<RateTier, readonly WindowSpec[]>();
  // The last tier asked for: consecutive requests of one operation skip the WeakMap.
  private lastTier: RateTier | undefined;
  private lastSpecs: readonly WindowSpec[] = [];

  constructor(options: RateLimiterOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.scale = options.scale ?? 1;
    this.fixedGuardMs = options.guardMs;
    this.store = options.store ?? new InMemoryRateLimitStore();
    this.synchronous = this.store.synchronous === true;
  }

  private windows(tier: RateTier): readonly WindowSpec[] {
    if (tier === this.lastTier) return this.lastSpecs;
    let specs = this.specs.get(tier);
    if (!specs) {
      specs = windowsOf(tier, this.scale);
      this.specs.set(tier, specs);
    }
    this.lastTier = tier;
    this.lastSpecs = specs;
    return specs;
  }

  /**
   * Counts a request and returns true if it may go right now, without waiting (the common, cheap path).
   * With an asynchronous store (Redis) it counts nothing and returns false: the caller then uses `acquire`.
   */
  /** The guard band for a request: the fixed one, else the caller's learned one, else the narrowest. */
  private guardFor(learnedMs: number | undefined): number {
    return this.fixedGuardMs ?? learnedMs ?? MIN_GUARD_MS;
  }

  tryAcquire(credential: string, tier: RateTier, guardMs?: number): boolean {
    if (!this.synchronous) return false;
    const key: RateLimitKey = { credential, tier: tier.name };
    return this.store.take(key, this.windows(tier), this.guardFor(guardMs), this.clock.now()) === 0;
  }

  /**
   * How long a request would have to wait now (0 = it may go). Only a store that can tell without counting
   * (the in-memory one) answers; for another store this is 0 and `acquire` is the authority.
   */
  waitMs(credential: string, tier: RateTier, guardMs?: number): number {
    const store = this.store as RateLimitStore & Partial<Pick<InMemoryRateLimitStore, "waitMs">>;
    if (typeof store.waitMs !== "function") return 0;
    return store.waitMs(
      { credential, tier: tier.name },
      this.windows(tier),
      this.guardFor(guardMs),
      this.clock.now(),
    );
  }

  /**
   * Waits until a request of this tier may be sent, and counts it; resolves to 0 then. A wait longer than
   * `maxWaitMs` (a day's window that is spent, a long `Retry-After`) is not waited for: nothing is counted and the
   * wait is returned, for the caller to raise. Rejects when `signal` aborts.
   */
  async acquire(
    credential: string,
    tier: RateTier,
    signal?: AbortSignal,
    maxWaitMs = Number.POSITIVE_INFINITY,
    guardMs?: number,
  ): Promise<number> {
    const key: RateLimitKey = { credential, tier: tier.name };
    const windows = this.windows(tier);
    const guard = this.guardFor(guardMs);
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const taken = this.store.take(key, windows, guard, this.clock.now());
      const wait = typeof taken === "number" ? taken : await taken;
      if (wait <= 0) return 0;
      if (wait > maxWaitMs) return wait;
      await this.clock.sleep(Math.max(wait, 1), signal);
    }
  }

  /** The limiter's time: what `answered` compares with (read it right after a request is let through). */
  now(): number {
    return this.clock.now();
  }

  /**
   * A request let through at `takenAt` (`now()` read right after) was answered now, not with a 429: taken in a
   * guard band and answered before its window ended, it did not reach the next window, which gets back the place
   * it held there (see `RateLimitStore.answered`).
   */
  answered(credential: string, tier: RateTier, takenAt: number, guardMs?: number): void {
    if (!this.store.answered) return;
    try {
      this.store.answered({ credential, tier: tier.name }, takenAt, this.clock.now(), this.guardFor(guardMs));
    } catch {
      // A store's failure never fails the response it was told about.
    }
  }

  /** The server's count of the steady window, taken as a floor of ours (a store that counts alone only). */
  private reconcile(credential: string, tier: RateTier, state: RateLimitState): void {
    if (!this.store.reconcile) return;
    const steady = steadyWindowOf(this.windows(tier), state);
    if (!steady || state.limit === undefined || state.remaining === undefined) return;
    // The server's limit is the account's; ours may be scaled down: count in proportion.
    const used = Math.ceil(((state.limit - state.remaining) * steady.limit) / Math.max(1, state.limit));
    const endsAt = state.observedAt + (state.resetSeconds ?? 0) * 1000;
    try {
      this.store.reconcile({ credential, tier: tier.name }, steady.lengthMs, used, endsAt, this.clock.now());
    } catch {
      // A store's failure never fails the response it was told about.
    }
  }

  /** Takes in what a response said about the account's remaining quota. */
  observe(credential: string, tier: RateTier, state: RateLimitState): void {
    this.reconcile(credential, tier, state);
    let until = 0;
    if (state.retryAfterMs !== undefined) until = state.observedAt + state.retryAfterMs;
    else if (state.remaining !== undefined && state.remaining <= 0 && state.resetSeconds !== undefined) {
      until = state.observedAt + state.resetSeconds * 1000;
    }
    if (until <= 0) return;
    try {
      const done = this.store.block({ credential, tier: tier.name }, until, this.clock.now());
      // A shared store's write is not waited for; a failure of it must not become an unhandled rejection.
      if (done) done.catch(() => {});
    } catch {
      // A store's failure never fails the response it was told about.
    }
  }
}

/**
 * Klaviyo reports its steady (per-minute) window in `RateLimit-Limit`, `-Remaining` and `-Reset`: what it has
 * counted there includes every other process on the account, which a store counting alone cannot see.
 */
function steadyWindowOf(windows: readonly WindowSpec[], state: RateLimitState): WindowSpec | undefined {
  if (state.limit === undefined || state.remaining === undefined || state.resetSeconds === undefined) return;
  return windows.find((w) => w.lengthMs === MINUTE);
}

let shared: RateLimiter | undefined;

/**
 * The process-wide limiter clients use unless given their own (the limits belong to the account, not to a client
 * object). To share the limits with other processes, give clients `redisRateLimiter(url)` from
 * `klaviyo-connector/redis` instead.
 */
export function sharedRateLimiter(): RateLimiter {
  shared ??= new RateLimiter();
  return shared;
}
