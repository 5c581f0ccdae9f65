/**
 * The everyday profile operations beyond Create / Get / Update: Create or Update Profile (profile-import, 201 or
 * 200), Merge Profiles (201), Request Profile Deletion (202, no body), Bulk Suppress and Bulk Unsuppress
 * Profiles (202 with the job) and their jobs, one by id or all.
 */
import { readJson, validate } from "../body.js";
import { collection } from "../collection.js";
import { empty, single } from "../documents.js";
import type { EmulatorContext, RouteRuntime, RouteTable } from "../env.js";
import { notFound } from "../errors.js";
import { canonicalUrl, jsonApi, selfLink } from "../json-api.js";
import { readQuery } from "../query.js";
import { checkType, memberAt, readResourceBody } from "../request-documents.js";
import { importProfile, importProfileBody } from "../resources/profile-import.js";
import {
  deletionJobBody,
  mergeParties,
  mergeProfiles,
  mergeProfilesBody,
  runDeletionJob,
} from "../resources/profile-merge.js";
import { PROFILE_BODY_LIMIT } from "../resources/profiles-body.js";
import { PROFILE_RELATIONSHIPS, profileResource } from "../resources/profiles-render.js";
import {
  advanceJob,
  createSuppressionJob,
  JOB_TYPES,
  jobField,
  jobResource,
  suppressBody,
  unsuppressBody,
} from "../resources/suppression-jobs.js";
import type { EmulatorState, SuppressionJobRow } from "../state.js";

/** A job body with JSON:API type conflicts (job, profiles, list, segment) refused as 409 before the schema. */
async function readJob(c: EmulatorContext, jobType: string): Promise<unknown> {
  const raw = await readJson(c);
  checkType(memberAt(raw, "data"), "/data", jobType);
  const profiles = memberAt(raw, "data", "attributes", "profiles", "data");
  if (Array.isArray(profiles)) {
    for (const [i, item] of profiles.entries())
      checkType(item, `/data/attributes/profiles/data/${i}`, "profile");
  }
  checkType(memberAt(raw, "data", "relationships", "list", "data"), "/data/relationships/list/data", "list");
  checkType(
    memberAt(raw, "data", "relationships", "segment", "data"),
    "/data/relationships/segment/data",
    "segment",
  );
  return raw;
}

/** The handlers, over `state`. */
export function profileEverydayRoutes(state: EmulatorState, runtime: RouteRuntime): RouteTable {
  const jobOf = (c: EmulatorContext, kind: SuppressionJobRow["kind"]) => {
    const id = c.get("params").job_id ?? "";
    const job = state.suppressionJobs.get(id);
    if (!job || job.kind !== kind) throw notFound(`A ${JOB_TYPES[kind]} with id '${id}' does not exist.`);
    return job;
  };
  const getJob = (kind: SuppressionJobRow["kind"]) => (c: EmulatorContext) => {
    const job = jobOf(c, kind);
    advanceJob(job, runtime.now());
    return single(c.req.url, jobResource(readQuery(c), job));
  };
  const listJobs = (kind: SuppressionJobRow["kind"]) => (c: EmulatorContext) => {
    const jobs = [...state.suppressionJobs.values()].filter((job) => job.kind === kind);
    const now = runtime.now();
    for (const job of jobs) advanceJob(job, now);
    return collection(c, { rows: jobs, field: jobField, render: (job, query) => jobResource(query, job) });
  };
  const postJob = (kind: SuppressionJobRow["kind"]) => async (c: EmulatorContext) => {
    const raw = await readJob(c, JOB_TYPES[kind]);
    const body = kind === "suppress" ? validate(suppressBody, raw) : validate(unsuppressBody, raw);
    const job = createSuppressionJob(state, kind, body, runtime.now());
    return single(c.req.url, jobResource(readQuery(c), job), undefined, 202);
  };

  return {
    async create_or_update_profile(c) {
      const query = readQuery(c);
      const body = await readResourceBody(c, importProfileBody, {
        type: "profile",
        limit: PROFILE_BODY_LIMIT,
      });
      const { row, created } = importProfile(state, body, runtime.now());
      const data = profileResource(state, query, row, { relationships: PROFILE_RELATIONSHIPS });
      return single(data.links.self, data, undefined, created ? 201 : 200);
    },

    async merge_profiles(c) {
      const query = readQuery(c);
      const raw = await readJson(c);
      checkType(memberAt(raw, "data"), "/data", "profile-merge");
      const sources = memberAt(raw, "data", "relationships", "profiles", "data");
      if (Array.isArray(sources)) {
        for (const [i, item] of sources.entries())
          checkType(item, `/data/relationships/profiles/data/${i}`, "profile");
      }
      const body = validate(mergeProfilesBody, raw);
      const { destination, source } = mergeParties(state, body);
      mergeProfiles(state, destination, source, runtime.now());
      const self = selfLink(query.origin, "profiles", destination.id);
      // The answer names the destination only (type, id, links), as the document's 201 has it.
      return jsonApi(
        {
          data: { type: "profile", id: destination.id, links: { self } },
          links: { self: canonicalUrl(c.req.url) },
        },
        201,
      );
    },

    async request_profile_deletion(c) {
      const raw = await readJson(c);
      checkType(memberAt(raw, "data"), "/data", "data-privacy-deletion-job");
      checkType(
        memberAt(raw, "data", "attributes", "profile", "data"),
        "/data/attributes/profile/data",
        "profile",
      );
      runDeletionJob(state, validate(deletionJobBody, raw));
      return empty(202);
    },

    bulk_suppress_profiles: postJob("suppress"),
    bulk_unsuppress_profiles: postJob("unsuppress"),
    get_bulk_suppress_profiles_job: getJob("suppress"),
    get_bulk_unsuppress_profiles_job: getJob("unsuppress"),
    get_bulk_suppress_profiles_jobs: listJobs("suppress"),
    get_bulk_unsuppress_profiles_jobs: listJobs("unsuppress"),
  };
}
