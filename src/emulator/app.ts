/**
 * A local stand-in for `https://a.klaviyo.com`: the same paths, authentication, revision check, rate limits and
 * error documents, with injectable faults, network delays (of requests and of answers) and late data (events
 * indexed after a delay), usable in-process (`emulator.fetch`) or on a real port (`startEmulator`).
 */
import { Hono } from "hono";
import { type AdminCampaignView, type AdminEventView, adminRoutes } from "./admin.js";
import { authenticate, DEV_API_KEY } from "./auth.js";
import type { EmulatorBindings } from "./bindings.js";
import { connection, followCallerSignal, isDroppedConnection, type RequestRecord } from "./connection.js";
import { type EmulatorEnv, requestUrl } from "./env.js";
import { EmulatorProblem, notFound, problemResponse, serverError } from "./errors.js";
import { FaultInjector, type FaultSpec, injectFaults } from "./faults.js";
import { checkLatency, drawLatency, type LatencyMs } from "./latency.js";
import { lookupOperation, notImplemented } from "./lookup.js";
import {
  createOAuthServer,
  type OAuthClient,
  type OAuthControls,
  RevocableCredentialRegistry,
} from "./oauth.js";
import { announceRateLimits, RateLimiter, type RateLimitMode, rateLimit } from "./rate-limit.js";
import { setCampaignArchived } from "./resources/campaigns-model.js";
import { checkEventVisibilityDelay, eventVisible, setEventVisibleAt } from "./resources/events-model.js";
import {
  checkBatchWindow,
  checkDeliveryTimeout,
  checkRetryDelays,
  DEFAULT_WEBHOOK_BATCH_WINDOW_MS,
  DEFAULT_WEBHOOK_RETRY_DELAYS_MS,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  WebhookDeliverer,
  type WebhookDeliveryAttempt,
} from "./resources/webhooks-delivery.js";
import { requireRevision } from "./revision.js";
import { implementedRoutes } from "./routes/index.js";
import { seedDemo, seedEvents, seedProfiles } from "./seed.js";
import { loadSnapshot, SnapshotWriter } from "./snapshot.js";
import {
  type Account,
  clearState,
  createState,
  type EmulatorState,
  type EventRow,
  seedAccount,
  TABLE_NAMES,
} from "./state.js";

