/**
 * Profiles for Bulk Import Profiles (`POST /api/profile-bulk-import-jobs`): each item is a profile's attributes
 * in Klaviyo's wire names (`{email, phone_number, external_id, first_name, location, properties, …}`), or
 * Klaviyo's own profile object (`{type: "profile", id?, attributes: {…}, meta?}`). Each is checked as Create
 * Profile checks its inputs (at least one identifier, an email address, an E.164 phone number, known members,
 * 100 KB at most) and put in Klaviyo's shape; problems are reported by item, counted from 0.
 *
 * Klaviyo reports the profiles a job could not import at `/import-errors`, each with the profile as it was sent
 * (`original_payload`) and a pointer; `importErrorPositions` maps them back to the positions of the job's items.
 */

import { formatTests, isObject } from "../klaviyo/formats.js";
import { PROFILE_LOCATION_KEYS } from "../klaviyo/identifiers.js";
import { canonicalJson, PROFILE_ATTRIBUTES } from "./event-records.js";

/** Klaviyo's limits for one job: 10,000 profiles, a 5 MB payload, 100 KB per profile (read as 10^3 bytes). */
export const IMPORT_LIMITS = { profiles: 10_000, jobBytes: 5_000_000, profileBytes: 100_000 } as const;

/** Bytes a job's body takes beyond its profiles: the envelope, a list relationship, a comma per profile. */
export const JOB_ENVELOPE_BYTES = 200;

/** One profile of a job, in Klaviyo's shape (`ProfileUpsertQueryResourceObject`). */
export interface ImportProfile {
  type: "profile";
  id?: string;
  attributes: Record<string, unknown>;
  meta?: Record<string, unknown>;
}

/** The attributes a profile takes (Klaviyo's `ProfileUpsertQueryResourceObject`): those of an event's profile but `anonymous_id`. */
export const IMPORT_ATTRIBUTES: readonly string[] = PROFILE_ATTRIBUTES.filter(
  (name) => name !== "anonymous_id",
);

const LOCATION_KEYS: readonly string[] = PROFILE_LOCATION_KEYS;

const describe = (value: unknown) =>
  value === null ? "null" : Array.isArray(value) ? "a list" : typeof value;

function checkLocation(value: unknown, problems: string[]): void {
  if (value === null) return;
  if (!isObject(value)) {
    problems.push(`location must be an object such as {"city":"Boston"}, not ${describe(value)}`);
    return;
  }
  for (const [key, member] of Object.entries(value)) {
    if (!(LOCATION_KEYS as readonly string[]).includes(key)) {
      problems.push(`location: unknown member "${key}" (a location takes ${LOCATION_KEYS.join(", ")})`);
    } else if (key === "latitude" || key === "longitude") {
      const bound = key === "latitude" ? 90 : 180;
      const n =
        typeof member === "number" ? member : typeof member === "string" ? Number(member) : Number.NaN;
      if (member !== null && (!Number.isFinite(n) || Math.abs(n) > bound || member === ""))
        problems.push(`location.${key} must be a number between -${bound} and ${bound}`);
    } else if (member !== null && typeof member !== "string") {
      problems.push(`location.${key} must be text, not ${describe(member)}`);
    }
  }
}

/** Checks attributes (in place: identifiers trimmed); returns the problems. */
function checkAttributes(attributes: Record<string, unknown>, where: string, byId: boolean): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(attributes)) {
    if (!(IMPORT_ATTRIBUTES as readonly string[]).includes(key)) {
      problems.push(`${where}unknown member "${key}" (a profile takes ${IMPORT_ATTRIBUTES.join(", ")})`);
    } else if (key === "location") {
      checkLocation(value, problems);
    } else if (key === "properties") {
      if (value !== null && !isObject(value))
        problems.push(`${where}properties must be an object of names and values, not ${describe(value)}`);
    } else if (value !== null && typeof value !== "string") {
      problems.push(`${where}${key} must be text, not ${describe(value)}`);
    }
  }
  for (const key of ["email", "phone_number", "external_id"] as const) {
    if (typeof attributes[key] === "string") attributes[key] = (attributes[key] as string).trim();
  }
  const { email, phone_number: phone, external_id: externalId } = attributes;
  if (typeof email === "string" && email !== "" && !formatTests.email(email))
    problems.push(`${where}email ${JSON.stringify(email)} is not an email address (name@example.com)`);
  if (typeof phone === "string" && phone !== "" && !formatTests.phone(phone))
    problems.push(
      `${where}phone_number ${JSON.stringify(phone)} is not in E.164 format: + then country code and number, digits only (+15005550006)`,
    );
  const identified = [email, phone, externalId].some((v) => typeof v === "string" && v !== "");
  if (!identified && !byId)
    problems.push(
      `needs an identifier: an email, a phone_number (E.164) or an external_id${where ? " (or the profile's id)" : ""}`,
    );
  return problems;
}

