/**
 * Consent as the bulk subscription jobs record it on profiles (`row.subscriptions`, in wire form).
 *
 * Subscribe: each channel given becomes `SUBSCRIBED` (method `API`, `consent_timestamp` now, or the given
 * `consented_at` for a historical import); email subscription lifts `UNSUBSCRIBE`, `SPAM_COMPLAINT` and
 * `USER_SUPPRESSED` suppressions and the list's own suppression. Email consent for a double opt-in list waits
 * for the confirmation Klaviyo emails (which no one clicks here), unless it is a historical import.
 *
 * Unsubscribe: a profile in the job's list leaves that list (email: a list suppression), and keeps its global
 * consent; any other profile is unsubscribed globally (the spec's warning: "Profiles not in the specified
 * list will be globally unsubscribed"), with an `UNSUBSCRIBE` suppression for email.
 */
import { isObject } from "../../klaviyo/formats.js";
import type { ProfileRow } from "../state.js";
import { blankSubscriptions } from "./profile-model.js";

type Json = Record<string, unknown>;

/** What every consent change of one job shares. */
export interface ConsentContext {
  /** When the job ran, in Klaviyo's format. */
  readonly stamp: string;
  readonly customSource: string | null;
}

/** The stored consent object of a channel, created (from the blank profile's, if it has one) when missing. */
function slot(row: ProfileRow, channel: string, kind: string): Json {
  let channelObject = row.subscriptions[channel];
  if (!isObject(channelObject)) {
    channelObject = {};
    row.subscriptions[channel] = channelObject;
  }
  const current = (channelObject as Json)[kind];
  if (isObject(current)) return current;
  const blankChannel = blankSubscriptions()[channel];
  const blank =
    isObject(blankChannel) && isObject(blankChannel[kind])
      ? blankChannel[kind]
      : { consent: "NEVER_SUBSCRIBED" };
  (channelObject as Json)[kind] = blank;
  return blank;
}

function suppressionsOf(marketing: Json, member: "suppression" | "list_suppressions"): Json[] {
  const value = marketing[member];
  return Array.isArray(value) ? value.filter(isObject) : [];
}

const LIFTED_BY_SUBSCRIBING = new Set(["UNSUBSCRIBE", "SPAM_COMPLAINT", "USER_SUPPRESSED"]);

/** Email marketing consent given through the API. */
export function subscribeEmail(
  row: ProfileRow,
  ctx: ConsentContext,
  consentedAt: string | null,
  listId?: string,
): void {
  const m = slot(row, "email", "marketing");
  const already = m.consent === "SUBSCRIBED";
  m.consent = "SUBSCRIBED";
  m.consent_timestamp = consentedAt ?? (already && m.consent_timestamp ? m.consent_timestamp : ctx.stamp);
  m.last_updated = ctx.stamp;
  m.method = "API";
  m.method_detail = "";
  m.custom_method_detail = ctx.customSource;
  m.double_optin = false;
  m.suppression = suppressionsOf(m, "suppression").filter(
    (s) => !LIFTED_BY_SUBSCRIBING.has(String(s.reason)),
  );
  m.list_suppressions = suppressionsOf(m, "list_suppressions").filter((s) => s.list_id !== listId);
  m.can_receive_email_marketing = true;
}

/** SMS marketing or transactional consent given through the API. */
export function subscribeSms(
  row: ProfileRow,
  kind: "marketing" | "transactional",
  ctx: ConsentContext,
  consentedAt: string | null,
): void {
  const m = slot(row, "sms", kind);
  const already = m.consent === "SUBSCRIBED";
  m.consent = "SUBSCRIBED";
  m.consent_timestamp = consentedAt ?? (already && m.consent_timestamp ? m.consent_timestamp : ctx.stamp);
  m.method = "API";
  m.method_detail = "";
  m.last_updated = ctx.stamp;
  m[`can_receive_sms_${kind}`] = true;
}

/**
 * Channels shaped like WhatsApp's and email open tracking (`consent`, `can_receive`, timestamps, metadata);
 * `phone` only for WhatsApp.
 */
