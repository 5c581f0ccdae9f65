/**
 * Runs an action for the page: validated by the library (`runAction`), sent through a client whose `fetch`
 * records every exchange, answered with the output or the error, the rate-limit state and three snippets, and
 * kept in a history of the last 100 runs.
 */

import { actionContext, validateInputs } from "../actions/define.js";
import { getAction } from "../actions/index.js";
import type { AuthStrategy } from "../core/auth-strategy.js";
import { type FetchLike, readRateLimit } from "../core/chain.js";
import { KlaviyoClient, type KlaviyoClientOptions } from "../core/client.js";
import { ApiError, InputValidationError } from "../core/errors.js";
import type { RateLimiter } from "../core/rate-limit.js";
import { redact } from "../core/redact.js";
import { DEFAULT_BASE_URL } from "../core/version.js";
import type { Run, RunError } from "./contract.js";
import { type ExchangeObserver, type Recorded, recordingFetch } from "./record.js";
import { cliSnippet, curlSnippet, librarySnippet } from "./snippets.js";

export const HISTORY_LIMIT = 100;

export type { RunError };
/** A run, as `/api/run` answers it and the history keeps it. */
export type RunRecord = Run;

/** Client options the playground passes on (credentials and base URL are its own). */
export type PlaygroundClientOptions = Omit<KlaviyoClientOptions, "apiKey" | "auth" | "baseUrl">;

export interface RunnerOptions {
  readonly auth: AuthStrategy;
  readonly baseUrl: string;
  readonly fetch: FetchLike;
  readonly rateLimiter: RateLimiter | false;
  readonly client: PlaygroundClientOptions;
  /**
   * Whether requests go to the in-process emulator, which no copied command can reach: the snippets then point
   * at Klaviyo (the CLI's and library's default); otherwise at `baseUrl`.
   */
  readonly emulator: boolean;
  readonly observe?: ExchangeObserver;
}

/** A value as JSON can carry it: bytes as `{ base64 }`. */
function jsonable(value: unknown): unknown {
  if (value === undefined) return undefined;
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) =>
      v instanceof Uint8Array ? { base64: Buffer.from(v).toString("base64") } : v,
    ),
  );
}

/** An error as the page shows it: its name, its message and status, the inputs it names (secrets scrubbed). */
export function describeError(error: unknown, secrets: readonly string[]): RunError {
  const name = error instanceof Error ? error.name : "Error";
  const message = redact(error instanceof Error ? error.message : String(error), secrets);
  const out: RunError = { name, message };
  if (error instanceof ApiError) out.status = error.status;
  if (error instanceof InputValidationError) {
    out.issues = error.issues.map((i) => ({
      label: i.label,
      key: i.key,
      message: redact(i.message, secrets),
    }));
  }
  return out;
}

export class UnknownActionError extends Error {}

export class Runner {
  readonly history: RunRecord[] = [];
  #next = 1;

  constructor(private readonly options: RunnerOptions) {}

  /** The secrets of the connection now (an OAuth token changes on refresh). */
  secrets(): readonly string[] {
    return this.options.auth.secrets();
  }

  /** A client on the playground's connection whose every exchange is recorded in `recorded`. */
  client(recorded: Recorded[]): KlaviyoClient {
    const o = this.options;
    return new KlaviyoClient({
      ...o.client,
      auth: o.auth,
      baseUrl: o.baseUrl,
      rateLimiter: o.rateLimiter,
      fetch: recordingFetch(o.fetch, recorded, () => this.secrets(), o.observe),
    });
  }

  async run(actionKey: string, inputs: Record<string, unknown>): Promise<RunRecord> {
    const action = getAction(actionKey);
    if (!action) throw new UnknownActionError(`unknown action "${actionKey}"`);
    const id = this.#next++;
    const at = new Date().toISOString();
    const started = performance.now();
    const recorded: Recorded[] = [];
    const o = this.options;
    const client = this.client(recorded);
    let ok = false;
    let output: unknown;
    let error: RunError | undefined;
    try {
      // The form sends what was typed: numbers, booleans and JSON as their text forms.
      const values = validateInputs(action, inputs, { text: true });
      output = jsonable(await action.perform(actionContext(action, client), values));
      ok = true;
    } catch (caught) {
      error = describeError(caught, this.secrets());
    }
    const ms = Math.round((performance.now() - started) * 10) / 10;
    const last = [...recorded].reverse().find((r) => r.responseHeaders);
    let rateLimit: RunRecord["rateLimit"];
    if (last?.responseHeaders) {
      const { observedAt: _observedAt, ...state } = readRateLimit(last.responseHeaders, Date.now());
      if (Object.keys(state).length > 0) rateLimit = state;
    }
    const remote = o.emulator ? undefined : o.baseUrl;
    const record: RunRecord = {
      id,
      action: action.key,
      label: action.label,
      at,
      ms,
      ok,
      ...(ok ? { output } : {}),
      ...(error ? { error } : {}),
      exchanges: recorded.map((r) => r.exchange),
      ...(rateLimit ? { rateLimit } : {}),
      snippets: {
        cli: cliSnippet(action, inputs, remote),
        library: librarySnippet(action, inputs, remote),
        curl: curlSnippet(recorded[0]?.sent, o.emulator ? DEFAULT_BASE_URL : undefined),
      },
    };
    this.history.unshift(record);
    if (this.history.length > HISTORY_LIMIT) this.history.length = HISTORY_LIMIT;
    return record;
  }
}
