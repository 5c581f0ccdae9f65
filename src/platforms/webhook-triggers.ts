/**
 * The webhook triggers, one platform-neutral catalogue from which the Prismatic component and the Activepieces
 * piece are generated: the topic families (one trigger each, and one for any topics), how each picks its topics
 * from the account's `GET /api/webhook-topics` answer, and the lifecycle every platform runs:
 *
 * - `deploy` (`subscribe` underneath): the family's topics read from the account, then a webhook created through
 *   the Create Webhook action, pointed at the platform's URL for the flow, with a secret generated here (32 random
 *   bytes). Its ID, secret, URL and topics are what the platform keeps in the instance's state. Deploying again
 *   keeps the webhook when nothing changed and it still exists, and otherwise replaces it (the new one made before
 *   the old one is deleted, so no event falls between them).
 * - `unsubscribe`: the webhook deleted by the ID kept (404: already gone, which is fine). A webhook is never
 *   found by its URL: Klaviyo answers it truncated to its host, so two flows on one host would look alike.
 * - `receive`: the raw body verified against the secret kept (`verifyWebhook`: the signature over the exact bytes,
 *   in constant time, before parsing; the webhook's ID against the header's, and against the one kept), then one
 *   item per event, the events seen before (by `external_id`) dropped through the platform's store.
 *
 * An account without webhook access (Klaviyo allows webhooks to Advanced KDP customers and app partners) answers
 * 403 `permission_denied`: `WebhookAccessError` says so, and names the polling triggers that serve instead.
 */
import { fromText } from "../actions/define.js";
import { runAction } from "../actions/index.js";
import { createWebhook } from "../actions/webhooks.js";
import { builtins } from "../core/builtins.js";
import type { KlaviyoClient } from "../core/client.js";
import { ApiError, InputValidationError, NotFoundError } from "../core/errors.js";
import { DEFAULT_REVISION } from "../core/version.js";
import type { StreamName } from "../feed/streams.js";
import { KlaviyoError } from "../klaviyo/error.js";
import { parse } from "../klaviyo/schema.js";
import {
  CONSENT_METRICS,
  endpointUrlProblem,
  isTopicId,
  TOPIC_INTEGRATIONS,
  topicOfMetric,
  topicParts,
  type WebhookDelivery,
  type WebhookDeliveryItem,
  type WebhookDeliveryMeta,
} from "../klaviyo/webhooks.js";
import {
  type DedupeStore,
  type MemoryDedupeStore,
  memoryDedupeStore,
  verifyWebhook,
  type WebhookHeaders,
  WebhookVerificationError,
} from "../webhooks/index.js";
import type { PickerOption } from "./pickers.js";
import { TRIGGERS, type TriggerDefinition } from "./triggers.js";

/** One event of a delivery, as a trigger hands it on: Klaviyo's item (topic, external_id, payload), with its meta. */
export type WebhookTriggerItem = WebhookDeliveryItem & { readonly meta: WebhookDeliveryMeta };

export type WebhookFamilyKey =
  | "email-engagement"
  | "sms-engagement"
  | "consent-changes"
  | "push"
  | "custom-metric-events"
  | "any-topics";

/** The input where a family's topics are chosen (Custom Metric Events, Any Topics). */
export interface WebhookTopicsInput {
  readonly key: "topics";
  readonly label: string;
  readonly comments: string;
  readonly required: boolean;
  /** What the picker offering them is called (`Custom Metric Topic`). */
  readonly pickerLabel: string;
}

export interface WebhookTriggerFamily {
  readonly key: WebhookFamilyKey;
  /** `Email Engagement`. */
  readonly label: string;
  /** What it fires for. */
  readonly description: string;
  /** The rule that picks its topics from the account's, in words. */
  readonly rule: string;
  /** Whether a topic of the account is one of the family's: the rule. */
  takes(topicId: string): boolean;
  readonly topicsInput?: WebhookTopicsInput;
  /** The streams whose polling triggers serve instead when the account has no webhook access. */
  readonly fallbackStreams: readonly StreamName[];
}

const { klaviyo: KLAVIYO_INTEGRATION, api: API_INTEGRATION } = TOPIC_INTEGRATIONS;

