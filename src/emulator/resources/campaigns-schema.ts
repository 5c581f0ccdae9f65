/**
 * The request documents of Create and Update Campaign as Klaviyo's OpenAPI document defines them
 * (`CampaignCreateQuery`, `CampaignPartialUpdateQuery`): messages nested in `attributes["campaign-messages"]`,
 * message definitions chosen by `channel` (and `notification_type` for push), send strategies by `method`.
 * Unknown members are refused, with pointers, as Klaviyo refuses them.
 */

import * as v from "valibot";
import { TRACKING_DYNAMIC_VALUES } from "../../klaviyo/identifiers.js";
import { choice, dateTime } from "../../klaviyo/segment-filters.js";

const text = v.nullish(v.string());
const flag = v.nullish(v.boolean());

const emailDefinition = v.strictObject({
  channel: v.literal("email"),
  label: text,
  content: v.optional(
    v.strictObject({
      subject: text,
      preview_text: text,
      from_email: text,
      from_label: text,
      reply_to_email: text,
      cc_email: text,
      bcc_email: text,
    }),
  ),
});

const smsDefinition = v.strictObject({
  channel: v.literal("sms"),
  content: v.optional(v.strictObject({ body: text })),
  render_options: v.optional(
    v.strictObject({
      shorten_links: flag,
      add_org_prefix: flag,
      add_info_link: flag,
      add_opt_out_language: flag,
    }),
  ),
});

const onOpen = choice("type", "on_open type", [
  v.strictObject({ type: v.literal("open_app") }),
  v.strictObject({ type: v.literal("deep_link"), ios_deep_link: text, android_deep_link: text }),
  v.strictObject({ type: v.literal("open_web_url"), web_url: text }),
]);
const badge = choice("display", "badge display", [
  v.strictObject({
    display: v.literal(true),
    badge_options: v.nullish(
      choice("badge_config", "badge_config", [
        v.strictObject({ badge_config: v.literal("increment_one") }),
        v.strictObject({ badge_config: v.literal("set_count"), value: v.string() }),
        v.strictObject({ badge_config: v.literal("set_property"), set_from_property: v.string() }),
      ]),
    ),
  }),
  v.strictObject({ display: v.literal(false) }),
]);
const kvPairs = v.nullish(v.record(v.string(), v.unknown()));

const pushStandard = v.strictObject({
  channel: v.literal("mobile_push"),
  // Absent means a standard notification (the document's default).
  notification_type: v.optional(v.literal("standard")),
  content: v.strictObject({
    title: text,
    body: v.string(),
    dynamic_image: text,
    action_buttons: v.nullish(
      v.array(
        v.strictObject({
          label: v.string(),
          action_type: v.string(),
          position: v.nullish(v.pipe(v.number(), v.finite(), v.integer())),
          url: text,
        }),
      ),
    ),
  }),
  kv_pairs: kvPairs,
  options: v.optional(
    v.strictObject({ on_open: v.nullish(onOpen), badge: v.nullish(badge), play_sound: flag }),
  ),
});
const pushSilent = v.strictObject({
  channel: v.literal("mobile_push"),
  notification_type: v.literal("silent"),
  kv_pairs: kvPairs,
});

/** A message `definition`: email, SMS, or a standard or silent push notification. */
export const messageDefinition = choice("channel", "channel", [
  emailDefinition,
  smsDefinition,
  choice("notification_type", "notification_type", [pushStandard, pushSilent]),
]);

export type MessageDefinitionInput = v.InferOutput<typeof messageDefinition>;

const messageCreate = v.strictObject({
  type: v.literal("campaign-message"),
  attributes: v.strictObject({ definition: messageDefinition }),
  relationships: v.optional(
    v.strictObject({
      image: v.optional(
        v.strictObject({ data: v.optional(v.strictObject({ type: v.literal("image"), id: v.string() })) }),
      ),
    }),
  ),
});

export type MessageCreateInput = v.InferOutput<typeof messageCreate>;

const THROTTLE = [1, 2, 5, 10, 11, 13, 14, 17, 20, 25, 33, 50] as const;

/** `send_strategy`: immediate (the default), static (optionally in each recipient's time zone), throttled, or smart. */
export const sendStrategy = choice("method", "send strategy method", [
  v.strictObject({
    method: v.literal("static"),
    datetime: dateTime,
    options: v.nullish(
      choice("is_local", "is_local", [
        v.strictObject({
          is_local: v.literal(true),
          send_past_recipients_immediately: v.optional(v.boolean()),
        }),
        v.strictObject({ is_local: v.literal(false) }),
      ]),
    ),
  }),
  v.strictObject({
    method: v.literal("throttled"),
    datetime: dateTime,
    throttle_percentage: v.picklist(THROTTLE),
  }),
  v.strictObject({ method: v.literal("immediate") }),
  v.strictObject({ method: v.literal("smart_send_time"), date: v.pipe(v.string(), v.isoDate()) }),
]);

export type SendStrategyInput = v.InferOutput<typeof sendStrategy>;

const sendOptions = v.strictObject({ use_smart_sending: flag });

/** `tracking_options`: the email form; SMS and push campaigns may not set the open/click flags (checked later). */
const trackingOptions = v.strictObject({
  add_tracking_params: flag,
  custom_tracking_params: v.nullish(
    v.array(
      choice("type", "tracking parameter type", [
        v.strictObject({
          type: v.literal("dynamic"),
          value: v.picklist(TRACKING_DYNAMIC_VALUES),
          name: v.string(),
        }),
        v.strictObject({ type: v.literal("static"), value: v.string(), name: v.string() }),
      ]),
    ),
  ),
  is_tracking_clicks: flag,
  is_tracking_opens: flag,
});

export type TrackingOptionsInput = v.InferOutput<typeof trackingOptions>;

const name = v.pipe(v.string(), v.trim(), v.minLength(1, "The campaign name cannot be blank."));

/** `CampaignCreateQuery`. */
export const createCampaignBody = v.strictObject({
  data: v.strictObject({
    type: v.literal("campaign"),
    attributes: v.strictObject({
      name,
      audiences: v.strictObject({ included: v.array(v.string()), excluded: v.nullish(v.array(v.string())) }),
      send_strategy: v.nullish(sendStrategy),
      send_options: v.nullish(sendOptions),
      tracking_options: v.nullish(trackingOptions),
      "campaign-messages": v.strictObject({
        data: v.pipe(v.array(messageCreate), v.minLength(1, "A campaign needs at least one message.")),
      }),
    }),
  }),
});

/** `CampaignPartialUpdateQuery`: messages are not part of it (they have their own endpoint). */
export const updateCampaignBody = v.strictObject({
  data: v.strictObject({
    type: v.literal("campaign"),
    id: v.string(),
    attributes: v.strictObject({
      name: v.nullish(name),
      audiences: v.optional(
        v.strictObject({
          included: v.nullish(v.array(v.string())),
          excluded: v.nullish(v.array(v.string())),
        }),
      ),
      send_options: v.nullish(sendOptions),
      tracking_options: v.nullish(trackingOptions),
      send_strategy: v.nullish(sendStrategy),
      "campaign-messages": v.optional(
        v.never(
          "Campaign messages cannot be changed with Update Campaign; use PATCH /api/campaign-messages/{id}.",
        ),
      ),
    }),
  }),
});
