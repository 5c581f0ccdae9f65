/**
 * The network the emulator reproduces between a client and Klaviyo: a one-way delay of each request on its way
 * in (before the gateway sees it and counts it against the rate limits) and a delay of each answer (the time
 * Klaviyo takes to serve it, and the way back). Each is a fixed number of milliseconds or a range drawn from
 * uniformly per request, so that jitter can be reproduced.
 */

/** Milliseconds: a fixed delay, or `[min, max]`, drawn uniformly per request. */
export type LatencyMs = number | readonly [min: number, max: number];

/** The longest delay accepted (10 minutes), the bound `--latency` always had. */
export const MAX_LATENCY_MS = 600_000;

function inBounds(ms: unknown): ms is number {
  return typeof ms === "number" && Number.isFinite(ms) && ms >= 0 && ms <= MAX_LATENCY_MS;
}

/**
 * Returns `value` when it is a delay the emulator can apply: a number of milliseconds from 0 to
 * `MAX_LATENCY_MS`, or a `[min, max]` pair of them with `min <= max`. Throws, naming `what`, otherwise.
 */
export function checkLatency(value: unknown, what = "Latency"): LatencyMs {
  if (inBounds(value)) return value;
  if (Array.isArray(value) && value.length === 2 && inBounds(value[0]) && inBounds(value[1])) {
    const [min, max] = value as [number, number];
    if (min > max) throw new Error(`${what} is a range [min, max] with min <= max, not [${min}, ${max}]`);
    return [min, max];
  }
  throw new Error(
    `${what} must be milliseconds from 0 to ${MAX_LATENCY_MS}, or a range [min, max] of them, not ${describe(value)}`,
  );
}

/** `value` when it is a number of milliseconds from `min` to `max`; throws, naming `what`, otherwise. */
export function checkMilliseconds(value: unknown, what: string, min: number, max: number): number {
  if (typeof value === "number" && Number.isFinite(value) && value >= min && value <= max) return value;
  throw new Error(`${what} must be milliseconds from ${min} to ${max}, not ${describe(value)}`);
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Parses the CLI's form: `N` (whole milliseconds) or `MIN-MAX` (such as `20-80`). Throws a message that starts
 * with `flag`, fit for the terminal.
 */
export function parseLatency(text: string, flag = "latency"): LatencyMs {
  const match = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(text);
  const expected = `${flag} must be a whole number of milliseconds from 0 to ${MAX_LATENCY_MS}, or a range MIN-MAX such as 20-80`;
  if (!match) throw new Error(`${expected}, not "${text}"`);
  const min = Number(match[1]);
  const max = match[2] === undefined ? undefined : Number(match[2]);
  if (min > MAX_LATENCY_MS || (max !== undefined && max > MAX_LATENCY_MS))
    throw new Error(`${expected}, not "${text}"`);
  if (max === undefined) return min;
  if (min > max) throw new Error(`${flag}: the range ${min}-${max} runs backwards (MIN must not exceed MAX)`);
  return [min, max];
}

/** One delay drawn from `latency` (uniformly in a range, with `random` in [0, 1)); a fixed value draws nothing. */
export function drawLatency(latency: LatencyMs, random: () => number): number {
  if (typeof latency === "number") return latency;
  const [min, max] = latency;
  return min === max ? min : min + random() * (max - min);
}