const CONSENT_TOPICS: ReadonlySet<string> = new Set(
  Object.values(CONSENT_METRICS).map((metric) => topicOfMetric(metric, KLAVIYO_INTEGRATION)),
);

/** Klaviyo's own topics, consent changes aside, whose metric's name has `word` as a word (`opened_email`). */
const klaviyoTopicNaming =
  (word: string) =>
  (topicId: string): boolean => {
    const parts = topicParts(topicId);
    return (
      parts?.integration === KLAVIYO_INTEGRATION &&
      !CONSENT_TOPICS.has(topicId) &&
      parts.name.split("_").includes(word)
    );
  };

/**
 * Klaviyo records an unsubscribe through an email's unsubscribe link as the metric "Unsubscribed" (its SMS
 * counterparts name SMS): the one email metric whose name does not say so.
 */
const EMAIL_UNSUBSCRIBED_TOPIC = topicOfMetric("Unsubscribed", KLAVIYO_INTEGRATION);

const namesEmail = klaviyoTopicNaming("email");

export const WEBHOOK_FAMILIES: readonly WebhookTriggerFamily[] = [
  {
    key: "email-engagement",
    label: "Email Engagement",
    description:
      "Fires for each email event Klaviyo records: received, opened, clicked, bounced, dropped, marked as spam, unsubscribed, preferences updated.",
    rule: "Klaviyo's own topics whose metric names email (Received Email, Opened Email, Clicked Email, …) and Unsubscribed, consent changes aside",
    takes: (topicId) => namesEmail(topicId) || topicId === EMAIL_UNSUBSCRIBED_TOPIC,
    fallbackStreams: ["events"],
  },
  {
    key: "sms-engagement",
    label: "SMS Engagement",
    description: "Fires for each SMS event Klaviyo records: sent, received, clicked, failed to deliver.",
    rule: "Klaviyo's own topics whose metric names SMS (Received SMS, Clicked SMS, …), consent changes aside",
    takes: klaviyoTopicNaming("sms"),
    fallbackStreams: ["events"],
  },
  {
    key: "consent-changes",
    label: "Consent Changes",
    description:
      "Fires for each consent change Klaviyo records: subscribed to or unsubscribed from email or SMS marketing, suppressed from email, subscribed to or unsubscribed from a list.",
    rule: `Klaviyo's consent topics (${Object.values(CONSENT_METRICS).join(", ")})`,
    takes: (topicId) => CONSENT_TOPICS.has(topicId),
    fallbackStreams: ["events", "suppressions", "list-members"],
  },
  {
    key: "push",
    label: "Push",
    description: "Fires for each push notification event Klaviyo records: received, opened, bounced.",
    rule: "Klaviyo's own topics whose metric names push (Received Push, Opened Push, Bounced Push)",
    takes: klaviyoTopicNaming("push"),
    fallbackStreams: ["events"],
  },
  {
    key: "custom-metric-events",
    label: "Custom Metric Events",
    description:
      "Fires for each event of your own metrics, the ones recorded through the API (Create Event): of the topics chosen, or of every such metric.",
    rule: "the topics of metrics recorded through the API (event:api.…)",
    takes: (topicId) => topicParts(topicId)?.integration === API_INTEGRATION,
    topicsInput: {
      key: "topics",
      label: "Topics",
      comments:
        "The custom metrics to follow, as topic IDs (event:api.<metric in snake case>). Empty for every custom metric the account has when the flow is deployed: a metric first recorded later needs a new deployment.",
      required: false,
      pickerLabel: "Custom Metric Topic",
    },
    fallbackStreams: ["events"],
  },
  {
    key: "any-topics",
    label: "Any Topics",
    description: "Fires for each event of the topics chosen, any of the account's.",
    rule: "the topics chosen",
    takes: (topicId) => isTopicId(topicId),
    topicsInput: {
      key: "topics",
      label: "Topics",
      comments:
        "The topics to follow, as topic IDs (event:klaviyo.opened_email, event:api.placed_order, …): the account's metrics, as List Webhook Topics lists them.",
      required: true,
      pickerLabel: "Webhook Topic",
    },
    fallbackStreams: ["events"],
  },
];

export function getWebhookFamily(key: string): WebhookTriggerFamily | undefined {
  return WEBHOOK_FAMILIES.find((f) => f.key === key);
}

