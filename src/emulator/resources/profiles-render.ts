/**
 * Profile resource objects as Klaviyo returns them: every schema attribute (null when unknown), the
 * `subscriptions` and `predictive_analytics` blocks when `additional-fields[profile]` asks, relationship links,
 * and relationship data plus `included` resources for `include=lists,…`.
 */
import { isObject } from "../../klaviyo/formats.js";
import type { Included, JsonApiResource, Relationship } from "../documents.js";
import { relationshipLinks, resource } from "../documents.js";
import type { QueryContext } from "../query.js";
import type { EmulatorState, ProfileRow } from "../state.js";
import { listIdsOf } from "./lists-members.js";
import { listResource } from "./lists-model.js";
import { blankPredictiveAnalytics, blankSubscriptions, PROFILE_ATTRIBUTES } from "./profile-model.js";

type Json = Record<string, unknown>;

/** `base` with `over` laid on top, object by object (so a stored block missing a channel still has it). */
function overlay(base: Json, over: unknown): Json {
  if (!isObject(over)) return base;
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const under = out[key];
    out[key] =
      isObject(under) && isObject(value)
        ? overlay(under, value)
        : value === null && isObject(under)
          ? under
          : value;
  }
  return out;
}

function channel(subscriptions: Json, name: string, kind: string): Json | undefined {
  const found = subscriptions[name];
  const value = isObject(found) ? found[kind] : undefined;
  return isObject(value) ? value : undefined;
}

function hasText(value: unknown): boolean {
  return typeof value === "string" && value !== "";
}

/**
 * The profile's `subscriptions` block. The `can_receive_*` flags are derived as Klaviyo documents them: email
 * marketing is receivable by a profile with an address and no global suppression (implicit consent), SMS only
 * by a subscribed profile with a number.
 */
export function renderSubscriptions(row: ProfileRow): Json {
  const out = overlay(blankSubscriptions(), row.subscriptions);
  const email = channel(out, "email", "marketing");
  if (email) {
    const suppressed = Array.isArray(email.suppression) && email.suppression.length > 0;
    email.can_receive_email_marketing =
      hasText(row.attributes.email) && !suppressed && email.consent !== "UNSUBSCRIBED";
  }
  const phone = hasText(row.attributes.phone_number);
  const sms = channel(out, "sms", "marketing");
  if (sms) sms.can_receive_sms_marketing = phone && sms.consent === "SUBSCRIBED";
  const transactional = channel(out, "sms", "transactional");
  if (transactional)
    transactional.can_receive_sms_transactional = phone && transactional.consent === "SUBSCRIBED";
  return out;
}

/** The schema's attributes of a profile, in order; identifiers the schema lacks (`anonymous_id`, `_kx`) stay out. */
export function profileAttributes(row: ProfileRow, query: QueryContext): Json {
  const out: Json = {};
  for (const key of PROFILE_ATTRIBUTES) out[key] = row.attributes[key] ?? (key === "properties" ? {} : null);
  const extra = query.additional.get("profile");
  if (extra?.has("subscriptions")) out.subscriptions = renderSubscriptions(row);
  if (extra?.has("predictive_analytics")) {
    out.predictive_analytics = overlay(blankPredictiveAnalytics(), row.attributes.predictive_analytics);
  }
  return out;
}

/** Relationships of profiles on most endpoints; Get Profile(s) add `conversations`. */
export const PROFILE_RELATIONSHIPS = ["lists", "segments", "push-tokens"] as const;
export const PROFILE_RELATIONSHIPS_WITH_CONVERSATIONS = [...PROFILE_RELATIONSHIPS, "conversations"] as const;

export interface ProfileRenderOptions {
  readonly relationships: readonly string[];
  /** Attributes this endpoint adds (`joined_group_at` on Get Profiles for List). */
  readonly extra?: Json;
  /** Where included resources go, on endpoints that take `include`. */
  readonly included?: Included;
}

/** A profile resource object. */
export function profileResource(
  state: EmulatorState,
  query: QueryContext,
  row: ProfileRow,
  options: ProfileRenderOptions,
): JsonApiResource {
  const relationships: Record<string, Relationship> = {};
  for (const name of options.relationships) {
    const links = relationshipLinks(query, "profiles", row.id, name);
    if (!(options.included && query.include.has(name))) {
      relationships[name] = { links };
      continue;
    }
    // Segments are not evaluated against profiles, and the emulator keeps no push tokens or conversations.
    const data: Array<{ type: string; id: string }> = [];
    if (name === "lists") {
      for (const listId of listIdsOf(state, row.id)) {
        const list = state.lists.get(listId);
        if (!list) continue;
        data.push({ type: "list", id: listId });
        options.included.add(listResource(state, query, list));
      }
    }
    relationships[name] = { data, links };
  }
  return resource(
    query,
    "profile",
    "profiles",
    row.id,
    { ...profileAttributes(row, query), ...options.extra },
    relationships,
  );
}