export interface EmulatorOptions {
  /** Accepted private keys; `scopes` undefined grants every scope. Default: only `DEV_API_KEY`. */
  readonly apiKeys?: ReadonlyArray<{ readonly key: string; readonly scopes?: readonly string[] }>;
  /** Default `real`. */
  readonly rateLimits?: RateLimitMode;
  /**
   * The delay of every answer, after the request is handled (the time Klaviyo takes to serve it, and the way
   * back), with a real timer: milliseconds, or `[min, max]` drawn uniformly per request. Default 0.
   */
  readonly latencyMs?: LatencyMs;
  /**
   * The one-way delay of every request on its way in, before it is counted against the rate limits and handled
   * (Klaviyo's gateway counts a request when it arrives), with a real timer: milliseconds, or `[min, max]` drawn
   * uniformly per request. A client that aborts meanwhile is as if it never sent the request. Default 0.
   */
  readonly requestLatencyMs?: LatencyMs;
  readonly faults?: readonly FaultSpec[];
  /** Draws for faults and for latency ranges; default `Math.random`. */
  readonly random?: () => number;
  /**
   * The emulator's time, default `Date.now`: rate windows, the request log's `at`, OAuth token lifetimes, and
   * every time a resource records (`created`, `updated`, `updated_at`, `joined_group_at`, an event's default
   * `time`, suppression timestamps, send jobs' progress, events' visibility), all in whole seconds as Klaviyo
   * reports them. The network delays are real time whatever the clock: with a `FakeClock`, a request is counted
   * at the clock's time when its request delay ends, which is the time it was sent unless something advanced the
   * clock meanwhile.
   */
  readonly clock?: { now(): number };
  /**
   * Klaviyo's indexing lag: an event recorded by Create Event or Bulk Create Events stays out of Get Event and
   * Get Events until the clock reaches its recording time plus this many milliseconds (its `datetime` is its own
   * `time` all the same). Default 0 (seen at once); changed while running with `setEventVisibilityDelay` or
   * `PUT /__emulator/config {"eventVisibilityDelayMs": N}`, for events recorded from then on.
   */
  readonly eventVisibilityDelayMs?: number;
  /**
   * Load the state from this JSON snapshot (when it exists) and save it there after every change, atomically.
   * Without it the state lives in memory only.
   */
  readonly dataFile?: string;
  /** `demo`: a small realistic account (profiles, lists, members) to explore. Applied to an empty state only. */
  readonly seed?: "demo";
  /** Adds this many generated profiles (for benchmarks). Applied to an empty state only. */
  readonly seedProfiles?: number;
  /** Adds this many generated events over the profiles. Applied to an empty state only. */
  readonly seedEvents?: number;
  /** OAuth apps the authorization server at `/oauth` knows (authorize, token, revoke). Default: none. */
  readonly oauthClients?: readonly OAuthClient[];
  /** Lifetime of OAuth access tokens; default 3600. */
  readonly accessTokenTtlSeconds?: number;
  /**
   * Whether the account may use the Webhooks API (default true). False makes every `/api/webhooks*` and
   * `/api/webhook-topics*` call answer 403 `permission_denied`, as Klaviyo answers accounts without Advanced KDP,
   * so that a fallback to polling can be tested. Webhooks already made keep being delivered.
   */
  readonly webhookAccess?: boolean;
  /**
   * The waits before each retry of a failed webhook delivery (milliseconds). Default: 17 retries from 5 s,
   * doubling, capped at one hour. Tests pass tiny ones (`[20, 40]`).
   */
  readonly webhookRetryDelaysMs?: readonly number[];
  /** Events recorded within this window go out in one delivery per webhook (up to 1,000 each). Default 100. */
  readonly webhookBatchWindowMs?: number;
  /** How long a webhook's endpoint has to answer before the attempt counts as failed. Default 5000. */
  readonly webhookTimeoutMs?: number;
}

/** What the emulator's app offers (a hono app, typed here without hono's types). */
export interface EmulatorApp {
  fetch(request: Request, bindings?: EmulatorBindings): Response | Promise<Response>;
}