/**
 * A trigger's key: `webhook-email-engagement` (Prismatic's `webhookEmailEngagement`, Activepieces'
 * `webhook_email_engagement`).
 */
export function webhookTriggerKey(family: WebhookTriggerFamily): string {
  return `webhook-${family.key}`;
}

/** A trigger's label: `Email Engagement (Webhook)`, apart from the polling triggers. */
export function webhookTriggerLabel(family: WebhookTriggerFamily): string {
  return `${family.label} (Webhook)`;
}

/** The polling triggers that serve instead of a family's webhook trigger, from the polling catalogue. */
export function fallbackTriggers(family: WebhookTriggerFamily): TriggerDefinition[] {
  return TRIGGERS.filter((t) => family.fallbackStreams.includes(t.stream));
}

function names(labels: readonly string[]): string {
  if (labels.length <= 1) return labels.join("");
  return `${labels.slice(0, -1).join(", ")} or ${labels[labels.length - 1]}`;
}

/** What a family's trigger says of itself on both platforms. */
export function webhookTriggerDescription(family: WebhookTriggerFamily): string {
  return `${family.description} Instant: a Klaviyo webhook is made when the flow is deployed (and deleted when it is removed), each delivery's signature is checked, and each event is delivered once. Klaviyo allows webhooks only to Advanced KDP accounts and app partners; without them, use ${names(fallbackTriggers(family).map((t) => t.label))}.`;
}

// ---------------------------------------------------------------------------------------------------------------
// Access
// ---------------------------------------------------------------------------------------------------------------

/**
 * Klaviyo refused the Webhooks API (403 `permission_denied`): the account has no webhook access (not Advanced
 * KDP, nor an app partner), or the connection lacks the webhooks scopes. The message names the polling triggers
 * that serve instead.
 */
export class WebhookAccessError extends KlaviyoError {
  override name = "WebhookAccessError";
  readonly status = 403;
  readonly code = "permission_denied";
  /** The labels of the polling triggers that serve instead. */
  readonly pollingTriggers: readonly string[];

  constructor(family: WebhookTriggerFamily, detail: string | undefined) {
    const fallbacks = fallbackTriggers(family).map((t) => t.label);
    super(
      `${webhookTriggerLabel(family)}: Klaviyo refused its Webhooks API (403 permission_denied${detail ? `: ${detail}` : ""}). Klaviyo's webhooks need Advanced KDP on the account, or an app partner's OAuth app, and the webhooks:read and webhooks:write scopes. Without them, use the polling ${fallbacks.length === 1 ? "trigger" : "triggers"} ${names(fallbacks)} instead: ${fallbacks.length === 1 ? "it reads" : "they read"} the same events from Klaviyo's API on a schedule.`,
    );
    this.pollingTriggers = fallbacks;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), status: this.status, code: this.code, pollingTriggers: this.pollingTriggers };
  }
}

function isAccessDenied(error: unknown): error is ApiError {
  return error instanceof ApiError && error.status === 403;
}

/** Runs `call`, turning Klaviyo's 403 into the `WebhookAccessError` of `family`. */
async function withAccess<T>(family: WebhookTriggerFamily, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isAccessDenied(error)) throw new WebhookAccessError(family, error.errors[0]?.detail);
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Topics
// ---------------------------------------------------------------------------------------------------------------

/** A topic the account offers. */
export interface AccountTopic {
  /** `event:klaviyo.opened_email`. */
  readonly id: string;
  /** Its name as Klaviyo gives it (`Opened Email`); the ID when it gives none. */
  readonly name: string;
}

/** The account's topics, as List Webhook Topics answers them (the account's metrics). */
export async function accountTopics(
  client: KlaviyoClient,
  family: WebhookTriggerFamily,
): Promise<AccountTopic[]> {
  const answer = (await withAccess(family, () => runAction("list-webhook-topics", {}, { client }))) as {
    data?: unknown;
  };
  const data = Array.isArray(answer?.data) ? answer.data : [];
  const topics: AccountTopic[] = [];
  for (const entry of data as { id?: unknown; attributes?: { name?: unknown } }[]) {
    if (typeof entry?.id !== "string") continue;
    const name = entry.attributes?.name;
    topics.push({ id: entry.id, name: typeof name === "string" && name !== "" ? name : entry.id });
  }
  return topics;
}

