/**
 * Bulk Import Profiles as an ingestion: profiles packed into jobs of at most 10,000 profiles and 5 MB, each job
 * created (`POST /api/profile-bulk-import-jobs`, 202), then polled until Klaviyo says it is complete (`GET
 * /api/profile-bulk-import-jobs/{job_id}`, waits doubling from half a second to 10 s), then, when some profiles
 * failed, its import errors read (`GET …/{id}/import-errors`, 100 a page) and placed at the input positions of
 * the profiles they are about. Every position ends accepted, rejected (with Klaviyo's reason), failed (the job
 * was created but its end was not seen: timed out, cancelled, unreadable; re-importing is safe, since an import
 * creates or updates by identifier) or unsent.
 */
import type { KlaviyoClient } from "../core/client.js";
import { ApiError, KlaviyoError } from "../core/errors.js";
import { expandPath } from "../core/url.js";
import type { Batch, IngestionSpec, IngestRequestReport, SendOutcome } from "./engine.js";
import {
  IMPORT_LIMITS,
  type ImportError,
  type ImportProfile,
  importErrorPositions,
  importErrorReason,
  importJobBody,
  JOB_ENVELOPE_BYTES,
  type PlacedImportError,
} from "./profile-import-records.js";
import { reasonsByProfile } from "./subscription-records.js";

/** How long to wait for one job to complete, by default: 30 minutes. */
export const DEFAULT_JOB_TIMEOUT_MS = 30 * 60_000;

export interface ProfileImportJobOptions {
  /** The list every imported profile is added to (the job then needs the lists:write scope). */
  listId?: string;
  /** The longest to wait for one job to complete once created (default 30 minutes). */
  jobTimeoutMs?: number;
  /**
   * When to give up altogether (milliseconds since the epoch, on the client's clock): no job is created after
   * it (the rest is reported unsent) and none is waited for past it (its profiles are reported failed).
   */
  deadline?: number;
  /** The first wait before reading a job's status (default 500 ms); each next one doubles, up to `maxPollMs`. */
  firstPollMs?: number;
  /** The longest wait between two reads of a job's status (default 10 s). */
  maxPollMs?: number;
}

/** A job's attributes, as Klaviyo returns them (`ProfileImportJobResponseObjectResource`). */
export interface ImportJobAttributes {
  status?: string;
  created_at?: string;
  total_count?: number;
  completed_count?: number | null;
  failed_count?: number | null;
  completed_at?: string | null;
  started_at?: string | null;
  expires_at?: string | null;
  [key: string]: unknown;
}

/** One job's report: the request's (`status`: accepted, rejected, failed, unsent) and the job's. */
export interface ProfileImportJobReport extends IngestRequestReport {
  /** The job's id, once Klaviyo created it. */
  id?: string;
  /** Klaviyo's status for the job at its last read: queued, processing, complete or cancelled. */
  job_status?: string;
  total_count?: number;
  completed_count?: number | null;
  failed_count?: number | null;
  /** Klaviyo's import errors, each at the input position (`index`, 0-based) of the profile it is about. */
  errors?: PlacedImportError[];
}

/** A profile as a job holds it: Klaviyo's shape, and the item as read (what `onUnsent` gets back). */
export interface ImportItem {
  profile: ImportProfile;
  raw: unknown;
}

/** The rules a job is packed under: 10,000 profiles and 5 MB, body included. */
export function importRules(maxProfiles: number = IMPORT_LIMITS.profiles) {
  return {
    maxItems: maxProfiles,
    maxBytes: IMPORT_LIMITS.jobBytes - JOB_ENVELOPE_BYTES,
    // Its JSON and the comma between it and the next.
    size: (item: ImportItem) => Buffer.byteLength(JSON.stringify(item.profile)) + 1,
  };
}

/** The give-up time passed before a job could be created: stops the run, the rest unsent. */
class DeadlinePassed extends Error {}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Errors every later request would meet (as the engine judges them). */
const stops = (error: unknown) =>
  error instanceof ApiError
    ? error.status === 401 || error.status === 403 || error.status === 429
    : !(error instanceof KlaviyoError);

/** The job facts a report carries. */
function jobFacts(id: string, a: ImportJobAttributes | undefined): Record<string, unknown> {
  return {
    id,
    ...(a?.status !== undefined ? { job_status: a.status } : {}),
    ...(a?.total_count !== undefined ? { total_count: a.total_count } : {}),
    ...(a?.completed_count !== undefined ? { completed_count: a.completed_count } : {}),
    ...(a?.failed_count !== undefined ? { failed_count: a.failed_count } : {}),
  };
}

