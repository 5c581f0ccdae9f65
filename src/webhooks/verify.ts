/**
 * Verifying a delivery of Klaviyo's system webhooks: the signature over the raw body and the timestamp header,
 * checked in constant time before anything is parsed, then the body's shape and its webhook ID against the
 * header's. The recipe and the header names are `klaviyo/webhooks.ts`'s; this module only applies them.
 */
import * as v from "valibot";
import { builtins } from "../core/builtins.js";
import { KlaviyoError } from "../klaviyo/error.js";
import { WEBHOOK_HEADERS, type WebhookDelivery, webhookSignature } from "../klaviyo/webhooks.js";

/**
 * A request's headers: a fetch `Headers`, or a record of header name → value(s) as node's `IncomingHttpHeaders`
 * holds them. Names are matched case-insensitively; a header given several times counts as its values joined
 * with `, `, as a fetch `Headers` joins them (so a repeated signature never matches).
 */
export type WebhookHeaders =
  | Headers
  | Readonly<Record<string, string | readonly string[] | number | undefined>>;

/** Why a delivery was refused. */
export type WebhookVerificationReason =
  | "missing_header"
  | "bad_signature"
  | "webhook_id_mismatch"
  | "malformed_body";

const MESSAGES: Readonly<Record<WebhookVerificationReason, string>> = {
  missing_header: "a Klaviyo webhook header is missing",
  bad_signature: `the ${WEBHOOK_HEADERS.signature} header does not match the body and timestamp`,
  webhook_id_mismatch: `meta.klaviyo_webhook_id does not equal the ${WEBHOOK_HEADERS.id} header`,
  malformed_body: "the body is not a Klaviyo webhook delivery",
};

/**
 * A delivery `verifyWebhook` refused. `status` is what to answer: 401 for one that is not proven to come from
 * the webhook (a header missing, a signature that does not match, the ID of another webhook), 400 for a signed
 * body that is not a delivery. The message names what is wrong, never a secret or the signature expected.
 */
export class WebhookVerificationError extends KlaviyoError {
  override name = "WebhookVerificationError";
  readonly status: 400 | 401;

  constructor(
    readonly reason: WebhookVerificationReason,
    detail?: string,
  ) {
    super(detail ? `${MESSAGES[reason]}: ${detail}` : MESSAGES[reason]);
    this.status = reason === "malformed_body" ? 400 : 401;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), reason: this.reason, status: this.status };
  }
}

/** The value of header `name` (any case), values given several times joined with `, `; undefined when absent. */
export function headerValue(headers: WebhookHeaders, name: string): string | undefined {
  // Any fetch `Headers` (a polyfill's or another realm's too): by its `get`, not by `instanceof`.
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const record = headers as Readonly<Record<string, string | readonly string[] | number | undefined>>;
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (const key of Object.keys(record)) {
    if (key.toLowerCase() !== wanted) continue;
    const value = record[key];
    if (value === undefined) continue;
    if (Array.isArray(value)) values.push(...(value as readonly string[]).map(String));
    else values.push(String(value));
  }
  return values.length > 0 ? values.join(", ") : undefined;
}

/** The webhook's secrets as a list, refusing none at all or an empty one (which would sign with no key). */
export function secretsOf(secret: string | readonly string[]): readonly string[] {
  const secrets = typeof secret === "string" ? [secret] : secret;
  if (!Array.isArray(secrets) || secrets.length === 0)
    throw new TypeError(
      "No webhook secret given: pass the webhook's Secret Key (or several, while rotating).",
    );
  if (!secrets.every((s) => typeof s === "string" && s.length > 0))
    throw new TypeError("A webhook secret is empty or not text: pass the webhook's Secret Key.");
  return secrets;
}

/** SHA-256 of `text`: 32 bytes whatever its length, so comparing two of them reveals nothing by its duration. */
function digest(text: string): Buffer {
  return builtins.crypto.createHash("sha256").update(text, "utf8").digest();
}

/**
 * Whether `given` equals one of `expected`, in constant time: each compared as equal-length digests, every
 * candidate compared (no early exit), so neither the signature's nor a secret's position or length shows.
 */
