/**
 * List and segment members: Add Profiles to List and Remove Profiles from List (`/api/lists/{id}/relationships/
 * profiles`, at most 1,000 profile IDs a request, by ID or by email resolved to IDs first), and List Segment
 * Profiles (`/api/segments/{id}/profiles`, as List List Profiles is for lists).
 */
import * as v from "valibot";
import type { KlaviyoClient } from "../core/client.js";
import { ApiError, InputValidationError } from "../core/errors.js";
import { filter as filterBuilder } from "../klaviyo/filter.js";
import { EMAIL, idProblem } from "../klaviyo/identifiers.js";
import { FIELDSETS, getOperation } from "../klaviyo/operations.js";
import type { Schema } from "../klaviyo/schema.js";
import { type ActionContext, defineAction } from "./define.js";
import { type InputDefinition, input } from "./inputs.js";
import { listOutput, pagingInputs } from "./list.js";
import { additionalProfileFieldsInput, listParam, sortInput } from "./profiles-inputs.js";

/** Klaviyo: "This endpoint accepts a maximum of 1000 profiles per call" (add and remove alike). */
export const MAX_PROFILES_PER_MEMBERSHIP_REQUEST = 1000;
/**
 * Values per `any(…)` lookup on Get Profiles. The document states no bound on an `any` list; 100 is Get Profiles'
 * largest page, so each lookup is answered in one page whatever it finds.
 */
export const VALUES_PER_LOOKUP = 100;

/** `items` in consecutive runs of at most `size` (the last may be shorter), order kept, each item once. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError("chunk size must be a whole number of at least 1");
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The first of each value, in order (`key` says which values are the same). */
function unique<T>(items: readonly T[], key: (item: T) => string = String): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const k = key(item);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Texts as a JSON array or as text separated by commas, spaces or new lines, each checked by `problem` (its
 * message names the first item refused, counted from 0).
 */
function textList(problem: (item: string) => string | undefined, what: string): Schema<string[], unknown> {
  return v.pipe(
    v.union(
      [v.string(), v.array(v.string())],
      `must be a list of ${what}: a JSON array of texts, or text separated by commas`,
    ),
    v.transform((raw: string | string[]) =>
      (Array.isArray(raw) ? raw : raw.split(/[\s,]+/)).map((s) => s.trim()).filter((s) => s.length > 0),
    ),
    v.check(
      (items) => items.every((item) => problem(item) === undefined),
      (issue) => {
        const items = issue.input as string[];
        const at = items.findIndex((item) => problem(item) !== undefined);
        return `item ${at} (${JSON.stringify(items[at])}) ${problem(items[at] as string)}`;
      },
    ),
  ) as Schema<string[], unknown>;
}

const idList = textList(idProblem, "IDs");
const emailList = textList(
  (item) => (EMAIL.test(item) ? undefined : "is not an email address (name@example.com)"),
  "email addresses",
);

const listId = (comments: string) =>
  input.id({ key: "listId", label: "List ID", comments, example: "Y6nRLr" });

const profileIdsInput = (verb: "add" | "remove"): InputDefinition<string[], false> =>
  input.json(
    {
      key: "profileIds",
      label: "Profile IDs",
      comments: `${verb === "add" ? "Adding to a list gives no marketing consent: Klaviyo advises Subscribe Profiles for that. " : ""}The IDs of the profiles to ${verb}, such as 01GDDKASAP8TKDDA2GRZDSVP4H (List Profile returns them), as a JSON array or as text separated by commas. Any number: they are sent ${MAX_PROFILES_PER_MEMBERSHIP_REQUEST} per request (Klaviyo's limit); an ID given twice is sent once. Give Profile IDs, Emails or both.`,
      example: "01GDDKASAP8TKDDA2GRZDSVP4H",
    },
    idList,
    "each item checked as an ID: not blank, no spaces, slashes, ? or #",
  );

const emailsInput = (verb: "add" | "remove"): InputDefinition<string[], false> =>
  input.json(
    {
      key: "emails",
      label: "Emails",
      comments: `Email addresses of existing profiles to ${verb}, as a JSON array or as text separated by commas, such as sarah.mason@example.com. Each is looked up first (Get Profiles, ${VALUES_PER_LOOKUP} addresses a request) and its profile's ID sent; an address no profile has is reported under notFound, not created (use Subscribe Profiles to add new people).`,
      example: "sarah.mason@example.com,ada.lovelace@example.com",
    },
    emailList,
    "each item checked as an email address",
  );

