/**
 * The everyday profile actions beyond the specification: Create or Update Profile (profile-import), Find Profile
 * (by one identifier, its value escaped into the filter), Merge Profiles, Request Profile Deletion, and Suppress /
 * Unsuppress Profiles (bulk jobs of at most 100 addresses, or a whole list or segment).
 */
import * as v from "valibot";
import { InputValidationError } from "../core/errors.js";
import {
  type BulkResult,
  type ChunkReport,
  chunkRanges,
  reasonsByPointer,
  sendInChunks,
} from "../ingest/bulk.js";
import { filter, formatFilter } from "../klaviyo/filter.js";
import { defineAction } from "./define.js";
import { type InputDefinition, idSchema, input, textFormats } from "./inputs.js";
import {
  additionalProfileFieldsInput,
  listParam,
  nameListInput,
  PROFILE_ATTRIBUTE_NAMES,
  type ProfileAttributeKey,
  profileAttributeInputs,
  profileAttributes,
  profileFieldsInput,
} from "./profiles-inputs.js";

const CLEARABLE = Object.values(PROFILE_ATTRIBUTE_NAMES);

/** An optional Klaviyo ID input. */
function optionalId(base: {
  key: string;
  label: string;
  comments: string;
  example: string;
}): InputDefinition<string, false, string> {
  return { ...input.text(base), schema: idSchema };
}

/** A list of values, each checked by `item`, given as a JSON array or comma-separated text. */
function listInput<const R extends boolean>(
  base: { key: string; label: string; comments: string; example: string; required?: R },
  item: v.GenericSchema<string, string>,
  what: string,
): InputDefinition<string[], R, string | string[]> {
  const schema = v.pipe(
    v.union([v.string(), v.array(v.string())], `must be a list of ${what} or comma-separated text`),
    v.transform((value: string | string[]) =>
      (Array.isArray(value) ? value : value.split(",")).map((s) => s.trim()).filter((s) => s.length > 0),
    ),
    v.array(item),
    v.minLength(1, `must name at least one ${what.replace(/s$/, "")}`),
  ) as unknown as InputDefinition<string[], R, string | string[]>["schema"];
  return {
    ...base,
    type: "fields",
    required: (base.required ?? false) as R,
    schema,
    checks: `at least one item; each item (of the list, or between the commas) checked as one of the ${what}`,
  };
}

/** Refuses unless exactly one of the inputs named by `keys` was given, naming them all. */
function exactlyOne(
  values: Readonly<Record<string, unknown>>,
  inputs: Readonly<Record<string, InputDefinition>>,
  keys: readonly string[],
  action: string,
  why: string,
): string {
  const given = keys.filter((key) => values[key] !== undefined);
  if (given.length === 1) return given[0] as string;
  const labels = keys.map((key) => inputs[key]?.label ?? key);
  const first = inputs[given[1] ?? keys[0] ?? ""] as InputDefinition;
  throw new InputValidationError(
    [
      {
        label: first.label,
        key: first.key,
        message:
          given.length === 0
            ? `one of ${labels.join(", ")} is required: ${why}`
            : `give only one of ${labels.join(", ")} (got ${given.map((k) => inputs[k]?.label).join(" and ")}): ${why}`,
      },
    ],
    action,
  );
}

// ---------------------------------------------------------------------------------------------------------
// Create or Update Profile

const createOrUpdateInputs = {
  profileId: optionalId({
    key: "profileId",
    label: "Profile ID",
    comments:
      "The ID of the profile to update (26 characters, such as 01GDDKASAP8TKDDA2GRZDSVP4H). Leave empty to find the profile by its email address, phone number or external ID instead, or to create it when none matches.",
    example: "01GDDKASAP8TKDDA2GRZDSVP4H",
  }),
  ...profileAttributeInputs(),
  clearFields: input.fields(
    {
      key: "clearFields",
      label: "Clear Fields",
      comments: `Attributes to empty on the profile (sent to Klaviyo as null), as a list or comma-separated text: ${CLEARABLE.join(", ")}. Attributes neither given nor named here keep their values. An attribute cannot be both given and cleared.`,
      example: "title,organization",
    },
    CLEARABLE,
  ),
  unsetProperties: nameListInput({
    key: "unsetProperties",
    label: "Unset Properties",
    comments:
      "Names of custom properties to delete from the profile, as a list or comma-separated text (Klaviyo's meta.patch_properties.unset); the other custom properties are kept.",
    example: "old_plan,legacy_id",
  }),
};

/** What Create or Update Profile returns: Klaviyo's document, and whether the profile was created or updated. */
export interface CreateOrUpdateProfileOutput {
  /** True when Klaviyo made a new profile (201), false when it updated one (200). */
  created: boolean;
  data: unknown;
  links?: unknown;
}

