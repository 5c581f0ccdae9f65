/**
 * The bodies of Bulk Subscribe and Bulk Unsubscribe Profiles, as Klaviyo's schema declares them (consent
 * literals `SUBSCRIBED` / `UNSUBSCRIBED`, channels email, sms, whatsapp, push), with the limits on profiles
 * per job (1,000 / 100) that Klaviyo enforces but the schema only states in prose.
 */
import * as v from "valibot";
import { RFC3339_DATETIME_OR_LOCAL } from "../../klaviyo/formats.js";
import type { Schema } from "../../klaviyo/schema.js";

export const MAX_SUBSCRIBE_PROFILES = 1000;
export const MAX_UNSUBSCRIBE_PROFILES = 100;

const identifier = v.optional(v.nullable(v.string()));
const datetime = v.pipe(v.string(), v.regex(RFC3339_DATETIME_OR_LOCAL));

const subscribed = v.strictObject({
  consent: v.literal("SUBSCRIBED"),
  consented_at: v.optional(v.nullable(datetime)),
});
const unsubscribed = v.strictObject({ consent: v.literal("UNSUBSCRIBED") });

const pushToken = v.strictObject({
  token: v.string(),
  platform: v.picklist(["android", "ios"]),
  vendor: v.picklist(["apns", "fcm"]),
  enablement_status: v.optional(
    v.nullable(v.picklist(["AUTHORIZED", "DENIED", "NOT_DETERMINED", "PROVISIONAL", "UNAUTHORIZED"])),
  ),
  background: v.optional(v.nullable(v.picklist(["AVAILABLE", "DENIED", "RESTRICTED"]))),
  device_metadata: v.optional(v.record(v.string(), v.unknown())),
});

const subscribeChannels = v.strictObject({
  email: v.optional(
    v.strictObject({
      marketing: v.optional(subscribed),
      open_tracking: v.optional(v.strictObject({ consent: v.literal("SUBSCRIBED") })),
    }),
  ),
  sms: v.optional(
    v.strictObject({ marketing: v.optional(subscribed), transactional: v.optional(subscribed) }),
  ),
  whatsapp: v.optional(
    v.strictObject({ marketing: v.optional(subscribed), transactional: v.optional(subscribed) }),
  ),
  push: v.optional(
    v.strictObject({
      marketing: subscribed,
      tokens: v.optional(v.nullable(v.array(pushToken))),
      anonymous_id: identifier,
    }),
  ),
});

const unsubscribeChannels = v.strictObject({
  email: v.optional(
    v.strictObject({ marketing: v.optional(unsubscribed), open_tracking: v.optional(unsubscribed) }),
  ),
  sms: v.optional(
    v.strictObject({ marketing: v.optional(unsubscribed), transactional: v.optional(unsubscribed) }),
  ),
  whatsapp: v.optional(
    v.strictObject({
      marketing: v.optional(unsubscribed),
      transactional: v.optional(unsubscribed),
      conversational: v.optional(unsubscribed),
    }),
  ),
  push: v.optional(v.strictObject({ marketing: unsubscribed, tokens: v.array(pushToken) })),
});

const listRelationship = v.optional(
  v.strictObject({
    list: v.strictObject({
      data: v.strictObject({ type: v.literal("list"), id: v.pipe(v.string(), v.minLength(1)) }),
    }),
  }),
);

function profiles<T extends Schema>(item: T, max: number) {
  return v.strictObject({
    data: v.pipe(
      v.array(item),
      v.minLength(1, "At least one profile is required."),
      v.maxLength(max, `At most ${max} profiles can be given per job.`),
    ),
  });
}

export const subscribeBody = v.strictObject({
  data: v.strictObject({
    type: v.literal("profile-subscription-bulk-create-job"),
    attributes: v.strictObject({
      custom_source: v.optional(v.nullable(v.string())),
      profiles: profiles(
        v.strictObject({
          type: v.literal("profile"),
          id: identifier,
          attributes: v.strictObject({
            email: identifier,
            phone_number: identifier,
            subscriptions: subscribeChannels,
            age_gated_date_of_birth: v.optional(v.nullable(v.pipe(v.string(), v.isoDate()))),
          }),
        }),
        MAX_SUBSCRIBE_PROFILES,
      ),
      historical_import: v.optional(v.nullable(v.boolean())),
    }),
    relationships: listRelationship,
  }),
});

export const unsubscribeBody = v.strictObject({
  data: v.strictObject({
    type: v.literal("profile-subscription-bulk-delete-job"),
    attributes: v.strictObject({
      profiles: profiles(
        v.strictObject({
          type: v.literal("profile"),
          attributes: v.strictObject({
            email: identifier,
            phone_number: identifier,
            subscriptions: unsubscribeChannels,
          }),
        }),
        MAX_UNSUBSCRIBE_PROFILES,
      ),
    }),
    relationships: listRelationship,
  }),
});

export type SubscribeBody = v.InferOutput<typeof subscribeBody>;
export type SubscribeProfile = SubscribeBody["data"]["attributes"]["profiles"]["data"][number];
export type SubscribeChannels = v.InferOutput<typeof subscribeChannels>;
export type UnsubscribeBody = v.InferOutput<typeof unsubscribeBody>;
export type UnsubscribeProfile = UnsubscribeBody["data"]["attributes"]["profiles"]["data"][number];
export type UnsubscribeChannels = v.InferOutput<typeof unsubscribeChannels>;
