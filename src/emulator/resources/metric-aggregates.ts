/**
 * Query Metric Aggregates over the events the emulator holds: the metric's events inside the required datetime
 * range (and the optional dimension filters), bucketed by hour, day, week or month in the query's time zone, each
 * bucket measured (`count` events, `sum_value` of their `$value`, `unique` profiles), one row per group of the
 * `by` dimensions.
 *
 * Readings of what Klaviyo does not document, each chosen as the most plausible:
 * - `dates` are the starts of the local buckets, written in UTC (`2022-06-01T04:00:00+00:00` for June in
 *   US/Eastern, as answers quoted on Klaviyo's community show); the first bucket is the one holding the range's
 *   start, the last the one holding the instant before its end.
 * - Weeks start on Monday (ISO 8601).
 * - A range bound without an offset is a wall-clock time in the query's time zone.
 * - A `by` dimension is read from the event property of that name; an event without it is grouped under "".
 *   Dimensions Klaviyo derives from data the emulator does not hold (attribution, send cohorts, the clients and
 *   inboxes of opens, bot clicks, segment counts, usage) are refused with a 400, as are filters on them.
 * - Extra filters may use `equals(<dimension>,"value")` and `any(<dimension>,["a","b"])`.
 * - Without `by` there is one row (dimensions `[]`), zeros included; with `by`, one row per group that has events,
 *   ordered by the dimensions (or by `sort`), `page_size` rows a page with a cursor to the rest.
 */
import {
  AGGREGATE_DIMENSIONS,
  AGGREGATE_INTERVALS,
  AGGREGATE_MEASUREMENTS,
} from "../../klaviyo/metric-aggregates.js";
import type { EmulatorState, EventRow } from "../state.js";

export { isKnownTimeZone } from "../../klaviyo/time-zones.js";

export const MEASUREMENTS = AGGREGATE_MEASUREMENTS;
export type Measurement = (typeof MEASUREMENTS)[number];
export const INTERVALS = AGGREGATE_INTERVALS;
export type Interval = (typeof INTERVALS)[number];
/** The `by` dimensions of Klaviyo's document. */
export const DIMENSIONS = AGGREGATE_DIMENSIONS;

/** Dimensions Klaviyo derives from data the emulator does not hold: refused rather than answered wrongly. */
export const UNSUPPORTED_DIMENSIONS: ReadonlySet<string> = new Set([
  "$attributed_channel",
  "$attributed_flow",
  "$attributed_message",
  "$attributed_variation",
  "$message_send_cohort",
  "$variation_send_cohort",
  "$usage_amount",
  "Bot Click",
  "Client Canonical",
  "Client Name",
  "Client Type",
  "Inbox Provider",
  "Segment Count",
]);

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(zone, f);
  }
  return f;
}

interface Wall {
  y: number;
  m: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}

/** The wall-clock time of an instant in a zone. */
function wallOf(zone: string, ms: number): Wall {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(new Date(ms))) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  return {
    y: parts.year ?? 1970,
    m: parts.month ?? 1,
    d: parts.day ?? 1,
    h: (parts.hour ?? 0) % 24,
    mi: parts.minute ?? 0,
    s: parts.second ?? 0,
  };
}

/** The zone's offset from UTC at an instant, in ms. */
function offsetAt(zone: string, ms: number): number {
  const w = wallOf(zone, ms);
  return Date.UTC(w.y, w.m - 1, w.d, w.h, w.mi, w.s) - Math.floor(ms / 1000) * 1000;
}

/** The instant a wall-clock time names in a zone (months and days may overflow, as `Date.UTC` allows). */
export function instantOf(
  zone: string,
  y: number,
  m: number,
  d: number,
  h = 0,
  mi = 0,
  s = 0,
  frac = 0,
): number {
  const guess = Date.UTC(y, m - 1, d, h, mi, s) + frac;
  const first = guess - offsetAt(zone, guess);
  const second = guess - offsetAt(zone, first);
  return second;
}

/** The start of the bucket holding `ms`. */
export function bucketStart(zone: string, interval: Interval, ms: number): number {
  const w = wallOf(zone, ms);
  switch (interval) {
    case "hour":
      return instantOf(zone, w.y, w.m, w.d, w.h);
    case "day":
      return instantOf(zone, w.y, w.m, w.d);
    case "week": {
      const weekday = new Date(Date.UTC(w.y, w.m - 1, w.d)).getUTCDay(); // 0 Sunday
      return instantOf(zone, w.y, w.m, w.d - ((weekday + 6) % 7));
    }
    default:
      return instantOf(zone, w.y, w.m, 1);
  }
}

/** The start of the bucket after the one starting at `start`. */
function nextStart(zone: string, interval: Interval, start: number): number {
  if (interval === "hour") return start + 3_600_000;
  const w = wallOf(zone, start);
  if (interval === "day") return instantOf(zone, w.y, w.m, w.d + 1);
  if (interval === "week") return instantOf(zone, w.y, w.m, w.d + 7);
  return instantOf(zone, w.y, w.m + 1, 1);
}

/** Klaviyo's way of writing the dates: UTC, to the second, `+00:00`. */
function utcText(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "+00:00");
}

const DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/** The instant a range bound names; a bound without an offset is a wall-clock time in `zone`. */
export function parseBound(text: string, zone: string): number | undefined {
  const m = DATETIME.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0", frac, offset] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59)
    return undefined;
  const ms = frac ? Math.floor(Number(`0${frac}`) * 1000) : 0;
  if (offset === undefined)
    return instantOf(zone, Number(y), month, day, Number(h), Number(mi), Number(s), ms);
  const base = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(s), ms);
  if (offset === "Z") return base;
  const o = /^([+-])(\d{2}):?(\d{2})?$/.exec(offset);
  if (!o) return undefined;
  const minutes = Number(o[2]) * 60 + Number(o[3] ?? 0);
  return base - (o[1] === "+" ? 1 : -1) * minutes * 60_000;
}

/** One extra filter: the events whose dimension is one of `values`. */
export interface DimensionFilter {
  readonly dimension: string;
  readonly values: readonly string[];
}

export interface AggregateQuery {
  readonly metricId: string;
  readonly measurements: readonly Measurement[];
  readonly interval: Interval;
  readonly zone: string;
  readonly start: number;
  readonly end: number;
  readonly filters: readonly DimensionFilter[];
  readonly by: readonly string[];
  readonly sort?: string | undefined;
}

export interface AggregateRow {
  dimensions: string[];
  measurements: Partial<Record<Measurement, number[]>>;
}

/** The bucket starts of a range. */
export function bucketDates(zone: string, interval: Interval, start: number, end: number): number[] {
  const dates: number[] = [];
  for (let t = bucketStart(zone, interval, start); t < end; t = nextStart(zone, interval, t)) dates.push(t);
  return dates;
}

function dimensionOf(event: EventRow, dimension: string): string {
  const value = (event.attributes.event_properties as Record<string, unknown> | undefined)?.[dimension];
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function eventTime(event: EventRow): number {
  const timestamp = event.attributes.timestamp;
  return typeof timestamp === "number" ? timestamp * 1000 : Date.parse(String(event.attributes.datetime));
}

/** The aggregation: the bucket dates (as Klaviyo writes them) and every row, sorted, before paging. */
export function aggregate(
  state: EmulatorState,
  q: AggregateQuery,
): { dates: string[]; rows: AggregateRow[] } {
  const starts = bucketDates(q.zone, q.interval, q.start, q.end);
  const index = new Map(starts.map((t, i) => [t, i]));
  interface Group {
    dimensions: string[];
    count: number[];
    sum: number[];
    profiles: Array<Set<string>>;
  }
  const groups = new Map<string, Group>();
  const groupOf = (dimensions: string[]): Group => {
    const key = JSON.stringify(dimensions);
    let g = groups.get(key);
    if (!g) {
      g = {
        dimensions,
        count: starts.map(() => 0),
        sum: starts.map(() => 0),
        profiles: starts.map(() => new Set<string>()),
      };
      groups.set(key, g);
    }
    return g;
  };
  if (q.by.length === 0) groupOf([]);
  for (const event of state.events.values()) {
    if (event.metricId !== q.metricId) continue;
    const t = eventTime(event);
    if (!(t >= q.start && t < q.end)) continue;
    if (!q.filters.every((f) => f.values.includes(dimensionOf(event, f.dimension)))) continue;
    const i = index.get(bucketStart(q.zone, q.interval, t));
    if (i === undefined) continue;
    const g = groupOf(q.by.map((d) => dimensionOf(event, d)));
    g.count[i] = (g.count[i] ?? 0) + 1;
    const value = Number((event.attributes.event_properties as Record<string, unknown> | undefined)?.$value);
    if (Number.isFinite(value)) g.sum[i] = (g.sum[i] ?? 0) + value;
    g.profiles[i]?.add(event.profileId);
  }
  const rows = [...groups.values()].map((g) => {
    const all: Record<Measurement, number[]> = {
      count: g.count,
      sum_value: g.sum.map((x) => Math.round(x * 1e6) / 1e6),
      unique: g.profiles.map((s) => s.size),
    };
    return {
      dimensions: g.dimensions,
      measurements: Object.fromEntries(q.measurements.map((m) => [m, all[m]])),
      totals: all,
    };
  });
  const descending = q.sort?.startsWith("-") ?? false;
  const key = q.sort?.replace(/^-/, "");
  const byIndex = key !== undefined ? q.by.indexOf(key) : -1;
  rows.sort((a, b) => {
    let order = 0;
    if (key && (MEASUREMENTS as readonly string[]).includes(key)) {
      const total = (r: typeof a) => r.totals[key as Measurement].reduce((x, y) => x + y, 0);
      order = total(a) - total(b);
    } else if (byIndex >= 0) {
      order = (a.dimensions[byIndex] ?? "").localeCompare(b.dimensions[byIndex] ?? "");
    }
    if (order === 0) order = a.dimensions.join("\u0000").localeCompare(b.dimensions.join("\u0000"));
    return descending ? -order : order;
  });
  return {
    dates: starts.map(utcText),
    rows: rows.map(({ dimensions, measurements }) => ({ dimensions, measurements })),
  };
}
