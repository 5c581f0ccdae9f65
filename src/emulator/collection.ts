/**
 * Collection endpoints: filter, sort and cursor pagination as Klaviyo does them. Cursors are keysets — the sort
 * value and creation sequence of the last row served — not offsets, so a walk stays right while rows are
 * created and deleted underneath it: every row that exists for the whole walk is served exactly once.
 */
import type { FilterNode } from "../klaviyo/filter.js";
import { Included, type JsonApiResource } from "./documents.js";
import type { EmulatorContext } from "./env.js";
import { invalidParameter } from "./errors.js";
import { evaluateFilter } from "./filter-eval.js";
import { canonicalUrl, jsonApi } from "./json-api.js";
import { type QueryContext, readFilter, readQuery, readSort } from "./query.js";
import type { ResourceRow } from "./store.js";

export interface CollectionSpec<R extends ResourceRow> {
  /** Every candidate row, in creation order. */
  readonly rows: Iterable<R>;
  /** A field's value for filters and sorts (`email`, `messages.channel`, `created`). */
  field(row: R, name: string): unknown;
  /** The resource object, with what it adds to `included`. */
  render(row: R, query: QueryContext, included: Included): JsonApiResource;
  /** Rows a filter cannot express but the endpoint implies (a list's members, a campaign's channel). */
  where?(row: R, filter: FilterNode | undefined): boolean;
  /**
   * The readings of a row whose fields hold several entries (a profile's suppressions, one per reason or list):
   * each reading sees one entry of each such field, as `field` does. The row matches a filter when one reading
   * does (conditions on members of one entry hold together: `list_id` and `timestamp` of the same list
   * suppression), and sorts by the matching readings' value in the sort's direction (the earliest ascending, the
   * latest descending). Without it, `field` is the row's only reading.
   */
  readings?(row: R): ReadonlyArray<(name: string) => unknown>;
  /**
   * `rows` as an array, with a datetime field that never decreases along it (a creation time, checked by the
   * caller): a filter's bounds on that field then skip to the first row inside them and stop at the first past
   * them, where every row would otherwise be tested (a partitioned export asks for a slice of a large
   * collection on every page). Only a shortcut: the rows answered are the same.
   */
  readonly timeOrdered?: { readonly rows: readonly R[]; readonly field: string };
}

/**
 * Whether the filter asks for archived resources with `equals(archived,true)` (a top-level condition, alone or
 * inside `and(…)`). Klaviyo leaves archived flows out of Get Flows unless it does, and archived campaigns out of
 * Get Campaigns (`beyond-the-spec.md` §2-3: archived campaigns are read apart, with that filter); no filter, or
 * `equals(archived,false)`, lists the others.
 */
export function archivedAsked(filter: FilterNode | undefined): boolean {
  if (!filter) return false;
  const nodes = filter.kind === "and" ? filter.args : [filter];
  return nodes.some(
    (node) =>
      node.kind === "condition" &&
      node.field === "archived" &&
      node.operator === "equals" &&
      node.value === true,
  );
}

/** `rows` from index `from` on, read as the walk needs them (no copy of the rest: a page stops early). */
function* rowsFrom<R>(rows: readonly R[], from: number): Generator<R> {
  for (let i = from; i < rows.length; i++) yield rows[i] as R;
}

/** The top-level conditions of `filter` (its `and`'s, or itself) bounding `field` from below and from above. */
function boundsOn(filter: FilterNode, field: string): { lower: FilterNode[]; upper: FilterNode[] } {
  const lower: FilterNode[] = [];
  const upper: FilterNode[] = [];
  for (const node of filter.kind === "and" ? filter.args : [filter]) {
    if (node.kind !== "condition" || node.field !== field || !(node.value instanceof Date)) continue;
    if (node.operator === "greater-than" || node.operator === "greater-or-equal") lower.push(node);
    if (node.operator === "less-than" || node.operator === "less-or-equal") upper.push(node);
  }
  return { lower, upper };
}