export function setGenericConsent(
  row: ProfileRow,
  channel: string,
  kind: string,
  consent: "SUBSCRIBED" | "UNSUBSCRIBED",
  ctx: ConsentContext,
  consentedAt: string | null,
  phone?: string | null,
): void {
  const m = slot(row, channel, kind);
  const created = typeof m.created_timestamp === "string" ? m.created_timestamp : ctx.stamp;
  Object.assign(m, {
    consent,
    consent_timestamp: consentedAt ?? ctx.stamp,
    last_updated: ctx.stamp,
    created_timestamp: created,
    metadata: isObject(m.metadata) ? m.metadata : null,
    can_receive: consent === "SUBSCRIBED",
    valid_until: null,
    ...(phone !== undefined ? { phone_number: phone } : {}),
  });
}

/** Push marketing consent (stored under `mobile_push`, the name the profile's block uses). */
export function setPushConsent(
  row: ProfileRow,
  consent: "SUBSCRIBED" | "UNSUBSCRIBED",
  ctx: ConsentContext,
  consentedAt: string | null,
): void {
  const m = slot(row, "mobile_push", "marketing");
  m.consent = consent;
  m.consent_timestamp = consentedAt ?? ctx.stamp;
  m.can_receive_push_marketing = consent === "SUBSCRIBED";
}

/** Global email unsubscribe: consent `UNSUBSCRIBED` and an `UNSUBSCRIBE` suppression. */
export function unsubscribeEmail(row: ProfileRow, ctx: ConsentContext): void {
  const m = slot(row, "email", "marketing");
  m.consent = "UNSUBSCRIBED";
  m.consent_timestamp = ctx.stamp;
  m.last_updated = ctx.stamp;
  m.method = "API";
  m.method_detail = "";
  m.can_receive_email_marketing = false;
  const suppression = suppressionsOf(m, "suppression");
  if (!suppression.some((s) => s.reason === "UNSUBSCRIBE"))
    suppression.push({ reason: "UNSUBSCRIBE", timestamp: ctx.stamp });
  m.suppression = suppression;
}

/**
 * Email unsubscribe from one list: a list suppression `{list_id, reason, timestamp}` (the shape of the document's
 * `EmailMarketingListSuppression`), replacing an older one for the same list, its `timestamp` the job's time (whole
 * seconds). The document gives no list of reasons for list suppressions (its example is `USER_SUPPRESSED`); the
 * emulator records `UNSUBSCRIBE`, the reason of the global suppression an unsubscription leaves.
 */
export function suppressForList(row: ProfileRow, listId: string, ctx: ConsentContext): void {
  const m = slot(row, "email", "marketing");
  const others = suppressionsOf(m, "list_suppressions").filter((s) => s.list_id !== listId);
  m.list_suppressions = [...others, { list_id: listId, reason: "UNSUBSCRIBE", timestamp: ctx.stamp }];
  m.last_updated = ctx.stamp;
}

/** Global SMS unsubscribe for marketing or transactional messages. */
export function unsubscribeSms(
  row: ProfileRow,
  kind: "marketing" | "transactional",
  ctx: ConsentContext,
): void {
  const m = slot(row, "sms", kind);
  m.consent = "UNSUBSCRIBED";
  m.consent_timestamp = ctx.stamp;
  m.method = "API";
  m.method_detail = "";
  m.last_updated = ctx.stamp;
  m[`can_receive_sms_${kind}`] = false;
}

/**
 * A manual suppression (Bulk Suppress Profiles): a global `USER_SUPPRESSED` suppression, so the profile cannot
 * receive email marketing whatever its consent. Returns false when it already had one (nothing changes then).
 */
export function suppressEmail(row: ProfileRow, ctx: ConsentContext): boolean {
  const m = slot(row, "email", "marketing");
  const suppression = suppressionsOf(m, "suppression");
  if (suppression.some((s) => s.reason === "USER_SUPPRESSED")) return false;
  m.suppression = [...suppression, { reason: "USER_SUPPRESSED", timestamp: ctx.stamp }];
  m.last_updated = ctx.stamp;
  return true;
}

/**
 * Bulk Unsuppress Profiles: lifts `USER_SUPPRESSED` only ("unsubscribed profiles and suppressed profiles with
 * reason INVALID_EMAIL or HARD_BOUNCE remain unchanged"). Returns whether there was one to lift.
 */
export function unsuppressEmail(row: ProfileRow, ctx: ConsentContext): boolean {
  const m = slot(row, "email", "marketing");
  const suppression = suppressionsOf(m, "suppression");
  const kept = suppression.filter((s) => s.reason !== "USER_SUPPRESSED");
  if (kept.length === suppression.length) return false;
  m.suppression = kept;
  m.last_updated = ctx.stamp;
  return true;
}
