/**
 * Events and metrics: Create Event and Bulk Create Events (202, empty body), Get Event / Get Events, Get Metric
 * / Get Metrics. A write validates everything first (shape, ingestion limits, profile identifiers, and for the
 * bulk job duplicate `unique_id`s within the request) and only then records, so a refused request changes nothing.
 */

import { pointerOf, readJson } from "../body.js";
import { collection } from "../collection.js";
import { empty, Included, withIncluded } from "../documents.js";
import type { EmulatorContext, RouteRuntime, RouteTable } from "../env.js";
import { invalidBody, notFound, type ProblemInit } from "../errors.js";
import { canonicalUrl, jsonApi } from "../json-api.js";
import { readQuery } from "../query.js";
import { eventLimitProblems, profileProblems } from "../resources/events-limits.js";
import {
  dedupId,
  type EventProfileInput,
  eventVisible,
  pendingProfileKeys,
  recordEvent,
  upsertEventProfile,
} from "../resources/events-model.js";
import { eventField, eventResource } from "../resources/events-render.js";
import {
  type BulkCreateEventsBody,
  bulkCreateEventsBody,
  checkDocumentType,
  createEventBody,
  type EventAttributesInput,
  parseEventDocument,
  problemsError,
} from "../resources/events-schema.js";
import { metricField, metricResource } from "../resources/metrics-model.js";
import type { EmulatorState } from "../state.js";

/** Klaviyo's cap on events in one bulk request, counted over every profile's entry. */
export const MAX_BULK_EVENTS = 1000;

/** Get Metrics has no `page[size]`; Klaviyo serves up to 200 metrics a page. */
const METRICS_PAGE = { default: 200, max: 200 } as const;

const BULK_ENTRIES = ["data", "attributes", "events-bulk-create", "data"] as const;