export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface Emulator {
  /** The app: `app.fetch(request)` answers a web `Request`; on a port, @hono/node-server serves it. */
  readonly app: EmulatorApp;
  /** Same signature as the global `fetch`, answered in-process; a dropped connection rejects as undici does. */
  readonly fetch: FetchFunction;
  /** The origin to give a client that uses `fetch` (any origin works in-process; links are built from it). */
  readonly baseUrl: string;
  /** The seeded account every key belongs to. */
  readonly account: Account;
  /** The latest requests answered, oldest first. */
  readonly requests: readonly RequestRecord[];
  setFaults(faults: readonly FaultSpec[]): void;
  /** Changes the delay of answers (milliseconds or `[min, max]`), for requests that enter from now on. */
  setLatency(latency: LatencyMs): void;
  /** Changes the one-way delay of requests (milliseconds or `[min, max]`), for requests sent from now on. */
  setRequestLatency(latency: LatencyMs): void;
  /** Changes the limits; every count starts afresh. */
  setRateLimits(mode: RateLimitMode): void;
  /** Changes the indexing lag of events recorded from now on (milliseconds; see `eventVisibilityDelayMs`). */
  setEventVisibilityDelay(ms: number): void;
  /** The indexing lag given to events recorded now. */
  readonly eventVisibilityDelayMs: number;
  /**
   * Emulator-only: holds one event back from reads until `visibleAt` (epoch ms or a Date, by the emulator's
   * clock), or shows it at once (`undefined`), as an event Klaviyo indexes late. Throws for an unknown event.
   */
  setEventVisibleAt(eventId: string, visibleAt: number | Date | undefined): void;
  /**
   * Emulator-only (Klaviyo's API cannot archive a campaign; its app can): archives a campaign, or brings it back
   * with `archived: false`. `updated_at` moves to the clock's time unless `touch` is false. Throws for an unknown
   * campaign.
   */
  archiveCampaign(campaignId: string, archived?: boolean, options?: { touch?: boolean }): void;
  /** The limits it enforces now. */
  readonly rateLimits: RateLimitMode;
  /** Accepts another private key of the seeded account (sharing its quota); throws on an unknown scope. */
  addApiKey(key: string, scopes?: readonly string[]): void;
  /** Everything the emulator holds (read it in tests to check what an action left behind). */
  readonly state: EmulatorState;
  /** Empties every resource (the account and keys stay). */
  reset(): void;
  /** Writes any pending snapshot to `dataFile` now. */
  flush(): void;
  /** The OAuth server's test controls: expire or revoke tokens, age refresh tokens, count token calls. */
  readonly oauth: OAuthControls;
  /** Gives the account webhook access, or takes it away (see `EmulatorOptions.webhookAccess`). */
  setWebhookAccess(enabled: boolean): void;
  /** Whether the account may use the Webhooks API now. */
  readonly webhookAccess: boolean;
  /**
   * The newest 1,000 webhook delivery attempts, oldest first: no secret and no body, the endpoint truncated.
   * `reset` empties it.
   */
  readonly webhookDeliveries: readonly WebhookDeliveryAttempt[];
  /** Resolves once no webhook delivery is batched, in flight or waiting for a retry. */
  settleWebhooks(): Promise<void>;
}

const deliverers = new WeakMap<Emulator, WebhookDeliverer>();

/**
 * Stops an emulator's webhook deliveries (batches dropped, retries cancelled, requests in flight aborted): a
 * server closing calls it.
 * @internal
 */
export function stopWebhookDeliveries(emulator: Emulator): void {
  deliverers.get(emulator)?.stop();
}

export const IN_PROCESS_BASE_URL = "http://klaviyo.emulator.local";

