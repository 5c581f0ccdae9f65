import { InputValidationError } from "../core/errors.js";
import { type BulkResult, chunkRanges, reasonsByPointer, sendInChunks } from "../ingest/bulk.js";
import {
  historicalImportProblems,
  itemProblems,
  type JobProfile,
  MAX_PROFILES_PER_REQUEST,
  profileIndexOf,
  profilesSchema,
  type SubscriptionMode,
} from "../ingest/subscription-records.js";
import { defineAction } from "./define.js";
import { type InputDefinition, idSchema, input } from "./inputs.js";

/**
 * Bytes per request: Klaviyo states no payload limit for these jobs (only the profile counts); 5 MB is the limit
 * of its other bulk jobs, kept here so that very large profiles still go in several requests.
 */
const MAX_REQUEST_BYTES = 5_000_000;

const FLAT_HELP =
  'Each item is either a flat profile, {"email":"sarah@example.com","phone_number":"+15005550006","channels":["email","sms"]}, or Klaviyo\'s own profile object, {"type":"profile","attributes":{"email":…,"phone_number":…,"subscriptions":{"email":{"marketing":{"consent":…}}}}}.';

const profilesInput = (mode: SubscriptionMode) =>
  input.json<JobProfile[], true>(
    {
      key: "profiles",
      label: "Profiles",
      required: true,
      comments:
        mode === "subscribe"
          ? `The profiles to subscribe, as a JSON array. ${FLAT_HELP} A flat profile gets email marketing consent when it has an email, SMS marketing consent when it has a phone number (E.164, such as +15005550006), unless channels names which; consented_at (ISO 8601, in the past) and age_gated_date_of_birth are optional, and id may name an existing profile. Klaviyo's shape also reaches SMS transactional, WhatsApp, push and email open tracking, with consent "SUBSCRIBED". Any number of items: they are sent 1,000 per request. Every item is checked before anything is sent, and problems are reported by item, counted from 0.`
          : `The profiles to unsubscribe, as a JSON array. ${FLAT_HELP} A flat profile loses email marketing consent when it has an email, SMS marketing consent when it has a phone number (E.164, such as +15005550006), unless channels names which. Klaviyo's shape also reaches SMS transactional, WhatsApp, push and email open tracking, with consent "UNSUBSCRIBED"; profiles are identified by email or phone number only. Any number of items: they are sent 100 per request (Klaviyo's limit). Every item is checked before anything is sent, and problems are reported by item, counted from 0.`,
      example: '[{"email":"sarah.mason@example.com"},{"phone_number":"+15005550006","channels":["sms"]}]',
    },
    profilesSchema(mode),
    "each item checked as a profile to (un)subscribe: identifiers (email, E.164 phone number), channels, consent times",
  );

const optionalListId = (comments: string): InputDefinition<string, false, string> => ({
  ...input.text({ key: "listId", label: "List ID", comments, example: "Y6nRLr" }),
  schema: idSchema,
});

/** Sends the profiles in requests of at most `max`, reporting each item. */
async function sendJobs(
  mode: SubscriptionMode,
  profiles: readonly JobProfile[],
  build: (chunk: readonly JobProfile[]) => unknown,
  send: (body: unknown) => Promise<unknown>,
): Promise<BulkResult> {
  const ranges = chunkRanges(profiles, MAX_PROFILES_PER_REQUEST[mode], MAX_REQUEST_BYTES, (p) =>
    Buffer.byteLength(JSON.stringify(p)),
  );
  return sendInChunks(
    ranges,
    async ({ from, to }) => {
      await send(build(profiles.slice(from, to)));
    },
    reasonsByPointer(profileIndexOf),
  );
}

const listRelationship = (listId: string | undefined) =>
  listId === undefined ? {} : { relationships: { list: { data: { type: "list", id: listId } } } };