/**
 * The topics chosen in a family's Topics input, as platforms hand them (a list, or text of IDs separated by
 * commas, spaces or lines, or a JSON list), each checked to be a topic ID: refused by label before anything is
 * sent. Empty for a family without the input.
 */
export function chosenTopics(
  family: WebhookTriggerFamily,
  inputs: Readonly<Record<string, unknown>> = {},
): string[] {
  const input = family.topicsInput;
  if (!input) return [];
  const raw = inputs[input.key];
  const topics: string[] = [];
  if (raw !== undefined && raw !== null && raw !== "") {
    // Read as Create Webhook reads its Topics (a list, JSON text or separated text; each a topic ID; distinct).
    const def = createWebhook.inputs.topics;
    const read = typeof raw === "string" ? fromText(def, raw) : { value: raw };
    const parsed = "problem" in read ? undefined : parse(def.schema, read.value);
    if (!parsed?.success) {
      const problem = "problem" in read ? read.problem : parsed?.error.issues[0]?.message;
      throw new InputValidationError([{ key: input.key, label: input.label, message: `${problem}.` }]);
    }
    const outside = parsed.data.filter((topic) => !family.takes(topic));
    if (outside.length > 0)
      throw new InputValidationError([
        {
          key: input.key,
          label: input.label,
          message: `${outside.map((topic) => `${topic} is not one of ${family.rule}`).join("; ")}.`,
        },
      ]);
    topics.push(...parsed.data);
  }
  if (input.required && topics.length === 0)
    throw new InputValidationError([{ key: input.key, label: input.label, message: "is required." }]);
  return topics;
}

/**
 * The topics a family's webhook subscribes to, from the account's: the ones chosen (each checked to be the
 * account's), or else every topic of the account the family's rule takes. None at all is an error: a webhook
 * needs at least one topic.
 */
export function familyTopics(
  family: WebhookTriggerFamily,
  available: readonly AccountTopic[],
  chosen: readonly string[] = [],
): string[] {
  const offered = new Set(available.map((t) => t.id));
  if (chosen.length > 0) {
    const unknown = chosen.filter((t) => !offered.has(t));
    if (unknown.length > 0 && family.topicsInput)
      throw new InputValidationError([
        {
          key: family.topicsInput.key,
          label: family.topicsInput.label,
          message: `${unknown.join(", ")} ${unknown.length === 1 ? "is not a topic" : "are not topics"} of this account (topics are the account's metrics: a metric not yet recorded has none).`,
        },
      ]);
    return [...chosen];
  }
  const topics = available.map((t) => t.id).filter((id) => family.takes(id));
  if (topics.length === 0)
    throw new KlaviyoError(
      `${webhookTriggerLabel(family)}: the account offers no topic of this family (${family.rule}). Klaviyo lists a topic once the account has its metric: record an event of it first.`,
    );
  return topics;
}

/** The choices of a family's topic picker: the account's topics the family takes, searched by name or ID. */
export async function topicOptions(
  client: KlaviyoClient,
  family: WebhookTriggerFamily,
  search?: string,
): Promise<PickerOption[]> {
  const needle = search?.trim().toLowerCase();
  return (await accountTopics(client, family))
    .filter((t) => family.takes(t.id))
    .filter((t) => !needle || t.name.toLowerCase().includes(needle) || t.id.includes(needle))
    .map((t) => ({ label: t.name === t.id ? t.id : `${t.name} (${t.id})`, value: t.id }));
}

// ---------------------------------------------------------------------------------------------------------------
// Lifecycle
// ---------------------------------------------------------------------------------------------------------------

/** What a platform keeps of a deployed trigger, in the instance's state: never shown, never logged. */
export interface WebhookTriggerState {
  readonly family: WebhookFamilyKey;
  readonly webhookId: string;
  /** The webhook's Secret Key, which Klaviyo never answers again: the only copy. */
  readonly secret: string;
  /** The URL it was made for (the platform's, whole; Klaviyo answers it truncated). */
  readonly endpointUrl: string;
  readonly topics: readonly string[];
}

/** A fresh webhook secret: 32 random bytes, as hex (64 characters). */
export function newWebhookSecret(): string {
  return builtins.crypto.randomBytes(32).toString("hex");
}

