/**
 * `klaviyo listen --forward-to URL`: what `stripe listen` is for Stripe. It prints a signing secret, then forwards
 * each delivery of Klaviyo's system webhooks to a handler on this machine, signed with that secret, in Klaviyo's
 * exact shape, so that a handler developed against it works against Klaviyo unchanged.
 *
 * - Against the emulator (a loopback base URL): a receiver on 127.0.0.1 is registered as a webhook (Create
 *   Webhook, the printed secret, the topics asked for or every topic of the account), and each delivery the
 *   emulator makes is forwarded byte for byte with its headers; the emulator is answered with the handler's
 *   status, so a failing handler gets the emulator's retries. The webhook is deleted when listen stops.
 * - Against Klaviyo (any other base URL), which cannot deliver to a local URL: the events of the change feed are
 *   read every few seconds, kept when their topic is asked for, and each page's become one delivery built and
 *   signed here as Klaviyo builds and signs them (`signDelivery`). `--from-feed` does the same on the emulator.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { Command } from "commander";
import { runActionByKey } from "../../actions/index.js";
import type { KlaviyoClient } from "../../core/client.js";
import { InputValidationError, PermissionDeniedError } from "../../core/errors.js";
import { redact } from "../../core/redact.js";
import {
  type Change,
  changeFeed,
  type FeedCheckpoint,
  type FeedRecord,
  initialCheckpoint,
} from "../../feed/index.js";
import {
  isLoopbackHost,
  isTopicId,
  MAX_EVENTS_PER_DELIVERY,
  signDelivery,
  topicOfMetric,
  WEBHOOK_HEADERS,
  type WebhookDelivery,
  type WebhookDeliveryItem,
  type WebhookEventPayload,
} from "../../klaviyo/webhooks.js";
import { nodeBodyBytes, TOO_LARGE } from "../../webhooks/body.js";
import {
  addConnectionOptions,
  type ConnectionFlags,
  checkConnectionFlags,
  clientFromFlags,
} from "../connection.js";
import { secondsOf, sinceOf } from "../feed-flags.js";
import { EXIT_FAILURE, EXIT_OK, flagError, type Io } from "../output.js";
import { onStopSignal } from "../signals.js";
import { reportFeedError, transient } from "./changes.js";

export interface ListenFlags extends ConnectionFlags {
  forwardTo?: string;
  topics?: string;
  secret?: string;
  fromFeed?: boolean;
  since?: string;
  interval?: string;
  horizon?: string;
  lookback?: string;
  once?: boolean;
  maxDeliveries?: string;
  duration?: string;
  verbose?: boolean;
}

/** What tests may tune; the command line uses the defaults. */
export interface ListenSettings {
  /** Feed mode: the waits before each retry of a delivery the handler refused or did not answer. */
  readonly retryDelaysMs?: readonly number[];
  /** How long a forward may take before it counts as failed. */
  readonly forwardTimeoutMs?: number;
  /** The time (feed mode's deliveries and their signatures); default `Date.now`. */
  readonly now?: () => number;
}

/** Feed mode: a delivery the handler refuses is sent again after 1, 2 and 4 seconds, then given up. */
export const FEED_RETRY_DELAYS_MS: readonly number[] = [1000, 2000, 4000];
/** A forward not answered within this long has failed (Klaviyo itself waits 5 s for its 2xx). */
export const FORWARD_TIMEOUT_MS = 10_000;
/** The default wait between two reads of the change feed, in seconds. */
export const DEFAULT_INTERVAL_SECONDS = 5;
/**
 * Feed mode's default lookback: events Klaviyo indexes up to this late are still forwarded (once). The feed's own
 * default (7 days) would re-read every event since listen started at every poll.
 */
