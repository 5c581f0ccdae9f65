/**
 * Lists: Create (201), Get (with `profile_count` on request), Get Lists (10 per page), Update, Delete (its
 * memberships go too), the members (`/profiles`, joining order, `joined_group_at`), and adding / removing
 * members through `/relationships/profiles` (204).
 */
import * as v from "valibot";
import { collection } from "../collection.js";
import { empty, Included, single, withIncluded } from "../documents.js";
import type { EmulatorContext, RouteRuntime, RouteTable } from "../env.js";
import { EmulatorProblem } from "../errors.js";
import { jsonApi } from "../json-api.js";
import { readQuery } from "../query.js";
import { invalidAt, readRelationshipBody, readResourceBody } from "../request-documents.js";
import { addMember, listMembers, type MemberRow, removeMember } from "../resources/lists-members.js";
import {
  DEFAULT_OPT_IN,
  insertList,
  listResource,
  OPT_IN_PROCESSES,
  requireList,
} from "../resources/lists-model.js";
import { PROFILE_RELATIONSHIPS, profileResource } from "../resources/profiles-render.js";
import type { EmulatorState } from "../state.js";
import { isoNow } from "../store.js";

const name = v.pipe(
  v.string(),
  v.check((value) => value.trim() !== "", "The list name may not be blank."),
);
const optIn = v.optional(v.nullable(v.picklist(OPT_IN_PROCESSES)));

const createListBody = v.strictObject({
  data: v.strictObject({
    type: v.literal("list"),
    attributes: v.strictObject({ name, opt_in_process: optIn }),
  }),
});

const updateListBody = v.strictObject({
  data: v.strictObject({
    type: v.literal("list"),
    id: v.string(),
    attributes: v.strictObject({ name: v.optional(v.nullable(name)), opt_in_process: optIn }),
  }),
});

/** Add / Remove Profiles: Klaviyo takes at most 1,000 profiles per call. */
export const MAX_LIST_RELATIONSHIPS = 1000;

const relationshipBody = v.strictObject({
  data: v.pipe(
    v.array(v.strictObject({ type: v.literal("profile"), id: v.pipe(v.string(), v.minLength(1)) })),
    v.maxLength(MAX_LIST_RELATIONSHIPS, `At most ${MAX_LIST_RELATIONSHIPS} profiles can be given per call.`),
  ),
});

/** The list handlers, over `state`. */
export function listRoutes(state: EmulatorState, runtime: RouteRuntime): RouteTable {
  const listOf = (c: EmulatorContext) => requireList(state, c.get("params").id ?? "");

  const memberField = (row: MemberRow, field: string): unknown =>
    field === "joined_group_at" ? row.joined : row.profile.attributes[field];

  /** The profile ids of a relationship body, each checked to exist (404 naming the first that does not). */
  async function profileIds(c: EmulatorContext): Promise<string[]> {
    const body = await readRelationshipBody(c, relationshipBody, "profile");
    body.data.forEach((item, i) => {
      if (!state.profiles.get(item.id)) {
        throw new EmulatorProblem({
          status: 404,
          code: "not_found",
          title: "Not found.",
          detail: `A profile with id '${item.id}' does not exist.`,
          source: { pointer: `/data/${i}/id` },
        });
      }
    });
    return body.data.map((item) => item.id);
  }

  return {
    async create_list(c) {
      const query = readQuery(c);
      const body = await readResourceBody(c, createListBody, { type: "list" });
      const { name: listName, opt_in_process } = body.data.attributes;
      const row = insertList(state, listName, opt_in_process ?? DEFAULT_OPT_IN, runtime.now());
      const data = listResource(state, query, row);
      return single(data.links.self, data, undefined, 201);
    },

    get_list(c) {
      const query = readQuery(c);
      const row = listOf(c);
      const included = new Included();
      const data = listResource(state, query, row, included);
      return withIncluded(c.req.url, query, data, included);
    },

    get_lists(c) {
      return collection(c, {
        rows: state.lists.values(),
        field: (row, field) => (field === "id" ? row.id : row.attributes[field]),
        render: (row, query, included) => listResource(state, query, row, included),
      });
    },

    async update_list(c) {
      const query = readQuery(c);
      const row = listOf(c);
      const body = await readResourceBody(c, updateListBody, { type: "list", id: row.id });
      const { name: listName, opt_in_process } = body.data.attributes;
      // A list always has a name, and an opt-in process: null cannot clear either, it leaves them as they are.
      if (listName === null) throw invalidAt("/data/attributes/name", "The list name may not be null.");
      row.attributes = {
        ...row.attributes,
        ...(listName !== undefined ? { name: listName } : {}),
        ...(opt_in_process ? { opt_in_process } : {}),
        updated: isoNow(runtime.now()),
      };
      return single(c.req.url, listResource(state, query, row));
    },

    delete_list(c) {
      const row = listOf(c);
      state.lists.delete(row.id);
      state.memberships.delete(row.id);
      return empty(204);
    },

    get_profiles_for_list(c) {
      const list = listOf(c);
      return collection(c, {
        rows: listMembers(state, list.id),
        field: memberField,
        render: (row, query) =>
          profileResource(state, query, row.profile, {
            relationships: PROFILE_RELATIONSHIPS,
            extra: { joined_group_at: row.joined },
          }),
      });
    },

    async get_profile_ids_for_list(c) {
      const list = listOf(c);
      const page = collection(c, {
        rows: listMembers(state, list.id),
        field: memberField,
        render: (row, query) => profileResource(state, query, row.profile, { relationships: [] }),
      });
      // Same walk as the members endpoint; only identifiers are sent.
      const body = (await page.json()) as { data: Array<{ type: string; id: string }> };
      return jsonApi({ ...body, data: body.data.map(({ type, id }) => ({ type, id })) }, page.status);
    },

    async add_profiles_to_list(c) {
      const list = listOf(c);
      const ids = await profileIds(c);
      const now = runtime.now();
      for (const profileId of ids) addMember(state, list.id, profileId, now);
      return empty(204);
    },

    async remove_profiles_from_list(c) {
      const list = listOf(c);
      for (const profileId of await profileIds(c)) removeMember(state, list.id, profileId);
      return empty(204);
    },
  };
}
