/**
 * Klaviyo's system webhooks, in one place: the headers of a delivery, the signing recipe, the body's shape, how a
 * metric names its topic, and the rules of a webhook's endpoint. The emulator delivers with them, the library
 * verifies with them, and `klaviyo listen` forwards with them, so the three cannot drift apart.
 *
 * Sources: Klaviyo's "Working with system webhooks" guide and the Webhooks API reference (2026-07-15), and the
 * receivers that verify live deliveries (see ../shared/reference/beyond-the-spec.md §4).
 */

/** The headers of a delivery, as Klaviyo names them (HTTP header names are case-insensitive). */
export const WEBHOOK_HEADERS = Object.freeze({
  /** The webhook's ID; `meta.klaviyo_webhook_id` of the body must equal it. */
  id: "Klaviyo-Webhook-Id",
  /** Lowercase hex HMAC-SHA256 of the raw body followed by the timestamp header's value. */
  signature: "Klaviyo-Signature",
  /** When the request was sent, as an HTTP date (`Thu, 04 Jan 2024 18:05:25 GMT`). */
  timestamp: "Klaviyo-Timestamp",
});

/** One event of a delivery. */
export interface WebhookDeliveryItem<Payload = WebhookEventPayload> {
  /** The topic the event belongs to, e.g. `event:klaviyo.subscribed_to_email_marketing`. */
  readonly topic: string;
  /** The event's ID: the idempotency key, since deliveries may be repeated. */
  readonly external_id: string;
  /** The event as Get Event returns it (a JSON:API document, `data` of type `event`). */
  readonly payload: Payload;
}

/** The event of a delivery, as Get Event returns it; fields we do not name are kept. */
export interface WebhookEventPayload {
  readonly data: {
    readonly type: "event";
    readonly id: string;
    readonly attributes: {
      readonly timestamp?: number;
      readonly event_properties?: Record<string, unknown>;
      readonly datetime?: string;
      readonly uuid?: string;
      readonly [field: string]: unknown;
    };
    readonly relationships?: Record<string, unknown>;
    readonly links?: Record<string, unknown>;
    readonly [field: string]: unknown;
  };
  readonly [field: string]: unknown;
}

/** What a delivery says of itself. */
export interface WebhookDeliveryMeta {
  /** The account's ID. Optional here (as `timestamp` and `version`): a receiver needs only the webhook's ID. */
  readonly klaviyo_account_id?: string;
  /** Must equal the `Klaviyo-Webhook-Id` header, or the delivery is not to be processed. */
  readonly klaviyo_webhook_id: string;
  /** When the delivery was made (ISO 8601). */
  readonly timestamp?: string;
  /** The API revision the payloads are rendered in (Klaviyo's guide does not document its values). */
  readonly version?: string;
  readonly [field: string]: unknown;
}

/** A delivery's body: a batch of events and its meta. */
export interface WebhookDelivery<Payload = WebhookEventPayload> {
  readonly data: readonly WebhookDeliveryItem<Payload>[];
  readonly meta: WebhookDeliveryMeta;
  readonly [field: string]: unknown;
}

/** The most events one delivery carries (receivers report batches of up to 1,000). */
export const MAX_EVENTS_PER_DELIVERY = 1000;

/**
 * The signature of a delivery: lowercase hex of HMAC-SHA256 keyed with the webhook's `secret_key`, over the raw
 * body's bytes followed by the `Klaviyo-Timestamp` header's value, with no separator.
 */
export function webhookSignature(rawBody: string | Uint8Array, timestamp: string, secret: string): string {
  const { createHmac } = process.getBuiltinModule("node:crypto");
  return createHmac("sha256", secret).update(rawBody).update(timestamp, "utf8").digest("hex");
}

/** A `Klaviyo-Timestamp` value: the HTTP date of `ms` (epoch milliseconds). */
export function webhookTimestamp(ms: number): string {
  return new Date(ms).toUTCString();
}

