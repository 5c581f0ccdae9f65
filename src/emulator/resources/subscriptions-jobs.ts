/**
 * The two bulk subscription jobs, checked whole before any change (so a refused job leaves the state as it
 * was) and then applied profile by profile: each is found by id, email or phone number, or created.
 *
 * Each job records Klaviyo's consent events (`CONSENT_METRICS`, under Klaviyo's own integration), which webhooks
 * deliver: Subscribe records "Subscribed to Email Marketing" and "Subscribed to SMS Marketing" per channel
 * consented and "Subscribed to List" when the profile joins the job's list; Unsubscribe records "Unsubscribed
 * from List" for a profile that leaves the job's list, else "Unsubscribed from Email Marketing" and "Unsubscribed
 * from SMS Marketing" per channel. Klaviyo records these events; their properties are not documented, so the
 * emulator's (`consentProperties`) are its own reading, and they are recorded at the job's time.
 */
import { CONSENT_METRICS } from "../../klaviyo/webhooks.js";
import { EmulatorProblem } from "../errors.js";
import { invalidAt } from "../request-documents.js";
import type { EmulatorState, ProfileRow } from "../state.js";
import { isoNow, type ResourceRow } from "../store.js";
import { recordKlaviyoEvent } from "./events-model.js";
import { addMember, isMember, removeMember } from "./lists-members.js";
import { requireList } from "./lists-model.js";
import { findProfile, indexProfile, profileWith, resolveProfile } from "./profile-model.js";
import { checkIdentifierSyntax } from "./profiles-body.js";
import type {
  SubscribeBody,
  SubscribeProfile,
  UnsubscribeBody,
  UnsubscribeProfile,
} from "./subscriptions-body.js";
import {
  type ConsentContext,
  setGenericConsent,
  setPushConsent,
  subscribeEmail,
  subscribeSms,
  suppressForList,
  unsubscribeEmail,
  unsubscribeSms,
} from "./subscriptions-model.js";

const PROFILES = "/data/attributes/profiles/data";

/** The time a `consented_at` names; one without an offset is read as UTC. */
function consentTime(text: string): number {
  return Date.parse(/(?:[zZ]|[+-]\d\d:?\d\d)$/.test(text) ? text : `${text}Z`);
}

/** Every `{consent, consented_at?}` entry of a subscribe request, with its pointer under `subscriptions`. */
function consentEntries(
  profile: SubscribeProfile,
): Array<{ path: string; consentedAt: string | null | undefined }> {
  const s = profile.attributes.subscriptions;
  const entries: Array<[string, { consented_at?: string | null | undefined } | undefined]> = [
    ["email/marketing", s.email?.marketing],
    ["sms/marketing", s.sms?.marketing],
    ["sms/transactional", s.sms?.transactional],
    ["whatsapp/marketing", s.whatsapp?.marketing],
    ["whatsapp/transactional", s.whatsapp?.transactional],
    ["push/marketing", s.push?.marketing],
  ];
  return entries.flatMap(([path, entry]) => (entry ? [{ path, consentedAt: entry.consented_at }] : []));
}

interface Channels {
  readonly email: boolean;
  readonly phone: boolean;
}

/** The identifiers a profile entry needs: an address for email consent, a number for SMS and WhatsApp. */
function checkIdentifiers(
  base: string,
  attributes: { email?: string | null | undefined; phone_number?: string | null | undefined },
  needs: Channels,
  known?: ProfileRow,
): void {
  checkIdentifierSyntax(attributes, `${base}/attributes`);
  const email = attributes.email || known?.attributes.email;
  const phone = attributes.phone_number || known?.attributes.phone_number;
  if (!known && !email && !phone) {
    throw invalidAt(`${base}/attributes`, "Each profile needs an email, a phone_number or an id.");
  }
  if (needs.email && !email)
    throw invalidAt(`${base}/attributes/email`, "An email is required to change email consent.");
  if (needs.phone && !phone) {
    throw invalidAt(
      `${base}/attributes/phone_number`,
      "A phone_number is required to change SMS or WhatsApp consent.",
    );
  }
}