/** `POST /api/profile-import` (75/s, 750/m): 201 created, 200 updated. */
export const createOrUpdateProfile = defineAction({
  key: "create-or-update-profile",
  label: "Create or Update Profile",
  description:
    "Creates a profile, or updates the one that already has the email address, phone number or external ID given (or the Profile ID, when given), in one request, and says which it did (created: true or false) beside the profile as Klaviyo stored it. Attributes not given keep their values; Clear Fields empties attributes, Unset Properties deletes custom properties; Location and Properties are merged into what the profile has. When the identifiers given belong to different profiles (the email address to one, the phone number to another), Klaviyo answers 409 and the action fails with a ConflictError whose duplicateProfileId names the profile holding the conflicting identifier. At least one of Profile ID, email address, phone number and external ID is needed; this is checked before sending. Limited to 75 requests per second, 750 per minute. Needs the profiles:write scope.",
  operation: "create_or_update_profile",
  inputs: createOrUpdateInputs,
  async perform({ send }, values) {
    const { profileId, clearFields, unsetProperties } = values;
    const label = "Create or Update Profile";
    if (
      profileId === undefined &&
      values.email === undefined &&
      values.phoneNumber === undefined &&
      values.externalId === undefined
    ) {
      throw new InputValidationError(
        [
          {
            label: "Individual's email address",
            key: "email",
            message:
              "is required unless Phone Number, External ID or Profile ID is given: Klaviyo finds or creates the profile by one of them",
          },
        ],
        label,
      );
    }
    const attributes = profileAttributes(values);
    const both = (clearFields ?? []).filter((name) => attributes[name] !== undefined);
    if (both.length > 0) {
      const keyOf = Object.fromEntries(
        Object.entries(PROFILE_ATTRIBUTE_NAMES).map(([key, name]) => [name, key as ProfileAttributeKey]),
      );
      throw new InputValidationError(
        both.map((name) => ({
          label: "Clear Fields",
          key: "clearFields",
          message: `names ${name}, which ${createOrUpdateInputs[keyOf[name] as ProfileAttributeKey].label} also sets: give a value or clear it, not both`,
        })),
        label,
      );
    }
    for (const name of clearFields ?? []) attributes[name] = null;
    const body = {
      data: {
        type: "profile",
        ...(profileId !== undefined ? { id: profileId } : {}),
        attributes,
        ...(unsetProperties?.length ? { meta: { patch_properties: { unset: unsetProperties } } } : {}),
      },
    };
    const size = Buffer.byteLength(JSON.stringify(body));
    if (size > 100_000) {
      throw new InputValidationError(
        [
          {
            label: "Properties",
            key: "properties",
            message: `makes the request ${size} bytes, over Klaviyo's limit of 100 KB for a profile`,
          },
        ],
        label,
      );
    }
    // An upsert sent twice leaves the same profile (no append is ever sent): safe to retry after a dropped answer.
    const res = await send({ body, idempotent: true });
    const doc = res.body as { data: unknown; links?: unknown };
    return { created: res.status === 201, ...doc } as CreateOrUpdateProfileOutput;
  },
});

// ---------------------------------------------------------------------------------------------------------
// Find Profile

const FIND_KEYS = ["email", "phoneNumber", "externalId"] as const;
const FIND_FIELDS = { email: "email", phoneNumber: "phone_number", externalId: "external_id" } as const;

const findInputs = {
  email: input.text(
    {
      key: "email",
      label: "Email",
      comments:
        "The email address to look for, such as sarah.mason@example.com. Give exactly one of Email, Phone Number and External ID.",
      example: "sarah.mason@example.com",
    },
    "email",
  ),
  phoneNumber: input.text(
    {
      key: "phoneNumber",
      label: "Phone Number",
      comments:
        "The phone number to look for, in E.164 format: +, country code, number (such as +15005550006). Give exactly one of Email, Phone Number and External ID.",
      example: "+15005550006",
    },
    "phone",
  ),
  externalId: input.text({
    key: "externalId",
    label: "External ID",
    comments:
      "The identifier another system gave the person (such as crm-63f64a2b), matched exactly; any text, quotes and commas included. Give exactly one of Email, Phone Number and External ID.",
    example: "crm-63f64a2b",
  }),
  match: input.enum(
    {
      key: "match",
      label: "Match",
      comments:
        "Which matches to return: first (the one profile found, or null when there is none) or all (every profile that holds the value, possibly none).",
      default: "first",
      example: "all",
    },
    ["first", "all"] as const,
  ),
  fields: profileFieldsInput(),
  additionalFields: additionalProfileFieldsInput("get_profiles"),
};