/** One item normalised to Klaviyo's shape, with its problems (none when it may be sent). */
export function normaliseImportProfile(item: unknown): { profile: ImportProfile; problems: string[] } {
  const profile: ImportProfile = { type: "profile", attributes: {} };
  if (!isObject(item)) {
    return {
      profile,
      problems: [
        `must be a profile object, such as {"email":"sarah.mason@example.com","first_name":"Sarah"}, not ${describe(item)}`,
      ],
    };
  }
  const problems: string[] = [];
  if (!("attributes" in item) && !("type" in item)) {
    profile.attributes = { ...item };
    problems.push(...checkAttributes(profile.attributes, "", false));
  } else {
    for (const key of Object.keys(item)) {
      if (!["type", "id", "attributes", "meta"].includes(key))
        problems.push(`unknown member "${key}" (a Klaviyo profile object takes type, id, attributes, meta)`);
    }
    if (item.type !== "profile") problems.push(`type must be "profile", not ${JSON.stringify(item.type)}`);
    if (item.id !== undefined && item.id !== null) {
      if (typeof item.id !== "string" || item.id.trim() === "")
        problems.push("id must be a profile ID (non-empty text)");
      else profile.id = item.id.trim();
    }
    if (item.meta !== undefined && item.meta !== null) {
      if (!isObject(item.meta)) problems.push(`meta must be an object, not ${describe(item.meta)}`);
      else profile.meta = item.meta;
    }
    if (!isObject(item.attributes)) {
      problems.push(`attributes must be an object of profile attributes, not ${describe(item.attributes)}`);
    } else {
      profile.attributes = { ...item.attributes };
      problems.push(...checkAttributes(profile.attributes, "attributes.", profile.id !== undefined));
    }
  }
  if (problems.length === 0) {
    const bytes = Buffer.byteLength(JSON.stringify(profile));
    if (bytes > IMPORT_LIMITS.profileBytes)
      problems.push(`is ${bytes} bytes, over Klaviyo's limit of 100 KB for one profile`);
  }
  return { profile, problems };
}

/** The body of one job. */
export function importJobBody(profiles: readonly ImportProfile[], listId: string | undefined) {
  return {
    data: {
      type: "profile-bulk-import-job",
      attributes: { profiles: { data: profiles } },
      ...(listId === undefined ? {} : { relationships: { lists: { data: [{ type: "list", id: listId }] } } }),
    },
  };
}

/** One of Klaviyo's import errors (`ImportErrorResponseObjectResource`), as read. */
export interface ImportError {
  id?: string;
  attributes?: {
    code?: string;
    title?: string;
    detail?: string;
    source?: { pointer?: string | null } | null;
    original_payload?: Record<string, unknown> | null;
    [key: string]: unknown;
  };
}

/** An import error placed at an input position (`index`, 0-based), or `null` when it names no profile sent. */
export interface PlacedImportError {
  index: number | null;
  code?: string;
  title?: string;
  detail?: string;
  source?: { pointer?: string | null } | null;
}

const IDENTIFIERS = ["external_id", "email", "phone_number"] as const;

function sameIdentifier(key: string, a: unknown, b: unknown): boolean {
  if (typeof a !== "string" || typeof b !== "string" || a === "") return false;
  return key === "email" ? a.toLowerCase() === b.toLowerCase() : a === b;
}

/**
 * Places each import error at the position of the profile it is about: by the pointer, when it points into the
 * job (`/data/attributes/profiles/data/3/…` → the job's 4th profile); else by `original_payload` (the profile as
 * sent, or its attributes): the first profile not yet placed that is that same profile, else one with the same
 * external_id, email or phone number. `positions[i]` is the input position of the job's `i`-th profile.
 */
export function importErrorPositions(
  errors: readonly ImportError[],
  profiles: readonly ImportProfile[],
  positions: readonly number[],
): PlacedImportError[] {
  const taken = new Set<number>();
  let canonical: string[] | undefined;
  const place = (error: ImportError): number | undefined => {
    const a = error.attributes ?? {};
    const pointer = a.source?.pointer ?? undefined;
    const at = pointer ? /^\/data\/attributes\/profiles\/data\/(\d+)(?:\/|$)/.exec(pointer) : null;
    if (at) {
      const i = Number(at[1]);
      return i < profiles.length ? i : undefined;
    }
    const payload = a.original_payload;
    if (!isObject(payload)) return undefined;
    const attributes = isObject(payload.attributes) ? payload.attributes : payload;
    canonical ??= profiles.map((p) => canonicalJson(p.attributes));
    const wanted = canonicalJson(attributes);
    const free = (i: number) => !taken.has(i);
    const same = canonical.findIndex((c, i) => c === wanted && free(i));
    if (same >= 0) return same;
    // A second error about a profile already placed (two bad members of one profile).
    const again = canonical.indexOf(wanted);
    if (again >= 0) return again;
    if (typeof payload.id === "string") {
      const byId = profiles.findIndex((p, i) => p.id === payload.id && free(i));
      if (byId >= 0) return byId;
    }
    for (const key of IDENTIFIERS) {
      const i = profiles.findIndex(
        (p, i) => free(i) && sameIdentifier(key, p.attributes[key], attributes[key]),
      );
      if (i >= 0) return i;
    }
    return undefined;
  };
  return errors.map((error) => {
    const i = place(error);
    if (i !== undefined) taken.add(i);
    const a = error.attributes ?? {};
    return {
      index: i === undefined ? null : (positions[i] ?? null),
      ...(a.code !== undefined ? { code: a.code } : {}),
      ...(a.title !== undefined ? { title: a.title } : {}),
      ...(a.detail !== undefined ? { detail: a.detail } : {}),
      ...(a.source !== undefined ? { source: a.source } : {}),
    };
  });
}

/** One error's reason, as `rejected[].reason` gives it. */
export function importErrorReason(error: PlacedImportError): string {
  const pointer = error.source?.pointer;
  return `${error.detail ?? error.title ?? error.code ?? "not imported"}${error.code ? ` (${error.code})` : ""}${pointer ? ` [${pointer}]` : ""}`;
}
