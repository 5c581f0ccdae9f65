/**
 * The consent and permission parts of segment conditions (`profile-marketing-consent`'s `consent`,
 * `profile-permissions`'s `permission`), as Klaviyo's OpenAPI document defines them: which subscription states
 * each channel allows, and the filters (status date, method, suppression dates) each state may carry.
 */
import * as v from "valibot";
import { type Discriminable, type Schema, typed } from "./schema.js";
import { anyDate, booleanFilter, choice, DATE_FILTERS, isSet } from "./segment-filters.js";

const inStrings = v.strictObject({
  type: v.literal("string"),
  operator: v.literal("in"),
  value: v.array(v.string()),
});
const equalsString = v.strictObject({
  type: v.literal("string"),
  operator: v.literal("equals"),
  value: v.nullable(v.string()),
});
const integration = (name: string) =>
  v.strictObject({ type: v.literal("string"), operator: v.literal("in"), value: v.array(v.literal(name)) });

/** `{field: "method", method, filter?}`: how a consent was given or withdrawn. */
function method(name: string, filter?: Schema, required = false) {
  const shape = { field: v.literal("method"), method: v.literal(name) };
  if (!filter) return v.strictObject(shape);
  return v.strictObject({ ...shape, filter: required ? filter : v.optional(filter) });
}
const methods = (...options: ReturnType<typeof method>[]) => choice("method", "method", options);
const dated = (field: string, filter: Schema = anyDate) =>
  v.strictObject({ field: v.literal(field), filter });
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
  v.strictObject({ field: v.literal("is_double_opt_in"), filter: booleanFilter }),
  statusDate,
  v.strictObject({ field: v.literal("custom_source"), filter: equalsString }),
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
  v.strictObject({ field: v.literal("is_rcs_capable"), filter: booleanFilter }),
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

const status = (subscription: string, filters?: Schema, required = false) => {
  const entries: v.ObjectEntries = { subscription: v.literal(subscription) };
  if (filters) entries.filters = required ? v.array(filters) : v.nullish(v.array(filters));
  return v.strictObject(entries);
};
const noFilters = (subscription: string) =>
  v.strictObject({ subscription: v.literal(subscription), filters: v.optional(v.null_()) });
const consentStatus = (...options: Discriminable[]) => choice("subscription", "subscription", options);
const consent = (channel: string, can: boolean, consent_status: Schema) =>
  v.strictObject({ channel: v.literal(channel), can_receive_marketing: v.literal(can), consent_status });
const canReceive = (...options: Discriminable[]) =>
  choice("can_receive_marketing", "can_receive_marketing", options);

/** `profile-marketing-consent`'s `consent`: by channel, then whether the profile can receive, then the status. */
export const marketingConsent = typed(
  choice("channel", "consent channel", [
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
  ]),
);

const permissionFilters = v.array(
  byField(
    dated("effective_date"),
    dated("recorded_date"),
    choice("method", "subscribe method", [
      v.strictObject({
        field: v.literal("subscribe_method"),
        method: v.picklist([
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
      v.strictObject({
        field: v.literal("subscribe_method"),
        method: v.literal("form"),
        filter: v.optional(inStrings),
      }),
    ]),
  ),
);
const reachable = (name: string, filtered: boolean) => {
  const entries: v.ObjectEntries = { reachable_status: v.literal(name) };
  if (filtered) entries.filters = permissionFilters;
  return v.strictObject(entries);
};

/** `profile-permissions`'s `permission` (WhatsApp reachability). */
export const permission = choice("reachable_status", "reachable status", [
  reachable("explicitly_reachable", true),
  reachable("implicitly_reachable", false),
  reachable("implicitly_or_explicitly_reachable", false),
  reachable("explicitly_unreachable", true),
  reachable("implicitly_unreachable", false),
  reachable("implicitly_or_explicitly_unreachable", false),
]);
