/**
 * Events for a streamed ingestion: each is checked as it is read (`readBulkEvents`), stamped with the time it
 * is read when it has none, and given a deterministic `unique_id` when it has none, so that a retry or a re-run
 * of the same input never records an event twice (Klaviyo keeps the first event of a `unique_id` for a profile
 * and metric). Requests are Klaviyo's per-profile bulk jobs of at most 1,000 events and 5 MB.
 */
import { createHash } from "node:crypto";
import type { ApiError } from "../core/errors.js";
import {
  type BulkEvent,
  bulkEventBytes,
  canonicalJson,
  EVENT_LIMITS,
  groupByProfile,
  PROFILE_IDENTIFIERS,
  readBulkEvents,
  reasonsByEntry,
} from "./events-build.js";
import { isObject } from "./events-shared.js";
import type { Batch, BatchRules, IngestionSpec } from "./ingest-engine.js";
import type { ItemReader } from "./ingest-source.js";
import { UnreadableRecord } from "./ndjson.js";

/** An event ready to send; `derivedId` when its `unique_id` was derived from its content. */
export interface IngestEvent extends BulkEvent {
  derivedId: boolean;
}

/** The identifiers of an event's profile (what Klaviyo finds the profile by), in canonical form. */
function profileIdentifiers(event: BulkEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (event.profile.id !== undefined) out.id = event.profile.id;
  for (const key of PROFILE_IDENTIFIERS) {
    const value = event.profile.attributes[key];
    if (typeof value === "string" && value !== "") out[key] = value;
  }
  return out;
}

/**
 * The `unique_id` an event without one gets: the SHA-256 (hex) of the canonical JSON of its metric, its
 * profile's identifiers, properties, time (as an instant: the same moment written two ways is one time), value
 * and currency. The same event gives the same id on every run; another time gives another id.
 */
export function eventUniqueId(event: BulkEvent): string {
  const { metric, properties, time, value, value_currency } = event.event;
  const instant = time === undefined ? undefined : new Date(Date.parse(time)).toISOString();
  return createHash("sha256")
    .update(
      canonicalJson({
        metric: metric.data.attributes,
        profile: profileIdentifiers(event),
        properties,
        time: instant,
        value,
        value_currency,
      }),
    )
    .digest("hex");
}

/**
 * Completes an event for sending: a time (the clock's, when it has none) and a unique_id (derived, when it has
 * none). Returns a new event; the one given is left as it is.
 */
export function completeEvent(event: BulkEvent, now: () => number): IngestEvent {
  const attributes = { ...event.event };
  if (attributes.time === undefined) attributes.time = new Date(now()).toISOString();
  const out: IngestEvent = { profile: event.profile, event: attributes, derivedId: false };
  if (attributes.unique_id === undefined) {
    attributes.unique_id = eventUniqueId(out);
    out.derivedId = true;
  }
  return out;
}

/** An event as a flat input event, unique_id and time included: what the ingestion reads back identically. */
export function flatEvent(event: BulkEvent): Record<string, unknown> {
  const { metric, ...rest } = event.event;
  const { name, service } = metric.data.attributes;
  return { metric: service === undefined ? name : { name, service }, profile: event.profile, ...rest };
}

/** Positions an input item takes unread: the events of a bulk entry, else one. */
export function declaredEvents(raw: unknown): number {
  const item = isObject(raw) && Object.keys(raw).length === 1 && isObject(raw.data) ? raw.data : raw;
  if (!isObject(item) || !isObject(item.attributes)) return 1;
  const events = item.attributes.events;
  const data = isObject(events) ? events.data : undefined;
  return Array.isArray(data) && data.length > 0 ? data.length : 1;
}

/** Reads raw events (flat or Klaviyo's shapes, or a record that did not parse), one input item at a time. */
export function rawEventReader(now: () => number): ItemReader<unknown, IngestEvent> {
  return {
    read(raw) {
      if (raw instanceof UnreadableRecord) return { reason: raw.toString(), positions: 1 };
      const problems: string[] = [];
      const events = readBulkEvents([raw], problems, now());
      if (problems.length > 0) {
        return {
          reason: problems.map((p) => p.replace(/^item 0: /, "")).join("; "),
          positions: declaredEvents(raw),
        };
      }
      return { values: events.map((e) => completeEvent(e, now)) };
    },
    positions: declaredEvents,
  };
}

/** Reads events already checked (the Bulk Create Events action checks its whole array before sending). */
export function checkedEventReader(now: () => number): ItemReader<BulkEvent, IngestEvent> {
  return { read: (event) => ({ values: [completeEvent(event, now)] }), positions: () => 1 };
}

/** How events repeated within a request are handled; see `IngestEventsOptions.conflictingRepeats`. */
export type ConflictingRepeats = "later-request" | "same-request";

/** Requests of at most `maxEvents` (≤ 1,000) events and 5 MB; no unique_id twice for one profile and metric. */
export function eventRules(maxEvents: number, conflicting: ConflictingRepeats): BatchRules<IngestEvent> {
  return {
    maxItems: maxEvents,
    maxBytes: EVENT_LIMITS.bulkBytes,
    size: bulkEventBytes,
    key: (e) =>
      `${canonicalJson(profileIdentifiers(e))}\u0000${e.event.metric.data.attributes.name}\u0000${e.event.unique_id}`,
    hash: (e) =>
      createHash("sha256")
        .update(canonicalJson({ profile: e.profile, event: e.event }))
        .digest("base64"),
    mayShare: (e) => conflicting === "same-request" && !e.derivedId,
  };
}

/** Sends a request of events, and maps Klaviyo's error pointers back to the events' input positions. */
export function eventSender(
  post: (body: unknown) => Promise<unknown>,
): Pick<IngestionSpec<IngestEvent>, "send" | "reasons" | "unsentForm"> {
  const grouped = new WeakMap<Batch<IngestEvent>, number[][]>();
  return {
    async send(batch) {
      const events = batch.members.map((m) => m.value);
      const request = groupByProfile(events, 0, events.length);
      grouped.set(
        batch,
        request.positions.map((group) =>
          group.map((i) => (batch.members[i] as { position: number }).position),
        ),
      );
      await post(request.body);
    },
    reasons: (error: ApiError, batch) => reasonsByEntry(grouped.get(batch) ?? [], error),
    unsentForm: flatEvent,
  };
}
