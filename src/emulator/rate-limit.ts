/**
 * Klaviyo's rate limits, counted with the same epoch-aligned windows the client uses (`core/rate-window.ts`),
 * per rate bucket (the account, for private keys) and per operation, since Klaviyo limits each endpoint apart.
 */
import type { MiddlewareHandler } from "hono";
import { EMULATOR_RATE_LIMITS_HEADER } from "../core/emulator-limits.js";
import { MINUTE, type RateTier, TierWindows } from "../klaviyo/rate-window.js";
import { effectiveTier } from "../klaviyo/tiers.js";
import { type EmulatorEnv, requestUrl } from "./env.js";
import { EmulatorProblem } from "./errors.js";

/** `real`: Klaviyo's limits; `off`: none; `{scale}`: every limit multiplied by `scale` (at least 1 request). */
export type RateLimitMode = "real" | "off" | { readonly scale: number };

/** Parses the CLI's `real | off | scale=F`; throws with a message fit for the terminal. */
export function parseRateLimitMode(text: string): RateLimitMode {
  const value = text.trim();
  if (value === "real" || value === "off") return value;
  const match = /^scale=(.+)$/.exec(value);
  if (!match)
    throw new Error(`Unknown rate-limit mode "${value}": use real, off or scale=F (such as scale=0.5)`);
  return checkRateLimitMode({ scale: Number(match[1]) });
}

/** Refuses a scale that would make limits meaningless (zero, negative, not a number). */
export function checkRateLimitMode(mode: RateLimitMode): RateLimitMode {
  if (typeof mode === "object" && !(Number.isFinite(mode.scale) && mode.scale > 0)) {
    throw new Error(`A rate-limit scale must be a number greater than 0, not ${String(mode.scale)}`);
  }
  return mode;
}

export type Admission =
  | { readonly allowed: true; readonly headers: Readonly<Record<string, string>> }
  | { readonly allowed: false; readonly retryAfterSeconds: number };

/** Counts requests per (bucket, operation) and decides whether each may go. */
export class RateLimiter {
  private readonly buckets = new Map<string, TierWindows>();
  private mode: RateLimitMode;

  constructor(
    mode: RateLimitMode,
    private readonly clock: { now(): number },
  ) {
    this.mode = checkRateLimitMode(mode);
  }

  /** The mode in force. */
  getMode(): RateLimitMode {
    return this.mode;
  }

  /** Changes the mode; counts start afresh, since old counts were kept against other limits. */
  setMode(mode: RateLimitMode): void {
    this.mode = checkRateLimitMode(mode);
    this.buckets.clear();
  }

  /** Takes one request from the windows of `tier` for `bucket`; `undefined` when limits are off. */
  admit(bucket: string, tier: RateTier): Admission | undefined {
    if (this.mode === "off") return undefined;
    const key = `${bucket}\u0000${tier.name}`;
    let windows = this.buckets.get(key);
    if (!windows) {
      windows = TierWindows.of(tier, this.mode === "real" ? 1 : this.mode.scale);
      this.buckets.set(key, windows);
    }
    const now = this.clock.now();
    if (!windows.tryTake(now)) {
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(windows.waitMs(now) / 1000)) };
    }
    // Klaviyo reports the steady (per-minute) window in its headers.
    const steady = windows.windows.find((w) => w.spec.lengthMs === MINUTE);
    if (!steady) return { allowed: true, headers: {} };
    return {
      allowed: true,
      headers: {
        "RateLimit-Limit": String(steady.spec.limit),
        "RateLimit-Remaining": String(steady.remaining(now)),
        "RateLimit-Reset": String(Math.ceil(steady.resetInMs(now) / 1000)),
      },
    };
  }
}

/** Klaviyo's 429, as its servers word it. */
export function throttled(retryAfterSeconds: number): EmulatorProblem {
  const unit = retryAfterSeconds === 1 ? "second" : "seconds";
  return new EmulatorProblem(
    {
      status: 429,
      code: "throttled",
      title: "Request was throttled.",
      detail: `Request was throttled. Expected available in ${retryAfterSeconds} ${unit}.`,
      links: { type: "https://developers.klaviyo.com/en/docs/rate_limits_and_error_handling#rate-limits" },
    },
    { "Retry-After": String(retryAfterSeconds) },
  );
}

/** The mode as the emulator announces it on every answer: `off`, `real` or `scale=F`. */
export function formatRateLimitMode(mode: RateLimitMode): string {
  return typeof mode === "object" ? `scale=${mode.scale}` : mode;
}

/**
 * Says on every answer of the Klaviyo pipeline whether this emulator enforces rate limits
 * (`X-Emulator-Rate-Limits`), so that a client stops pacing itself at Klaviyo's rates against an emulator that
 * has none (`src/core/emulator-limits.ts`). Klaviyo sends no such header; this is the emulator's own.
 * @internal
 */
export function announceRateLimits(limiter: RateLimiter): MiddlewareHandler<EmulatorEnv> {
  return async (c, next) => {
    await next();
    c.res.headers.set(EMULATOR_RATE_LIMITS_HEADER, formatRateLimitMode(limiter.getMode()));
  };
}

/** Answers 429 over the limit and stamps `RateLimit-*` on every other answer to a counted request.
 * @internal The emulator's own pipeline; its types are hono's, kept out of the published declarations.
 */
export function rateLimit(limiter: RateLimiter): MiddlewareHandler<EmulatorEnv> {
  return async (c, next) => {
    const tier = effectiveTier(c.get("operation"), requestUrl(c).searchParams);
    const admission = limiter.admit(c.get("principal").rateBucket, tier);
    if (admission && !admission.allowed) throw throttled(admission.retryAfterSeconds);
    await next();
    if (admission?.allowed && c.res.status !== 429) {
      for (const [name, value] of Object.entries(admission.headers)) c.res.headers.set(name, value);
    }
  };
}