/** What Find Profile returns: the profile (`first`) or profiles (`all`), and whether any was found. */
export interface FindProfileOutput {
  found: boolean;
  /** `first`: the profile or null; `all`: every profile found (possibly none). */
  data: unknown;
}

/** `GET /api/profiles?filter=equals(<identifier>,'…')` (75/s, 750/m). */
export const findProfile = defineAction({
  key: "find-profile",
  label: "Find Profile",
  description:
    "Looks a profile up by one identifier: its email address, phone number or external ID (exactly one; checked before sending). The value is written into Klaviyo's filter as a quoted, escaped literal, so any text (quotes, commas, parentheses, backslashes) is matched as itself and nothing else. With Match first it returns the profile found, or null; with Match all, every profile holding the value. Not finding anyone is a normal result (found: false), not an error. Limited to 75 requests per second, 750 per minute. Needs the profiles:read scope.",
  operation: "get_profiles",
  inputs: findInputs,
  async perform({ client, requestOf }, values) {
    const key = exactlyOne(
      values,
      findInputs,
      FIND_KEYS,
      "Find Profile",
      "a profile is looked up by one identifier",
    ) as (typeof FIND_KEYS)[number];
    const query = {
      filter: formatFilter(filter.equals(FIND_FIELDS[key], values[key] as string)),
      "fields[profile]": listParam(values.fields),
      "additional-fields[profile]": listParam(values.additionalFields),
    };
    const first = values.match !== "all";
    const found: unknown[] = [];
    for await (const page of client.paginate({
      ...requestOf({ query }),
      pageSize: first ? 1 : 100,
      ...(first ? { maxPages: 1 } : {}),
    })) {
      found.push(...page.data);
    }
    return { found: found.length > 0, data: first ? (found[0] ?? null) : found } as FindProfileOutput;
  },
});

// ---------------------------------------------------------------------------------------------------------
// Merge Profiles

const mergeInputs = {
  profileId: input.id({
    key: "profileId",
    label: "Profile ID",
    comments:
      "The profile to keep (26 characters, such as 01GDDKASAP8TKDDA2GRZDSVP4H): the others are merged into it and it keeps its ID.",
    example: "01GDDKASAP8TKDDA2GRZDSVP4H",
  }),
  sourceProfileIds: listInput(
    {
      key: "sourceProfileIds",
      label: "Profiles to Merge",
      required: true,
      comments:
        "The IDs of the profiles to merge into the kept one, as a list or comma-separated text (such as 01GDDKASAP8TKDDA2GRZDSVP4I). Each is merged in its own request (Klaviyo takes one at a time) and then deleted: its events and list memberships pass to the kept profile, and values the kept profile lacks are taken from it.",
      example: "01GDDKASAP8TKDDA2GRZDSVP4I",
    },
    idSchema,
    "profile IDs",
  ),
};

/** `POST /api/profile-merge` (10/s, 150/m), once per merged profile. */
export const mergeProfiles = defineAction({
  key: "merge-profiles",
  label: "Merge Profiles",
  description:
    "Merges one or more profiles into the profile to keep: each merged profile is deleted, its events and list memberships pass to the kept profile, and attributes the kept profile lacks are filled from it (the kept profile's own values win). Klaviyo merges one profile per request and carries each out shortly after (asynchronously), so this sends one request per merged profile, in order, and reports each: total, accepted, rejected (by position, with Klaviyo's reason), failed, unsent, and complete. The kept profile cannot be among those merged, nor a profile named twice; this is checked before sending. Limited to 10 requests per second, 150 per minute. Needs the profiles:write scope.",
  operation: "merge_profiles",
  inputs: mergeInputs,
  async perform({ send }, { profileId, sourceProfileIds }) {
    const issues = sourceProfileIds.flatMap((id, i) =>
      id === profileId
        ? [`item ${i} is the Profile ID itself: a profile cannot be merged into itself`]
        : sourceProfileIds.indexOf(id) !== i
          ? [`item ${i} (${id}) is named twice`]
          : [],
    );
    if (issues.length > 0) {
      throw new InputValidationError(
        issues.map((message) => ({ label: "Profiles to Merge", key: "sourceProfileIds", message })),
        "Merge Profiles",
      );
    }
    const result = await sendInChunks(
      chunkRanges(sourceProfileIds, 1, Number.POSITIVE_INFINITY, () => 0),
      async ({ from }) => {
        await send({
          body: {
            data: {
              type: "profile-merge",
              id: profileId,
              relationships: { profiles: { data: [{ type: "profile", id: sourceProfileIds[from] }] } },
            },
          },
        });
      },
      reasonsByPointer((pointer) => (pointer.startsWith("/data") ? 0 : undefined)),
    );
    for (const request of result.requests) if (request.status === "accepted") request.httpStatus = 201;
    return { profileId, ...result };
  },
});

