import { type RateTier, type WindowSpec, windowsOf } from "../klaviyo/rate-window.js";
import { type Clock, systemClock } from "./clock.js";
import type { RateLimitState } from "./errors.js";
import { InMemoryRateLimitStore, type RateLimitKey, type RateLimitStore } from "./rate-store.js";

export { InMemoryRateLimitStore, type RateLimitKey, type RateLimitStore } from "./rate-store.js";

export interface RateLimiterOptions {
  clock?: Clock;
  /** Multiplies every tier's limits (e.g. 0.8 to leave headroom for other clients of the same account). */
  scale?: number;
  /**
   * A request sent this close (ms) to the end of a window is counted in the next one too, since it may
   * arrive there (default 50: network time to Klaviyo, and the event loop's delays).
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
  private readonly guardMs: number;
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
    this.guardMs = options.guardMs ?? 50;
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
  tryAcquire(credential: string, tier: RateTier): boolean {
    if (!this.synchronous) return false;
    const key: RateLimitKey = { credential, tier: tier.name };
    return this.store.take(key, this.windows(tier), this.guardMs, this.clock.now()) === 0;
  }

  /**
   * How long a request would have to wait now (0 = it may go). Only a store that can tell without counting
   * (the in-memory one) answers; for another store this is 0 and `acquire` is the authority.
   */
  waitMs(credential: string, tier: RateTier): number {
    const store = this.store as RateLimitStore & Partial<Pick<InMemoryRateLimitStore, "waitMs">>;
    if (typeof store.waitMs !== "function") return 0;
    return store.waitMs({ credential, tier: tier.name }, this.windows(tier), this.guardMs, this.clock.now());
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
  ): Promise<number> {
    const key: RateLimitKey = { credential, tier: tier.name };
    const windows = this.windows(tier);
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const taken = this.store.take(key, windows, this.guardMs, this.clock.now());
      const wait = typeof taken === "number" ? taken : await taken;
      if (wait <= 0) return 0;
      if (wait > maxWaitMs) return wait;
      await this.clock.sleep(Math.max(wait, 1), signal);
    }
  }

  /** Takes in what a response said about the account's remaining quota. */
  observe(credential: string, tier: RateTier, state: RateLimitState): void {
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
