/**
 * Segment membership, computed from the state on demand: condition groups are AND-ed and the conditions of a
 * group OR-ed (Klaviyo's segments overview). Evaluated: profile properties, list and segment membership (with a
 * list join-date timeframe), marketing consent, metric counts and sums of events, and region; conditions that
 * need data the emulator does not hold (predictive analytics, postal distance, custom objects, WhatsApp
 * permissions, funnels) match no one.
 */
import type { EmulatorState, ProfileRow } from "../state.js";
import { isoNow, type ResourceRow } from "../store.js";
import { matchFilter, matchMeasurement, timeOf } from "./segments-match.js";

type Json = Record<string, unknown>;

function obj(value: unknown): Json {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** EU member states, by ISO code and English name, for `profile-region`. */
const EU = new Set(
  (
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE Austria Belgium Bulgaria " +
    "Croatia Cyprus Czechia Denmark Estonia Finland France Germany Greece Hungary Ireland Italy Latvia Lithuania " +
    "Luxembourg Malta Netherlands Poland Portugal Romania Slovakia Slovenia Spain Sweden"
  )
    .split(" ")
    .map((s) => s.toLowerCase()),
);
const US = new Set(["us", "usa", "united states", "united states of america"]);

/**
 * A profile property by the name a condition gives it: a top-level attribute (`email`), a location member
 * (`location['city']` or `city`), or a custom property (`properties['Favorite Color']` or its bare name).
 */
export function profileProperty(profile: ProfileRow, name: string): unknown {
  const bracket = /^(properties|location)\[(['"])(.*)\2\]$/.exec(name);
  const attributes = profile.attributes;
  if (bracket) return obj(attributes[bracket[1] as string])[bracket[3] as string];
  if (name in attributes && name !== "properties" && name !== "location") return attributes[name];
  const location = obj(attributes.location);
  if (name in location) return location[name];
  return obj(attributes.properties)[name];
}

interface Context {
  readonly state: EmulatorState;
  readonly now: number;
  /** Segments being evaluated, so a segment that names itself (directly or not) matches no one. */
  readonly visiting: Set<string>;
}

function inGroup(ctx: Context, groupId: string, profile: ProfileRow, timeframe: unknown): boolean {
  const joined = ctx.state.memberships.get(groupId)?.get(profile.id);
  if (joined !== undefined) return timeframe ? matchFilter(timeframe, joined, ctx.now) : true;
  const segment = ctx.state.segments.get(groupId);
  if (!segment || ctx.visiting.has(groupId)) return false;
  ctx.visiting.add(groupId);
  try {
    return matchesDefinition(ctx, segment, profile);
  } finally {
    ctx.visiting.delete(groupId);
  }
}

function consentMatches(profile: ProfileRow, consent: Json): boolean {
  const channel = consent.channel;
  const can = consent.can_receive_marketing === true;
  const subscription = obj(consent.consent_status).subscription;
  if (channel === "push") return !can; // The emulator holds no push tokens: no one can receive push.
  const marketing = obj(obj(obj(profile.subscriptions)[String(channel)]).marketing);
  const receives =
    marketing[channel === "email" ? "can_receive_email_marketing" : "can_receive_sms_marketing"] === true;
  if (receives !== can) return false;
  switch (subscription) {
    case "any":
      return true;
    case "subscribed":
      return marketing.consent === "SUBSCRIBED";
    case "unsubscribed":
      return marketing.consent === "UNSUBSCRIBED";
    case "never_subscribed":
      return marketing.consent === "NEVER_SUBSCRIBED";
    default:
      return false;
  }
}

function metricMatches(ctx: Context, profile: ProfileRow, condition: Json): boolean {
  let count = 0;
  let sum = 0;
  for (const event of ctx.state.events.values()) {
    if (event.profileId !== profile.id || event.metricId !== condition.metric_id) continue;
    const when = event.attributes.datetime ?? event.attributes.timestamp;
    if (!matchFilter(condition.timeframe_filter, when, ctx.now)) continue;
    const properties = obj(event.attributes.event_properties);
    const filters = arr(condition.metric_filters).map(obj);
    if (!filters.every((f) => !f.filter || matchFilter(f.filter, properties[String(f.property)], ctx.now)))
      continue;
    count += 1;
    const value = Number(properties.$value);
    if (Number.isFinite(value)) sum += value;
  }
  return matchMeasurement(condition.measurement_filter, condition.measurement === "sum" ? sum : count);
}

function conditionMatches(ctx: Context, condition: Json, profile: ProfileRow): boolean {
  switch (condition.type) {
    case "profile-property":
      return matchFilter(condition.filter, profileProperty(profile, String(condition.property)), ctx.now);
    case "profile-group-membership": {
      const ids = arr(condition.group_ids).map(String);
      const member = ids.some((id) => inGroup(ctx, id, profile, condition.timeframe_filter));
      return condition.is_member === true ? member : !member;
    }
    case "profile-marketing-consent":
      return consentMatches(profile, obj(condition.consent));
    case "profile-metric":
      return metricMatches(ctx, profile, condition);
    case "profile-region": {
      const country = String(obj(profile.attributes.location).country ?? "").toLowerCase();
      const inside = condition.region === "united_states" ? US.has(country) : EU.has(country);
      return condition.in_region === true ? inside : !inside;
    }
    default:
      return false;
  }
}

function matchesDefinition(ctx: Context, segment: ResourceRow, profile: ProfileRow): boolean {
  const groups = arr(obj(segment.attributes.definition).condition_groups).map(obj);
  if (groups.length === 0) return false;
  return groups.every((group) => arr(group.conditions).some((c) => conditionMatches(ctx, obj(c), profile)));
}

/**
 * Since when a satisfied condition has held, where the state knows it: membership of a list since the profile
 * joined it (of the earliest list it is in, of those named), of a segment since it joined that segment; any other
 * condition since the beginning (0): the emulator keeps no history of properties or consent.
 */
function conditionSince(ctx: Context, condition: Json, profile: ProfileRow): number {
  if (condition.type !== "profile-group-membership" || condition.is_member !== true) return 0;
  let since = Number.POSITIVE_INFINITY;
  for (const id of arr(condition.group_ids).map(String)) {
    if (!inGroup(ctx, id, profile, condition.timeframe_filter)) continue;
    const listJoined = ctx.state.memberships.get(id)?.get(profile.id);
    const segment = listJoined === undefined ? ctx.state.segments.get(id) : undefined;
    const joined =
      listJoined !== undefined
        ? timeOf(listJoined)
        : segment && !ctx.visiting.has(id)
          ? joinedAt(ctx, segment, profile)
          : undefined;
    since = Math.min(since, joined ?? 0);
  }
  return Number.isFinite(since) ? since : 0;
}

/**
 * When the profile joined the segment, for a profile that matches it: the latest of the segment's creation, the
 * profile's creation and the time its conditions started to hold (`conditionSince`: a group holds from its
 * earliest satisfied condition, the definition from its latest group). Klaviyo says `joined_group_at` is when the
 * profile joined; the emulator evaluates membership on demand, so this reading reconstructs the first time the
 * profile matched from what the state records, and is stable from one request to the next.
 */
function joinedAt(ctx: Context, segment: ResourceRow, profile: ProfileRow): number {
  ctx.visiting.add(segment.id);
  try {
    let since = Math.max(
      timeOf(String(segment.attributes.created ?? "")) ?? 0,
      timeOf(String(profile.attributes.created ?? "")) ?? 0,
    );
    for (const group of arr(obj(segment.attributes.definition).condition_groups).map(obj)) {
      const conditions = arr(group.conditions).map(obj);
      // A matching profile satisfies every group; one without a membership condition holds since 0.
      if (!conditions.some((c) => c.type === "profile-group-membership" && c.is_member === true)) continue;
      let earliest = Number.POSITIVE_INFINITY;
      for (const c of conditions) {
        if (conditionMatches(ctx, c, profile)) earliest = Math.min(earliest, conditionSince(ctx, c, profile));
      }
      if (Number.isFinite(earliest)) since = Math.max(since, earliest);
    }
    return since;
  } finally {
    ctx.visiting.delete(segment.id);
  }
}

/** The profiles in a segment now, in profile creation order, each with when it joined (`joinedAt`). */
export function segmentMembers(
  state: EmulatorState,
  segment: ResourceRow,
  now = Date.now(),
): Map<ProfileRow, string> {
  const ctx: Context = { state, now, visiting: new Set([segment.id]) };
  const members = new Map<ProfileRow, string>();
  for (const profile of state.profiles.values()) {
    if (!matchesDefinition(ctx, segment, profile)) continue;
    ctx.visiting.delete(segment.id);
    members.set(profile, isoNow(joinedAt(ctx, segment, profile)));
    ctx.visiting.add(segment.id);
  }
  return members;
}
