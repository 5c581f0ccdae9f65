import { type Clock, systemClock } from "./clock.js";
import type { RateLimitState } from "./errors.js";
import { type RateTier, TierWindows } from "./rate-window.js";

interface Bucket {
  readonly windows: TierWindows;
  /** Set from the server's word (`Retry-After`, `RateLimit-Remaining: 0`): nothing goes before this time. */
  blockedUntil: number;
}

export interface RateLimiterOptions {
  clock?: Clock;
  /** Multiplies every tier's limits (e.g. 0.8 to leave headroom for other clients of the same account). */
  scale?: number;
  /**
   * A request sent this close (ms) to the end of a window is counted in the next one too, since it may
   * arrive there (default 50: network time to Klaviyo, and the event loop's delays).
   */
  guardMs?: number;
}

/**
 * Client-side rate limiting per (credential, tier), with Klaviyo's fixed windows. A request that would exceed
 * a window **waits** for the window to roll over instead of being sent to collect a 429. The server's own
 * headers correct it where Klaviyo's real limits are lower than the table (another process using the same
 * key, a tier that changed): `RateLimit-Remaining: 0` and `Retry-After` hold every later request back.
 *
 * One limiter is shared by default by every client of the process, since the limits belong to the account,
 * not to a client object.
 */
export class RateLimiter {
  // By tier name, then by credential: two lookups, and no key string to build on every request.
  private readonly buckets = new Map<string, Map<string, Bucket>>();
  private readonly clock: Clock;
  private readonly scale: number;
  private readonly guardMs: number;

  constructor(options: RateLimiterOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.scale = options.scale ?? 1;
    this.guardMs = options.guardMs ?? 50;
  }

  private bucket(credential: string, tier: RateTier): Bucket {
    let byCredential = this.buckets.get(tier.name);
    if (!byCredential) {
      byCredential = new Map();
      this.buckets.set(tier.name, byCredential);
    }
    let bucket = byCredential.get(credential);
    if (!bucket) {
      bucket = { windows: new TierWindows(tier, this.scale, this.guardMs), blockedUntil: 0 };
      byCredential.set(credential, bucket);
    }
    return bucket;
  }

  /** Counts a request and returns true if it may go right now, without waiting (the common, cheap path). */
  tryAcquire(credential: string, tier: RateTier): boolean {
    const bucket = this.bucket(credential, tier);
    const now = this.clock.now();
    return bucket.blockedUntil <= now && bucket.windows.tryTake(now);
  }

  /** How long a request would have to wait now (0 = it may go). */
  waitMs(credential: string, tier: RateTier): number {
    const bucket = this.bucket(credential, tier);
    const now = this.clock.now();
    return Math.max(bucket.blockedUntil - now, bucket.windows.waitMs(now), 0);
  }

  /** Waits until a request of this tier may be sent, and counts it. Rejects when `signal` aborts. */
  async acquire(credential: string, tier: RateTier, signal?: AbortSignal): Promise<void> {
    const bucket = this.bucket(credential, tier);
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const now = this.clock.now();
      const wait = Math.max(bucket.blockedUntil - now, bucket.windows.waitMs(now));
      if (wait <= 0 && bucket.windows.tryTake(now)) return;
      await this.clock.sleep(Math.max(wait, 1), signal);
    }
  }

  /** Takes in what a response said about the account's remaining quota. */
  observe(credential: string, tier: RateTier, state: RateLimitState): void {
    const bucket = this.bucket(credential, tier);
    let until = 0;
    if (state.retryAfterMs !== undefined) until = state.observedAt + state.retryAfterMs;
    else if (state.remaining !== undefined && state.remaining <= 0 && state.resetSeconds !== undefined) {
      until = state.observedAt + state.resetSeconds * 1000;
    }
    if (until > bucket.blockedUntil) bucket.blockedUntil = until;
  }
}

let shared: RateLimiter | undefined;

/** The process-wide limiter clients use unless given their own. */
export function sharedRateLimiter(): RateLimiter {
  shared ??= new RateLimiter();
  return shared;
}
