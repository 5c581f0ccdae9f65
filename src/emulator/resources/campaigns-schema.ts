/**
 * The request documents of Create and Update Campaign as Klaviyo's OpenAPI document defines them
 * (`CampaignCreateQuery`, `CampaignPartialUpdateQuery`): messages nested in `attributes["campaign-messages"]`,
 * message definitions chosen by `channel` (and `notification_type` for push), send strategies by `method`.
 * Unknown members are refused, with pointers, as Klaviyo refuses them.
 */

import * as z from "zod/mini";
import { TRACKING_DYNAMIC_VALUES } from "../../klaviyo/identifiers.js";
import { choice, dateTime } from "../../klaviyo/segment-filters.js";

const text = z.nullish(z.string());
const flag = z.nullish(z.boolean());

const emailDefinition = z.strictObject({
  channel: z.literal("email"),
  label: text,
  content: z.optional(z
    .strictObject({
      subject: text,
      preview_text: text,
      from_email: text,
      from_label: text,
      reply_to_email: text,
      cc_email: text,
      bcc_email: text,
    })),
});

const smsDefinition = z.strictObject({
  channel: z.literal("sms"),
  content: z.optional(z.strictObject({ body: text })),
  render_options: z.optional(z
    .strictObject({
      shorten_links: flag,
      add_org_prefix: flag,
      add_info_link: flag,
      add_opt_out_language: flag,
    })),
});

const onOpen = choice("type", "on_open type", [
  z.strictObject({ type: z.literal("open_app") }),
  z.strictObject({ type: z.literal("deep_link"), ios_deep_link: text, android_deep_link: text }),
  z.strictObject({ type: z.literal("open_web_url"), web_url: text }),
]);
const badge = choice("display", "badge display", [
  z.strictObject({
    display: z.literal(true),
    badge_options: z.nullish(
      choice("badge_config", "badge_config", [
        z.strictObject({ badge_config: z.literal("increment_one") }),
        z.strictObject({ badge_config: z.literal("set_count"), value: z.string() }),
        z.strictObject({ badge_config: z.literal("set_property"), set_from_property: z.string() }),
      ]),
    ),
  }),
  z.strictObject({ display: z.literal(false) }),
]);
const kvPairs = z.nullish(z.record(z.string(), z.unknown()));

const pushStandard = z.strictObject({
  channel: z.literal("mobile_push"),
  // Absent means a standard notification (the document's default).
  notification_type: z.optional(z.literal("standard")),
  content: z.strictObject({
    title: text,
    body: z.string(),
    dynamic_image: text,
    action_buttons: z.nullish(z
      .array(
        z.strictObject({
          label: z.string(),
          action_type: z.string(),
          position: z.nullish(z.int()),
          url: text,
        }),
      )),
  }),
  kv_pairs: kvPairs,
  options: z.optional(z
    .strictObject({ on_open: z.nullish(onOpen), badge: z.nullish(badge), play_sound: flag })),
});
const pushSilent = z.strictObject({
  channel: z.literal("mobile_push"),
  notification_type: z.literal("silent"),
  kv_pairs: kvPairs,
});

/** A message `definition`: email, SMS, or a standard or silent push notification. */
export const messageDefinition = choice("channel", "channel", [
  emailDefinition,
  smsDefinition,
  choice("notification_type", "notification_type", [pushStandard, pushSilent]),
]);

export type MessageDefinitionInput = z.output<typeof messageDefinition>;

const messageCreate = z.strictObject({
  type: z.literal("campaign-message"),
  attributes: z.strictObject({ definition: messageDefinition }),
  relationships: z.optional(z
    .strictObject({
      image: z.optional(z
        .strictObject({ data: z.optional(z.strictObject({ type: z.literal("image"), id: z.string() })) })),
    })),
});

export type MessageCreateInput = z.output<typeof messageCreate>;

const THROTTLE = [1, 2, 5, 10, 11, 13, 14, 17, 20, 25, 33, 50] as const;

/** `send_strategy`: immediate (the default), static (optionally in each recipient's time zone), throttled, or smart. */
export const sendStrategy = choice("method", "send strategy method", [
  z.strictObject({
    method: z.literal("static"),
    datetime: dateTime,
    options: z.nullish(
      choice("is_local", "is_local", [
        z.strictObject({
          is_local: z.literal(true),
          send_past_recipients_immediately: z.optional(z.boolean()),
        }),
        z.strictObject({ is_local: z.literal(false) }),
      ]),
    ),
  }),
  z.strictObject({
    method: z.literal("throttled"),
    datetime: dateTime,
    throttle_percentage: z.literal(THROTTLE),
  }),
  z.strictObject({ method: z.literal("immediate") }),
  z.strictObject({ method: z.literal("smart_send_time"), date: z.iso.date() }),
]);

export type SendStrategyInput = z.output<typeof sendStrategy>;

const sendOptions = z.strictObject({ use_smart_sending: flag });

/** `tracking_options`: the email form; SMS and push campaigns may not set the open/click flags (checked later). */
const trackingOptions = z.strictObject({
  add_tracking_params: flag,
  custom_tracking_params: z.nullish(z
    .array(
      choice("type", "tracking parameter type", [
        z.strictObject({
          type: z.literal("dynamic"),
          value: z.enum(TRACKING_DYNAMIC_VALUES),
          name: z.string(),
        }),
        z.strictObject({ type: z.literal("static"), value: z.string(), name: z.string() }),
      ]),
    )),
  is_tracking_clicks: flag,
  is_tracking_opens: flag,
});

export type TrackingOptionsInput = z.output<typeof trackingOptions>;

const name = z.string().check(z.trim(), z.minLength(1, "The campaign name cannot be blank."));

/** `CampaignCreateQuery`. */
export const createCampaignBody = z.strictObject({
  data: z.strictObject({
    type: z.literal("campaign"),
    attributes: z.strictObject({
      name,
      audiences: z.strictObject({ included: z.array(z.string()), excluded: z.nullish(z.array(z.string())) }),
      send_strategy: z.nullish(sendStrategy),
      send_options: z.nullish(sendOptions),
      tracking_options: z.nullish(trackingOptions),
      "campaign-messages": z.strictObject({
        data: z.array(messageCreate).check(z.minLength(1, "A campaign needs at least one message.")),
      }),
    }),
  }),
});

/** `CampaignPartialUpdateQuery`: messages are not part of it (they have their own endpoint). */
export const updateCampaignBody = z.strictObject({
  data: z.strictObject({
    type: z.literal("campaign"),
    id: z.string(),
    attributes: z.strictObject({
      name: z.nullish(name),
      audiences: z.optional(z
        .strictObject({ included: z.nullish(z.array(z.string())), excluded: z.nullish(z.array(z.string())) })),
      send_options: z.nullish(sendOptions),
      tracking_options: z.nullish(trackingOptions),
      send_strategy: z.nullish(sendStrategy),
      "campaign-messages": z.optional(z
        .never({
          error:
            "Campaign messages cannot be changed with Update Campaign; use PATCH /api/campaign-messages/{id}.",
        })),
    }),
  }),
});