/**
 * Where to begin and whether to stop, for rows in `timeOrdered` order: rows before `from` fail a lower bound (and
 * so the filter), and once a row fails an upper bound every later row does too.
 */
function timeRange<R extends ResourceRow>(
  spec: CollectionSpec<R>,
  filter: FilterNode | undefined,
): { rows: readonly R[]; from: number; past: (row: R) => boolean } | undefined {
  const ordered = spec.timeOrdered;
  if (!ordered || !filter) return undefined;
  const { lower, upper } = boundsOn(filter, ordered.field);
  if (lower.length === 0 && upper.length === 0) return undefined;
  const holds = (nodes: FilterNode[], row: R) =>
    nodes.every((node) => evaluateFilter(node, (name) => spec.field(row, name)));
  const { rows } = ordered;
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (holds(lower, rows[mid] as R)) hi = mid;
    else lo = mid + 1;
  }
  return { rows, from: lo, past: (row) => upper.length > 0 && !holds(upper, row) };
}

interface Cursor {
  /** Sort value of the boundary row (null when unsorted). */
  readonly k: unknown;
  /** Sequence of the boundary row. */
  readonly s: number;
  /** Direction: rows after the boundary ("n") or before it ("p"). */
  readonly d: "n" | "p";
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

function decodeCursor(text: string): Cursor {
  try {
    const value = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Cursor;
    if (typeof value.s === "number" && (value.d === "n" || value.d === "p")) return value;
  } catch {
    // Reported below.
  }
  throw invalidParameter("page[cursor]", "Invalid page cursor.");
}

function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  // Klaviyo puts missing values last whatever the direction; so do we.
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

/** Reads `page[size]`: defaults and bounds from the operation (Klaviyo's differ per endpoint). */
function pageSize(c: EmulatorContext, query: QueryContext): number {
  const bounds = query.operation.pageSize ?? { default: 20, max: 100 };
  const text = new URL(c.req.url).searchParams.get("page[size]");
  if (text === null) return bounds.default;
  // Decimal digits only: `Number` would also read "0x10", "1e3" or " 5" as a size.
  const n = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > bounds.max) {
    throw invalidParameter("page[size]", `Page size must be an integer between 1 and ${bounds.max}.`);
  }
  return n;
}

function linkWith(requestUrl: string, cursor: string): string {
  const url = new URL(requestUrl);
  url.searchParams.set("page[cursor]", cursor);
  return url.toString();
}

/**
 * The first page of a walk sorted by the `timeOrdered` field (a walk's first request, the oldest or newest items),
 * read from that end of the rows instead of sorting them all: the matching rows nearest the end, one more than a
 * page (so the caller knows there are more), and every row tied with the last of them (ties are ordered by
 * creation, not by the direction). Undefined where the shortcut does not apply. The caller sorts what it gets.
 */
function firstBySortedField<R extends ResourceRow>(
  spec: CollectionSpec<R>,
  sort: { field: string; descending: boolean },
  size: number,
  keep: (row: R) => boolean,
): R[] | undefined {
  const ordered = spec.timeOrdered;
  if (!ordered || sort.field !== ordered.field) return undefined;
  const { rows } = ordered;
  const picked: R[] = [];
  let boundary: unknown;
  for (let n = 0; n < rows.length; n++) {
    const row = rows[sort.descending ? rows.length - 1 - n : n] as R;
    const value = spec.field(row, ordered.field);
    if (picked.length > size && value !== boundary) break;
    if (!keep(row)) continue;
    picked.push(row);
    if (picked.length === size + 1) boundary = value;
  }
  return picked;
}

