/**
 * The Prismatic component's webhook triggers, one per topic family of the shared catalogue
 * (`./webhook-triggers.ts`, which the Activepieces piece is built from too), with spectral's webhook lifecycle:
 *
 * - `webhookLifecycleHandlers.create` runs when an instance is deployed (and when the designer enters listening
 *   mode): it creates the family's Klaviyo webhook, pointed at the flow's URL (`context.webhookUrls[flow name]`),
 *   with a secret generated for it, and keeps `{ webhookId, secret, endpointUrl, topics }` in the instance's
 *   `crossFlowState` under the flow's stable ID (Prismatic gives the lifecycle handlers no flow-scoped state, and
 *   says to key cross-flow state by the flow). Deploying again keeps the webhook when nothing changed.
 * - `webhookLifecycleHandlers.delete` runs when the instance is removed (or listening mode ends): it deletes the
 *   webhook by the ID kept, never by looking for its URL.
 * - `perform` runs for each delivery: the raw body as it arrived (`payload.rawBody.data`, never the parsed body
 *   serialised again) verified with the secret kept; a genuine delivery becomes one item per fresh event in
 *   `payload.body.data` (the `Events` branch, answered 200), events delivered before being dropped by
 *   `external_id` (the IDs seen kept in the flow's `instanceState`); a forged or unverifiable one is answered 401
 *   (400 when signed but not a delivery), takes the `Refused` branch and carries no item. The trigger declares
 *   batching as the polling triggers do: a flow that batches gets one execution per event (none for a refused
 *   delivery), a flow that does not gets the delivery's events as one list.
 *
 * A Topics input (Custom Metric Events, Any Topics) is offered the account's topics of its family by a data
 * source. An account without webhook access fails the deployment with a message naming the polling triggers
 * that serve instead.
 */

import type {
  ActionContext,
  Connection,
  Element,
  HttpResponse,
  InputFieldDefinition,
  TriggerPayload,
} from "@prismatic-io/spectral";
import spectral from "@prismatic-io/spectral";
import { camelKey } from "./common.js";
import { type ClientForConnection, connectionInput } from "./prismatic-triggers.js";
import {
  deploy,
  receive,
  sampleItem,
  seenIdsStore,
  stateOf,
  topicOptions,
  unsubscribe,
  WEBHOOK_FAMILIES,
  type WebhookTriggerFamily,
  webhookTriggerDescription,
  webhookTriggerKey,
  webhookTriggerLabel,
} from "./webhook-triggers.js";

const { trigger, dataSource, input } = spectral;

export interface PrismaticWebhookTriggerOptions {
  /** The default batch size of a flow that batches (default 1: an execution per event). */
  batchSize?: number;
}

/** The branch of a verified delivery (its events in `payload.body.data`). */
export const EVENTS_BRANCH = "Events";
/** The branch of a refused delivery (answered 401 or 400; no item). */
export const REFUSED_BRANCH = "Refused";

/** Where a flow's webhook is kept in the instance's `crossFlowState`: one key per flow. */
export const WEBHOOK_STATE_PREFIX = "klaviyoWebhook:";
/** Where a flow keeps the IDs of the events it delivered, in its `instanceState`. */
export const SEEN_EVENTS_KEY = "klaviyoWebhookSeenEvents";

/** The trigger's key on the component: `webhookEmailEngagement`, `webhookAnyTopics`, … */
export function webhookTriggerKeyOf(family: WebhookTriggerFamily): string {
  return camelKey(webhookTriggerKey(family));
}

/** The data source of a family's Topics input: `selectCustomMetricTopic`, `selectWebhookTopic`. */
export function topicDataSourceKeyOf(family: WebhookTriggerFamily): string | undefined {
  return family.topicsInput
    ? `select${family.topicsInput.pickerLabel.replace(/[^A-Za-z0-9]/g, "")}`
    : undefined;
}

type FlowOf = { id?: string; name?: string; stableId?: string };

