/**
 * Segment membership, computed from the state on demand: condition groups are AND-ed and the conditions of a
 * group OR-ed (Klaviyo's segments overview). Evaluated: profile properties, list and segment membership (with a
 * list join-date timeframe), marketing consent, metric counts and sums of events, and region; conditions that
 * need data the emulator does not hold (predictive analytics, postal distance, custom objects, WhatsApp
 * permissions, funnels) match no one.
 */
import type { EmulatorState, ProfileRow } from "../state.js";
import type { ResourceRow } from "../store.js";
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
 * The profiles in a segment now, in profile creation order, each with when it joined (the later of the
 * profile's creation and the segment's: the emulator evaluates membership on demand, not as it changes).
 */
export function segmentMembers(
  state: EmulatorState,
  segment: ResourceRow,
  now = Date.now(),
): Map<ProfileRow, string> {
  const ctx: Context = { state, now, visiting: new Set([segment.id]) };
  const members = new Map<ProfileRow, string>();
  const since = String(segment.attributes.created ?? "");
  for (const profile of state.profiles.values()) {
    if (!matchesDefinition(ctx, segment, profile)) continue;
    const created = String(profile.attributes.created ?? "");
    members.set(profile, (timeOf(created) ?? 0) > (timeOf(since) ?? 0) ? created : since);
  }
  return members;
}
