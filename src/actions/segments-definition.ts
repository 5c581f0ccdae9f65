import * as v from "valibot";
import { isObject } from "../klaviyo/formats.js";
import { MAX_LISTED_PROBLEMS } from "../klaviyo/schema.js";
// The document's condition schemas, which the emulator also judges requests by.
import { conditionGroups, type SegmentDefinition, segmentDefinition } from "../klaviyo/segment-conditions.js";
import { documentProblems, input } from "./inputs.js";

/** One of a segment definition's condition groups: `{ conditions: [...] }`, each condition chosen by `type`. */
export interface ConditionGroup {
  conditions: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

/**
 * What is wrong with `value` as condition groups, when it is not even shaped as them: the outline (a non-empty
 * array of groups, each with a non-empty `conditions` array of objects that name their `type`), then every
 * condition as Klaviyo's document defines its type, each problem named by where it is
 * (`condition_groups[0].conditions[1].is_member: …`).
 */
function conditionGroupsProblems(value: unknown): string[] {
  const problems: string[] = [];
  const groups = isObject(value) && "condition_groups" in value ? value.condition_groups : value;
  if (!Array.isArray(groups))
    return [
      'must be a JSON array of condition groups, [{"conditions": [...]}], or a definition {"condition_groups": [...]}',
    ];
  if (groups.length === 0) problems.push('must hold at least one condition group ({"conditions": [...]})');
  let outlined = groups.length > 0;
  groups.forEach((group: unknown, g) => {
    if (!isObject(group)) {
      problems.push(`condition_groups[${g}] must be an object {"conditions": [...]}`);
      outlined = false;
      return;
    }
    const conditions = group.conditions;
    if (!Array.isArray(conditions) || conditions.length === 0) {
      problems.push(`condition_groups[${g}] needs a non-empty "conditions" array`);
      outlined = false;
      return;
    }
    conditions.forEach((condition: unknown, c) => {
      if (!isObject(condition) || typeof condition.type !== "string") {
        problems.push(
          `condition_groups[${g}].conditions[${c}] must be an object with a "type" (profile-group-membership, profile-property, profile-metric, …)`,
        );
        outlined = false;
      }
    });
  });
  if (outlined) problems.push(...documentProblems(segmentDefinition, { condition_groups: groups }));
  return problems;
}

/**
 * The condition groups of a segment definition, as a JSON array or as the whole definition object
 * (`{"condition_groups": [...]}`, as Get Segment returns it), each condition as Klaviyo's document defines its type.
 * Only what depends on the account (do the lists, segments and metrics named exist?) is left to Klaviyo.
 */
const conditionGroupsSchema = v.pipe(
  v.union([conditionGroups, segmentDefinition], (issue) => {
    const problems = conditionGroupsProblems(issue.input);
    const listed = problems.slice(0, MAX_LISTED_PROBLEMS);
    const more = problems.length - listed.length;
    return [...listed, ...(more > 0 ? [`and ${more} more problem${more > 1 ? "s" : ""}`] : [])].join("; ");
  }),
  v.transform((value) => (Array.isArray(value) ? value : value.condition_groups) as ConditionGroup[]),
);

/** The `Segment Condition Groups` input, required on Create Segment, optional on Update Segment. */
export function conditionGroupsInput<R extends boolean>(required: R) {
  return input.json<ConditionGroup[], R, SegmentDefinition | SegmentDefinition["condition_groups"]>(
    {
      key: "conditionGroups",
      label: "Segment Condition Groups",
      required,
      comments:
        'The rules that decide who is in the segment (Klaviyo\'s definition.condition_groups): a JSON array of groups, each {"conditions": [...]}, or a whole definition {"condition_groups": [...]} as Get Segment returns it. A profile must match every group, and within a group any one of its conditions. Each condition names its type: profile-group-membership (in a list or segment, with group_ids), profile-property (a profile property against a filter), profile-metric (how often or how much a metric happened in a timeframe), profile-marketing-consent, profile-region, profile-postal-code-distance, profile-predictive-analytics and others. The ids a condition names must exist; Klaviyo checks every condition and points at the one it refuses.' +
        (required
          ? ""
          : " On update the new groups replace the whole definition; leave empty to keep the current one."),
      example: '[{"conditions":[{"type":"profile-region","in_region":true,"region":"united_states"}]}]',
    },
    conditionGroupsSchema,
  );
}
