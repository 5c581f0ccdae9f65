/**
 * Building Klaviyo's event documents from what users hold: a profile given flat (`{ "email": … }`) or as
 * Klaviyo's resource object, a metric given by name, times in any ISO 8601 form. Every rule Klaviyo states for
 * events is checked here, before anything is sent: a metric name under 128 characters, at least one profile
 * identifier, email and E.164 syntax, ISO 4217 currencies, a time after 1990 and at most a year ahead, at most 400
 * properties nested at most 10 levels deep, no string over 100 KB and no array over 4,000 items anywhere in it.
 */

import type { ApiError } from "../core/errors.js";
import { EVENT_LIMITS, overStringLimit } from "../klaviyo/event-limits.js";
import { formatTests, isObject, isoDateTime } from "../klaviyo/formats.js";
import { PROFILE_IDENTIFIERS, PROFILE_LOCATION_KEYS } from "../klaviyo/identifiers.js";
import { MAX_INPUT_DEPTH } from "../klaviyo/value-guard.js";

export { PROFILE_IDENTIFIERS };

/** Every attribute an event's profile may carry (anything else goes under `properties`). */
export const PROFILE_ATTRIBUTES = [
  ...PROFILE_IDENTIFIERS,
  "first_name",
  "last_name",
  "organization",
  "locale",
  "title",
  "image",
  "location",
  "properties",
] as const;

const LOCATION_KEYS: readonly string[] = PROFILE_LOCATION_KEYS;
const META_KEYS = ["patch_properties", "patch_identifiers"];

/** `data` of an event's profile, as Klaviyo takes it. */
export interface ProfileData {
  type: "profile";
  id?: string;
  attributes: Record<string, unknown>;
  meta?: Record<string, unknown>;
}

/** An event's attributes as Klaviyo takes them (its profile apart). */
export interface EventAttributes {
  properties: Record<string, unknown>;
  time?: string;
  value?: number;
  value_currency?: string;
  unique_id?: string;
  backfill?: boolean;
  metric: { data: { type: "metric"; attributes: { name: string; service?: string } } };
}

/** One event of a bulk request, ready to group: its profile (bulk form: `meta` beside the attributes). */
export interface BulkEvent {
  profile: ProfileData;
  event: EventAttributes;
}

/**
 * Where `meta` goes: Create Event carries the profile's `meta` inside `attributes`, the bulk job beside them
 * (two different schemas in Klaviyo's document).
 */
export type MetaPlacement = "inside" | "beside";

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
}

const DESCRIBE_IDENTIFIERS = "id, email, phone_number, external_id, anonymous_id or _kx";

/**
 * Reads a profile: flat attributes (`{ "email": …, "first_name": … }`, with `id` and `meta` allowed beside
 * them), Klaviyo's resource object (`{ "type": "profile", "id"?, "attributes": {…}, "meta"? }`) or that
 * wrapped in `data`. Problems go to `problems`, each prefixed with `at`.
 */