/** What became of one request of Add / Remove Profiles. */
export interface MembershipRequest {
  /** Profiles `from` (inclusive) to `to` (exclusive), by position in `profileIds` of the result. */
  from: number;
  to: number;
  /**
   * `done`: Klaviyo answered 204 for the profiles it was sent (`sent`). `failed`: sent, without a clear answer, or
   * refused: it may or may not have been applied. `unsent`: never sent, because an earlier request failed.
   */
  status: "done" | "failed" | "unsent";
  /** Profiles this request changed (204). */
  sent: number;
  /** IDs of this request that no profile has (Klaviyo's 404 named one; the others were then looked up). */
  notFound: string[];
  httpStatus?: number;
  error?: string;
}

/** The outcome of Add / Remove Profiles: nothing is dropped without being reported. */
export interface MembershipResult {
  listId: string;
  /** The distinct profile IDs to send: those given, then those found by email, in that order. */
  profileIds: string[];
  /** How many profiles Klaviyo answered 204 for. */
  done: number;
  notFound: { profileIds: string[]; emails: string[] };
  /** IDs whose request failed without a clear answer. */
  failed: string[];
  /** IDs never sent (a request before them failed). */
  unsent: string[];
  /** True when every profile was found and every request answered 204. */
  complete: boolean;
  requests: MembershipRequest[];
}

/** The profile IDs of existing profiles among `values` of `field` (email or id), looked up 100 at a time. */
async function lookUp(
  client: KlaviyoClient,
  field: "email" | "id",
  values: readonly string[],
  signal: AbortSignal | undefined,
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const operation = getOperation("get_profiles");
  for (const part of chunk(values, VALUES_PER_LOOKUP)) {
    const res = await client.request<{ data: Array<{ id: string; attributes?: { email?: string | null } }> }>(
      {
        method: "GET",
        path: operation.path,
        operation,
        query: {
          filter: String(filterBuilder.any(field, part)),
          "fields[profile]": ["email"],
          "page[size]": VALUES_PER_LOOKUP,
        },
        ...(signal ? { signal } : {}),
      },
    );
    for (const profile of res.body.data) {
      const key = field === "id" ? profile.id : String(profile.attributes?.email ?? "").toLowerCase();
      if (key) found.set(key, profile.id);
    }
  }
  return found;
}

/** The indices of the body's items a 404 names (`/data/3/id`), or nothing when it names none. */
function missingIndices(error: unknown): number[] {
  if (!(error instanceof ApiError) || error.status !== 404) return [];
  const out: number[] = [];
  for (const entry of error.errors) {
    const m = /^\/data\/(\d+)\/id$/.exec(entry.source?.pointer ?? "");
    if (m) out.push(Number(m[1]));
  }
  return out;
}

/**
 * Adds or removes members: emails resolved to IDs first (nothing is sent if a lookup fails), then the IDs in
 * requests of at most 1,000. A request Klaviyo refuses with 404 for a profile ID is sent again without the IDs no
 * profile has (looked up then, so one missing ID costs one lookup, not a request each). A failure on the first
 * request is thrown (nothing was changed); a later one is reported, the rest left unsent.
 */
