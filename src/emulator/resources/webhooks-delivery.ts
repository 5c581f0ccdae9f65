/**
 * Delivering system webhooks, as Klaviyo does: every event recorded (whatever recorded it: Create Event, the bulk
 * job, a subscription job's consent events, a campaign send's Received Email) whose topic an enabled webhook
 * subscribes to is batched for a short window, then POSTed to the webhook's endpoint, up to
 * `MAX_EVENTS_PER_DELIVERY` events a request (a full batch goes at once), signed with the webhook's secret
 * (`signDelivery`). An answer other than 2xx, a network error or a timeout is retried after each of the retry
 * delays (the same events, a fresh timestamp and signature), then given up. A webhook disabled or deleted meanwhile gets nothing more: it is read
 * again before every attempt.
 *
 * An event is queued as it is recorded, even one the indexing lag (`eventVisibilityDelayMs`) still holds back from
 * Get Event: whether Klaviyo delivers before or after its reads see an event is not documented.
 *
 * Every attempt is logged (the newest `DELIVERY_LOG_LIMIT`), with no secret and no body. Timers never keep the
 * process alive (`unref`), and `stop` ends everything in progress (the emulator's reset, a server's close).
 */
import { getOperation, SPEC_REVISION } from "../../klaviyo/operations.js";
import {
  MAX_EVENTS_PER_DELIVERY,
  signDelivery,
  truncatedEndpoint,
  type WebhookDelivery,
  type WebhookDeliveryItem,
  type WebhookEventPayload,
} from "../../klaviyo/webhooks.js";
import { Included } from "../documents.js";
import { selfLink } from "../json-api.js";
import { checkMilliseconds } from "../latency.js";
import type { QueryContext } from "../query.js";
import type { EmulatorState, EventRow, WebhookRow } from "../state.js";
import { ulid } from "../store.js";
import { eventResource } from "./events-render.js";
import { topicOfEvent } from "./webhooks-model.js";

/** One POST of a delivery to a webhook's endpoint, as the emulator's delivery log keeps it. */
export interface WebhookDeliveryAttempt {
  readonly id: string;
  readonly webhookId: string;
  /**
   * The endpoint, truncated as Klaviyo's answers show it (`http://127.0.0.1:4000/*****`), so that a token in its
   * path or query never reaches the log.
   */
  readonly url: string;
  /** 1 for the first try, then 2, 3, … for the retries of the same events. */
  readonly attempt: number;
  /** When it was sent (epoch ms, the emulator's clock). */
  readonly at: number;
  /** The endpoint's HTTP status; null when it gave none (network error, timeout). */
  readonly status: number | null;
  /** Why there was no answer (a network error, a timeout). */
  readonly error?: string;
  /** The events it carried (their IDs, the deliveries' `external_id`s), in order. */
  readonly eventIds: string[];
  /** Their topics, each once. */
  readonly topics: string[];
  /** `delivered` (2xx), `retrying` (failed, to be tried again) or `failed` (failed, given up). */
  readonly outcome: "delivered" | "failed" | "retrying";
}

/** The delivery log keeps the newest attempts only, as the request log does. */
export const DELIVERY_LOG_LIMIT = 1000;

/** The API revision the payloads are rendered in (`meta.version`): the emulator's own. */
export const DELIVERY_VERSION = SPEC_REVISION;

/**
 * The waits before each retry of a failed delivery. Klaviyo does not document its schedule for system webhooks;
 * for flow webhooks it documents 17 retries over about a day. The emulator retries 17 times too, waiting 5 s and
 * doubling each time, capped at one hour.
 */
export const DEFAULT_WEBHOOK_RETRY_DELAYS_MS: readonly number[] = Object.freeze(
  Array.from({ length: 17 }, (_, i) => Math.min(5_000 * 2 ** i, 3_600_000)),
);

/** Events recorded within this window after the first go out together (one delivery per webhook). */
export const DEFAULT_WEBHOOK_BATCH_WINDOW_MS = 100;

/** How long an endpoint has to answer: Klaviyo expects a 2xx within 5 seconds. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 5_000;

/** The longest wait any webhook setting takes (a day): beyond it, a timer would be a mistake. */
export const MAX_WEBHOOK_DELAY_MS = 86_400_000;

const checkMs = (value: unknown, what: string, min: number) =>
  checkMilliseconds(value, what, min, MAX_WEBHOOK_DELAY_MS);

