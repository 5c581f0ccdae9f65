/**
 * Campaigns and their messages as Klaviyo stores and returns them: a new campaign is a Draft, not archived,
 * with Klaviyo's defaults filled in (immediate send, smart sending on, open/click tracking on for email), and
 * every message definition is returned in its full response shape (absent members null, render and push
 * options with their documented defaults).
 */
import type { Included, JsonApiResource } from "../documents.js";
import { relationshipLinks, resource } from "../documents.js";
import type { QueryContext } from "../query.js";
import type { CampaignMessageRow, CampaignRow, EmulatorState } from "../state.js";
import { isoNow, ulid } from "../store.js";
import type {
  MessageCreateInput,
  MessageDefinitionInput,
  SendStrategyInput,
  TrackingOptionsInput,
} from "./campaigns-schema.js";
import { tagsRelationship } from "./tags-model.js";

export const CAMPAIGN_PATH = "campaigns";
export const MESSAGE_PATH = "campaign-messages";

export type Channel = "email" | "sms" | "mobile_push";

/** A message row with the image its definition uses (SMS media, push), kept beside the wire attributes. */
export interface MessageRow extends CampaignMessageRow {
  imageId?: string | null;
}

type Problem = { pointer: string; detail: string };

/** Ids among `ids` that name neither a list nor a segment, as problems at `base/<index>`. */
export function audienceProblems(
  state: EmulatorState,
  ids: readonly string[] | null | undefined,
  base: string,
): Problem[] {
  return (ids ?? []).flatMap((id, i) =>
    state.lists.get(id) || state.segments.get(id)
      ? []
      : [{ pointer: `${base}/${i}`, detail: `There is no list or segment with id '${id}'.` }],
  );
}

/** Open and click tracking exist for email only; SMS and push campaigns that set them are refused. */
export function trackingProblems(
  channel: Channel,
  tracking: TrackingOptionsInput | null | undefined,
): Problem[] {
  if (channel === "email" || !tracking) return [];
  return (["is_tracking_clicks", "is_tracking_opens"] as const)
    .filter((key) => tracking[key] != null)
    .map((key) => ({
      pointer: `/data/attributes/tracking_options/${key}`,
      detail: `'${key}' applies to email campaigns only; this is a ${channel} campaign.`,
    }));
}

/** The channel of a stored campaign: that of its messages (a campaign has one channel). */
export function campaignChannel(state: EmulatorState, row: CampaignRow): Channel | undefined {
  const first = row.messageIds[0];
  const definition = first ? state.campaignMessages.get(first)?.attributes.definition : undefined;
  const channel = (definition as { channel?: unknown } | undefined)?.channel;
  return channel === "email" || channel === "sms" || channel === "mobile_push" ? channel : undefined;
}

/**
 * The tracking options of a campaign of `channel`: what the request set, over what the campaign had
 * (`current`, on update) or Klaviyo's defaults.
 */
export function trackingOptions(
  channel: Channel,
  given: TrackingOptionsInput | null | undefined,
  current?: unknown,
): unknown {
  if (channel === "mobile_push" && !given) return null;
  const base: Record<string, unknown> = { add_tracking_params: false, custom_tracking_params: null };
  if (channel === "email") Object.assign(base, { is_tracking_clicks: true, is_tracking_opens: true });
  if (typeof current === "object" && current !== null) Object.assign(base, current);
  for (const [key, value] of Object.entries(given ?? {})) if (value != null) base[key] = value;
  return base;
}

/** `send_strategy` as stored (immediate when none is given) and the `send_time` it implies. */
export function strategy(given: SendStrategyInput | null | undefined): {
  send_strategy: unknown;
  send_time: string | null;
} {
  const chosen = given ?? { method: "immediate" as const };
  const send_time = chosen.method === "static" || chosen.method === "throttled" ? chosen.datetime : null;
  return { send_strategy: chosen, send_time };
}

/** The full response shape of a message definition. */
function definitionOf(input: MessageDefinitionInput, campaignName: string, mediaUrl: string | null): unknown {
  switch (input.channel) {
    case "email": {
      const c = input.content ?? {};
      return {
        channel: "email",
        // A message always has a label in Klaviyo; without one it takes the campaign's name.
        label: input.label ?? campaignName,
        content: {
          subject: c.subject ?? null,
          preview_text: c.preview_text ?? null,
          from_email: c.from_email ?? null,
          from_label: c.from_label ?? null,
          reply_to_email: c.reply_to_email ?? null,
          cc_email: c.cc_email ?? null,
          bcc_email: c.bcc_email ?? null,
        },
      };
    }
    case "sms": {
      const r = input.render_options ?? {};
      return {
        channel: "sms",
        content: { body: input.content?.body ?? null, media_url: mediaUrl },
        render_options: {
          shorten_links: r.shorten_links ?? true,
          add_org_prefix: r.add_org_prefix ?? true,
          add_info_link: r.add_info_link ?? true,
          add_opt_out_language: r.add_opt_out_language ?? false,
        },
      };
    }
    default: {
      if (input.notification_type === "silent") {
        return { channel: "mobile_push", notification_type: "silent", kv_pairs: input.kv_pairs ?? null };
      }
      const o = input.options ?? {};
      return {
        channel: "mobile_push",
        notification_type: "standard",
        content: {
          title: input.content.title ?? null,
          body: input.content.body,
          dynamic_image: input.content.dynamic_image ?? null,
          action_buttons: input.content.action_buttons ?? null,
        },
        kv_pairs: input.kv_pairs ?? null,
        options: { on_open: o.on_open ?? null, badge: o.badge ?? null, play_sound: o.play_sound ?? false },
      };
    }
  }
}

