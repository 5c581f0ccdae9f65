/**
 * Bulk ingestion at the rate-limit ceiling that never duplicates: events (Bulk Create Events) and profiles to
 * subscribe or unsubscribe, read lazily from an array, an `Iterable` or an `AsyncIterable` (such as
 * `readRecords(file)`), checked one by one as they are read (a bad item is rejected with its position and the
 * rest go on), packed into Klaviyo's requests and sent `concurrency` at a time; the client's rate limiter keeps
 * them within the operation's tier. Memory holds the requests in flight and the one being filled, never the
 * input.
 *
 * Events: every event without a `unique_id` gets one derived from its content, time included
 * (`eventUniqueId`), and every request is sent as idempotent, so the transport's retries and a re-run of the same
 * input never record an event twice (Klaviyo keeps the first event of a `unique_id` for a profile and metric).
 * An event without a time is stamped with the time it is read (`now`): a re-run of such an input is therefore a
 * new ingestion, with new times and new ids. The events `onUnsent` receives carry their time and unique_id, so
 * a re-run of those is safe.
 *
 * Positions count events in input order (a Klaviyo bulk entry of three events takes three; an item that cannot
 * be read takes one, or as many events as it declares); for subscriptions they count profiles.
 */

import { builtins } from "../core/builtins.js";
import type { KlaviyoClient } from "../core/client.js";
import type { ApiError } from "../core/errors.js";
import { inFlightFor } from "../core/latency.js";
import { getOperation } from "../klaviyo/operations.js";
import type { IngestionSpec, IngestOptions, IngestResult } from "./engine.js";
import type { BulkEvent } from "./event-records.js";
import {
  type ConflictingRepeats,
  checkedEventReader,
  eventRules,
  eventSender,
  type PackedEvent,
  rawEventReader,
} from "./events.js";
import { UnreadableRecord } from "./ndjson.js";
import {
  type ImportItem,
  importRules,
  type ProfileImportJobOptions,
  type ProfileImportJobReport,
  profileImportSender,
} from "./profile-import.js";
import { type ImportProfile, normaliseImportProfile } from "./profile-import-records.js";
import { type IngestSource, type ItemReader, ingestSource } from "./source.js";
import {
  historicalImportProblems,
  type JobProfile,
  MAX_PROFILES_PER_REQUEST,
  normaliseProfile,
  reasonsByProfile,
  type SubscriptionMode,
} from "./subscription-records.js";

export type {
  IngestOptions,
  IngestProgress,
  IngestRequestReport,
  IngestResult,
} from "./engine.js";
export { type ConflictingRepeats, eventUniqueId, flatEvent } from "./events.js";
export type {
  ImportJobAttributes,
  ProfileImportJobOptions,
  ProfileImportJobReport,
} from "./profile-import.js";
export type { ImportProfile, PlacedImportError } from "./profile-import-records.js";
export type { IngestSource } from "./source.js";

/**
 * The most requests an ingestion keeps in flight when it sizes them itself (each holds a body of up to 5 MB):
 * by default it keeps as many as reach the tier's ceiling at the latency it observes (`inFlightFor`).
 */
export const MAX_DEFAULT_CONCURRENCY = 20;

export interface IngestEventsOptions extends IngestOptions {
  /** Events per request, at most (and by default) Klaviyo's 1,000. */
  batchSize?: number;
  /** Applied to every event that does not set backfill itself. */
  backfill?: boolean;
  /**
   * An event whose unique_id repeats one of the request being filled, for the same profile and metric, with
   * other content: `later-request` (default) sends it in a later request, after that one is answered (Klaviyo
   * then keeps the first); `same-request` sends both together, so that Klaviyo refuses that request as a whole
   * and says which. An exact repeat (same unique_id, same content) is never sent twice: it shares the outcome
   * of the first and is counted in `duplicates`.
   */
  conflictingRepeats?: ConflictingRepeats;
}

/**
 * The requests in flight: the caller's number, or as many as reach the operation's ceiling at the latency the
 * client has observed so far (re-read before each request, so it follows the network as answers come in).
 */
function concurrencyOf(
  client: KlaviyoClient,
  options: IngestOptions,
  operation: string,
): number | (() => number) {
  const n = options.concurrency;
  if (n === undefined) {
    const { tier } = getOperation(operation);
    return () => inFlightFor(tier, client.latency.max(), MAX_DEFAULT_CONCURRENCY);
  }
  if (!(Number.isInteger(n) && n >= 1))
    throw new RangeError(`concurrency must be a whole number >= 1, not ${n}`);
  return n;
}

/**
 * The caller's signal, seen through one listener: every request in flight (and every wait in the limiter) listens
 * on the ingestion's own signal, more listeners than Node's default of 10 would let pass without a warning.
 */
function ownSignal(signal: AbortSignal | undefined): AbortSignal | undefined {
  if (!signal) return undefined;
  const own = AbortSignal.any([signal]);
  builtins.events.setMaxListeners(0, own);
  return own;
}

