/**
 * Segments: Create (201), Get (with `additional-fields[segment]=profile_count`), List (10 per page, Klaviyo's
 * filters and sorts), Update (PATCH; deactivating must be the only change), Delete (204), and the profiles in
 * a segment, whose membership is evaluated from the state on each request.
 */
import { collection } from "../collection.js";
import { empty, Included, single } from "../documents.js";
import type { EmulatorContext, RouteRuntime, RouteTable } from "../env.js";
import { EmulatorProblem, invalidBody, notFound } from "../errors.js";
import { readQuery } from "../query.js";
import { invalidMembers, readResourceBody } from "../request-documents.js";
import { PROFILE_RELATIONSHIPS, profileResource } from "../resources/profiles-render.js";
import { segmentMembers } from "../resources/segments-members.js";
import {
  createSegmentBody,
  definitionProblems,
  insertSegment,
  renderSegment,
  updateSegmentBody,
} from "../resources/segments-model.js";
import type { EmulatorState, ProfileRow } from "../state.js";
import { isoNow, type ResourceRow } from "../store.js";

const DEFINITION = "/data/attributes/definition";

function findSegment(state: EmulatorState, c: EmulatorContext): ResourceRow {
  const id = c.get("params").id ?? "";
  const row = state.segments.get(id);
  if (!row) throw notFound(`A segment with id '${id}' does not exist.`);
  return row;
}

function segmentField(row: ResourceRow, name: string): unknown {
  return name === "id" ? row.id : row.attributes[name];
}

/** The segment handlers, over `state`. */
export function segmentRoutes(state: EmulatorState, runtime: RouteRuntime): RouteTable {
  return {
    get_segments(c) {
      return collection(c, {
        rows: state.segments.values(),
        field: segmentField,
        render: (row, query, included) => renderSegment(state, row, query, runtime.now(), included),
      });
    },

    get_segment(c) {
      const query = readQuery(c);
      const row = findSegment(state, c);
      const included = new Included();
      return single(c.req.url, renderSegment(state, row, query, runtime.now(), included), included);
    },

    async create_segment(c) {
      const query = readQuery(c);
      const { attributes } = (await readResourceBody(c, createSegmentBody, { type: "segment" })).data;
      const problem = invalidMembers(definitionProblems(state, attributes.definition, DEFINITION));
      if (problem) throw problem;
      const row = insertSegment(state, attributes, runtime.now());
      return single(c.req.url, renderSegment(state, row, query, runtime.now()), undefined, 201);
    },

    async update_segment(c) {
      const query = readQuery(c);
      const row = findSegment(state, c);
      const { attributes } = (await readResourceBody(c, updateSegmentBody, { type: "segment", id: row.id }))
        .data;
      const given = Object.keys(attributes);
      if (attributes.is_active === false && given.length > 1) {
        throw new EmulatorProblem(
          invalidBody(
            "/data/attributes/is_active",
            "When deactivating a segment (is_active: false), is_active must be the only attribute in the request.",
          ),
        );
      }
      if (attributes.definition) {
        const problem = invalidMembers(definitionProblems(state, attributes.definition, DEFINITION, row.id));
        if (problem) throw problem;
      }
      // Null leaves a value as it is: a segment always has a name, a definition and both flags.
      const next = { ...row.attributes };
      if (attributes.name != null) next.name = attributes.name;
      if (attributes.definition != null) next.definition = attributes.definition;
      if (attributes.is_starred != null) next.is_starred = attributes.is_starred;
      if (attributes.is_active != null) next.is_active = attributes.is_active;
      next.updated = isoNow(runtime.now());
      row.attributes = next;
      return single(c.req.url, renderSegment(state, row, query, runtime.now()));
    },

    delete_segment(c) {
      const row = findSegment(state, c);
      state.segments.delete(row.id);
      return empty(204);
    },

    get_profiles_for_segment(c) {
      const segment = findSegment(state, c);
      const members = segmentMembers(state, segment, runtime.now());
      return collection<ProfileRow>(c, {
        rows: members.keys(),
        field: (row, name) =>
          name === "joined_group_at"
            ? members.get(row)
            : name === "profile_id" || name === "id"
              ? row.id
              : row.attributes[name],
        // As the list's members: the profile as Get Profile has it, with when it joined the segment.
        render: (row, query) =>
          profileResource(state, query, row, {
            relationships: PROFILE_RELATIONSHIPS,
            extra: { joined_group_at: members.get(row) },
          }),
      });
    },
  };
}
