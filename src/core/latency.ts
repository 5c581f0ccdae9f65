/**
 * What the network between a client and its server is like, learned from its answers. A rate window is counted by
 * the server when a request *arrives*, so a request sent just before a window's end may count in the next one: the
 * client counts a request sent within a guard band of the end in both windows. That band must cover the request's
 * one-way delay, which the client cannot see; what it sees is the time from taking a slot to the answer's headers,
 * which is always longer (the one-way delay, the server's work, the way back), so the band is the longest of the
 * recent ones: never too narrow, a little wide. A 429 the limiter let through shows the band was too narrow all
 * the same (a delay longer than any seen yet): it widens the floor, for the client's life.
 *
 * The same samples say how many requests to keep in flight to reach a tier's ceiling (`inFlightFor`).
 */
import type { RateTier } from "../klaviyo/rate-window.js";

/** The narrowest guard band, as before anything is learned: the event loop's delays on a quiet machine. */
export const MIN_GUARD_MS = 50;
/** The widest: past this a window is mostly guard, and a server this slow is better met with its 429s. */
export const MAX_GUARD_MS = 2000;

export class LatencyWindow {
  private readonly samples: number[] = [];
  private next = 0;
  private floor = 0;
  private longest = 0;

  /** Keeps the last `size` samples: the network of now, not of an hour ago. */
  constructor(private readonly size = 64) {}

  /** Takes in one sample: milliseconds from taking a slot (or sending) to the answer's headers. */
  add(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) return;
    if (this.samples.length < this.size) this.samples.push(ms);
    else {
      this.samples[this.next] = ms;
      this.next = (this.next + 1) % this.size;
    }
    this.longest = Math.max(...this.samples);
  }

  /** How many samples are held. */
  get count(): number {
    return this.samples.length;
  }

  /** The longest recent sample; `undefined` before any. */
  max(): number | undefined {
    return this.samples.length > 0 ? this.longest : undefined;
  }

  /** The median of the recent samples; `undefined` before any. */
  typical(): number | undefined {
    if (this.samples.length === 0) return undefined;
    const sorted = [...this.samples].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  }

  /** A request the limiter let through met a 429: the band was too narrow. Its floor doubles (at least 100 ms). */
  penalize(): void {
    this.floor = Math.min(MAX_GUARD_MS, Math.max(100, 2 * this.floor, 2 * (this.max() ?? 0)));
  }

  /** The guard band to count the next request with. */
  guardMs(): number {
    const seen = this.max();
    const learned = seen === undefined ? 0 : Math.ceil(seen * 1.1) + 5;
    return Math.min(MAX_GUARD_MS, Math.max(MIN_GUARD_MS, learned, this.floor));
  }
}

/**
 * Requests to keep in flight to reach `tier`'s ceiling when answers take `latencyMs`. A window's burst is best sent
 * as the window opens: a request sent later in it may fall in the guard band at its end (`LatencyWindow`), where
 * it counts in two windows. A slot whose answer takes half a second or more brings back one useful answer a
 * window, so the whole burst must be in flight; nearer the server, a slot is reused within the window, in
 * proportion. Plus two for the answers that come late. At least 2, at most `cap` (memory: each holds a request body
 * or a page). Before any answer, the whole burst: nothing is known yet, and a burst short at the start is sent late
 * in its window, where the guard band counts it in the next window too.
 */
export function inFlightFor(tier: RateTier, latencyMs: number | undefined, cap: number): number {
  const perSecond = tier.burst > 0 ? tier.burst : tier.steady > 0 ? Math.ceil(tier.steady / 60) : 10;
  const latency = Math.max(0, latencyMs ?? 500);
  const share = Math.min(1, (2 * latency) / 1000);
  return Math.max(2, Math.min(cap, Math.ceil(perSecond * share) + 2));
}
