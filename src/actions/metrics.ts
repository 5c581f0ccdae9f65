/**
 * Metrics: list them, get one, and query their aggregates (counts, sums of value and unique profiles over time,
 * grouped by message, campaign and the other dimensions Klaviyo allows).
 */

import * as v from "valibot";
import { InputValidationError } from "../core/errors.js";
import {
  AGGREGATE_DIMENSIONS,
  AGGREGATE_INTERVALS,
  AGGREGATE_MEASUREMENTS,
  AGGREGATE_SORTS,
} from "../klaviyo/metric-aggregates.js";
import { FIELDSETS, OPERATION_PARAMETERS } from "../klaviyo/operations.js";
import { checkWith } from "../klaviyo/schema.js";
import { isKnownTimeZone } from "../klaviyo/time-zones.js";
import { defineAction } from "./define.js";
import { fieldsQuery, includeInput, includes } from "./include.js";
import { input } from "./inputs.js";
import { listOutput, pagingInputs } from "./list.js";

const metricFieldsInput = () =>
  input.fields(
    {
      key: "fields",
      label: "Fields",
      comments:
        "Which metric attributes to return (fields[metric]), as a list or comma-separated text, e.g. name,integration. Leave empty for every attribute.",
      example: "name,integration",
    },
    FIELDSETS.metric ?? [],
  );

const metricIncludeInput = () =>
  includeInput(
    {
      key: "include",
      label: "Include",
      comments:
        "Related resources to return in included[]: flow-triggers (the flows this metric triggers). Leave empty for none.",
      example: "flow-triggers",
    },
    OPERATION_PARAMETERS.get_metric?.include ?? ["flow-triggers"],
  );

/** `GET /api/metrics` (tier 10/s, 150/m; Klaviyo serves up to 200 a page and takes no page size). */
export const listMetrics = defineAction({
  key: "list-metrics",
  label: "List Metrics",
  description:
    "Lists the account's metrics (Placed Order, Received Email, your own API events …), each with its integration, optionally narrowed to one integration by name or category. Klaviyo sends up to 200 metrics a page and takes no page size; one page by default, with a cursor to continue, or Limit to walk pages until that many. Limited to 10 requests per second, 150 per minute. Needs the metrics:read scope.",
  operation: "get_metrics",
  inputs: {
    filter: input.filter(
      {
        key: "filter",
        label: "Filter",
        comments:
          "A Klaviyo filter, checked before sending: equals(integration.name,'Shopify') or equals(integration.category,'API') (the only ones Klaviyo allows). Leave empty for every metric.",
        example: "equals(integration.name,'API')",
      },
      "get_metrics",
    ),
    fields: metricFieldsInput(),
    cursor: pagingInputs(200).cursor,
    limit: pagingInputs(200).limit,
  },
  async perform(ctx, { filter, fields, cursor, limit }) {
    return listOutput(ctx, { query: { filter, "fields[metric]": fieldsQuery(fields) } }, { cursor, limit });
  },
});

/** `GET /api/metrics/{id}` (tier 10/s, 150/m). */
export const getMetric = defineAction({
  key: "get-metric",
  label: "Get Metric",
  description:
    "Fetches one metric by its ID: its name, when it was created and updated, and the integration that records it. Limited to 10 requests per second, 150 per minute. Needs the metrics:read scope.",
  operation: "get_metric",
  inputs: {
    metricId: input.id({
      key: "metricId",
      label: "Metric ID",
      comments: "The Klaviyo ID of the metric, as List Metrics returns it (6 characters, e.g. RfcWBF).",
      example: "RfcWBF",
    }),
    fields: metricFieldsInput(),
    include: metricIncludeInput(),
  },
  async perform({ send }, { metricId, fields, include }) {
    const res = await send({
      path: { id: metricId },
      query: { "fields[metric]": fieldsQuery(fields), include: includes(include, []) },
    });
    return res.body;
  },
});

export {
  AGGREGATE_DIMENSIONS,
  AGGREGATE_INTERVALS,
  AGGREGATE_MEASUREMENTS,
} from "../klaviyo/metric-aggregates.js";

