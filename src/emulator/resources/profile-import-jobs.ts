/**
 * Bulk Import Profiles jobs: the request is checked whole (size, count, shape, the list), then every profile is
 * created or updated by identifier as Create Profile and Update Profile would (absent attributes kept, `null`
 * clears, properties merged), and added to the job's list. A profile Klaviyo would refuse (no identifier, an
 * email that is not an address, a phone number not in E.164, an identifier another profile holds, an unknown
 * id) is not imported: it becomes one of the job's import errors, and the others go on.
 *
 * Undocumented, chosen here: Klaviyo runs a job in the background; the emulator imports at creation (so the
 * outcome and the errors are fixed then) and lets the job's status move one step per read of it (Get Bulk Import
 * Profiles Job, or the job in Get Bulk Import Profiles Jobs): `queued` in the 202, `processing` (started_at set)
 * at the first read, `complete` (counts and completed_at) at the second. A client's polling loop thus meets
 * every status, deterministically and without waiting on a timer. An import error's `source.pointer` points
 * into the profile's own attributes (`/data/attributes/email`, as Create Profile's would) and its
 * `original_payload` is the profile's attributes as sent: a client places it by the payload.
 */
import * as v from "valibot";
import { EmulatorProblem } from "../errors.js";
import { invalidAt } from "../request-documents.js";
import type { EmulatorState, ProfileRow } from "../state.js";
import { isoNow, type ResourceRow, ulid } from "../store.js";
import { addMember } from "./lists-members.js";
import { requireList } from "./lists-model.js";
import { E164, EMAIL, findProfile, insertProfile, UNIQUE_IDENTIFIERS } from "./profile-model.js";
import {
  applyProfilePatch,
  checkNewProfile,
  createProfileBody,
  newProfileAttributes,
  type PatchProperties,
  type ProfileInput,
  patchProperties,
} from "./profiles-body.js";

/** "Accepts up to 10,000 profiles per request. The maximum allowed payload size is 5MB … per-profile is 100KB." */
export const IMPORT_JOB_LIMITS = { profiles: 10_000, bytes: 5_000_000, profileBytes: 100_000 } as const;

const PROFILES = "/data/attributes/profiles/data";

const attributes = v.strictObject({
  ...createProfileBody.entries.data.entries.attributes.entries,
  _kx: v.optional(v.nullable(v.string())),
});

const profile = v.strictObject({
  type: v.literal("profile"),
  id: v.optional(v.nullable(v.string())),
  attributes,
  // Klaviyo's `ProfileMeta`: the property patch (append, unappend, unset).
  meta: v.optional(
    v.nullable(
      v.strictObject({
        patch_properties: v.optional(
          v.nullable(
            v.strictObject({
              append: v.optional(v.nullable(v.record(v.string(), v.unknown()))),
              unappend: v.optional(v.nullable(v.record(v.string(), v.unknown()))),
              unset: v.optional(v.nullable(v.union([v.string(), v.array(v.string())]))),
            }),
          ),
        ),
      }),
    ),
  ),
});

export const importJobBody = v.strictObject({
  data: v.strictObject({
    type: v.literal("profile-bulk-import-job"),
    attributes: v.strictObject({ profiles: v.strictObject({ data: v.array(profile) }) }),
    relationships: v.optional(
      v.strictObject({
        lists: v.optional(
          v.strictObject({
            data: v.array(v.strictObject({ type: v.literal("list"), id: v.string() })),
          }),
        ),
      }),
    ),
  }),
});

export type ImportJobBody = v.InferOutput<typeof importJobBody>;

/** One import error, in Klaviyo's wire shape (`ImportErrorResponseObjectResource`). */
export interface ImportErrorRow extends ResourceRow {
  attributes: {
    code: string;
    title: string;
    detail: string;
    source: { pointer: string };
    original_payload: Record<string, unknown>;
  };
}

/** A job: its wire attributes, and what it did (kept for its relationships and its errors). */
export interface ImportJobRow extends ResourceRow {
  listIds: string[];
  /** The profiles it created or updated, in request order. */
  profileIds: string[];
  errors: ImportErrorRow[];
  /** Reads so far (the status moves one step per read). */
  reads: number;
}

/** Checks what Klaviyo checks of a whole job before accepting it (the schema has run). */
export function checkImportJob(state: EmulatorState, body: ImportJobBody): string[] {
  const lists = body.data.relationships?.lists?.data ?? [];
  // The document takes a list of lists but describes "an optional list": the emulator takes at most one.
  if (lists.length > 1)
    throw invalidAt("/data/relationships/lists/data", "At most one list may be given for an import job.");
  const profiles = body.data.attributes.profiles.data;
  if (profiles.length === 0) throw invalidAt(PROFILES, "At least one profile is required.");
  profiles.forEach((p, i) => {
    // Undocumented whether an oversized profile fails the job or only itself: the job is refused (400), as
    // its other size limits refuse it before anything runs.
    if (Buffer.byteLength(JSON.stringify(p)) > IMPORT_JOB_LIMITS.profileBytes)
      throw invalidAt(`${PROFILES}/${i}`, "The maximum allowed payload size per-profile is 100KB.");
  });
  return lists.map((l) => requireList(state, l.id).id);
}