export function constantTimeIncludes(given: string, expected: readonly string[]): boolean {
  const { timingSafeEqual } = builtins.crypto;
  const mine = digest(given);
  let found = false;
  for (const candidate of expected) found = timingSafeEqual(mine, digest(candidate)) || found;
  return found;
}

const item = v.looseObject({
  topic: v.string(),
  external_id: v.string(),
  payload: v.looseObject({ data: v.looseObject({ type: v.string(), id: v.string() }) }),
});
const delivery = v.looseObject({
  data: v.array(item),
  // Only the webhook ID is needed to accept a delivery: the other fields of `meta` are checked for their type when
  // present, not required, so that a delivery Klaviyo sends without one of them is not refused.
  meta: v.looseObject({
    klaviyo_account_id: v.optional(v.string()),
    klaviyo_webhook_id: v.string(),
    timestamp: v.optional(v.string()),
    version: v.optional(v.string()),
  }),
});

/** The body as text, or undefined when its bytes are not UTF-8 (no JSON then). */
function textOf(rawBody: string | Uint8Array): string | undefined {
  if (typeof rawBody === "string") return rawBody;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(rawBody);
  } catch {
    return undefined;
  }
}

/** A delivery from verified text: its JSON and shape checked; every field kept as sent. */
function parseDelivery(rawBody: string | Uint8Array): WebhookDelivery {
  const text = textOf(rawBody);
  if (text === undefined) throw new WebhookVerificationError("malformed_body", "its bytes are not UTF-8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new WebhookVerificationError("malformed_body", "it is not JSON");
  }
  const result = v.safeParse(delivery, parsed);
  if (!result.success) {
    const issue = result.issues[0];
    const where = issue.path?.map((p) => String(p.key)).join(".");
    throw new WebhookVerificationError("malformed_body", `${where ? `at ${where}: ` : ""}${issue.message}`);
  }
  // The value as parsed, not valibot's copy: nothing is renamed or dropped.
  return parsed as WebhookDelivery;
}

/**
 * Verifies a delivery of one of Klaviyo's system webhooks and returns it, typed. `rawBody` must be the body
 * exactly as received (the bytes, or their text): parsing and re-serialising it changes what was signed.
 * `secret` is the webhook's Secret Key, or several while rotating (any one may match).
 *
 * In order: the `Klaviyo-Webhook-Id`, `Klaviyo-Signature` and `Klaviyo-Timestamp` headers must be there; the
 * signature (lowercase hex HMAC-SHA256 of the raw body followed by the timestamp header) must match, compared
 * in constant time, before the body is parsed; the body must be a delivery (`data[]` of topic, external_id and
 * payload; `meta`); and `meta.klaviyo_webhook_id` must equal the `Klaviyo-Webhook-Id` header, so that a
 * delivery signed for another webhook sharing the secret is refused too. Throws `WebhookVerificationError`.
 *
 * The timestamp is not judged for freshness: one receiver reports Klaviyo's `Klaviyo-Timestamp` running hours
 * off, and Klaviyo documents no tolerance. Replays are caught by `external_id` instead (the handlers' dedupe).
 */
export function verifyWebhook(
  rawBody: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string | readonly string[],
): WebhookDelivery {
  const secrets = secretsOf(secret);
  const id = headerValue(headers, WEBHOOK_HEADERS.id);
  const signature = headerValue(headers, WEBHOOK_HEADERS.signature);
  const timestamp = headerValue(headers, WEBHOOK_HEADERS.timestamp);
  const missing = (
    [
      [WEBHOOK_HEADERS.id, id],
      [WEBHOOK_HEADERS.signature, signature],
      [WEBHOOK_HEADERS.timestamp, timestamp],
    ] as const
  )
    .filter(([, value]) => value === undefined || value === "")
    .map(([name]) => name);
  if (missing.length > 0) throw new WebhookVerificationError("missing_header", missing.join(", "));
  const expected = secrets.map((s) => webhookSignature(rawBody, timestamp as string, s));
  if (!constantTimeIncludes(signature as string, expected))
    throw new WebhookVerificationError("bad_signature");
  const parsed = parseDelivery(rawBody);
  if (parsed.meta.klaviyo_webhook_id !== id) throw new WebhookVerificationError("webhook_id_mismatch");
  return parsed;
}
