import { TierWindows, type WindowSpec } from "../klaviyo/rate-window.js";

/** What a rate-limit count is kept under: one credential (a non-secret fingerprint) and one tier (by name). */
export interface RateLimitKey {
  readonly credential: string;
  readonly tier: string;
}

/**
 * Where the rate limiter keeps its counts: in the process (the default), or shared by every worker of an
 * account (Redis, `createRedisRateLimitStore`). Times are the caller's (`now`, from its injected clock).
 */
export interface RateLimitStore {
  /**
   * True when `take` and `block` answer with plain values, never promises: the limiter then takes its fast path
   * (`tryAcquire`) with no promise per request. Left out, the store is treated as asynchronous.
   */
  readonly synchronous?: boolean;
  /**
   * Atomically: when the (credential, tier) is not blocked and every window has room, counts one request in
   * every window and answers 0; otherwise counts nothing and answers the milliseconds to wait before asking
   * again. With a guard band, a request in the last `guardMs` of a window also needs room in the next window,
   * and is counted there too (it may arrive after the boundary). Never rejects.
   */
  take(
    key: RateLimitKey,
    windows: readonly WindowSpec[],
    guardMs: number,
    now: number,
  ): number | Promise<number>;
  /**
   * Nothing of this (credential, tier) goes before `until` (the server said so: `Retry-After`,
   * `RateLimit-Remaining: 0`). The latest `until` wins; an earlier one never shortens a block. Never rejects.
   */
  block(key: RateLimitKey, until: number, now: number): void | Promise<void>;
  /**
   * Optional: the server reported, for the window of `lengthMs` that ends at `endsAt`, that `used` requests are
   * counted in it (its `RateLimit-*` headers); a store that counts alone takes that as its floor, so that other
   * processes' requests on the same account count here too. A shared store (Redis) counts them already.
   */
  reconcile?(key: RateLimitKey, lengthMs: number, used: number, endsAt: number, now: number): void;
  /**
   * Optional: a request counted at `takenAt` with `guardMs` was answered at `now`. Taken in a guard band and
   * answered before its window ended, it reached the server in that window: the place it held in the next window
   * is given back. Without it (the Redis store), such a request stays counted in both: safe, a little slower.
   */
  answered?(key: RateLimitKey, takenAt: number, now: number, guardMs: number): void;
}

interface Bucket {
  /** Made with the first request's windows (a block may come first: from another process's answer, say). */
  windows: TierWindows | undefined;
  blockedUntil: number;
}

/**
 * The process's own counts: fixed windows per (credential, tier), plus the block the server asked for.
 * Synchronous, so the transport's fast path costs two map lookups and a few comparisons.
 */
export class InMemoryRateLimitStore implements RateLimitStore {
  readonly synchronous = true;
  // By tier name, then by credential: two lookups, and no key string to build on every request.
  private readonly buckets = new Map<string, Map<string, Bucket>>();

  /**
   * The bucket is made with the windows of its first request; later requests of the same (credential, tier) are
   * counted in it (a limiter passes the same windows for a tier every time), each with the guard it is given.
   */
  private bucket(key: RateLimitKey): Bucket {
    let byCredential = this.buckets.get(key.tier);
    if (!byCredential) {
      byCredential = new Map();
      this.buckets.set(key.tier, byCredential);
    }
    let bucket = byCredential.get(key.credential);
    if (!bucket) {
      bucket = { windows: undefined, blockedUntil: 0 };
      byCredential.set(key.credential, bucket);
    }
    return bucket;
  }

  private static windowsOf(bucket: Bucket, windows: readonly WindowSpec[], guardMs: number): TierWindows {
    if (!bucket.windows) bucket.windows = new TierWindows(windows, guardMs);
    else if (bucket.windows.windows[0]?.guardMs !== guardMs) bucket.windows.setGuard(guardMs);
    return bucket.windows;
  }

  private static waitOf(bucket: Bucket, windows: TierWindows, now: number): number {
    return Math.max(bucket.blockedUntil - now, windows.waitMs(now), 0);
  }

  take(key: RateLimitKey, windows: readonly WindowSpec[], guardMs: number, now: number): number {
    const bucket = this.bucket(key);
    const tier = InMemoryRateLimitStore.windowsOf(bucket, windows, guardMs);
    const wait = InMemoryRateLimitStore.waitOf(bucket, tier, now);
    if (wait > 0) return wait;
    tier.take(now);
    return 0;
  }

  /** How long a request would wait now (0 = it may go), counting nothing. */
  waitMs(key: RateLimitKey, windows: readonly WindowSpec[], guardMs: number, now: number): number {
    const bucket = this.bucket(key);
    return InMemoryRateLimitStore.waitOf(
      bucket,
      InMemoryRateLimitStore.windowsOf(bucket, windows, guardMs),
      now,
    );
  }

  block(key: RateLimitKey, until: number): void {
    const bucket = this.bucket(key);
    if (until > bucket.blockedUntil) bucket.blockedUntil = until;
  }

  answered(key: RateLimitKey, takenAt: number, now: number, guardMs: number): void {
    this.bucket(key).windows?.answered(takenAt, now, guardMs);
  }

  reconcile(key: RateLimitKey, lengthMs: number, used: number, endsAt: number, now: number): void {
    const window = this.bucket(key).windows?.windows.find((w) => w.spec.lengthMs === lengthMs);
    if (!window) return;
    // Only when the server's window is this one: its reset is rounded up to whole seconds and read an answer's
    // way later, so its end is a little after ours; a server whose windows are not aligned with ours (or a
    // window already rolled over) says nothing about our counts.
    if (Math.abs(window.resetInMs(now) + now - endsAt) > 5000 || lengthMs < 30_000) return;
    window.atLeast(now, used);
  }
}
