/**
 * Profiles: Create (201, 409 `duplicate_profile`), Get, Get Profiles (filters, sorts, cursor pages), Update
 * (PATCH: absent keeps, null clears, `meta.patch_properties`), and the profile's lists (`/lists`,
 * `/relationships/lists`), which its `lists` relationship links point at.
 */
import { collection } from "../collection.js";
import { Included, single, withIncluded } from "../documents.js";
import type { EmulatorContext, RouteRuntime, RouteTable } from "../env.js";
import { notFound } from "../errors.js";
import { timeOf } from "../filter-eval.js";
import { canonicalUrl, jsonApi } from "../json-api.js";
import { readQuery } from "../query.js";
import { readResourceBody } from "../request-documents.js";
import { listIdsOf } from "../resources/lists-members.js";
import { listResource } from "../resources/lists-model.js";
import { insertProfile } from "../resources/profile-model.js";
import {
  applyProfilePatch,
  checkNewProfile,
  createProfileBody,
  newProfileAttributes,
  PROFILE_BODY_LIMIT,
  updateProfileBody,
} from "../resources/profiles-body.js";
import { namesSuppression, profileField, profileReadings } from "../resources/profiles-fields.js";
import {
  PROFILE_RELATIONSHIPS,
  PROFILE_RELATIONSHIPS_WITH_CONVERSATIONS,
  profileResource,
} from "../resources/profiles-render.js";
import type { EmulatorState, ProfileRow } from "../state.js";

function requireProfile(state: EmulatorState, id: string): ProfileRow {
  const row = state.profiles.get(id);
  if (!row) throw notFound(`A profile with id '${id}' does not exist.`);
  return row;
}

/** The profile handlers, over `state`. */
export function profileRoutes(state: EmulatorState, runtime: RouteRuntime): RouteTable {
  const id = (c: EmulatorContext) => c.get("params").id ?? "";

  return {
    async create_profile(c) {
      const query = readQuery(c);
      const body = await readResourceBody(c, createProfileBody, {
        type: "profile",
        limit: PROFILE_BODY_LIMIT,
      });
      const input = body.data.attributes;
      checkNewProfile(state, input);
      const row = insertProfile(state, newProfileAttributes(input), runtime.now());
      const data = profileResource(state, query, row, { relationships: PROFILE_RELATIONSHIPS });
      return single(data.links.self, data, undefined, 201);
    },

    get_profile(c) {
      const query = readQuery(c);
      const row = requireProfile(state, id(c));
      const included = new Included();
      const data = profileResource(state, query, row, {
        relationships: PROFILE_RELATIONSHIPS_WITH_CONVERSATIONS,
        included,
      });
      return withIncluded(c.req.url, query, data, included);
    },

    get_profiles(c) {
      const created = (row: ProfileRow) => timeOf(profileField(row, "created"));
      const params = new URL(c.req.url).searchParams;
      // A profile has several suppressions (one per reason, one per list): a filter or sort on their members
      // reads each in turn (profiles-fields.ts).
      const multi = namesSuppression(`${params.get("filter") ?? ""} ${params.get("sort") ?? ""}`);
      return collection(c, {
        rows: state.profiles.values(),
        field: profileField,
        ...(multi ? { readings: profileReadings } : {}),
        // Klaviyo sets `created` when a profile is made and never changes it; the check still guards a store
        // whose rows came in out of time order (a snapshot written by hand, a clock set back in a test).
        ...(state.profiles.nonDecreasing("created", created)
          ? { timeOrdered: { rows: state.profiles.ordered(), field: "created" } }
          : {}),
        render: (row, query, included) =>
          profileResource(state, query, row, {
            relationships: PROFILE_RELATIONSHIPS_WITH_CONVERSATIONS,
            included,
          }),
      });
    },

    async update_profile(c) {
      const query = readQuery(c);
      const row = requireProfile(state, id(c));
      const body = await readResourceBody(c, updateProfileBody, {
        type: "profile",
        id: row.id,
        limit: PROFILE_BODY_LIMIT,
      });
      applyProfilePatch(state, row, body.data.attributes, body.data.meta?.patch_properties, runtime.now());
      return single(c.req.url, profileResource(state, query, row, { relationships: PROFILE_RELATIONSHIPS }));
    },

    get_lists_for_profile(c) {
      const query = readQuery(c);
      const row = requireProfile(state, id(c));
      const data = listIdsOf(state, row.id).flatMap((listId) => {
        const list = state.lists.get(listId);
        return list ? [listResource(state, query, list)] : [];
      });
      return jsonApi({ data, links: { self: canonicalUrl(c.req.url) } });
    },

    get_list_ids_for_profile(c) {
      const row = requireProfile(state, id(c));
      const data = listIdsOf(state, row.id).map((listId) => ({ type: "list", id: listId }));
      return jsonApi({ data, links: { self: canonicalUrl(c.req.url) } });
    },
  };
}
