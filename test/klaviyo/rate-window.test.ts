import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { RateLimiter } from "../../src/core/rate-limit.js";
import { FixedWindow, MINUTE, SECOND, TierWindows, windowsOf } from "../../src/klaviyo/rate-window.js";

const XS = { name: "get_accounts", burst: 1, steady: 15, daily: 0 };
const M = { name: "get_campaigns", burst: 10, steady: 150, daily: 0 };
const LIST = { name: "create_list", burst: 10, steady: 150, daily: 150 };

describe("fixed windows", () => {
  it("counts within a window and starts afresh at its edge (aligned to the epoch)", () => {
    const w = new FixedWindow({ limit: 2, lengthMs: SECOND });
    w.take(10_100);
    w.take(10_900);
    expect(w.remaining(10_999)).toBe(0);
    expect(w.resetInMs(10_999)).toBe(1);
    expect(w.remaining(11_000)).toBe(2);
  });
  it("lists steady first, then burst, then daily, and scales limits", () => {
    expect(windowsOf(LIST)).toEqual([
      { limit: 150, lengthMs: MINUTE },
      { limit: 10, lengthMs: SECOND },
      { limit: 150, lengthMs: 86_400_000 },
    ]);
    expect(windowsOf(M, 0.5).map((w) => w.limit)).toEqual([75, 5]);
    expect(windowsOf(XS, 0.01).map((w) => w.limit)).toEqual([1, 1]);
  });
  it("never admits more than a window's limit, for any arrival times", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(5 * MINUTE), { maxLength: 400 }), (times) => {
        const tier = TierWindows.of(M);
        const admitted: number[] = [];
        for (const t of [...times].sort((a, b) => a - b)) if (tier.tryTake(t)) admitted.push(t);
        const perSecond = new Map<number, number>();
        const perMinute = new Map<number, number>();
        for (const t of admitted) {
          perSecond.set(Math.floor(t / SECOND), (perSecond.get(Math.floor(t / SECOND)) ?? 0) + 1);
          perMinute.set(Math.floor(t / MINUTE), (perMinute.get(Math.floor(t / MINUTE)) ?? 0) + 1);
        }
        return (
          [...perSecond.values()].every((n) => n <= 10) && [...perMinute.values()].every((n) => n <= 150)
        );
      }),
    );
  });
});

describe("the guard band (a request that may arrive in the next window)", () => {
  it("counts a request sent in the last guardMs of a window in the next window too", () => {
    const w = new FixedWindow({ limit: 2, lengthMs: SECOND }, 50);
    w.take(10_960); // in the band: counted here and in the window from 11_000
    expect(w.remaining(10_960)).toBe(1);
    expect(w.remaining(11_000)).toBe(1);
    w.take(11_000);
    expect(w.remaining(11_500)).toBe(0);
    // Past the next window, the carried count is gone.
    expect(w.remaining(12_000)).toBe(2);
    // A window skipped entirely carries nothing.
    w.take(12_990);
    expect(w.remaining(14_000)).toBe(2);
  });

  it("property: whatever the send times and network delays up to the guard, the server never counts more than a window's limit", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(10 * SECOND), fc.nat(50)), { maxLength: 300 }),
        fc.integer({ min: 1, max: 12 }),
        (sends, limit) => {
          const client = new FixedWindow({ limit, lengthMs: SECOND }, 50);
          const arrivals: number[] = [];
          for (const [at, delay] of [...sends].sort((a, b) => a[0] - b[0])) {
            if (client.remaining(at) > 0) {
              client.take(at);
              arrivals.push(at + delay);
            }
          }
          const perSecond = new Map<number, number>();
          for (const t of arrivals)
            perSecond.set(Math.floor(t / SECOND), (perSecond.get(Math.floor(t / SECOND)) ?? 0) + 1);
          expect(Math.max(0, ...perSecond.values())).toBeLessThanOrEqual(limit);
          // And it does admit: the first send always goes.
          if (sends.length > 0) expect(arrivals.length).toBeGreaterThan(0);
        },
      ),
    );
  });
});

