/**
 * Klaviyo's ingestion limits for events, and the profile checks Create Event and the bulk job make before
 * anything is recorded. Sources: the OpenAPI descriptions of `properties` ("must not exceed 400 properties",
 * "each string cannot be larger than 100 KB") and `time` ("after the year 1990 and can only be up to 1 year in
 * the future"), and the docs' ingestion-limit table (4000 items per array, 10 levels of nested objects).
 * Each violation is a 400 pointing at the offending member.
 */

import { EVENT_LIMITS, overStringLimit } from "../../klaviyo/event-limits.js";
import { parseFilterDate } from "../../klaviyo/filter.js";
import { isObject } from "../../klaviyo/formats.js";
import { pointerOf } from "../body.js";
import { invalidBody, type ProblemInit } from "../errors.js";
import type { EmulatorState } from "../state.js";
import { E164, EMAIL, findProfile, PROFILE_IDENTIFIERS } from "./profile-model.js";

type Path = readonly (string | number)[];

/**
 * Walks `value` (found at `path`), adding a problem for each string over the size limit, each array over the
 * item limit and, when `depth` is finite, each container nested deeper than allowed (not descending further).
 */
function walk(value: unknown, path: Path, depth: number, out: ProblemInit[]): void {
  if (out.length >= 20) return;
  if (typeof value === "string") {
    if (overStringLimit(value)) {
      out.push(invalidBody(pointerOf(path), `Strings cannot be larger than 100 KB.`));
    }
    return;
  }
  const container = Array.isArray(value) || isObject(value);
  if (!container) return;
  if (depth > EVENT_LIMITS.depth) {
    out.push(
      invalidBody(
        pointerOf(path),
        `Event properties cannot be nested more than ${EVENT_LIMITS.depth} levels deep.`,
      ),
    );
    return;
  }
  if (Array.isArray(value)) {
    if (value.length > EVENT_LIMITS.arrayItems) {
      out.push(
        invalidBody(pointerOf(path), `Arrays cannot have more than ${EVENT_LIMITS.arrayItems} items.`),
      );
    }
    value.forEach((item, i) => {
      walk(item, [...path, i], depth + 1, out);
    });
    return;
  }
  for (const [key, item] of Object.entries(value)) walk(item, [...path, key], depth + 1, out);
}

/** The event's time in epoch milliseconds (`now` when absent), truncated to the second as Klaviyo stores it. */
export function eventTimeMs(time: string | null | undefined, now: number): number {
  const parsed = time ? parseFilterDate(time)?.getTime() : undefined;
  return Math.floor((parsed ?? now) / 1000) * 1000;
}

/** What is wrong with one event (its attributes at `path`) by Klaviyo's ingestion limits. */
export function eventLimitProblems(
  attributes: { properties: Record<string, unknown>; time?: string | null | undefined } & Record<
    string,
    unknown
  >,
  path: Path,
  now: number,
): ProblemInit[] {
  const out: ProblemInit[] = [];
  const count = Object.keys(attributes.properties).length;
  if (count > EVENT_LIMITS.properties) {
    out.push(
      invalidBody(
        pointerOf([...path, "properties"]),
        `Events cannot have more than ${EVENT_LIMITS.properties} properties; this one has ${count}.`,
      ),
    );
  }
  if (attributes.time) {
    const at = eventTimeMs(attributes.time, now);
    if (at < EVENT_LIMITS.earliest) {
      out.push(invalidBody(pointerOf([...path, "time"]), "The time must be after the year 1990."));
    } else if (at > now + EVENT_LIMITS.aheadMs) {
      out.push(invalidBody(pointerOf([...path, "time"]), "The time can only be up to 1 year in the future."));
    }
  }
  walk(attributes.properties, [...path, "properties"], 1, out);
  for (const [key, value] of Object.entries(attributes)) {
    if (key !== "properties") walk(value, [...path, key], Number.NEGATIVE_INFINITY, out);
  }
  return out;
}

/** A profile as an event names it: `data.id` and the attributes (identifiers and the rest). */
export interface ProfileReference {
  readonly id?: string | null | undefined;
  readonly attributes: Record<string, unknown>;
}

/** What is wrong with the profile an event names (`data` at `path`): no identifier, a bad email or phone, an unknown id. */
export function profileProblems(state: EmulatorState, profile: ProfileReference, path: Path): ProblemInit[] {
  const out: ProblemInit[] = [];
  const attrs = profile.attributes;
  const given = PROFILE_IDENTIFIERS.filter((key) => typeof attrs[key] === "string" && attrs[key] !== "");
  if (!profile.id && given.length === 0) {
    out.push(
      invalidBody(
        pointerOf([...path, "attributes"]),
        "A profile identifier is required: one of id, email, phone_number, external_id, anonymous_id or _kx.",
      ),
    );
  }
  if (typeof attrs.email === "string" && attrs.email !== "" && !EMAIL.test(attrs.email)) {
    out.push(
      invalidBody(pointerOf([...path, "attributes", "email"]), `Invalid email address: '${attrs.email}'.`),
    );
  }
  if (typeof attrs.phone_number === "string" && attrs.phone_number !== "" && !E164.test(attrs.phone_number)) {
    out.push(
      invalidBody(
        pointerOf([...path, "attributes", "phone_number"]),
        "Invalid phone number format (Example of a valid phone number format: +12345678901).",
      ),
    );
  }
  if (profile.id && !findProfile(state, { id: profile.id })) {
    out.push(invalidBody(pointerOf([...path, "id"]), `There is no profile with id '${profile.id}'.`));
  }
  for (const [key, value] of Object.entries(attrs))
    walk(value, [...path, "attributes", key], Number.NEGATIVE_INFINITY, out);
  return out;
}
