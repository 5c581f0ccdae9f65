/**
 * The playground's API as its page sees it: the shapes `src/playground/server.ts` answers and `ui/` reads. One
 * definition for both sides (the page imports these types only, so this file imports nothing).
 */

export interface Info {
  mode: "emulator" | "remote";
  baseUrl: string;
  connection: "api-key" | "oauth";
  version: string;
  revision: string;
}

export interface InputIssue {
  label: string;
  key: string;
  message: string;
}

export interface ShownRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface ShownResponse {
  status: number;
  headers: Record<string, string>;
  body?: string;
}

/** One request and its answer, as `/api/run` returns them (credentials masked). */
export interface Exchange {
  request: ShownRequest;
  response?: ShownResponse;
  ms: number;
  /** Why no answer came (a dropped connection, a timeout). */
  error?: string;
}

export interface RateLimitState {
  limit?: number;
  remaining?: number;
  resetSeconds?: number;
  retryAfterMs?: number;
}

export interface RunError {
  name: string;
  message: string;
  status?: number;
  issues?: InputIssue[];
}

/** `POST /api/run`, and each entry of `GET /api/history`. */
export interface Run {
  id: number;
  action: string;
  label: string;
  at: string;
  ms: number;
  ok: boolean;
  output?: unknown;
  error?: RunError;
  exchanges: Exchange[];
  rateLimit?: RateLimitState;
  snippets: { cli: string; library: string; curl: string };
}

/** A resource as the emulator stores it (wire form). */
export interface Resource {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  relationships?: Record<
    string,
    { data: { type: string; id: string } | Array<{ type: string; id: string }> | null }
  >;
}

/** `GET /api/emulator/state`: the newest 500 of each kind. */
export interface EmulatorState {
  counts: Record<string, number>;
  profiles: Resource[];
  /** `members`: profile ids (the first 500), `memberCount`: all of them. */
  lists: Array<Resource & { members: string[]; memberCount: number }>;
  segments: Resource[];
  campaigns: Resource[];
  campaignMessages: Resource[];
  templates: Resource[];
  /** `thumbnail`: whether `/api/emulator/images/:id` has the image's bytes. */
  images: Array<Resource & { thumbnail: boolean }>;
  metrics: Resource[];
  events: Resource[];
}

export type TierName = "XS" | "S" | "M" | "L" | "XL";

/** An entry of `GET /api/emulator/requests`. */
export interface RequestEntry {
  at: number;
  method: string;
  path: string;
  operationId: string | null;
  status: number;
  fault: string | null;
  tier: TierName | null;
}

export interface RateSecond {
  /** The second's start (ms since the epoch). */
  t: number;
  requests: number;
  throttled: number;
  faults: number;
}

export interface TierRates {
  tier: TierName;
  /** The emulator's limits for the tier (scaled as it is), or null when its limits are off. */
  burstPerSecond: number | null;
  steadyPerMinute: number | null;
  seconds: RateSecond[];
}

/** `GET /api/emulator/rates`. */
export interface Rates {
  now: number;
  tiers: TierRates[];
}
