import { type InputIssue, InputValidationError } from "../core/errors.js";
import { isTopicId } from "../klaviyo/webhooks.js";
import { defineAction } from "./define.js";
import { distinctIdList, type InputDefinition, input } from "./inputs.js";
import { listOutput } from "./list.js";

const TOPIC_EXAMPLE = "event:klaviyo.subscribed_to_email_marketing";
const ACCESS =
  "Only accounts with Advanced KDP (and app partners) may use Klaviyo's webhooks; others fail with a PermissionDeniedError (403).";

const webhookId = () =>
  input.id({
    key: "webhookId",
    label: "Webhook ID",
    comments:
      "The ID Klaviyo gave the webhook, such as 01HF7AYTK76RHR4F17G6DGTRGF (Create Webhook and List Webhooks return it).",
    example: "01HF7AYTK76RHR4F17G6DGTRGF",
  });

const includeTopics = () =>
  input.boolean({
    key: "includeTopics",
    label: "Include Topics",
    comments:
      "Also return the webhook's topics as resources in the result's included array (Klaviyo's include=webhook-topics); each webhook lists its topics' IDs in its relationships either way. Off (false) by default.",
    example: "true",
  });

/** Topic IDs: a list, or text separated by commas or spaces; each of the form `event:<integration>.<metric>`. */
const topicIdsSchema = distinctIdList({ singular: "topic ID", plural: "topic IDs" }, (id) =>
  isTopicId(id)
    ? undefined
    : `is not a topic ID: event:<integration>.<metric in snake case>, such as ${TOPIC_EXAMPLE} (List Webhook Topics lists the account's)`,
);

const topics = <const R extends boolean>(required: R, comments: string) =>
  input.json<string[], R>(
    { key: "topics", label: "Topics", required, comments, example: TOPIC_EXAMPLE },
    topicIdsSchema,
    "each item checked as a topic ID: event:<integration>.<metric in snake case>",
  ) as InputDefinition<string[], R>;

const name = <const R extends boolean>(required: R, comments: string) =>
  input.nonBlank({ key: "name", label: "Name", required, comments, example: "Consent to CRM" });

const endpointUrl = <const R extends boolean>(required: R, comments: string) =>
  input.text(
    {
      key: "endpointUrl",
      label: "Endpoint URL",
      required,
      comments,
      example: "https://hooks.example.com/klaviyo",
    },
    "url",
  );

const secretKey = <const R extends boolean>(required: R, comments: string) =>
  input.secret({ key: "secretKey", label: "Secret Key", required, comments });

const description = (comments: string) =>
  input.text({ key: "description", label: "Description", comments, example: "Consent changes to the CRM" });

const topicRelationship = (ids: readonly string[]) => ({
  "webhook-topics": { data: ids.map((id) => ({ type: "webhook-topic" as const, id })) },
});

/** `GET /api/webhooks` (1/s, 15/m; every webhook in one answer). */
export const listWebhooks = defineAction({
  key: "list-webhooks",
  label: "List Webhooks",
  description: `Lists the account's system webhooks (Klaviyo answers with all of them at once): each with its name, description, whether it is enabled, its endpoint URL truncated to its host (https://hooks.example.com/*****; Klaviyo never shows the rest, nor the Secret Key), creation and update times, and its topics' IDs in its relationships. ${ACCESS} Limited to 1 request per second, 15 per minute. Needs the webhooks:read scope.`,
  operation: "get_webhooks",
  inputs: { includeTopics: includeTopics() },
  async perform(ctx, { includeTopics }) {
    return listOutput(ctx, { query: { include: includeTopics ? "webhook-topics" : undefined } }, {});
  },
});

/** `GET /api/webhooks/{id}` (1/s, 15/m). */
export const getWebhook = defineAction({
  key: "get-webhook",
  label: "Get Webhook",
  description: `Fetches one system webhook by its ID: name, description, whether it is enabled, its endpoint URL truncated to its host (never the Secret Key), creation and update times, and its topics. Fails with a NotFoundError when no webhook has that ID (for example after Delete Webhook). ${ACCESS} Limited to 1 request per second, 15 per minute. Needs the webhooks:read scope.`,
  operation: "get_webhook",
  inputs: { webhookId: webhookId(), includeTopics: includeTopics() },
  async perform({ send }, { webhookId, includeTopics }) {
    const res = await send({
      path: { id: webhookId },
      query: { include: includeTopics ? "webhook-topics" : undefined },
    });
    return res.body;
  },
});