/** Stores a message of campaign `campaign`. */
export function insertMessage(
  state: EmulatorState,
  campaign: { id: string; name: string },
  input: MessageCreateInput,
  now: number,
): MessageRow {
  const stamp = isoNow(now);
  const imageId = input.relationships?.image?.data?.id ?? null;
  const image = imageId ? state.images.get(imageId) : undefined;
  const mediaUrl = typeof image?.attributes.image_url === "string" ? image.attributes.image_url : null;
  const row: MessageRow = {
    id: ulid(now),
    seq: state.campaignMessages.seq(),
    campaignId: campaign.id,
    templateId: null,
    imageId,
    attributes: {
      definition: definitionOf(input.attributes.definition, campaign.name, mediaUrl),
      send_times: [],
      created_at: stamp,
      updated_at: stamp,
    },
  };
  state.campaignMessages.insert(row);
  return row;
}

/** Creates the campaign row (a Draft), without messages. */
export function newCampaign(
  state: EmulatorState,
  attributes: Record<string, unknown>,
  now: number,
): CampaignRow {
  const stamp = isoNow(now);
  return state.campaigns.insert({
    id: ulid(now),
    seq: state.campaigns.seq(),
    messageIds: [],
    attributes: {
      status: "Draft",
      archived: false,
      ...attributes,
      created_at: stamp,
      scheduled_at: null,
      updated_at: stamp,
    },
  });
}

/**
 * Archives a campaign, or brings it back (`archived: false`): **emulator-only**. Klaviyo archives campaigns from
 * its app; its API has no operation that does (Update Campaign's body has no `archived`), so tests and seeds
 * reach this through the admin route `PUT /__emulator/campaigns/{id}/archived` or `emulator.archiveCampaign`.
 * Whether archiving moves `updated_at` on Klaviyo is not documented: by default it does here (the archiving is a
 * change a reader of `updated_at` should see), and `touch: false` leaves `updated_at` as it was.
 */
export function setCampaignArchived(
  row: CampaignRow,
  archived: boolean,
  now: number,
  touch = true,
): CampaignRow {
  row.attributes = {
    ...row.attributes,
    archived,
    ...(touch ? { updated_at: isoNow(now) } : {}),
  };
  return row;
}

/** Deletes a campaign and its messages. */
export function deleteCampaign(state: EmulatorState, row: CampaignRow): void {
  for (const id of row.messageIds) state.campaignMessages.delete(id);
  for (const message of state.campaignMessages.values()) {
    if (message.campaignId === row.id) state.campaignMessages.delete(message.id);
  }
  state.campaigns.delete(row.id);
}

const pick = (attributes: Record<string, unknown>, keys: readonly string[]) =>
  Object.fromEntries(keys.map((k) => [k, attributes[k] ?? null]));

/** The campaign-message resource object, with its campaign, template and image relationships. */
export function renderMessage(state: EmulatorState, row: MessageRow, query: QueryContext): JsonApiResource {
  const link = (relation: string) => relationshipLinks(query, MESSAGE_PATH, row.id, relation);
  const imageId = row.imageId && state.images.get(row.imageId) ? row.imageId : undefined;
  return resource(query, "campaign-message", MESSAGE_PATH, row.id, row.attributes, {
    campaign: { data: { type: "campaign", id: row.campaignId }, links: link("campaign") },
    template: {
      ...(row.templateId ? { data: { type: "template", id: row.templateId } } : {}),
      links: link("template"),
    },
    image: { ...(imageId ? { data: { type: "image", id: imageId } } : {}), links: link("image") },
  });
}

/** What `include=campaign|template|image` adds for a message (Get Campaign Message). */
export function includeForMessage(
  state: EmulatorState,
  row: MessageRow,
  query: QueryContext,
  included: Included,
): void {
  const campaign = state.campaigns.get(row.campaignId);
  if (query.include.has("campaign") && campaign) included.add(renderCampaign(state, campaign, query));
  const template = row.templateId ? state.templates.get(row.templateId) : undefined;
  if (query.include.has("template") && template) {
    const keys = ["name", "editor_type", "html", "text", "amp", "created", "updated"];
    included.add(resource(query, "template", "templates", template.id, pick(template.attributes, keys)));
  }
  const image = row.imageId ? state.images.get(row.imageId) : undefined;
  if (query.include.has("image") && image) {
    const keys = ["name", "image_url", "format", "size", "hidden", "updated_at"];
    included.add(resource(query, "image", "images", image.id, pick(image.attributes, keys)));
  }
}

/** The campaign resource object; with `include=campaign-messages` its messages go to `included`. */
export function renderCampaign(
  state: EmulatorState,
  row: CampaignRow,
  query: QueryContext,
  included?: Included,
): JsonApiResource {
  const link = (relation: string) => relationshipLinks(query, CAMPAIGN_PATH, row.id, relation);
  if (included && query.include.has("campaign-messages")) {
    for (const id of row.messageIds) {
      const message = state.campaignMessages.get(id);
      if (message) included.add(renderMessage(state, message, query));
    }
  }
  return resource(query, "campaign", CAMPAIGN_PATH, row.id, row.attributes, {
    "campaign-messages": {
      data: row.messageIds.map((id) => ({ type: "campaign-message", id })),
      links: link("campaign-messages"),
    },
    tags: tagsRelationship(state, "campaigns", row.id, query, link("tags"), included, true),
  });
}