export const DEFAULT_LISTEN_LOOKBACK_SECONDS = 300;
/** The largest delivery the receiver takes from the emulator (1,000 events with large properties). */
const MAX_RECEIVED_BYTES = 64 * 1024 * 1024;
/** The name of the webhook listen registers on the emulator. */
export const LISTEN_WEBHOOK_NAME = "klaviyo listen";

/** Headers that describe one connection, not the message: never forwarded (fetch sets its own). */
const HOP_BY_HOP = new Set([
  "host",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-length",
  "te",
  "trailer",
  "upgrade",
  "expect",
  "proxy-authorization",
  "proxy-connection",
]);

/** The checked settings of a run, read from the flags before anything is sent. */
interface Plan {
  forwardTo: string;
  topics: string[] | undefined;
  secret: string;
  generatedSecret: boolean;
  maxDeliveries: number | undefined;
  durationSeconds: number | undefined;
  since: string | undefined;
  intervalSeconds: number;
  horizonSeconds: number | undefined;
  lookbackSeconds: number;
}

/** `--topics`: topic IDs separated by commas, each of the form `event:<integration>.<metric>`; undefined when not given. */
export function topicsOf(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const topics = [
    ...new Set(
      value
        .split(",")
        .map((t) => t.trim())
        .filter((t) => t !== ""),
    ),
  ];
  if (topics.length === 0)
    throw flagError(
      "--topics",
      "is empty: give topic IDs separated by commas, or leave it out for every topic",
    );
  for (const topic of topics) {
    if (!isTopicId(topic))
      throw flagError(
        "--topics",
        `${JSON.stringify(topic)} is not a topic ID: topics look like event:klaviyo.subscribed_to_email_marketing or event:api.placed_order (klaviyo run list-webhook-topics lists the account's)`,
      );
  }
  return topics;
}

/** `--forward-to`: an http(s) URL. */
function forwardUrlOf(value: string | undefined): string {
  if (value === undefined || value.trim() === "")
    throw flagError(
      "--forward-to",
      "is required: the URL of your webhook handler, such as http://localhost:3000/webhooks/klaviyo",
    );
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:"))
    throw flagError("--forward-to", "must be an http(s) URL, such as http://localhost:3000/webhooks/klaviyo");
  return url.href;
}

function wholeNumber(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max)) throw flagError(flag, `must be a whole number from ${min} to ${max}`);
  return n;
}

/** The flags, checked (by flag) for the mode chosen: the feed's flags only where the feed is read. */
function planOf(flags: ListenFlags, feed: boolean): Plan {
  const forwardTo = forwardUrlOf(flags.forwardTo);
  const topics = topicsOf(flags.topics);
  if (flags.secret !== undefined && flags.secret.trim() === "")
    throw flagError("--secret", "is empty: give the signing secret to use, or leave it out to have one made");
  if (flags.once && flags.maxDeliveries !== undefined)
    throw flagError("--once", "and --max-deliveries both say when to stop: give one of them");
  const maxDeliveries = flags.once ? 1 : wholeNumber("--max-deliveries", flags.maxDeliveries, 1, 1_000_000);
  const durationSeconds = secondsOf("--duration", flags.duration, 1, 7 * 86_400);
  if (!feed) {
    for (const [flag, given] of [
      ["--since", flags.since],
      ["--interval", flags.interval],
      ["--horizon", flags.horizon],
      ["--lookback", flags.lookback],
    ] as const) {
      if (given !== undefined)
        throw flagError(
          flag,
          "applies where the change feed is read (against Klaviyo, or with --from-feed): the emulator delivers its webhooks itself",
        );
    }
  }
  return {
    forwardTo,
    topics,
    secret: flags.secret ?? randomBytes(32).toString("hex"),
    generatedSecret: flags.secret === undefined,
    maxDeliveries,
    durationSeconds,
    since: sinceOf(flags.since),
    intervalSeconds: secondsOf("--interval", flags.interval, 1, 86_400) ?? DEFAULT_INTERVAL_SECONDS,
    horizonSeconds: secondsOf("--horizon", flags.horizon, 0, 86_400),
    lookbackSeconds:
      secondsOf("--lookback", flags.lookback, 0, 7 * 86_400) ?? DEFAULT_LISTEN_LOOKBACK_SECONDS,
  };
}

