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

/** An input of a trigger (`GET /api/triggers`), as the platforms show it. */
export interface TriggerInputInfo {
  key: string;
  label: string;
  comments: string;
  type: "date" | "boolean" | "id";
  required: boolean;
  default?: boolean;
  /** The picker offering its values (`GET /api/pickers/:picker`). */
  picker?: string;
}

/** A polling trigger: the platforms' definition, as the page needs it. */
export interface TriggerInfo {
  key: string;
  label: string;
  description: string;
  /** The change stream it reads (`profiles`, `events`, `list-members`, …). */
  stream: string;
  inputs: TriggerInputInfo[];
}

/** `GET /api/triggers`. */
export interface TriggerCatalogue {
  triggers: TriggerInfo[];
  /**
   * How far behind now a poll reads (seconds): 0 on the embedded emulator, so a change shows at the next poll a
   * second later; against Klaviyo the feed's default, so that nothing still being written is skipped.
   */
  horizonSeconds: number;
}

/** A record as Klaviyo sends it (snake_case, nothing dropped). */
export interface TriggerRecord {
  type: string;
  id: string;
  attributes?: Record<string, unknown>;
  relationships?: Record<string, unknown>;
  [key: string]: unknown;
}

/** A change a poll delivered: its kind, its time, the record, and the records it names (an event's metric). */
export interface TriggerChange {
  stream: string;
  change: "created" | "updated" | "recorded" | "joined" | "suppressed" | "unsubscribed";
  at: string;
  record: TriggerRecord;
  related?: TriggerRecord[];
  /** An event found by the lookback (recorded with a past time, or indexed late). */
  late?: true;
}

/**
 * `POST /api/triggers/poll` with `{ key, inputs, state }`: the changes since `state` (absent on the first poll)
 * and the state to send next time; or why not (`ok: false`, `error`, the state sent kept). The exchanges are what
 * went over the wire (credentials masked).
 */
export interface TriggerPoll {
  ok: boolean;
  trigger: string;
  at: string;
  ms: number;
  changes: TriggerChange[];
  /** Opaque to the page: send it back with the next poll. */
  state: unknown;
  /** More changes wait: poll again at once rather than after the interval. */
  more: boolean;
  error?: RunError;
  exchanges: Exchange[];
}

/** `GET /api/pickers/:picker`: the choices for an input taking an ID (the first ones, `truncated` if more). */
export interface PickerChoices {
  options: Array<{ label: string; value: string }>;
  truncated: boolean;
}
