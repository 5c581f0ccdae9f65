/**
 * The bodies of Bulk Subscribe and Bulk Unsubscribe Profiles, as Klaviyo's schema declares them (consent
 * literals `SUBSCRIBED` / `UNSUBSCRIBED`, channels email, sms, whatsapp, push), with the limits on profiles
 * per job (1,000 / 100) that Klaviyo enforces but the schema only states in prose.
 */
import { z } from "zod";

export const MAX_SUBSCRIBE_PROFILES = 1000;
export const MAX_UNSUBSCRIBE_PROFILES = 100;

const identifier = z.string().nullable().optional();
const datetime = z.iso.datetime({ offset: true, local: true });

const subscribed = z.strictObject({
  consent: z.literal("SUBSCRIBED"),
  consented_at: datetime.nullable().optional(),
});
const unsubscribed = z.strictObject({ consent: z.literal("UNSUBSCRIBED") });

const pushToken = z.strictObject({
  token: z.string(),
  platform: z.enum(["android", "ios"]),
  vendor: z.enum(["apns", "fcm"]),
  enablement_status: z
    .enum(["AUTHORIZED", "DENIED", "NOT_DETERMINED", "PROVISIONAL", "UNAUTHORIZED"])
    .nullable()
    .optional(),
  background: z.enum(["AVAILABLE", "DENIED", "RESTRICTED"]).nullable().optional(),
  device_metadata: z.record(z.string(), z.unknown()).optional(),
});

const subscribeChannels = z.strictObject({
  email: z
    .strictObject({
      marketing: subscribed.optional(),
      open_tracking: z.strictObject({ consent: z.literal("SUBSCRIBED") }).optional(),
    })
    .optional(),
  sms: z.strictObject({ marketing: subscribed.optional(), transactional: subscribed.optional() }).optional(),
  whatsapp: z
    .strictObject({ marketing: subscribed.optional(), transactional: subscribed.optional() })
    .optional(),
  push: z
    .strictObject({
      marketing: subscribed,
      tokens: z.array(pushToken).nullable().optional(),
      anonymous_id: identifier,
    })
    .optional(),
});

const unsubscribeChannels = z.strictObject({
  email: z
    .strictObject({ marketing: unsubscribed.optional(), open_tracking: unsubscribed.optional() })
    .optional(),
  sms: z
    .strictObject({ marketing: unsubscribed.optional(), transactional: unsubscribed.optional() })
    .optional(),
  whatsapp: z
    .strictObject({
      marketing: unsubscribed.optional(),
      transactional: unsubscribed.optional(),
      conversational: unsubscribed.optional(),
    })
    .optional(),
  push: z.strictObject({ marketing: unsubscribed, tokens: z.array(pushToken) }).optional(),
});

const listRelationship = z
  .strictObject({
    list: z.strictObject({ data: z.strictObject({ type: z.literal("list"), id: z.string().min(1) }) }),
  })
  .optional();

function profiles<T extends z.Schema>(item: T, max: number) {
  return z.strictObject({
    data: z
      .array(item)
      .min(1, "At least one profile is required.")
      .max(max, `At most ${max} profiles can be given per job.`),
  });
}

export const subscribeBody = z.strictObject({
  data: z.strictObject({
    type: z.literal("profile-subscription-bulk-create-job"),
    attributes: z.strictObject({
      custom_source: z.string().nullable().optional(),
      profiles: profiles(
        z.strictObject({
          type: z.literal("profile"),
          id: identifier,
          attributes: z.strictObject({
            email: identifier,
            phone_number: identifier,
            subscriptions: subscribeChannels,
            age_gated_date_of_birth: z.iso.date().nullable().optional(),
          }),
        }),
        MAX_SUBSCRIBE_PROFILES,
      ),
      historical_import: z.boolean().nullable().optional(),
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
