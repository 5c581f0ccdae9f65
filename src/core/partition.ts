import { type FilterNode, filter, parseFilter, parseFilterDate } from "../klaviyo/filter.js";
import { getOperation, OPERATION_PARAMETERS, type Operation } from "../klaviyo/operations.js";
import { effectiveTier } from "../klaviyo/tiers.js";
import { builtins } from "./builtins.js";
/**
 * Parallel export. Walking one cursor is bounded by latency (about 300 ms a page on Klaviyo), not by the rate
 * limit; so a list whose endpoint can filter on a creation time is cut into contiguous time partitions, and the
 * partitions' cursors are walked concurrently, their pages merged into one stream. Every item is yielded
 * exactly once, in constant memory (at most two pages per running partition are held). The order across
 * partitions is not guaranteed: within one partition pages come in the endpoint's order, but partitions
 * interleave as their pages arrive.
 *
 * Boundaries — how "exactly once" is kept. Partition i holds the items with `b[i] <= value < b[i+1]`:
 *   - the upper side is always `less-than(field, b)`, so an item on a boundary is never in the lower partition;
 *   - where the endpoint has `greater-or-equal` (events' `datetime`, members' `joined_group_at`, …) the lower
 *     side is `greater-or-equal(field, b)`: the two are complements for whatever datetimes the server stores, so
 *     nothing falls between them and nothing is in both.
 *   - where it has only strict operators (profiles' `created`: `greater-than` / `less-than`), the upper partition
 *     asks for `greater-than(field, b - 1 ms)`, which holds every item `>= b` and, besides, any item strictly
 *     between `b - 1 ms` and `b` (only a server keeping times finer than a millisecond has such items), which
 *     the lower partition (`less-than(b)`) also holds. Those are told apart by the value each item reports: the
 *     upper partition drops an item whose reported value is below `b`. This is exact when the server reports
 *     its times truncated (never rounded up) to whatever precision it shows, as Klaviyo (whole seconds) and
 *     the emulator (milliseconds) do: an item below `b` then reports below `b`, an item at or above `b` reports
 *     at or above `b`, `b` being a whole millisecond. It costs no request. A lower partition that sees an item
 *     reporting a value at or above its upper bound (which that rule makes impossible) stops the export with an
 *     error instead of risking a duplicate.
 *   - where the caller's sparse fieldset hides the field from the items, the rule is checked with the server
 *     before the walk instead: `and(filter, greater-than(field,u), less-than(field,b))` must answer no item,
 *     with `u` first `b - 1 ms` (one request per boundary); if the check finds an item there, `u` becomes the
 *     latest value below `b` as the server reports it (one sorted probe) and is checked again; if that fails too,
 *     the boundary is dropped and its two partitions merge into one. Dropping a boundary costs parallelism, never
 *     correctness.
 * This holds while the items' partition field does not change during the walk, which is why only creation
 * times are used (`updated` would move items between partitions); items created during the walk land after the
 * last boundary, in the last partition, whose upper side is open unless `to` is given.
 */
import type { KlaviyoClient } from "./client.js";
import { inFlightFor } from "./latency.js";
import type { Page } from "./pagination.js";
import { appendQuery, type QueryInput } from "./url.js";

export interface PartitionOptions {
  method: "GET";
  /** The collection's path, such as `/api/profiles` or `/api/lists/Y6nRLr/profiles`. */
  path: string;
  /** The operation (`get_profiles`, …): its filter rules decide the partition field and operators. */
  operation: string | Operation;
  /** The caller's query; its `filter` is kept (each partition's bounds are joined to it with `and(...)`). */
  query?: QueryInput;
  /** The datetime field to partition by; defaults to `partitionFieldFor(operation)`. Without one: one walk. */
  field?: string;
  /** Only items with `field >= from`. Defaults to the oldest item's value. */
  from?: Date;
  /** Only items with `field < to`. Without it the last partition is open, so nothing new is missed. */
  to?: Date;
  /** How many time intervals to cut the range into, at most (default: twice `concurrency`). */
  partitions?: number;
  /**
   * Cut fewer partitions where the collection is small enough (estimated from a page of its oldest items, see
   * `partitionCount`): default true. `false` cuts exactly `partitions` intervals of the range.
   */
  sizeToData?: boolean;
  /**
   * How many partitions are walked at once. By default, as many as reach the operation's rate ceiling at the
   * latency the client observes on its first requests (`inFlightFor`, at most 96): for Get Profiles' 75 a second,
   * 3 near the server, 26 at 160 ms, 77 from half a second.
   */
  concurrency?: number;
  /** `page[size]` of each partition's walk; defaults to the endpoint's maximum. */
  pageSize?: number;
  signal?: AbortSignal;
  /** Stop after this many items in all. */
  limit?: number;
}