function member(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/** Events in a (not yet validated) bulk body, so an oversized request is refused before any other work. */
function countBulkEvents(body: unknown): number {
  let entries: unknown = body;
  for (const key of BULK_ENTRIES) entries = member(entries, key);
  if (!Array.isArray(entries)) return 0;
  let total = 0;
  for (const entry of entries) {
    const events = member(member(member(entry, "attributes"), "events"), "data");
    if (Array.isArray(events)) total += events.length;
  }
  return total;
}

function throwIfAny(problems: readonly ProblemInit[]): void {
  if (problems.length > 0) throw problemsError(problems);
}

async function createEvent(
  c: EmulatorContext,
  state: EmulatorState,
  runtime: RouteRuntime,
): Promise<Response> {
  const raw = await readJson(c);
  checkDocumentType(raw, "event");
  const body = parseEventDocument(createEventBody, raw);
  const now = runtime.now();
  const { profile, ...event } = body.data.attributes;
  const { meta, ...attributes } = profile.data.attributes;
  const input: EventProfileInput = { id: profile.data.id, attributes, meta };
  throwIfAny([
    ...eventLimitProblems(event, ["data", "attributes"], now),
    ...profileProblems(state, input, ["data", "attributes", "profile", "data"]),
  ]);
  recordEvent(state, upsertEventProfile(state, input, now), event, now, runtime.eventVisibilityDelayMs());
  return empty(202);
}

interface BulkItem {
  readonly profile: EventProfileInput;
  readonly events: readonly EventAttributesInput[];
}

/** Checks a whole bulk request: limits, identifiers, then `unique_id`s repeated for one profile and metric. */
function checkBulk(state: EmulatorState, body: BulkCreateEventsBody, now: number): BulkItem[] {
  const problems: ProblemInit[] = [];
  const items: BulkItem[] = [];
  const profileKey = pendingProfileKeys(state);
  const seen = new Set<string>();
  body.data.attributes["events-bulk-create"].data.forEach((entry, i) => {
    const base = ["data", "attributes", "events-bulk-create", "data", i, "attributes"] as const;
    const { data } = entry.attributes.profile;
    const profile: EventProfileInput = { id: data.id, attributes: data.attributes, meta: data.meta };
    problems.push(...profileProblems(state, profile, [...base, "profile", "data"]));
    const key = profileKey(profile);
    const events = entry.attributes.events.data.map((event) => event.attributes);
    events.forEach((event, j) => {
      const path = [...base, "events", "data", j, "attributes"];
      problems.push(...eventLimitProblems(event, path, now));
      // Only an explicit unique_id fails the request; defaulted ones (the time) just collapse, as one by one.
      if (!event.unique_id) return;
      const dedup = `${key} ${event.metric.data.attributes.name} ${dedupId(event, now)}`;
      if (seen.has(dedup)) {
        problems.push(
          invalidBody(
            pointerOf([...path, "unique_id"]),
            `The unique_id '${event.unique_id}' is repeated for the same profile and metric in this request; no events were processed.`,
          ),
        );
      }
      seen.add(dedup);
    });
    items.push({ profile, events });
  });
  throwIfAny(problems);
  return items;
}

async function bulkCreateEvents(
  c: EmulatorContext,
  state: EmulatorState,
  runtime: RouteRuntime,
): Promise<Response> {
  const raw = await readJson(c);
  checkDocumentType(raw, "event-bulk-create-job");
  const count = countBulkEvents(raw);
  if (count > MAX_BULK_EVENTS) {
    throw problemsError([
      invalidBody(
        "/data/attributes/events-bulk-create/data",
        `A request can create at most ${MAX_BULK_EVENTS} events; this one has ${count}.`,
      ),
    ]);
  }
  const body = parseEventDocument(bulkCreateEventsBody, raw);
  const now = runtime.now();
  const delayMs = runtime.eventVisibilityDelayMs();
  for (const item of checkBulk(state, body, now)) {
    const profile = upsertEventProfile(state, item.profile, now);
    for (const event of item.events) recordEvent(state, profile, event, now, delayMs);
  }
  return empty(202);
}

/**
 * The event and metric handlers, over `state`. Reads of events see only the events visible at the emulator's
 * clock (`eventVisible`): one recorded while an indexing lag is set is out of Get Event and Get Events until then.
 */
export function eventRoutes(state: EmulatorState, runtime: RouteRuntime): RouteTable {
  return {
    create_event: (c) => createEvent(c, state, runtime),

    bulk_create_events: (c) => bulkCreateEvents(c, state, runtime),

    get_event(c) {
      const query = readQuery(c);
      const id = c.get("params").id ?? "";
      const row = state.events.get(id);
      // An event not yet indexed is not found, as if it did not exist yet: how Klaviyo answers a read of an event
      // it accepted but has not indexed is not documented; a 404 is what a client must be ready for either way.
      if (!row || !eventVisible(row, runtime.now())) throw notFound(`No event with id '${id}' exists.`);
      const included = new Included();
      const data = eventResource(state, query, row, included);
      return withIncluded(c.req.url, query, data, included);
    },

    get_events(c) {
      const now = runtime.now();
      return collection(c, {
        rows: state.events.values(),
        field: eventField,
        where: (row) => eventVisible(row, now),
        render: (row, query, included) => eventResource(state, query, row, included),
      });
    },

    get_metric(c) {
      const query = readQuery(c);
      const id = c.get("params").id ?? "";
      const row = state.metrics.get(id);
      if (!row) throw notFound(`No metric with id '${id}' exists.`);
      return jsonApi({
        data: metricResource(query, row),
        ...(query.include.size > 0 ? { included: [] } : {}),
        links: { self: canonicalUrl(c.req.url) },
      });
    },

    get_metrics(c) {
      c.set("operation", { ...c.get("operation"), pageSize: METRICS_PAGE });
      return collection(c, {
        rows: state.metrics.values(),
        field: metricField,
        render: (row, query) => metricResource(query, row),
      });
    },
  };
}