/** The state a platform kept, if it is one (an older or foreign value is not). */
export function stateOf(value: unknown): WebhookTriggerState | undefined {
  const s = value as Partial<WebhookTriggerState> | null | undefined;
  if (!s || typeof s !== "object") return undefined;
  if (typeof s.webhookId !== "string" || s.webhookId === "") return undefined;
  if (typeof s.secret !== "string" || s.secret === "") return undefined;
  if (typeof s.family !== "string" || !getWebhookFamily(s.family)) return undefined;
  return {
    family: s.family as WebhookFamilyKey,
    webhookId: s.webhookId,
    secret: s.secret,
    endpointUrl: typeof s.endpointUrl === "string" ? s.endpointUrl : "",
    topics: Array.isArray(s.topics) ? s.topics.filter((t): t is string => typeof t === "string") : [],
  };
}

export interface SubscribeOptions {
  /** The webhook's name in Klaviyo. */
  readonly name: string;
  /** Where Klaviyo delivers: the platform's URL for the flow. */
  readonly endpointUrl: string;
  /** Topic IDs, at least one. */
  readonly topics: readonly string[];
  readonly description?: string;
}

/**
 * Creates a webhook through the Create Webhook action, with a freshly generated secret, and returns what to keep.
 * `family` names the polling triggers in the error when the account has no webhook access.
 */
export async function subscribe(
  client: KlaviyoClient,
  options: SubscribeOptions,
  family: WebhookTriggerFamily = anyTopicsFamily(),
): Promise<WebhookTriggerState> {
  const secret = newWebhookSecret();
  const answer = (await withAccess(family, () =>
    runAction(
      "create-webhook",
      {
        name: options.name,
        endpointUrl: options.endpointUrl,
        secretKey: secret,
        topics: [...options.topics],
        ...(options.description ? { description: options.description } : {}),
      },
      { client },
    ),
  )) as { data?: { id?: unknown } };
  const webhookId = answer?.data?.id;
  if (typeof webhookId !== "string" || webhookId === "")
    throw new KlaviyoError("Create Webhook answered without the webhook's ID.");
  return {
    family: family.key,
    webhookId,
    secret,
    endpointUrl: options.endpointUrl,
    topics: [...options.topics],
  };
}

function anyTopicsFamily(): WebhookTriggerFamily {
  return getWebhookFamily("any-topics") as WebhookTriggerFamily;
}

/** Deletes the webhook kept in `state`, by its ID; `deleted: false` when Klaviyo no longer had it (404). */
export async function unsubscribe(
  client: KlaviyoClient,
  state: Pick<WebhookTriggerState, "webhookId"> & { readonly family?: string },
): Promise<{ deleted: boolean }> {
  const family = (state.family && getWebhookFamily(state.family)) || anyTopicsFamily();
  try {
    await withAccess(family, () => runAction("delete-webhook", { webhookId: state.webhookId }, { client }));
    return { deleted: true };
  } catch (error) {
    if (error instanceof NotFoundError) return { deleted: false };
    throw error;
  }
}

export interface DeployOptions {
  /** Where Klaviyo delivers: the platform's URL for the flow. */
  readonly endpointUrl: string;
  /** The webhook's name in Klaviyo. */
  readonly name: string;
  readonly description?: string;
  /** The trigger's input values (Topics). */
  readonly inputs?: Readonly<Record<string, unknown>>;
  /** What the previous deployment kept, if any. */
  readonly previous?: unknown;
}

export interface DeployResult {
  /** What to keep in the instance's state. */
  readonly state: WebhookTriggerState;
  /** A webhook was created (false: the one kept still serves). */
  readonly created: boolean;
  /** The webhook this one replaced, deleted (or found gone). */
  readonly replaced?: string;
  /** Set when the webhook replaced could not be deleted: say so, it still exists in Klaviyo. */
  readonly warning?: string;
}

const sameTopics = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join("\n") === [...b].sort().join("\n");

/**
 * Makes sure the family's webhook exists for `endpointUrl`: the topics chosen are checked (by label, before any
 * request), the account's topics read, and the webhook kept from a previous deployment reused when its URL and
 * topics are the same and Klaviyo still has it (enabled again if someone disabled it); otherwise a new one is
 * created and then the old one deleted.
 */
