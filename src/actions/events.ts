import * as v from "valibot";
import type { BulkResult } from "../ingest/bulk.js";
import {
  type BulkEvent,
  checkProperties,
  type ProfileData,
  readBulkEvents,
  readEventTime,
  readProfile,
} from "../ingest/event-records.js";
import { ingestCheckedEvents } from "../ingest/index.js";
import { EVENT_LIMITS, overStringLimit } from "../klaviyo/event-limits.js";
import { ISO_DATETIME } from "../klaviyo/formats.js";
import { FIELDSETS, OPERATION_PARAMETERS } from "../klaviyo/operations.js";
import { jsonObject, reading, reportProblems, transformWith } from "../klaviyo/schema.js";
import { defineAction } from "./define.js";
import { fieldsQuery, includeInput, includes } from "./include.js";
import { type InputDefinition, input, textFormats, textMatching } from "./inputs.js";
import { listOutput, pagingInputs } from "./list.js";

/** `fields[profile]` names the event endpoints accept (narrower than the profile endpoints' list). */
const EVENT_PROFILE_FIELDS = (FIELDSETS.profile ?? []).filter(
  (name) =>
    name !== "joined_group_at" &&
    !name.startsWith("subscriptions") &&
    !name.startsWith("predictive_analytics"),
);

const eventFieldInputs = () => ({
  eventFields: input.fields(
    {
      key: "eventFields",
      label: "Event Fields",
      comments:
        "Which event attributes to return (Klaviyo's sparse fieldset fields[event]), as a list or comma-separated text: datetime, event_properties, id, timestamp, uuid. Leave empty for all of them.",
      example: "datetime,event_properties",
    },
    FIELDSETS.event ?? [],
  ),
  metricFields: input.fields(
    {
      key: "metricFields",
      label: "Metric Fields",
      comments:
        "Which attributes of the event's metric to return (fields[metric]): created, id, integration, name, updated. Giving any also includes the metric in the response's included[] (include=metric), since the fields only apply to what is included.",
      example: "name",
    },
    FIELDSETS.metric ?? [],
  ),
  profileFields: input.fields(
    {
      key: "profileFields",
      label: "Profile Fields",
      comments:
        "Which attributes of the event's profile to return (fields[profile]), e.g. email, phone_number, first_name, location.city. Giving any also includes the profile in included[] (include=profile). Subscription and predictive fields are not offered on events.",
      example: "email,first_name",
    },
    EVENT_PROFILE_FIELDS,
  ),
});

const eventIncludeInput = (operation: string) =>
  includeInput(
    {
      key: "include",
      label: "Include",
      comments:
        "Related resources to return in included[]: metric, profile, attributions (list or comma-separated). Metric Fields and Profile Fields add their resource on their own.",
      example: "metric,profile",
    },
    OPERATION_PARAMETERS[operation]?.include ?? [],
  );

function eventQuery(values: {
  eventFields?: string[] | undefined;
  metricFields?: string[] | undefined;
  profileFields?: string[] | undefined;
  include?: string[] | undefined;
}) {
  return {
    "fields[event]": fieldsQuery(values.eventFields),
    "fields[metric]": fieldsQuery(values.metricFields),
    "fields[profile]": fieldsQuery(values.profileFields),
    include: includes(values.include, [
      ["metric", values.metricFields],
      ["profile", values.profileFields],
    ]),
  };
}

/** An event's time as text; the bounds Klaviyo puts on it are read after (`readEventTime`). */
const eventTimeText = textMatching(ISO_DATETIME, (issue) =>
  typeof issue.input === "string"
    ? `${JSON.stringify(issue.input.slice(0, 40))} is not an ISO 8601 date-time such as 2026-07-15T12:00:00Z`
    : "must be ISO 8601 text such as 2026-07-15T12:00:00Z",
);