/**
 * The most partitions walked at once when they are sized by the latency (each holds a page or two): enough for
 * Get Profiles' burst of 75 a second, sent as each window opens, from far away.
 */
export const MAX_AUTO_CONCURRENCY = 96;

/** Creation times, in order of preference: they never change, so an item stays in one partition. */
const CANDIDATE_FIELDS = ["created", "created_at", "datetime", "joined_group_at"] as const;

/** What an operation allows on a datetime field: the operators of its filter and the directions of its sort. */
export interface FieldSupport {
  /** `greater-or-equal` is allowed. */
  readonly inclusive: boolean;
  /** `greater-than` is allowed. */
  readonly strict: boolean;
  /** `less-than` is allowed. */
  readonly upper: boolean;
  readonly sortAscending: boolean;
  readonly sortDescending: boolean;
}

/** `field`'s datetime filter and sort support on `operationId`, from the OpenAPI document's rules; undefined if none. */
export function timeFieldSupport(operationId: string, field: string): FieldSupport | undefined {
  const params = OPERATION_PARAMETERS[operationId];
  const rules = params?.filters;
  if (!rules || !Object.hasOwn(rules, field)) return undefined;
  const rule = rules[field];
  if (rule?.value?.format !== "date-time") return undefined;
  const single = rule.operators.single ?? [];
  return {
    inclusive: single.includes("greater-or-equal"),
    strict: single.includes("greater-than"),
    upper: single.includes("less-than"),
    sortAscending: params.sort?.includes(field) ?? false,
    sortDescending: params.sort?.includes(`-${field}`) ?? false,
  };
}

function partitionable(s: FieldSupport | undefined): s is FieldSupport {
  return s?.upper === true && s.sortAscending && (s.inclusive || (s.strict && s.sortDescending));
}

/**
 * The field a list operation can be partitioned by (`get_profiles`: `created`, `get_events`: `datetime`,
 * `get_profiles_for_list`: `joined_group_at`, `get_campaigns`: `created_at`, `get_templates`: `created`), or
 * undefined where the endpoint cannot bound an immutable datetime on both sides and sort by it (`get_lists` and
 * `get_segments` offer only `greater-than(created)`; `get_images` only the mutable `updated_at`).
 */
export function partitionFieldFor(operationId: string): string | undefined {
  return CANDIDATE_FIELDS.find((field) => partitionable(timeFieldSupport(operationId, field)));
}

/**
 * The inner boundaries cutting `[lo, hi)` (epoch milliseconds) into up to `partitions` contiguous intervals of
 * about equal length: strictly increasing, each strictly inside the range; whole seconds when the intervals are
 * long enough, so the filter text stays plain.
 */
export function partitionBoundaries(lo: number, hi: number, partitions: number): number[] {
  const span = hi - lo;
  const bounds: number[] = [];
  if (!(span > 1) || partitions < 2) return bounds;
  const round = span >= 2 * partitions * 1000;
  for (let k = 1; k < partitions; k++) {
    let b = lo + Math.floor((k * span) / partitions);
    if (round) b -= ((b % 1000) + 1000) % 1000;
    const last = bounds.at(-1) ?? lo;
    if (b > last && b < hi) bounds.push(b);
  }
  return bounds;
}

