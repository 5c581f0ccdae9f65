/**
 * Recording events as Klaviyo does: the profile is found by its identifiers or created (and, when found,
 * updated with what the event says about it), the metric is found by name or created, and a repeated
 * `unique_id` for the same profile and metric records only the first event. Without a `unique_id` Klaviyo
 * uses the event's time to the second, so two such events for one profile and metric in one second are one.
 * Every event recorded, whatever recorded it, is told to the state's `eventListeners` (webhook delivery).
 */
import { checkMilliseconds } from "../latency.js";
import type { EmulatorState, EventRow, ProfileRow } from "../state.js";
import { isoNow, randomPoolBytes, ulid } from "../store.js";
import { eventTimeMs } from "./events-limits.js";
import type { EventAttributesInput, ProfileMeta } from "./events-schema.js";
import { ensureKlaviyoMetric, ensureMetric, isoSeconds } from "./metrics-model.js";
import {
  findProfile,
  indexProfile,
  PROFILE_IDENTIFIERS,
  type ProfileIdentifiers,
  resolveProfile,
  sameIdentifier,
} from "./profile-model.js";

/** A profile as an event carries it: `data.id`, `data.attributes` and the patch operations of `meta`. */
export interface EventProfileInput {
  readonly id?: string | null | undefined;
  readonly attributes: Record<string, unknown>;
  readonly meta?: ProfileMeta | null | undefined;
}

/** The `state.eventKeys` entry of an event: `profileId metricId unique_id` (the time in seconds by default). */
export function eventKey(profileId: string, metricId: string, uniqueId: string): string {
  return `${profileId} ${metricId} ${uniqueId}`;
}

/** The dedup id of an event: its `unique_id`, or else its time in epoch seconds, as Klaviyo defaults it. */
export function dedupId(event: Pick<EventAttributesInput, "unique_id" | "time">, now: number): string {
  return event.unique_id || String(eventTimeMs(event.time, now) / 1000);
}

/** A version-1 (time-based) UUID for `ms`, the kind Klaviyo gives events as `uuid`. */
export function timeUuid(ms: number): string {
  const t = BigInt(ms) * 10_000n + 0x01b21dd213814000n;
  const low = (t & 0xffffffffn).toString(16).padStart(8, "0");
  const mid = ((t >> 32n) & 0xffffn).toString(16).padStart(4, "0");
  const high = (((t >> 48n) & 0x0fffn) | 0x1000n).toString(16).padStart(4, "0");
  const rest = randomPoolBytes(8);
  const clock =
    (((rest[0] ?? 0) & 0x3f) | 0x80).toString(16).padStart(2, "0") +
    (rest[1] ?? 0).toString(16).padStart(2, "0");
  return `${low}-${mid}-${high}-${clock}-${rest.subarray(2).toString("hex")}`;
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== "";
}