async function changeMembers(
  ctx: ActionContext<"add_profiles_to_list"> | ActionContext<"remove_profiles_from_list">,
  label: string,
  listIdValue: string,
  profileIds: readonly string[] | undefined,
  emails: readonly string[] | undefined,
): Promise<MembershipResult> {
  if (!profileIds?.length && !emails?.length) {
    throw new InputValidationError(
      [{ label: "", key: "", message: "nothing to send: give Profile IDs, Emails or both" }],
      label,
    );
  }
  const { client, signal } = ctx;
  const wanted = unique(emails ?? [], (e) => e.toLowerCase());
  // Klaviyo matches email addresses whatever their case; the lookup asks for each address as given and in lower
  // case, so its profile is found whichever way the address was stored.
  const forms = unique(wanted.flatMap((e) => [e, e.toLowerCase()]));
  const byEmail = forms.length > 0 ? await lookUp(client, "email", forms, signal) : new Map<string, string>();
  const notFoundEmails = wanted.filter((e) => !byEmail.has(e.toLowerCase()));
  const ids = unique([...(profileIds ?? []), ...wanted.flatMap((e) => byEmail.get(e.toLowerCase()) ?? [])]);
  const send = (part: readonly string[]) =>
    (ctx.send as ActionContext["send"])({
      path: { id: listIdValue },
      body: { data: part.map((id) => ({ type: "profile", id })) },
      // Adding a member twice, or removing one twice, leaves the same list: safe to retry after a dropped answer.
      idempotent: true,
    });
  const result: MembershipResult = {
    listId: listIdValue,
    profileIds: ids,
    done: 0,
    notFound: { profileIds: [], emails: notFoundEmails },
    failed: [],
    unsent: [],
    complete: false,
    requests: [],
  };
  let stopped: string | undefined;
  let from = 0;
  for (const part of chunk(ids, MAX_PROFILES_PER_MEMBERSHIP_REQUEST)) {
    const range = { from, to: from + part.length };
    from = range.to;
    if (stopped) {
      result.unsent.push(...part);
      result.requests.push({ ...range, status: "unsent", sent: 0, notFound: [], error: stopped });
      continue;
    }
    let sending = part;
    const notFound: string[] = [];
    try {
      try {
        await send(sending);
      } catch (error) {
        const named = missingIndices(error).map((i) => sending[i] as string);
        if (named.length === 0) throw error;
        // Klaviyo names one missing profile; find every other one before sending again.
        const rest = sending.filter((id) => !named.includes(id));
        const existing = await lookUp(client, "id", rest, signal);
        notFound.push(...named, ...rest.filter((id) => !existing.has(id)));
        sending = rest.filter((id) => existing.has(id));
        if (sending.length > 0) await send(sending);
      }
      result.done += sending.length;
      result.notFound.profileIds.push(...notFound);
      result.requests.push({ ...range, status: "done", sent: sending.length, notFound, httpStatus: 204 });
    } catch (error) {
      if (result.requests.length === 0) throw error;
      const message = error instanceof Error ? error.message : String(error);
      stopped = `not sent: an earlier request failed (${message})`;
      result.failed.push(...sending);
      result.notFound.profileIds.push(...notFound);
      result.requests.push({
        ...range,
        status: "failed",
        sent: 0,
        notFound,
        error: message,
        ...(error instanceof ApiError ? { httpStatus: error.status } : {}),
      });
    }
  }
  result.complete =
    result.done === ids.length && result.notFound.profileIds.length === 0 && notFoundEmails.length === 0;
  return result;
}

const CONSENT_NOTE =
  "Adding a profile to a list does not give it marketing consent (Klaviyo's advice: to subscribe people, use Subscribe Profiles).";

/** `POST /api/lists/{id}/relationships/profiles` (10/s, 150/m; ≤ 1,000 profiles a request; 204). */
export const addProfilesToList = defineAction({
  key: "add-profiles-to-list",
  label: "Add Profiles to List",
  description: `Adds existing profiles to a list, found by its ID: by profile ID, by email address (looked up first), or both. ${CONSENT_NOTE} Any number of profiles: Klaviyo takes 1,000 a request, so more are sent in several. A profile already in the list stays as it is (its joining time is kept). Returns how many were added, the IDs and emails no profile has (notFound), and what each request did; if a request fails part-way, the profiles it and later requests held are reported as failed and unsent. Fails with a NotFoundError when no list has that ID. Limited to 10 requests per second, 150 per minute (and Get Profiles' 75/s, 750/m for emails). Needs the lists:write and profiles:write scopes (and profiles:read for emails).`,
  operation: "add_profiles_to_list",
  alsoCalls: ["get_profiles"],
  inputs: {
    listId: listId(
      "The ID of the list to add the profiles to: six characters such as Y6nRLr (List Lists returns them).",
    ),
    profileIds: profileIdsInput("add"),
    emails: emailsInput("add"),
  },
  async perform(ctx, { listId, profileIds, emails }) {
    const { done, ...rest } = await changeMembers(ctx, "Add Profiles to List", listId, profileIds, emails);
    return { added: done, ...rest };
  },
});

