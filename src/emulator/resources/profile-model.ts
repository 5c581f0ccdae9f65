/**
 * Profiles as Klaviyo stores them, shared by every route that creates or finds one: Create Profile, Create
 * Event and the bulk jobs (which create a profile from its identifiers when none matches), subscriptions.
 * Keep these signatures stable: several route modules import them.
 */
import type { EmulatorState, ProfileRow } from "../state.js";
import { isoNow, ulid } from "../store.js";

/** The identifiers a profile can be found by, in the order Klaviyo matches them. */
export const PROFILE_IDENTIFIERS = ["email", "phone_number", "external_id", "anonymous_id", "_kx"] as const;

export type ProfileIdentifiers = Partial<Record<(typeof PROFILE_IDENTIFIERS)[number] | "id", string | null>>;

/** The identifiers no two profiles may share (Create Profile answers 409 `duplicate_profile` on a clash). */
export const UNIQUE_IDENTIFIERS = ["email", "phone_number", "external_id"] as const;

/** E.164: a plus, a country code not starting with 0, up to 15 digits in all. */
export const E164 = /^\+[1-9]\d{6,14}$/;

/** An email address as Klaviyo accepts it: one `@`, no spaces, a dot in the domain. */
export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@.]+$/;

/** The attributes a profile resource carries (Get Profile's schema), in Klaviyo's order. */
export const PROFILE_ATTRIBUTES = [
  "email",
  "phone_number",
  "external_id",
  "first_name",
  "last_name",
  "organization",
  "locale",
  "title",
  "image",
  "created",
  "updated",
  "last_event_date",
  "location",
  "properties",
] as const;

/** Every attribute Get Profile returns, null where unknown, so responses always have the full shape. */
export function blankProfileAttributes(now: string): Record<string, unknown> {
  return {
    email: null,
    phone_number: null,
    external_id: null,
    first_name: null,
    last_name: null,
    organization: null,
    locale: null,
    title: null,
    image: null,
    created: now,
    updated: now,
    last_event_date: null,
    location: {
      address1: null,
      address2: null,
      city: null,
      country: null,
      latitude: null,
      longitude: null,
      region: null,
      zip: null,
      timezone: null,
      ip: null,
    },
    properties: {},
  };
}

/**
 * A profile's subscriptions before any consent was recorded. Every channel object the schema declares as
 * non-nullable is present (`sms.transactional`, `mobile_push.marketing`), so the block always validates.
 */
export function blankSubscriptions(): Record<string, unknown> {
  return {
    email: {
      marketing: {
        can_receive_email_marketing: false,
        consent: "NEVER_SUBSCRIBED",
        consent_timestamp: null,
        last_updated: null,
        method: null,
        method_detail: null,
        custom_method_detail: null,
        double_optin: null,
        suppression: [],
        list_suppressions: [],
      },
    },
    sms: {
      marketing: {
        can_receive_sms_marketing: false,
        consent: "NEVER_SUBSCRIBED",
        consent_timestamp: null,
        method: null,
        method_detail: null,
        last_updated: null,
      },
      transactional: {
        can_receive_sms_transactional: false,
        consent: "NEVER_SUBSCRIBED",
        consent_timestamp: null,
        method: null,
        method_detail: null,
        last_updated: null,
      },
    },
    mobile_push: {
      marketing: { can_receive_push_marketing: false, consent: "NEVER_SUBSCRIBED", consent_timestamp: null },
    },
  };
}

/** `predictive_analytics` for a profile Klaviyo has no model for yet: no history, no predictions. */
export function blankPredictiveAnalytics(): Record<string, unknown> {
  return {
    historic_clv: 0,
    predicted_clv: null,
    total_clv: 0,
    historic_number_of_orders: 0,
    predicted_number_of_orders: null,
    average_days_between_orders: null,
    average_order_value: null,
    churn_probability: null,
    expected_date_of_next_order: null,
    ranked_channel_affinity: null,
  };
}

/** Whether a stored identifier equals a wanted one (emails compare case-insensitively, as Klaviyo matches them). */
export function sameIdentifier(key: string, stored: unknown, wanted: string): boolean {
  if (typeof stored !== "string") return false;
  return key === "email" ? stored.toLowerCase() === wanted.toLowerCase() : stored === wanted;
}

/** The first profile matching any of the identifiers given (id first, then email, phone, external id, …). */
export function findProfile(state: EmulatorState, ids: ProfileIdentifiers): ProfileRow | undefined {
  if (ids.id) return state.profiles.get(ids.id);
  for (const key of PROFILE_IDENTIFIERS) {
    const wanted = ids[key];
    if (wanted === undefined || wanted === null || wanted === "") continue;
    for (const row of state.profiles.values()) {
      if (sameIdentifier(key, row.attributes[key], wanted)) return row;
    }
  }
  return undefined;
}

/** Creates a profile from wire attributes (identifiers, names, location, properties, …). */
export function insertProfile(
  state: EmulatorState,
  attributes: Record<string, unknown>,
  now = Date.now(),
): ProfileRow {
  const stamp = isoNow(now);
  const base = blankProfileAttributes(stamp);
  const location = {
    ...(base.location as Record<string, unknown>),
    ...((attributes.location as Record<string, unknown>) ?? {}),
  };
  const row: ProfileRow = {
    id: ulid(now),
    seq: state.profiles.seq(),
    attributes: {
      ...base,
      ...attributes,
      location,
      properties: { ...((attributes.properties as object) ?? {}) },
      created: stamp,
      updated: stamp,
    },
    subscriptions: blankSubscriptions(),
  };
  return state.profiles.insert(row);
}

/**
 * The profile these identifiers name, created when none matches (as Create Event and the bulk jobs do). Other
 * attributes given are applied to a new profile only; an existing one keeps what it has.
 */
export function resolveProfile(
  state: EmulatorState,
  attributes: Record<string, unknown>,
  now = Date.now(),
): ProfileRow {
  const found = findProfile(state, attributes as ProfileIdentifiers);
  if (found) return found;
  const { id: _ignored, ...rest } = attributes;
  return insertProfile(state, rest, now);
}
