/**
 * What identifies a Klaviyo profile, and the formats Klaviyo checks, in one place: the actions validate input
 * with them before sending, and the emulator refuses with them what Klaviyo refuses.
 */

/** Attributes that identify a profile, in the order Klaviyo matches them (it also accepts the profile's `id`). */
export const PROFILE_IDENTIFIERS = ["email", "phone_number", "external_id", "anonymous_id", "_kx"] as const;

/** E.164: a plus, a country code not starting with 0, up to 15 digits in all. */
export const E164 = /^\+[1-9]\d{6,14}$/;

/** An email address as Klaviyo accepts it: one `@`, no spaces, a dot in the domain. */
export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@.]+$/;

/** The dynamic values a campaign's custom tracking parameter may take (`custom_tracking_params[].value`). */
export const TRACKING_DYNAMIC_VALUES = [
  "campaign_id",
  "campaign_name",
  "campaign_name_id",
  "campaign_name_send_day",
  "email_subject",
  "group_id",
  "group_name",
  "group_name_id",
  "link_alt_text",
  "message_type",
  "profile_external_id",
  "profile_id",
] as const;