/** Whether a client talks to the emulator: a loopback base URL (Klaviyo is never on this machine). */
export function isEmulatorUrl(baseUrl: URL): boolean {
  return isLoopbackHost(baseUrl.hostname);
}

/** The headers of a received request to pass on: every one but those of the connection. */
export function forwardedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name.toLowerCase())) continue;
    out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

/** What a delivery's body says of itself, for its line: how many events, of which topics. */
export function summaryOf(body: string): { events: number; topics: string[] } | undefined {
  try {
    const parsed = JSON.parse(body) as { data?: unknown };
    if (!Array.isArray(parsed.data)) return undefined;
    const topics = new Set<string>();
    for (const item of parsed.data as Array<{ topic?: unknown }>)
      if (typeof item?.topic === "string") topics.add(item.topic);
    return { events: parsed.data.length, topics: [...topics] };
  } catch {
    return undefined;
  }
}

/** One line per delivery forwarded: when, how many events of which topics, and what the handler answered. */
export function deliveryLine(at: number, body: string, outcome: string): string {
  const summary = summaryOf(body);
  const what = summary
    ? `${summary.events === 1 ? "1 event" : `${summary.events} events`}  ${summary.topics.join(",") || "-"}`
    : "a body that is not a delivery";
  return `${new Date(at).toISOString()}  ${what}  -> ${outcome}\n`;
}

/** The outcome of one forward: the handler's status, or why there was none. */
interface Forwarded {
  status?: number;
  error?: string;
}

/** POSTs `body` with `headers` to the handler, waiting at most `timeoutMs`; never throws. */
async function forward(
  url: string,
  body: string | Uint8Array,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<Forwarded> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The answer's body is read (and dropped) so that the connection is released.
    await res.arrayBuffer().catch(() => undefined);
    return { status: res.status };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    if ((error as Error).name === "TimeoutError") return { error: `no answer within ${timeoutMs} ms` };
    return { error: cause?.code ?? cause?.message ?? (error as Error).message };
  }
}

const ok = (f: Forwarded) => f.status !== undefined && f.status >= 200 && f.status < 300;
const outcomeOf = (f: Forwarded) => (f.status !== undefined ? String(f.status) : `failed (${f.error})`);

/** The included metric of an event change (the feed reads events with `include=metric`). */
function metricOf(change: Change): FeedRecord | undefined {
  const ref = (change.record.relationships?.metric as { data?: { id?: string } } | undefined)?.data;
  return change.related?.find((r) => r.type === "metric" && (ref?.id === undefined || r.id === ref.id));
}

/**
 * The topic of an event change, from its metric: `topicOfMetric(name, integration key)`; undefined when the
 * metric (or its name or integration key) is not there to say.
 */
export function topicOfChange(change: Change): string | undefined {
  const metric = metricOf(change);
  const name = metric?.attributes?.name;
  const key = (metric?.attributes?.integration as { key?: unknown } | null | undefined)?.key;
  return typeof name === "string" && typeof key === "string" ? topicOfMetric(name, key) : undefined;
}

/** An event as Get Event returns it: the resource, and the document's link to itself. */
export function eventPayload(record: FeedRecord): WebhookEventPayload {
  const self = (record.links as { self?: unknown } | undefined)?.self;
  return {
    data: record as unknown as WebhookEventPayload["data"],
    links: typeof self === "string" ? { self } : {},
  };
}

/**
 * The deliveries of a page of event changes, in Klaviyo's shape: the events whose topic is among `topics`
 * (every one when undefined), at most `MAX_EVENTS_PER_DELIVERY` per delivery. `unknown` is told of each event
 * whose topic cannot be told (it is left out).
 */