// ---------------------------------------------------------------------------------------------------------
// Request Profile Deletion

const deletionInputs = {
  email: input.text(
    {
      key: "email",
      label: "Email",
      comments:
        "The email address of the person whose profile is to be deleted, such as sarah.mason@example.com. Give exactly one of Email, Phone Number and Profile ID.",
      example: "sarah.mason@example.com",
    },
    "email",
  ),
  phoneNumber: input.text(
    {
      key: "phoneNumber",
      label: "Phone Number",
      comments:
        "The phone number of the person whose profile is to be deleted, in E.164 format (such as +15005550006). Give exactly one of Email, Phone Number and Profile ID.",
      example: "+15005550006",
    },
    "phone",
  ),
  profileId: optionalId({
    key: "profileId",
    label: "Profile ID",
    comments:
      "The ID of the profile to delete (26 characters, such as 01GDDKASAP8TKDDA2GRZDSVP4H). Give exactly one of Email, Phone Number and Profile ID.",
    example: "01GDDKASAP8TKDDA2GRZDSVP4H",
  }),
};

/** `POST /api/data-privacy-deletion-jobs` (3/s, 60/m): 202, no body. */
export const requestProfileDeletion = defineAction({
  key: "request-profile-deletion",
  label: "Request Profile Deletion",
  description:
    "Asks Klaviyo to delete a person's data for good (a GDPR or CCPA deletion request): every profile matching the identifier, with its events and list memberships. Exactly one identifier per request: an email address, a phone number or a profile ID (checked before sending). Klaviyo accepts the request (202) and carries it out shortly after; it cannot be undone, and the deleted profile then appears on the account's Deleted Profiles page. Returns the identifier the request named and that it was accepted (requested: true, httpStatus 202). Limited to 3 requests per second, 60 per minute. Needs the data-privacy:write scope.",
  operation: "request_profile_deletion",
  inputs: deletionInputs,
  async perform({ send }, values) {
    const key = exactlyOne(
      values,
      deletionInputs,
      ["email", "phoneNumber", "profileId"],
      "Request Profile Deletion",
      "Klaviyo takes one identifier per deletion request",
    );
    const value = values[key as keyof typeof values] as string;
    const profile =
      key === "profileId"
        ? { type: "profile", id: value, attributes: {} }
        : { type: "profile", attributes: { [key === "email" ? "email" : "phone_number"]: value } };
    const res = await send({
      body: { data: { type: "data-privacy-deletion-job", attributes: { profile: { data: profile } } } },
      // Asking twice for the same deletion deletes no more: safe to retry after a dropped answer.
      idempotent: true,
    });
    return {
      requested: true,
      httpStatus: res.status,
      identifier: { [key === "profileId" ? "id" : key === "email" ? "email" : "phone_number"]: value },
    };
  },
});

// ---------------------------------------------------------------------------------------------------------
// Suppress / Unsuppress Profiles

/** "Email address per request limit: 100". */
const MAX_EMAILS_PER_JOB = 100;

const suppressionInputs = (verb: "suppress" | "unsuppress") => ({
  emails: listInput(
    {
      key: "emails",
      label: "Emails",
      comments: `The email addresses of the profiles to ${verb}, as a list or comma-separated text (such as sarah.mason@example.com,ada@example.com). Any number: they are sent 100 per request (Klaviyo's limit), each request a job of its own. Give Emails, a List ID or a Segment ID, exactly one.`,
      example: "sarah.mason@example.com",
    },
    textFormats.email,
    "email addresses",
  ),
  listId: optionalId({
    key: "listId",
    label: "List ID",
    comments: `The list whose current members to ${verb}, all at once (six characters, such as Y6nRLr). Give Emails, a List ID or a Segment ID, exactly one.`,
    example: "Y6nRLr",
  }),
  segmentId: optionalId({
    key: "segmentId",
    label: "Segment ID",
    comments: `The segment whose current members to ${verb}, all at once (six characters, such as Y6nRLr). Give Emails, a List ID or a Segment ID, exactly one.`,
    example: "Y6nRLr",
  }),
});

/** A request's report, with the job Klaviyo made for it. */
export type SuppressionRequest = ChunkReport & { jobId?: string; jobStatus?: string };

