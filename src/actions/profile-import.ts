/**
 * Bulk Import Profiles: any number of profiles, created or updated by identifier in Klaviyo's import jobs (at
 * most 10,000 profiles and 5 MB each), each job waited for, and every profile accounted for by its position.
 */
import * as v from "valibot";
import { importCheckedProfiles } from "../ingest/index.js";
import { type ImportProfile, normaliseImportProfile } from "../ingest/profile-import-records.js";
import { itemProblems } from "../ingest/subscription-records.js";
import { type Schema, transformWith } from "../klaviyo/schema.js";
import { defineAction } from "./define.js";
import { type InputDefinition, idSchema, input } from "./inputs.js";

/** The Profiles input: a JSON array, every item checked and put in Klaviyo's shape before anything is sent. */
const importProfilesSchema: Schema<ImportProfile[]> = v.pipe(
  v.array(v.unknown(), "must be a JSON array of profiles"),
  transformWith((items, ctx) => {
    if (items.length === 0) {
      ctx.addIssue({ message: "must hold at least one profile" });
      return undefined as never;
    }
    const out: ImportProfile[] = [];
    const problems: Array<{ index: number; problem: string }> = [];
    items.forEach((item, index) => {
      const normalised = normaliseImportProfile(item);
      for (const problem of normalised.problems) problems.push({ index, problem });
      out.push(normalised.profile);
    });
    if (problems.length > 0) {
      for (const message of itemProblems(problems)) ctx.addIssue({ message });
      return undefined as never;
    }
    return out;
  }),
);

const listIdInput: InputDefinition<string, false, string> = {
  ...input.text({
    key: "listId",
    label: "List ID",
    comments:
      "The list to add every imported profile to (six characters, such as Y6nRLr). Adding to a list this way records no consent: use Subscribe Profiles for that. Leave empty to import without a list.",
    example: "Y6nRLr",
  }),
  schema: idSchema,
};

/** `POST /api/profile-bulk-import-jobs` (10/s, 150/m; ≤ 10,000 profiles and 5 MB a job; 202), then the job polled. */
export const bulkImportProfiles = defineAction({
  key: "bulk-import-profiles",
  label: "Bulk Import Profiles",
  description:
    "Creates or updates many profiles at once through Klaviyo's bulk import jobs: each profile is matched by its identifiers (email, phone number, external ID, or its id) and updated, attributes not given being kept, or created when none matches; given a List ID, every imported profile is also added to that list. Klaviyo takes 10,000 profiles and 5 MB per job, so the profiles are split into as many jobs as needed; each job is created, then read until Klaviyo completes it (waiting half a second, then longer, up to 10 seconds between reads), and the profiles it could not import are read from its import errors. Returns total, accepted, rejected (each by its position in the Profiles array, counted from 0, with Klaviyo's reason), failed (profiles of a job whose end was not seen before the timeout: importing them again is safe), unsent, complete, and one report per job (its id, Klaviyo's status, total_count, completed_count, failed_count, and its import errors with positions). Limited to 10 requests per second, 150 per minute, for the jobs and their reads alike. Needs the profiles:write scope, lists:write with a List ID, and profiles:read and lists:read to follow the jobs.",
  operation: "bulk_import_profiles",
  alsoCalls: ["get_bulk_import_profiles_job", "get_errors_for_bulk_import_profiles_job"],
  inputs: {
    profiles: input.json<ImportProfile[], true>(
      {
        key: "profiles",
        label: "Profiles",
        required: true,
        comments:
          'The profiles to create or update, as a JSON array of profile attributes in Klaviyo\'s names: email, phone_number (E.164, such as +15005550006), external_id, first_name, last_name, organization, title, locale, image, location (an object: address1, city, region, country, zip, timezone, latitude, longitude, …) and properties (an object of custom properties). Klaviyo\'s own profile object, {"type":"profile","id":…,"attributes":{…}}, is taken too. Each needs at least one identifier: an email, a phone number or an external ID (or the profile\'s id). Any number of items; every item is checked before anything is sent, and problems are reported by item, counted from 0.',
        example:
          '[{"email":"sarah.mason@example.com","first_name":"Sarah","properties":{"plan":"gold"}},{"phone_number":"+15005550006","external_id":"crm-63f64a2b"}]',
      },
      importProfilesSchema,
      "each item checked as a profile: an identifier (email address, E.164 phone number, external ID), known attributes, at most 100 KB",
    ),
    listId: listIdInput,
    waitTimeout: input.number(
      {
        key: "waitTimeout",
        label: "Wait Timeout",
        comments:
          "How long to wait, in seconds, for all the jobs to complete (default 300, at most 3600). Jobs not created by then are reported unsent; profiles of jobs still running are reported failed, with the job's ID to read later.",
        example: "120",
        default: 300,
      },
      { min: 1, max: 3600, integer: true },
    ),
  },
  async perform({ client, signal }, { profiles, listId, waitTimeout }) {
    const result = await importCheckedProfiles(client, profiles, {
      ...(listId !== undefined ? { listId } : {}),
      deadline: client.clock.now() + (waitTimeout ?? 300) * 1000,
      ...(signal ? { signal } : {}),
    });
    const { duplicates: _none, ...report } = result;
    return report;
  },
});
