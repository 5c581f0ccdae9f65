/**
 * Query Metric Aggregates (`POST /api/metric-aggregates`): the body checked as Klaviyo's document defines it
 * (`MetricAggregateQuery`), the required datetime range read from `filter`, then the aggregation of
 * `resources/metric-aggregates.ts` over the stored events, `page_size` rows a page.
 */
import * as v from "valibot";
import { AGGREGATE_SORTS } from "../../klaviyo/metric-aggregates.js";
import { readJson, validate } from "../body.js";
import type { RouteTable } from "../env.js";
import { EmulatorProblem, invalidBody, notFound } from "../errors.js";
import { canonicalUrl, jsonApi, selfLink } from "../json-api.js";
import { checkType, memberAt } from "../request-documents.js";
import {
  aggregate,
  DIMENSIONS,
  type DimensionFilter,
  INTERVALS,
  isKnownTimeZone,
  MEASUREMENTS,
  parseBound,
  UNSUPPORTED_DIMENSIONS,
} from "../resources/metric-aggregates.js";
import type { EmulatorState } from "../state.js";

const SORTS = AGGREGATE_SORTS;

/** Rows a page when `page_size` is not given (Klaviyo's default). */
export const DEFAULT_AGGREGATE_PAGE = 500;
/**
 * The emulator's bound on the buckets of one query (Klaviyo documents none; it keeps one request from asking the
 * emulator for unbounded work). `page_size` has no upper bound documented, and none here.
 */
export const MAX_BUCKETS = 10_000;

const body = v.strictObject({
  data: v.strictObject({
    type: v.literal("metric-aggregate"),
    attributes: v.strictObject({
      metric_id: v.pipe(v.string(), v.minLength(1, "This field may not be blank.")),
      page_cursor: v.optional(v.string()),
      measurements: v.pipe(
        v.array(v.picklist(MEASUREMENTS, `Each measurement must be one of: ${MEASUREMENTS.join(", ")}.`)),
        v.minLength(1, "Give at least one measurement."),
      ),
      interval: v.optional(
        v.nullable(v.picklist(INTERVALS, `The interval must be one of: ${INTERVALS.join(", ")}.`)),
      ),
      page_size: v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1)))),
      by: v.optional(v.nullable(v.array(v.picklist(DIMENSIONS, "Not a supported dimension.")))),
      return_fields: v.optional(v.nullable(v.array(v.string()))),
      filter: v.array(v.string()),
      timezone: v.optional(v.nullable(v.string())),
      sort: v.optional(v.picklist(SORTS, "Not a supported sort key.")),
    }),
  }),
});

const ATTRIBUTES = "/data/attributes";

function problem(pointer: string, detail: string): EmulatorProblem {
  return new EmulatorProblem(invalidBody(pointer, detail));
}

const CONDITION = /^\s*([a-z-]+)\(\s*(.+?)\s*,\s*([\s\S]*)\)\s*$/;
const QUOTED = /^(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")$/;

function unquote(text: string): string | undefined {
  const m = QUOTED.exec(text.trim());
  if (!m) return undefined;
  return (m[1] ?? m[2] ?? "").replace(/\\(.)/g, "$1");
}

interface Range {
  start?: number;
  end?: number;
  filters: DimensionFilter[];
}

/** Reads `filter`: the datetime range (required) and the dimension filters. */
function readFilters(
  filters: readonly string[],
  zone: string,
): { start: number; end: number; filters: DimensionFilter[] } {
  const range: Range = { filters: [] };
  filters.forEach((text, i) => {
    const at = `${ATTRIBUTES}/filter/${i}`;
    const m = CONDITION.exec(text);
    if (!m)
      throw problem(
        at,
        `'${text}' is not a filter: give operator(field,value), e.g. greater-or-equal(datetime,2024-01-01T00:00:00).`,
      );
    const [, operator, field = "", value = ""] = m;
    if (field === "datetime") {
      const when = parseBound(unquote(value) ?? value, zone);
      if (when === undefined) throw problem(at, `'${value}' is not an ISO 8601 datetime.`);
      if (operator === "greater-or-equal") range.start = when;
      else if (operator === "less-than") range.end = when;
      else
        throw problem(
          at,
          `The datetime range takes greater-or-equal(datetime,…) and less-than(datetime,…); '${operator}' is not supported on datetime.`,
        );
      return;
    }
    if (!(DIMENSIONS as readonly string[]).includes(field))
      throw problem(
        at,
        `'${field}' cannot be filtered on: give datetime or one of the supported dimensions.`,
      );
    if (UNSUPPORTED_DIMENSIONS.has(field))
      throw problem(
        at,
        `Filtering on '${field}' is not supported by this emulator: Klaviyo derives it from data the emulator does not hold.`,
      );
    if (operator === "equals") {
      const one = unquote(value);
      if (one === undefined) throw problem(at, `equals(${field},…) takes a quoted string.`);
      range.filters.push({ dimension: field, values: [one] });
    } else if (operator === "any") {
      const list = /^\[([\s\S]*)\]$/.exec(value.trim());
      const items = list?.[1]?.trim() ? (list[1].match(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g) ?? []) : [];
      const values = items.map((item) => unquote(item) ?? "");
      if (!list || values.length === 0)
        throw problem(at, `any(${field},[…]) takes a list of quoted strings.`);
      range.filters.push({ dimension: field, values });
    } else {
      throw problem(
        at,
        `'${operator}' is not supported by this emulator on dimensions: it takes equals and any.`,
      );
    }
  });
  if (range.start === undefined || range.end === undefined) {
    throw problem(
      `${ATTRIBUTES}/filter`,
      "A time range is required: give greater-or-equal(datetime,…) and less-than(datetime,…) in the filter.",
    );
  }
  if (range.end <= range.start)
    throw problem(
      `${ATTRIBUTES}/filter`,
      "The time range is empty: less-than(datetime,…) must be after greater-or-equal(datetime,…).",
    );
  return { start: range.start, end: range.end, filters: range.filters };
}

function readCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === "") return 0;
  const offset = Number(
    Buffer.from(cursor, "base64url")
      .toString("utf8")
      .replace(/^offset:/, ""),
  );
  if (!Number.isInteger(offset) || offset < 0)
    throw problem(`${ATTRIBUTES}/page_cursor`, "Invalid page cursor.");
  return offset;
}