/** Event Profile: an object of profile attributes (a bare email or E.164 phone is read as that identifier). */
function profileInput() {
  const byIdentifier = v.pipe(
    v.union(
      [textFormats.email, textFormats.phone],
      "must be a JSON object of profile attributes, an email address or an E.164 phone number",
    ),
    v.transform((text: string) => (text.startsWith("+") ? { phone_number: text } : { email: text })),
  );
  return input.json<ProfileData, true>(
    {
      key: "profile",
      label: "Event Profile",
      required: true,
      comments:
        'The profile the event belongs to, as a JSON object of Klaviyo profile attributes. It needs at least one identifier: email, phone_number (E.164, such as +15005550006), external_id, anonymous_id, or the profile\'s Klaviyo "id". It may also set first_name, last_name, organization, locale, title, image, location {city, country, …} and custom "properties"; Klaviyo creates the profile if none matches, or updates the one found. Klaviyo\'s own {"data":{"type":"profile","attributes":{…}}} form is accepted too, and a bare email address or E.164 phone number is read as that identifier.',
      example: '{"email":"sarah@example.com","first_name":"Sarah"}',
    },
    reading(v.union([jsonObject, byIdentifier]), (value, problems) => {
      const profile = readProfile(value, "inside", problems);
      return profile as ProfileData;
    }),
    "the attributes checked as Klaviyo's profile attributes, with at least one identifier",
  );
}

/** Event Name: the metric, non-empty and under 128 characters. */
function metricNameInput(): InputDefinition<string, true> {
  const definition = input.text<true>({
    key: "name",
    label: "Event Name",
    required: true,
    comments:
      'The name of the metric the event is recorded under, such as "Placed Order" or "Viewed Product" (under 128 characters). Klaviyo creates the metric the first time a name is used, so spell it exactly as existing flows and segments expect.',
    example: "Placed Order",
  });
  // Characters counted as Unicode code points, as JSON Schema's patterns count them; the name is kept as given.
  const schema = v.pipe(
    v.string("must be text"),
    v.regex(new RegExp(`^(?=[\\s\\S]*\\S)[\\s\\S]{1,${EVENT_LIMITS.metricName}}$`, "u"), (issue) =>
      typeof issue.input === "string" && issue.input.trim() === ""
        ? "must not be empty"
        : "must be under 128 characters",
    ),
  );
  return { ...definition, schema };
}

/** `POST /api/events` (tier 350/s, 3500/m): 202, no body. */
export const createEvent = defineAction({
  key: "create-event",
  label: "Create Event",
  description:
    "Records one activity (event) for a profile under a metric, such as an order placed or a page viewed, so it can trigger flows and feed segments and reports. Klaviyo finds the profile by its identifiers, or creates it, and updates the attributes given. Klaviyo answers 202: the event was validated and queued, not yet processed, and the answer carries no event ID. Giving an Event Unique ID makes the call safe to repeat: Klaviyo keeps only the first event with that ID for the same profile and metric (without one, it keeps one event per profile, metric and second).",
  operation: "create_event",
  inputs: {
    name: metricNameInput(),
    profile: profileInput(),
    properties: input.json<Record<string, unknown>>(
      {
        key: "properties",
        label: "Event Properties",
        comments:
          'Details of the event as a JSON object, such as {"OrderId":"1234","Items":["A","B"]}: at most 400 properties, no string over 100 KB. Top-level values that are not objects can be used in segments. Leave empty for none ({} is sent, as Klaviyo requires the member).',
        example: '{"OrderId":"1234","Items":["Shoes"]}',
      },
      reading(jsonObject, (value, problems) => {
        checkProperties(value, problems);
        return value;
      }),
      "Klaviyo's ingestion limits: at most 400 properties, strings of at most 100 KB, arrays of at most 4,000 items, 10 levels",
    ),
    time: {
      ...input.text(
        {
          key: "time",
          label: "Event Time",
          comments:
            "When the event happened, ISO 8601 such as 2026-07-15T12:00:00Z (a date alone is midnight UTC; a time without a zone is read as UTC). Klaviyo keeps it to the second; it must be after 1990 and at most a year ahead. Leave empty to use the time Klaviyo receives the request.",
          example: "2026-07-15T12:00:00Z",
        },
        "datetime",
      ),
      schema: reading(eventTimeText, (text, problems) => {
        const found: string[] = [];
        const time = readEventTime(text, found);
        problems.push(...found.map((message) => message.replace(/^the time /, "")));
        return time as string;
      }),
      checks: "after the year 1990 and at most a year ahead, as Klaviyo requires",
    },
    value: input.number({
      key: "value",
      label: "Event Value",
      comments:
        "A monetary amount for the event, such as the total of an order (29.98): a plain number, no currency sign. Klaviyo sums it in revenue reports.",
      example: "29.98",
    }),
    valueCurrency: input.text(
      {
        key: "valueCurrency",
        label: "Event Value Currency",
        comments:
          "The currency of Event Value as an ISO 4217 code: three capital letters, such as USD, EUR or GBP. Leave empty to use the account's currency.",
        example: "USD",
      },
      "currency",
    ),
    uniqueId: {
      ...input.text({
        key: "uniqueId",
        label: "Event Unique ID",
        comments:
          "Your own ID for the event, such as an order number. Klaviyo records only the first event with a given ID for the same profile and metric, so a retried call cannot create a duplicate. Leave empty and Klaviyo uses the event time to the second.",
        example: "order-1234",
      }),
      schema: v.pipe(
        v.string("must be text"),
        v.regex(/\S/, "must not be empty"),
        v.check((v) => !overStringLimit(v), "is longer than 100 KB, Klaviyo's limit for one string"),
      ),
      checks: "at most 100 KB of UTF-8, Klaviyo's limit for one string",
    },
    backfill: input.boolean({
      key: "backfill",
      label: "Backfill",
      comments:
        "Set to true when importing past events: Klaviyo records the event but does not start flows from it. Leave empty (false) for live events.",
    }),
  },
  async perform({ send }, values) {
    const attributes = {
      properties: values.properties ?? {},
      ...(values.time !== undefined ? { time: values.time } : {}),
      ...(values.value !== undefined ? { value: values.value } : {}),
      ...(values.valueCurrency !== undefined ? { value_currency: values.valueCurrency } : {}),
      ...(values.uniqueId !== undefined ? { unique_id: values.uniqueId } : {}),
      ...(values.backfill !== undefined ? { backfill: values.backfill } : {}),
      metric: { data: { type: "metric", attributes: { name: values.name } } },
      profile: { data: values.profile },
    };
    await send({
      body: { data: { type: "event", attributes } },
      idempotent: values.uniqueId !== undefined,
    });
    return {
      accepted: true as const,
      metric: values.name,
      ...(values.uniqueId !== undefined ? { unique_id: values.uniqueId } : {}),
    };
  },
});

