/**
 * Query Metric Aggregates' vocabulary, as Klaviyo's document (`MetricAggregateQuery`) gives it: what it measures,
 * its intervals, and the dimensions it groups and filters by. Shared by the action and the emulator.
 */
export const AGGREGATE_MEASUREMENTS = ["count", "sum_value", "unique"] as const;
export const AGGREGATE_INTERVALS = ["hour", "day", "week", "month"] as const;

/** The `by` dimensions of Klaviyo's document (`MetricAggregateQuery`). */
export const AGGREGATE_DIMENSIONS = [
  "$attributed_channel",
  "$attributed_flow",
  "$attributed_message",
  "$attributed_variation",
  "$campaign_channel",
  "$flow",
  "$flow_channel",
  "$message",
  "$message_send_cohort",
  "$usage_amount",
  "$value_currency",
  "$variation",
  "$variation_send_cohort",
  "Bot Click",
  "Bounce Type",
  "Campaign Name",
  "Client Canonical",
  "Client Name",
  "Client Type",
  "Email Domain",
  "Failure Source",
  "Failure Type",
  "From Number",
  "From Phone Region",
  "Inbox Provider",
  "List",
  "Message Format",
  "Message Name",
  "Message Type",
  "Method",
  "Segment Count",
  "Subject",
  "To Number",
  "To Phone Region",
  "URL",
  "form_id",
] as const;

/** Every sort the query takes: a dimension or a measurement, ascending or (`-`) descending. */
export const AGGREGATE_SORTS: readonly string[] = [
  ...AGGREGATE_DIMENSIONS,
  ...AGGREGATE_MEASUREMENTS,
].flatMap((key) => [key, `-${key}`]);
