/**
 * Klaviyo's Webhooks API: Get Webhooks (every webhook: the document lists no pagination, filter or sort for it),
 * Create Webhook (201, enabled), Get, Update (name, description, endpoint, secret, `enabled`, topics) and Delete
 * (204) Webhook, Get Webhook Topics and Get Webhook Topic. Answers never show the secret, and show the endpoint
 * truncated. An account without webhook access (the emulator's `webhookAccess` switch) is answered 403
 * `permission_denied` on every one of them, as Klaviyo answers accounts without Advanced KDP.
 *
 * A request body's `secret_key` is masked in the emulator's request log (however the body writes it).
 */
import * as v from "valibot";
import type { Schema } from "../../klaviyo/schema.js";
import { MAX_JSON_DEPTH } from "../body.js";
import { empty, Included, single, withIncluded } from "../documents.js";
import type { EmulatorContext, OperationHandler, RouteRuntime, RouteTable } from "../env.js";
import { canonicalUrl, jsonApi } from "../json-api.js";
import { readQuery } from "../query.js";
import { checkType, memberAt, readResourceBody } from "../request-documents.js";
import {
  accountTopics,
  checkEndpoint,
  checkTopics,
  insertWebhook,
  renderTopic,
  renderWebhook,
  requireTopic,
  requireWebhook,
  TOPIC_TYPE,
  TOPICS_RELATIONSHIP,
  updateWebhook,
  WEBHOOK_TYPE,
  webhookAccessDenied,
} from "../resources/webhooks-model.js";
import type { EmulatorState } from "../state.js";

const nonBlank = (what: string) =>
  v.pipe(
    v.string(`${what} must be a string.`),
    v.check((value) => value.trim() !== "", `${what} may not be blank.`),
  );

// The secret's messages never quote what was given.
const secretKey = nonBlank("The secret_key");

const topicsRelationship = v.strictObject({
  data: v.array(
    v.strictObject({ type: v.literal(TOPIC_TYPE), id: v.pipe(v.string(), v.minLength(1)) }),
    "The webhook-topics relationship must be a list of topics.",
  ),
});

const createWebhookBody = v.strictObject({
  data: v.strictObject({
    type: v.literal(WEBHOOK_TYPE),
    attributes: v.strictObject({
      name: nonBlank("The name"),
      description: v.optional(v.nullable(v.string())),
      endpoint_url: v.string("The endpoint_url must be a string."),
      secret_key: secretKey,
    }),
    relationships: v.strictObject({ [TOPICS_RELATIONSHIP]: topicsRelationship }),
  }),
});

const updateWebhookBody = v.strictObject({
  data: v.strictObject({
    type: v.literal(WEBHOOK_TYPE),
    id: v.string(),
    attributes: v.strictObject({
      name: v.optional(v.nullable(nonBlank("The name"))),
      description: v.optional(v.nullable(v.string())),
      endpoint_url: v.optional(v.nullable(v.string("The endpoint_url must be a string."))),
      secret_key: v.optional(v.nullable(secretKey)),
      enabled: v.optional(v.nullable(v.boolean())),
    }),
    relationships: v.optional(v.strictObject({ [TOPICS_RELATIONSHIP]: topicsRelationship })),
  }),
});

const ATTRIBUTES = "/data/attributes";
const TOPICS = `/data/relationships/${TOPICS_RELATIONSHIP}/data`;

/** `value` with every member named `secret_key` masked, whatever its value; throws past `MAX_JSON_DEPTH`. */
function withoutSecrets(value: unknown, depth: number): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (depth > MAX_JSON_DEPTH) throw new RangeError("nested too deep to mask");
  if (Array.isArray(value)) return value.map((item) => withoutSecrets(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, member]) => [
      key,
      key === "secret_key" ? "[REDACTED]" : withoutSecrets(member, depth + 1),
    ]),
  );
}

/**
 * The request log keeps the body the client sent, with the secret masked: it is the webhook's signing key. The
 * body is masked as parsed, so that a key written with escapes (`secret\u005fkey`) or given twice is masked too.
 * A body that does not parse (a string cut short) or nests too deep may hide a secret anywhere: it is logged by its
 * size only.
 */
function maskLoggedSecret(c: EmulatorContext): void {
  const text = c.get("bodyText");
  if (text === undefined) return;
  try {
    c.set("bodyText", JSON.stringify(withoutSecrets(JSON.parse(text), 1)));
  } catch {
    c.set("bodyText", undefined);
  }
}

