/**
 * The consent and permission parts of segment conditions (`profile-marketing-consent`'s `consent`,
 * `profile-permissions`'s `permission`), as Klaviyo's OpenAPI document defines them: which subscription states
 * each channel allows, and the filters (status date, method, suppression dates) each state may carry.
 */
import * as z from "zod/mini";
import type { Discriminable, Schema } from "./schema.js";
import { anyDate, booleanFilter, choice, DATE_FILTERS, isSet } from "./segment-filters.js";

const inStrings = z.strictObject({
  type: z.literal("string"),
  operator: z.literal("in"),
  value: z.array(z.string()),
});
const equalsString = z.strictObject({
  type: z.literal("string"),
  operator: z.literal("equals"),
  value: z.nullable(z.string()),
});
const integration = (name: string) =>
  z.strictObject({ type: z.literal("string"), operator: z.literal("in"), value: z.array(z.literal(name)) });

/** `{field: "method", method, filter?}`: how a consent was given or withdrawn. */
function method(name: string, filter?: Schema, required = false) {
  const shape = { field: z.literal("method"), method: z.literal(name) };
  if (!filter) return z.strictObject(shape);
  return z.strictObject({ ...shape, filter: required ? filter : z.optional(filter) });
}
const methods = (...options: ReturnType<typeof method>[]) => choice("method", "method", options);
const dated = (field: string, filter: Schema = anyDate) =>
  z.strictObject({ field: z.literal(field), filter });
const byField = (...options: Discriminable[]) => choice("field", "filter field", options);

const statusDate = dated("status_date");
// Bounce, suppression and invalid-email dates: any date filter, or simply "is set".
const suppressionDate = choice("operator", "date filter operator", [...DATE_FILTERS, isSet]);
const suppressionFilters = [
  dated("bounce_date", suppressionDate),
  dated("manual_suppression_date", suppressionDate),
  dated("invalid_email_date", suppressionDate),
] as const;
const suppressionDates = byField(...suppressionFilters);

const emailSubscribedFilters = byField(
  z.strictObject({ field: z.literal("is_double_opt_in"), filter: booleanFilter }),
  statusDate,
  z.strictObject({ field: z.literal("custom_source"), filter: equalsString }),
  methods(
    method("form", inStrings),
    method("preference_page", equalsString),
    method("api", inStrings),
    method("inbound_message"),
    method("back_in_stock"),
    method("sftp"),
    method("manual_import", inStrings),
    method("manual_add", inStrings),
    method("integration", integration("shopify"), true),
  ),
);
const emailUnsubscribedFilters = byField(
  statusDate,
  ...suppressionFilters,
  methods(
    method("api", inStrings),
    method("inbound_message"),
    method("preference_page"),
    method("manual_remove"),
    method("spam_complaint"),
    method("mailbox_provider"),
    method("one_click_unsubscribe"),
    method("manual_import"),
    method("sftp"),
    method("data_warehouse_import"),
    method("profile_modification"),
    method("integration", integration("constant_contact"), true),
  ),
);
const smsSubscribedFilters = byField(
  statusDate,
  z.strictObject({ field: z.literal("is_rcs_capable"), filter: booleanFilter }),
  methods(
    method("form", inStrings),
    method("manual_import", inStrings),
    method("manual_add", inStrings),
    method("checkout"),
    method("inbound_message"),
    method("preference_page"),
    method("sftp"),
    method("integration", integration("shopify"), true),
  ),
);
const smsUnsubscribedFilters = byField(
  statusDate,
  methods(
    method("form", inStrings),
    method("manual_import", inStrings),
    method("manual_add", inStrings),
    method("manual_remove"),
    method("bulk_remove"),
    method("checkout"),
    method("inbound_message"),
    method("preference_page"),
    method("sftp"),
    method("carrier_deactivation"),
    method("provided_landline"),
    method("message_blocked"),
    method("provided_no_age"),
    method("failed_age_gate"),
    method("integration", integration("shopify"), true),
  ),
);

const status = (subscription: string, filters?: Schema, required = false) =>
  z.strictObject({
    subscription: z.literal(subscription),
    ...(filters ? { filters: required ? z.array(filters) : z.nullish(z.array(filters)) } : {}),
  });
const noFilters = (subscription: string) =>
  z.strictObject({ subscription: z.literal(subscription), filters: z.optional(z.null()) });
const consentStatus = (...options: Discriminable[]) => choice("subscription", "subscription", options);
const consent = (channel: string, can: boolean, consent_status: Schema) =>
  z.strictObject({ channel: z.literal(channel), can_receive_marketing: z.literal(can), consent_status });
const canReceive = (...options: Discriminable[]) =>
  choice("can_receive_marketing", "can_receive_marketing", options);

/** `profile-marketing-consent`'s `consent`: by channel, then whether the profile can receive, then the status. */
export const marketingConsent = choice("channel", "consent channel", [
  canReceive(
    consent(
      "email",
      true,
      consentStatus(
        noFilters("any"),
        status("subscribed", emailSubscribedFilters),
        noFilters("never_subscribed"),
      ),
    ),
    consent(
      "email",
      false,
      consentStatus(
        status("any", suppressionDates),
        status("unsubscribed", emailUnsubscribedFilters),
        status("never_subscribed", suppressionDates, true),
        status("subscribed", suppressionDates, true),
      ),
    ),
  ),
  canReceive(
    consent("sms", true, consentStatus(status("subscribed", smsSubscribedFilters))),
    consent(
      "sms",
      false,
      consentStatus(
        status("any"),
        status("unsubscribed", smsUnsubscribedFilters),
        status("never_subscribed"),
      ),
    ),
  ),
  canReceive(
    consent("push", true, consentStatus(status("any", statusDate))),
    consent("push", false, consentStatus(status("any"))),
  ),
]);

const permissionFilters = z.array(
  byField(
    dated("effective_date"),
    dated("recorded_date"),
    choice("method", "subscribe method", [
      z.strictObject({
        field: z.literal("subscribe_method"),
        method: z.enum([
          "api",
          "back_in_stock",
          "bigcommerce",
          "bulk_remove",
          "campaign_monitor",
          "carrier_deactivation",
          "checkout",
          "constant_contact",
          "exact_target",
          "facebook",
          "failed_age_gate",
          "inbound_message",
          "integration",
          "mad_mimi",
          "magento_two",
          "mailbox_provider",
          "manual_add",
          "manual_import",
          "manual_remove",
          "message_blocked",
          "netsuite",
          "preference_page",
          "provided_landline",
          "provided_no_age",
          "sftp",
          "shopify",
          "social_instagram_message",
          "spam_complaint",
          "square",
          "wix",
          "woocommerce",
        ]),
      }),
      z.strictObject({
        field: z.literal("subscribe_method"),
        method: z.literal("form"),
        filter: z.optional(inStrings),
      }),
    ]),
  ),
);
const reachable = (name: string, filtered: boolean) =>
  z.strictObject({ reachable_status: z.literal(name), ...(filtered ? { filters: permissionFilters } : {}) });

/** `profile-permissions`'s `permission` (WhatsApp reachability). */
export const permission = choice("reachable_status", "reachable status", [
  reachable("explicitly_reachable", true),
  reachable("implicitly_reachable", false),
  reachable("implicitly_or_explicitly_reachable", false),
  reachable("explicitly_unreachable", true),
  reachable("implicitly_unreachable", false),
  reachable("implicitly_or_explicitly_unreachable", false),
]);
