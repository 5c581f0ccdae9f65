/**
 * The request bodies of Create Event (`EventCreateQueryV2`) and Bulk Create Events (`EventsBulkCreateJob`), as
 * Klaviyo's OpenAPI document declares them. Objects are strict (Klaviyo refuses members it does not know),
 * except the free-form ones (`properties`, patch operations). Issues become Klaviyo 400s pointing at the exact
 * member, an unknown member included (the schema reports those at the parent; a client wants the member itself).
 */

import type { BaseIssue } from "valibot";
import * as v from "valibot";
import { parseFilterDate } from "../../klaviyo/filter.js";
import { issueMessage, parse, type Schema } from "../../klaviyo/schema.js";
import { pointerOf } from "../body.js";
import { EmulatorProblem, invalidBody, type ProblemInit } from "../errors.js";

/** Klaviyo's message for a missing member; ours for every other issue. */
const required = (issue: BaseIssue<unknown>) =>
  issue.input === undefined ? "This field is required." : issueMessage(issue);

const text = v.optional(v.nullable(v.string()));
const freeObject = v.record(v.string(), v.unknown());

const location = v.strictObject({
  address1: text,
  address2: text,
  city: text,
  country: text,
  latitude: v.optional(v.nullable(v.union([v.string(), v.pipe(v.number(), v.finite())]))),
  longitude: v.optional(v.nullable(v.union([v.string(), v.pipe(v.number(), v.finite())]))),
  region: text,
  zip: text,
  timezone: text,
  ip: text,
});

const profileMeta = v.strictObject({
  patch_properties: v.optional(
    v.nullable(
      v.strictObject({
        append: v.optional(v.nullable(freeObject)),
        unappend: v.optional(v.nullable(freeObject)),
        unset: v.optional(v.nullable(v.union([v.string(), v.array(v.string())]))),
      }),
    ),
  ),
  patch_identifiers: v.optional(
    v.nullable(v.strictObject({ append: v.optional(freeObject), unappend: v.optional(freeObject) })),
  ),
});

export type ProfileMeta = v.InferOutput<typeof profileMeta>;

const profileAttributes = {
  email: text,
  phone_number: text,
  external_id: text,
  anonymous_id: text,
  _kx: text,
  first_name: text,
  last_name: text,
  organization: text,
  locale: text,
  title: text,
  image: text,
  location: v.optional(v.nullable(location)),
  properties: v.optional(v.nullable(freeObject)),
};

const metric = v.strictObject(
  {
    data: v.strictObject(
      {
        type: v.literal("metric", required),
        attributes: v.strictObject(
          {
            name: v.pipe(
              v.string(required),
              v.minLength(1, "The metric name must not be empty."),
              v.maxLength(127, "The metric name must be less than 128 characters."),
            ),
            service: text,
          },
          required,
        ),
      },
      required,
    ),
  },
  required,
);

/** What every event carries, in Create Event and in each bulk entry. */
const eventCore = {
  properties: v.record(v.string(), v.unknown(), required),
  time: v.optional(
    v.nullable(
      v.pipe(
        v.string(),
        v.check((value) => parseFilterDate(value) !== undefined, "Enter a valid ISO 8601 datetime."),
      ),
    ),
  ),
  value: v.optional(v.nullable(v.pipe(v.number(), v.finite()))),
  value_currency: v.optional(
    v.nullable(
      v.pipe(
        v.string(),
        v.regex(
          /^[A-Z]{3}$/,
          "Enter a valid ISO 4217 currency code (three upper-case letters, such as USD).",
        ),
      ),
    ),
  ),
  unique_id: text,
  backfill: v.optional(v.nullable(v.boolean())),
  metric,
};

const createProfile = v.strictObject(
  {
    data: v.strictObject(
      {
        type: v.literal("profile", required),
        id: text,
        // Create Event's embedded profile carries `meta` inside `attributes` (the bulk job's sits beside them).
        attributes: v.strictObject(
          { ...profileAttributes, meta: v.optional(v.nullable(profileMeta)) },
          required,
        ),
      },
      required,
    ),
  },
  required,
);

/** `POST /api/events`. */
export const createEventBody = v.strictObject({
  data: v.strictObject(
    {
      type: v.literal("event", required),
      attributes: v.strictObject({ ...eventCore, profile: createProfile }, required),
    },
    required,
  ),
});

export type CreateEventBody = v.InferOutput<typeof createEventBody>;
export type EventAttributesInput = Omit<CreateEventBody["data"]["attributes"], "profile">;
export type ProfileAttributesInput = Omit<
  CreateEventBody["data"]["attributes"]["profile"]["data"]["attributes"],
  "meta"
>;

const bulkProfile = v.strictObject(
  {
    data: v.strictObject(
      {
        type: v.literal("profile", required),
        id: text,
        attributes: v.strictObject(profileAttributes, required),
        meta: v.optional(v.nullable(profileMeta)),
      },
      required,
    ),
  },
  required,
);

const bulkEntry = v.strictObject({
  type: v.literal("event-bulk-create", required),
  attributes: v.strictObject(
    {
      backfill: v.optional(v.nullable(v.boolean())),
      profile: bulkProfile,
      events: v.strictObject(
        {
          data: v.array(
            v.strictObject({
              type: v.literal("event", required),
              attributes: v.strictObject(eventCore, required),
            }),
            required,
          ),
        },
        required,
      ),
    },
    required,
  ),
});

/** `POST /api/event-bulk-create-jobs`. */
export const bulkCreateEventsBody = v.strictObject({
  data: v.strictObject(
    {
      type: v.literal("event-bulk-create-job", required),
      attributes: v.strictObject(
        { "events-bulk-create": v.strictObject({ data: v.array(bulkEntry, required) }, required) },
        required,
      ),
    },
    required,
  ),
});

export type BulkCreateEventsBody = v.InferOutput<typeof bulkCreateEventsBody>;

const MAX_PROBLEMS = 20;

/** Validates a parsed body; every issue becomes a 400 pointing at its member (unknown members each at itself). */
export function parseEventDocument<T>(schema: Schema<T>, value: unknown): T {
  const result = parse(schema, value);
  if (result.success) return result.data;
  const problems: ProblemInit[] = [];
  for (const issue of result.error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys ?? []) {
        problems.push(invalidBody(pointerOf([...issue.path, key]), `'${key}' is not a valid field here.`));
      }
    } else {
      problems.push(invalidBody(pointerOf(issue.path), issue.message));
    }
  }
  throw problemsError(problems);
}

/** One Klaviyo error answer listing `problems` (at most 20). */
export function problemsError(problems: readonly ProblemInit[]): EmulatorProblem {
  const [first, ...others] = problems.slice(0, MAX_PROBLEMS);
  return new EmulatorProblem(first ?? invalidBody("/data/", "Invalid input."), {}, others);
}

/** 409 when the document's `data.type` is a string other than `type` (JSON:API's rule); shape is the schema's job. */
export function checkDocumentType(body: unknown, type: string): void {
  if (typeof body !== "object" || body === null) return;
  const data = (body as { data?: unknown }).data;
  if (typeof data !== "object" || data === null) return;
  const given = (data as { type?: unknown }).type;
  if (typeof given === "string" && given !== type) {
    throw new EmulatorProblem({
      status: 409,
      code: "conflict",
      title: "Conflict.",
      detail: `The resource type '${given}' does not match this endpoint, which takes '${type}'.`,
      source: { pointer: "/data/type" },
    });
  }
}