/** `value` when it is a list of retry delays (each 0 to a day, at most 100 of them); throws otherwise. */
export function checkRetryDelays(value: unknown, what = "webhookRetryDelaysMs"): readonly number[] {
  if (!Array.isArray(value) || value.length > 100)
    throw new Error(`${what} must be a list of at most 100 delays in milliseconds`);
  return Object.freeze(value.map((ms, i) => checkMs(ms, `${what}[${i}]`, 0)));
}

/** `value` when it is a batching window (0 to a day); throws otherwise. */
export function checkBatchWindow(value: unknown, what = "webhookBatchWindowMs"): number {
  return checkMs(value, what, 0);
}

/** `value` when it is a delivery timeout (1 ms to a day); throws otherwise. */
export function checkDeliveryTimeout(value: unknown, what = "webhookTimeoutMs"): number {
  return checkMs(value, what, 1);
}

/** The query of a Get Event with no `include` or fieldsets, its links built from `origin`. */
function getEventQuery(origin: string): QueryContext {
  return {
    operation: getOperation("get_event"),
    params: {},
    fields: new Map(),
    include: new Set(),
    additional: new Map(),
    origin,
  };
}

/** The event exactly as Get Event (`GET /api/events/{id}/`, no `include`) answers it, links from `origin`. */
export function eventPayload(state: EmulatorState, row: EventRow, origin: string): WebhookEventPayload {
  const data = eventResource(state, getEventQuery(origin), row, new Included());
  return { data, links: { self: selfLink(origin, "events", row.id) } } as unknown as WebhookEventPayload;
}

export interface WebhookDelivererOptions {
  readonly state: EmulatorState;
  readonly accountId: string;
  /** The emulator's clock: `meta.timestamp`, `Klaviyo-Timestamp` and the log's `at`. */
  readonly now: () => number;
  readonly retryDelaysMs: readonly number[];
  readonly batchWindowMs: number;
  readonly timeoutMs: number;
  /** The origin of the payloads' links until `origin` is set (the in-process base URL). */
  readonly origin: string;
}

function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === "TimeoutError")
    return `no answer within ${timeoutMs} ms`;
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}

/** A promise that settles on its own; a failure here must never go unhandled. */
function quietly(promise: Promise<unknown>): Promise<void> {
  return promise.then(
    () => undefined,
    () => undefined,
  );
}

/** The emulator's webhook deliveries: hears recorded events (`listener`), batches, posts, retries, logs. */
export class WebhookDeliverer {
  /** The attempts made, oldest first (the newest `DELIVERY_LOG_LIMIT`). */
  readonly log: WebhookDeliveryAttempt[] = [];
  /**
   * The origin the payloads' links are built from: the emulator sets it to the origin of each API request before
   * handling it, so that a payload's links are the ones Get Event gives the same client.
   */
  origin: string;
  private pending = new Map<string, WebhookDeliveryItem[]>();
  private window: { timer: NodeJS.Timeout; close: () => void } | undefined;
  private readonly tasks = new Set<Promise<void>>();
  private lifetime = new AbortController();

  constructor(private readonly options: WebhookDelivererOptions) {
    this.origin = options.origin;
  }

  /** For `state.eventListeners`: queues the event for every enabled webhook subscribed to its topic. */
  readonly listener = (row: EventRow): void => {
    const { state } = this.options;
    if (state.webhooks.size === 0) return;
    const topic = topicOfEvent(state, row);
    if (topic === undefined) return;
    const targets = [...state.webhooks.values()].filter((w) => subscribed(w, topic));
    if (targets.length === 0) return;
    const item: WebhookDeliveryItem = {
      topic,
      external_id: row.id,
      payload: eventPayload(state, row, this.origin),
    };
    for (const webhook of targets) {
      const queue = this.pending.get(webhook.id) ?? [];
      queue.push(item);
      this.pending.set(webhook.id, queue);
      // A full batch goes at once; the window gathers the next one.
      if (queue.length >= MAX_EVENTS_PER_DELIVERY) {
        this.pending.delete(webhook.id);
        this.track(this.deliver(webhook.id, queue));
      }
    }
    if (this.pending.size > 0) this.openWindow();
  };

