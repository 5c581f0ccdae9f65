import type { HttpMethod } from "../klaviyo/operations.js";
import type { RateTier } from "../klaviyo/rate-window.js";
import type { AuthStrategy } from "./auth-strategy.js";
import type { Clock } from "./clock.js";
import { hearLimits, type LimitsHeard } from "./emulator-limits.js";
import { ConnectionError, RateLimitError, type RateLimitState, TimeoutError } from "./errors.js";
import { LatencyWindow } from "./latency.js";
import type { RateLimiter } from "./rate-limit.js";
import { type AttemptOutcome, decideRetry, parseRetryAfter, type RetryPolicy } from "./retry.js";

/**
 * The transport is a chain of small stages around an injected `fetch`:
 *
 *   retry → auth → rate limit → timeout → fetch
 *
 * Retry is outermost so that every attempt gets a fresh `Authorization` (an OAuth token may have been
 * refreshed), takes its own place in the rate windows, and has its own timeout.
 */

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** A request as it travels down the chain. Stages may replace fields by passing a copy down. */
export interface WireRequest {
  readonly method: HttpMethod;
  readonly url: URL;
  /** Header names in lower case. A plain object: cheaper than `Headers`, which `fetch` builds anyway. */
  readonly headers: Record<string, string>;
  readonly body: string | Uint8Array | FormData | undefined;
  readonly tier: RateTier | undefined;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  readonly idempotent: boolean;
  readonly retry: RetryPolicy;
  readonly authenticate: boolean;
}

/** A complete answer: the body is read inside the timeout, so a server that stalls mid-body still times out. */
export interface WireResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly bytes: Uint8Array;
  readonly rateLimit: RateLimitState;
  /** Attempts made, the first included. */
  attempts: number;
  /** When the request was handed to `fetch`, and when the answer's headers came (by the client's clock). */
  readonly sentAt: number;
  readonly receivedAt: number;
}

export type Handler = (request: WireRequest) => Promise<WireResponse>;
export type Middleware = (next: Handler) => Handler;

/** Wraps `terminal` in `stages`, the first stage outermost. */
export function compose(stages: readonly Middleware[], terminal: Handler): Handler {
  return stages.reduceRight<Handler>((next, stage) => stage(next), terminal);
}

function intHeader(headers: Headers, name: string): number | undefined {
  const value = headers.get(name);
  if (value === null) return undefined;
  const n = Number.parseInt(value, 10);
  return Number.isFinite(n) ? n : undefined;
}

/** Reads Klaviyo's `RateLimit-*` and `Retry-After` headers (any case) into one snapshot. */
export function readRateLimit(headers: Headers, now: number): RateLimitState {
  const state: RateLimitState = { observedAt: now };
  const limit = intHeader(headers, "ratelimit-limit");
  const remaining = intHeader(headers, "ratelimit-remaining");
  const reset = intHeader(headers, "ratelimit-reset");
  const retryAfterMs = parseRetryAfter(headers.get("retry-after"), now);
  if (limit !== undefined) state.limit = limit;
  if (remaining !== undefined) state.remaining = remaining;
  if (reset !== undefined) state.resetSeconds = reset;
  if (retryAfterMs !== undefined) state.retryAfterMs = retryAfterMs;
  return state;
}

/** The innermost stage: one `fetch`, body read to the end. Network failures become `ConnectionError`. */
export function fetchStage(fetchImpl: FetchLike, clock: Clock, latency?: LatencyWindow): Handler {
  return async (req) => {
    let response: Response | undefined;
    let bytes: Uint8Array;
    let receivedAt: number;
    const sentAt = clock.now();
    try {
      response = await fetchImpl(req.url.href, {
        method: req.method,
        headers: req.headers,
        body: req.body ?? null,
        signal: req.signal ?? null,
        redirect: "manual",
      });
      receivedAt = clock.now();
      latency?.add(receivedAt - sentAt);
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      if (req.signal?.aborted) throw req.signal.reason;
      throw toConnectionError(error, req, response?.status);
    }
    return {
      status: response.status,
      headers: response.headers,
      bytes,
      rateLimit: readRateLimit(response.headers, clock.now()),
      attempts: 1,
      sentAt,
      receivedAt,
    };
  };
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === "object"; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** `status` is set when the answer's head had arrived: the server was reached, its body was what failed. */
function toConnectionError(error: unknown, req: WireRequest, status?: number): ConnectionError {
  const code = errorCode(error);
  const refused = code === "ECONNREFUSED";
  const what = code ? ` (${code})` : "";
  return new ConnectionError(
    status === undefined
      ? `Could not reach ${req.url.origin} for ${req.method} ${req.url.pathname}${what}`
      : `Could not read the whole ${status} answer from ${req.url.origin} to ${req.method} ${req.url.pathname}${what}`,
    {
      cause: error,
      refused,
    },
  );
}

/** Aborts an attempt that has no complete answer within `timeoutMs`; the caller's signal still applies. */
export const timeoutStage: Middleware = (next) => async (req) => {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, controller.signal]) : controller.signal;
  try {
    return await next({ ...req, signal });
  } catch (error) {
    // The error is made only when it happens: building one (its stack) on every request costs measurably.
    if (timedOut && !req.signal?.aborted)
      throw new TimeoutError(req.timeoutMs, `${req.method} ${req.url.pathname}`);
    throw error;
  } finally {
    clearTimeout(timer);
  }
};

