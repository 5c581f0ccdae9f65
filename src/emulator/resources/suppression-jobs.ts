/**
 * Bulk Suppress and Bulk Unsuppress Profiles (`/api/profile-suppression-bulk-create-jobs`, `-delete-jobs`):
 * the bodies, the jobs and their resource objects.
 *
 * A job names up to 100 email addresses, or a list, or a segment ("all current members"). Giving more than one
 * of those in one job is not documented; the emulator refuses it (400), the cautious reading of "by email
 * address or specify a segment/list ID". An address no profile holds gets a new, suppressed profile (what
 * Klaviyo's suppression imports do); unsuppressing it is skipped.
 *
 * A profile newly suppressed gets Klaviyo's "Manually Suppressed from Email Marketing" event (its properties are
 * not documented: the emulator's are those of the subscription jobs' consent events, `consentProperties`).
 *
 * The work is done when the job is created (as the subscription jobs are), so a read right after sees it. The
 * job still goes through Klaviyo's documented statuses, one step each time it is read (by id or in the list):
 * `queued` when accepted, then `processing`, then `complete` with its counts, so a polling client meets each.
 */
import * as v from "valibot";
import { CONSENT_METRICS } from "../../klaviyo/webhooks.js";
import { type JsonApiResource, relationshipLinks, resource } from "../documents.js";
import { notFound } from "../errors.js";
import type { QueryContext } from "../query.js";
import { invalidAt, invalidMembers } from "../request-documents.js";
import type { EmulatorState, ProfileRow, SuppressionJobRow } from "../state.js";
import { isoNow, ulid } from "../store.js";
import { recordKlaviyoEvent } from "./events-model.js";
import { listMembers } from "./lists-members.js";
import { requireList } from "./lists-model.js";
import { EMAIL, profileWith, resolveProfile } from "./profile-model.js";
import { segmentMembers } from "./segments-members.js";
import { consentProperties } from "./subscriptions-jobs.js";
import { type ConsentContext, suppressEmail, unsuppressEmail } from "./subscriptions-model.js";

/** "Email address per request limit: 100". */
export const MAX_SUPPRESSION_EMAILS = 100;

export const JOB_TYPES = {
  suppress: "profile-suppression-bulk-create-job",
  unsuppress: "profile-suppression-bulk-delete-job",
} as const;

const related = (type: "list" | "segment") =>
  v.optional(v.strictObject({ data: v.strictObject({ type: v.literal(type), id: v.string() }) }));

function jobBody<T extends string>(type: T) {
  return v.strictObject({
    data: v.strictObject({
      type: v.literal(type),
      attributes: v.strictObject({
        profiles: v.optional(
          v.nullable(
            v.strictObject({
              data: v.array(
                v.strictObject({
                  type: v.literal("profile"),
                  attributes: v.strictObject({ email: v.string() }),
                }),
              ),
            }),
          ),
        ),
      }),
      relationships: v.optional(v.strictObject({ list: related("list"), segment: related("segment") })),
    }),
  });
}

export const suppressBody = jobBody(JOB_TYPES.suppress);
export const unsuppressBody = jobBody(JOB_TYPES.unsuppress);
export type SuppressionBody = v.InferOutput<typeof suppressBody> | v.InferOutput<typeof unsuppressBody>;

const PROFILES = "/data/attributes/profiles/data";

