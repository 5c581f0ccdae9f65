/**
 * Merge Profiles (`POST /api/profile-merge`) and Request Profile Deletion (`POST /api/data-privacy-deletion-jobs`):
 * the two ways a profile leaves the account besides nothing at all.
 *
 * Both are asynchronous on Klaviyo (a merge "queues an asynchronous task"; a deletion "occurs asynchronously").
 * The emulator does the work before answering, as it runs the subscription jobs, so the next read sees it.
 */
import * as v from "valibot";
import { EmulatorProblem, notFound } from "../errors.js";
import { invalidAt } from "../request-documents.js";
import type { EmulatorState, EventRow, ProfileRow } from "../state.js";
import { isoNow } from "../store.js";
import { eventKey } from "./events-model.js";
import { addMember, listIdsOf, removeMember } from "./lists-members.js";
import { indexProfile, profileWith, reindexProfile } from "./profile-model.js";
import { checkIdentifierSyntax } from "./profiles-body.js";

export const mergeProfilesBody = v.strictObject({
  data: v.strictObject({
    type: v.literal("profile-merge"),
    id: v.string(),
    relationships: v.strictObject({
      profiles: v.strictObject({
        data: v.array(v.strictObject({ type: v.literal("profile"), id: v.string() })),
      }),
    }),
  }),
});

export type MergeProfilesBody = v.InferOutput<typeof mergeProfilesBody>;

export const deletionJobBody = v.strictObject({
  data: v.strictObject({
    type: v.literal("data-privacy-deletion-job"),
    attributes: v.strictObject({
      profile: v.strictObject({
        data: v.strictObject({
          type: v.literal("profile"),
          id: v.optional(v.nullable(v.string())),
          attributes: v.strictObject({
            email: v.optional(v.nullable(v.string())),
            phone_number: v.optional(v.nullable(v.string())),
          }),
        }),
      }),
    }),
  }),
});

export type DeletionJobBody = v.InferOutput<typeof deletionJobBody>;

/** Removes a profile and everything that is only its: its events, its list memberships, its index entries. */
export function removeProfile(state: EmulatorState, row: ProfileRow): void {
  for (const event of [...state.events.values()]) {
    if (event.profileId === row.id) state.events.delete(event.id);
  }
  for (const key of [...state.eventKeys]) if (key.startsWith(`${row.id} `)) state.eventKeys.delete(key);
  for (const listId of listIdsOf(state, row.id)) removeMember(state, listId, row.id);
  state.profiles.delete(row.id);
  // Drops the index entries that point at it (a profile with no attributes holds no identifier).
  reindexProfile(state, { ...row, attributes: {} }, row.attributes);
}

/** The newer of two Klaviyo timestamps (either may be missing). */
function later(a: unknown, b: unknown): unknown {
  if (typeof a !== "string") return b ?? a;
  if (typeof b !== "string") return a;
  return Date.parse(b) > Date.parse(a) ? b : a;
}

const isBlank = (value: unknown) => value === null || value === undefined || value === "";

/**
 * Merges `source` into `destination` and deletes `source`. What Klaviyo's Help Center describes, read as: the
 * destination keeps every value it has; attributes it lacks (identifiers included) and custom properties it
 * lacks are taken from the source; the source's events are re-assigned to it (with their de-duplication keys),
 * and it joins every list the source was in, keeping its own joining time where it was already a member (the
 * time a joined list counts from is not documented: the merge's time is used). Consent is the destination's
 * (Klaviyo does not document merging consent; keeping the surviving profile's is the cautious reading).
 */
