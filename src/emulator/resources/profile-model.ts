/**
 * Profiles as Klaviyo stores them, shared by every route that creates or finds one: Create Profile, Create
 * Event and the bulk jobs (which create a profile from its identifiers when none matches), subscriptions.
 * Keep these signatures stable: several route modules import them.
 */
import { E164, EMAIL, PROFILE_IDENTIFIERS } from "../../klaviyo/identifiers.js";
import type { EmulatorState, ProfileRow } from "../state.js";
import { isoNow, ulid } from "../store.js";

/** The identifiers a profile can be found by, in the order Klaviyo matches them. */
export { E164, EMAIL, PROFILE_IDENTIFIERS };

export type ProfileIdentifiers = Partial<Record<(typeof PROFILE_IDENTIFIERS)[number] | "id", string | null>>;

/** The identifiers no two profiles may share (Create Profile answers 409 `duplicate_profile` on a clash). */
export const UNIQUE_IDENTIFIERS = ["email", "phone_number", "external_id"] as const;

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

/** The index key of one identifier value (emails folded to lower case, as Klaviyo matches them). */
function indexKey(key: string, value: string): string {
  return `${key}\u0000${key === "email" ? value.toLowerCase() : value}`;
}

/** Adds a profile's identifiers to the index (a value already held by another profile keeps its owner). */
export function indexProfile(state: EmulatorState, row: ProfileRow): void {
  for (const key of PROFILE_IDENTIFIERS) {
    const value = row.attributes[key];
    if (typeof value !== "string" || value === "") continue;
    const k = indexKey(key, value);
    if (!state.profileIndex.has(k)) state.profileIndex.set(k, row.id);
  }
}

/** Call after changing a profile's identifiers: drops what `before` held and indexes what it holds now. */
export function reindexProfile(state: EmulatorState, row: ProfileRow, before: Record<string, unknown>): void {
  for (const key of PROFILE_IDENTIFIERS) {
    const value = before[key];
    if (typeof value !== "string" || value === "" || value === row.attributes[key]) continue;
    const k = indexKey(key, value);
    if (state.profileIndex.get(k) === row.id) state.profileIndex.delete(k);
  }
  indexProfile(state, row);
}

/** Rebuilds the index from the rows (after loading a snapshot, or if an entry turns out stale). */
export function rebuildProfileIndex(state: EmulatorState): void {
  state.profileIndex.clear();
  for (const row of state.profiles.values()) indexProfile(state, row);
}

/** The profile holding this identifier value, through the index. */
export function profileWith(state: EmulatorState, key: string, value: string): ProfileRow | undefined {
  if (state.profileIndex.size === 0 && state.profiles.size > 0) rebuildProfileIndex(state);
  const id = state.profileIndex.get(indexKey(key, value));
  const row = id === undefined ? undefined : state.profiles.get(id);
  if (!row) return undefined;
  if (sameIdentifier(key, row.attributes[key], value)) return row;
  // Stale entry (an identifier changed without reindexing): rebuild once and answer from the fresh index.
  rebuildProfileIndex(state);
  const fresh = state.profileIndex.get(indexKey(key, value));
  return fresh === undefined ? undefined : state.profiles.get(fresh);
}

/** The first profile matching any of the identifiers given (id first, then email, phone, external id, …). */
export function findProfile(state: EmulatorState, ids: ProfileIdentifiers): ProfileRow | undefined {
  if (ids.id) return state.profiles.get(ids.id);
  for (const key of PROFILE_IDENTIFIERS) {
    const wanted = ids[key];
    if (wanted === undefined || wanted === null || wanted === "") continue;
    const row = profileWith(state, key, wanted);
    if (row) return row;
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
  state.profiles.insert(row);
  indexProfile(state, row);
  return row;
}

/**
 * The profile these identifiers name, created when none matches (as Create Event and the bulk jobs do). Other
 * attributes given are applied to a new profile only; an existing one keeps what it has.
 */
export function resolveProfile(
  state: EmulatorState,
  attributes: Record<string, unknown>,
  now: number,
): ProfileRow {
  const found = findProfile(state, attributes as ProfileIdentifiers);
  if (found) return found;
  const { id: _ignored, ...rest } = attributes;
  return insertProfile(state, rest, now);
}