export function readProfile(
  raw: unknown,
  placement: MetaPlacement,
  problems: string[],
  at = "",
): ProfileData | undefined {
  const before = problems.length;
  const fail = (message: string) => {
    problems.push(`${at}${message}`);
  };
  let value = raw;
  if (isObject(value) && Object.keys(value).length === 1 && isObject(value.data)) value = value.data;
  if (!isObject(value)) {
    fail(`the profile must be an object of profile attributes, such as {"email":"sarah@example.com"}`);
    return undefined;
  }
  let id: unknown;
  let meta: unknown;
  let attributes: Record<string, unknown>;
  const resourceForm =
    isObject(value.attributes) &&
    Object.keys(value).every((k) => ["type", "id", "attributes", "meta"].includes(k));
  if (resourceForm) {
    if (value.type !== undefined && value.type !== "profile") {
      fail(`the profile's type must be "profile", not ${describe(value.type)}`);
    }
    id = value.id;
    const { meta: innerMeta, ...rest } = value.attributes as Record<string, unknown>;
    attributes = rest;
    meta = value.meta ?? innerMeta;
  } else {
    const { id: flatId, meta: flatMeta, type, ...rest } = value;
    if (type !== undefined && type !== "profile")
      fail(`the profile's type must be "profile", not ${describe(type)}`);
    id = flatId;
    meta = flatMeta;
    attributes = rest;
  }

  const unknown = Object.keys(attributes).filter(
    (k) => !(PROFILE_ATTRIBUTES as readonly string[]).includes(k),
  );
  if (unknown.length > 0) {
    fail(
      `unknown profile attribute${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")}: put custom attributes under "properties"; known: ${PROFILE_ATTRIBUTES.join(", ")}, plus id and meta`,
    );
  }
  if (id !== undefined && id !== null && (typeof id !== "string" || id.trim() === "")) {
    fail(`the profile id must be non-empty text, not ${describe(id)}`);
  }
  for (const key of PROFILE_ATTRIBUTES) {
    const v = attributes[key];
    if (v === undefined || v === null) continue;
    if (key === "location" || key === "properties") {
      if (!isObject(v)) fail(`profile ${key} must be an object, not ${describe(v)}`);
    } else if (typeof v !== "string") {
      fail(`profile ${key} must be text, not ${describe(v)}`);
    }
  }
  if (isObject(attributes.location)) {
    for (const [k, v] of Object.entries(attributes.location)) {
      if (!LOCATION_KEYS.includes(k))
        fail(`unknown profile location field "${k}"; known: ${LOCATION_KEYS.join(", ")}`);
      else if (
        v !== null &&
        typeof v !== "string" &&
        !((k === "latitude" || k === "longitude") && typeof v === "number")
      )
        fail(
          `profile location.${k} must be text${k === "latitude" || k === "longitude" ? " or a number" : ""}`,
        );
    }
  }
  if (meta !== undefined && meta !== null) {
    if (!isObject(meta)) fail(`profile meta must be an object, not ${describe(meta)}`);
    else {
      const bad = Object.keys(meta).filter((k) => !META_KEYS.includes(k));
      if (bad.length > 0)
        fail(
          `unknown profile meta member ${bad.map((k) => `"${k}"`).join(", ")}; known: ${META_KEYS.join(", ")}`,
        );
    }
  }
  const hasId = typeof id === "string" && id.trim() !== "";
  const identifiers = PROFILE_IDENTIFIERS.filter(
    (k) => typeof attributes[k] === "string" && attributes[k] !== "",
  );
  if (!hasId && identifiers.length === 0) {
    fail(`the profile needs at least one identifier: ${DESCRIBE_IDENTIFIERS}`);
  }
  if (
    typeof attributes.email === "string" &&
    attributes.email !== "" &&
    !formatTests.email(attributes.email.trim())
  ) {
    fail(`profile email "${attributes.email}" is not an email address (name@example.com)`);
  }
  if (
    typeof attributes.phone_number === "string" &&
    attributes.phone_number !== "" &&
    !formatTests.phone(attributes.phone_number.trim())
  ) {
    fail(
      `profile phone_number "${attributes.phone_number}" is not in E.164 format: + then country code and number, digits only (+15005550006)`,
    );
  }
  checkMemberLimits(attributes, "profile", problems, at);
  if (problems.length > before) return undefined;

  const out: ProfileData = { type: "profile", attributes: { ...attributes } };
  if (hasId) out.id = (id as string).trim();
  if (isObject(meta)) {
    if (placement === "inside") out.attributes.meta = meta;
    else out.meta = meta;
  }
  return out;
}

/** A metric name, from text, `{ name, service? }` or Klaviyo's `{ data: { type: "metric", attributes } }`. */
function readMetric(raw: unknown, problems: string[], at: string): EventAttributes["metric"] | undefined {
  let value = raw;
  if (isObject(value) && isObject(value.data)) value = value.data;
  if (isObject(value) && isObject(value.attributes)) value = value.attributes;
  let name: unknown = value;
  let service: unknown;
  if (isObject(value)) {
    name = value.name;
    service = value.service;
  }
  if (name === undefined || name === null || (typeof name === "string" && name.trim() === "")) {
    problems.push(`${at}the metric (event) name is required, such as "Placed Order"`);
    return undefined;
  }
  if (typeof name !== "string") {
    problems.push(`${at}the metric name must be text, not ${describe(name)}`);
    return undefined;
  }
  if (name.length > EVENT_LIMITS.metricName) {
    problems.push(`${at}the metric name must be under 128 characters (it has ${name.length})`);
    return undefined;
  }
  if (service !== undefined && service !== null && typeof service !== "string") {
    problems.push(`${at}the metric service must be text`);
    return undefined;
  }
  return {
    data: { type: "metric", attributes: { name, ...(typeof service === "string" ? { service } : {}) } },
  };
}

