/**
 * The filter objects of segment conditions (`{type, operator, value}` and the date forms), as schemas read
 * from Klaviyo's OpenAPI document. Each family is a union keyed first by `type`, then by `operator`, so a bad
 * request is refused with a pointer at the member that is wrong (`…/filter/operator`), never at the whole
 * condition.
 */
import * as z from "zod/mini";
import type { Discriminable } from "./schema.js";

/** The union's key a request got wrong: named with what it was and what it may be. */
function keyMessage(key: string, what: string) {
  return (issue: { code: string; input?: unknown; options?: readonly unknown[] }): string | undefined => {
    if (issue.code !== "invalid_union") return undefined;
    const given =
      typeof issue.input === "object" && issue.input !== null
        ? (issue.input as Record<string, unknown>)[key]
        : undefined;
    const valid = (issue.options ?? []).map((o) => `'${String(o)}'`).join(", ");
    return given === undefined
      ? `'${key}' is required: the ${what}, one of ${valid}.`
      : `${JSON.stringify(given)} is not a valid ${what}. Valid values: ${valid}.`;
  };
}

type Options = readonly [Discriminable, ...Discriminable[]];

/** A union chosen by `key`, with a 400 that points at `key` and names the valid values. */
export function choice<const T extends readonly Discriminable[]>(key: string, what: string, options: T) {
  // Every caller passes at least one option; zod's type asks for that in the tuple's shape.
  return z.discriminatedUnion(key, options as T & Options, { error: keyMessage(key, what) });
}

/**
 * A `format: date-time` member: RFC 3339, with `Z` or an offset. Klaviyo's parser may take a naive time too,
 * but the document does not allow one, so a client that relies on it is told here rather than in production.
 */
export const dateTime = z.iso.datetime({
  offset: true,
  error: "Expected an ISO 8601 datetime with a time zone offset.",
});

const unit = z.enum(["day", "hour", "week"]);
const numberValue = z.number();

export const staticDate = z.strictObject({
  type: z.literal("date"),
  operator: z.enum(["after", "before"]),
  date: dateTime,
});
export const staticDateRange = z.strictObject({
  type: z.literal("date"),
  operator: z.literal("between-static"),
  start: dateTime,
  end: dateTime,
});
export const relativeDate = z.strictObject({
  type: z.literal("date"),
  operator: z.enum(["at-least", "in-the-last", "in-the-next"]),
  unit,
  quantity: z.int(),
});
export const relativeAnniversary = z.strictObject({
  type: z.literal("date"),
  operator: z.enum(["anniversary-last", "anniversary-next"]),
  unit,
  quantity: z.int(),
});
export const relativeDateRange = z.strictObject({
  type: z.literal("date"),
  operator: z.literal("between"),
  start: z.int(),
  end: z.int(),
  unit,
});
export const alltime = z.strictObject({ type: z.literal("date"), operator: z.literal("alltime") });
export const calendarDate = z.strictObject({
  type: z.literal("date"),
  operator: z.literal("calendar-month"),
  value: z.int(),
});
export const anniversaryDate = z.strictObject({
  type: z.literal("date"),
  operator: z.enum(["anniversary", "anniversary-month"]),
});

/** The seven date filters most conditions accept (profile properties, consent dates). */
export const DATE_FILTERS = [
  staticDate,
  staticDateRange,
  relativeDate,
  relativeAnniversary,
  relativeDateRange,
  calendarDate,
  anniversaryDate,
] as const;
export const anyDate = choice("operator", "date filter operator", [...DATE_FILTERS]);

export const stringFilter = z.strictObject({
  type: z.literal("string"),
  operator: z.enum([
    "contains",
    "ends-with",
    "equals",
    "not-contains",
    "not-ends-with",
    "not-equals",
    "not-starts-with",
    "nregex",
    "regex",
    "starts-with",
  ]),
  value: z.nullable(z.string()),
});
export const stringArrayFilter = z.strictObject({
  type: z.literal("string"),
  operator: z.enum(["in", "not-in"]),
  value: z.array(z.string()),
});
export const phoneFilter = z.strictObject({
  type: z.literal("string"),
  operator: z.enum(["phone-country-code-in", "phone-country-code-not-in"]),
  value: z.array(z.string()),
});
export const numericFilter = z.strictObject({
  type: z.literal("numeric"),
  operator: z.enum([
    "equals",
    "greater-than",
    "greater-than-or-equal",
    "less-than",
    "less-than-or-equal",
    "not-equals",
  ]),
  value: numberValue,
});
export const integerFilter = z.extend(numericFilter, { value: z.int() });
export const numericRange = z.strictObject({
  type: z.literal("numeric"),
  operator: z.literal("between"),
  start: numberValue,
  end: numberValue,
});
export const booleanFilter = z.strictObject({
  type: z.literal("boolean"),
  operator: z.literal("equals"),
  value: z.boolean(),
});
export const listContains = z.strictObject({
  type: z.literal("list"),
  operator: z.enum(["contains", "not-contains"]),
  value: z.nullable(z.union([z.int(), z.string()])),
});
export const listLength = z.strictObject({
  type: z.literal("list"),
  operator: z.enum([
    "length-equals",
    "length-greater-than",
    "length-greater-than-or-equal",
    "length-less-than",
    "length-less-than-or-equal",
  ]),
  value: z.int(),
});
export const listSet = z.strictObject({
  type: z.literal("list"),
  operator: z.enum(["contains-all", "contains-any", "not-contains-all", "not-contains-any"]),
  value: z.array(z.string()),
});
export const listSubstring = z.strictObject({
  type: z.literal("list"),
  operator: z.enum(["contains-substring", "not-contains-substring"]),
  value: z.nullable(z.string()),
});
export const existence = z.strictObject({
  type: z.literal("existence"),
  operator: z.enum(["is-set", "not-set"]),
});
export const isSet = z.strictObject({ type: z.literal("existence"), operator: z.literal("is-set") });

const filterType = (options: Options) => choice("type", "filter type", options);
const byOperator = (options: Options) => choice("operator", "filter operator", options);

/** `profile-property`'s `filter`: every family of the document's union. */
export const propertyFilter = filterType([
  byOperator([stringFilter, stringArrayFilter, phoneFilter]),
  numericFilter,
  booleanFilter,
  anyDate,
  byOperator([listContains, listLength]),
  existence,
]);

/** A filter on an event property (`metric_filters[].filter` of `profile-metric` and funnels). */
export const metricPropertyFilter = z.strictObject({
  property: z.string(),
  filter: z.nullish(
    filterType([
      byOperator([stringFilter, stringArrayFilter]),
      existence,
      byOperator([listSet, listLength, listSubstring]),
      booleanFilter,
      numericFilter,
    ]),
  ),
});

/** A custom-object property filter (`profile-has-custom-object`'s `filters[]`). */
export const customObjectFilter = z.strictObject({
  property_id: z.int(),
  filter: filterType([
    byOperator([stringFilter, stringArrayFilter]),
    byOperator([numericFilter, numericRange]),
    booleanFilter,
    byOperator([staticDate, staticDateRange, relativeDate, relativeAnniversary, relativeDateRange]),
    byOperator([listContains, listLength]),
    existence,
  ]),
});