export function feedDeliveries(
  changes: readonly Change[],
  meta: { accountId: string; webhookId: string; version: string; now: number },
  topics: ReadonlySet<string> | undefined,
  unknown: (change: Change) => void = () => {},
): WebhookDelivery[] {
  const items: WebhookDeliveryItem[] = [];
  for (const change of changes) {
    const topic = topicOfChange(change);
    if (topic === undefined) {
      unknown(change);
      continue;
    }
    if (topics && !topics.has(topic)) continue;
    items.push({ topic, external_id: change.record.id, payload: eventPayload(change.record) });
  }
  const out: WebhookDelivery[] = [];
  for (let i = 0; i < items.length; i += MAX_EVENTS_PER_DELIVERY) {
    out.push({
      data: items.slice(i, i + MAX_EVENTS_PER_DELIVERY),
      meta: {
        klaviyo_account_id: meta.accountId,
        klaviyo_webhook_id: meta.webhookId,
        timestamp: new Date(meta.now).toISOString(),
        version: meta.version,
      },
    });
  }
  return out;
}

/** Waits `ms`, or less if `signal` aborts; whether the wait ran its course. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** The topic IDs of the account (List Webhook Topics). */
async function accountTopics(client: KlaviyoClient, signal: AbortSignal): Promise<string[]> {
  const output = (await runActionByKey("list-webhook-topics", {}, { client, signal })) as {
    data?: Array<{ id?: unknown }>;
  };
  return (output.data ?? []).map((t) => t.id).filter((id): id is string => typeof id === "string");
}

/** The account's ID (Get Accounts). */
async function accountId(client: KlaviyoClient, signal: AbortSignal): Promise<string> {
  const output = (await runActionByKey("list-accounts", {}, { client, signal })) as {
    data?: Array<{ id?: unknown }>;
  };
  const id = output.data?.[0]?.id;
  if (typeof id !== "string") throw new Error("Get Accounts answered no account");
  return id;
}

/** A webhook refused for want of access: say what serves instead. */
function withoutAccess(error: unknown): unknown {
  if (!(error instanceof PermissionDeniedError)) return error;
  return new Error(
    `${error.message} — this account cannot use system webhooks: klaviyo listen --from-feed builds the same deliveries from the change feed`,
  );
}

/** Stops the run: once, from whichever asks first. */
class Stopper {
  readonly controller = new AbortController();
  readonly stopped: Promise<void>;
  #resolve: () => void = () => {};

