/**
 * The change feed: every change of a stream since a checkpoint, exactly once across runs, one page at a time
 * with the checkpoint to save after it. Triggers, `klaviyo changes`, `klaviyo sync` and the platforms all read
 * through it.
 *
 * How nothing is lost or repeated:
 * - Ties. Klaviyo reports whole seconds, so several records share the second of the watermark. A walk asks for
 *   the watermark's second again (`greater-or-equal`, or `greater-than` one second earlier where that is all the
 *   field allows) and skips the records already delivered at it, whose IDs the checkpoint keeps.
 * - Still being written. A walk stops `horizonSeconds` (default 30) behind now, and the watermark is the latest
 *   time actually seen, never the time the poll began; the next walk starts there again.
 * - A crash. The checkpoint is yielded after every page with the cursor of the next one and the walk's upper
 *   bound: a restart resumes mid-walk, and if Klaviyo no longer takes the cursor, asks again from the watermark.
 * - Late events. Events may be sent with a past time, and Klaviyo indexes some late. A second reader walks the
 *   same events again `lookbackSeconds` (default 7 days) behind the first and delivers those the first did not,
 *   marked `late`; the checkpoint keeps a digest of each event delivered within the lookback for that.
 * - The future. Events may carry a time up to a year ahead: no walk reads past now, so none moves a watermark
 *   beyond it; such an event is delivered when its time comes.
 * Memory stays bounded by a page (plus the digests of the lookback's events), however many changes there are.
 */
import type { KlaviyoClient } from "../core/client.js";
import { BadRequestError, type InputIssue, InputValidationError } from "../core/errors.js";
import { cursorOf } from "../core/pagination.js";
import { type FilterNode, filter, formatFilter } from "../klaviyo/filter.js";
import { idProblem } from "../klaviyo/identifiers.js";
import { getOperation } from "../klaviyo/operations.js";
import {
  checkCheckpointFor,
  digest,
  type FeedCheckpoint,
  parseCheckpoint,
  type Watermark,
} from "./checkpoint.js";
import {
  type ChangeKind,
  changedAt,
  type Partition,
  STREAMS,
  type StreamDefinition,
  type StreamName,
  type StreamScope,
  timeQuery,
} from "./streams.js";

/** A record as Klaviyo sends it: `type`, `id`, `attributes`, and whatever else it carries, nothing dropped. */
export interface FeedRecord {
  type: string;
  id: string;
  attributes?: Record<string, unknown>;
  relationships?: Record<string, unknown>;
  links?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface Change<R extends FeedRecord = FeedRecord> {
  readonly stream: StreamName;
  /** What happened. */
  readonly change: ChangeKind;
  /** When (ISO 8601): the time the stream follows (`updated`, `datetime`, `joined_group_at`, a suppression's). */
  readonly at: string;
  /** The record as Klaviyo sent it. */
  readonly record: R;
  /** The included resources the record's relationships name (an event's metric and profile). */
  readonly related?: FeedRecord[];
  /** An event the lookback found: recorded with a past time, or indexed by Klaviyo after the feed had passed it. */
  readonly late?: true;
}

export interface ChangePage {
  /** The changes of one page, in the stream's order (maybe none: the page only moved the checkpoint). */
  readonly changes: Change[];
  /** Save this once the changes are handled: a run from it starts right after them. */
  readonly checkpoint: FeedCheckpoint;
  /** The partition the page belongs to (`all`, `sms/archived`, `lookback`). */
  readonly partition: string;
}

export interface ChangeFeedOptions extends StreamScope {
  readonly stream: StreamName;
  /** Where a previous run stopped (the object, or its JSON text). */
  readonly checkpoint?: FeedCheckpoint | string;
  /** Without a checkpoint: deliver changes from this time on. Default now (only changes from now on). */
  readonly since?: Date | string | number;
  /** Events: how far behind the first reader the lookback re-reads them, in seconds; 0 turns it off. Default 7 days. */
  readonly lookbackSeconds?: number;
  /** How far behind now a walk stops, so records still being written are read whole next time. Default 30. */
  readonly horizonSeconds?: number;
  /** `page[size]`; default the collection's largest. */
  readonly pageSize?: number;
  /** The time; default `Date.now`. */
  readonly now?: () => number;
  readonly signal?: AbortSignal;
}

export const DEFAULT_LOOKBACK_SECONDS = 7 * 24 * 3600;
export const DEFAULT_HORIZON_SECONDS = 30;
const HOUR = 3_600_000;
const LOOKBACK = "lookback";

const floorSecond = (ms: number) => Math.floor(ms / 1000) * 1000;
const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

/** The library key of a label (`Since` → `since`). */
const keyOf = (label: string) => label.charAt(0).toLowerCase() + label.slice(1).replace(/ /g, "");

function instant(value: Date | string | number, label: string): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === "number" ? value : Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new InputValidationError([
      { key: keyOf(label), label, message: `${JSON.stringify(String(value))} is not a date-time.` },
    ]);
  }
  return ms;
}