function positive(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a whole number of at least 1`);
  return value;
}

function dateText(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith(".000Z") ? `${iso.slice(0, -5)}Z` : iso;
}

/** A datetime condition keeping `text` as written (a server's own value, microseconds and offset included). */
function dateCondition(operator: string, field: string, text: string): FilterNode {
  return parseFilter(`${operator}(${field},${text})`);
}

/** `and(...)` of the nodes present, flattened (Klaviyo's `and` takes conditions); undefined when none. */
function allOf(...nodes: Array<FilterNode | undefined>): FilterNode | undefined {
  const args = nodes.flatMap((n) => (n === undefined ? [] : n.kind === "and" ? [...n.args] : [n]));
  return args.length === 0 ? undefined : filter.and(...args);
}

/** Runs `fn` over `items`, at most `concurrency` at once, keeping the order of the answers. */
async function mapPool<A, B>(
  items: readonly A[],
  concurrency: number,
  fn: (item: A) => Promise<B>,
): Promise<B[]> {
  const results = new Array<B>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as A);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

type Probe =
  | { readonly kind: "empty" }
  | {
      readonly kind: "value";
      readonly text: string;
      readonly time: number;
      readonly type: unknown;
      /** With a sample of more than one item: how many came, and the last one's time when readable. */
      readonly sample?: { readonly count: number; readonly lastTime: number | undefined };
    };

interface Walk {
  readonly client: KlaviyoClient;
  readonly path: string;
  readonly operation: Operation;
  readonly params: URLSearchParams;
  readonly field: string;
  readonly base: FilterNode | undefined;
  readonly signal: AbortSignal;
}

function withFilter(params: URLSearchParams, node: FilterNode | undefined): URLSearchParams {
  const query = new URLSearchParams(params);
  if (node) query.set("filter", String(node));
  else query.delete("filter");
  return query;
}

/** The first item (by `sort`, when given) matching the caller's filter and `extra`, or undefined. */
async function firstItem(walk: Walk, sort: string | undefined, extra: FilterNode[]): Promise<unknown> {
  return (await firstItems(walk, sort, extra, 1))[0];
}

/** The first `size` items (by `sort`, when given) matching the caller's filter and `extra`. */
async function firstItems(
  walk: Walk,
  sort: string | undefined,
  extra: FilterNode[],
  size: number,
): Promise<unknown[]> {
  const query = new URLSearchParams();
  const node = allOf(walk.base, ...extra);
  if (node) query.set("filter", String(node));
  if (sort) query.set("sort", sort);
  query.set("page[size]", String(size));
  const res = await walk.client.request<Page | null>({
    method: "GET",
    path: walk.path,
    query,
    operation: walk.operation,
    signal: walk.signal,
  });
  const data = res.body?.data;
  return Array.isArray(data) ? data : [];
}

/**
 * The field value of the first item by `sort`; "empty" when no item matches; undefined when the value cannot
 * be read (absent, or not a datetime), and then the caller does not rely on it.
 */
async function probe(walk: Walk, sort: string, ...extra: FilterNode[]): Promise<Probe | undefined> {
  return sampleProbe(walk, sort, 1, extra);
}

/** `probe`, reading the first `size` items: their count and spread tell how dense the collection is. */
async function sampleProbe(
  walk: Walk,
  sort: string,
  size: number,
  extra: FilterNode[] = [],
): Promise<Probe | undefined> {
  const items = await firstItems(walk, sort, extra, size);
  const item = items[0];
  if (item === undefined) return { kind: "empty" };
  const text = (item as { attributes?: Record<string, unknown> }).attributes?.[walk.field];
  const time = typeof text === "string" ? parseFilterDate(text)?.getTime() : undefined;
  const type = (item as { type?: unknown }).type;
  if (typeof text !== "string" || time === undefined) return undefined;
  const sample = size > 1 ? { count: items.length, lastTime: reported(items.at(-1), walk.field) } : undefined;
  return { kind: "value", text, time, type, ...(sample ? { sample } : {}) };
}

/** Whether no item of the caller's filter satisfies all of `conditions`. */
async function none(walk: Walk, ...conditions: FilterNode[]): Promise<boolean> {
  return (await firstItem(walk, undefined, conditions)) === undefined;
}

/** The lower side of a partition: its condition, and (strict operators) the value reported items must reach. */
interface Lower {
  readonly node: FilterNode;
  /** Items reporting a value below this (epoch ms) are the lower partition's and are dropped here. */
  readonly dropBelow?: number;
}

/**
 * The condition selecting exactly the items with `field >= b`, or undefined when it cannot be written with a
 * proof (see the module comment): `greater-or-equal` where allowed; else `greater-than(b - 1 ms)` with the
 * items reporting less than `b` dropped (`byReport`), or `greater-than(u)` with a gap checked with the server.
 */
async function atLeast(
  walk: Walk,
  s: FieldSupport,
  b: number,
  byReport: boolean,
): Promise<Lower | undefined> {
  const { field } = walk;
  if (s.inclusive) return { node: dateCondition("greater-or-equal", field, dateText(b)) };
  if (byReport) return { node: dateCondition("greater-than", field, dateText(b - 1)), dropBelow: b };
  const node = await checkedAtLeast(walk, s, b);
  return node ? { node } : undefined;
}

async function checkedAtLeast(walk: Walk, s: FieldSupport, b: number): Promise<FilterNode | undefined> {
  const { field } = walk;
  const below = dateCondition("less-than", field, dateText(b));
  const first = dateCondition("greater-than", field, dateText(b - 1));
  if (await none(walk, first, below)) return first;
  if (!s.sortDescending) return undefined;
  const latest = await probe(walk, `-${field}`, below);
  if (latest?.kind !== "value" || !(latest.time < b)) return undefined;
  let second: FilterNode;
  try {
    second = dateCondition("greater-than", field, latest.text);
  } catch {
    return undefined; // a value the filter syntax cannot carry as is
  }
  return (await none(walk, second, below)) ? second : undefined;
}

/** One partition: its filter (the caller's joined to its bounds) and how its items are screened. */
interface Partition {
  readonly filter: FilterNode | undefined;
  /** Drop items reporting a value below this (epoch ms): the partition below holds them. */
  readonly dropBelow?: number;
  /** An item reporting a value at or above this (epoch ms) breaks the reporting rule: stop. */
  readonly below?: number;
}

/**
 * How many partitions to cut, at most `requested`. Each partition's walk ends on a part-filled page, so a cut
 * is worth a request; from the sample of the oldest items (a page of them) the number of items in `[lo, hi)` is
 * estimated as if they were spread evenly, and the range is cut into as few partitions of whole pages as keep
 * `requested` walks busy: a collection that fits in the sample's page is one partition, a small one a few.
 * Only the count depends on the estimate, never which items are yielded; an uneven spread costs time, not items.
 */
export function partitionCount(
  requested: number,
  pageSize: number,
  oldest: { time: number; sample?: { count: number; lastTime: number | undefined } },
  lo: number,
  hi: number,
): number {
  const sample = oldest.sample;
  if (requested < 2 || !sample) return requested;
  if (sample.count < pageSize) return 1; // the whole collection came in one page
  const spread = sample.lastTime === undefined ? 0 : sample.lastTime - oldest.time;
  if (!(spread > 0) || !(hi > lo)) return requested;
  const estimate = ((sample.count - 1) / spread) * (hi - lo);
  // Pages per partition when all `requested` run, rounded up; then partitions of that many pages, each a little
  // under full (an estimate a shade high would otherwise add a nearly empty page to every partition).
  const pages = Math.max(1, Math.ceil(estimate / (requested * pageSize)));
  return Math.max(1, Math.min(requested, Math.ceil(estimate / (pages * pageSize * 0.97))));
}

/** Whether the caller's sparse fieldset for the items' type leaves `field` out of their attributes. */
function fieldHidden(params: URLSearchParams, type: unknown, field: string): boolean {
  if (typeof type !== "string") return true;
  const fields = params.get(`fields[${type}]`);
  return fields !== null && !fields.split(",").some((f) => f.trim() === field);
}

/** Each partition, in time order. */
async function plan(
  walk: Walk,
  s: FieldSupport,
  options: PartitionOptions,
  /** The partitions asked for, or 2 when they are sized after the probes: more than one, so probe. */
  asked: number,
  sizing: () => { count: number; concurrency: number },
  pageSize: number,
): Promise<Partition[]> {
  const { field } = walk;
  const from = options.from?.getTime();
  const to = options.to?.getTime();
  if (from !== undefined && !Number.isFinite(from)) throw new RangeError("from must be a valid date");
  if (to !== undefined && !Number.isFinite(to)) throw new RangeError("to must be a valid date");
  // The oldest items, a page of them: where the range starts, and how dense the collection is there.
  const [oldest, newest] = await Promise.all([
    asked > 1 ? sampleProbe(walk, field, options.sizeToData === false ? 1 : pageSize) : undefined,
    asked > 1 && s.sortDescending ? probe(walk, `-${field}`) : undefined,
  ]);
  const { count, concurrency } = sizing();
  let bounds: number[] = [];
  if (oldest?.kind === "value") {
    const lo = Math.max(from ?? oldest.time, oldest.time);
    const end = newest?.kind === "value" ? newest.time + 1 : walk.client.clock.now();
    const hi = Math.min(to ?? end, end);
    bounds = partitionBoundaries(lo, hi, partitionCount(count, pageSize, oldest, lo, hi));
  }
  const edges = [...(from !== undefined ? [from] : []), ...bounds];
  // Screening by reported values needs the field in the items (the oldest one shows their type).
  const byReport = oldest?.kind === "value" && !fieldHidden(walk.params, oldest.type, field);
  const lowers = await mapPool(edges, concurrency, (b) => atLeast(walk, s, b, byReport));
  let lower: Lower | undefined;
  if (from !== undefined) {
    lower = lowers.shift();
    if (!lower)
      throw new RangeError(`from: items with ${field} >= ${dateText(from)} cannot be selected exactly`);
  }
  const partitions: Partition[] = [];
  const screen = (l: Lower | undefined, below: number | undefined) => ({
    ...(l?.dropBelow !== undefined ? { dropBelow: l.dropBelow } : {}),
    ...(byReport && !s.inclusive && below !== undefined ? { below } : {}),
  });
  bounds.forEach((b, i) => {
    const next = lowers[i];
    if (next === undefined) return; // no proven way to split here: the two partitions stay one
    const filter = allOf(walk.base, lower?.node, dateCondition("less-than", field, dateText(b)));
    partitions.push({ filter, ...screen(lower, b) });
    lower = next;
  });
  const upper = to !== undefined ? dateCondition("less-than", field, dateText(to)) : undefined;
  partitions.push({ filter: allOf(walk.base, lower?.node, upper), ...screen(lower, to) });
  return partitions;
}

/** The reported value of `field` (epoch ms, truncated), or undefined when absent or unreadable. */
function reported(item: unknown, field: string): number | undefined {
  const text = (item as { attributes?: Record<string, unknown> } | null)?.attributes?.[field];
  return typeof text === "string" ? parseFilterDate(text)?.getTime() : undefined;
}

/** A partition's pages with the items of the partition below dropped (see the module comment). */
async function* screened<T>(
  pages: AsyncGenerator<Page<T>>,
  partition: Partition,
  field: string,
): AsyncGenerator<Page<T>> {
  const { dropBelow, below } = partition;
  if (dropBelow === undefined && below === undefined) {
    yield* pages;
    return;
  }
  for await (const page of pages) {
    const data = page.data.filter((item) => {
      const value = reported(item, field);
      if (value === undefined) return true; // no value to place it by: the server's filter placed it here
      if (below !== undefined && value >= below) {
        throw new RangeError(
          `partitioned export: an item reports ${field} ${dateText(value)}, not below its partition's bound ${dateText(below)}; the server does not report times as it compares them, so this list cannot be partitioned by ${field} (walk it without partitions)`,
        );
      }
      return dropBelow === undefined || value >= dropBelow;
    });
    if (data.length === page.data.length) yield page;
    else if (data.length > 0) yield { ...page, data };
  }
}

