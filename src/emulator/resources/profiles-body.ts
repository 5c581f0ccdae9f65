/**
 * Create and Update Profile bodies: their schemas (unknown members refused with a pointer), Klaviyo's server
 * rules the schema does not state (an identifier is required, email syntax, E.164 phone numbers, identifiers
 * unique across profiles → 409 `duplicate_profile`), and PATCH semantics (absent keeps, `null` clears,
 * `meta.patch_properties` appends to, removes from and unsets custom properties).
 */
import * as v from "valibot";
import { EmulatorProblem } from "../errors.js";
import { invalidAt } from "../request-documents.js";
import type { EmulatorState, ProfileRow } from "../state.js";
import { isoNow } from "../store.js";
import {
  blankProfileAttributes,
  E164,
  EMAIL,
  profileWith,
  reindexProfile,
  UNIQUE_IDENTIFIERS,
} from "./profile-model.js";

/** Create and Update Profile: "The maximum allowed payload size is 100KB" (read as 100,000 bytes). */
export const PROFILE_BODY_LIMIT = 100_000;

const text = v.optional(v.nullable(v.string()));
const coordinate = v.optional(v.nullable(v.union([v.string(), v.pipe(v.number(), v.finite())])));

const location = v.strictObject({
  address1: text,
  address2: text,
  city: text,
  country: text,
  latitude: coordinate,
  longitude: coordinate,
  region: text,
  zip: text,
  timezone: text,
  ip: text,
});

const attributes = v.strictObject({
  email: text,
  phone_number: text,
  external_id: text,
  first_name: text,
  last_name: text,
  organization: text,
  locale: text,
  title: text,
  image: text,
  // Nullable in the document (create and update): null leaves a new profile without one and clears an old one's.
  location: v.optional(v.nullable(location)),
  properties: v.optional(v.nullable(v.record(v.string(), v.unknown()))),
});

export type ProfileInput = v.InferOutput<typeof attributes>;

export const createProfileBody = v.strictObject({
  data: v.strictObject({ type: v.literal("profile"), attributes }),
});

const patchPropertiesSchema = v.strictObject({
  append: v.optional(v.nullable(v.record(v.string(), v.unknown()))),
  unappend: v.optional(v.nullable(v.record(v.string(), v.unknown()))),
  unset: v.optional(v.nullable(v.union([v.string(), v.array(v.string())]))),
});

export const updateProfileBody = v.strictObject({
  data: v.strictObject({
    type: v.literal("profile"),
    id: v.string(),
    attributes,
    meta: v.optional(
      v.strictObject({
        patch_properties: v.optional(patchPropertiesSchema),
        // Secondary emails: accepted as Klaviyo does, but the emulator's profiles keep one address each.
        patch_identifiers: v.optional(
          v.strictObject({
            append: v.optional(v.record(v.string(), v.unknown())),
            unappend: v.optional(v.record(v.string(), v.unknown())),
          }),
        ),
      }),
    ),
  }),
});

export type PatchProperties = v.InferOutput<typeof patchPropertiesSchema>;

const IDENTIFIER_REQUIRED = "At least one identifier (email, phone_number or external_id) is required.";

/** 400 pointing at the identifier when an email is not an address or a phone number not E.164. */
export function checkIdentifierSyntax(
  input: { email?: string | null; phone_number?: string | null },
  base: string,
): void {
  if (typeof input.email === "string" && !EMAIL.test(input.email)) {
    throw invalidAt(`${base}/email`, `Invalid email address: '${input.email}'.`);
  }
  if (typeof input.phone_number === "string" && !E164.test(input.phone_number)) {
    throw invalidAt(
      `${base}/phone_number`,
      `Invalid phone number format: '${input.phone_number}'. Use E.164, such as +15005550006.`,
    );
  }
}