/** Sets an identifier the request gave on a profile that lacks it, when no other profile has it. */
function adoptIdentifier(
  state: EmulatorState,
  row: ProfileRow,
  key: "email" | "phone_number",
  value: string | null | undefined,
): void {
  if (!value || row.attributes[key]) return;
  if (profileWith(state, key, value)) return;
  row.attributes[key] = value;
  indexProfile(state, row);
}

function profileFor(
  state: EmulatorState,
  attributes: { email?: string | null | undefined; phone_number?: string | null | undefined },
  now: number,
): ProfileRow {
  const ids: Record<string, unknown> = {};
  if (attributes.email) ids.email = attributes.email;
  if (attributes.phone_number) ids.phone_number = attributes.phone_number;
  const row = resolveProfile(state, ids, now);
  adoptIdentifier(state, row, "email", attributes.email);
  adoptIdentifier(state, row, "phone_number", attributes.phone_number);
  return row;
}

function jobList(
  state: EmulatorState,
  body: { data: { relationships?: { list: { data: { id: string } } } | undefined } },
): ResourceRow | undefined {
  const id = body.data.relationships?.list.data.id;
  return id === undefined ? undefined : requireList(state, id);
}

/**
 * The properties of a consent event: how the consent was given (`API`, and the job's `custom_source`) and, for
 * the list events, the list.
 */
export function consentProperties(ctx: ConsentContext, list?: ResourceRow): Record<string, unknown> {
  return {
    method: "API",
    ...(ctx.customSource ? { custom_source: ctx.customSource } : {}),
    ...(list ? { list_id: list.id, list_name: list.attributes.name ?? null } : {}),
  };
}

/** Checks a Bulk Subscribe job (consent timing rules, identifiers, profile ids, the list) and applies it. */
export function runSubscribeJob(state: EmulatorState, body: SubscribeBody, now: number): void {
  const { attributes } = body.data;
  const historical = attributes.historical_import === true;
  const profiles = attributes.profiles.data;
  const known = profiles.map((profile, i) => {
    const base = `${PROFILES}/${i}`;
    for (const { path, consentedAt } of consentEntries(profile)) {
      const pointer = `${base}/attributes/subscriptions/${path}/consented_at`;
      const given = consentedAt !== undefined && consentedAt !== null;
      if (!historical && given) {
        throw invalidAt(pointer, "consented_at may only be given when historical_import is true.");
      }
      if (historical && !given)
        throw invalidAt(pointer, "consented_at is required when historical_import is true.");
      if (historical && given && consentTime(consentedAt) > now) {
        throw invalidAt(pointer, "consented_at must be in the past.");
      }
    }
    let row: ProfileRow | undefined;
    if (profile.id) {
      row = findProfile(state, { id: profile.id });
      if (!row) {
        throw new EmulatorProblem({
          status: 404,
          code: "not_found",
          title: "Not found.",
          detail: `A profile with id '${profile.id}' does not exist.`,
          source: { pointer: `${base}/id` },
        });
      }
    }
    const s = profile.attributes.subscriptions;
    checkIdentifiers(base, profile.attributes, { email: !!s.email, phone: !!(s.sms || s.whatsapp) }, row);
    return row;
  });
  const list = jobList(state, body);
  // Email consent for a double opt-in list waits for the confirmation; a historical import skips it.
  const emailWaits = !historical && list?.attributes.opt_in_process === "double_opt_in";
  const ctx: ConsentContext = { stamp: isoNow(now), customSource: attributes.custom_source ?? null };

  profiles.forEach((profile, i) => {
    const row = known[i] ?? profileFor(state, profile.attributes, now);
    if (known[i]) {
      adoptIdentifier(state, row, "email", profile.attributes.email);
      adoptIdentifier(state, row, "phone_number", profile.attributes.phone_number);
    }
    const s = profile.attributes.subscriptions;
    const at = (value: string | null | undefined) => (value ? isoNow(consentTime(value)) : null);
    let consented = false;
    const consentEvents: string[] = [];
    if (s.email?.marketing && !emailWaits) {
      subscribeEmail(row, ctx, at(s.email.marketing.consented_at), list?.id);
      consented = true;
      consentEvents.push(CONSENT_METRICS.subscribedEmail);
    }
    if (s.email?.open_tracking) setGenericConsent(row, "email", "open_tracking", "SUBSCRIBED", ctx, null);
    for (const kind of ["marketing", "transactional"] as const) {
      const sms = s.sms?.[kind];
      if (sms) {
        subscribeSms(row, kind, ctx, at(sms.consented_at));
        consented = true;
        if (kind === "marketing") consentEvents.push(CONSENT_METRICS.subscribedSms);
      }
      const whatsapp = s.whatsapp?.[kind];
      if (whatsapp) {
        setGenericConsent(
          row,
          "whatsapp",
          kind,
          "SUBSCRIBED",
          ctx,
          at(whatsapp.consented_at),
          row.attributes.phone_number as string | null,
        );
        consented = true;
      }
    }
    if (s.push) {
      setPushConsent(row, "SUBSCRIBED", ctx, at(s.push.marketing.consented_at));
      consented = true;
    }
    if (list && consented) addMember(state, list.id, row.id, now);
    row.attributes.updated = ctx.stamp;
    for (const metric of consentEvents) recordKlaviyoEvent(state, row, metric, consentProperties(ctx), now);
    if (list && consented)
      recordKlaviyoEvent(state, row, CONSENT_METRICS.subscribedList, consentProperties(ctx, list), now);
  });
}