/**
 * Merges page streams, `concurrency` at a time, into one. Each running stream has its next page requested as
 * soon as one arrives, so at most two of its pages are held (one being consumed, one arriving).
 */
async function* merge<T>(
  streams: ReadonlyArray<() => AsyncGenerator<Page<T>>>,
  concurrency: number,
  controller: AbortController,
): AsyncGenerator<Page<T>> {
  type Pulled = { index: number; result: IteratorResult<Page<T>> };
  const running = new Map<number, { iterator: AsyncGenerator<Page<T>>; next: Promise<Pulled> }>();
  let started = 0;
  const pull = (index: number, iterator: AsyncGenerator<Page<T>>) => {
    const next = iterator.next().then((result) => ({ index, result }));
    next.catch(() => {}); // handled by the race below; this only keeps it from being reported as unhandled
    running.set(index, { iterator, next });
  };
  const fill = () => {
    while (running.size < concurrency && started < streams.length) {
      const index = started++;
      pull(index, (streams[index] as () => AsyncGenerator<Page<T>>)());
    }
  };
  try {
    fill();
    while (running.size > 0) {
      const { index, result } = await Promise.race([...running.values()].map((r) => r.next));
      const entry = running.get(index);
      if (!entry) continue;
      if (result.done) {
        running.delete(index);
        fill();
        continue;
      }
      pull(index, entry.iterator);
      yield result.value;
    }
  } finally {
    // Stopped early, or one partition failed: end the requests still in flight, then close every walk.
    controller.abort();
    const left = [...running.values()];
    await Promise.allSettled(left.map((r) => r.next));
    await Promise.allSettled(left.map((r) => r.iterator.return(undefined)));
  }
}