function batchSizeOf(size: number | undefined, max: number): number {
  if (size === undefined) return max;
  if (!(Number.isInteger(size) && size >= 1 && size <= max))
    throw new RangeError(`batchSize must be a whole number from 1 to ${max}, not ${size}`);
  return size;
}

function commonSpec(
  client: KlaviyoClient,
  options: IngestOptions,
  operation: string,
  signal: AbortSignal | undefined,
) {
  return {
    concurrency: concurrencyOf(client, options, operation),
    signal,
    onProgress: options.onProgress,
    onUnsent: options.onUnsent,
    onRejected: options.onRejected,
  };
}

async function runEvents<R>(
  client: KlaviyoClient,
  source: IngestSource<R>,
  reader: ItemReader<R, PackedEvent>,
  options: IngestEventsOptions,
): Promise<IngestResult> {
  const signal = ownSignal(options.signal);
  return ingestSource(
    source,
    reader,
    eventRules(batchSizeOf(options.batchSize, 1000), options.conflictingRepeats ?? "later-request"),
    {
      ...commonSpec(client, options, "bulk_create_events", signal),
      ...eventSender((body) =>
        client.request({
          method: "POST",
          path: "/api/event-bulk-create-jobs",
          rawBody: body,
          contentType: "application/vnd.api+json",
          operation: "bulk_create_events",
          signal,
          // Every event has a unique_id: Klaviyo keeps the first, so a repeated request records nothing twice.
          idempotent: true,
        }),
      ),
    },
  );
}

/**
 * Ingests events (flat `{metric, profile, properties, time, value, value_currency, unique_id, backfill}` or
 * Klaviyo's event and bulk-entry shapes, or `UnreadableRecord`s from `readRecords`), read lazily from `source`.
 * See the module's comment; never throws for a bad event (it is rejected), only for bad options.
 */
export function ingestEvents(
  client: KlaviyoClient,
  source: IngestSource<unknown>,
  options: IngestEventsOptions = {},
): Promise<IngestResult> {
  const now = options.now ?? (() => Date.now());
  return runEvents(client, source, rawEventReader(now, options.backfill), options);
}

/** `ingestEvents` for events already checked (`readBulkEvents`), as the Bulk Create Events action holds them. */
export function ingestCheckedEvents(
  client: KlaviyoClient,
  events: Iterable<BulkEvent>,
  options: IngestEventsOptions = {},
): Promise<IngestResult> {
  const now = options.now ?? (() => Date.now());
  return runEvents(client, events, checkedEventReader(now, options.backfill), options);
}

export interface IngestSubscriptionsOptions extends IngestOptions {
  /** The list to subscribe the profiles to, or to unsubscribe them from. */
  listId?: string;
  /** Subscribe only: consent given in the past; every consent then needs `consented_at`. */
  historicalImport?: boolean;
  /** Subscribe only: where the consent was collected. */
  customSource?: string;
  /** Profiles per request, at most (and by default) Klaviyo's 1,000 to subscribe, 100 to unsubscribe. */
  batchSize?: number;
}

/** Klaviyo states no payload limit for these jobs; 5 MB, its other bulk jobs' limit, keeps requests sane. */
const MAX_JOB_BYTES = 5_000_000;

interface IngestProfile {
  profile: JobProfile;
  /** The item as read, for `onUnsent`. */
  raw: unknown;
}

function profileReader(
  mode: SubscriptionMode,
  historicalImport: boolean,
  now: () => number,
): ItemReader<unknown, IngestProfile> {
  return {
    read(raw) {
      if (raw instanceof UnreadableRecord) return { reason: raw.toString(), positions: 1 };
      const { profile, problems } = normaliseProfile(raw, mode);
      if (problems.length === 0 && mode === "subscribe")
        for (const p of historicalImportProblems([profile], historicalImport, now()))
          problems.push(p.problem);
      if (problems.length > 0) return { reason: problems.join("; "), positions: 1 };
      return { values: [{ profile, raw }] };
    },
    positions: () => 1,
  };
}

function jobBody(mode: SubscriptionMode, profiles: JobProfile[], options: IngestSubscriptionsOptions) {
  const relationships =
    options.listId === undefined
      ? {}
      : { relationships: { list: { data: { type: "list", id: options.listId } } } };
  if (mode === "unsubscribe") {
    return {
      data: {
        type: "profile-subscription-bulk-delete-job",
        attributes: { profiles: { data: profiles } },
        ...relationships,
      },
    };
  }
  return {
    data: {
      type: "profile-subscription-bulk-create-job",
      attributes: {
        ...(options.customSource !== undefined ? { custom_source: options.customSource } : {}),
        profiles: { data: profiles },
        ...(options.historicalImport !== undefined ? { historical_import: options.historicalImport } : {}),
      },
      ...relationships,
    },
  };
}