/** Problems with one event's time: ISO 8601, after 1990, at most a year ahead. The normalised time otherwise. */
export function readEventTime(
  raw: unknown,
  problems: string[],
  at = "",
  now = Date.now(),
): string | undefined {
  if (typeof raw !== "string") {
    problems.push(`${at}the time must be ISO 8601 text such as 2026-07-15T12:00:00Z, not ${describe(raw)}`);
    return undefined;
  }
  const time = isoDateTime(raw);
  if (time === undefined) {
    problems.push(`${at}the time "${raw}" is not an ISO 8601 date-time such as 2026-07-15T12:00:00Z`);
    return undefined;
  }
  const ms = Date.parse(time);
  if (ms < EVENT_LIMITS.earliest) problems.push(`${at}the time ${time} is not after the year 1990`);
  else if (ms > now + EVENT_LIMITS.aheadMs) problems.push(`${at}the time ${time} is more than a year ahead`);
  else return time;
  return undefined;
}

/**
 * Klaviyo's ingestion limits inside `value` (found at `path`, at level `depth`): strings of at most 100 KB, arrays
 * of at most 4,000 items, and containers at most `maxDepth` levels deep (properties: 10, Klaviyo's rule; other
 * members: as deep as any input may be, which also keeps this walk far from the stack's limit). At most 3 problems.
 */
export function ingestionLimitProblems(
  value: unknown,
  path: string,
  out: string[],
  depth: number,
  maxDepth: number = EVENT_LIMITS.depth,
): void {
  if (out.length >= 3) return;
  if (typeof value === "string") {
    if (overStringLimit(value)) out.push(`${path} is longer than 100 KB, Klaviyo's limit for one string`);
    return;
  }
  if (!Array.isArray(value) && !isObject(value)) return;
  if (depth > maxDepth) {
    out.push(
      maxDepth === EVENT_LIMITS.depth
        ? `${path} is nested more than ${EVENT_LIMITS.depth} levels deep, Klaviyo's limit for properties`
        : `${path} is nested more than ${maxDepth} levels deep`,
    );
    return;
  }
  if (Array.isArray(value)) {
    if (value.length > EVENT_LIMITS.arrayItems)
      out.push(
        `${path} has ${value.length} items; Klaviyo takes at most ${EVENT_LIMITS.arrayItems} in an array`,
      );
    for (const [i, v] of value.entries())
      ingestionLimitProblems(v, `${path}[${i}]`, out, depth + 1, maxDepth);
  } else
    for (const [k, v] of Object.entries(value))
      ingestionLimitProblems(v, `${path}.${k}`, out, depth + 1, maxDepth);
}

/** Problems with an event's properties: an object, at most 400 members, within Klaviyo's ingestion limits. */
export function checkProperties(properties: Record<string, unknown>, problems: string[], at = ""): boolean {
  const before = problems.length;
  const count = Object.keys(properties).length;
  if (count > EVENT_LIMITS.properties) {
    problems.push(
      `${at}an event may have at most ${EVENT_LIMITS.properties} properties; this one has ${count}`,
    );
  }
  const found: string[] = [];
  ingestionLimitProblems(properties, "properties", found, 1);
  for (const problem of found) problems.push(`${at}${problem}`);
  return problems.length === before;
}

/** The limits on an event's other members (its profile, unique_id, metric…): strings and arrays, at any depth. */
export function checkMemberLimits(value: unknown, path: string, problems: string[], at = ""): void {
  const found: string[] = [];
  ingestionLimitProblems(value, path, found, 0, MAX_INPUT_DEPTH);
  for (const problem of found) problems.push(`${at}${problem}`);
}

const FLAT_EVENT_KEYS = [
  "metric",
  "profile",
  "properties",
  "time",
  "value",
  "value_currency",
  "unique_id",
  "backfill",
];

/**
 * Reads an event's own members (everything but the profile): from a flat event or from the `attributes` of
 * Klaviyo's event resource. `null` counts as absent.
 */
