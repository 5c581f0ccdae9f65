/**
 * A segment's `definition` (`condition_groups[].conditions[]`) as Klaviyo's OpenAPI document defines it: every
 * condition type of the document, chosen by `type` (then `is_member`, `dimension`, `channel`, …), with its
 * required members and enums. An unknown type, a missing member or a value outside an enum is a 400 pointing at
 * that member (`/data/attributes/definition/condition_groups/0/conditions/1/type`).
 */
import * as z from "zod/mini";
import { marketingConsent, permission } from "./segment-consent.js";
import {
  alltime,
  anyDate,
  choice,
  customObjectFilter,
  integerFilter,
  metricPropertyFilter,
  numericFilter,
  propertyFilter,
  relativeAnniversary,
  relativeDate,
  relativeDateRange,
  staticDate,
  staticDateRange,
} from "./segment-filters.js";

const groupTimeframe = choice("operator", "date filter operator", [
  staticDate,
  staticDateRange,
  relativeDate,
  relativeDateRange,
]);
const predictedChannel = z.enum(["email", "push", "sms", "whatsapp"]);

const groupMembership = choice("is_member", "is_member", [
  z.strictObject({
    type: z.literal("profile-group-membership"),
    is_member: z.literal(true),
    group_ids: z.array(z.string()).check(z.minLength(1, "Name at least one list or segment.")),
    timeframe_filter: z.nullish(groupTimeframe),
  }),
  z.strictObject({
    type: z.literal("profile-group-membership"),
    is_member: z.literal(false),
    group_ids: z.array(z.string()).check(z.minLength(1, "Name at least one list or segment.")),
  }),
]);

const profileMetric = z.strictObject({
  type: z.literal("profile-metric"),
  metric_id: z.string(),
  measurement: z.enum(["count", "sum"]),
  measurement_filter: numericFilter,
  timeframe_filter: choice("operator", "date filter operator", [
    staticDate,
    staticDateRange,
    relativeDate,
    relativeAnniversary,
    relativeDateRange,
    alltime,
  ]),
  metric_filters: z.nullish(z.array(metricPropertyFilter)),
});

const predictive = choice("dimension", "predictive analytics dimension", [
  z.strictObject({
    type: z.literal("profile-predictive-analytics"),
    dimension: z.literal("expected_date_of_next_purchase"),
    filter: anyDate,
  }),
  z.strictObject({
    type: z.literal("profile-predictive-analytics"),
    dimension: z.enum([
      "average_days_between_orders",
      "average_order_value",
      "churn_probability",
      "historic_clv",
      "historic_number_of_orders",
      "predicted_clv",
      "predicted_number_of_orders",
      "total_clv",
    ]),
    filter: numericFilter,
  }),
  z.strictObject({
    type: z.literal("profile-predictive-analytics"),
    dimension: z.literal("predicted_gender"),
    filter: z.strictObject({
      type: z.literal("string"),
      operator: z.enum(["equals", "not-equals"]),
      value: z.enum(["likely_female", "likely_male", "uncertain"]),
    }),
  }),
  choice("measurement", "channel affinity measurement", [
    z.strictObject({
      type: z.literal("profile-predictive-analytics"),
      dimension: z.literal("channel_affinity"),
      measurement: z.literal("priority"),
      predicted_channel: predictedChannel,
      filter: z.strictObject({ type: z.literal("numeric"), operator: z.literal("equals"), value: z.int() }),
    }),
    z.strictObject({
      type: z.literal("profile-predictive-analytics"),
      dimension: z.literal("channel_affinity"),
      measurement: z.literal("rank"),
      predicted_channel: predictedChannel,
      filter: z.strictObject({
        type: z.literal("string"),
        operator: z.enum(["equals", "not-equals"]),
        value: z.enum(["high", "low", "medium"]),
      }),
    }),
  ]),
]);

/** One condition: every type the document's `ConditionGroup.conditions` union lists. */
export const segmentCondition = choice("type", "condition type", [
  groupMembership,
  profileMetric,
  z.strictObject({ type: z.literal("profile-marketing-consent"), consent: marketingConsent }),
  z.strictObject({
    type: z.literal("profile-postal-code-distance"),
    country_code: z.string(),
    postal_code: z.string(),
    unit: z.enum(["kilometers", "miles"]),
    filter: choice("operator", "filter operator", [
      z.strictObject({ type: z.literal("numeric"), operator: z.literal("greater-than"), value: z.number() }),
      z.strictObject({ type: z.literal("numeric"), operator: z.literal("less-than"), value: z.number() }),
    ]),
  }),
  z.strictObject({
    type: z.literal("profile-property"),
    property: z.string().check(z.minLength(1)),
    filter: propertyFilter,
  }),
  z.strictObject({
    type: z.literal("profile-region"),
    in_region: z.boolean(),
    region: z.enum(["european_union", "united_states"]),
  }),
  predictive,
  z.strictObject({
    type: z.literal("profile-has-custom-object"),
    object_type_id: z.string(),
    object_type_relationship_id: z.string(),
    filter: integerFilter,
    filters: z.array(customObjectFilter),
  }),
  z.strictObject({
    type: z.literal("profile-permissions"),
    permission,
    channel: z.enum(["whatsapp_marketing", "whatsapp_transactional"]),
  }),
  z.strictObject({
    type: z.literal("profile-metric-funnel"),
    timeframe_filter: choice("operator", "date filter operator", [
      staticDateRange,
      relativeDateRange,
      relativeDate,
    ]),
    completion_window_seconds: z.nullish(
      z.enum([
        "DAYS_1",
        "DAYS_180",
        "DAYS_3",
        "DAYS_30",
        "DAYS_5",
        "DAYS_90",
        "HOURS_1",
        "WEEKS_1",
        "YEARS_1",
      ]),
    ),
    steps: z.array(
      z.strictObject({
        metric_exists: z.boolean(),
        metric_id: z.string(),
        metric_filters: z.nullish(z.array(metricPropertyFilter)),
      }),
    ),
  }),
]);

export type SegmentCondition = z.output<typeof segmentCondition>;

/** `definition`: groups are AND-ed, the conditions inside a group OR-ed; neither may be empty. */
export const segmentDefinition = z.strictObject({
  condition_groups: z
    .array(
      z.strictObject({
        conditions: z
          .array(segmentCondition)
          .check(z.minLength(1, "A condition group needs at least one condition.")),
      }),
    )
    .check(z.minLength(1, "A segment definition needs at least one condition group.")),
});

export type SegmentDefinition = z.output<typeof segmentDefinition>;
