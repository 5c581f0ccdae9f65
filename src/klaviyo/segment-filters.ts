/**
 * The filter objects of segment conditions (`{type, operator, value}` and the date forms), as schemas read
 * from Klaviyo's OpenAPI document. Each family is a union keyed first by `type`, then by `operator`, so a bad
 * request is refused with a pointer at the member that is wrong (`…/filter/operator`), never at the whole
 * condition.
 */
import * as v from "valibot";
import { RFC3339_DATETIME } from "./formats.js";
import { type Discriminable, typed } from "./schema.js";

/** What each key of a `choice` names, for its messages ("condition type", "date filter operator", …). */
const KEY_NAMES = new Map<string, string>();

/**
 * The message of a union's key a request got wrong: named with what it was and what it may be. The key is the
 * issue's (a nested choice's failure is reported by the outer one, with the inner key's path).
 */
function keyMessage(issue: v.VariantIssue): string {
  const key = String(issue.path?.at(-1)?.key ?? "");
  const what = KEY_NAMES.get(key) ?? key;
  const valid = (issue.expected ?? "")
    .split(" | ")
    .map((o) => `'${o.replace(/^"|"$/g, "")}'`)
    .join(", ");
  return issue.input === undefined
    ? `'${key}' is required: the ${what}, one of ${valid}.`
    : `${JSON.stringify(issue.input)} is not a valid ${what}. Valid values: ${valid}.`;
}

/** A union chosen by `key`, with a 400 that points at `key` and names the valid values. */
export function choice<const T extends readonly Discriminable[]>(key: string, what: string, options: T) {
  KEY_NAMES.set(key, what);
  return v.variant(key, options, keyMessage);
}

/**
 * A `format: date-time` member: RFC 3339, with `Z` or an offset. Klaviyo's parser may take a naive time too,
 * but the document does not allow one, so a client that relies on it is told here rather than in production.
 */
export const dateTime = v.pipe(
  v.string("Expected an ISO 8601 datetime with a time zone offset."),
  v.regex(RFC3339_DATETIME, "Expected an ISO 8601 datetime with a time zone offset."),
);

const unit = v.picklist(["day", "hour", "week"]);
const numberValue = v.pipe(v.number(), v.finite());

export const staticDate = v.strictObject({
  type: v.literal("date"),
  operator: v.picklist(["after", "before"]),
  date: dateTime,
});
export const staticDateRange = v.strictObject({
  type: v.literal("date"),
  operator: v.literal("between-static"),
  start: dateTime,
  end: dateTime,
});
export const relativeDate = v.strictObject({
  type: v.literal("date"),
  operator: v.picklist(["at-least", "in-the-last", "in-the-next"]),
  unit,
  quantity: v.pipe(v.number(), v.finite(), v.integer()),
});
export const relativeAnniversary = v.strictObject({
  type: v.literal("date"),
  operator: v.picklist(["anniversary-last", "anniversary-next"]),
  unit,
  quantity: v.pipe(v.number(), v.finite(), v.integer()),
});
export const relativeDateRange = v.strictObject({
  type: v.literal("date"),
  operator: v.literal("between"),
  start: v.pipe(v.number(), v.finite(), v.integer()),
  end: v.pipe(v.number(), v.finite(), v.integer()),
  unit,
});
export const alltime = v.strictObject({ type: v.literal("date"), operator: v.literal("alltime") });
export const calendarDate = v.strictObject({
  type: v.literal("date"),
  operator: v.literal("calendar-month"),
  value: v.pipe(v.number(), v.finite(), v.integer()),
});
export const anniversaryDate = v.strictObject({
  type: v.literal("date"),
  operator: v.picklist(["anniversary", "anniversary-month"]),
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

export const stringFilter = v.strictObject({
  type: v.literal("string"),
  operator: v.picklist([
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
  value: v.nullable(v.string()),
});
export const stringArrayFilter = v.strictObject({
  type: v.literal("string"),
  operator: v.picklist(["in", "not-in"]),
  value: v.array(v.string()),
});
export const phoneFilter = v.strictObject({
  type: v.literal("string"),
  operator: v.picklist(["phone-country-code-in", "phone-country-code-not-in"]),
  value: v.array(v.string()),
});
export const numericFilter = v.strictObject({
  type: v.literal("numeric"),
  operator: v.picklist([
    "equals",
    "greater-than",
    "greater-than-or-equal",
    "less-than",
    "less-than-or-equal",
    "not-equals",
  ]),
  value: numberValue,
});
export const integerFilter = v.strictObject({
  ...numericFilter.entries,
  ...{ value: v.pipe(v.number(), v.finite(), v.integer()) },
});
export const numericRange = v.strictObject({
  type: v.literal("numeric"),
  operator: v.literal("between"),
  start: numberValue,
  end: numberValue,
});
export const booleanFilter = v.strictObject({
  type: v.literal("boolean"),
  operator: v.literal("equals"),
  value: v.boolean(),
});
export const listContains = v.strictObject({
  type: v.literal("list"),
  operator: v.picklist(["contains", "not-contains"]),
  value: v.nullable(v.union([v.pipe(v.number(), v.finite(), v.integer()), v.string()])),
});
export const listLength = v.strictObject({
  type: v.literal("list"),
  operator: v.picklist([
    "length-equals",
    "length-greater-than",
    "length-greater-than-or-equal",
    "length-less-than",
    "length-less-than-or-equal",
  ]),
  value: v.pipe(v.number(), v.finite(), v.integer()),
});
export const listSet = v.strictObject({
  type: v.literal("list"),
  operator: v.picklist(["contains-all", "contains-any", "not-contains-all", "not-contains-any"]),
  value: v.array(v.string()),
});
export const listSubstring = v.strictObject({
  type: v.literal("list"),
  operator: v.picklist(["contains-substring", "not-contains-substring"]),
  value: v.nullable(v.string()),
});
export const existence = v.strictObject({
  type: v.literal("existence"),
  operator: v.picklist(["is-set", "not-set"]),
});
export const isSet = v.strictObject({ type: v.literal("existence"), operator: v.literal("is-set") });

const filterType = (options: readonly Discriminable[]) => choice("type", "filter type", options);
const byOperator = (options: readonly Discriminable[]) => choice("operator", "filter operator", options);

/** `profile-property`'s `filter`: every family of the document's union. */
export const propertyFilter = typed(
  filterType([
    byOperator([stringFilter, stringArrayFilter, phoneFilter]),
    numericFilter,
    booleanFilter,
    anyDate,
    byOperator([listContains, listLength]),
    existence,
  ]),
);

/** A filter on an event property (`metric_filters[].filter` of `profile-metric` and funnels). */
export const metricPropertyFilter = typed(
  v.strictObject({
    property: v.string(),
    filter: v.nullish(
      filterType([
        byOperator([stringFilter, stringArrayFilter]),
        existence,
        byOperator([listSet, listLength, listSubstring]),
        booleanFilter,
        numericFilter,
      ]),
    ),
  }),
);

/** A custom-object property filter (`profile-has-custom-object`'s `filters[]`). */
export const customObjectFilter = typed(
  v.strictObject({
    property_id: v.pipe(v.number(), v.finite(), v.integer()),
    filter: filterType([
      byOperator([stringFilter, stringArrayFilter]),
      byOperator([numericFilter, numericRange]),
      booleanFilter,
      byOperator([staticDate, staticDateRange, relativeDate, relativeAnniversary, relativeDateRange]),
      byOperator([listContains, listLength]),
      existence,
    ]),
  }),
);
