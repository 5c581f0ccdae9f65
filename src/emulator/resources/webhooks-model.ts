/**
 * Klaviyo's system webhooks as the emulated account keeps them: the webhook rows (the endpoint and secret kept,
 * never shown), the account's topics (derived from its metrics), and the resource objects the Webhooks API
 * answers with. The facts of topics and endpoints come from `src/klaviyo/webhooks.ts`.
 */
import {
  CONSENT_METRICS,
  endpointUrlProblem,
  isTopicId,
  topicOfMetric,
  truncatedEndpoint,
} from "../../klaviyo/webhooks.js";
import { type Included, type JsonApiResource, relationshipLinks, resource } from "../documents.js";
import { EmulatorProblem, invalidBody, notFound } from "../errors.js";
import { selfLink } from "../json-api.js";
import type { QueryContext } from "../query.js";
import type { EmulatorState, EventRow, WebhookRow } from "../state.js";
import { isoNow, ulid } from "../store.js";
import { RECEIVED_METRIC } from "./campaign-send.js";
import { KLAVIYO_INTEGRATION, metricIntegrationKey } from "./metrics-model.js";

export const WEBHOOK_TYPE = "webhook";
export const TOPIC_TYPE = "webhook-topic";
const WEBHOOK_PATH = "webhooks";
const TOPIC_PATH = "webhook-topics";
/** The relationship of a webhook to its topics, as the document names it. */
export const TOPICS_RELATIONSHIP = "webhook-topics";

/**
 * Klaviyo's own metrics that every emulated account offers as topics, whether or not it has recorded any such
 * event yet: the consent metrics, and the engagement metrics of email, SMS and push. Klaviyo documents only that
 * "topics are dynamic and based on the metrics available in your account"; the catalogue of a real account is not
 * published, so this modest list is the emulator's reading of the topics its guide and receivers name.
 */
export const KLAVIYO_TOPIC_METRICS: readonly string[] = Object.freeze(
  [
    ...Object.values(CONSENT_METRICS),
    "Updated Email Preferences",
    RECEIVED_METRIC.email,
    "Opened Email",
    "Clicked Email",
    "Bounced Email",
    "Dropped Email",
    "Marked Email as Spam",
    "Unsubscribed",
    "Sent SMS",
    RECEIVED_METRIC.sms,
    "Clicked SMS",
    "Failed to deliver SMS",
    "Received Push",
    "Opened Push",
    "Bounced Push",
  ].filter((name) => name !== undefined),
);

/** Klaviyo answers every Webhooks API call of an account without Advanced KDP (nor an app partner) with this. */
export const WEBHOOK_ACCESS_DETAIL = "You must have Advanced KDP enabled to use this endpoint";

/** 403 `permission_denied`, as an account without webhook access is answered. */
export function webhookAccessDenied(): EmulatorProblem {
  return new EmulatorProblem({
    status: 403,
    code: "permission_denied",
    title: "You do not have permission to perform this action.",
    detail: WEBHOOK_ACCESS_DETAIL,
  });
}

/** The topic of an event: its metric's name and integration, or undefined when the metric is gone. */
export function topicOfEvent(state: EmulatorState, row: EventRow): string | undefined {
  const metric = state.metrics.get(row.metricId);
  if (!metric) return undefined;
  return topicOfMetric(String(metric.attributes.name), metricIntegrationKey(metric));
}

/**
 * The account's topics, each once: Klaviyo's catalogue first, then one per metric of the account not in it
 * (a custom metric made through the API is `event:api.…`), in the metrics' creation order.
 */
export function accountTopics(state: EmulatorState): string[] {
  const topics = new Set(KLAVIYO_TOPIC_METRICS.map((name) => topicOfMetric(name, KLAVIYO_INTEGRATION.key)));
  for (const metric of state.metrics.values())
    topics.add(topicOfMetric(String(metric.attributes.name), metricIntegrationKey(metric)));
  return [...topics];
}

/**
 * The topic resource object. The document gives it no attributes, only its id and self link, so it has none
 * (the cast: `JsonApiResource` expects attributes, which every other resource has).
 */
export function renderTopic(query: QueryContext, id: string): JsonApiResource {
  const topic = { type: TOPIC_TYPE, id, links: { self: selfLink(query.origin, TOPIC_PATH, id) } };
  return topic as unknown as JsonApiResource;
}

