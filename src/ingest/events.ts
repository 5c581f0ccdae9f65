/**
 * Events for a streamed ingestion: each is checked as it is read (`readBulkEvents`), stamped with the time it
 * is read when it has none, and given a deterministic `unique_id` when it has none, so that a retry or a re-run
 * of the same input never records an event twice (Klaviyo keeps the first event of a `unique_id` for a profile
 * and metric). Requests are Klaviyo's per-profile bulk jobs of at most 1,000 events and 5 MB.
 *
 * Each event is serialized once, as it is read (`PackedEvent`): a request being filled or in flight holds a few
 * strings per event rather than a tree of objects, which would outlive V8's young generation and swell the
 * heap of a long ingestion; the request's body is then put together from those strings.
 */
import { builtins } from "../core/builtins.js";
import type { ApiError } from "../core/errors.js";
import { EVENT_LIMITS } from "../klaviyo/event-limits.js";
import { isObject } from "../klaviyo/formats.js";
import type { Batch, BatchRules, IngestionSpec } from "./engine.js";
import {
  type BulkEvent,
  canonicalJson,
  type EventAttributes,
  PROFILE_IDENTIFIERS,
  type ProfileData,
  readBulkEvents,
  reasonsByEntry,
} from "./event-records.js";
import { UnreadableRecord } from "./ndjson.js";
import type { ItemReader } from "./source.js";

/** An event completed for sending; `derivedId` when its `unique_id` was derived from its content. */
export interface IngestEvent extends BulkEvent {
  derivedId: boolean;
}

/** An event as a request holds it: serialized once, as it was read. */
export interface PackedEvent {
  /** The profile's canonical JSON: its data in the request, and the key its events are grouped under. */
  readonly profile: string;
  /** The event's attributes as JSON, time and unique_id included. */
  readonly event: string;
  /** Its profile's identifiers, metric and unique_id: two events with one key must not share a request. */
  readonly key: string;
  readonly derivedId: boolean;
  /** The bytes it may take in a request: its own and, at worst, its profile's entry. */
  readonly bytes: number;
}

/** Serializes a completed event for a request (see `PackedEvent`). */
export function packEvent(event: IngestEvent): PackedEvent {
  const profile = canonicalJson(event.profile);
  const attributes = JSON.stringify(event.event);
  return {
    profile,
    event: attributes,
    // Identifiers in a fixed order (`profileIdentifiers`), so plain JSON is canonical; one flat string.
    key: JSON.stringify([
      profileIdentifiers(event),
      event.event.metric.data.attributes.name,
      event.event.unique_id,
    ]),
    derivedId: event.derivedId,
    bytes: Buffer.byteLength(attributes, "utf8") + Buffer.byteLength(profile, "utf8") + 120,
  };
}

/** The event a packed one holds, as objects again (for `onUnsent`, and the rare content comparison). */
function unpack(event: PackedEvent): BulkEvent {
  return {
    profile: JSON.parse(event.profile) as ProfileData,
    event: JSON.parse(event.event) as EventAttributes,
  };
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
  return builtins.crypto
    .createHash("sha256")
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

/** Completes and packs an event, `backfill` applied when it sets none. */
function ready(event: BulkEvent, now: () => number, backfill: boolean | undefined): PackedEvent {
  const complete = completeEvent(event, now);
  if (backfill !== undefined && complete.event.backfill === undefined) complete.event.backfill = backfill;
  return packEvent(complete);
}

/** Reads raw events (flat or Klaviyo's shapes, or a record that did not parse), one input item at a time. */
export function rawEventReader(now: () => number, backfill?: boolean): ItemReader<unknown, PackedEvent> {
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
      return { values: events.map((e) => ready(e, now, backfill)) };
    },
    positions: declaredEvents,
  };
}

/** Reads events already checked (the Bulk Create Events action checks its whole array before sending). */
export function checkedEventReader(
  now: () => number,
  backfill?: boolean,
): ItemReader<BulkEvent, PackedEvent> {
  return { read: (event) => ({ values: [ready(event, now, backfill)] }), positions: () => 1 };
}

/** How events repeated within a request are handled; see `IngestEventsOptions.conflictingRepeats`. */
export type ConflictingRepeats = "later-request" | "same-request";