/** Answers a collection request: filtered, sorted, one page, with `links.next` / `prev` when there are more. */
export function collection<R extends ResourceRow>(c: EmulatorContext, spec: CollectionSpec<R>): Response {
  const query = readQuery(c);
  const filter = readFilter(c, query.params);
  const sort = readSort(c, query.params);
  const size = pageSize(c, query);
  const cursorText = new URL(c.req.url).searchParams.get("page[cursor]");
  const cursor = cursorText ? decodeCursor(cursorText) : undefined;

  const direction = sort?.descending ? -1 : 1;
  const readingsOf = spec.readings;
  /** The readings of a row that pass the filter (all of them without one). */
  const passing = (readings: ReadonlyArray<(name: string) => unknown>) =>
    filter ? readings.filter((get) => evaluateFilter(filter, get)) : readings;
  const key = (row: R): unknown => {
    if (!sort) return null;
    if (!readingsOf) return spec.field(row, sort.field);
    // The first value in the sort's direction among the matching readings; missing values only when all are.
    let best: unknown = null;
    for (const get of passing(readingsOf(row))) {
      const value = get(sort.field);
      if (value === null || value === undefined) continue;
      if (best === null || compareValues(value, best) * direction < 0) best = value;
    }
    return best;
  };
  const order = (a: { k: unknown; s: number }, b: { k: unknown; s: number }) => {
    const byKey = sort ? compareValues(a.k, b.k) * (a.k == null || b.k == null ? 1 : direction) : 0;
    return byKey !== 0 ? byKey : a.s - b.s;
  };

  const keep = (row: R) =>
    !(spec.where && !spec.where(row, filter)) &&
    (readingsOf
      ? passing(readingsOf(row)).length > 0
      : !(filter && !evaluateFilter(filter, (name) => spec.field(row, name))));

  let matching: Array<{ row: R; k: unknown; s: number }> = [];
  let start = 0;
  let end = 0;
  // In creation order, walking forward, a page needs only the rows after the cursor, up to one past the page:
  // no sort and no scan of what lies beyond. (Falls back below if rows turn out not to come in `seq` order.)
  let fast = !sort && cursor?.d !== "p";
  let hasBefore = false;
  if (fast) {
    let last = Number.NEGATIVE_INFINITY;
    const range = timeRange(spec, filter);
    const rows = range ? rowsFrom(range.rows, range.from) : spec.rows;
    for (const row of rows) {
      if (row.seq < last) {
        fast = false;
        break;
      }
      last = row.seq;
      if (range?.past(row)) break;
      if (cursor && row.seq <= cursor.s) {
        // A previous page exists if one row before the cursor matches (checked until the first is found).
        if (!hasBefore && keep(row)) hasBefore = true;
        continue;
      }
      if (!keep(row)) continue;
      matching.push({ row, k: null, s: row.seq });
      if (matching.length > size) break;
    }
    end = Math.min(matching.length, size);
  }
  if (!fast) {
    matching = [];
    const ends = sort && !cursor ? firstBySortedField(spec, sort, size, keep) : undefined;
    if (ends) matching = ends.map((row) => ({ row, k: key(row), s: row.seq }));
    else for (const row of spec.rows) if (keep(row)) matching.push({ row, k: key(row), s: row.seq });
    matching.sort(order);
    end = matching.length;
    if (cursor?.d === "n") {
      start = matching.findIndex((m) => order(m, { k: cursor.k, s: cursor.s }) > 0);
      if (start < 0) start = matching.length;
      end = Math.min(matching.length, start + size);
    } else if (cursor?.d === "p") {
      end = matching.findIndex((m) => order(m, { k: cursor.k, s: cursor.s }) >= 0);
      if (end < 0) end = matching.length;
      start = Math.max(0, end - size);
    } else {
      end = Math.min(matching.length, size);
    }
    hasBefore = start > 0;
  }
  const page = matching.slice(start, end);
  const included = new Included();
  const data = page.map((m) => spec.render(m.row, query, included));
  const links: Record<string, string> = { self: canonicalUrl(c.req.url) };
  const last = page.at(-1);
  const first = page[0];
  if (last && end < matching.length)
    links.next = linkWith(c.req.url, encodeCursor({ k: last.k, s: last.s, d: "n" }));
  if (first && hasBefore) links.prev = linkWith(c.req.url, encodeCursor({ k: first.k, s: first.s, d: "p" }));
  return jsonApi({ data, links, ...(query.include.size > 0 ? { included: included.toArray() } : {}) });
}