const CONDITION = /^\s*([a-z-]+)\(\s*([^,()]+?)\s*,\s*([\s\S]*?)\s*\)\s*$/;
const QUOTED = /^(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")$/;
const QUOTED_LIST =
  /^\[\s*(?:(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\s*(?:,\s*(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\s*)*)\]$/;

/** What is wrong with one extra condition, or `undefined`. */
function conditionProblem(condition: string): string | undefined {
  const m = CONDITION.exec(condition);
  if (!m) return `'${condition}' is not a condition such as equals($message,'01J…')`;
  const [, operator = "", field = "", value = ""] = m;
  if (field === "datetime") return `'${condition}': give the time range with Start and End, not here`;
  if (!(AGGREGATE_DIMENSIONS as readonly string[]).includes(field))
    return `'${condition}': ${field} is not one of Klaviyo's dimensions (${AGGREGATE_DIMENSIONS.join(", ")})`;
  if (operator === "equals" && !QUOTED.test(value))
    return `'${condition}': equals takes a quoted text, e.g. equals(${field},'value')`;
  if (operator === "any" && !QUOTED_LIST.test(value))
    return `'${condition}': any takes a list of quoted texts, e.g. any(${field},['a','b'])`;
  return undefined;
}

/**
 * Extra filter conditions: one condition as text, or a JSON array of them, each on one of Klaviyo's dimensions;
 * never on datetime (Start and End give it).
 */
const extraFilterSchema = v.pipe(
  v.union([v.array(v.string()), v.string()], "must be a condition or a JSON array of conditions"),
  v.transform((raw) => (Array.isArray(raw) ? raw : [raw]).map((s) => s.trim()).filter((s) => s.length > 0)),
  checkWith((conditions: string[], ctx) => {
    for (const condition of conditions) {
      const problem = conditionProblem(condition);
      if (problem) ctx.addIssue({ message: problem });
    }
  }),
) as unknown as v.GenericSchema<unknown, string[]>;

/** `POST /api/metric-aggregates` (tier 3/s, 60/m). */
export const queryMetricAggregates = defineAction({
  key: "query-metric-aggregates",
  label: "Query Metric Aggregates",
  description:
    "Measures one metric's events between Start and End, by hour, day, week or month in a time zone: how many events (count), the sum of their value (sum_value), how many distinct profiles (unique), optionally per message, campaign name, subject or another of Klaviyo's dimensions (By), and narrowed by conditions on those dimensions. Returns Klaviyo's answer as it is: attributes.dates (the start of each period) and attributes.data, one row per group with its dimensions and, per measurement, one value per date. Limited to 3 requests per second, 60 per minute. Needs the metrics:read scope.",
  operation: "query_metric_aggregates",
  inputs: {
    metricId: input.id({
      key: "metricId",
      label: "Metric ID",
      comments:
        "The ID of the metric to measure, as List Metrics returns it (e.g. the ID of Received Email).",
      example: "RfcWBF",
    }),
    start: input.text<true>(
      {
        key: "start",
        label: "Start",
        required: true,
        comments:
          "The first moment counted (inclusive), ISO 8601: 2026-07-01T00:00:00Z, or a date (2026-07-01, midnight UTC). A time without an offset is UTC.",
        example: "2026-06-01T00:00:00Z",
      },
      "datetime",
    ),
    end: input.text<true>(
      {
        key: "end",
        label: "End",
        required: true,
        comments:
          "The moment counting stops (exclusive), ISO 8601 like Start, after it: 2026-08-01T00:00:00Z counts all of July.",
        example: "2026-08-01T00:00:00Z",
      },
      "datetime",
    ),
    measurements: input.fields(
      {
        key: "measurements",
        label: "Measurements",
        comments:
          "What to measure, as a list or comma-separated text: count (events), sum_value (the sum of their value) and unique (distinct profiles). Defaults to count.",
        default: ["count"],
        example: "count,unique",
      },
      AGGREGATE_MEASUREMENTS,
      (unknown) => `${unknown.join(", ")}: not measurements; allowed: ${AGGREGATE_MEASUREMENTS.join(", ")}`,
    ),
    interval: input.enum(
      {
        key: "interval",
        label: "Interval",
        comments: "The length of each period: hour, day, week or month. Defaults to day.",
        default: "day",
        example: "day",
      },
      AGGREGATE_INTERVALS,
    ),
    timezone: {
      ...input.text({
        key: "timezone",
        label: "Timezone",
        comments:
          "The time zone the periods follow (where a day or month begins), an IANA name, case-sensitive: America/New_York, Europe/Paris. Klaviyo refuses Factory, Europe/Kyiv and Pacific/Kanton. Defaults to UTC.",
        default: "UTC",
        example: "America/New_York",
      }),
      schema: v.pipe(
        v.string("must be text"),
        v.check(
          isKnownTimeZone,
          "must be an IANA time zone name as written in the database (case-sensitive), e.g. America/New_York",
        ),
      ),
      checks: "an IANA time zone name, case-sensitive, other than Factory, Europe/Kyiv and Pacific/Kanton",
    },
    by: input.fields(
      {
        key: "by",
        label: "By",
        comments:
          "Dimensions to group by, as a list or comma-separated text: $message (the message ID), Campaign Name, Subject, Message Name, $campaign_channel, $flow, $value_currency, Email Domain, URL, List, … (Klaviyo's list). Leave empty for one row of totals.",
        example: "$message",
      },
      AGGREGATE_DIMENSIONS,
      (unknown) => `${unknown.join(", ")}: not dimensions; allowed: ${AGGREGATE_DIMENSIONS.join(", ")}`,
    ),
    filter: input.json<string[]>(
      {
        key: "filter",
        label: "Filter",
        comments:
          "Extra conditions on the dimensions, besides Start and End: one as text, or a JSON array of them, e.g. equals($message,'01J9Z7Q4W3E2R1T0Y9U8I7O6P6') or any(Campaign Name,['Spring sale','Summer sale']). Leave empty for none.",
        example: "equals($campaign_channel,'email')",
      },
      extraFilterSchema,
      "each a condition operator(dimension,value); datetime is given by Start and End",
    ),
    sort: input.enum(
      {
        key: "sort",
        label: "Sort",
        comments:
          "The order of the rows: a measurement (count, sum_value, unique) or a dimension named in By, ascending; prefix with - for descending (-count). Leave empty for Klaviyo's default.",
        example: "-count",
      },
      AGGREGATE_SORTS,
    ),
    pageSize: input.number(
      {
        key: "pageSize",
        label: "Page Size",
        comments: "How many rows (groups) per page; Klaviyo's default is 500.",
        example: "500",
      },
      { min: 1, integer: true },
    ),
    pageCursor: input.text({
      key: "pageCursor",
      label: "Page Cursor",
      comments:
        "Continue from this cursor, given by an earlier page's answer. Leave empty for the first page.",
    }),
  },
  async perform({ send }, values) {
    if (Date.parse(values.end) <= Date.parse(values.start)) {
      throw new InputValidationError(
        [{ label: "End", key: "end", message: `must be after Start (${values.start})` }],
        "Query Metric Aggregates",
      );
    }
    const sortKey = values.sort?.replace(/^-/, "");
    if (
      sortKey !== undefined &&
      !(AGGREGATE_MEASUREMENTS as readonly string[]).includes(sortKey) &&
      !(values.by ?? []).includes(sortKey)
    ) {
      throw new InputValidationError(
        [{ label: "Sort", key: "sort", message: `sorts by ${sortKey}, which must then be named in By` }],
        "Query Metric Aggregates",
      );
    }
    const attributes = {
      metric_id: values.metricId,
      // An empty list is taken as the default: Klaviyo measures at least one thing.
      measurements: values.measurements?.length ? values.measurements : ["count"],
      interval: values.interval,
      timezone: values.timezone,
      filter: [
        `greater-or-equal(datetime,${values.start})`,
        `less-than(datetime,${values.end})`,
        ...(values.filter ?? []),
      ],
      ...(values.by && values.by.length > 0 ? { by: values.by } : {}),
      ...(values.sort !== undefined ? { sort: values.sort } : {}),
      ...(values.pageSize !== undefined ? { page_size: values.pageSize } : {}),
      ...(values.pageCursor !== undefined ? { page_cursor: values.pageCursor } : {}),
    };
    const res = await send({ body: { data: { type: "metric-aggregate", attributes } } });
    return res.body;
  },
});