/** The profiles a job reaches, after its checks (400 for bad or too many addresses, 404 for an unknown list). */
function targets(
  state: EmulatorState,
  body: SuppressionBody,
  kind: SuppressionJobRow["kind"],
  now: number,
): { rows: Array<ProfileRow | undefined>; listId: string | null; segmentId: string | null } {
  const emails = body.data.attributes.profiles?.data.map((p) => p.attributes.email) ?? [];
  const listId = body.data.relationships?.list?.data.id ?? null;
  const segmentId = body.data.relationships?.segment?.data.id ?? null;
  const sources = [emails.length > 0, listId !== null, segmentId !== null].filter(Boolean).length;
  if (sources !== 1) {
    throw invalidAt(
      "/data",
      sources === 0
        ? "Give the profiles to (un)suppress by email, or a list or a segment."
        : "Give the profiles by email, or a list, or a segment: only one of them per job.",
    );
  }
  if (emails.length > MAX_SUPPRESSION_EMAILS) {
    throw invalidAt(
      PROFILES,
      `At most ${MAX_SUPPRESSION_EMAILS} email addresses per request; got ${emails.length}.`,
    );
  }
  const bad = invalidMembers(
    emails.flatMap((email, i) =>
      EMAIL.test(email)
        ? []
        : [{ pointer: `${PROFILES}/${i}/attributes/email`, detail: `Invalid email address: '${email}'.` }],
    ),
  );
  if (bad) throw bad;
  if (listId !== null) {
    requireList(state, listId);
    return { rows: listMembers(state, listId).map((m) => m.profile), listId, segmentId };
  }
  if (segmentId !== null) {
    const segment = state.segments.get(segmentId);
    if (!segment) throw notFound(`A segment with id '${segmentId}' does not exist.`);
    return { rows: [...segmentMembers(state, segment, now).keys()], listId, segmentId };
  }
  const rows = emails.map((email) =>
    kind === "suppress" ? resolveProfile(state, { email }, now) : profileWith(state, "email", email),
  );
  return { rows, listId, segmentId };
}

/** Checks a job, does its work and records it as `queued`. */
export function createSuppressionJob(
  state: EmulatorState,
  kind: SuppressionJobRow["kind"],
  body: SuppressionBody,
  now: number,
): SuppressionJobRow {
  const { rows, listId, segmentId } = targets(state, body, kind, now);
  const ctx: ConsentContext = { stamp: isoNow(now), customSource: null };
  let completed = 0;
  let skipped = 0;
  for (const row of rows) {
    const changed = row ? (kind === "suppress" ? suppressEmail(row, ctx) : unsuppressEmail(row, ctx)) : false;
    if (changed && row) {
      row.attributes.updated = ctx.stamp;
      if (kind === "suppress")
        recordKlaviyoEvent(state, row, CONSENT_METRICS.suppressedEmail, consentProperties(ctx), now);
    }
    if (changed) completed++;
    else skipped++;
  }
  const job: SuppressionJobRow = {
    id: ulid(now),
    seq: state.suppressionJobs.seq(),
    kind,
    listId,
    segmentId,
    outcome: { completed, skipped },
    attributes: {
      status: "queued",
      created_at: ctx.stamp,
      total_count: rows.length,
      completed_count: 0,
      completed_at: null,
      skipped_count: 0,
    },
  };
  state.suppressionJobs.insert(job);
  return job;
}

/** One step along queued → processing → complete (a complete or cancelled job stays as it is). */
export function advanceJob(job: SuppressionJobRow, now: number): void {
  const status = job.attributes.status;
  if (status === "queued") job.attributes.status = "processing";
  else if (status === "processing") {
    Object.assign(job.attributes, {
      status: "complete",
      completed_count: job.outcome.completed,
      skipped_count: job.outcome.skipped,
      completed_at: isoNow(now),
    });
  }
}

/** A job's value for the list's filters (`status`, `list_id`, `segment_id`) and sort (`created`). */
export function jobField(job: SuppressionJobRow, name: string): unknown {
  if (name === "list_id") return job.listId;
  if (name === "segment_id") return job.segmentId;
  if (name === "created") return job.attributes.created_at;
  return name === "id" ? job.id : job.attributes[name];
}

/** The job's resource object, with its list or segment. */
export function jobResource(query: QueryContext, job: SuppressionJobRow): JsonApiResource {
  const type = JOB_TYPES[job.kind];
  const path =
    type === JOB_TYPES.suppress
      ? "profile-suppression-bulk-create-jobs"
      : "profile-suppression-bulk-delete-jobs";
  const data = resource(query, type, path, job.id, job.attributes, {
    lists: {
      data: job.listId ? [{ type: "list", id: job.listId }] : [],
      links: relationshipLinks(query, path, job.id, "lists"),
    },
    segments: {
      data: job.segmentId ? [{ type: "segment", id: job.segmentId }] : [],
      links: relationshipLinks(query, path, job.id, "segments"),
    },
  });
  return data;
}
