/**
 * Klaviyo's rate limits: fixed windows of one second (burst), one minute (steady) and, for a few operations,
 * one day. Windows are aligned to the epoch, so a client and a server that share a clock agree on them.
 * The emulator counts with these windows to answer 429s; the client counts with them to wait instead.
 */

/** The limits of one operation, as its `x-klaviyo-ratelimit` gives them (0 = no limit of that kind). */
export interface RateTier {
  /** The name the limits are kept under: the operation id, since Klaviyo counts each endpoint apart. */
  readonly name: string;
  readonly burst: number;
  readonly steady: number;
  readonly daily: number;
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const DAY = 24 * 60 * MINUTE;

export interface WindowSpec {
  readonly limit: number;
  readonly lengthMs: number;
}

/** The windows a tier is counted in, steady first (its state is the one Klaviyo reports in headers). */
export function windowsOf(tier: RateTier, scale = 1): WindowSpec[] {
  const out: WindowSpec[] = [];
  const add = (limit: number, lengthMs: number) => {
    if (limit > 0) out.push({ limit: Math.max(1, Math.floor(limit * scale)), lengthMs });
  };
  add(tier.steady, MINUTE);
  add(tier.burst, SECOND);
  add(tier.daily, DAY);
  return out;
}

export function windowStart(now: number, lengthMs: number): number {
  return Math.floor(now / lengthMs) * lengthMs;
}

/**
 * A counter over consecutive fixed windows of one length. With a guard (`guardMs`), a request taken in the last
 * `guardMs` of a window is counted in the next window too: it may reach the server after the boundary, where
 * it counts there, so both must have room. The server counts with no guard.
 */
export class FixedWindow {
  private start = Number.NEGATIVE_INFINITY;
  private used = 0;
  /** Requests taken in this window's guard band, already counted against the next window. */
  private carried = 0;
  constructor(
    readonly spec: WindowSpec,
    /** The guard band; a client may change it between requests as it learns the network's delay. */
    public guardMs = 0,
  ) {}

  private roll(now: number): void {
    const start = windowStart(now, this.spec.lengthMs);
    if (start !== this.start) {
      this.used = start === this.start + this.spec.lengthMs ? this.carried : 0;
      this.carried = 0;
      this.start = start;
    }
  }

  private guarded(now: number): boolean {
    return this.guardMs > 0 && this.start + this.spec.lengthMs - now <= this.guardMs;
  }

  remaining(now: number): number {
    this.roll(now);
    const here = this.spec.limit - this.used;
    return Math.max(0, this.guarded(now) ? Math.min(here, this.spec.limit - this.carried) : here);
  }

  /** Milliseconds until this window ends and a fresh one begins. */
  resetInMs(now: number): number {
    return windowStart(now, this.spec.lengthMs) + this.spec.lengthMs - now;
  }

  take(now: number): void {
    this.roll(now);
    this.used += 1;
    if (this.guarded(now)) this.carried += 1;
  }

  /**
   * A request taken at `takenAt` within this window's guard band `guardMs` (so counted in the next window too) had
   * its answer by `now`, before the window ended: it reached the server inside this window, so the next window
   * gets back the place it held there. `takenAt` is read just after the take: one taken within 2 ms of the band's
   * start (it may have been taken just before it, uncounted there) stays counted.
   */
  answered(takenAt: number, now: number, guardMs: number): void {
    const length = this.spec.lengthMs;
    const end = windowStart(takenAt, length) + length;
    if (now >= end || now < takenAt || end - takenAt > guardMs - 2) return;
    if (windowStart(takenAt - 2, length) !== end - length) return;
    this.roll(now);
    if (this.start + length === end && this.carried > 0) this.carried -= 1;
  }

  /** At least `used` requests are counted in the window of `now` (what the server says it has counted). */
  atLeast(now: number, used: number): void {
    this.roll(now);
    if (used > this.used) this.used = Math.min(used, this.spec.limit);
  }
}

/** All windows of one tier, counted together: a request is allowed only when every window has room. */
export class TierWindows {
  readonly windows: FixedWindow[];
  constructor(specs: readonly WindowSpec[], guardMs = 0) {
    this.windows = specs.map((spec) => new FixedWindow(spec, guardMs));
  }

  /** The windows of `tier`, its limits multiplied by `scale`. */
  static of(tier: RateTier, scale = 1, guardMs = 0): TierWindows {
    return new TierWindows(windowsOf(tier, scale), guardMs);
  }

  /** Sets the guard band of every window (see `FixedWindow`): for the requests counted from now on. */
  setGuard(guardMs: number): void {
    for (const w of this.windows) w.guardMs = guardMs;
  }

  /** 0 when a request may go now, else how long until the fullest window resets. */
  waitMs(now: number): number {
    let wait = 0;
    for (const w of this.windows) {
      if (w.remaining(now) <= 0) wait = Math.max(wait, w.resetInMs(now));
    }
    return wait;
  }

  /** Takes one request from every window if all have room; returns whether it did. */
  tryTake(now: number): boolean {
    if (this.waitMs(now) > 0) return false;
    this.take(now);
    return true;
  }

  /** A request taken in a guard band was answered before its window ended (see `FixedWindow.answered`). */
  answered(takenAt: number, now: number, guardMs: number): void {
    for (const w of this.windows) w.answered(takenAt, now, guardMs);
  }

  /** Counts one request in every window (the caller has checked `waitMs`). */
  take(now: number): void {
    for (const w of this.windows) w.take(now);
  }
}