/** 409 `duplicate_profile` as Klaviyo answers it, naming the profile that already has the identifier. */
export function duplicateProfile(existingId: string): EmulatorProblem {
  return new EmulatorProblem({
    status: 409,
    code: "duplicate_profile",
    title: "Conflict.",
    detail: "A profile already exists with one of these identifiers.",
    source: { pointer: "/data/attributes" },
    meta: { duplicate_profile_id: existingId },
  });
}

/** Throws 409 when another profile than `self` has one of the unique identifiers given. */
export function checkDuplicates(state: EmulatorState, input: ProfileInput, self?: string): void {
  for (const key of UNIQUE_IDENTIFIERS) {
    const wanted = input[key];
    if (typeof wanted !== "string" || wanted === "") continue;
    const holder = profileWith(state, key, wanted);
    if (holder && holder.id !== self) throw duplicateProfile(holder.id);
  }
}

/** The rules Create Profile applies beyond its schema. */
export function checkNewProfile(state: EmulatorState, input: ProfileInput): void {
  if (!UNIQUE_IDENTIFIERS.some((key) => typeof input[key] === "string" && input[key] !== "")) {
    throw invalidAt("/data/attributes", IDENTIFIER_REQUIRED);
  }
  checkIdentifierSyntax(input, "/data/attributes");
  checkDuplicates(state, input);
}

/** Wire attributes for a new profile: what was given, with `null` properties read as none. */
export function newProfileAttributes(input: ProfileInput): Record<string, unknown> {
  const { properties, location, ...rest } = input;
  return { ...rest, ...(location ? { location } : {}), properties: properties ?? {} };
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** `meta.patch_properties` applied to a copy of `properties`. */
export function patchProperties(
  properties: Record<string, unknown>,
  patch: PatchProperties,
): Record<string, unknown> {
  const out = { ...properties };
  for (const [key, value] of Object.entries(patch.append ?? {})) {
    const current = out[key];
    out[key] = [...(current === undefined || current === null ? [] : asArray(current)), ...asArray(value)];
  }
  for (const [key, value] of Object.entries(patch.unappend ?? {})) {
    const current = out[key];
    if (!Array.isArray(current)) continue;
    const drop = asArray(value);
    out[key] = current.filter((member) => !drop.some((d) => sameValue(d, member)));
  }
  for (const key of patch.unset === undefined || patch.unset === null ? [] : asArray(patch.unset)) {
    delete out[String(key)];
  }
  return out;
}

/**
 * Applies an Update Profile body to the row: present attributes replace (null clears), `location` and
 * `properties` are merged key by key, then the property patch. Checks identifiers first (400 / 409), and
 * that the profile keeps at least one identifier, so a refused PATCH changes nothing.
 */
export function applyProfilePatch(
  state: EmulatorState,
  row: ProfileRow,
  input: ProfileInput,
  patch: PatchProperties | undefined,
  now: number,
): void {
  checkIdentifierSyntax(input, "/data/attributes");
  checkDuplicates(state, input, row.id);
  const { location, properties, ...scalars } = input;
  const next: Record<string, unknown> = { ...row.attributes, ...scalars };
  const identified = [...UNIQUE_IDENTIFIERS, "anonymous_id", "_kx"].some(
    (key) => typeof next[key] === "string" && next[key] !== "",
  );
  if (!identified) throw invalidAt("/data/attributes", IDENTIFIER_REQUIRED);
  if (location === null) next.location = blankProfileAttributes(isoNow(now)).location;
  else if (location)
    next.location = { ...((row.attributes.location as object | undefined) ?? {}), ...location };
  const stored = (row.attributes.properties as Record<string, unknown> | null | undefined) ?? {};
  let merged = properties === null ? {} : { ...stored, ...(properties ?? {}) };
  if (patch) merged = patchProperties(merged, patch);
  next.properties = merged;
  next.updated = isoNow(now);
  const before = row.attributes;
  row.attributes = next;
  reindexProfile(state, row, before);
}