/** Builds an emulator with one seeded account; see `EmulatorOptions` for what can be tuned. */
export function createEmulator(options: EmulatorOptions = {}): Emulator {
  const loaded = options.dataFile ? loadSnapshot(options.dataFile) : undefined;
  const account = loaded?.accounts.values().next().value ?? seedAccount();
  const state = loaded ?? createState([account]);
  const writer = options.dataFile ? new SnapshotWriter(options.dataFile, () => state) : undefined;
  const clock = options.clock ?? { now: () => Date.now() };
  if (state.profiles.size === 0 && state.lists.size === 0) {
    if (options.seed === "demo") seedDemo(state, clock.now());
    if (options.seedProfiles) seedProfiles(state, options.seedProfiles, clock.now());
    if (options.seedEvents) seedEvents(state, options.seedEvents, clock.now());
    if (options.seed || options.seedProfiles || options.seedEvents) writer?.changed();
  }
  let webhookAccess = options.webhookAccess ?? true;
  const deliverer = new WebhookDeliverer({
    state,
    accountId: account.id,
    now: () => clock.now(),
    retryDelaysMs: checkRetryDelays(options.webhookRetryDelaysMs ?? DEFAULT_WEBHOOK_RETRY_DELAYS_MS),
    batchWindowMs: checkBatchWindow(options.webhookBatchWindowMs ?? DEFAULT_WEBHOOK_BATCH_WINDOW_MS),
    timeoutMs: checkDeliveryTimeout(options.webhookTimeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS),
    origin: IN_PROCESS_BASE_URL,
  });
  state.eventListeners.add(deliverer.listener);
  const setWebhookAccess = (enabled: boolean) => {
    if (typeof enabled !== "boolean") throw new Error("setWebhookAccess takes true or false");
    webhookAccess = enabled;
  };
  const reset = () => {
    clearState(state);
    deliverer.stop();
    deliverer.clearLog();
    writer?.changed();
  };
  let eventVisibilityDelayMs = checkEventVisibilityDelay(options.eventVisibilityDelayMs ?? 0);
  const setEventVisibilityDelay = (ms: number) => {
    eventVisibilityDelayMs = checkEventVisibilityDelay(ms);
  };
  const routes = implementedRoutes(state, {
    now: () => clock.now(),
    eventVisibilityDelayMs: () => eventVisibilityDelayMs,
    webhookAccess: () => webhookAccess,
  });
  const eventView = (row: EventRow): AdminEventView => ({
    id: row.id,
    metric_id: row.metricId,
    profile_id: row.profileId,
    datetime: row.attributes.datetime,
    visible_at: row.visibleAt === undefined ? null : new Date(row.visibleAt).toISOString(),
    visible: eventVisible(row, clock.now()),
  });
  const setVisibleAt = (id: string, visibleAt: number | undefined): AdminEventView | undefined => {
    const row = state.events.get(id);
    if (!row) return undefined;
    setEventVisibleAt(row, visibleAt);
    writer?.changed();
    return eventView(row);
  };
  const archive = (id: string, archived: boolean, touch: boolean): AdminCampaignView | undefined => {
    const row = state.campaigns.get(id);
    if (!row) return undefined;
    setCampaignArchived(row, archived, clock.now(), touch);
    writer?.changed();
    return { id: row.id, archived, updated_at: row.attributes.updated_at };
  };
  const registry = new RevocableCredentialRegistry(clock);
  for (const { key, scopes } of options.apiKeys ?? [{ key: DEV_API_KEY }])
    registry.addApiKey(key, account.id, scopes);
  const limiter = new RateLimiter(options.rateLimits ?? "real", clock);
  const random = options.random ?? Math.random;
  const injector = new FaultInjector(options.faults ?? [], random);
  let latencyMs = checkLatency(options.latencyMs ?? 0, "latencyMs");
  let requestLatencyMs = checkLatency(options.requestLatencyMs ?? 0, "requestLatencyMs");
  const setLatency = (latency: LatencyMs) => {
    latencyMs = checkLatency(latency, "latencyMs");
  };
  const setRequestLatency = (latency: LatencyMs) => {
    requestLatencyMs = checkLatency(latency, "requestLatencyMs");
  };
  const requests: RequestRecord[] = [];
  const oauth = createOAuthServer({
    clients: options.oauthClients ?? [],
    registry,
    accountId: account.id,
    clock,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds,
  });

  // Not strict: a trailing slash is ignored on the admin and OAuth paths (`/__emulator/health/`).
  const app = new Hono<EmulatorEnv>({ strict: false });
  // Admin routes first: they answer before the Klaviyo pipeline (and its request log) sees them.
  app.route(
    "/__emulator",
    adminRoutes({
      requests,
      reset: () => reset(),
      clearRequests: () => {
        requests.length = 0;
      },
      config: () => ({
        faults: injector.get(),
        latencyMs,
        requestLatencyMs,
        rateLimits: limiter.getMode(),
        eventVisibilityDelayMs,
      }),
      setFaults: (faults) => injector.set(faults),
      setLatency,
      setRequestLatency,
      setRateLimits: (mode) => limiter.setMode(mode),
      setEventVisibilityDelay,
      counts: () => Object.fromEntries(TABLE_NAMES.map((name) => [name, state[name].size])),
      now: () => clock.now(),
      hiddenEvents: () => {
        const now = clock.now();
        return [...state.events.values()].filter((row) => !eventVisible(row, now)).map(eventView);
      },
      setEventVisibleAt: setVisibleAt,
      archiveCampaign: archive,
      webhookDeliveries: () => deliverer.log,
      setWebhookAccess,
      settleWebhooks: () => deliverer.settle(),
    }),
  );
  app.route("/oauth", oauth.routes);
  app.use("*", announceRateLimits(limiter));
  app.use(
    "*",
    connection({
      log: requests,
      requestLatencyMs: () => drawLatency(requestLatencyMs, random),
      latencyMs: () => drawLatency(latencyMs, random),
      now: () => clock.now(),
    }),
  );
  app.use("*", lookupOperation());
  // Past the lookup every request addresses an operation: the stages apply to all of them, not by a path
  // prefix, which `//api/profiles` (an operation's path to the lookup, not under `/api/`) would slip past.
  app.use("*", authenticate(registry));
  app.use("*", requireRevision());
  app.use("*", rateLimit(limiter));
  app.use("*", injectFaults(injector));
  app.all("*", async (c) => {
    const handler = routes[c.get("operation").id];
    if (!handler) throw notImplemented(c.get("operation"));
    // Webhook payloads link to the emulator as the client that recorded the event reaches it.
    deliverer.origin = requestUrl(c).origin;
    const response = await handler(c);
    c.set("handled", true);
    if (c.req.method !== "GET" && c.req.method !== "HEAD") writer?.changed();
    return response;
  });
  // Unreachable while `app.all("*")` catches every path; kept so a routing change can never expose a text 404.
  app.notFound(() => problemResponse(notFound("Not found.")));
  app.onError((error) => {
    if (isDroppedConnection(error)) throw error;
    return problemResponse(error instanceof EmulatorProblem ? error : serverError());
  });

  const fetch: FetchFunction = (input, init) => {
    const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    // The caller's signal is raced below rather than handed to the Request: undici's bookkeeping for a
    // followed signal costs more than the whole in-process round trip, and the race gives the same behaviour.
    const request = new Request(input, signal ? { ...init, signal: null } : init);
    if (!signal) return Promise.resolve(app.fetch(request));
    if (signal.aborted) return Promise.reject(signal.reason);
    // The request delay still hears the caller's abort: a request abandoned on its way never arrives.
    followCallerSignal(request, signal);
    // Like `fetch`, give up as soon as the caller aborts, even while the emulator is still "thinking".
    return new Promise<Response>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      Promise.resolve(app.fetch(request))
        .then(resolve, reject)
        .finally(() => signal.removeEventListener("abort", onAbort));
    });
  };

  const emulator: Emulator = {
    app,
    fetch,
    baseUrl: IN_PROCESS_BASE_URL,
    account,
    requests,
    setFaults: (faults) => injector.set(faults),
    setLatency,
    setRequestLatency,
    setRateLimits: (mode) => limiter.setMode(mode),
    get rateLimits() {
      return limiter.getMode();
    },
    setEventVisibilityDelay,
    get eventVisibilityDelayMs() {
      return eventVisibilityDelayMs;
    },
    setEventVisibleAt: (eventId, visibleAt) => {
      const at = visibleAt instanceof Date ? visibleAt.getTime() : visibleAt;
      if (!setVisibleAt(eventId, at)) throw new Error(`No event with id '${eventId}' exists.`);
    },
    archiveCampaign: (campaignId, archived = true, archiveOptions = {}) => {
      if (!archive(campaignId, archived, archiveOptions.touch ?? true))
        throw new Error(`A campaign with id '${campaignId}' does not exist.`);
    },
    addApiKey: (key, scopes) => registry.addApiKey(key, account.id, scopes),
    state,
    reset: () => reset(),
    flush: () => writer?.flush(),
    oauth: oauth.controls,
    setWebhookAccess,
    get webhookAccess() {
      return webhookAccess;
    },
    get webhookDeliveries() {
      return deliverer.log;
    },
    settleWebhooks: () => deliverer.settle(),
  };
  deliverers.set(emulator, deliverer);
  return emulator;
}