/** `POST /api/webhooks` (1/s, 15/m; 201). */
export const createWebhook = defineAction({
  key: "create-webhook",
  label: "Create Webhook",
  description: `Creates a system webhook: from then on Klaviyo POSTs the events of its Topics (consent changes, email and SMS engagement, custom metrics) to the Endpoint URL, in batches, each delivery signed with the Secret Key (HMAC-SHA256 of the raw body and the Klaviyo-Timestamp header; verify with verifyWebhook). The webhook starts enabled (Update Webhook can disable it). Returns it with its new ID; the Secret Key is never returned and the URL comes back truncated to its host. Klaviyo requires an https endpoint (the local emulator also takes http on a loopback host, for development). ${ACCESS} Limited to 1 request per second, 15 per minute. Needs the webhooks:write scope.`,
  operation: "create_webhook",
  inputs: {
    name: name(true, "The webhook's name as Klaviyo shows it, such as Consent to CRM. Must not be blank."),
    endpointUrl: endpointUrl(
      true,
      "Where Klaviyo sends the deliveries: an https URL that answers 2xx within 5 seconds, such as https://hooks.example.com/klaviyo. Klaviyo shows it back truncated to its host.",
    ),
    secretKey: secretKey(
      true,
      "The key Klaviyo signs each delivery with; your receiver verifies with the same key. Make it long and random (e.g. 32 random bytes, base64). Kept exactly as given, never printed and never returned by Klaviyo: store it yourself.",
    ),
    topics: topics(
      true,
      `The topics to deliver, by ID (event:<integration>.<metric>, such as ${TOPIC_EXAMPLE}, or event:api.<metric> for a custom metric), as a JSON array or text separated by commas. List Webhook Topics lists the account's. A topic given twice is sent once.`,
    ),
    description: description(
      "What the webhook is for, in your words, such as Consent changes to the CRM. Optional.",
    ),
  },
  async perform({ send }, { name, endpointUrl, secretKey, topics, description }) {
    const res = await send({
      body: {
        data: {
          type: "webhook",
          attributes: {
            name,
            endpoint_url: endpointUrl,
            secret_key: secretKey,
            ...(description !== undefined ? { description } : {}),
          },
          relationships: topicRelationship(topics),
        },
      },
    });
    return res.body;
  },
});

/** `PATCH /api/webhooks/{id}` (1/s, 15/m). */
export const updateWebhook = defineAction({
  key: "update-webhook",
  label: "Update Webhook",
  description: `Changes a system webhook, found by its ID: its name, description, Endpoint URL, Secret Key (to rotate it: have your receiver accept the old and the new key until the change is made), Topics (the whole new list) or whether it is Enabled (a disabled webhook receives nothing until enabled again). Inputs left empty stay as they are. Returns the webhook, without its Secret Key. Fails with a NotFoundError when no webhook has that ID. ${ACCESS} Limited to 1 request per second, 15 per minute. Needs the webhooks:write scope.`,
  operation: "update_webhook",
  inputs: {
    webhookId: webhookId(),
    name: name(false, "A new name for the webhook. Leave empty to keep it."),
    endpointUrl: endpointUrl(false, "A new endpoint (https) for the deliveries. Leave empty to keep it."),
    secretKey: secretKey(
      false,
      "A new key to sign deliveries with, kept exactly as given, never printed and never returned by Klaviyo. Leave empty to keep the current one.",
    ),
    topics: topics(
      false,
      `The topics the webhook delivers from now on (they replace the current ones), by ID such as ${TOPIC_EXAMPLE}, as a JSON array or text separated by commas. Leave empty to keep them.`,
    ),
    description: description("A new description of the webhook. Leave empty to keep it."),
    enabled: input.boolean({
      key: "enabled",
      label: "Enabled",
      comments:
        "true to deliver, false to stop delivering (events recorded while disabled are not sent later). Leave empty to keep it as it is.",
      example: "false",
    }),
  },
  async perform({ send }, { webhookId, name, endpointUrl, secretKey, topics, description, enabled }) {
    const attributes: Record<string, unknown> = {};
    if (name !== undefined) attributes.name = name;
    if (description !== undefined) attributes.description = description;
    if (endpointUrl !== undefined) attributes.endpoint_url = endpointUrl;
    if (secretKey !== undefined) attributes.secret_key = secretKey;
    if (enabled !== undefined) attributes.enabled = enabled;
    if (Object.keys(attributes).length === 0 && topics === undefined) {
      const nothing: InputIssue = {
        label: "",
        key: "",
        message:
          "nothing to change: give at least one of Name, Endpoint URL, Secret Key, Topics, Description or Enabled",
      };
      throw new InputValidationError([nothing], "Update Webhook");
    }
    const res = await send({
      path: { id: webhookId },
      body: {
        data: {
          type: "webhook",
          id: webhookId,
          attributes,
          ...(topics !== undefined ? { relationships: topicRelationship(topics) } : {}),
        },
      },
    });
    return res.body;
  },
});

/** `DELETE /api/webhooks/{id}` (1/s, 15/m; 204). */
export const deleteWebhook = defineAction({
  key: "delete-webhook",
  label: "Delete Webhook",
  description: `Deletes a system webhook by its ID, for good: Klaviyo stops delivering to it. Klaviyo answers 204 with no body; the result is { deleted: true, id }. Fails with a NotFoundError when no webhook has that ID (for example when it was already deleted). ${ACCESS} Limited to 1 request per second, 15 per minute. Needs the webhooks:write scope.`,
  operation: "delete_webhook",
  inputs: { webhookId: webhookId() },
  async perform({ send }, { webhookId }) {
    await send({ path: { id: webhookId } });
    return { deleted: true as const, id: webhookId };
  },
});

/** `GET /api/webhook-topics` (1/s, 15/m; every topic in one answer). */
export const listWebhookTopics = defineAction({
  key: "list-webhook-topics",
  label: "List Webhook Topics",
  description: `Lists the topics a system webhook of this account can subscribe to, by ID (event:klaviyo.subscribed_to_email_marketing, event:klaviyo.received_email, event:api.<metric> for custom metrics, …). Topics follow the account's metrics, so they come and go with them. ${ACCESS} Limited to 1 request per second, 15 per minute. Needs the webhooks:read scope.`,
  operation: "get_webhook_topics",
  inputs: {},
  async perform(ctx) {
    return listOutput(ctx, {}, {});
  },
});