describe("a band request answered before its window ends (it reached the server inside it)", () => {
  it("gives the next window back the place it held there; answered later, it keeps it", () => {
    const w = new FixedWindow({ limit: 2, lengthMs: SECOND }, 100);
    w.take(10_950); // in the band: counted in the window from 11_000 too
    w.take(10_960);
    expect(w.remaining(11_000 - 1)).toBe(0);
    w.answered(10_950, 10_990, 100); // answered at 10_990: it arrived before 11_000
    w.answered(10_960, 11_010, 100); // answered after the edge: it may have arrived after it
    expect(w.remaining(11_000)).toBe(1);
  });

  it("an answer that comes a window late gives back nothing, not even a later band's place", () => {
    const w = new FixedWindow({ limit: 2, lengthMs: SECOND }, 100);
    w.take(10_950); // band of the window ending at 11_000
    w.take(11_950); // band of the window ending at 12_000: counted in the window from 12_000 too
    w.answered(10_950, 11_960, 100);
    expect(w.remaining(12_000)).toBe(1);
  });

  it("changes nothing for a request taken outside the band, or within 2 ms of its start", () => {
    const w = new FixedWindow({ limit: 3, lengthMs: SECOND }, 100);
    w.take(10_500); // not in the band
    w.take(10_899); // the band starts at 10_900: taken just before it, read just after
    w.take(10_950);
    w.answered(10_500, 10_600, 100);
    w.answered(10_901, 10_950, 100);
    // Only the band request of 10_950 was counted in the next window; nothing gave it back.
    expect(w.remaining(11_000)).toBe(2);
    w.answered(10_950, 10_999, 100);
    expect(w.remaining(11_000)).toBe(3);
  });

  it("property: with answers telling of arrivals before the edge, the server still never counts more than a window's limit", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(10 * SECOND), fc.nat(200), fc.nat(2500)), { maxLength: 300 }),
        fc.integer({ min: 1, max: 12 }),
        (sends, limit) => {
          const guard = 200;
          const client = new FixedWindow({ limit, lengthMs: SECOND }, guard);
          // Sends and answers in time order; a request's way there is at most the guard, its way back anything.
          type Step = { at: number; kind: "send" | "answer"; takenAt: number; there: number; back: number };
          const steps: Step[] = sends.map(([at, there, back]) => ({
            at,
            kind: "send",
            takenAt: at,
            there: Math.min(there, guard),
            back,
          }));
          const arrivals: number[] = [];
          steps.sort((a, b) => a.at - b.at);
          while (steps.length > 0) {
            const step = steps.shift() as Step;
            if (step.kind === "answer") {
              client.answered(step.takenAt, step.at, guard);
              continue;
            }
            if (client.remaining(step.at) <= 0) continue;
            client.take(step.at);
            arrivals.push(step.at + step.there);
            const answer: Step = { ...step, kind: "answer", at: step.at + step.there + step.back };
            const i = steps.findIndex((s) => s.at > answer.at);
            steps.splice(i < 0 ? steps.length : i, 0, answer);
          }
          const perSecond = new Map<number, number>();
          for (const t of arrivals)
            perSecond.set(Math.floor(t / SECOND), (perSecond.get(Math.floor(t / SECOND)) ?? 0) + 1);
          expect(Math.max(0, ...perSecond.values())).toBeLessThanOrEqual(limit);
        },
      ),
    );
  });
});

describe("RateLimiter (client side) with a fake clock", () => {
  it("waits for the burst window rather than failing", async () => {
    const clock = new FakeClock(1_000_000);
    const limiter = new RateLimiter({ clock });
    await limiter.acquire("k", XS);
    expect(clock.now()).toBe(1_000_000);
    await limiter.acquire("k", XS);
    expect(clock.now()).toBe(1_001_000);
    await limiter.acquire("k", XS);
    expect(clock.now()).toBe(1_002_000);
  });
  it("waits for the steady window when the minute is used up", async () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter({ clock });
    for (let i = 0; i < 15; i++) await limiter.acquire("k", XS);
    expect(clock.now()).toBe(14 * SECOND);
    await limiter.acquire("k", XS);
    expect(clock.now()).toBe(MINUTE);
  });
  it("keeps credentials and tiers apart", async () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter({ clock });
    await limiter.acquire("a", XS);
    await limiter.acquire("b", XS);
    await limiter.acquire("a", { ...XS, name: "get_account" });
    expect(clock.now()).toBe(0);
  });
  it("obeys RateLimit-Remaining: 0 and Retry-After from the server", async () => {
    const clock = new FakeClock(500);
    const limiter = new RateLimiter({ clock });
    limiter.observe("k", M, { observedAt: 500, limit: 150, remaining: 0, resetSeconds: 42 });
    expect(limiter.waitMs("k", M)).toBe(42_000);
    await limiter.acquire("k", M);
    expect(clock.now()).toBe(42_500);
    limiter.observe("k", M, { observedAt: clock.now(), retryAfterMs: 7000 });
    await limiter.acquire("k", M);
    expect(clock.now()).toBe(49_500);
  });
  it("gives the next window back a band request's place when its answer came before the edge", () => {
    const run = (answerAt: number | undefined) => {
      const clock = new FakeClock(10_950);
      const limiter = new RateLimiter({ clock });
      expect(limiter.tryAcquire("k", XS, 100)).toBe(true); // in the band of the second ending at 11_000
      const takenAt = limiter.now();
      if (answerAt !== undefined) {
        clock.advance(answerAt - clock.now());
        limiter.answered("k", XS, takenAt, 100);
      }
      clock.advance(11_000 - clock.now());
      return limiter.waitMs("k", XS, 100);
    };
    expect(run(undefined)).toBe(1000); // held in the next second too
    expect(run(10_990)).toBe(0);
  });
  it("gives up waiting when the caller aborts", async () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter({ clock });
    await limiter.acquire("k", XS);
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await expect(limiter.acquire("k", XS, controller.signal)).rejects.toThrow("stop");
  });
  it("admits at most the burst per second under concurrency", async () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter({ clock });
    const starts: number[] = [];
    await Promise.all(
      Array.from({ length: 25 }, () => limiter.acquire("k", M).then(() => starts.push(clock.now()))),
    );
    const perSecond = new Map<number, number>();
    for (const t of starts)
      perSecond.set(Math.floor(t / SECOND), (perSecond.get(Math.floor(t / SECOND)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(10);
    expect(starts).toHaveLength(25);
  });
});
