/** The geometry of the live rate charts (pure: no DOM), one chart per rate tier. */
import type { RateSecond, TierRates } from "./model.js";

export interface Bar {
  /** Slot from 0 (oldest second) to `slots - 1` (the latest). */
  slot: number;
  t: number;
  requests: number;
  throttled: number;
  faults: number;
}

export interface ChartModel {
  tier: string;
  bars: Bar[];
  slots: number;
  /** The top of the y axis (requests per second). */
  yMax: number;
  /** Whether the burst limit is above the top of the axis (traffic far below it), drawn at the top as off scale. */
  burstOffScale: boolean;
  burst: number | null;
  steady: number | null;
  total: number;
  throttled: number;
  faults: number;
}

/** Tier names in the order Klaviyo sizes them; unknown names after them. */
const ORDER = ["XS", "S", "M", "L", "XL"];

export function tierOrder(a: string, b: string): number {
  const ia = ORDER.indexOf(a);
  const ib = ORDER.indexOf(b);
  return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
}

export function hasTraffic(tier: TierRates): boolean {
  return tier.seconds.some((s) => s.requests > 0 || s.throttled > 0 || s.faults > 0);
}

/**
 * Places each second of a tier in one of `slots` slots ending with the latest whole second (`now`'s second, or
 * the latest second reported when that is later); seconds outside the window are left out.
 */
export function chartModel(tier: TierRates, now: number, slots = 60): ChartModel {
  const latestReported = tier.seconds.reduce((m, s) => Math.max(m, s.t), Number.NEGATIVE_INFINITY);
  const end = Math.max(Math.floor(now / 1000) * 1000, latestReported);
  const first = end - (slots - 1) * 1000;
  const bars: Bar[] = [];
  let total = 0;
  let throttled = 0;
  let faults = 0;
  let peak = 0;
  for (const s of tier.seconds as RateSecond[]) {
    if (s.t < first || s.t > end) continue;
    const slot = Math.round((s.t - first) / 1000);
    bars.push({ slot, t: s.t, requests: s.requests, throttled: s.throttled, faults: s.faults });
    total += s.requests;
    throttled += s.throttled;
    faults += s.faults;
    peak = Math.max(peak, s.requests, s.throttled + s.faults);
  }
  const burst = typeof tier.burstPerSecond === "number" ? tier.burstPerSecond : null;
  const steady = typeof tier.steadyPerMinute === "number" ? tier.steadyPerMinute : null;
  // The axis reaches the burst limit when traffic comes within a quarter of it; below that the bars would be
  // slivers under a far-off line, so the axis follows the traffic and the limit is marked as off scale.
  const reach = Math.max(peak * 4, 5);
  const top = Math.max(peak, burst !== null && burst <= reach ? burst : 0, 1) * 1.15;
  const yMax = niceCeiling(top);
  const burstOffScale = burst !== null && burst > yMax;
  return { tier: tier.tier, bars, slots, yMax, burstOffScale, burst, steady, total, throttled, faults };
}

/** The next round number at or above `n` (1, 2, 5, 10, 20, 50, …). */
export function niceCeiling(n: number): number {
  if (n <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 5, 10]) if (step * power >= n) return step * power;
  return 10 * power;
}