  constructor() {
    this.stopped = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  stop(): void {
    this.controller.abort(new Error("stopped"));
    this.#resolve();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }
}

/** The context of one run. */
interface Run {
  client: KlaviyoClient;
  plan: Plan;
  io: Io;
  stopper: Stopper;
  settings: ListenSettings;
  /** Counts a delivery forwarded; stops the run at `--max-deliveries`. */
  delivered(): void;
}

/** Emulator mode: a receiver registered as a webhook, each delivery forwarded as it came. */
async function listenOnEmulator(run: Run): Promise<number> {
  const { client, plan, io, stopper } = run;
  const path = `/klaviyo-listen/${randomBytes(18).toString("base64url")}`;
  const timeoutMs = run.settings.forwardTimeoutMs ?? FORWARD_TIMEOUT_MS;
  const inFlight = new Set<Promise<void>>();
  const server: Server = createServer((req, res) => {
    if (req.method !== "POST" || req.url !== path) {
      res.writeHead(404).end();
      return;
    }
    // Stopping: nothing more is forwarded (the emulator retries it, or the webhook is gone).
    if (stopper.signal.aborted) {
      res.writeHead(503).end();
      return;
    }
    const job = (async () => {
      const body = await nodeBodyBytes(req, MAX_RECEIVED_BYTES);
      if (body === TOO_LARGE) {
        res.writeHead(413).end();
        return;
      }
      const at = Date.now();
      const result = await forward(plan.forwardTo, body, forwardedHeaders(req.headers), timeoutMs);
      // The emulator is answered as the handler answered it: a failure gets its retries.
      res.writeHead(
        result.status !== undefined && result.status >= 200 && result.status <= 599 ? result.status : 502,
        {
          "content-type": "text/plain; charset=utf-8",
        },
      );
      res.end(ok(result) ? "forwarded\n" : `the handler answered ${outcomeOf(result)}\n`);
      io.stdout(deliveryLine(at, new TextDecoder().decode(body), outcomeOf(result)));
      run.delivered();
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
    inFlight.add(job);
    void job.finally(() => inFlight.delete(job));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const close = async () => {
    await Promise.allSettled([...inFlight]);
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };
  const receiver = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  let webhookId: string | undefined;
  let topics: string[] = [];
  try {
    topics = plan.topics ?? (await accountTopics(client, stopper.signal));
    if (topics.length === 0)
      throw new Error(
        "the account has no webhook topics yet (topics are its metrics): record an event first, or give --topics",
      );
    // Not aborted midway by a stop: a webhook made on the emulator is always known here, so it can be deleted.
    const created = (await runActionByKey(
      "create-webhook",
      {
        name: LISTEN_WEBHOOK_NAME,
        endpointUrl: receiver,
        secretKey: plan.secret,
        topics,
        description: `Forwards to ${plan.forwardTo}; deleted when klaviyo listen stops.`,
      },
      { client },
    )) as { data?: { id?: unknown } };
    if (typeof created.data?.id !== "string") throw new Error("Create Webhook answered no webhook ID");
    webhookId = created.data.id;
  } catch (error) {
    await close();
    if (stopper.signal.aborted && !(error instanceof InputValidationError)) return EXIT_OK;
    throw withoutAccess(error);
  }
  if (!stopper.signal.aborted) {
    const shown = topics.length > 8 ? `${topics.slice(0, 8).join(", ")}, …` : topics.join(", ");
    io.stdout(
      `Ready: webhook ${webhookId} on the emulator delivers ${topics.length === 1 ? "1 topic" : `${topics.length} topics`} (${shown}); each delivery is forwarded to ${plan.forwardTo}. Ctrl-C stops (and deletes the webhook).\n`,
    );
    await stopper.stopped;
  }
  await close();
  try {
    await runActionByKey("delete-webhook", { webhookId }, { client });
    io.stderr(`Deleted webhook ${webhookId}.\n`);
  } catch (error) {
    io.stderr(
      `error: could not delete webhook ${webhookId} (klaviyo run delete-webhook --webhook-id ${webhookId} deletes it): ${redact((error as Error).message, client.auth.secrets())}\n`,
    );
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}

/** Sends one delivery to the handler, signed afresh at each attempt; retried after each of `delays`. */
async function sendDelivery(run: Run, delivery: WebhookDelivery, delays: readonly number[]): Promise<void> {
  const { plan, io, stopper } = run;
  const now = run.settings.now ?? Date.now;
  const timeoutMs = run.settings.forwardTimeoutMs ?? FORWARD_TIMEOUT_MS;
  for (let attempt = 0; ; attempt++) {
    const at = now();
    const signed = signDelivery(delivery, plan.secret, at);
    const result = await forward(plan.forwardTo, signed.body, { ...signed.headers }, timeoutMs);
    const delay = delays[attempt];
    if (ok(result)) {
      io.stdout(deliveryLine(at, signed.body, outcomeOf(result)));
      break;
    }
    if (delay === undefined) {
      io.stdout(
        deliveryLine(
          at,
          signed.body,
          `${outcomeOf(result)}; given up after ${attempt + 1} attempts: these events are not forwarded again`,
        ),
      );
      break;
    }
    io.stdout(deliveryLine(at, signed.body, `${outcomeOf(result)}; again in ${delay / 1000} s`));
    if (!(await pause(delay, stopper.signal))) break;
  }
  run.delivered();
}

/** Feed mode: the events of the change feed, as deliveries built and signed here. */
async function listenOnFeed(run: Run): Promise<number> {
  const { client, plan, io, stopper } = run;
  const signal = stopper.signal;
  const now = run.settings.now ?? Date.now;
  const delays = run.settings.retryDelaysMs ?? FEED_RETRY_DELAYS_MS;
  const webhookId = `listen-${randomBytes(6).toString("hex")}`;
  const topics = plan.topics ? new Set(plan.topics) : undefined;
  let checkpoint: FeedCheckpoint = initialCheckpoint({
    stream: "events",
    ...(plan.since !== undefined ? { since: plan.since } : {}),
    lookbackSeconds: plan.lookbackSeconds,
    now,
  });
  let account: string;
  try {
    account = await accountId(client, signal);
  } catch (error) {
    if (signal.aborted) return EXIT_OK;
    throw error;
  }
  io.stdout(
    `Ready: reading Klaviyo's change feed every ${plan.intervalSeconds} s from ${plan.since ?? "now"}; events of ${topics ? [...topics].join(", ") : "every topic"} are forwarded to ${plan.forwardTo} as deliveries of webhook ${webhookId}, signed with the secret above. Ctrl-C stops.\n`,
  );
  const skipped = (change: Change) =>
    io.stderr(`warning: event ${change.record.id}: its metric does not say its topic; not forwarded\n`);
  for (;;) {
    try {
      for await (const page of changeFeed(client, {
        stream: "events",
        checkpoint,
        lookbackSeconds: plan.lookbackSeconds,
        ...(plan.horizonSeconds !== undefined ? { horizonSeconds: plan.horizonSeconds } : {}),
        now,
        signal,
      })) {
        const meta = { accountId: account, webhookId, version: client.revision, now: now() };
        for (const delivery of feedDeliveries(page.changes, meta, topics, skipped)) {
          if (signal.aborted) break;
          await sendDelivery(run, delivery, delays);
        }
        if (signal.aborted) break;
        checkpoint = page.checkpoint;
      }
    } catch (error) {
      if (signal.aborted) break;
      if (!transient(error)) throw error;
      io.stderr(`warning: ${(error as Error).message}; reading again in ${plan.intervalSeconds} s\n`);
    }
    if (signal.aborted || !(await pause(plan.intervalSeconds * 1000, signal))) break;
  }
  return EXIT_OK;
}

/** Runs `klaviyo listen`; returns the exit code. */
export async function runListen(flags: ListenFlags, io: Io, settings: ListenSettings = {}): Promise<number> {
  const stopper = new Stopper();
  let disposeSignals = () => {};
  let timer: NodeJS.Timeout | undefined;
  try {
    checkConnectionFlags(flags);
    const client = clientFromFlags(flags);
    const feed = flags.fromFeed === true || !isEmulatorUrl(client.baseUrl);
    const plan = planOf(flags, feed);
    disposeSignals = onStopSignal(() => stopper.stop());
    if (plan.durationSeconds !== undefined) {
      timer = setTimeout(() => stopper.stop(), plan.durationSeconds * 1000);
      timer.unref?.();
    }
    let count = 0;
    const run: Run = {
      client,
      plan,
      io,
      stopper,
      settings,
      delivered() {
        count++;
        if (plan.maxDeliveries !== undefined && count >= plan.maxDeliveries) stopper.stop();
      },
    };
    // The one secret printed on purpose: the signing secret made here (or given), never the API key.
    io.stdout(
      `Webhook signing secret: ${plan.secret}${plan.generatedSecret ? " (made for this run; give --secret to keep one)" : ""}\n`,
    );
    return feed ? await listenOnFeed(run) : await listenOnEmulator(run);
  } catch (error) {
    return reportFeedError(error, io, flags);
  } finally {
    disposeSignals();
    if (timer) clearTimeout(timer);
  }
}

/** `klaviyo listen`. */
export function registerListenCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  const command = program
    .command("listen")
    .description(
      "forward Klaviyo's webhook deliveries, signed, to a handler on this machine (as stripe listen does): prints the signing secret",
    )
    .option(
      "--forward-to <url>",
      "the URL of your webhook handler (required), such as http://localhost:3000/webhooks",
    )
    .option(
      "--topics <ids>",
      "topic IDs separated by commas (event:klaviyo.subscribed_to_list,event:api.placed_order); default every topic of the account",
    )
    .option(
      "--secret <key>",
      "the signing secret to use; default 32 random bytes (hex), printed at the start",
    )
    .option(
      "--from-feed",
      "build the deliveries from the change feed, as against Klaviyo, even on the emulator (which otherwise delivers them itself)",
    )
    .option("--since <date>", "feed: forward events from this ISO 8601 date or time on (default: from now)")
    .option(
      `--interval <seconds>`,
      `feed: seconds between reads of the feed (default ${DEFAULT_INTERVAL_SECONDS})`,
    )
    .option(
      "--horizon <seconds>",
      "feed: read up to this far behind now, so events still being written are read whole (default 30)",
    )
    .option(
      "--lookback <seconds>",
      `feed: re-read this far behind for events Klaviyo indexes late, forwarded once (default ${DEFAULT_LISTEN_LOOKBACK_SECONDS}; 0 turns it off)`,
    )
    .option("--once", "stop after the first delivery is forwarded (same as --max-deliveries 1)")
    .option(
      "--max-deliveries <n>",
      "stop after this many deliveries are forwarded (each retry of the emulator's counts; from the feed, a delivery counts once with its retries)",
    )
    .option("--duration <seconds>", "stop after this many seconds")
    .option("--verbose", "on error, print the whole error (never a secret)");
  addConnectionOptions(command);
  command.addHelpText(
    "after",
    `
It prints the signing secret first: verify each delivery with it (verifyWebhook of this library, or your own
HMAC-SHA256 of the raw body followed by the ${WEBHOOK_HEADERS.timestamp} header), as you will with the webhook's Secret Key on
Klaviyo. Then one line per delivery: when, how many events of which topics, and what your handler answered.

On the emulator ($KLAVIYO_BASE_URL on 127.0.0.1 or localhost) it registers a webhook named "${LISTEN_WEBHOOK_NAME}" whose
endpoint is a receiver of its own, forwards each delivery byte for byte with its headers (${WEBHOOK_HEADERS.id},
${WEBHOOK_HEADERS.signature}, ${WEBHOOK_HEADERS.timestamp}, Content-Type), answers the emulator with your handler's status (a failure is
retried by the emulator, with backoff), and deletes the webhook when it stops.
Against Klaviyo, which cannot deliver to this machine, it reads the events of the change feed every --interval
seconds and builds the same deliveries (one per page of events, Klaviyo's body and headers, signed with the secret;
meta.klaviyo_webhook_id is a local "listen-…" ID): a delivery your handler refuses or does not answer within
${FORWARD_TIMEOUT_MS / 1000} s is sent again after ${FEED_RETRY_DELAYS_MS.map((d) => d / 1000).join(", ")} seconds, then given up (its events are not sent again).
Stops on Ctrl-C (SIGINT) or SIGTERM, after --duration, or after --max-deliveries (or --once); exit code 0.

Examples:
  $ klaviyo listen --forward-to http://localhost:3000/webhooks/klaviyo --duration 1
  $ klaviyo listen --forward-to http://localhost:3000/webhooks/klaviyo --topics event:api.placed_order --from-feed --duration 1`,
  );
  command.action(async (flags: ListenFlags) => {
    setExit(await runListen(flags, io));
  });
}
