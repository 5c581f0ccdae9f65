/**
 * When to try a request again, and how long to wait first. The policy is data (ky's model), so a caller can
 * read it, print it and override any part per client or per call; the functions here are pure, with the clock
 * and the random source passed in, so retry timing is unit-tested without waiting.
 */

export interface RetryPolicy {
  /** Retries after the first attempt (0 = never retry). */
  readonly maxRetries: number;
  /** Methods retried on the statuses below and on network errors: those where a repeat does no new harm. */
  readonly methods: readonly string[];
  /** Statuses retried for those methods (and for requests marked idempotent). */
  readonly statuses: readonly number[];
  /** Statuses retried for every method, POST included, because the server did nothing (429). */
  readonly alwaysStatuses: readonly number[];
  /** Whether a connection error or a timeout is retried for the methods above. */
  readonly networkErrors: boolean;
  /** First backoff step; each further attempt doubles it, up to `maxDelayMs`, with full jitter. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /**
   * The longest `Retry-After` worth waiting for. A longer one (a daily cap, say) is not waited out: the
   * `RateLimitError` is raised at once, with `retryAfterMs` telling the caller when to come back.
   */
  readonly maxRetryAfterMs: number;
  /**
   * Added to a `Retry-After` wait, uniform in [0, this): processes of one account that each limit on their own
   * (no shared Redis store) would otherwise all retry at the same instant and meet the same 429 again.
   */
  readonly retryAfterJitterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxRetries: 3,
  methods: Object.freeze(["GET", "HEAD", "OPTIONS", "DELETE", "PATCH", "PUT"]),
  statuses: Object.freeze([408, 500, 502, 503, 504, 520, 521, 522, 523, 524]),
  alwaysStatuses: Object.freeze([429]),
  networkErrors: true,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  maxRetryAfterMs: 60_000,
  retryAfterJitterMs: 500,
});

export function retryPolicy(...overrides: Array<Partial<RetryPolicy> | undefined>): RetryPolicy {
  return Object.assign({}, DEFAULT_RETRY_POLICY, ...overrides.filter(Boolean)) as RetryPolicy;
}

/**
 * `Retry-After` as milliseconds: delay-seconds (`"2"`, `"1.5"`) or an HTTP date. `undefined` when absent or
 * unreadable. Header names are matched by the caller's `Headers`, which ignore case.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value == null) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (!/[a-z]/i.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Full-jitter exponential backoff: uniform in [0, min(max, base·2^attempt)). `attempt` counts from 0. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

/** What happened to one attempt, as far as retrying is concerned. */
export type AttemptOutcome =
  | { readonly kind: "status"; readonly status: number; readonly retryAfterMs?: number }
  | { readonly kind: "network"; readonly refused: boolean }
  | { readonly kind: "timeout" };

export interface RetryContext {
  readonly method: string;
  /** The caller says a repeat cannot duplicate work (an event with a `unique_id`, say). */
  readonly idempotent: boolean;
}

export type RetryDecision =
  | { readonly retry: false; readonly reason: string }
  | { readonly retry: true; readonly delayMs: number };

/** Decides whether attempt number `attempt` (0 = the first) should be followed by another, and after how long. */
export function decideRetry(
  policy: RetryPolicy,
  request: RetryContext,
  outcome: AttemptOutcome,
  attempt: number,
  random: () => number,
): RetryDecision {
  if (attempt >= policy.maxRetries) return { retry: false, reason: "retries exhausted" };
  const safe = request.idempotent || policy.methods.includes(request.method.toUpperCase());
  let eligible: boolean;
  let retryAfterMs: number | undefined;
  switch (outcome.kind) {
    case "status":
      eligible =
        policy.alwaysStatuses.includes(outcome.status) || (safe && policy.statuses.includes(outcome.status));
      retryAfterMs = outcome.retryAfterMs;
      break;
    case "network":
      // A refused connection sent nothing, so even a POST can go again.
      eligible = policy.networkErrors && (safe || outcome.refused);
      break;
    case "timeout":
      eligible = policy.networkErrors && safe;
      break;
  }
  if (!eligible) return { retry: false, reason: "not retryable" };
  if (retryAfterMs !== undefined) {
    if (retryAfterMs > policy.maxRetryAfterMs) return { retry: false, reason: "Retry-After too long" };
    return { retry: true, delayMs: retryAfterMs + Math.floor(random() * policy.retryAfterJitterMs) };
  }
  return { retry: true, delayMs: backoffDelay(policy, attempt, random) };
}