/** Checks a Bulk Unsubscribe job and applies it (see `subscriptions-model.ts` for list vs global). */
export function runUnsubscribeJob(state: EmulatorState, body: UnsubscribeBody, now: number): void {
  const profiles = body.data.attributes.profiles.data;
  profiles.forEach((profile: UnsubscribeProfile, i) => {
    const s = profile.attributes.subscriptions;
    checkIdentifiers(`${PROFILES}/${i}`, profile.attributes, {
      email: !!s.email,
      phone: !!(s.sms || s.whatsapp),
    });
  });
  const list = jobList(state, body);
  const ctx: ConsentContext = { stamp: isoNow(now), customSource: null };

  for (const profile of profiles) {
    const row = profileFor(state, profile.attributes, now);
    const s = profile.attributes.subscriptions;
    const consentEvents: string[] = [];
    if (list && isMember(state, list.id, row.id)) {
      removeMember(state, list.id, row.id);
      if (s.email?.marketing) suppressForList(row, list.id, ctx);
      consentEvents.push(CONSENT_METRICS.unsubscribedList);
    } else {
      if (s.email?.marketing) {
        unsubscribeEmail(row, ctx);
        consentEvents.push(CONSENT_METRICS.unsubscribedEmail);
      }
      for (const kind of ["marketing", "transactional"] as const) {
        if (!s.sms?.[kind]) continue;
        unsubscribeSms(row, kind, ctx);
        if (kind === "marketing") consentEvents.push(CONSENT_METRICS.unsubscribedSms);
      }
      for (const kind of ["marketing", "transactional", "conversational"] as const) {
        if (s.whatsapp?.[kind])
          setGenericConsent(
            row,
            "whatsapp",
            kind,
            "UNSUBSCRIBED",
            ctx,
            null,
            row.attributes.phone_number as string | null,
          );
      }
      if (s.push) setPushConsent(row, "UNSUBSCRIBED", ctx, null);
    }
    if (s.email?.open_tracking) setGenericConsent(row, "email", "open_tracking", "UNSUBSCRIBED", ctx, null);
    row.attributes.updated = ctx.stamp;
    for (const metric of consentEvents) {
      const about = metric === CONSENT_METRICS.unsubscribedList ? list : undefined;
      recordKlaviyoEvent(state, row, metric, consentProperties(ctx, about), now);
    }
  }
}