export async function deploy(
  client: KlaviyoClient,
  family: WebhookTriggerFamily,
  options: DeployOptions,
): Promise<DeployResult> {
  const problem = endpointUrlProblem(options.endpointUrl, true);
  // The URL is the platform's, not the user's; it is not echoed (a platform's URL may carry a token).
  if (problem) throw new KlaviyoError(`${webhookTriggerLabel(family)}: the flow's webhook URL ${problem}.`);
  const chosen = chosenTopics(family, options.inputs);
  const topics = familyTopics(family, await accountTopics(client, family), chosen);
  const previous = stateOf(options.previous);
  if (previous && previous.endpointUrl === options.endpointUrl && sameTopics(previous.topics, topics)) {
    const kept = await existing(client, family, previous.webhookId);
    if (kept) {
      if (kept.enabled === false)
        await withAccess(family, () =>
          runAction("update-webhook", { webhookId: previous.webhookId, enabled: true }, { client }),
        );
      return { state: previous, created: false };
    }
  }
  const state = await subscribe(
    client,
    {
      name: options.name,
      endpointUrl: options.endpointUrl,
      topics,
      ...(options.description ? { description: options.description } : {}),
    },
    family,
  );
  if (!previous || previous.webhookId === state.webhookId) return { state, created: true };
  try {
    await unsubscribe(client, previous);
    return { state, created: true, replaced: previous.webhookId };
  } catch (error) {
    // The new webhook is made: failing here would lose its secret. The old one is reported instead.
    return {
      state,
      created: true,
      replaced: previous.webhookId,
      warning: `The webhook ${previous.webhookId} this deployment replaces could not be deleted (${(error as Error).message}); delete it in Klaviyo.`,
    };
  }
}