/** The metric-aggregate handler, over `state`. */
export function metricRoutes(state: EmulatorState): RouteTable {
  return {
    async query_metric_aggregates(c) {
      const raw = await readJson(c);
      checkType(memberAt(raw, "data"), "/data", "metric-aggregate");
      const { attributes: a } = validate(body, raw).data;
      const zone = a.timezone ?? "UTC";
      if (!isKnownTimeZone(zone)) {
        throw problem(
          `${ATTRIBUTES}/timezone`,
          `'${zone}' is not a supported time zone: give an IANA name such as America/New_York (case-sensitive).`,
        );
      }
      const by = a.by ?? [];
      by.forEach((dimension, i) => {
        if (UNSUPPORTED_DIMENSIONS.has(dimension)) {
          throw problem(
            `${ATTRIBUTES}/by/${i}`,
            `Grouping by '${dimension}' is not supported by this emulator: Klaviyo derives it from data the emulator does not hold.`,
          );
        }
      });
      const sortKey = a.sort?.replace(/^-/, "");
      if (sortKey && !(MEASUREMENTS as readonly string[]).includes(sortKey) && !by.includes(sortKey as never))
        throw problem(`${ATTRIBUTES}/sort`, `Sorting by '${sortKey}' needs it in 'by'.`);
      const range = readFilters(a.filter, zone);
      if (!state.metrics.get(a.metric_id))
        throw notFound(`A metric with id '${a.metric_id}' does not exist.`);
      const interval = a.interval ?? "day";
      const unitMs = { hour: 3_600_000, day: 86_400_000, week: 604_800_000, month: 2_419_200_000 }[interval];
      const buckets = Math.ceil((range.end - range.start) / unitMs);
      if (buckets > MAX_BUCKETS) {
        throw problem(
          `${ATTRIBUTES}/interval`,
          `The range holds about ${buckets} ${interval}s; more than ${MAX_BUCKETS} dates a query is not supported by this emulator.`,
        );
      }
      const result = aggregate(state, {
        metricId: a.metric_id,
        measurements: a.measurements,
        interval,
        zone,
        ...range,
        by,
        sort: a.sort,
      });
      const offset = readCursor(a.page_cursor);
      const size = a.page_size ?? DEFAULT_AGGREGATE_PAGE;
      const rows = result.rows.slice(offset, offset + size);
      const more = offset + size < result.rows.length;
      const origin = new URL(c.req.url).origin;
      const id = crypto.randomUUID();
      const fields = (a.return_fields ?? []).filter((f) => f === "dates" || f === "data");
      const attributes = {
        ...(fields.length === 0 || fields.includes("dates") ? { dates: result.dates } : {}),
        ...(fields.length === 0 || fields.includes("data") ? { data: rows } : {}),
      };
      const next = more ? Buffer.from(`offset:${offset + size}`).toString("base64url") : undefined;
      return jsonApi({
        data: {
          type: "metric-aggregate",
          id,
          attributes,
          links: { self: selfLink(origin, "metric-aggregates", id) },
        },
        // The cursor of the next page, for `page_cursor`: Klaviyo's document does not show where it goes; the
        // emulator gives it as the other endpoints give theirs, in `links.next`.
        links: {
          self: canonicalUrl(c.req.url),
          ...(next ? { next: `${canonicalUrl(c.req.url)}?page_cursor=${next}` } : {}),
        },
      });
    },
  };
}