function importError(
  payload: Record<string, unknown>,
  code: string,
  title: string,
  detail: string,
  pointer: string,
  seq: number,
): ImportErrorRow {
  return {
    id: globalThis.crypto.randomUUID(),
    seq,
    attributes: { code, title, detail, source: { pointer }, original_payload: payload },
  };
}

type ImportedProfile = v.InferOutput<typeof profile>;

/** Creates or updates one profile; throws an `EmulatorProblem` for what Klaviyo would not import. */
function importOne(state: EmulatorState, p: ImportedProfile, now: number): ProfileRow {
  const input = p.attributes as ProfileInput & { _kx?: string | null };
  const patch = (p.meta?.patch_properties ?? undefined) as PatchProperties | undefined;
  const { email, phone_number: phone } = input;
  if (typeof email === "string" && email !== "" && !EMAIL.test(email))
    throw invalidAt("/data/attributes/email", `Invalid email address: '${email}'.`);
  if (typeof phone === "string" && phone !== "" && !E164.test(phone))
    throw invalidAt(
      "/data/attributes/phone_number",
      `Invalid phone number format: '${phone}'. Use E.164, such as +15005550006.`,
    );
  let row: ProfileRow | undefined;
  if (p.id) {
    row = state.profiles.get(p.id);
    if (!row)
      throw new EmulatorProblem({
        status: 404,
        code: "not_found",
        title: "Not found.",
        detail: `A profile with id '${p.id}' does not exist.`,
        source: { pointer: "/data/id" },
      });
  } else {
    const ids: Record<string, string> = {};
    for (const key of UNIQUE_IDENTIFIERS) {
      const value = input[key];
      if (typeof value === "string" && value !== "") ids[key] = value;
    }
    row = Object.keys(ids).length > 0 ? findProfile(state, ids) : undefined;
  }
  if (row) {
    applyProfilePatch(state, row, input, patch, now);
    return row;
  }
  checkNewProfile(state, input);
  const created = insertProfile(state, newProfileAttributes(input), now);
  if (patch)
    created.attributes.properties = patchProperties(
      created.attributes.properties as Record<string, unknown>,
      patch,
    );
  return created;
}

/** Runs a job (checked by `checkImportJob`): every profile imported or made an import error. */
export function runImportJob(
  state: EmulatorState,
  body: ImportJobBody,
  listIds: readonly string[],
  now: number,
): ImportJobRow {
  const profiles = body.data.attributes.profiles.data;
  const profileIds: string[] = [];
  const errors: ImportErrorRow[] = [];
  for (const p of profiles) {
    const payload = { ...p.attributes } as Record<string, unknown>;
    try {
      const row = importOne(state, p, now);
      for (const listId of listIds) addMember(state, listId, row.id, now);
      if (!profileIds.includes(row.id)) profileIds.push(row.id);
    } catch (error) {
      if (!(error instanceof EmulatorProblem)) throw error;
      const { init } = error;
      const pointer = init.source && "pointer" in init.source ? init.source.pointer : "/data";
      errors.push(importError(payload, init.code, init.title, init.detail, pointer, errors.length + 1));
    }
  }
  const row: ImportJobRow = {
    id: ulid(now),
    seq: state.profileImportJobs.seq(),
    attributes: {
      status: "queued",
      created_at: isoNow(now),
      total_count: profiles.length,
      completed_count: 0,
      failed_count: 0,
      completed_at: null,
      expires_at: null,
      started_at: null,
    },
    listIds: [...listIds],
    profileIds,
    errors,
    reads: 0,
  };
  state.profileImportJobs.insert(row);
  return row;
}

/** Moves a job one step on (see the module's comment), as a read of it does. */
export function advanceImportJob(row: ImportJobRow, now: number): void {
  row.reads++;
  const a = row.attributes;
  if (a.status === "queued") {
    a.status = "processing";
    a.started_at = isoNow(now);
  } else if (a.status === "processing") {
    const failed = row.errors.length;
    a.status = "complete";
    a.completed_count = (a.total_count as number) - failed;
    a.failed_count = failed;
    a.completed_at = isoNow(now);
    // Klaviyo keeps a job's results for a while; the emulator states 30 days (undocumented).
    a.expires_at = isoNow(now + 30 * 86_400_000);
  }
}