  /** Resolves once nothing is batched, in flight or waiting for a retry (keeping the process alive meanwhile). */
  async settle(): Promise<void> {
    if (this.tasks.size === 0) return;
    // The timers are unref'd; whoever waits for them here wants the process to wait too.
    const keepAlive = setInterval(() => {}, 60_000);
    try {
      while (this.tasks.size > 0) await Promise.all([...this.tasks]);
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** Drops everything batched, cancels waits and aborts requests in flight; nothing more is sent until new events. */
  stop(): void {
    this.lifetime.abort();
    this.lifetime = new AbortController();
    this.pending = new Map();
    if (this.window) {
      clearTimeout(this.window.timer);
      this.window.close();
      this.window = undefined;
    }
  }

  /** Empties the delivery log. */
  clearLog(): void {
    this.log.length = 0;
  }

  private track(task: Promise<void>): void {
    const settled = quietly(task);
    this.tasks.add(settled);
    void settled.then(() => this.tasks.delete(settled));
  }

  private openWindow(): void {
    if (this.window) return;
    let close = () => {};
    const task = new Promise<void>((resolve) => {
      close = resolve;
    });
    const timer = setTimeout(() => {
      this.window = undefined;
      this.flush();
      close();
    }, this.options.batchWindowMs);
    timer.unref();
    this.window = { timer, close };
    this.track(task);
  }

  /** Sends what the window gathered: one delivery per webhook (a queue never holds a full batch). */
  private flush(): void {
    const batches = this.pending;
    this.pending = new Map();
    for (const [webhookId, items] of batches) this.track(this.deliver(webhookId, items));
  }

  /** One delivery, with its retries; stops as soon as the webhook is disabled or deleted, or delivery stops. */
  private async deliver(webhookId: string, items: readonly WebhookDeliveryItem[]): Promise<void> {
    const signal = this.lifetime.signal;
    const { state, accountId, now, retryDelaysMs } = this.options;
    for (let attempt = 1; !signal.aborted; attempt++) {
      const webhook = state.webhooks.get(webhookId);
      if (webhook?.attributes.enabled !== true) return;
      // Topics the webhook has left since are not delivered.
      const data = items.filter((item) => webhook.topics.includes(item.topic));
      if (data.length === 0) return;
      const at = now();
      const delivery: WebhookDelivery = {
        data,
        meta: {
          klaviyo_account_id: accountId,
          klaviyo_webhook_id: webhook.id,
          timestamp: new Date(at).toISOString(),
          version: DELIVERY_VERSION,
        },
      };
      const signed = signDelivery(delivery, webhook.secretKey, at);
      const answer = await this.post(webhook.endpointUrl, signed.body, signed.headers, signal);
      if (signal.aborted) return;
      const ok = answer.status !== null && answer.status >= 200 && answer.status < 300;
      const wait = retryDelaysMs[attempt - 1];
      const outcome = ok ? "delivered" : wait === undefined ? "failed" : "retrying";
      this.record({
        id: ulid(at),
        webhookId: webhook.id,
        url: truncatedEndpoint(webhook.endpointUrl),
        attempt,
        at,
        status: answer.status,
        ...(answer.error !== undefined ? { error: answer.error } : {}),
        eventIds: data.map((item) => item.external_id),
        topics: [...new Set(data.map((item) => item.topic))],
        outcome,
      });
      if (outcome !== "retrying" || wait === undefined) return;
      await sleep(wait, signal);
    }
  }

  private async post(
    url: string,
    body: string,
    headers: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): Promise<{ status: number | null; error?: string }> {
    const { timeoutMs } = this.options;
    try {
      // Redirects are not followed: an endpoint answers itself, and a 3xx is not the 2xx Klaviyo expects.
      const response = await fetch(url, {
        method: "POST",
        headers,
        body,
        redirect: "manual",
        signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      });
      await response.body?.cancel().catch(() => {});
      return { status: response.status };
    } catch (error) {
      return { status: null, error: describeFailure(error, timeoutMs) };
    }
  }

  private record(attempt: WebhookDeliveryAttempt): void {
    this.log.push(attempt);
    if (this.log.length > DELIVERY_LOG_LIMIT) this.log.splice(0, this.log.length - DELIVERY_LOG_LIMIT);
  }
}

function subscribed(webhook: WebhookRow, topic: string): boolean {
  return webhook.attributes.enabled === true && webhook.topics.includes(topic);
}

/** Waits `ms` on an unref'd timer, or less when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener("abort", done, { once: true });
  });
}
