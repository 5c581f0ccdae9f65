/**
 * An emulator says on every answer whether it enforces Klaviyo's rate limits (`X-Emulator-Rate-Limits: off`,
 * `real` or `scale=F`); Klaviyo never sends this header. A client that hears `off` stops waiting on its own copy of
 * Klaviyo's limits for that emulator, so a test suite against an emulator with limits off runs at the speed of
 * the code under test, not at Klaviyo's rates; `real` or a scale puts it back. The server's 429s are honoured
 * whatever was heard.
 *
 * What was heard is kept per emulator, so every client of the process talking to it knows from its first request:
 * by `fetch` function for an in-process emulator (`emulator.fetch`, one per emulator), by origin otherwise.
 */
export const EMULATOR_RATE_LIMITS_HEADER = "x-emulator-rate-limits";

/** What one emulator last said of its limits. */
export interface LimitsHeard {
  /** The emulator enforces no limits: the client's limiter stands aside. */
  off: boolean;
}

const byFetch = new WeakMap<object, LimitsHeard>();
const byOrigin = new Map<string, LimitsHeard>();

/** The record for the server a client sends to: its in-process `fetch`, else its base URL's origin. */
export function limitsHeardFor(fetch: object | undefined, origin: string): LimitsHeard {
  const known = fetch ? byFetch.get(fetch) : byOrigin.get(origin);
  if (known) return known;
  const heard: LimitsHeard = { off: false };
  if (fetch) byFetch.set(fetch, heard);
  else byOrigin.set(origin, heard);
  return heard;
}

/** Takes in an answer's header, when it has one (Klaviyo's answers never do, and leave the record as it is). */
export function hearLimits(heard: LimitsHeard, headers: Headers): void {
  const said = headers.get(EMULATOR_RATE_LIMITS_HEADER);
  if (said !== null) heard.off = said.trim().toLowerCase() === "off";
}
