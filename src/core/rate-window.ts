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

/** A counter over consecutive fixed windows of one length. */
export class FixedWindow {
  private start = Number.NEGATIVE_INFINITY;
  private used = 0;
  constructor(readonly spec: WindowSpec) {}

  private roll(now: number): void {
    const start = windowStart(now, this.spec.lengthMs);
    if (start !== this.start) {
      this.start = start;
      this.used = 0;
    }
  }

  remaining(now: number): number {
    this.roll(now);
    return Math.max(0, this.spec.limit - this.used);
  }

  /** Milliseconds until this window ends and a fresh one begins. */
  resetInMs(now: number): number {
    return windowStart(now, this.spec.lengthMs) + this.spec.lengthMs - now;
  }

  take(now: number): void {
    this.roll(now);
    this.used += 1;
  }
}

/** All windows of one tier, counted together: a request is allowed only when every window has room. */
export class TierWindows {
  readonly windows: FixedWindow[];
  constructor(tier: RateTier, scale = 1) {
    this.windows = windowsOf(tier, scale).map((spec) => new FixedWindow(spec));
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
    for (const w of this.windows) w.take(now);
    return true;
  }
}
