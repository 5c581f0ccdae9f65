/**
 * Raw Request's retry inputs as a retry policy of the transport (`src/core/retry.ts`), plus the one thing that
 * policy cannot say: a fixed delay. The transport's backoff is always exponential with full jitter
 * (`backoffDelay`: uniform in [0, base·2^attempt)), so "wait exactly Retry Delay (ms)" is decided here, around
 * the transport's own `decideRetry`. Everything here is pure: the random source is passed in.
 */
import { ApiError, ConnectionError, TimeoutError } from "../core/errors.js";
import {
  type AttemptOutcome,
  DEFAULT_RETRY_POLICY,
  decideRetry,
  type RetryDecision,
  type RetryPolicy,
} from "../core/retry.js";

/** The retry inputs of Raw Request, defaults applied. */
export interface RawRetrySettings {
  /** Max Retry Count: retries after the first attempt; 0 = a single attempt. */
  readonly maxRetryCount: number;
  /** Retry Delay (ms): the wait between attempts when backoff is off. */
  readonly retryDelayMs: number;
  /** Retry On All Errors: 3xx and 4xx answers are retried too, not only 5xx and network errors. */
  readonly retryOnAllErrors: boolean;
  /** Use Exponential Backoff: the transport's jittered exponential backoff instead of the fixed delay. */
  readonly useExponentialBackoff: boolean;
}

/** Every method Raw Request sends: asking for retries opts every one of them in, POST included. */
export const RAW_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
export type RawMethod = (typeof RAW_METHODS)[number];

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const SERVER_ERRORS = Object.freeze(range(500, 599));
const ALL_ERRORS = Object.freeze(range(300, 599));

/**
 * The transport policy the settings describe. 429 is always retried (waiting its `Retry-After`, up to the
 * transport's 60 s ceiling) once any retry is allowed, since Klaviyo did nothing; 5xx and network errors and
 * timeouts are retried for every method (the caller asked for retries); with Retry On All Errors every 3xx and
 * 4xx answer too. With Max Retry Count 0, nothing at all is retried.
 */
export function rawRetryPolicy(settings: RawRetrySettings): RetryPolicy {
  const exponential = settings.useExponentialBackoff;
  return Object.freeze({
    ...DEFAULT_RETRY_POLICY,
    maxRetries: settings.maxRetryCount,
    methods: RAW_METHODS,
    statuses: settings.retryOnAllErrors ? ALL_ERRORS : SERVER_ERRORS,
    alwaysStatuses: Object.freeze([429]),
    networkErrors: true,
    baseDelayMs: exponential ? DEFAULT_RETRY_POLICY.baseDelayMs : settings.retryDelayMs,
    maxDelayMs: exponential ? DEFAULT_RETRY_POLICY.maxDelayMs : settings.retryDelayMs,
  });
}

/**
 * Whether attempt number `attempt` (0 = the first) should be followed by another, and after how long: the
 * transport's decision, with the jittered backoff replaced by the fixed Retry Delay (ms) when exponential backoff
 * is off. A `Retry-After` the server sent is always what is waited (with the transport's jitter on top, up to
 * `retryAfterJitterMs`, so that processes of one account do not retry in step).
 */
export function decideRawRetry(
  settings: RawRetrySettings,
  method: string,
  outcome: AttemptOutcome,
  attempt: number,
  random: () => number,
): RetryDecision {
  const decision = decideRetry(
    rawRetryPolicy(settings),
    { method, idempotent: true },
    outcome,
    attempt,
    random,
  );
  if (!decision.retry || settings.useExponentialBackoff) return decision;
  if (outcome.kind === "status" && outcome.retryAfterMs !== undefined) return decision;
  return { retry: true, delayMs: settings.retryDelayMs };
}

/** What a failed attempt was, for the decision above; `undefined` for errors that are never retried. */
export function attemptOutcome(error: unknown): AttemptOutcome | undefined {
  if (error instanceof TimeoutError) return { kind: "timeout" };
  if (error instanceof ConnectionError) return { kind: "network", refused: error.refused };
  if (error instanceof ApiError && error.status >= 300) {
    const retryAfterMs = error.rateLimit?.retryAfterMs;
    return { kind: "status", status: error.status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  return undefined;
}