/** The webhook with this ID, or undefined when Klaviyo no longer has it. */
async function existing(
  client: KlaviyoClient,
  family: WebhookTriggerFamily,
  webhookId: string,
): Promise<{ enabled?: boolean } | undefined> {
  try {
    const answer = (await withAccess(family, () => runAction("get-webhook", { webhookId }, { client }))) as {
      data?: { attributes?: { enabled?: unknown } };
    };
    const enabled = answer?.data?.attributes?.enabled;
    return typeof enabled === "boolean" ? { enabled } : {};
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Receiving
// ---------------------------------------------------------------------------------------------------------------

/** Why a delivery was refused: `verifyWebhook`'s reasons, or nothing to verify with. */
export type RefusalReason =
  | WebhookVerificationError["reason"]
  /** The platform handed no raw body: the bytes the signature covers are not there to check. */
  | "missing_raw_body"
  /** The trigger keeps no webhook (not deployed, or its state lost): nothing to verify with. */
  | "not_subscribed";

export type ReceiveResult =
  | {
      readonly accepted: true;
      /** The fresh events, one item each, in the delivery's order. */
      readonly items: WebhookTriggerItem[];
      /** How many events were dropped as delivered before. */
      readonly duplicates: number;
      readonly delivery: WebhookDelivery;
    }
  | {
      readonly accepted: false;
      /** What to answer: 401 unproven, 400 signed but not a delivery. */
      readonly status: 400 | 401;
      readonly reason: RefusalReason;
      /** Names what is wrong; never a secret, nor the signature expected. */
      readonly message: string;
    };

/**
 * A raw body as platforms hand it: text, bytes (a `Buffer`), an `ArrayBuffer`, or a `Buffer` that went through
 * JSON (`{ type: "Buffer", data: [...] }`); undefined for anything else (a parsed body is not the raw one).
 */
export function rawBodyOf(value: unknown): string | Uint8Array | undefined {
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  const serialised = value as { type?: unknown; data?: unknown } | null | undefined;
  if (
    serialised &&
    typeof serialised === "object" &&
    serialised.type === "Buffer" &&
    Array.isArray(serialised.data) &&
    serialised.data.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)
  )
    return Uint8Array.from(serialised.data as number[]);
  return undefined;
}

/**
 * Verifies one delivery against the webhook kept in `state` and splits it into one item per fresh event. The
 * signature is checked over `rawBody` exactly as it arrived, never over a body parsed and serialised again. With
 * `dedupe`, events whose `external_id` was claimed before are dropped (Klaviyo may deliver an event twice).
 */
export async function receive(
  state: unknown,
  rawBody: unknown,
  headers: WebhookHeaders,
  options: { readonly dedupe?: DedupeStore } = {},
): Promise<ReceiveResult> {
  const kept = stateOf(state);
  if (!kept)
    return {
      accepted: false,
      status: 401,
      reason: "not_subscribed",
      message: "The trigger keeps no webhook to verify deliveries with: deploy (or enable) it again.",
    };
  const bytes = rawBodyOf(rawBody);
  if (bytes === undefined)
    return {
      accepted: false,
      status: 401,
      reason: "missing_raw_body",
      message:
        "The platform handed the trigger no raw body, so the signature (over the exact bytes sent) cannot be checked; the delivery is refused rather than trusted.",
    };
  let delivery: WebhookDelivery;
  try {
    delivery = verifyWebhook(bytes, headers, kept.secret);
  } catch (error) {
    if (error instanceof WebhookVerificationError)
      return { accepted: false, status: error.status, reason: error.reason, message: error.message };
    throw error;
  }
  // Signed with this trigger's secret yet naming another webhook: not ours to process.
  if (delivery.meta.klaviyo_webhook_id !== kept.webhookId)
    return {
      accepted: false,
      status: 401,
      reason: "webhook_id_mismatch",
      message: "The delivery names another webhook than the one this trigger made.",
    };
  const items: WebhookTriggerItem[] = [];
  let duplicates = 0;
  for (const item of delivery.data) {
    if (options.dedupe && !(await options.dedupe.claim(item.external_id))) {
      duplicates++;
      continue;
    }
    items.push({ ...item, meta: delivery.meta });
  }
  return { accepted: true, items, duplicates, delivery };
}

/** How many event IDs a platform's store remembers for dropping repeats (the newest). */
export const SEEN_IDS_MAX = 2000;

/**
 * A dedupe store over a list of IDs a platform persists (its instance state, a flow's store): `ids()` is the list
 * to save after the delivery, the newest `max` kept. Two deliveries handled at once each save their own list, so
 * a repeat arriving at the very same moment may pass: the platform's state has no test-and-set.
 */
export function seenIdsStore(seen: unknown, max = SEEN_IDS_MAX): MemoryDedupeStore {
  const remembered = Array.isArray(seen) ? seen.filter((id): id is string => typeof id === "string") : [];
  return memoryDedupeStore({ max, remembered });
}

/** A sample item of a family, for the platforms' example payloads: the shape `receive` hands on. */
export function sampleItem(family: WebhookTriggerFamily): WebhookTriggerItem {
  const topic =
    family.key === "consent-changes"
      ? topicOfMetric(CONSENT_METRICS.subscribedEmail, KLAVIYO_INTEGRATION)
      : family.key === "sms-engagement"
        ? topicOfMetric("Received SMS", KLAVIYO_INTEGRATION)
        : family.key === "push"
          ? topicOfMetric("Opened Push", KLAVIYO_INTEGRATION)
          : family.key === "custom-metric-events" || family.key === "any-topics"
            ? topicOfMetric("Placed Order", API_INTEGRATION)
            : topicOfMetric("Opened Email", KLAVIYO_INTEGRATION);
  const id = "4vRpBT9ZzA3";
  return {
    topic,
    external_id: id,
    payload: {
      data: {
        type: "event",
        id,
        attributes: {
          timestamp: 1736933400,
          event_properties: family.key === "custom-metric-events" ? { value: 42.5, order_id: "1001" } : {},
          datetime: "2025-01-15T09:30:00+00:00",
          uuid: "8b2a6a80-d33a-11ef-8000-4ad3c1a4b0d2",
        },
        relationships: {
          profile: { data: { type: "profile", id: "01JHGX3ZQ8S7V9XKQ5N2D4W6PB" } },
          metric: { data: { type: "metric", id: "UMTLbD" } },
        },
        links: { self: `https://a.klaviyo.com/api/events/${id}/` },
      },
    },
    meta: {
      klaviyo_account_id: "AbC123",
      klaviyo_webhook_id: "01JHGX5T8W2N6QYB3R7M9K4D1F",
      timestamp: "2025-01-15T09:30:01+00:00",
      version: DEFAULT_REVISION,
    },
  };
}