/** `DELETE /api/lists/{id}/relationships/profiles` (10/s, 150/m; ≤ 1,000 profiles a request; 204). */
export const removeProfilesFromList = defineAction({
  key: "remove-profiles-from-list",
  label: "Remove Profiles from List",
  description:
    "Removes profiles from a list, found by its ID: by profile ID, by email address (looked up first), or both. The profiles are not deleted and keep their consent; they only stop being members (to withdraw consent, use Unsubscribe Profiles). A profile that is not in the list is left as it is. Any number of profiles: Klaviyo takes 1,000 a request, so more are sent in several. Returns how many were removed, the IDs and emails no profile has (notFound), and what each request did; if a request fails part-way, the profiles it and later requests held are reported as failed and unsent. Fails with a NotFoundError when no list has that ID. Limited to 10 requests per second, 150 per minute (and Get Profiles' 75/s, 750/m for emails). Needs the lists:write and profiles:write scopes (and profiles:read for emails).",
  operation: "remove_profiles_from_list",
  alsoCalls: ["get_profiles"],
  inputs: {
    listId: listId(
      "The ID of the list to remove the profiles from: six characters such as Y6nRLr (List Lists returns them).",
    ),
    profileIds: profileIdsInput("remove"),
    emails: emailsInput("remove"),
  },
  async perform(ctx, { listId, profileIds, emails }) {
    const { done, ...rest } = await changeMembers(
      ctx,
      "Remove Profiles from List",
      listId,
      profileIds,
      emails,
    );
    return { removed: done, ...rest };
  },
});

/** `GET /api/segments/{id}/profiles` (75/s, 750/m; at most 100 per page). */
export const listSegmentProfiles = defineAction({
  key: "list-segment-profiles",
  label: "List Segment Profiles",
  description:
    "Lists the profiles in a segment, found by its ID, at most 100 per page: one page by default, Page Cursor to continue, Limit to gather several pages. Each profile can carry joined_group_at (when it joined the segment); a filter picks members by profile ID, email, phone number or joining time, and Sort orders them by joining time. Additional Profile Fields adds consent state or predictive analytics. Limited to 75 requests per second, 750 per minute (10 per second with predictive_analytics). Needs the profiles:read and segments:read scopes.",
  operation: "get_profiles_for_segment",
  inputs: {
    segmentId: input.id({
      key: "segmentId",
      label: "Segment ID",
      comments:
        "The ID of the segment whose profiles to list: six characters such as Y6nRLr (List Segments returns them).",
      example: "Y6nRLr",
    }),
    additionalFields: additionalProfileFieldsInput("get_profiles_for_segment"),
    fields: input.fields(
      {
        key: "fields",
        label: "Fields",
        comments:
          "The profile fields to return (Klaviyo's sparse fieldset fields[profile]), as a list or comma-separated text; dotted names reach nested members, such as location.city. joined_group_at says when the profile joined the segment. Leave empty for every default field.",
        example: "email,first_name,joined_group_at",
      },
      FIELDSETS.profile ?? [],
    ),
    filter: input.filter(
      {
        key: "filter",
        label: "Filter",
        comments:
          "A Klaviyo filter expression. Fields: profile_id, email, phone_number, push_token (equals or any, with a list of values), _kx (equals), joined_group_at (greater-than, greater-or-equal, less-than, less-or-equal; dates unquoted). Examples: any(email,['a@example.com','b@example.com']); greater-or-equal(joined_group_at,2026-01-01T00:00:00Z).",
        example: "greater-or-equal(joined_group_at,2026-01-01T00:00:00Z)",
      },
      "get_profiles_for_segment",
    ),
    sort: sortInput("get_profiles_for_segment", "members"),
    ...pagingInputs(100),
  },
  async perform(ctx, { segmentId, additionalFields, fields, filter, sort, pageSize, cursor, limit }) {
    return listOutput(
      ctx,
      {
        path: { id: segmentId },
        query: {
          "fields[profile]": listParam(fields),
          "additional-fields[profile]": listParam(additionalFields),
          filter,
          sort,
        },
      },
      { pageSize, cursor, limit },
    );
  },
});
