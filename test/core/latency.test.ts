import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { inFlightFor, LatencyWindow, MAX_GUARD_MS, MIN_GUARD_MS } from "../../src/core/latency.js";
import { InMemoryRateLimitStore } from "../../src/core/rate-store.js";
import { MINUTE, SECOND, windowsOf } from "../../src/klaviyo/rate-window.js";

describe("the learned guard band", () => {
  it("is the narrowest before anything is learned, then the longest recent slot-to-answer time, widened a little", () => {
    const w = new LatencyWindow();
    expect(w.guardMs()).toBe(MIN_GUARD_MS);
    w.add(30);
    expect(w.guardMs()).toBe(MIN_GUARD_MS);
    w.add(200);
    w.add(120);
    expect(w.guardMs()).toBe(Math.ceil(200 * 1.1) + 5);
    expect(w.typical()).toBe(120);
  });

  it("forgets what is older than its last samples: the network of now", () => {
    const w = new LatencyWindow(4);
    w.add(900);
    for (let i = 0; i < 4; i++) w.add(100);
    expect(w.max()).toBe(100);
  });

  it("a 429 let through widens it for good: at least 100 ms, doubling, past what was seen", () => {
    const w = new LatencyWindow(4);
    w.add(60);
    w.penalize();
    expect(w.guardMs()).toBe(120);
    w.penalize();
    expect(w.guardMs()).toBe(240);
    for (let i = 0; i < 4; i++) w.add(10);
    expect(w.guardMs()).toBe(240); // short samples after do not narrow it again
  });

  it("property: always within [50 ms, 2 s], never narrower than the longest recent sample (up to 2 s)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 10_000, noNaN: true }), { maxLength: 100 }),
        fc.nat(3),
        (samples, hits) => {
          const w = new LatencyWindow();
          for (const s of samples) w.add(s);
          for (let i = 0; i < hits; i++) w.penalize();
          const g = w.guardMs();
          expect(g).toBeGreaterThanOrEqual(MIN_GUARD_MS);
          expect(g).toBeLessThanOrEqual(MAX_GUARD_MS);
          const recent = samples.slice(-64);
          if (recent.length > 0)
            expect(g).toBeGreaterThanOrEqual(Math.min(MAX_GUARD_MS, Math.max(...recent)));
        },
      ),
    );
  });
});

describe("requests in flight to reach a tier's ceiling", () => {
  const bulkEvents = { name: "bulk_create_events", burst: 10, steady: 150, daily: 0 };
  const getProfiles = { name: "get_profiles", burst: 75, steady: 750, daily: 0 };

  it("grow with the latency: the whole burst in flight from half a second, a share of it nearer", () => {
    expect(inFlightFor(bulkEvents, 5, 20)).toBe(3);
    expect(inFlightFor(bulkEvents, 160, 20)).toBe(6);
    expect(inFlightFor(bulkEvents, 600, 20)).toBe(12);
    expect(inFlightFor(getProfiles, 600, 96)).toBe(77);
    expect(inFlightFor(getProfiles, 600, 64)).toBe(64);
    expect(inFlightFor(getProfiles, 160, 96)).toBe(26);
    // Before any answer, the whole burst (and the two spare).
    expect(inFlightFor(getProfiles, undefined, 96)).toBe(77);
    expect(inFlightFor(bulkEvents, undefined, 20)).toBe(12);
  });

  it("property: at least 2, at most the cap, never fewer for a longer latency, the whole burst from 500 ms", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 700 }),
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 2, max: 100 }),
        (burst, a, b, cap) => {
          const tier = { name: "t", burst, steady: burst * 10, daily: 0 };
          const n = inFlightFor(tier, a, cap);
          expect(n).toBeGreaterThanOrEqual(2);
          expect(n).toBeLessThanOrEqual(cap);
          if (a <= b) expect(inFlightFor(tier, b, cap)).toBeGreaterThanOrEqual(n);
          if (a >= 500) expect(n).toBe(Math.min(cap, burst + 2));
        },
      ),
    );
  });
});

describe("the server's count of its steady window", () => {
  const key = { credential: "c", tier: "get_lists" };
  const windows = windowsOf({ name: "get_lists", burst: 75, steady: 750, daily: 0 });
  const t0 = Date.UTC(2026, 11, 7, 12, 0, 10);

  it("is taken as a floor of the process's own count when the windows are the same", () => {
    const store = new InMemoryRateLimitStore();
    expect(store.take(key, windows, 0, t0)).toBe(0);
    // With another process, 749 of this minute's 750 are used: one more may go, then none until the next minute.
    store.reconcile(key, MINUTE, 749, t0 + 50 * SECOND + 300, t0);
    expect(store.take(key, windows, 0, t0 + SECOND)).toBe(0);
    expect(store.take(key, windows, 0, t0 + 2 * SECOND)).toBe(48 * SECOND);
    expect(store.take(key, windows, 0, t0 + 50 * SECOND)).toBe(0);
  });

  it("is ignored for another window, and never lowers the count", () => {
    const store = new InMemoryRateLimitStore();
    for (let i = 0; i < 5; i++) store.take(key, windows, 0, t0);
    store.reconcile(key, MINUTE, 749, t0 + 20 * MINUTE, t0); // not this window
    store.reconcile(key, MINUTE, 1, t0 + 50 * SECOND, t0); // lower than ours
    expect(store.waitMs(key, windows, 0, t0 + SECOND)).toBe(0);
  });
});