/** What Suppress and Unsuppress Profiles return: each email (or the one list or segment) accounted for. */
export interface SuppressionResult extends Omit<BulkResult, "requests"> {
  requests: SuppressionRequest[];
}

async function suppressionJobs(
  kind: "suppress" | "unsuppress",
  values: { emails?: string[] | undefined; listId?: string | undefined; segmentId?: string | undefined },
  send: (body: unknown) => Promise<{ body: unknown }>,
  label: string,
): Promise<SuppressionResult> {
  const inputs = suppressionInputs(kind);
  const source = exactlyOne(
    values,
    inputs,
    ["emails", "listId", "segmentId"],
    label,
    "one job names email addresses, or a list, or a segment",
  );
  const type =
    kind === "suppress" ? "profile-suppression-bulk-create-job" : "profile-suppression-bulk-delete-job";
  const emails = values.emails ?? [];
  // A whole list or segment is one item: one job.
  const items = source === "emails" ? emails : [source === "listId" ? values.listId : values.segmentId];
  const jobs = new Map<number, { id: string; status: string }>();
  const result = await sendInChunks(
    chunkRanges(items, MAX_EMAILS_PER_JOB, Number.POSITIVE_INFINITY, () => 0),
    async ({ from, to }) => {
      const relationships =
        source === "listId"
          ? { relationships: { list: { data: { type: "list", id: values.listId } } } }
          : source === "segmentId"
            ? { relationships: { segment: { data: { type: "segment", id: values.segmentId } } } }
            : {};
      const res = await send({
        data: {
          type,
          attributes:
            source === "emails"
              ? {
                  profiles: {
                    data: emails.slice(from, to).map((email) => ({ type: "profile", attributes: { email } })),
                  },
                }
              : {},
          ...relationships,
        },
      });
      const job = (res.body as { data?: { id?: string; attributes?: { status?: string } } } | null)?.data;
      if (job?.id) jobs.set(from, { id: job.id, status: String(job.attributes?.status ?? "") });
    },
    reasonsByPointer((pointer) => {
      const at = /^\/data\/attributes\/profiles\/data\/(\d+)/.exec(pointer)?.[1];
      return at === undefined ? undefined : Number(at);
    }),
  );
  return {
    ...result,
    requests: result.requests.map((request) => {
      const job = jobs.get(request.from);
      return job ? { ...request, jobId: job.id, jobStatus: job.status } : request;
    }),
  };
}

/** `POST /api/profile-suppression-bulk-create-jobs` (75/s, 750/m; ≤ 100 emails a job; 202). */
export const suppressProfiles = defineAction({
  key: "suppress-profiles",
  label: "Suppress Profiles",
  description:
    "Suppresses profiles so that they receive no email marketing, whatever their consent (a manual suppression, reason USER_SUPPRESSED): by email address, or every current member of a list or a segment. Klaviyo takes 100 addresses per request, so longer lists are split; each request is a job Klaviyo accepts (202) and carries out shortly after. Returns what became of every address (or of the list or segment): total, accepted, rejected (with Klaviyo's reason), failed, unsent, complete, and per request the job's ID and status. Unsuppress Profiles lifts it again. Limited to 75 requests per second, 750 per minute. Needs the profiles:write and subscriptions:write scopes.",
  operation: "bulk_suppress_profiles",
  inputs: suppressionInputs("suppress"),
  async perform({ send }, values) {
    return suppressionJobs(
      "suppress",
      values,
      (body) => send({ body, idempotent: true }),
      "Suppress Profiles",
    );
  },
});

/** `POST /api/profile-suppression-bulk-delete-jobs` (75/s, 750/m; ≤ 100 emails a job; 202). */
export const unsuppressProfiles = defineAction({
  key: "unsuppress-profiles",
  label: "Unsuppress Profiles",
  description:
    "Lifts manual suppressions (reason USER_SUPPRESSED, as Suppress Profiles sets them) from profiles, by email address, or from every current member of a list or a segment. It never lifts the other suppressions: unsubscribed profiles, hard bounces and invalid addresses stay suppressed. Klaviyo takes 100 addresses per request, so longer lists are split; each request is a job Klaviyo accepts (202) and carries out shortly after. Returns what became of every address (or of the list or segment): total, accepted, rejected (with Klaviyo's reason), failed, unsent, complete, and per request the job's ID and status. Limited to 75 requests per second, 750 per minute. Needs the subscriptions:write scope.",
  operation: "bulk_unsuppress_profiles",
  inputs: suppressionInputs("unsuppress"),
  async perform({ send }, values) {
    return suppressionJobs(
      "unsuppress",
      values,
      (body) => send({ body, idempotent: true }),
      "Unsuppress Profiles",
    );
  },
});