/** `POST /api/event-bulk-create-jobs` (tier 10/s, 150/m): 202, no body; at most 1,000 events and 5 MB a request. */
export const bulkCreateEvents = defineAction({
  key: "bulk-create-events",
  label: "Bulk Create Events",
  description:
    "Records many events at once, for one profile or many. Any number of events may be given: they are checked first (nothing is sent if one is wrong), grouped by profile as Klaviyo wants them, and sent in requests of at most 1,000 events and 5 MB, several at a time within the rate limit. An event without a unique_id gets one derived from its content, time included, and one without a time gets the time it is sent, so that a retried request never records an event twice. Klaviyo accepts each request as a whole (202, processed later) or refuses it as a whole, e.g. when one unique_id appears twice for the same profile and metric; the result reports every event by its position: accepted, rejected with Klaviyo's reason, failed (no clear answer) or unsent.",
  operation: "bulk_create_events",
  inputs: {
    events: input.json<BulkEvent[], true>(
      {
        key: "events",
        label: "Events Array",
        required: true,
        comments:
          'A JSON array of events. Each one flat, as you hold it: {"metric":"Placed Order","profile":{"email":"sarah@example.com"},"properties":{"OrderId":"1234"},"time":"2026-07-15T12:00:00Z","value":29.98,"value_currency":"USD","unique_id":"order-1234"} (metric and profile required; the profile needs email, phone_number in E.164, external_id, anonymous_id or id), or in Klaviyo\'s own shapes: an event resource {"type":"event","attributes":{…}} or a bulk entry {"type":"event-bulk-create","attributes":{"profile":{"data":…},"events":{"data":[…]}}}. Positions in the result count events in input order (a bulk entry of three events takes three). An event without a unique_id gets one derived from its metric, profile identifiers, properties, time, value and currency, so a retry or a repeated run of the same array cannot duplicate it; an event without a time is given the time it is sent, so a repeated run of such events records them again. Never give the same unique_id twice for one profile and metric with different content: Klaviyo then refuses the whole request it is in (an exact repeat is sent once).',
        example:
          '[{"metric":"Placed Order","profile":{"email":"sarah@example.com"},"properties":{"OrderId":"1"}}]',
      },
      v.pipe(
        v.pipe(v.array(v.unknown()), v.minLength(1, "must hold at least one event")),
        transformWith((items, ctx) => {
          const problems: string[] = [];
          const events = readBulkEvents(items, problems);
          if (problems.length > 0) {
            reportProblems(ctx, problems);
            return undefined as never;
          }
          return events;
        }),
      ),
      "each event checked as Klaviyo's event (metric, a profile with an identifier, time, value, currency, properties within the ingestion limits)",
    ),
    backfill: input.boolean({
      key: "backfill",
      label: "Backfill",
      comments:
        "Set to true when importing past events: Klaviyo records them but starts no flows from them. Applies to every event that does not set backfill itself.",
    }),
  },
  async perform({ client, signal }, { events, backfill }): Promise<BulkResult> {
    // Checked whole before anything is sent (the input's schema); then streamed, several requests at a time.
    return ingestCheckedEvents(client, events, {
      signal,
      ...(backfill !== undefined ? { backfill } : {}),
      // A unique_id the caller repeats with other content stays in one request: Klaviyo refuses it and says why.
      conflictingRepeats: "same-request",
    });
  },
});