/**
 * Ingests profiles to subscribe or unsubscribe (flat `{email, phone_number, channels, …}` or Klaviyo's profile
 * objects, as the Subscribe and Unsubscribe Profiles actions take them), read lazily from `source`, in jobs of
 * at most 1,000 (subscribe) or 100 (unsubscribe) profiles. Unsubscribing is sent as idempotent (withdrawing
 * consent twice changes nothing); subscribing is not retried after an unclear answer, since a repeat may send a
 * second double opt-in message: such a job is reported failed, and `onUnsent` gets its profiles.
 */
export async function ingestSubscriptions(
  client: KlaviyoClient,
  mode: SubscriptionMode,
  source: IngestSource<unknown>,
  options: IngestSubscriptionsOptions = {},
): Promise<IngestResult> {
  const now = options.now ?? (() => Date.now());
  const signal = ownSignal(options.signal);
  const operation = mode === "subscribe" ? "bulk_subscribe_profiles" : "bulk_unsubscribe_profiles";
  const spec: IngestionSpec<IngestProfile> = {
    ...commonSpec(client, options, operation, signal),
    async send(batch) {
      await client.request({
        method: "POST",
        path:
          mode === "subscribe"
            ? "/api/profile-subscription-bulk-create-jobs"
            : "/api/profile-subscription-bulk-delete-jobs",
        body: jobBody(
          mode,
          batch.members.map((m) => m.value.profile),
          options,
        ),
        operation,
        signal,
        idempotent: mode === "unsubscribe",
      });
    },
    reasons: (error: ApiError, batch) => reasonsByProfile(error.errors, batch.members),
    unsentForm: (value) => value.raw,
  };
  return ingestSource(
    source,
    profileReader(mode, options.historicalImport === true, now),
    {
      maxItems: batchSizeOf(options.batchSize, MAX_PROFILES_PER_REQUEST[mode]),
      maxBytes: MAX_JOB_BYTES,
      size: (p) => Buffer.byteLength(JSON.stringify(p.profile)),
    },
    spec,
  );
}

export interface IngestProfilesOptions extends IngestOptions, ProfileImportJobOptions {
  /** Profiles per job, at most (and by default) Klaviyo's 10,000; jobs also stay within 5 MB. */
  batchSize?: number;
}

/** What a profile import came to: the ingestion's account, one report per job. */
export interface IngestProfilesResult extends IngestResult {
  requests: ProfileImportJobReport[];
}

/**
 * Jobs in flight at once by default: each is in flight from its creation until Klaviyo completes it (seconds to
 * minutes), so that several are created while earlier ones run.
 */
export const DEFAULT_IMPORT_JOBS = 4;

async function runProfileImport<R>(
  client: KlaviyoClient,
  source: IngestSource<R>,
  reader: ItemReader<R, ImportItem>,
  options: IngestProfilesOptions,
): Promise<IngestProfilesResult> {
  const signal = ownSignal(options.signal);
  const result = await ingestSource(source, reader, importRules(batchSizeOf(options.batchSize, 10_000)), {
    ...commonSpec(client, options, "bulk_import_profiles", signal),
    ...(options.concurrency === undefined ? { concurrency: DEFAULT_IMPORT_JOBS } : {}),
    ...profileImportSender(client, options, signal),
  });
  return result as IngestProfilesResult;
}

/**
 * Imports profiles (Bulk Import Profiles): each item a profile's attributes in Klaviyo's names (`{email,
 * phone_number, external_id, first_name, location, properties, …}`) or Klaviyo's profile object, or an
 * `UnreadableRecord` from `readRecords`, read lazily from `source`. Profiles are created or updated by
 * identifier, in jobs of at most 10,000 profiles and 5 MB, several at once; each job is waited for and its import
 * errors are reported at the positions of the profiles they are about. A bad item is rejected as read; never
 * throws for one, only for bad options.
 */
export function ingestProfiles(
  client: KlaviyoClient,
  source: IngestSource<unknown>,
  options: IngestProfilesOptions = {},
): Promise<IngestProfilesResult> {
  const reader: ItemReader<unknown, ImportItem> = {
    read(raw) {
      if (raw instanceof UnreadableRecord) return { reason: raw.toString(), positions: 1 };
      const { profile, problems } = normaliseImportProfile(raw);
      if (problems.length > 0) return { reason: problems.join("; "), positions: 1 };
      return { values: [{ profile, raw }] };
    },
    positions: () => 1,
  };
  return runProfileImport(client, source, reader, options);
}

/** `ingestProfiles` for profiles already checked (`normaliseImportProfile`), as Bulk Import Profiles holds them. */
export function importCheckedProfiles(
  client: KlaviyoClient,
  profiles: Iterable<ImportProfile>,
  options: IngestProfilesOptions = {},
): Promise<IngestProfilesResult> {
  return runProfileImport(
    client,
    profiles,
    { read: (profile) => ({ values: [{ profile, raw: profile }] }), positions: () => 1 },
    options,
  );
}
