import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  decideRetry,
  parseRetryAfter,
  retryPolicy,
} from "../../src/core/retry.js";

const NOW = Date.parse("2026-11-26T12:00:00Z");

describe("parseRetryAfter", () => {
  it("reads delay-seconds, whole and fractional", () => {
    expect(parseRetryAfter("2", NOW)).toBe(2000);
    expect(parseRetryAfter(" 0 ", NOW)).toBe(0);
    expect(parseRetryAfter("1.5", NOW)).toBe(1500);
  });
  it("reads an HTTP date relative to now, never negative", () => {
    expect(parseRetryAfter("Thu, 26 Nov 2026 12:00:30 GMT", NOW)).toBe(30_000);
    expect(parseRetryAfter("Thu, 26 Nov 2026 11:00:00 GMT", NOW)).toBe(0);
  });
  it("gives undefined for absent or unreadable values", () => {
    expect(parseRetryAfter(null, NOW)).toBeUndefined();
    expect(parseRetryAfter("", NOW)).toBeUndefined();
    expect(parseRetryAfter("soon", NOW)).toBeUndefined();
    expect(parseRetryAfter("-3", NOW)).toBeUndefined();
  });
  it("round-trips any whole number of seconds", () => {
    fc.assert(fc.property(fc.nat(100_000), (s) => parseRetryAfter(String(s), NOW) === s * 1000));
  });
});

describe("backoffDelay", () => {
  it("is full jitter below min(max, base * 2^attempt)", () => {
    fc.assert(
      fc.property(fc.nat(30), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, r) => {
        const d = backoffDelay(DEFAULT_RETRY_POLICY, attempt, () => r);
        const ceiling = Math.min(
          DEFAULT_RETRY_POLICY.maxDelayMs,
          DEFAULT_RETRY_POLICY.baseDelayMs * 2 ** attempt,
        );
        return d >= 0 && d < ceiling;
      }),
    );
  });
  it("doubles its ceiling per attempt", () => {
    const top = () => 0.999999;
    expect(backoffDelay(DEFAULT_RETRY_POLICY, 0, top)).toBe(499);
    expect(backoffDelay(DEFAULT_RETRY_POLICY, 1, top)).toBe(999);
    expect(backoffDelay(DEFAULT_RETRY_POLICY, 2, top)).toBe(1999);
    expect(backoffDelay(DEFAULT_RETRY_POLICY, 20, top)).toBe(19_999);
  });
});

describe("decideRetry", () => {
  const p = DEFAULT_RETRY_POLICY;
  const half = () => 0.5;
  const get = { method: "GET", idempotent: false };
  const post = { method: "POST", idempotent: false };

  it("retries 429 for every method, waiting Retry-After and a jitter under retryAfterJitterMs", () => {
    for (const method of ["GET", "POST", "PATCH", "DELETE"]) {
      expect(
        decideRetry(
          p,
          { method, idempotent: false },
          { kind: "status", status: 429, retryAfterMs: 3000 },
          0,
          half,
        ),
      ).toEqual({
        retry: true,
        delayMs: 3000 + 0.5 * p.retryAfterJitterMs,
      });
    }
    // Never earlier than Retry-After, never later than it plus the jitter; none at all when the jitter is 0.
    const at = (r: number, jitter = p.retryAfterJitterMs) =>
      decideRetry(
        { ...p, retryAfterJitterMs: jitter },
        get,
        { kind: "status", status: 429, retryAfterMs: 3000 },
        0,
        () => r,
      );
    expect(at(0)).toEqual({ retry: true, delayMs: 3000 });
    expect(at(0.999_999)).toEqual({ retry: true, delayMs: 3000 + p.retryAfterJitterMs - 1 });
    expect(at(0.7, 0)).toEqual({ retry: true, delayMs: 3000 });
  });
  it("backs off on 429 without Retry-After", () => {
    expect(decideRetry(p, post, { kind: "status", status: 429 }, 1, half)).toEqual({
      retry: true,
      delayMs: 500,
    });
  });
  it("does not wait out a Retry-After past the cap (a daily limit)", () => {
    const d = decideRetry(p, get, { kind: "status", status: 429, retryAfterMs: 3_600_000 }, 0, half);
    expect(d.retry).toBe(false);
  });
  it("retries 5xx and 408 for GET, PATCH, PUT, DELETE but not for a plain POST", () => {
    for (const status of [408, 500, 502, 503, 504]) {
      expect(decideRetry(p, get, { kind: "status", status }, 0, half).retry).toBe(true);
      expect(
        decideRetry(p, { method: "PATCH", idempotent: false }, { kind: "status", status }, 0, half).retry,
      ).toBe(true);
      expect(decideRetry(p, post, { kind: "status", status }, 0, half).retry).toBe(false);
    }
  });
  it("retries a POST the caller marks idempotent", () => {
    expect(
      decideRetry(p, { method: "POST", idempotent: true }, { kind: "status", status: 503 }, 0, half).retry,
    ).toBe(true);
    expect(decideRetry(p, { method: "POST", idempotent: true }, { kind: "timeout" }, 0, half).retry).toBe(
      true,
    );
  });
  it("never retries other 4xx", () => {
    for (const status of [400, 401, 403, 404, 409, 410, 413, 422]) {
      expect(decideRetry(p, get, { kind: "status", status }, 0, half).retry).toBe(false);
    }
  });
  it("retries network errors for safe methods, and for POST only when the connection was refused", () => {
    expect(decideRetry(p, get, { kind: "network", refused: false }, 0, half).retry).toBe(true);
    expect(decideRetry(p, post, { kind: "network", refused: false }, 0, half).retry).toBe(false);
    expect(decideRetry(p, post, { kind: "network", refused: true }, 0, half).retry).toBe(true);
    expect(decideRetry(p, post, { kind: "timeout" }, 0, half).retry).toBe(false);
  });
  it("stops after maxRetries", () => {
    const policy = retryPolicy({ maxRetries: 2 });
    expect(decideRetry(policy, get, { kind: "status", status: 503 }, 1, half).retry).toBe(true);
    expect(decideRetry(policy, get, { kind: "status", status: 503 }, 2, half).retry).toBe(false);
    expect(
      decideRetry(retryPolicy({ maxRetries: 0 }), get, { kind: "status", status: 429 }, 0, half).retry,
    ).toBe(false);
  });
});
