/**
 * A segment's `definition` (`condition_groups[].conditions[]`) as Klaviyo's OpenAPI document defines it: every
 * condition type of the document, chosen by `type` (then `is_member`, `dimension`, `channel`, …), with its
 * required members and enums. An unknown type, a missing member or a value outside an enum is a 400 pointing at
 * that member (`/data/attributes/definition/condition_groups/0/conditions/1/type`).
 */
import * as v from "valibot";
import { typed } from "./schema.js";
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
const predictedChannel = v.picklist(["email", "push", "sms", "whatsapp"]);

const groupMembership = choice("is_member", "is_member", [
  v.strictObject({
    type: v.literal("profile-group-membership"),
    is_member: v.literal(true),
    group_ids: v.pipe(v.array(v.string()), v.minLength(1, "Name at least one list or segment.")),
    timeframe_filter: v.nullish(groupTimeframe),
  }),
  v.strictObject({
    type: v.literal("profile-group-membership"),
    is_member: v.literal(false),
    group_ids: v.pipe(v.array(v.string()), v.minLength(1, "Name at least one list or segment.")),
  }),
]);

const profileMetric = v.strictObject({
  type: v.literal("profile-metric"),
  metric_id: v.string(),
  measurement: v.picklist(["count", "sum"]),
  measurement_filter: numericFilter,
  timeframe_filter: choice("operator", "date filter operator", [
    staticDate,
    staticDateRange,
    relativeDate,
    relativeAnniversary,
    relativeDateRange,
    alltime,
  ]),
  metric_filters: v.nullish(v.array(metricPropertyFilter)),
});

const predictive = choice("dimension", "predictive analytics dimension", [
  v.strictObject({
    type: v.literal("profile-predictive-analytics"),
    dimension: v.literal("expected_date_of_next_purchase"),
    filter: anyDate,
  }),
  v.strictObject({
    type: v.literal("profile-predictive-analytics"),
    dimension: v.picklist([
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
  v.strictObject({
    type: v.literal("profile-predictive-analytics"),
    dimension: v.literal("predicted_gender"),
    filter: v.strictObject({
      type: v.literal("string"),
      operator: v.picklist(["equals", "not-equals"]),
      value: v.picklist(["likely_female", "likely_male", "uncertain"]),
    }),
  }),
  choice("measurement", "channel affinity measurement", [
    v.strictObject({
      type: v.literal("profile-predictive-analytics"),
      dimension: v.literal("channel_affinity"),
      measurement: v.literal("priority"),
      predicted_channel: predictedChannel,
      filter: v.strictObject({
        type: v.literal("numeric"),
        operator: v.literal("equals"),
        value: v.pipe(v.number(), v.finite(), v.integer()),
      }),
    }),
    v.strictObject({
      type: v.literal("profile-predictive-analytics"),
      dimension: v.literal("channel_affinity"),
      measurement: v.literal("rank"),
      predicted_channel: predictedChannel,
      filter: v.strictObject({
        type: v.literal("string"),
        operator: v.picklist(["equals", "not-equals"]),
        value: v.picklist(["high", "low", "medium"]),
      }),
    }),
  ]),
]);

/** One condition: every type the document's `ConditionGroup.conditions` union lists. */
export const segmentCondition = typed(
  choice("type", "condition type", [
    groupMembership,
    profileMetric,
    v.strictObject({ type: v.literal("profile-marketing-consent"), consent: marketingConsent }),
    v.strictObject({
      type: v.literal("profile-postal-code-distance"),
      country_code: v.string(),
      postal_code: v.string(),
      unit: v.picklist(["kilometers", "miles"]),
      filter: choice("operator", "filter operator", [
        v.strictObject({
          type: v.literal("numeric"),
          operator: v.literal("greater-than"),
          value: v.pipe(v.number(), v.finite()),
        }),
        v.strictObject({
          type: v.literal("numeric"),
          operator: v.literal("less-than"),
          value: v.pipe(v.number(), v.finite()),
        }),
      ]),
    }),
    v.strictObject({
      type: v.literal("profile-property"),
      property: v.pipe(v.string(), v.minLength(1)),
      filter: propertyFilter,
    }),
    v.strictObject({
      type: v.literal("profile-region"),
      in_region: v.boolean(),
      region: v.picklist(["european_union", "united_states"]),
    }),
    predictive,
    v.strictObject({
      type: v.literal("profile-has-custom-object"),
      object_type_id: v.string(),
      object_type_relationship_id: v.string(),
      filter: integerFilter,
      filters: v.array(customObjectFilter),
    }),
    v.strictObject({
      type: v.literal("profile-permissions"),
      permission,
      channel: v.picklist(["whatsapp_marketing", "whatsapp_transactional"]),
    }),
    v.strictObject({
      type: v.literal("profile-metric-funnel"),
      timeframe_filter: choice("operator", "date filter operator", [
        staticDateRange,
        relativeDateRange,
        relativeDate,
      ]),
      completion_window_seconds: v.nullish(
        v.picklist([
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
      steps: v.array(
        v.strictObject({
          metric_exists: v.boolean(),
          metric_id: v.string(),
          metric_filters: v.nullish(v.array(metricPropertyFilter)),
        }),
      ),
    }),
  ]),
);

export type SegmentCondition = v.InferOutput<typeof segmentCondition>;

/** `definition.condition_groups`: groups are AND-ed, the conditions inside a group OR-ed; neither may be empty. */
export const conditionGroups = typed(
  v.pipe(
    v.array(
      v.strictObject({
        conditions: v.pipe(
          v.array(segmentCondition),
          v.minLength(1, "A condition group needs at least one condition."),
        ),
      }),
    ),
    v.minLength(1, "A segment definition needs at least one condition group."),
  ),
);

/** `definition`: its condition groups. */
export const segmentDefinition = typed(v.strictObject({ condition_groups: conditionGroups }));

export type SegmentDefinition = v.InferOutput<typeof segmentDefinition>;