/** The flow's key in `crossFlowState`: by its stable ID (kept across versions), else its ID or name. */
export function webhookStateKey(flow: FlowOf | undefined): string {
  return `${WEBHOOK_STATE_PREFIX}${flow?.stableId || flow?.id || flow?.name || "flow"}`;
}

function topicsInputOf(family: WebhookTriggerFamily): InputFieldDefinition | undefined {
  const def = family.topicsInput;
  if (!def) return undefined;
  return input({
    label: def.label,
    comments: def.comments,
    type: "string",
    collection: "valuelist",
    required: def.required,
    example: family.key === "any-topics" ? "event:klaviyo.opened_email" : "event:api.placed_order",
    dataSource: topicDataSourceKeyOf(family),
  });
}

const jsonResponse = (statusCode: number, body: unknown): HttpResponse => ({
  statusCode,
  contentType: "application/json",
  body: JSON.stringify(body),
});

/** The webhook's name in Klaviyo: the family and where it delivers (instance and flow), for whoever lists them. */
function webhookName(family: WebhookTriggerFamily, context: ActionContext): string {
  const where = [context.instance?.name, context.flow?.name].filter((s) => s).join(" / ");
  return `Prismatic: ${family.label}${where ? ` (${where})` : ""}`.slice(0, 200);
}

function prismaticWebhookTrigger(
  family: WebhookTriggerFamily,
  clientFor: ClientForConnection,
  options: PrismaticWebhookTriggerOptions,
) {
  const label = webhookTriggerLabel(family);
  const topics = topicsInputOf(family);
  const inputs: Record<string, InputFieldDefinition> = {
    connection: connectionInput(),
    ...(topics ? { topics } : {}),
  };
  const example = {
    branch: EVENTS_BRANCH,
    payload: { body: { data: [sampleItem(family)], contentType: "application/json" } },
  };
  return trigger({
    display: { label, description: webhookTriggerDescription(family) },
    inputs,
    scheduleSupport: "invalid",
    synchronousResponseSupport: "invalid",
    allowsBranching: true,
    staticBranchNames: [EVENTS_BRANCH, REFUSED_BRANCH],
    triggerResolverSupport: "valid",
    batchConfig: { batchSize: options.batchSize ?? 1 },
    triggerResolver: {
      // The delivery's fresh events, one item each.
      resolveItems: (_context, result) => {
        const data = result.payload.body?.data;
        return Array.isArray(data) ? data : [];
      },
    },
    examplePayload: example as never,
    perform: async (context, payload: TriggerPayload) => {
      const seen = seenIdsStore(context.instanceState?.[SEEN_EVENTS_KEY]);
      const result = await receive(
        context.crossFlowState?.[webhookStateKey(context.flow)],
        payload.rawBody?.data,
        payload.headers ?? {},
        { dedupe: seen },
      );
      if (!result.accepted) {
        context.logger.warn(`${label}: a delivery was refused (${result.reason}): ${result.message}`);
        return {
          branch: REFUSED_BRANCH,
          payload: { ...payload, body: { data: [], contentType: "application/json" } },
          response: jsonResponse(result.status, { error: result.reason, message: result.message }),
        };
      }
      if (result.duplicates > 0)
        context.logger.info(`${label}: ${result.duplicates} event(s) delivered before were dropped.`);
      return {
        branch: EVENTS_BRANCH,
        payload: { ...payload, body: { data: result.items, contentType: "application/json" } },
        response: jsonResponse(200, { received: result.items.length, duplicates: result.duplicates }),
        instanceState: { ...context.instanceState, [SEEN_EVENTS_KEY]: seen.ids() },
      };
    },
    webhookLifecycleHandlers: {
      create: async (context, params) => {
        const { connection, ...values } = params as Record<string, unknown> & { connection?: Connection };
        const flowName = context.flow?.name ?? "";
        const endpointUrl = context.webhookUrls?.[flowName];
        if (!endpointUrl)
          throw new Error(`${label}: Prismatic gave no webhook URL for the flow "${flowName}".`);
        const key = webhookStateKey(context.flow);
        const deployed = await deploy(clientFor(connection), family, {
          endpointUrl,
          name: webhookName(family, context),
          description: `Made by the ${label} trigger of the Klaviyo connector; deleted when the instance is removed.`,
          inputs: values,
          previous: context.crossFlowState?.[key],
        });
        if (deployed.warning) context.logger.warn(`${label}: ${deployed.warning}`);
        context.logger.info(
          deployed.created
            ? `${label}: Klaviyo webhook ${deployed.state.webhookId} created for ${deployed.state.topics.length} topic(s)${deployed.replaced ? `, replacing ${deployed.replaced}` : ""}.`
            : `${label}: Klaviyo webhook ${deployed.state.webhookId} kept (same URL and topics).`,
        );
        return { crossFlowState: { ...context.crossFlowState, [key]: deployed.state } };
      },
      delete: async (context, params) => {
        const { connection } = params as { connection?: Connection };
        const key = webhookStateKey(context.flow);
        const kept = stateOf(context.crossFlowState?.[key]);
        if (!kept) {
          context.logger.info(`${label}: no Klaviyo webhook kept for this flow; nothing to delete.`);
          return;
        }
        const { deleted } = await unsubscribe(clientFor(connection), kept);
        context.logger.info(
          deleted
            ? `${label}: Klaviyo webhook ${kept.webhookId} deleted.`
            : `${label}: Klaviyo webhook ${kept.webhookId} was already gone.`,
        );
        // null rather than absent: whether Prismatic merges or replaces the state returned, the webhook is forgotten.
        return { crossFlowState: { ...context.crossFlowState, [key]: null } };
      },
    },
  });
}

