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

/** E.164: a plus, a country code not starting with 0, up to 15 digits in all. */
export const E164 = /^\+[1-9]\d{6,14}$/;

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

/** A profile's subscriptions before any consent was recorded. */
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
      transactional: null,
    },
    mobile_push: null,
  };
}

/** The first profile matching any of the identifiers given (id first, then email, phone, external id, …). */
export function findProfile(state: EmulatorState, ids: ProfileIdentifiers): ProfileRow | undefined {
  if (ids.id) return state.profiles.get(ids.id);
  for (const key of PROFILE_IDENTIFIERS) {
    const wanted = ids[key];
    if (wanted === undefined || wanted === null || wanted === "") continue;
    for (const row of state.profiles.values()) {
      if (row.attributes[key] === wanted) return row;
    }
  }
  return undefined;
}

/** Creates a profile from wire attributes (identifiers, names, location, properties, …). */
export function insertProfile(state: EmulatorState, attributes: Record<string, unknown>, now = Date.now()): ProfileRow {
  const stamp = isoNow(now);
  const base = blankProfileAttributes(stamp);
  const location = { ...(base.location as Record<string, unknown>), ...((attributes.location as Record<string, unknown>) ?? {}) };
  const row: ProfileRow = {
    id: ulid(now),
    seq: state.profiles.seq(),
    attributes: { ...base, ...attributes, location, properties: { ...((attributes.properties as object) ?? {}) }, created: stamp, updated: stamp },
    subscriptions: blankSubscriptions(),
  };
  return state.profiles.insert(row);
}

/**
 * The profile these identifiers name, created when none matches (as Create Event and the bulk jobs do). Other
 * attributes given are applied to a new profile only; an existing one keeps what it has.
 */
export function resolveProfile(state: EmulatorState, attributes: Record<string, unknown>, now = Date.now()): ProfileRow {
  const found = findProfile(state, attributes as ProfileIdentifiers);
  if (found) return found;
  const { id: _ignored, ...rest } = attributes;
  return insertProfile(state, rest, now);
}