/** Creates a job for each request of profiles, waits for it, and reads what it refused. */
export function profileImportSender(
  client: KlaviyoClient,
  options: ProfileImportJobOptions,
  signal: AbortSignal | undefined,
): Pick<IngestionSpec<ImportItem>, "send" | "reasons" | "unsentForm"> {
  const jobTimeout = options.jobTimeoutMs ?? DEFAULT_JOB_TIMEOUT_MS;
  const firstPoll = options.firstPollMs ?? 500;
  const maxPoll = options.maxPollMs ?? 10_000;
  const { clock } = client;

  const readJob = async (id: string): Promise<ImportJobAttributes> => {
    const res = await client.request({
      method: "GET",
      path: expandPath("/api/profile-bulk-import-jobs/{job_id}", { job_id: id }),
      operation: "get_bulk_import_profiles_job",
      ...(signal ? { signal } : {}),
    });
    return ((res.body as { data?: { attributes?: ImportJobAttributes } } | null)?.data?.attributes ??
      {}) as ImportJobAttributes;
  };

  const readErrors = async (id: string): Promise<ImportError[]> => {
    const errors: ImportError[] = [];
    for await (const error of client.paginateItems<ImportError>({
      method: "GET",
      path: expandPath("/api/profile-bulk-import-jobs/{id}/import-errors", { id }),
      operation: "get_errors_for_bulk_import_profiles_job",
      pageSize: 100,
      ...(signal ? { signal } : {}),
    }))
      errors.push(error);
    return errors;
  };

  return {
    async send(batch: Batch<ImportItem>): Promise<SendOutcome> {
      if (options.deadline !== undefined && clock.now() >= options.deadline)
        throw new DeadlinePassed("the timeout passed before this job could be created");
      const profiles = batch.members.map((m) => m.value.profile);
      const positions = batch.members.map((m) => m.position);
      const all = new Set(positions);
      const created = await client.request({
        method: "POST",
        path: "/api/profile-bulk-import-jobs",
        body: importJobBody(profiles, options.listId),
        operation: "bulk_import_profiles",
        ...(signal ? { signal } : {}),
        // An import creates or updates by identifier: a repeated job leaves the same profiles.
        idempotent: true,
      });
      const data = (created.body as { data?: { id?: string; attributes?: ImportJobAttributes } } | null)
        ?.data;
      const id = data?.id;
      if (!id) return { failed: all, report: { error: "Klaviyo accepted the job without giving its id" } };
      let attributes = data.attributes;
      const until = Math.min(options.deadline ?? Number.POSITIVE_INFINITY, clock.now() + jobTimeout);
      try {
        let wait = firstPoll;
        while (attributes?.status !== "complete" && attributes?.status !== "cancelled") {
          const left = until - clock.now();
          if (left <= 0) {
            return {
              failed: all,
              report: {
                ...jobFacts(id, attributes),
                error: `the job was still ${attributes?.status ?? "unfinished"} when the wait for it ended; read it later (GET /api/profile-bulk-import-jobs/${id}) or import these profiles again`,
              },
            };
          }
          await clock.sleep(Math.min(wait, left), signal);
          wait = Math.min(wait * 2, maxPoll);
          attributes = await readJob(id);
        }
        if (attributes.status === "cancelled") {
          return {
            failed: all,
            report: { ...jobFacts(id, attributes), error: "the job was cancelled before it completed" },
          };
        }
        const failedCount = attributes.failed_count;
        const errors = failedCount === 0 ? [] : await readErrors(id);
        const placed = importErrorPositions(errors, profiles, positions);
        const rejected = new Map<number, string>();
        for (const error of placed) {
          if (error.index === null) continue;
          const before = rejected.get(error.index);
          const reason = importErrorReason(error);
          rejected.set(error.index, before === undefined ? reason : `${before}; ${reason}`);
        }
        const unplaced = placed.filter((e) => e.index === null).length;
        const report = { ...jobFacts(id, attributes), errors: placed };
        if (unplaced > 0 || (failedCount ?? 0) > rejected.size) {
          // Klaviyo says more failed than its errors name: which of the others were imported is not known.
          const failed = new Set(positions.filter((p) => !rejected.has(p)));
          return {
            rejected,
            failed,
            report: {
              ...report,
              error: `${failedCount ?? errors.length} profiles failed but ${unplaced > 0 ? `${unplaced} import errors name no profile of the job` : `only ${rejected.size} were named`}: the other profiles are reported failed`,
            },
          };
        }
        return { rejected, report };
      } catch (error) {
        const message = messageOf(error);
        return {
          failed: all,
          report: {
            ...jobFacts(id, attributes),
            error: `the job was created, but its end could not be read: ${message}`,
          },
          ...(stops(error) ? { stop: `an earlier job could not be read (${message})` } : {}),
        };
      }
    },
    reasons: (error: ApiError, batch) => reasonsByProfile(error.errors, batch.members),
    unsentForm: (item) => item.raw,
  };
}