/** A webhook body, read as `readResourceBody` reads one, its topics' types checked (409) and its secret masked. */
async function readWebhookBody<T>(c: EmulatorContext, schema: Schema<T>, id?: string): Promise<T> {
  try {
    return await readResourceBody(c, schema, {
      type: WEBHOOK_TYPE,
      ...(id !== undefined ? { id } : {}),
      // The topics' types are checked like the resource's own (409), before the schema.
      check: (raw: unknown) => {
        const topics = memberAt(raw, "data", "relationships", TOPICS_RELATIONSHIP, "data");
        if (Array.isArray(topics))
          for (const [i, topic] of topics.entries()) checkType(topic, `${TOPICS}/${i}`, TOPIC_TYPE);
      },
    });
  } finally {
    maskLoggedSecret(c);
  }
}

/** The Webhooks API's handlers, over `state`. */
export function webhookRoutes(state: EmulatorState, runtime: RouteRuntime): RouteTable {
  const webhookOf = (c: EmulatorContext) => requireWebhook(state, c.get("params").id ?? "");

  const routes: Record<string, OperationHandler> = {
    get_webhooks(c) {
      const query = readQuery(c);
      const included = new Included();
      const data = [...state.webhooks.values()].map((row) => renderWebhook(query, row, included));
      return withIncluded(c.req.url, query, data, included);
    },

    async create_webhook(c) {
      const query = readQuery(c);
      const body = await readWebhookBody(c, createWebhookBody);
      const { attributes, relationships } = body.data;
      checkEndpoint(attributes.endpoint_url, `${ATTRIBUTES}/endpoint_url`);
      const topics = checkTopics(
        state,
        relationships[TOPICS_RELATIONSHIP].data.map((topic) => topic.id),
        TOPICS,
      );
      const row = insertWebhook(
        state,
        {
          name: attributes.name,
          description: attributes.description ?? null,
          endpointUrl: attributes.endpoint_url,
          secretKey: attributes.secret_key,
          topics,
        },
        runtime.now(),
      );
      return single(c.req.url, renderWebhook(query, row), undefined, 201);
    },

    get_webhook(c) {
      const query = readQuery(c);
      const included = new Included();
      const data = renderWebhook(query, webhookOf(c), included);
      return withIncluded(c.req.url, query, data, included);
    },

    async update_webhook(c) {
      const query = readQuery(c);
      const row = webhookOf(c);
      const body = await readWebhookBody(c, updateWebhookBody, row.id);
      const { attributes, relationships } = body.data;
      // Null leaves a member as it is, except the description, which it clears.
      const endpointUrl = attributes.endpoint_url ?? undefined;
      if (endpointUrl !== undefined) checkEndpoint(endpointUrl, `${ATTRIBUTES}/endpoint_url`);
      const given = relationships?.[TOPICS_RELATIONSHIP].data.map((topic) => topic.id);
      const topics = given === undefined ? undefined : checkTopics(state, given, TOPICS);
      updateWebhook(
        row,
        {
          ...(attributes.name != null ? { name: attributes.name } : {}),
          ...(attributes.description !== undefined ? { description: attributes.description } : {}),
          ...(endpointUrl !== undefined ? { endpointUrl } : {}),
          ...(attributes.secret_key != null ? { secretKey: attributes.secret_key } : {}),
          ...(attributes.enabled != null ? { enabled: attributes.enabled } : {}),
          ...(topics !== undefined ? { topics } : {}),
        },
        runtime.now(),
      );
      return single(c.req.url, renderWebhook(query, row));
    },

    delete_webhook(c) {
      state.webhooks.delete(webhookOf(c).id);
      return empty(204);
    },

    get_webhook_topics(c) {
      const query = readQuery(c);
      return jsonApi({
        data: accountTopics(state).map((id) => renderTopic(query, id)),
        links: { self: canonicalUrl(c.req.url) },
      });
    },

    get_webhook_topic(c) {
      const query = readQuery(c);
      const id = requireTopic(state, c.get("params").id ?? "");
      return jsonApi({ data: renderTopic(query, id), links: { self: canonicalUrl(c.req.url) } });
    },
  };

  return Object.fromEntries(
    Object.entries(routes).map(([operation, handler]) => [
      operation,
      (c: EmulatorContext) => {
        if (runtime.webhookAccess?.() === false) throw webhookAccessDenied();
        return handler(c);
      },
    ]),
  );
}
