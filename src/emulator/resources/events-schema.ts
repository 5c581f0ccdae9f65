/**
 * The request bodies of Create Event (`EventCreateQueryV2`) and Bulk Create Events (`EventsBulkCreateJob`), as
 * Klaviyo's OpenAPI document declares them. Objects are strict (Klaviyo refuses members it does not know),
 * except the free-form ones (`properties`, patch operations). Issues become Klaviyo 400s pointing at the exact
 * member, an unknown member included (the schema reports those at the parent; a client wants the member itself).
 */

import * as z from "zod/mini";
import { parseFilterDate } from "../../klaviyo/filter.js";
import { parse } from "../../klaviyo/schema.js";
import { pointerOf } from "../body.js";
import { EmulatorProblem, invalidBody, type ProblemInit } from "../errors.js";

/** Klaviyo's message for a missing member; the schema's own for every other issue. */
const required = {
  error: (issue: { input?: unknown }) => (issue.input === undefined ? "This field is required." : undefined),
};

const text = z.optional(z.nullable(z.string()));
const freeObject = z.record(z.string(), z.unknown());

const location = z.strictObject({
  address1: text,
  address2: text,
  city: text,
  country: text,
  latitude: z.optional(z.nullable(z.union([z.string(), z.number()]))),
  longitude: z.optional(z.nullable(z.union([z.string(), z.number()]))),
  region: text,
  zip: text,
  timezone: text,
  ip: text,
});

const profileMeta = z.strictObject({
  patch_properties: z.optional(z.nullable(z
    .strictObject({
      append: z.optional(z.nullable(freeObject)),
      unappend: z.optional(z.nullable(freeObject)),
      unset: z.optional(z.nullable(z
        .union([z.string(), z.array(z.string())]))),
    }))),
  patch_identifiers: z.optional(z.nullable(z
    .strictObject({ append: z.optional(freeObject), unappend: z.optional(freeObject) }))),
});

export type ProfileMeta = z.infer<typeof profileMeta>;

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
  location: z.optional(z.nullable(location)),
  properties: z.optional(z.nullable(freeObject)),
};

const metric = z.strictObject(
  {
    data: z.strictObject(
      {
        type: z.literal("metric", required),
        attributes: z.strictObject(
          {
            name: z
              .string(required).check(z.minLength(1, "The metric name must not be empty."), z.maxLength(127, "The metric name must be less than 128 characters.")),
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
  properties: z.record(z.string(), z.unknown(), required),
  time: z.optional(z.nullable(z
    .string().check(z.refine((value) => parseFilterDate(value) !== undefined, "Enter a valid ISO 8601 datetime.")))),
  value: z.optional(z.nullable(z.number())),
  value_currency: z.optional(z.nullable(z
    .string().check(z.regex(/^[A-Z]{3}$/, "Enter a valid ISO 4217 currency code (three upper-case letters, such as USD).")))),
  unique_id: text,
  backfill: z.optional(z.nullable(z.boolean())),
  metric,
};

const createProfile = z.strictObject(
  {
    data: z.strictObject(
      {
        type: z.literal("profile", required),
        id: text,
        // Create Event's embedded profile carries `meta` inside `attributes` (the bulk job's sits beside them).
        attributes: z.strictObject(
          { ...profileAttributes, meta: z.optional(z.nullable(profileMeta)) },
          required,
        ),
      },
      required,
    ),
  },
  required,
);

/** `POST /api/events`. */
export const createEventBody = z.strictObject({
  data: z.strictObject(
    {
      type: z.literal("event", required),
      attributes: z.strictObject({ ...eventCore, profile: createProfile }, required),
    },
    required,
  ),
});

export type CreateEventBody = z.infer<typeof createEventBody>;
export type EventAttributesInput = Omit<CreateEventBody["data"]["attributes"], "profile">;
export type ProfileAttributesInput = Omit<
  CreateEventBody["data"]["attributes"]["profile"]["data"]["attributes"],
  "meta"
>;

const bulkProfile = z.strictObject(
  {
    data: z.strictObject(
      {
        type: z.literal("profile", required),
        id: text,
        attributes: z.strictObject(profileAttributes, required),
        meta: z.optional(z.nullable(profileMeta)),
      },
      required,
    ),
  },
  required,
);

const bulkEntry = z.strictObject({
  type: z.literal("event-bulk-create", required),
  attributes: z.strictObject(
    {
      backfill: z.optional(z.nullable(z.boolean())),
      profile: bulkProfile,
      events: z.strictObject(
        {
          data: z.array(
            z.strictObject({
              type: z.literal("event", required),
              attributes: z.strictObject(eventCore, required),
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
export const bulkCreateEventsBody = z.strictObject({
  data: z.strictObject(
    {
      type: z.literal("event-bulk-create-job", required),
      attributes: z.strictObject(
        { "events-bulk-create": z.strictObject({ data: z.array(bulkEntry, required) }, required) },
        required,
      ),
    },
    required,
  ),
});

export type BulkCreateEventsBody = z.infer<typeof bulkCreateEventsBody>;

const MAX_PROBLEMS = 20;

/** Validates a parsed body; every issue becomes a 400 pointing at its member (unknown members each at itself). */
export function parseEventDocument<T>(schema: z.Schema<T>, value: unknown): T {
  const result = parse(schema, value);
  if (result.success) return result.data;
  const problems: ProblemInit[] = [];
  for (const issue of result.error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
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