function identifiersOf(profile: EventProfileInput): ProfileIdentifiers {
  const ids: ProfileIdentifiers = profile.id ? { id: profile.id } : {};
  for (const key of PROFILE_IDENTIFIERS) {
    const value = profile.attributes[key];
    if (typeof value === "string" && value !== "") ids[key] = value;
  }
  return ids;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

/** Applies `meta.patch_properties` (unset, append, unappend) to a profile's custom properties. */
function patchProperties(properties: Record<string, unknown>, meta: ProfileMeta | null | undefined): boolean {
  const patch = meta?.patch_properties;
  if (!patch) return false;
  if (patch.unset !== null && patch.unset !== undefined)
    for (const key of asArray(patch.unset)) delete properties[String(key)];
  for (const [key, value] of Object.entries(patch.append ?? {})) {
    properties[key] = [...(properties[key] === undefined ? [] : asArray(properties[key])), ...asArray(value)];
  }
  for (const [key, value] of Object.entries(patch.unappend ?? {})) {
    const drop = asArray(value);
    if (Array.isArray(properties[key]))
      properties[key] = properties[key].filter((item) => !drop.includes(item));
  }
  return true;
}

const PLAIN = ["first_name", "last_name", "organization", "locale", "title", "image"] as const;

/** Updates a found profile with what the event says: names and the like, location, properties, new identifiers. */
function updateProfile(state: EmulatorState, row: ProfileRow, profile: EventProfileInput, now: number): void {
  const attrs = row.attributes;
  let changed = false;
  for (const key of PLAIN) {
    const value = profile.attributes[key];
    if (present(value) && attrs[key] !== value) {
      attrs[key] = value;
      changed = true;
    }
  }
  // An identifier the profile lacks is added, unless another profile already holds it.
  for (const key of PROFILE_IDENTIFIERS) {
    const value = profile.attributes[key];
    if (typeof value !== "string" || value === "" || present(attrs[key])) continue;
    if (findProfile(state, { [key]: value })) continue;
    attrs[key] = value;
    indexProfile(state, row);
    changed = true;
  }
  const location = profile.attributes.location;
  if (location && typeof location === "object") {
    const current = { ...(attrs.location as Record<string, unknown>) };
    for (const [key, value] of Object.entries(location)) if (present(value)) current[key] = value;
    changed ||= JSON.stringify(current) !== JSON.stringify(attrs.location);
    attrs.location = current;
  }
  const before = JSON.stringify(attrs.properties ?? {});
  const properties = { ...((attrs.properties as Record<string, unknown> | null) ?? {}) };
  const given = profile.attributes.properties;
  if (given && typeof given === "object") Object.assign(properties, given);
  patchProperties(properties, profile.meta);
  changed ||= JSON.stringify(properties) !== before;
  attrs.properties = properties;
  if (changed) attrs.updated = isoNow(now);
}

/** The profile an event names, found by its identifiers (and updated) or created from its attributes. */
export function upsertEventProfile(
  state: EmulatorState,
  profile: EventProfileInput,
  now: number,
): ProfileRow {
  const found = findProfile(state, identifiersOf(profile));
  if (found) {
    updateProfile(state, found, profile, now);
    return found;
  }
  const given = Object.fromEntries(Object.entries(profile.attributes).filter(([, value]) => present(value)));
  const row = resolveProfile(state, given, now);
  const properties = { ...((row.attributes.properties as Record<string, unknown> | null) ?? {}) };
  if (patchProperties(properties, profile.meta)) row.attributes.properties = properties;
  return row;
}

/**
 * Whether reads (Get Event, Get Events) see the event at `now`. Klaviyo accepts an event (202) before it is
 * indexed, and reads find it only once it is: the emulator holds an event back from reads until its `visibleAt`.
 */
export function eventVisible(row: EventRow, now: number): boolean {
  return row.visibleAt === undefined || now >= row.visibleAt;
}

/**
 * The longest indexing lag the emulator takes (`eventVisibilityDelayMs`, an event's own delay): 365 days, the
 * span of future times Klaviyo accepts, and far beyond any lag seen (17 days, `estuary/connectors#5158`).
 */
export const MAX_EVENT_VISIBILITY_DELAY_MS = 365 * 86_400_000;

/** `value` when it is an indexing lag the emulator takes (milliseconds, 0 to the maximum); throws otherwise. */
export function checkEventVisibilityDelay(value: unknown, what = "eventVisibilityDelayMs"): number {
  return checkMilliseconds(value, what, 0, MAX_EVENT_VISIBILITY_DELAY_MS);
}

/**
 * Holds one event back from reads until `visibleAt` (epoch ms), or shows it at once (`undefined`): an event indexed
 * late, for tests (**emulator-only**: the admin route `PUT /__emulator/events/{id}/visibility`).
 */
export function setEventVisibleAt(row: EventRow, visibleAt: number | undefined): EventRow {
  if (visibleAt === undefined) delete row.visibleAt;
  else row.visibleAt = visibleAt;
  return row;
}

/**
 * Records one validated event for `profile`; `undefined` when an event with the same dedup id was already
 * recorded for this profile and metric (Klaviyo keeps the first and still answers 202). With `delayMs`, reads see
 * it only from `now + delayMs` on (the indexing lag); its `datetime` is its own `time` all the same.
 */
export function recordEvent(
  state: EmulatorState,
  profile: ProfileRow,
  event: EventAttributesInput,
  now = Date.now(),
  delayMs = 0,
): EventRow | undefined {
  const metric = ensureMetric(state, event.metric.data.attributes.name, now);
  const ms = eventTimeMs(event.time, now);
  const uniqueId = dedupId(event, now);
  const key = eventKey(profile.id, metric.id, uniqueId);
  if (state.eventKeys.has(key)) return undefined;
  state.eventKeys.add(key);
  const datetime = isoSeconds(ms);
  // Klaviyo files the dedup id and the value among the properties, under its `$` names. Where it files the value's
  // currency on reading is not documented: the emulator keeps it beside `$value` as `$value_currency`, so that
  // nothing the client sent is lost and a test can see it.
  const eventProperties: Record<string, unknown> = { ...event.properties, $event_id: uniqueId };
  if (event.value !== null && event.value !== undefined) eventProperties.$value = event.value;
  if (event.value_currency) eventProperties.$value_currency = event.value_currency;
  const row: EventRow = {
    id: ulid(now),
    seq: state.events.seq(),
    metricId: metric.id,
    profileId: profile.id,
    attributes: { timestamp: ms / 1000, event_properties: eventProperties, datetime, uuid: timeUuid(ms) },
    ...(delayMs > 0 ? { visibleAt: now + delayMs } : {}),
  };
  state.events.insert(row);
  const last = profile.attributes.last_event_date;
  if (typeof last !== "string" || Date.parse(last) < ms) profile.attributes.last_event_date = datetime;
  for (const listener of state.eventListeners) listener(row);
  return row;
}

/**
 * Records an event Klaviyo records itself (a consent given or withdrawn, …) for `profile` at `now`: its metric,
 * made under Klaviyo's own integration when the account has none of that name, and a `unique_id` of its own, so
 * that two such events for one profile in one second are both kept.
 */
export function recordKlaviyoEvent(
  state: EmulatorState,
  profile: ProfileRow,
  metricName: string,
  properties: Record<string, unknown>,
  now: number,
): EventRow | undefined {
  ensureKlaviyoMetric(state, metricName, now);
  const event: EventAttributesInput = {
    properties,
    time: new Date(now).toISOString(),
    unique_id: crypto.randomUUID(),
    metric: { data: { type: "metric", attributes: { name: metricName } } },
  };
  return recordEvent(state, profile, event, now);
}

/**
 * Tells which events of one bulk request are for the same profile before any profile is created: an
 * existing profile by its id, a new one by any identifier an earlier entry of the request gave it.
 */
export function pendingProfileKeys(state: EmulatorState): (profile: EventProfileInput) => string {
  const pending: ProfileIdentifiers[] = [];
  return (profile) => {
    const ids = identifiersOf(profile);
    const found = findProfile(state, ids);
    if (found) return found.id;
    for (const [index, known] of pending.entries()) {
      for (const key of PROFILE_IDENTIFIERS) {
        const wanted = ids[key];
        if (wanted && sameIdentifier(key, known[key], wanted)) {
          for (const other of PROFILE_IDENTIFIERS) known[other] ??= ids[other];
          return `new:${index}`;
        }
      }
    }
    pending.push({ ...ids });
    return `new:${pending.length - 1}`;
  };
}