function readEventAttributes(
  src: Record<string, unknown>,
  problems: string[],
  at: string,
  allowed: readonly string[],
  now: number,
): EventAttributes | undefined {
  const before = problems.length;
  const unknown = Object.keys(src).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    problems.push(
      `${at}unknown member${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")}; an event may have: ${allowed.join(", ")}`,
    );
  }
  const metric = readMetric(src.metric, problems, at);
  let properties: Record<string, unknown> = {};
  if (src.properties !== undefined && src.properties !== null) {
    if (!isObject(src.properties))
      problems.push(`${at}properties must be an object, not ${describe(src.properties)}`);
    else {
      properties = src.properties;
      checkProperties(properties, problems, at);
    }
  }
  const out: Partial<EventAttributes> = {};
  if (src.time !== undefined && src.time !== null) {
    const time = readEventTime(src.time, problems, at, now);
    if (time !== undefined) out.time = time;
  }
  if (src.value !== undefined && src.value !== null) {
    const n = typeof src.value === "string" && src.value.trim() !== "" ? Number(src.value) : src.value;
    if (typeof n !== "number" || !Number.isFinite(n))
      problems.push(`${at}value must be a number, not ${describe(src.value)}`);
    else out.value = n;
  }
  if (src.value_currency !== undefined && src.value_currency !== null) {
    const currency = typeof src.value_currency === "string" ? src.value_currency.trim() : undefined;
    if (currency === undefined || !formatTests.currency(currency))
      problems.push(
        `${at}value_currency ${describe(src.value_currency)} is not an ISO 4217 code: three capital letters (USD, EUR)`,
      );
    else out.value_currency = currency;
  }
  if (src.unique_id !== undefined && src.unique_id !== null) {
    const id =
      typeof src.unique_id === "number" && Number.isFinite(src.unique_id)
        ? String(src.unique_id)
        : src.unique_id;
    if (typeof id !== "string" || id === "")
      problems.push(`${at}unique_id must be non-empty text, not ${describe(src.unique_id)}`);
    else out.unique_id = id;
  }
  if (src.backfill !== undefined && src.backfill !== null) {
    if (typeof src.backfill !== "boolean") problems.push(`${at}backfill must be true or false`);
    else out.backfill = src.backfill;
  }
  if (out.unique_id !== undefined) checkMemberLimits(out.unique_id, "unique_id", problems, at);
  if (metric?.data.attributes.service !== undefined)
    checkMemberLimits(metric.data.attributes.service, "the metric service", problems, at);
  if (problems.length > before || metric === undefined) return undefined;
  return {
    properties,
    ...(out.time !== undefined ? { time: out.time } : {}),
    ...(out.value !== undefined ? { value: out.value } : {}),
    ...(out.value_currency !== undefined ? { value_currency: out.value_currency } : {}),
    ...(out.unique_id !== undefined ? { unique_id: out.unique_id } : {}),
    ...(out.backfill !== undefined ? { backfill: out.backfill } : {}),
    metric,
  };
}

/**
 * Reads the Events Array: each item a flat event (`{ metric, profile, properties, time, value, value_currency,
 * unique_id, backfill }`), Klaviyo's event resource (`{ type: "event", attributes: { …, metric, profile } }`),
 * or Klaviyo's bulk entry (`{ type: "event-bulk-create", attributes: { profile, events: { data: [...] } } }`),
 * which holds several events. The result is one `BulkEvent` per event, in input order (so a bulk entry of three
 * events takes three positions); `problems` name each item (and event) by its 0-based position.
 */
export function readBulkEvents(items: readonly unknown[], problems: string[], now = Date.now()): BulkEvent[] {
  const out: BulkEvent[] = [];
  items.forEach((raw, i) => {
    let item = raw;
    if (isObject(item) && Object.keys(item).length === 1 && isObject(item.data)) item = item.data;
    const at = `item ${i}: `;
    if (!isObject(item)) {
      problems.push(`${at}must be an event object, not ${describe(item)}`);
      return;
    }
    const attributes = isObject(item.attributes) ? item.attributes : undefined;
    if (attributes && (item.type === "event-bulk-create" || attributes.events !== undefined)) {
      // Klaviyo's bulk entry: one profile, several events.
      const entryBad = Object.keys(item).filter((k) => !["type", "attributes"].includes(k));
      if (entryBad.length > 0)
        problems.push(`${at}unknown member ${entryBad.map((k) => `"${k}"`).join(", ")} in a bulk entry`);
      const profile = readProfile(attributes.profile, "beside", problems, `${at}`);
      const events = isObject(attributes.events) ? attributes.events.data : undefined;
      const bad = Object.keys(attributes).filter((k) => !["profile", "events", "backfill"].includes(k));
      if (bad.length > 0)
        problems.push(`${at}unknown member ${bad.map((k) => `"${k}"`).join(", ")} in the entry's attributes`);
      if (!Array.isArray(events) || events.length === 0) {
        problems.push(`${at}a bulk entry needs attributes.events.data: an array of at least one event`);
        return;
      }
      const entryBackfill = attributes.backfill;
      if (entryBackfill !== undefined && entryBackfill !== null && typeof entryBackfill !== "boolean")
        problems.push(`${at}backfill must be true or false`);
      events.forEach((ev, j) => {
        const eat = `item ${i}, event ${j}: `;
        const evAttributes = isObject(ev) && isObject(ev.attributes) ? ev.attributes : undefined;
        if (!isObject(ev) || !evAttributes) {
          problems.push(`${eat}must be {"type":"event","attributes":{…}}`);
          return;
        }
        if (ev.type !== undefined && ev.type !== "event") problems.push(`${eat}type must be "event"`);
        const event = readEventAttributes(
          evAttributes,
          problems,
          eat,
          FLAT_EVENT_KEYS.filter((k) => k !== "profile"),
          now,
        );
        if (event && profile) {
          if (event.backfill === undefined && typeof entryBackfill === "boolean")
            event.backfill = entryBackfill;
          out.push({ profile, event });
        }
      });
      return;
    }
    let src: Record<string, unknown> = item;
    if (attributes) {
      // Klaviyo's event resource (Create Event's `data`).
      if (item.type !== undefined && item.type !== "event") {
        problems.push(`${at}type must be "event" or "event-bulk-create", not ${describe(item.type)}`);
        return;
      }
      const extra = Object.keys(item).filter((k) => !["type", "attributes"].includes(k));
      if (extra.length > 0) problems.push(`${at}unknown member ${extra.map((k) => `"${k}"`).join(", ")}`);
      src = attributes;
    }
    let profile: ProfileData | undefined;
    if (src.profile === undefined || src.profile === null) {
      problems.push(
        `${at}the profile is required: an object with at least one identifier (${DESCRIBE_IDENTIFIERS})`,
      );
    } else profile = readProfile(src.profile, "beside", problems, at);
    const event = readEventAttributes(src, problems, at, FLAT_EVENT_KEYS, now);
    if (event && profile) out.push({ profile, event });
  });
  return out;
}