export function mergeProfiles(
  state: EmulatorState,
  destination: ProfileRow,
  source: ProfileRow,
  now: number,
): void {
  const lists = listIdsOf(state, source.id);
  const taken: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source.attributes)) {
    if (key === "created" || key === "updated" || key === "location" || key === "properties") continue;
    if (isBlank(destination.attributes[key]) && !isBlank(value)) taken[key] = value;
  }
  const location = { ...((source.attributes.location as object | null) ?? {}) } as Record<string, unknown>;
  for (const [key, value] of Object.entries((destination.attributes.location as object | null) ?? {})) {
    if (!isBlank(value) || !(key in location)) location[key] = value;
  }
  const properties = {
    ...((source.attributes.properties as object | null) ?? {}),
    ...((destination.attributes.properties as object | null) ?? {}),
  };

  for (const event of state.events.values()) {
    if (event.profileId !== source.id) continue;
    // `profileId` is fixed for an event's life everywhere else; a merge is the one change of owner there is.
    (event as { -readonly [K in keyof EventRow]: EventRow[K] }).profileId = destination.id;
    const uniqueId = (event.attributes.event_properties as Record<string, unknown> | undefined)?.$event_id;
    if (typeof uniqueId === "string") state.eventKeys.add(eventKey(destination.id, event.metricId, uniqueId));
  }
  // The source's events are the destination's now, so removing it leaves them.
  removeProfile(state, source);
  // The source is gone (and its identifiers with it) before the destination takes them over.
  Object.assign(destination.attributes, taken, {
    location,
    properties,
    last_event_date: later(destination.attributes.last_event_date, source.attributes.last_event_date),
    updated: isoNow(now),
  });
  for (const listId of lists) addMember(state, listId, destination.id, now);
  indexProfile(state, destination);
}

/** The destination and the one source a merge names (404 for an unknown profile, 400 for anything else). */
export function mergeParties(
  state: EmulatorState,
  body: MergeProfilesBody,
): { destination: ProfileRow; source: ProfileRow } {
  const sources = body.data.relationships.profiles.data;
  if (sources.length !== 1) {
    throw invalidAt(
      "/data/relationships/profiles/data",
      `This endpoint accepts exactly one source profile; ${sources.length} were given.`,
    );
  }
  const sourceId = (sources[0] as { id: string }).id;
  if (sourceId === body.data.id) {
    throw invalidAt(
      "/data/relationships/profiles/data/0/id",
      "A profile cannot be merged into itself: the source and destination must differ.",
    );
  }
  const destination = state.profiles.get(body.data.id);
  if (!destination) throw notFound(`A profile with id '${body.data.id}' does not exist.`);
  const source = state.profiles.get(sourceId);
  if (!source) {
    throw new EmulatorProblem({
      status: 404,
      code: "not_found",
      title: "Not found.",
      detail: `A profile with id '${sourceId}' does not exist.`,
      source: { pointer: "/data/relationships/profiles/data/0/id" },
    });
  }
  return { destination, source };
}

/**
 * Runs a deletion job: exactly one identifier (the document: "If multiple identifiers are provided, we will
 * return an error"), then every profile it names is removed with its events and memberships. The deletion is
 * immediate here (Klaviyo's is asynchronous); an identifier no profile holds is accepted and deletes nothing
 * (Klaviyo does not document that case; a privacy endpoint that does not tell whether a person is known is the
 * plausible reading). Returns how many profiles were deleted.
 */
export function runDeletionJob(state: EmulatorState, body: DeletionJobBody): number {
  const profile = body.data.attributes.profile.data;
  const base = "/data/attributes/profile/data";
  const given = [
    ...(isBlank(profile.id) ? [] : [{ key: "id", pointer: `${base}/id` }]),
    ...(["email", "phone_number"] as const)
      .filter((key) => !isBlank(profile.attributes[key]))
      .map((key) => ({ key, pointer: `${base}/attributes/${key}` })),
  ];
  if (given.length !== 1) {
    throw invalidAt(
      given[1]?.pointer ?? `${base}/attributes`,
      given.length === 0
        ? "One identifier is required: email, phone_number or id."
        : `Only one identifier may be given; got ${given.map((g) => g.key).join(", ")}.`,
    );
  }
  checkIdentifierSyntax(profile.attributes, `${base}/attributes`);
  const targets: ProfileRow[] = [];
  if (profile.id) {
    const row = state.profiles.get(profile.id);
    if (row) targets.push(row);
  } else {
    const key = (given[0] as { key: "email" | "phone_number" }).key;
    const row = profileWith(state, key, String(profile.attributes[key]));
    if (row) targets.push(row);
  }
  for (const row of targets) removeProfile(state, row);
  return targets.length;
}
