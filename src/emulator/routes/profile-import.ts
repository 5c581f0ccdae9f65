/**
 * Bulk Import Profiles: create a job (202 with the job, `queued`; 413 past 5 MB, 400 past 10,000 profiles or
 * for a profile over 100 KB), read it (its status moves on per read: see `profile-import-jobs.ts`), list jobs
 * (filter on status, sort on created_at), its import errors (paginated), its profiles and its list.
 */
import { readJson, validate } from "../body.js";
import { collection } from "../collection.js";
import { type JsonApiResource, type Relationship, relationshipLinks, resource } from "../documents.js";
import type { EmulatorContext, RouteRuntime, RouteTable } from "../env.js";
import { notFound } from "../errors.js";
import { canonicalUrl, jsonApi, selfLink } from "../json-api.js";
import { type QueryContext, readQuery } from "../query.js";
import { checkType, invalidAt, memberAt } from "../request-documents.js";
import { listResource } from "../resources/lists-model.js";
import {
  advanceImportJob,
  checkImportJob,
  IMPORT_JOB_LIMITS,
  type ImportJobRow,
  importJobBody,
  runImportJob,
} from "../resources/profile-import-jobs.js";
import { profileResource } from "../resources/profiles-render.js";
import type { EmulatorState, ProfileRow } from "../state.js";

const PATH = "profile-bulk-import-jobs";

function jobResource(query: QueryContext, row: ImportJobRow): JsonApiResource {
  const a = row.attributes;
  return resource(
    query,
    "profile-bulk-import-job",
    PATH,
    row.id,
    {
      status: a.status,
      created_at: a.created_at,
      total_count: a.total_count,
      completed_count: a.completed_count,
      failed_count: a.failed_count,
      completed_at: a.completed_at,
      expires_at: a.expires_at,
      started_at: a.started_at,
    },
    {
      lists: {
        data: row.listIds.map((id) => ({ type: "list", id })),
        links: relationshipLinks(query, PATH, row.id, "lists"),
      },
      profiles: { links: relationshipLinks(query, PATH, row.id, "profiles") },
      // Only a related link (`OnlyRelatedLinks`): the errors are not a relationship one can change.
      "import-errors": {
        links: { related: `${selfLink(query.origin, PATH, row.id)}import-errors/` },
      } as Relationship,
    },
  );
}

/** The import job handlers, over `state`. */
export function profileImportRoutes(state: EmulatorState, runtime: RouteRuntime): RouteTable {
  const job = (c: EmulatorContext, param: "id" | "job_id"): ImportJobRow => {
    const id = c.get("params")[param] ?? "";
    const row = state.profileImportJobs.get(id);
    if (!row) throw notFound(`A profile bulk import job with id '${id}' does not exist.`);
    return row;
  };

  return {
    async bulk_import_profiles(c) {
      const query = readQuery(c);
      const raw = await readJson(c, IMPORT_JOB_LIMITS.bytes);
      checkType(memberAt(raw, "data"), "/data", "profile-bulk-import-job");
      const profiles = memberAt(raw, "data", "attributes", "profiles", "data");
      if (Array.isArray(profiles)) {
        if (profiles.length > IMPORT_JOB_LIMITS.profiles)
          throw invalidAt(
            "/data/attributes/profiles/data",
            `A job takes at most ${IMPORT_JOB_LIMITS.profiles} profiles; this one has ${profiles.length}.`,
          );
        for (const [i, item] of profiles.entries())
          checkType(item, `/data/attributes/profiles/data/${i}`, "profile");
      }
      const lists = memberAt(raw, "data", "relationships", "lists", "data");
      if (Array.isArray(lists))
        for (const [i, item] of lists.entries())
          checkType(item, `/data/relationships/lists/data/${i}`, "list");
      const body = validate(importJobBody, raw);
      const listIds = checkImportJob(state, body);
      const row = runImportJob(state, body, listIds, runtime.now());
      return jsonApi({ data: jobResource(query, row), links: { self: canonicalUrl(c.req.url) } }, 202);
    },

    get_bulk_import_profiles_job(c) {
      const query = readQuery(c);
      const row = job(c, "job_id");
      advanceImportJob(row, runtime.now());
      const included = query.include.has("lists")
        ? row.listIds.flatMap((id) => {
            const list = state.lists.get(id);
            return list ? [listResource(state, query, list)] : [];
          })
        : undefined;
      return jsonApi({
        data: jobResource(query, row),
        ...(included ? { included } : {}),
        links: { self: canonicalUrl(c.req.url) },
      });
    },

    get_bulk_import_profiles_jobs(c) {
      const now = runtime.now();
      for (const row of state.profileImportJobs.values()) advanceImportJob(row, now);
      return collection(c, {
        rows: state.profileImportJobs.values(),
        field: (row, name) => row.attributes[name],
        render: (row, query) => jobResource(query, row),
      });
    },

    get_errors_for_bulk_import_profiles_job(c) {
      const row = job(c, "id");
      return collection(c, {
        rows: row.errors,
        field: (error, name) => error.attributes[name as keyof typeof error.attributes],
        render: (error, query) => {
          const { attributes } = resource(query, "import-error", PATH, error.id, error.attributes);
          return { type: "import-error", id: error.id, attributes } as JsonApiResource;
        },
      });
    },

    get_profiles_for_bulk_import_profiles_job(c) {
      const row = job(c, "id");
      const rows = row.profileIds.flatMap((id) => {
        const profile = state.profiles.get(id);
        return profile ? [profile] : [];
      });
      return collection<ProfileRow>(c, {
        rows,
        field: (profile, name) => profile.attributes[name],
        render: (profile, query) =>
          profileResource(state, query, profile, { relationships: ["lists", "segments", "push-tokens"] }),
      });
    },

    get_profile_ids_for_bulk_import_profiles_job(c) {
      const row = job(c, "id");
      return collection<ProfileRow>(c, {
        rows: row.profileIds.flatMap((id) => {
          const profile = state.profiles.get(id);
          return profile ? [profile] : [];
        }),
        field: (profile, name) => profile.attributes[name],
        render: (profile) => ({ type: "profile", id: profile.id }) as JsonApiResource,
      });
    },

    get_list_for_bulk_import_profiles_job(c) {
      const query = readQuery(c);
      const row = job(c, "id");
      const list = row.listIds[0] === undefined ? undefined : state.lists.get(row.listIds[0]);
      return jsonApi({
        data: list ? [listResource(state, query, list)] : [],
        links: { self: canonicalUrl(c.req.url) },
      });
    },

    get_list_ids_for_bulk_import_profiles_job(c) {
      const row = job(c, "id");
      return jsonApi({
        data: row.listIds.map((id) => ({ type: "list", id })),
        links: { self: canonicalUrl(c.req.url) },
      });
    },
  };
}
