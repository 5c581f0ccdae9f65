import { z } from "../core/schema.js";
// The document's condition schemas, which the emulator also judges requests by (pure schemas, no emulator state).
import { segmentDefinition } from "../klaviyo/segment-conditions.js";
import { reportProblems } from "./events-shared.js";
import { documentProblems, type InputDefinition, input } from "./inputs.js";

/** One of a segment definition's condition groups: `{ conditions: [...] }`, each condition chosen by `type`. */
export interface ConditionGroup {
  conditions: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The condition groups of a segment definition, as a JSON array or as the whole definition object
 * (`{"condition_groups": [...]}`, as Get Segment returns it). The outline is checked first (a non-empty array of
 * groups, each with a non-empty `conditions` array of objects that name their `type`), then every condition as
 * Klaviyo's document defines its type (members, enums, filters), each problem named by where it is
 * (`condition_groups[0].conditions[1].is_member: …`). Only what depends on the account (do the lists, segments
 * and metrics named exist?) is left to Klaviyo.
 */
const conditionGroupsSchema = z.unknown().transform((value, ctx): ConditionGroup[] => {
  const fail = (message: string) => ctx.addIssue({ code: "custom", message });
  const groups = isObject(value) && "condition_groups" in value ? value.condition_groups : value;
  if (!Array.isArray(groups)) {
    fail(
      'must be a JSON array of condition groups, [{"conditions": [...]}], or a definition {"condition_groups": [...]}',
    );
    return z.NEVER;
  }
  if (groups.length === 0) fail('must hold at least one condition group ({"conditions": [...]})');
  let outlined = groups.length > 0;
  groups.forEach((group: unknown, g) => {
    if (!isObject(group)) {
      fail(`condition_groups[${g}] must be an object {"conditions": [...]}`);
      outlined = false;
      return;
    }
    const conditions = group.conditions;
    if (!Array.isArray(conditions) || conditions.length === 0) {
      fail(`condition_groups[${g}] needs a non-empty "conditions" array`);
      outlined = false;
      return;
    }
    conditions.forEach((condition: unknown, c) => {
      if (!isObject(condition) || typeof condition.type !== "string") {
        fail(
          `condition_groups[${g}].conditions[${c}] must be an object with a "type" (profile-group-membership, profile-property, profile-metric, …)`,
        );
        outlined = false;
      }
    });
  });
  // Then each condition as the document defines its type: what Klaviyo would refuse, refused here.
  if (outlined) reportProblems(ctx, documentProblems(segmentDefinition, { condition_groups: groups }));
  return groups as ConditionGroup[];
});

const ITEM_SCHEMA = {
  type: "object",
  required: ["conditions"],
  properties: { conditions: { type: "array", minItems: 1, items: { type: "object", required: ["type"] } } },
};

/** The `Segment Condition Groups` input, required on Create Segment, optional on Update Segment. */
export function conditionGroupsInput<R extends boolean>(required: R): InputDefinition<ConditionGroup[], R> {
  const definition = input.json<ConditionGroup[], R>(
    {
      key: "conditionGroups",
      label: "Segment Condition Groups",
      required,
      comments:
        'The rules that decide who is in the segment (Klaviyo\'s definition.condition_groups): a JSON array of groups, each {"conditions": [...]}, or a whole definition {"condition_groups": [...]} as Get Segment returns it. A profile must match every group, and within a group any one of its conditions. Each condition names its type: profile-group-membership (in a list or segment, with group_ids), profile-property (a profile property against a filter), profile-metric (how often or how much a metric happened in a timeframe), profile-marketing-consent, profile-region, profile-postal-code-distance, profile-predictive-analytics and others. The ids a condition names must exist; Klaviyo checks every condition and points at the one it refuses.' +
        (required
          ? ""
          : " On update the new groups replace the whole definition; leave empty to keep the current one."),
      example:
        '[{"conditions":[{"type":"profile-group-membership","is_member":true,"group_ids":["Y6nRLr"]}]}]',
    },
    "any",
    conditionGroupsSchema,
  );
  return {
    ...definition,
    jsonSchema: {
      oneOf: [
        { type: "array", minItems: 1, items: ITEM_SCHEMA },
        {
          type: "object",
          required: ["condition_groups"],
          properties: { condition_groups: { type: "array", minItems: 1, items: ITEM_SCHEMA } },
        },
      ],
    },
  };
}

/** Text that must hold something besides spaces (a name Klaviyo would refuse as blank). */
export const nonBlankText = z.string({ error: "must be text" }).trim().min(1, { error: "must not be blank" });
