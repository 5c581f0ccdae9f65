/**
 * Create or Update Profile (`POST /api/profile-import`): the body (Create Profile's attributes, plus `_kx`, an
 * optional `id` and Update Profile's `meta`), the profile it names, and the upsert: 201 with a new profile when
 * none matches, 200 with the matched one updated as Update Profile updates (absent keeps, `null` clears,
 * `location` and `properties` merged, `meta.patch_properties` applied).
 */
import * as v from "valibot";
import { EmulatorProblem } from "../errors.js";
import type { EmulatorState, ProfileRow } from "../state.js";
import { insertProfile, profileWith, reindexProfile, UNIQUE_IDENTIFIERS } from "./profile-model.js";
import {
  applyProfilePatch,
  checkDuplicates,
  checkIdentifierSyntax,
  checkNewProfile,
  newProfileAttributes,
  type PatchProperties,
  type ProfileInput,
  patchProperties,
  updateProfileBody,
} from "./profiles-body.js";

const data = updateProfileBody.entries.data.entries;

export const importProfileBody = v.strictObject({
  data: v.strictObject({
    type: v.literal("profile"),
    id: v.optional(v.nullable(v.string())),
    attributes: v.strictObject({
      ...data.attributes.entries,
      _kx: v.optional(v.nullable(v.string())),
    }),
    meta: data.meta,
  }),
});

export type ImportProfileBody = v.InferOutput<typeof importProfileBody>;

/**
 * The profile a profile-import names: by `id` when given (an unknown id is 404: Klaviyo does not document the
 * case; a 404 naming `/data/id` is the plausible reading, since creating a profile under a caller's id is not
 * possible), else the first holder of an identifier in Klaviyo's matching order (email, phone number, external
 * ID, then `_kx`).
 */
function matchedProfile(state: EmulatorState, body: ImportProfileBody): ProfileRow | undefined {
  const { id, attributes } = body.data;
  if (id) {
    const row = state.profiles.get(id);
    if (!row) {
      throw new EmulatorProblem({
        status: 404,
        code: "not_found",
        title: "Not found.",
        detail: `A profile with id '${id}' does not exist.`,
        source: { pointer: "/data/id" },
      });
    }
    return row;
  }
  for (const key of [...UNIQUE_IDENTIFIERS, "_kx"] as const) {
    const wanted = attributes[key];
    if (typeof wanted !== "string" || wanted === "") continue;
    const row = profileWith(state, key, wanted);
    if (row) return row;
  }
  return undefined;
}

/**
 * Applies a profile-import. A refused import (400 for identifier syntax, 409 `duplicate_profile` when another
 * profile than the matched one holds a given identifier, 404 for an unknown id) changes nothing.
 */
export function importProfile(
  state: EmulatorState,
  body: ImportProfileBody,
  now: number,
): { row: ProfileRow; created: boolean } {
  const { _kx: kx, ...input } = body.data.attributes;
  const patch: PatchProperties | undefined = body.data.meta?.patch_properties;
  checkIdentifierSyntax(input, "/data/attributes");
  const row = matchedProfile(state, body);
  // The identifiers given must all be the matched profile's or no one's: an email of one profile with the
  // phone number of another is Klaviyo's 409 `duplicate_profile`, naming the other profile.
  checkDuplicates(state, input as ProfileInput, row?.id);
  if (row) {
    applyProfilePatch(state, row, input as ProfileInput, patch, now);
    if (kx !== undefined) setKx(state, row, kx);
    return { row, created: false };
  }
  checkNewProfile(state, input as ProfileInput);
  const attributes = newProfileAttributes(input as ProfileInput);
  if (patch) attributes.properties = patchProperties(attributes.properties as Record<string, unknown>, patch);
  const created = insertProfile(state, attributes, now);
  if (kx) setKx(state, created, kx);
  return { row: created, created: true };
}

/** `_kx` is kept beside the attributes (Get Profile does not return it; Get Profiles filters on it). */
function setKx(state: EmulatorState, row: ProfileRow, kx: string | null): void {
  const before = { ...row.attributes };
  if (kx === null) delete row.attributes._kx;
  else row.attributes._kx = kx;
  reindexProfile(state, row, before);
}
