/**
 * The Activepieces side of the webhook triggers (`./webhook-triggers.ts`): one `TriggerStrategy.WEBHOOK` trigger
 * per topic family, as Activepieces pieces make one trigger per kind of event. Loaded only through
 * `./activepieces.ts`, the piece's entry point.
 *
 * - `onEnable` creates the family's Klaviyo webhook, pointed at the flow's `context.webhookUrl`, with a secret
 *   generated for it, and keeps `{ webhookId, secret, endpointUrl, topics }` in the flow's `context.store`
 *   (enabling again keeps the webhook when nothing changed). An account without webhook access fails with a
 *   message naming the polling triggers that serve instead.
 * - `onDisable` deletes the webhook by the ID kept (never by looking for its URL) and forgets it.
 * - `run` verifies each delivery and returns one item per fresh event (the IDs of events delivered kept in the
 *   store, so a repeated delivery yields nothing new). Activepieces answers Klaviyo itself; a trigger cannot send
 *   a 401, so a forged delivery yields no item (no flow run), which is how Activepieces' own signed triggers refuse
 *   one, and is reported through `onRefused`.
 *
 * The raw body. Activepieces hands a webhook trigger `context.payload.body` (parsed) and, in versions from spring
 * 2025 on (activepieces#7139), `context.payload.rawBody`: the body's text as it arrived. The signature covers
 * those exact bytes, and a body parsed and serialised again is not them (key order, spacing, escapes), so only
 * `rawBody` is verified. Where Activepieces gives no `rawBody` (older versions), the delivery cannot be verified
 * and is refused: no item, rather than events anyone could forge.
 *
 * No `test` function: Activepieces then tests a webhook trigger by simulation (the webhook made for a test URL,
 * a real event awaited), so the sample a flow is built on is a real, verified delivery.
 */
import {
  createTrigger,
  type PieceAuthProperty,
  Property,
  type Trigger,
  TriggerStrategy,
} from "@activepieces/pieces-framework";
import { type ActivepiecesExtrasOptions, clientFor, withoutConnection } from "./activepieces-triggers.js";
import { snakeKey } from "./common.js";
import {
  deploy,
  type ReceiveResult,
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

/** A refused delivery, as `onRefused` is told of it. */
export type RefusedDelivery = Extract<ReceiveResult, { accepted: false }> & { readonly trigger: string };

export interface WebhookTriggerOptions {
  /** Told of each refused delivery (default: a warning on the console, naming the reason, never a secret). */
  readonly onRefused?: (refused: RefusedDelivery) => void;
}

export interface ActivepiecesWebhookOptions extends ActivepiecesExtrasOptions {
  readonly webhookTriggers?: WebhookTriggerOptions;
}

/** Where a trigger keeps its webhook in the flow's store. */
export const WEBHOOK_STORE_KEY = "klaviyo-webhook";
/** Where it keeps the IDs of the events it delivered. */
export const SEEN_EVENTS_STORE_KEY = "klaviyo-webhook-seen-events";

/** The trigger's name in the piece: `webhook_email_engagement`, … */
export function webhookTriggerNameOf(family: WebhookTriggerFamily): string {
  return snakeKey(webhookTriggerKey(family));
}

/** The Topics property of a family that has one: a multi-select of the account's topics of the family. */
function topicsProperty(
  family: WebhookTriggerFamily,
  auth: PieceAuthProperty[],
  options: ActivepiecesWebhookOptions,
) {
  const def = family.topicsInput;
  if (!def) return undefined;
  return Property.MultiSelectDropdown<string, boolean, PieceAuthProperty[]>({
    displayName: def.label,
    description: def.comments,
    required: def.required,
    auth,
    refreshers: [],
    options: async ({ auth: value }) => {
      const unconnected = withoutConnection(value);
      if (unconnected) return unconnected;
      try {
        const found = await topicOptions(clientFor(value, options), family);
        return {
          disabled: false,
          options: found,
          ...(found.length === 0
            ? { placeholder: `No ${def.pickerLabel.toLowerCase()} in this account` }
            : {}),
        };
      } catch (error) {
        return {
          disabled: true,
          placeholder: `Could not read the topics: ${(error as Error).message}`,
          options: [],
        };
      }
    },
  });
}

/** One family as an Activepieces webhook trigger. */
export function pieceWebhookTrigger(
  family: WebhookTriggerFamily,
  auth: PieceAuthProperty[],
  options: ActivepiecesWebhookOptions,
): Trigger {
  const name = webhookTriggerNameOf(family);
  const label = webhookTriggerLabel(family);
  const topics = topicsProperty(family, auth, options);
  const onRefused =
    options.webhookTriggers?.onRefused ??
    ((refused: RefusedDelivery) =>
      console.warn(`${label}: a delivery was refused (${refused.reason}): ${refused.message}`));
  const inputsOf = (ctx: { propsValue: unknown }) => (ctx.propsValue ?? {}) as Record<string, unknown>;
  return createTrigger({
    name,
    displayName: label,
    description: `${webhookTriggerDescription(family)} Needs an Activepieces version that hands triggers the raw body (2025 on): without it no delivery can be verified, and none is delivered.`,
    auth,
    props: topics ? { topics } : {},
    type: TriggerStrategy.WEBHOOK,
    sampleData: sampleItem(family),
    async onEnable(ctx) {
      const deployed = await deploy(clientFor(ctx.auth, options), family, {
        endpointUrl: ctx.webhookUrl,
        name: `Activepieces: ${family.label}`,
        description: `Made by the ${label} trigger of the Klaviyo connector; deleted when the flow is turned off.`,
        inputs: inputsOf(ctx),
        previous: await ctx.store.get<unknown>(WEBHOOK_STORE_KEY),
      });
      if (deployed.warning) console.warn(`${label}: ${deployed.warning}`);
      await ctx.store.put(WEBHOOK_STORE_KEY, deployed.state);
    },
    async onDisable(ctx) {
      const kept = stateOf(await ctx.store.get<unknown>(WEBHOOK_STORE_KEY));
      if (kept) await unsubscribe(clientFor(ctx.auth, options), kept);
      await ctx.store.delete(WEBHOOK_STORE_KEY);
      await ctx.store.delete(SEEN_EVENTS_STORE_KEY);
    },
    async run(ctx) {
      const payload = ctx.payload as { rawBody?: unknown; headers?: Record<string, string> };
      const seen = seenIdsStore(await ctx.store.get<unknown>(SEEN_EVENTS_STORE_KEY));
      const result = await receive(
        await ctx.store.get<unknown>(WEBHOOK_STORE_KEY),
        payload.rawBody,
        payload.headers ?? {},
        { dedupe: seen },
      );
      if (!result.accepted) {
        onRefused({ ...result, trigger: name });
        return [];
      }
      if (result.items.length > 0) await ctx.store.put(SEEN_EVENTS_STORE_KEY, seen.ids());
      return result.items;
    },
  }) as Trigger;
}

/** One webhook trigger per topic family. */
export function pieceWebhookTriggers(
  auth: PieceAuthProperty[],
  options: ActivepiecesWebhookOptions,
): Trigger[] {
  return WEBHOOK_FAMILIES.map((family) => pieceWebhookTrigger(family, auth, options));
}