/** `GET /api/events/{id}` (tier 10/s, 150/m). */
export const getEvent = defineAction({
  key: "get-event",
  label: "Get Event",
  description:
    "Fetches one event by its ID: its time (datetime and epoch timestamp), uuid and event_properties (Klaviyo files the value and unique ID there as $value and $event_id). The metric and the profile it belongs to come back in included[] when asked for, by Include or by giving their fields. Limited to 10 requests per second, 150 per minute (List Events is far faster).",
  operation: "get_event",
  inputs: {
    eventId: input.id({
      key: "eventId",
      label: "Event ID",
      comments: "The Klaviyo ID of the event, as List Events returns it (Create Event returns none).",
      example: "4vRpBT6U9aA",
    }),
    ...eventFieldInputs(),
    include: eventIncludeInput("get_event"),
  },
  async perform({ send }, { eventId, ...values }) {
    const res = await send({
      path: { id: eventId },
      query: eventQuery(values),
    });
    return res.body;
  },
});

const EVENTS_PAGE_MAX = 1000;

/** `GET /api/events` (tier 350/s, 3500/m; page size up to 1000, default 200). */
export const listEvents = defineAction({
  key: "list-events",
  label: "List Events",
  description:
    "Lists the account's events, newest or oldest first, optionally narrowed by a filter (a metric, a profile, a time range). One page by default, with a cursor to continue; Limit walks pages until that many events. Each event's metric and profile come back in included[] when asked for, by Include or by giving their fields.",
  operation: "get_events",
  inputs: {
    ...eventFieldInputs(),
    filter: input.filter(
      {
        key: "filter",
        label: "Filter",
        comments:
          "A Klaviyo filter, checked before sending: equals(metric_id,'…'), equals(profile_id,'…'), has(profile), has(metric), and greater-or-equal / greater-than / less-or-equal / less-than on datetime (unquoted ISO 8601) or timestamp (epoch seconds); combine with and(…). metric_id does not match custom metrics.",
        example: "and(equals(metric_id,'RfcWBF'),greater-or-equal(datetime,2026-07-01T00:00:00Z))",
      },
      "get_events",
    ),
    sort: input.enum(
      {
        key: "sort",
        label: "Sort",
        comments:
          "The order: datetime or timestamp for oldest first, -datetime or -timestamp for newest first. Leave empty for Klaviyo's default.",
        example: "-datetime",
      },
      OPERATION_PARAMETERS.get_events?.sort ?? ["datetime", "-datetime", "timestamp", "-timestamp"],
    ),
    include: eventIncludeInput("get_events"),
    ...pagingInputs(EVENTS_PAGE_MAX),
  },
  async perform(ctx, { filter, sort, pageSize, cursor, limit, ...values }) {
    return listOutput(
      ctx,
      {
        query: { ...eventQuery(values), filter, sort },
      },
      { pageSize, cursor, limit },
    );
  },
});

/** The event actions. */