/**
 * Canonical JSON (keys sorted as strings, undefined members left out, `toJSON` honoured as `JSON.stringify`
 * does), so two equal values give one text whatever their key order. Built from parts joined once: a flat
 * string, with no tree of concatenations to keep alive while it is held.
 */
export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  writeCanonical(value, parts);
  return parts.join("");
}

function writeCanonical(input: unknown, parts: string[]): void {
  let value = input;
  if (typeof (value as { toJSON?: unknown } | null)?.toJSON === "function")
    value = (value as { toJSON(): unknown }).toJSON();
  if (typeof value !== "object" || value === null) {
    parts.push(JSON.stringify(value) ?? "null");
    return;
  }
  if (Array.isArray(value)) {
    parts.push("[");
    value.forEach((item, i) => {
      if (i > 0) parts.push(",");
      writeCanonical(item === undefined || typeof item === "function" ? null : item, parts);
    });
    parts.push("]");
    return;
  }
  const record = value as Record<string, unknown>;
  parts.push("{");
  let first = true;
  const keys = Object.keys(record);
  // Short key lists (most are) by insertion sort, in place: Array#sort allocates on every call (this runs for
  // every profile and event of an ingestion). Same order as the default sort: by UTF-16 code units.
  if (keys.length > 16) keys.sort();
  else
    for (let i = 1; i < keys.length; i++) {
      const key = keys[i] as string;
      let j = i - 1;
      while (j >= 0 && (keys[j] as string) > key) {
        keys[j + 1] = keys[j] as string;
        j -= 1;
      }
      keys[j + 1] = key;
    }
  for (const key of keys) {
    const member = record[key];
    if (member === undefined || typeof member === "function") continue;
    parts.push(first ? "" : ",", JSON.stringify(key), ":");
    writeCanonical(member, parts);
    first = false;
  }
  parts.push("}");
}

const ENTRY_POINTER =
  /^\/data\/attributes\/events-bulk-create\/data\/(\d+)(?:\/attributes\/events\/data\/(\d+))?/;

/**
 * Maps Klaviyo's error pointers back to input positions: a pointer into one event names that event, a pointer
 * into an entry's profile names every event of the entry. Errors without such a pointer leave the events with
 * the request's message.
 */
export function reasonsByEntry(
  positions: readonly (readonly number[])[],
  error: ApiError,
): Map<number, string> {
  const out = new Map<number, string>();
  for (const entry of error.errors) {
    const pointer = entry.source?.pointer;
    const m = pointer ? ENTRY_POINTER.exec(pointer) : null;
    if (!m) continue;
    const group = positions[Number(m[1])];
    if (!group) continue;
    const targets =
      m[2] === undefined ? group : [group[Number(m[2])]].filter((p): p is number => p !== undefined);
    const reason = `${entry.detail ?? entry.title ?? entry.code ?? "refused"} [${pointer}]`;
    for (const index of targets) out.set(index, out.has(index) ? `${out.get(index)}; ${reason}` : reason);
  }
  return out;
}