/** A webhook trigger of the component. */
export type PrismaticWebhookTrigger = ReturnType<typeof prismaticWebhookTrigger>;

/** One webhook trigger per topic family, by `webhookTriggerKeyOf`. */
export function prismaticWebhookTriggers(
  clientFor: ClientForConnection,
  options: PrismaticWebhookTriggerOptions = {},
): Record<string, PrismaticWebhookTrigger> {
  const out: Record<string, PrismaticWebhookTrigger> = {};
  for (const family of WEBHOOK_FAMILIES)
    out[webhookTriggerKeyOf(family)] = prismaticWebhookTrigger(family, clientFor, options);
  return out;
}

function topicDataSource(family: WebhookTriggerFamily, clientFor: ClientForConnection) {
  const picker = family.topicsInput?.pickerLabel ?? "Topic";
  return dataSource({
    display: {
      label: `Select ${picker}`,
      description: `The account's webhook topics for ${webhookTriggerLabel(family)}: ${family.rule}.`,
    },
    dataSourceType: "picklist",
    inputs: {
      connection: connectionInput(),
      search: input({
        label: "Search",
        comments: "Only topics whose name or ID contains this text; empty for all.",
        type: "string",
        required: false,
      }),
    },
    perform: async (_context, params) => {
      const { connection, search } = params as { connection?: Connection; search?: unknown };
      const options = await topicOptions(
        clientFor(connection),
        family,
        typeof search === "string" ? search : undefined,
      );
      const result: Element[] = options.map((o) => ({ key: o.value, label: o.label }));
      return { result };
    },
  });
}

/** A topic data source of the component. */
export type PrismaticTopicDataSource = ReturnType<typeof topicDataSource>;

/** A picklist data source per family with a Topics input, by `topicDataSourceKeyOf`. */
export function prismaticWebhookDataSources(
  clientFor: ClientForConnection,
): Record<string, PrismaticTopicDataSource> {
  const out: Record<string, PrismaticTopicDataSource> = {};
  for (const family of WEBHOOK_FAMILIES) {
    const key = topicDataSourceKeyOf(family);
    if (key) out[key] = topicDataSource(family, clientFor);
  }
  return out;
}