/** `POST /api/profile-subscription-bulk-create-jobs` (75/s, 750/m; ≤ 1,000 profiles per request; 202). */
export const subscribeProfiles = defineAction({
  key: "subscribe-profiles",
  label: "Subscribe Profiles",
  description:
    "Records marketing consent for profiles, by email, SMS or both (and, in Klaviyo's own profile shape, WhatsApp, push and SMS transactional), creating the profiles that do not exist yet. Given a List ID, the profiles also join that list; if the list uses double opt-in, they first receive a confirmation message and join once they confirm. It lifts unsubscribe, spam-report and manual suppressions. Klaviyo takes 1,000 profiles per request, so larger arrays are split; each request is a job Klaviyo accepts (202) and carries out shortly after. Returns what became of every item: total, accepted, rejected (by item, with Klaviyo's reason), failed, unsent, complete and one report per request. Use it only for people who gave consent. Limited to 75 requests per second, 750 per minute.",
  operation: "bulk_subscribe_profiles",
  inputs: {
    profiles: profilesInput("subscribe"),
    listId: optionalListId(
      "The list to add the profiles to as they are subscribed (six characters, such as Y6nRLr). Leave empty to record consent without a list; the account's default opt-in process then applies.",
    ),
    historicalImport: input.boolean({
      key: "historicalImport",
      label: "Historical Import",
      comments:
        "Set to true when importing consent given in the past (for example from another platform): no confirmation messages are sent and no 'added to list' flows start. Klaviyo then requires consented_at, a past ISO 8601 time, on every consent, and refuses consented_at without it.",
    }),
    customSource: input.text({
      key: "customSource",
      label: "Custom Source",
      comments:
        "Where the consent was collected, recorded as the consent's method detail (such as Spring trade show). Free text.",
      example: "Marketing Event",
    }),
  },
  async perform({ send }, { profiles, listId, historicalImport, customSource }) {
    const problems = historicalImportProblems(profiles, historicalImport === true, Date.now());
    if (problems.length > 0) {
      throw new InputValidationError(
        itemProblems(problems).map((message) => ({ label: "Profiles", key: "profiles", message })),
        "Subscribe Profiles",
      );
    }
    return sendJobs(
      "subscribe",
      profiles,
      (chunk) => ({
        data: {
          type: "profile-subscription-bulk-create-job",
          attributes: {
            ...(customSource !== undefined ? { custom_source: customSource } : {}),
            profiles: { data: chunk },
            ...(historicalImport !== undefined ? { historical_import: historicalImport } : {}),
          },
          ...listRelationship(listId),
        },
      }),
      (body) =>
        send({
          body,
        }),
    );
  },
});

/** `POST /api/profile-subscription-bulk-delete-jobs` (75/s, 750/m; ≤ 100 profiles per request; 202). */
export const unsubscribeProfiles = defineAction({
  key: "unsubscribe-profiles",
  label: "Unsubscribe Profiles",
  description:
    "Withdraws marketing consent from profiles, by email, SMS or both (and, in Klaviyo's own profile shape, WhatsApp, push and SMS transactional), identified by email address or phone number. With a List ID, a profile that is a member of that list only leaves it (and is suppressed for it); beware: a profile that is NOT in the list is unsubscribed globally, from all email marketing, as is every profile when no list is given. Klaviyo takes 100 profiles per request, so larger arrays are split; each request is a job Klaviyo accepts (202) and carries out shortly after. Returns what became of every item: total, accepted, rejected (by item, with Klaviyo's reason), failed, unsent, complete and one report per request. Limited to 75 requests per second, 750 per minute.",
  operation: "bulk_unsubscribe_profiles",
  inputs: {
    profiles: profilesInput("unsubscribe"),
    listId: optionalListId(
      "The list to unsubscribe the profiles from (six characters, such as Y6nRLr). Members of it just leave it; profiles that are not members are unsubscribed globally. Leave empty to unsubscribe globally.",
    ),
  },
  async perform({ send }, { profiles, listId }) {
    return sendJobs(
      "unsubscribe",
      profiles,
      (chunk) => ({
        data: {
          type: "profile-subscription-bulk-delete-job",
          attributes: { profiles: { data: chunk } },
          ...listRelationship(listId),
        },
      }),
      (body) =>
        send({
          body,
          // Withdrawing consent twice leaves the same state: safe to retry after a dropped answer.
          idempotent: true,
        }),
    );
  },
});