/** A delivery ready to POST: its raw body and its headers, signed with `secret`. */
export interface SignedDelivery {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Serialises and signs a delivery as Klaviyo sends it, at `now` (epoch ms): the body as JSON, `Content-Type`, the
 * webhook's ID, the timestamp and the signature over both.
 */
export function signDelivery(delivery: WebhookDelivery, secret: string, now: number): SignedDelivery {
  const body = JSON.stringify(delivery);
  const timestamp = webhookTimestamp(now);
  return {
    body,
    headers: {
      "content-type": "application/json",
      [WEBHOOK_HEADERS.id]: delivery.meta.klaviyo_webhook_id,
      [WEBHOOK_HEADERS.timestamp]: timestamp,
      [WEBHOOK_HEADERS.signature]: webhookSignature(body, timestamp, secret),
    },
  };
}

/** The snake-case form of a metric's name, as its topic names it (`Received Email` → `received_email`). */
export function topicMetricName(metricName: string): string {
  return metricName
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, "_")
    .replace(/^_+|_+$/g, "");
}

/**
 * The topic of a metric's events: `event:<integration key>.<metric name in snake case>`; Klaviyo's own metrics
 * are `event:klaviyo.…`, metrics made through the API `event:api.…`. Topics are the account's metrics, so they
 * come and go with them.
 */
export function topicOfMetric(metricName: string, integrationKey: string): string {
  return `event:${integrationKey}.${topicMetricName(metricName)}`;
}

/** Whether `id` has the form of a topic ID (`event:<integration>.<name>`). */
export function isTopicId(id: string): boolean {
  return /^event:[a-z0-9_-]+\.[\p{L}\p{N}_]+$/u.test(id);
}

/** The integration keys of topics: Klaviyo's own metrics (`event:klaviyo.…`) and those made through the API. */
export const TOPIC_INTEGRATIONS = Object.freeze({ klaviyo: "klaviyo", api: "api" });

/** A topic's integration key and metric name (`event:klaviyo.opened_email` → klaviyo, opened_email). */
export function topicParts(topicId: string): { integration: string; name: string } | undefined {
  if (!isTopicId(topicId)) return undefined;
  const rest = topicId.slice("event:".length);
  const dot = rest.indexOf(".");
  return { integration: rest.slice(0, dot), name: rest.slice(dot + 1) };
}

/** Klaviyo's consent metrics, which a subscription or unsubscription job records, by what they record. */
export const CONSENT_METRICS = Object.freeze({
  subscribedEmail: "Subscribed to Email Marketing",
  unsubscribedEmail: "Unsubscribed from Email Marketing",
  suppressedEmail: "Manually Suppressed from Email Marketing",
  subscribedSms: "Subscribed to SMS Marketing",
  unsubscribedSms: "Unsubscribed from SMS Marketing",
  subscribedList: "Subscribed to List",
  unsubscribedList: "Unsubscribed from List",
});

/**
 * Whether `url` may be a webhook's endpoint: Klaviyo requires `https://`. Plain `http://` is allowed only on a
 * loopback host (`localhost`, `127.0.0.0/8`, `::1`) — a local-development allowance that the emulator makes and
 * Klaviyo does not.
 */
export function endpointUrlProblem(url: string, allowLoopbackHttp: boolean): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "is not a URL";
  }
  if (parsed.protocol === "https:") return undefined;
  if (parsed.protocol === "http:" && allowLoopbackHttp && isLoopbackHost(parsed.hostname)) return undefined;
  return allowLoopbackHttp ? "must be https (or http on a loopback host)" : "must be https";
}

/** Whether `hostname` (as `URL.hostname` gives it) names this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    host === "::1" ||
    /^127(?:\.\d{1,3}){3}$/.test(host)
  );
}

/**
 * A webhook's endpoint as Klaviyo's answers show it: truncated to its scheme and host, the rest masked
 * (`https://hooks.example.com/*****`), so a token in the URL never comes back.
 */
export function truncatedEndpoint(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}/*****`;
  } catch {
    return "*****";
  }
}