/** Requests of at most `maxEvents` (≤ 1,000) events and 5 MB; no unique_id twice for one profile and metric. */
export function eventRules(maxEvents: number, conflicting: ConflictingRepeats): BatchRules<PackedEvent> {
  return {
    maxItems: maxEvents,
    maxBytes: EVENT_LIMITS.bulkBytes,
    size: (e) => e.bytes,
    key: (e) => e.key,
    // Only when a key repeats in one request: whether it is the same event (whatever its members' order).
    hash: (e) =>
      builtins.crypto
        .createHash("sha256")
        .update(canonicalJson(unpack(e)))
        .digest("base64"),
    mayShare: (e) => conflicting === "same-request" && !e.derivedId,
  };
}

/**
 * A request's body from its packed events: Klaviyo's per-profile entries (in the order their profile first
 * appears, events in input order), and the input position of event `j` of entry `i` at `positions[i][j]`.
 */
export function packRequest(members: ReadonlyArray<{ position: number; value: PackedEvent }>): {
  text: string;
  positions: number[][];
} {
  const byProfile = new Map<string, number>();
  const entries: Array<{ profile: string; events: string[] }> = [];
  const positions: number[][] = [];
  for (const { position, value } of members) {
    let at = byProfile.get(value.profile);
    if (at === undefined) {
      at = entries.length;
      byProfile.set(value.profile, at);
      entries.push({ profile: value.profile, events: [] });
      positions.push([]);
    }
    (entries[at] as { events: string[] }).events.push(`{"type":"event","attributes":${value.event}}`);
    (positions[at] as number[]).push(position);
  }
  const data = entries
    .map(
      (entry) =>
        `{"type":"event-bulk-create","attributes":{"profile":{"data":${entry.profile}},"events":{"data":[${entry.events.join(",")}]}}}`,
    )
    .join(",");
  return {
    text: `{"data":{"type":"event-bulk-create-job","attributes":{"events-bulk-create":{"data":[${data}]}}}}`,
    positions,
  };
}

/**
 * Sends a request of events, and maps Klaviyo's error pointers back to the events' input positions. A request's
 * body is put together as soon as it is complete (`prepare`) and its events let go: waiting for a slot and in
 * flight, it holds that one string. Unsent forms are read back from it: it holds each event exactly as sent.
 */
export function eventSender(
  post: (body: string) => Promise<unknown>,
): Pick<IngestionSpec<PackedEvent>, "prepare" | "send" | "reasons" | "unsentForm" | "unsentOf"> {
  const prepared = new WeakMap<Batch<PackedEvent>, { text: string; positions: number[][] }>();
  return {
    prepare(batch) {
      prepared.set(batch, packRequest(batch.members));
      for (const m of batch.members) (m as { value: PackedEvent | null }).value = null;
      for (const r of batch.riders) (r as { value: PackedEvent | null }).value = null;
    },
    async send(batch) {
      const request = prepared.get(batch);
      if (!request) throw new Error("internal: a request of events was sent before it was prepared");
      await post(request.text);
    },
    reasons: (error: ApiError, batch) => reasonsByEntry(prepared.get(batch)?.positions ?? [], error),
    unsentForm: (e) => flatEvent(unpack(e)),
    unsentOf(batch) {
      const forms = new Map<number, unknown>();
      const request = prepared.get(batch);
      if (!request) return forms;
      const body = JSON.parse(request.text) as {
        data: { attributes: { "events-bulk-create": { data: SentEntry[] } } };
      };
      body.data.attributes["events-bulk-create"].data.forEach((entry, i) => {
        entry.attributes.events.data.forEach((event, j) => {
          const position = request.positions[i]?.[j];
          const profile = entry.attributes.profile.data;
          if (position !== undefined) forms.set(position, flatEvent({ profile, event: event.attributes }));
        });
      });
      for (const r of batch.riders) forms.set(r.position, forms.get(r.of));
      return forms;
    },
  };
}

/** One entry of a request's body, as `packRequest` writes it. */
interface SentEntry {
  attributes: { profile: { data: ProfileData }; events: { data: Array<{ attributes: EventAttributes }> } };
}