function seconds(value: number | undefined, fallback: number, label: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) {
    throw new InputValidationError([
      { key: keyOf(label), label, message: "must be a number of seconds, 0 or more." },
    ]);
  }
  return value;
}

/** The scope a stream needs and takes, checked before anything is sent; errors name the input by its label. */
function checkScope(def: StreamDefinition, scope: StreamScope): StreamScope {
  const issues: InputIssue[] = [];
  const need = (key: "listId" | "segmentId", label: string) => {
    const value = scope[key];
    if (def.pathScope === key) {
      if (value === undefined || value === "")
        issues.push({ key, label, message: `is required for the ${def.name} stream.` });
      else {
        const problem = idProblem(value);
        if (problem) issues.push({ key, label, message: problem });
      }
    } else if (value !== undefined)
      issues.push({ key, label, message: `is not taken by the ${def.name} stream.` });
  };
  need("listId", "List ID");
  need("segmentId", "Segment ID");
  if (scope.metricId !== undefined && def.name !== "events") {
    issues.push({ key: "metricId", label: "Metric ID", message: `is not taken by the ${def.name} stream.` });
  }
  if (issues.length > 0) throw new InputValidationError(issues, `The ${def.name} stream`);
  const out: { listId?: string; segmentId?: string; metricId?: string } = {};
  if (scope.listId !== undefined) out.listId = scope.listId;
  if (scope.segmentId !== undefined) out.segmentId = scope.segmentId;
  if (scope.metricId !== undefined && scope.metricId !== "") out.metricId = scope.metricId;
  return out;
}

/** The checkpoint a feed starts from when it has none: every partition at `since`. */
export function initialCheckpoint(
  options: Pick<ChangeFeedOptions, "stream" | "since" | "lookbackSeconds" | "now"> & StreamScope,
): FeedCheckpoint {
  const def = STREAMS[options.stream];
  if (!def)
    throw new InputValidationError([
      { key: "stream", label: "Stream", message: `${JSON.stringify(options.stream)} is not a stream.` },
    ]);
  const scope = checkScope(def, options);
  const now = (options.now ?? Date.now)();
  const start = floorSecond(options.since === undefined ? now : instant(options.since, "Since"));
  const partitions: Record<string, Watermark> = {};
  for (const p of def.partitions(scope)) partitions[p.key] = { at: iso(start), ids: [] };
  const lookback = lookbackMs(def, options.lookbackSeconds);
  if (lookback > 0) {
    partitions[LOOKBACK] = { at: iso(start), ids: [] };
    return { v: 1, stream: def.name, scope, partitions, delivered: {} };
  }
  return { v: 1, stream: def.name, scope, partitions };
}

function lookbackMs(def: StreamDefinition, lookbackSeconds: number | undefined): number {
  if (def.name !== "events") return 0;
  return seconds(lookbackSeconds, DEFAULT_LOOKBACK_SECONDS, "Lookback") * 1000;
}

/** The digests of delivered events, per hour, appended to as events are delivered and read by the lookback. */
class Delivered {
  private readonly hours = new Map<string, string>();
  private cached: { hour: string; set: Set<string> } | undefined;

  constructor(from: Readonly<Record<string, string>> | undefined) {
    for (const [hour, text] of Object.entries(from ?? {})) this.hours.set(hour, text);
  }

  private static hourOf(ms: number): string {
    return String(Math.floor(ms / HOUR) * HOUR);
  }

  add(ms: number, id: string): void {
    const hour = Delivered.hourOf(ms);
    const d = digest(id);
    const text = this.hours.get(hour);
    this.hours.set(hour, text ? `${text} ${d}` : d);
    if (this.cached?.hour === hour) this.cached.set.add(d);
  }

  has(ms: number, id: string): boolean {
    const hour = Delivered.hourOf(ms);
    if (this.cached?.hour !== hour) {
      const text = this.hours.get(hour);
      this.cached = { hour, set: new Set(text ? text.split(" ") : []) };
    }
    return this.cached.set.has(digest(id));
  }

  /** Forgets the hours wholly before `ms`: the lookback has passed them. */
  prune(ms: number): void {
    for (const hour of [...this.hours.keys()]) if (Number(hour) + HOUR <= ms) this.hours.delete(hour);
    if (this.cached && Number(this.cached.hour) + HOUR <= ms) this.cached = undefined;
  }

  toJSON(): Record<string, string> {
    return Object.fromEntries(this.hours);
  }
}

