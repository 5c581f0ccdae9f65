/**
 * The bodies of Bulk Subscribe and Bulk Unsubscribe Profiles, as Klaviyo's schema declares them (consent
 * literals `SUBSCRIBED` / `UNSUBSCRIBED`, channels email, sms, whatsapp, push), with the limits on profiles
 * per job (1,000 / 100) that Klaviyo enforces but the schema only states in prose.
 */
import * as z from "zod/mini";

export const MAX_SUBSCRIBE_PROFILES = 1000;
export const MAX_UNSUBSCRIBE_PROFILES = 100;

const identifier = z.optional(z.nullable(z.string()));
const datetime = z.iso.datetime({ offset: true, local: true });

const subscribed = z.strictObject({
  consent: z.literal("SUBSCRIBED"),
  consented_at: z.optional(z.nullable(datetime)),
});
const unsubscribed = z.strictObject({ consent: z.literal("UNSUBSCRIBED") });

const pushToken = z.strictObject({
  token: z.string(),
  platform: z.enum(["android", "ios"]),
  vendor: z.enum(["apns", "fcm"]),
  enablement_status: z.optional(z.nullable(z
    .enum(["AUTHORIZED", "DENIED", "NOT_DETERMINED", "PROVISIONAL", "UNAUTHORIZED"]))),
  background: z.optional(z.nullable(z.enum(["AVAILABLE", "DENIED", "RESTRICTED"]))),
  device_metadata: z.optional(z.record(z.string(), z.unknown())),
});

const subscribeChannels = z.strictObject({
  email: z.optional(z
    .strictObject({
      marketing: z.optional(subscribed),
      open_tracking: z.optional(z.strictObject({ consent: z.literal("SUBSCRIBED") })),
    })),
  sms: z.optional(z.strictObject({ marketing: z.optional(subscribed), transactional: z.optional(subscribed) })),
  whatsapp: z.optional(z
    .strictObject({ marketing: z.optional(subscribed), transactional: z.optional(subscribed) })),
  push: z.optional(z
    .strictObject({
      marketing: subscribed,
      tokens: z.optional(z.nullable(z.array(pushToken))),
      anonymous_id: identifier,
    })),
});

const unsubscribeChannels = z.strictObject({
  email: z.optional(z
    .strictObject({ marketing: z.optional(unsubscribed), open_tracking: z.optional(unsubscribed) })),
  sms: z.optional(z
    .strictObject({ marketing: z.optional(unsubscribed), transactional: z.optional(unsubscribed) })),
  whatsapp: z.optional(z
    .strictObject({
      marketing: z.optional(unsubscribed),
      transactional: z.optional(unsubscribed),
      conversational: z.optional(unsubscribed),
    })),
  push: z.optional(z.strictObject({ marketing: unsubscribed, tokens: z.array(pushToken) })),
});

const listRelationship = z.optional(z
  .strictObject({
    list: z.strictObject({ data: z.strictObject({ type: z.literal("list"), id: z.string().check(z.minLength(1)) }) }),
  }));

function profiles<T extends z.Schema>(item: T, max: number) {
  return z.strictObject({
    data: z
      .array(item).check(z.minLength(1, "At least one profile is required."), z.maxLength(max, `At most ${max} profiles can be given per job.`)),
  });
}

export const subscribeBody = z.strictObject({
  data: z.strictObject({
    type: z.literal("profile-subscription-bulk-create-job"),
    attributes: z.strictObject({
      custom_source: z.optional(z.nullable(z.string())),
      profiles: profiles(
        z.strictObject({
          type: z.literal("profile"),
          id: identifier,
          attributes: z.strictObject({
            email: identifier,
            phone_number: identifier,
            subscriptions: subscribeChannels,
            age_gated_date_of_birth: z.optional(z.nullable(z.iso.date())),
          }),
        }),
        MAX_SUBSCRIBE_PROFILES,
      ),
      historical_import: z.optional(z.nullable(z.boolean())),
    }),
    relationships: listRelationship,
  }),
});

export const unsubscribeBody = z.strictObject({
  data: z.strictObject({
    type: z.literal("profile-subscription-bulk-delete-job"),
    attributes: z.strictObject({
      profiles: profiles(
        z.strictObject({
          type: z.literal("profile"),
          attributes: z.strictObject({
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

export type SubscribeBody = z.infer<typeof subscribeBody>;
export type SubscribeProfile = SubscribeBody["data"]["attributes"]["profiles"]["data"][number];
export type SubscribeChannels = z.infer<typeof subscribeChannels>;
export type UnsubscribeBody = z.infer<typeof unsubscribeBody>;
export type UnsubscribeProfile = UnsubscribeBody["data"]["attributes"]["profiles"]["data"][number];
export type UnsubscribeChannels = z.infer<typeof unsubscribeChannels>;