/**
 * The pages of a collection, walked in time partitions concurrently (see the module comment); each item is in
 * exactly one page. Pages carry no `nextCursor` (a partition's cursor cannot resume the whole walk). Where the
 * operation has no partition field, one sequential walk.
 */
export async function* partitionedPages<T = unknown>(
  client: KlaviyoClient,
  options: PartitionOptions,
): AsyncGenerator<Page<T>> {
  const givenCount =
    options.partitions === undefined ? undefined : positive(options.partitions, "partitions");
  const givenConcurrency =
    options.concurrency === undefined ? undefined : positive(options.concurrency, "concurrency");
  const limit = options.limit === undefined ? undefined : positive(options.limit, "limit");
  const operation =
    typeof options.operation === "string" ? getOperation(options.operation) : options.operation;
  const [path, inline] = options.path.split("?", 2) as [string, string | undefined];
  const params = new URLSearchParams(inline ?? "");
  if (options.query) {
    const extra = new URLSearchParams();
    appendQuery(extra, options.query);
    for (const [k, v] of extra) params.set(k, v);
  }
  params.delete("page[cursor]");
  const field = options.field ?? partitionFieldFor(operation.id);
  const s = field === undefined ? undefined : timeFieldSupport(operation.id, field);
  const walkOptions = {
    method: "GET" as const,
    path,
    operation,
    ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {}),
    ...(limit !== undefined ? { limit } : {}),
  };
  if (field === undefined || s === undefined) {
    if (options.field !== undefined) {
      throw new RangeError(`${operation.id} cannot filter "${options.field}" as a datetime`);
    }
    if (options.from || options.to)
      throw new RangeError(`${operation.id} has no field to bound from / to by`);
    // No partitioning filter: the one sequential walk, as it would be without this function.
    const pages = client.paginate<T>({ ...walkOptions, query: params, signal: options.signal });
    for await (const page of pages) yield { ...page, nextCursor: undefined };
    return;
  }
  if (!s.upper || !(s.inclusive || s.strict)) {
    throw new RangeError(
      `${operation.id} cannot bound "${field}" on both sides, so it cannot be partitioned`,
    );
  }
  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  // Every request of every running partition listens on this one signal: more than Node's default of 10.
  builtins.events.setMaxListeners(0, signal);
  const text = params.get("filter");
  const base = text === null || text.trim() === "" ? undefined : parseFilter(text);
  const walk: Walk = { client, path, operation, params, field, base, signal };
  try {
    const pageSize = Math.min(
      options.pageSize ?? operation.pageSize?.max ?? 100,
      operation.pageSize?.max ?? 100,
    );
    // Sized once the first probes have answered: by then the client knows how far its server is.
    let concurrency = givenConcurrency ?? 1;
    const sizing = () => {
      concurrency =
        givenConcurrency ??
        inFlightFor(effectiveTier(operation, params), client.latency.max(), MAX_AUTO_CONCURRENCY);
      return { count: givenCount ?? 2 * concurrency, concurrency };
    };
    const partitions = await plan(walk, s, options, givenCount ?? 2, sizing, pageSize);
    const streams = partitions.map(
      (partition) => () =>
        screened(
          client.paginate<T>({ ...walkOptions, query: withFilter(params, partition.filter), signal }),
          partition,
          field,
        ),
    );
    let seen = 0;
    for await (const page of merge(streams, concurrency, controller)) {
      if (limit !== undefined && seen + page.data.length >= limit) {
        yield { ...page, data: page.data.slice(0, limit - seen), nextCursor: undefined };
        return;
      }
      seen += page.data.length;
      yield { ...page, nextCursor: undefined };
    }
  } finally {
    controller.abort();
  }
}

/**
 * Every item of a collection exactly once, its time partitions walked `concurrency` at a time (see the module
 * comment for how boundaries keep each item in one partition). Memory holds a page or two per running
 * partition, whatever the collection's size. **The order is not guaranteed** across partitions.
 */
export async function* partitionedItems<T = unknown>(
  client: KlaviyoClient,
  options: PartitionOptions,
): AsyncGenerator<T> {
  for await (const page of partitionedPages<T>(client, options)) yield* page.data;
}
