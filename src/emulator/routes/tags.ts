/**
 * Tags: List (50 per page, `name` filters, `id` / `name` sorts, `include=tag-group`), Create (201, into the default
 * tag group unless the body names one), Get, Delete (its links go with it), the tag's tag group, linking and
 * unlinking lists, segments, campaigns and flows (`/api/tags/{id}/relationships/{kind}`, 204) and reading those
 * links from either side (`/api/tags/{id}/relationships/lists`, `/api/lists/{id}/tags`, …). Tag groups: List
 * (25 per page) and Get.
 */
import * as v from "valibot";
import { collection } from "../collection.js";
import { empty, Included, single } from "../documents.js";
import type { EmulatorContext, OperationHandler, RouteTable } from "../env.js";
import { notFound } from "../errors.js";
import { canonicalUrl, jsonApi } from "../json-api.js";
import { readQuery } from "../query.js";
import { readRelationshipBody, readResourceBody } from "../request-documents.js";
import {
  defaultTagGroup,
  insertTag,
  linkedIds,
  relinkTag,
  renderTag,
  renderTagGroup,
  requireTag,
  requireTagGroup,
  TAGGABLE,
  type Taggable,
  tagsOn,
} from "../resources/tags-model.js";
import type { EmulatorState } from "../state.js";
import type { ResourceRow, Table } from "../store.js";

const tagName = v.pipe(
  v.string(),
  v.check((value) => value.trim() !== "", "The tag name may not be blank."),
);

const createTagBody = v.strictObject({
  data: v.strictObject({
    type: v.literal("tag"),
    attributes: v.strictObject({ name: tagName }),
    relationships: v.optional(
      v.strictObject({
        "tag-group": v.strictObject({
          data: v.strictObject({ type: v.literal("tag-group"), id: v.pipe(v.string(), v.minLength(1)) }),
        }),
      }),
    ),
  }),
});

const relationshipBody = (type: string) =>
  v.strictObject({
    data: v.array(v.strictObject({ type: v.literal(type), id: v.pipe(v.string(), v.minLength(1)) })),
  });

const RESOURCE_SINGULAR: Readonly<Record<Taggable, string>> = {
  lists: "list",
  segments: "segment",
  campaigns: "campaign",
  flows: "flow",
};

/** The tag and tag-group handlers, over `state`. */
export function tagRoutes(state: EmulatorState): RouteTable {
  const tagOf = (c: EmulatorContext) => requireTag(state, c.get("params").id ?? "");

  const routes: Record<string, OperationHandler> = {
    get_tags(c) {
      return collection(c, {
        rows: state.tags.values(),
        field: (row, field) => (field === "id" ? row.id : row.attributes[field]),
        render: (row, query, included) => renderTag(state, query, row, included),
      });
    },

    async create_tag(c) {
      const query = readQuery(c);
      const body = await readResourceBody(c, createTagBody, { type: "tag" });
      const groupId = body.data.relationships?.["tag-group"].data.id;
      const row = insertTag(state, body.data.attributes.name, groupId);
      return single(c.req.url, renderTag(state, query, row), undefined, 201);
    },

    get_tag(c) {
      const query = readQuery(c);
      const included = new Included();
      const data = renderTag(state, query, tagOf(c), included);
      return single(c.req.url, data, included);
    },

    delete_tag(c) {
      const row = tagOf(c);
      state.tags.delete(row.id);
      return empty(204);
    },

    get_tag_group_for_tag(c) {
      const row = tagOf(c);
      return single(c.req.url, renderTagGroup(readQuery(c), requireTagGroup(state, row.groupId)));
    },

    get_tag_group_id_for_tag(c) {
      const row = tagOf(c);
      return jsonApi({
        data: { type: "tag-group", id: row.groupId },
        links: { self: canonicalUrl(c.req.url) },
      });
    },

    get_tag_groups(c) {
      defaultTagGroup(state);
      return collection(c, {
        rows: state.tagGroups.values(),
        field: (row, field) => (field === "id" ? row.id : row.attributes[field]),
        render: (row, query) => renderTagGroup(query, row),
      });
    },

    get_tag_group(c) {
      const row = requireTagGroup(state, c.get("params").id ?? "");
      return single(c.req.url, renderTagGroup(readQuery(c), row));
    },
  };

  for (const kind of Object.keys(TAGGABLE) as Taggable[]) {
    const type = TAGGABLE[kind].type;
    const singular = RESOURCE_SINGULAR[kind];
    const table = state[TAGGABLE[kind].table] as unknown as Table<ResourceRow>;
    const body = relationshipBody(type);
    const resourceOf = (c: EmulatorContext) => {
      const id = c.get("params").id ?? "";
      if (!table.get(id)) throw notFound(`A ${type} with id '${id}' does not exist.`);
      return id;
    };

    routes[`tag_${kind}`] = async (c) => {
      const tag = tagOf(c);
      const { data } = await readRelationshipBody(c, body, type);
      relinkTag(
        state,
        tag,
        kind,
        data.map((item) => item.id),
        true,
      );
      return empty(204);
    };

    routes[`remove_tag_from_${kind}`] = async (c) => {
      const tag = tagOf(c);
      const { data } = await readRelationshipBody(c, body, type);
      relinkTag(
        state,
        tag,
        kind,
        data.map((item) => item.id),
        false,
      );
      return empty(204);
    };

    routes[`get_${singular}_ids_for_tag`] = (c) => {
      const tag = tagOf(c);
      const data = linkedIds(state, tag, kind).map((id) => ({ type, id }));
      return jsonApi({ data, links: { self: canonicalUrl(c.req.url) } });
    };

    routes[`get_tag_ids_for_${singular}`] = (c) => {
      const data = tagsOn(state, kind, resourceOf(c)).map((tag) => ({ type: "tag", id: tag.id }));
      return jsonApi({ data, links: { self: canonicalUrl(c.req.url) } });
    };

    routes[`get_tags_for_${singular}`] = (c) => {
      const query = readQuery(c);
      const data = tagsOn(state, kind, resourceOf(c)).map((tag) => renderTag(state, query, tag));
      return jsonApi({ data, links: { self: canonicalUrl(c.req.url) } });
    };
  }
  return routes;
}