/** Holds each request until its tier has room, then tells the limiter what the server said. */
export function rateLimitStage(
  limiter: RateLimiter,
  auth: AuthStrategy | undefined,
  clock: Clock,
  heard?: LimitsHeard,
): Middleware {
  // From taking a slot to the answer's headers, per attempt: the guard band the windows are counted with.
  const slots = new LatencyWindow();
  return (next) => async (req) => {
    if (!req.tier) return next(req);
    // Read per request: an OAuth strategy knows its installation (its id) only once its tokens are loaded.
    const credential = auth?.id ?? "anonymous";
    if (heard?.off) {
      const res = await next(req);
      hearLimits(heard, res.headers);
      // The emulator's limits came back on with this very request, which it counted: count it here too.
      if (!heard.off) limiter.tryAcquire(credential, req.tier, slots.guardMs());
      return res;
    }
    // An aborted call is refused before it takes a place in the windows that nothing would then use.
    req.signal?.throwIfAborted();
    // The slot is taken here, as late as the chain allows: the body is ready, only the timeout's timer and
    // `fetch` come after.
    const guard = slots.guardMs();
    if (!limiter.tryAcquire(credential, req.tier, guard)) {
      const wait = await limiter.acquire(credential, req.tier, req.signal, req.retry.maxRetryAfterMs, guard);
      if (wait > 0) throw limiterRefusal(req, wait);
    }
    const slotAt = clock.now();
    const takenAt = limiter.now();
    const res = await next(req);
    slots.add(res.receivedAt - slotAt);
    // The limiter let it through and the server refused it: it arrived where it was not counted.
    if (res.status === 429) slots.penalize();
    else limiter.answered(credential, req.tier, takenAt, guard);
    if (heard) hearLimits(heard, res.headers);
    limiter.observe(credential, req.tier, res.rateLimit);
    return res;
  };
}

/** A wait of the client's own limiter too long to sit through, raised at once as the 429 it stands for. */
function limiterRefusal(req: WireRequest, waitMs: number): RateLimitError {
  const tier = req.tier as RateTier;
  const limits = [
    tier.burst ? `${tier.burst} a second` : "",
    tier.steady ? `${tier.steady} a minute` : "",
    tier.daily ? `${tier.daily} a day` : "",
  ].filter(Boolean);
  return new RateLimitError(
    {
      status: 429,
      method: req.method,
      path: req.url.pathname,
      message:
        `${req.method} ${req.url.pathname}: not sent. This client's rate limiter would hold it for ` +
        `${formatWait(waitMs)} (Klaviyo allows ${limits.join(", ")} for this endpoint, counted per account), ` +
        `longer than the retry policy's maxRetryAfterMs (${formatWait(req.retry.maxRetryAfterMs)}). ` +
        "retryAfterMs says when a request may go.",
    },
    waitMs,
    true,
  );
}

/** A wait in the largest units that say it: `45 s`, `12 min`, `5 h 3 min`. */
export function formatWait(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
}

/** Sets `Authorization` per attempt; after a 401, lets the strategy refresh once and sends again. */
export function authStage(auth: AuthStrategy): Middleware {
  return (next) => async (req) => {
    if (!req.authenticate) return next(req);
    const header = auth.authorization(req.signal);
    req.headers.authorization = typeof header === "string" ? header : await header;
    const res = await next(req);
    if (res.status !== 401 || !auth.onUnauthorized) return res;
    if (!(await auth.onUnauthorized(req.headers.authorization, req.signal))) return res;
    req.headers.authorization = await auth.authorization(req.signal);
    return next(req);
  };
}

/** Repeats an attempt as the request's retry policy allows, waiting `Retry-After` or a jittered backoff. */
export function retryStage(clock: Clock, random: () => number): Middleware {
  return (next) => async (req) => {
    const context = { method: req.method, idempotent: req.idempotent };
    for (let attempt = 0; ; attempt++) {
      let outcome: AttemptOutcome;
      let failure: unknown;
      try {
        const res = await next(req);
        res.attempts = attempt + 1;
        if (res.status < 400) return res;
        outcome = { kind: "status", status: res.status, retryAfterMs: res.rateLimit.retryAfterMs };
        const decision = decideRetry(req.retry, context, outcome, attempt, random);
        if (!decision.retry) return res;
        await clock.sleep(decision.delayMs, req.signal);
        continue;
      } catch (error) {
        if (error instanceof TimeoutError) outcome = { kind: "timeout" };
        else if (error instanceof ConnectionError) outcome = { kind: "network", refused: error.refused };
        else throw error;
        failure = error;
      }
      const decision = decideRetry(req.retry, context, outcome, attempt, random);
      if (!decision.retry) throw failure;
      await clock.sleep(decision.delayMs, req.signal);
    }
  };
}
