/**
 * Segments as Klaviyo stores and returns them: the request schemas of Create and Update Segment, the checks a
 * definition needs beyond its shape (the lists, segments and metrics it names must exist), and the resource
 * object, with `profile_count` computed from the state when asked for.
 */
import * as v from "valibot";
import { segmentDefinition } from "../../klaviyo/segment-conditions.js";
import { type Included, type JsonApiResource, relationshipLinks, resource } from "../documents.js";
import type { QueryContext } from "../query.js";
import type { EmulatorState } from "../state.js";
import { isoNow, type ResourceRow, shortId } from "../store.js";
import { segmentMembers } from "./segments-members.js";
import { tagsRelationship } from "./tags-model.js";

/** The path segment of segment URLs (`/api/segments/{id}/`). */
export const SEGMENT_PATH = "segments";

const name = v.pipe(v.string(), v.trim(), v.minLength(1, "The segment name cannot be blank."));

/** `SegmentCreateQuery`: `name` and `definition` required, `is_starred` optional. */
export const createSegmentBody = v.strictObject({
  data: v.strictObject({
    type: v.literal("segment"),
    attributes: v.strictObject({
      name,
      definition: segmentDefinition,
      is_starred: v.nullish(v.boolean()),
    }),
  }),
});

/** `SegmentPartialUpdateQuery`: every attribute optional; a null one keeps its value (none can be cleared). */
export const updateSegmentBody = v.strictObject({
  data: v.strictObject({
    type: v.literal("segment"),
    id: v.string(),
    attributes: v.strictObject({
      definition: v.nullish(segmentDefinition),
      name: v.nullish(name),
      is_starred: v.nullish(v.boolean()),
      is_active: v.nullish(v.boolean()),
    }),
  }),
});

export type SegmentDefinitionInput = v.InferOutput<typeof segmentDefinition>;

/**
 * Every reference in a definition that names nothing: `group_ids` that are neither a list nor a segment (nor
 * the segment itself, which cannot contain itself), and metric ids the account has no metric for. Each comes
 * with the pointer of the member, under `base` (`/data/attributes/definition`).
 */
export function definitionProblems(
  state: EmulatorState,
  definition: SegmentDefinitionInput,
  base: string,
  selfId?: string,
): Array<{ pointer: string; detail: string }> {
  const problems: Array<{ pointer: string; detail: string }> = [];
  definition.condition_groups.forEach((group, g) => {
    group.conditions.forEach((raw, i) => {
      const condition = raw as Record<string, unknown>;
      const at = `${base}/condition_groups/${g}/conditions/${i}`;
      if (condition.type === "profile-group-membership") {
        (condition.group_ids as string[]).forEach((id, k) => {
          if (id === selfId) {
            problems.push({
              pointer: `${at}/group_ids/${k}`,
              detail: "A segment cannot be defined by its own membership.",
            });
          } else if (!state.lists.get(id) && !state.segments.get(id)) {
            problems.push({
              pointer: `${at}/group_ids/${k}`,
              detail: `There is no list or segment with id '${id}'.`,
            });
          }
        });
      }
      const metrics: Array<[string, unknown]> =
        condition.type === "profile-metric"
          ? [[`${at}/metric_id`, condition.metric_id]]
          : condition.type === "profile-metric-funnel"
            ? (condition.steps as Array<{ metric_id: string }>).map((s, k) => [
                `${at}/steps/${k}/metric_id`,
                s.metric_id,
              ])
            : [];
      for (const [pointer, id] of metrics) {
        if (!state.metrics.get(String(id)))
          problems.push({ pointer, detail: `There is no metric with id '${String(id)}'.` });
      }
    });
  });
  return problems;
}

/** A fresh segment id that no list or segment has (group ids share one namespace in definitions). */
function freshId(state: EmulatorState): string {
  let id = shortId();
  while (state.lists.get(id) || state.segments.get(id)) id = shortId();
  return id;
}

/** Stores a new, active segment. */
export function insertSegment(
  state: EmulatorState,
  input: { name: string; definition: SegmentDefinitionInput; is_starred?: boolean | null | undefined },
  now: number,
): ResourceRow {
  const stamp = isoNow(now);
  return state.segments.insert({
    id: freshId(state),
    seq: state.segments.seq(),
    attributes: {
      name: input.name,
      definition: input.definition,
      created: stamp,
      updated: stamp,
      is_active: true,
      // Membership is evaluated on demand, so a segment is never seen mid-processing.
      is_processing: false,
      is_starred: input.is_starred ?? false,
    },
  });
}

/**
 * The segment resource object; `profile_count` when `additional-fields[segment]` asks for it (membership judged
 * at `now`, the emulator's clock).
 */
export function renderSegment(
  state: EmulatorState,
  row: ResourceRow,
  query: QueryContext,
  now: number,
  included?: Included,
): JsonApiResource {
  const attributes: Record<string, unknown> = { ...row.attributes };
  if (query.additional.get("segment")?.has("profile_count")) {
    attributes.profile_count = segmentMembers(state, row, now).size;
  }
  const link = (relation: string) => relationshipLinks(query, SEGMENT_PATH, row.id, relation);
  // Flows are not linked to segments here: asked for, they are an empty relationship; tags are kept.
  const asked = (relation: string) => (query.include.has(relation) ? { data: [] } : {});
  return resource(query, "segment", SEGMENT_PATH, row.id, attributes, {
    profiles: { links: link("profiles") },
    tags: tagsRelationship(state, "segments", row.id, query, link("tags"), included),
    "flow-triggers": { ...asked("flow-triggers"), links: link("flow-triggers") },
  });
}