/** The included resources `record`'s relationships name. */
function relatedOf(record: FeedRecord, included: Map<string, FeedRecord>): FeedRecord[] | undefined {
  if (included.size === 0 || !record.relationships) return undefined;
  const out: FeedRecord[] = [];
  for (const rel of Object.values(record.relationships)) {
    const data = (rel as { data?: unknown } | null)?.data;
    for (const ref of Array.isArray(data) ? data : data ? [data] : []) {
      const { type, id } = ref as { type?: string; id?: string };
      const found = included.get(`${type}:${id}`);
      if (found) out.push(found);
    }
  }
  return out.length > 0 ? out : undefined;
}

/**
 * Every change of `options.stream` since the checkpoint (or `since`), a page at a time. Handle each page's
 * changes, then save its checkpoint: a run from the last one saved neither loses nor repeats a change.
 */
export async function* changeFeed(
  client: KlaviyoClient,
  options: ChangeFeedOptions,
): AsyncGenerator<ChangePage> {
  const def = STREAMS[options.stream];
  if (!def)
    throw new InputValidationError([
      { key: "stream", label: "Stream", message: `${JSON.stringify(options.stream)} is not a stream.` },
    ]);
  const now = options.now ?? Date.now;
  const horizon = seconds(options.horizonSeconds, DEFAULT_HORIZON_SECONDS, "Horizon") * 1000;
  const lookback = lookbackMs(def, options.lookbackSeconds);
  const scope = checkScope(def, options);
  let checkpoint: FeedCheckpoint;
  if (options.checkpoint === undefined) checkpoint = initialCheckpoint({ ...options, ...scope, now });
  else {
    checkpoint = parseCheckpoint(options.checkpoint);
    checkCheckpointFor(checkpoint, def.name, scope);
  }
  const operation = getOperation(def.operation);
  const pageSize = options.pageSize ?? operation?.pageSize?.max;
  const scopeId = def.pathScope ? scope[def.pathScope] : undefined;
  const path = scopeId === undefined ? def.path : def.path.replace("{id}", encodeURIComponent(scopeId));
  const partitions = def.partitions(scope);
  const delivered = lookback > 0 ? new Delivered(checkpoint.delivered) : undefined;
  const readers: { partition: Partition; late: boolean }[] = partitions.map((partition) => ({
    partition,
    late: false,
  }));
  if (lookback > 0 && partitions[0]) {
    readers.push({ partition: { ...partitions[0], key: LOOKBACK }, late: true });
  }
  const upperNow = floorSecond(now() - horizon);
  const marks: Record<string, Watermark> = { ...checkpoint.partitions };

  const snapshot = (): FeedCheckpoint => ({
    v: 1,
    stream: def.name,
    scope,
    partitions: { ...marks },
    ...(delivered ? { delivered: delivered.toJSON() } : {}),
  });

  // Where this run begins, telling records created since the stream was last read from records updated since:
  // the latest watermark of any partition (a campaign delivered from one channel's partition and later archived
  // was made before it, whatever the archived partition's own watermark says).
  const runFrom = Math.max(...partitions.map((p) => Date.parse(marks[p.key]?.at ?? iso(0))));
  let yielded = false;
  // The oldest time a lookback may read again (from this run on): events delivered before it need no digest.
  const rememberFrom = Math.max(Date.parse(marks[LOOKBACK]?.at ?? iso(0)), upperNow - lookback);
  // Hours no lookback will read again are forgotten (a lookback walk in progress keeps its own).
  const resumed = marks[LOOKBACK]?.walk?.from;
  delivered?.prune(resumed ? Math.min(rememberFrom, Date.parse(resumed)) : rememberFrom);

  for (const { partition, late } of readers) {
    // A walk resumed from a checkpoint ends at the bound it began with: a second pass then reads on to now.
    for (let pass = 0; pass < 2; pass++) {
      const q = timeQuery(def, partition);
      const mark = marks[partition.key] ?? { at: iso(upperNow), ids: [] };
      // The lookback re-reads, on every run, the events of the trailing window behind the first reader's
      // watermark (never before the feed's start), delivering those it has not delivered: its own `at` stays the
      // feed's start, and only a walk in progress is kept.
      const first = partitions[0] ? marks[partitions[0].key] : undefined;
      const floor = Date.parse(mark.at);
      const lookbackFrom = mark.walk?.from
        ? Date.parse(mark.walk.from)
        : Math.max(floor, upperNow - lookback);
      const until = mark.walk
        ? Date.parse(mark.walk.until)
        : late
          ? Date.parse(first?.at ?? iso(upperNow))
          : upperNow;
      const from = late
        ? lookbackFrom
        : mark.walk?.from
          ? Date.parse(mark.walk.from)
          : Math.max(runFrom, Date.parse(mark.at));
      const fromIds =
        late || mark.walk || from !== Date.parse(mark.at) ? new Set<string>() : new Set(mark.ids);
      // The running watermark, and the one the current query began at (records at or before it are delivered).
      let hw = late
        ? { at: lookbackFrom, ids: new Set<string>() }
        : { at: Date.parse(mark.at), ids: new Set(mark.ids) };
      let skip = { at: hw.at, ids: new Set(hw.ids) };
      let cursor = mark.walk?.cursor;
      const resumed = mark.walk !== undefined;
      if (until <= hw.at && !resumed) break;

      const filterFor = (lower: number): string => {
        const nodes: FilterNode[] = [
          ...partition.where,
          q.inclusive
            ? filter.greaterOrEqual(partition.field, new Date(lower))
            : filter.greaterThan(partition.field, new Date(lower - 1000)),
        ];
        if (q.upper) nodes.push(filter.lessThan(partition.field, new Date(until)));
        return formatFilter(filter.and(...nodes));
      };
      let filterText = filterFor(hw.at);

      for (;;) {
        options.signal?.throwIfAborted();
        const query: Record<string, string> = { ...def.query, filter: filterText, sort: partition.field };
        if (pageSize !== undefined) query["page[size]"] = String(pageSize);
        if (cursor !== undefined) query["page[cursor]"] = cursor;
        let body: { data?: unknown; included?: unknown; links?: { next?: string | null } };
        try {
          const res = await client.request<typeof body>({
            method: "GET",
            path,
            query,
            operation: def.operation,
            ...(options.signal ? { signal: options.signal } : {}),
          });
          body = res.body ?? {};
        } catch (error) {
          // A cursor Klaviyo no longer takes: ask again from the watermark, skipping what it has delivered.
          if (error instanceof BadRequestError && cursor !== undefined) {
            cursor = undefined;
            skip = { at: hw.at, ids: new Set(hw.ids) };
            filterText = filterFor(hw.at);
            continue;
          }
          throw error;
        }
        const data = (Array.isArray(body.data) ? body.data : []) as FeedRecord[];
        const included = new Map<string, FeedRecord>();
        if (Array.isArray(body.included)) {
          for (const item of body.included as FeedRecord[]) included.set(`${item.type}:${item.id}`, item);
        }
        const changes: Change[] = [];
        let stopped = false;
        for (const record of data) {
          const at = changedAt(record, partition.field, until);
          if (at === undefined) {
            // Past the upper bound (or no time at all): sorted by it, so nothing after it is inside the walk.
            if (!q.upper) {
              stopped = true;
              break;
            }
            continue;
          }
          if (at < skip.at || (at === skip.at && skip.ids.has(record.id))) continue;
          if (at === hw.at && hw.ids.has(record.id)) continue;
          if (at > hw.at) hw = { at, ids: new Set([record.id]) };
          else if (at === hw.at) hw.ids.add(record.id);
          if (late && delivered?.has(at, record.id)) continue;
          // Every event delivered where a lookback may read it again is remembered, the lookback's own too.
          if (delivered && at >= rememberFrom) delivered.add(at, record.id);
          changes.push({
            stream: def.name,
            change: partition.kind ?? kindOf(def, record, from, fromIds),
            at: iso(at),
            record,
            ...withRelated(record, included),
            ...(late ? { late: true as const } : {}),
          });
        }
        cursor = stopped ? undefined : cursorOf(body.links?.next);
        const walk = cursor !== undefined ? { walk: { until: iso(until), from: iso(from), cursor } } : {};
        marks[partition.key] = late
          ? { at: iso(floor), ids: [], ...walk }
          : { at: iso(hw.at), ids: [...hw.ids], ...walk };
        yielded = true;
        yield { changes, checkpoint: snapshot(), partition: partition.key };
        if (cursor === undefined) break;
      }
      if (!resumed || late) break;
    }
  }
  // Nothing to read yet (a feed starting now): the checkpoint is still the consumer's to save, or the next run
  // would start from its own now and lose what happened in between.
  if (!yielded) yield { changes: [], checkpoint: snapshot(), partition: partitions[0]?.key ?? "all" };
}

function withRelated(record: FeedRecord, included: Map<string, FeedRecord>): { related?: FeedRecord[] } {
  const related = relatedOf(record, included);
  return related ? { related } : {};
}

/** `created` when the record was made since the walk began (and not delivered at its first second), else `updated`. */
function kindOf(def: StreamDefinition, record: FeedRecord, from: number, fromIds: Set<string>): ChangeKind {
  if (!def.createdField) return "updated";
  const created = Date.parse(String(record.attributes?.[def.createdField] ?? ""));
  if (!Number.isFinite(created)) return "updated";
  return created > from || (created === from && !fromIds.has(record.id)) ? "created" : "updated";
}