/** A topic of the account, or 404. */
export function requireTopic(state: EmulatorState, id: string): string {
  if (!accountTopics(state).includes(id)) throw notFound(`A webhook topic with id '${id}' does not exist.`);
  return id;
}

export function requireWebhook(state: EmulatorState, id: string): WebhookRow {
  const row = state.webhooks.get(id);
  if (!row) throw notFound(`A webhook with id '${id}' does not exist.`);
  return row;
}

/**
 * The webhook resource object: `endpoint_url` truncated to its scheme and host, never the secret, the topics as
 * a relationship (and, with `include=webhook-topics`, in `included`).
 */
export function renderWebhook(query: QueryContext, row: WebhookRow, included?: Included): JsonApiResource {
  const { name, description = null, enabled, created_at = null, updated_at = null } = row.attributes;
  if (included && query.include.has(TOPICS_RELATIONSHIP))
    for (const topic of row.topics) included.add(renderTopic(query, topic));
  return resource(
    query,
    WEBHOOK_TYPE,
    WEBHOOK_PATH,
    row.id,
    {
      name,
      description,
      endpoint_url: truncatedEndpoint(row.endpointUrl),
      enabled,
      created_at,
      updated_at,
    },
    {
      [TOPICS_RELATIONSHIP]: {
        data: row.topics.map((id) => ({ type: TOPIC_TYPE, id })),
        links: relationshipLinks(query, WEBHOOK_PATH, row.id, TOPICS_RELATIONSHIP),
      },
    },
  );
}

/**
 * 400 unless `url` may be a webhook's endpoint: https, or (an emulator-only allowance for local development,
 * which Klaviyo does not make) http on a loopback host. The URL is not echoed: it may hold a token.
 */
export function checkEndpoint(url: string, pointer: string): void {
  const problem = endpointUrlProblem(url, true);
  if (problem) throw new EmulatorProblem(invalidBody(pointer, `The endpoint_url ${problem}.`));
}

/**
 * The topics a request names, each once, in the order given: 400 for an empty list and for an id that is not a
 * topic of the account. What Klaviyo answers for an unknown topic is not documented; a 400 pointing at the id is
 * the emulator's reading.
 */
export function checkTopics(state: EmulatorState, ids: readonly string[], pointer: string): string[] {
  if (ids.length === 0)
    throw new EmulatorProblem(invalidBody(pointer, "A webhook must subscribe to at least one topic."));
  const known = new Set(accountTopics(state));
  const problems = ids.flatMap((id, i) =>
    isTopicId(id) && known.has(id)
      ? []
      : [invalidBody(`${pointer}/${i}/id`, `'${id}' is not a webhook topic of this account.`)],
  );
  const [first, ...others] = problems;
  if (first) throw new EmulatorProblem(first, {}, others);
  return [...new Set(ids)];
}

export interface WebhookInput {
  readonly name: string;
  readonly description: string | null;
  readonly endpointUrl: string;
  readonly secretKey: string;
  readonly topics: readonly string[];
}

/** A new webhook, enabled (Klaviyo's create takes no `enabled`). */
export function insertWebhook(state: EmulatorState, input: WebhookInput, now: number): WebhookRow {
  const stamp = isoNow(now);
  return state.webhooks.insert({
    id: ulid(now),
    seq: state.webhooks.seq(),
    attributes: {
      name: input.name,
      description: input.description,
      enabled: true,
      created_at: stamp,
      updated_at: stamp,
    },
    endpointUrl: input.endpointUrl,
    secretKey: input.secretKey,
    topics: [...input.topics],
  });
}

export interface WebhookChanges {
  readonly name?: string;
  readonly description?: string | null;
  readonly endpointUrl?: string;
  readonly secretKey?: string;
  readonly enabled?: boolean;
  readonly topics?: readonly string[];
}

/** Applies an update; `updated_at` moves to `now`. */
export function updateWebhook(row: WebhookRow, changes: WebhookChanges, now: number): WebhookRow {
  const attributes = { ...row.attributes };
  if (changes.name !== undefined) attributes.name = changes.name;
  if (changes.description !== undefined) attributes.description = changes.description;
  if (changes.enabled !== undefined) attributes.enabled = changes.enabled;
  attributes.updated_at = isoNow(now);
  row.attributes = attributes;
  if (changes.endpointUrl !== undefined) row.endpointUrl = changes.endpointUrl;
  if (changes.secretKey !== undefined) row.secretKey = changes.secretKey;
  if (changes.topics !== undefined) row.topics = [...changes.topics];
  return row;
}
