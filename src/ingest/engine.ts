/**
 * The machinery of a streamed bulk ingestion, whatever is ingested: items are packed into requests as they are
 * read (`RequestBuilder`), and the requests are sent several at a time (`Ingestion`), so that memory holds only
 * the requests in flight and the one being filled, never the input. Every item is accounted for by its input
 * position: accepted, rejected (with a reason), failed (sent, no clear answer) or unsent.
 */
import { ApiError, KlaviyoError } from "../core/errors.js";
import type { BulkResult, ChunkReport } from "./bulk.js";

/** Counts so far, for a progress display. */
export interface IngestProgress {
  /** Positions read from the source (events for events, profiles for subscriptions). */
  read: number;
  accepted: number;
  rejected: number;
  /** Requests sent and not yet answered. */
  inFlight: number;
}

export interface IngestOptions {
  /**
   * Requests in flight at once; the client's limiter paces them. By default, as many as reach the operation's
   * ceiling at the latency the client observes (3 on a fast network, about 12 at 600 ms, at most 20).
   */
  concurrency?: number;
  /** Stops reading and sending: what was not sent is reported unsent (and given to `onUnsent`). */
  signal?: AbortSignal;
  onProgress?: (progress: IngestProgress) => void;
  /**
   * Called for every item the run has no answer for: unsent ones (after an abort or an error that stops the
   * run), and failed ones (sent, no clear answer), whose re-sending is safe. `item` is in a form the same
   * ingestion reads again: for events, the flat event with its unique_id and time, so that a re-run sends it
   * identically.
   */
  onUnsent?: (item: unknown, position: number) => void;
  /**
   * Called for every item refused, with the reason (also in the result's `rejected`): refused as read (`item` as
   * read: a record that did not parse is an `UnreadableRecord` holding its text), or refused by Klaviyo (`item` in
   * the form `onUnsent` gets). With `onUnsent`, everything not accepted can be written out, fixed and sent again.
   */
  onRejected?: (item: unknown, position: number, reason: string) => void;
  /** The clock that stamps events read without a time (milliseconds since the epoch); default `Date.now`. */
  now?: () => number;
}

/** One request's report: `from`/`to` span its items' positions (not all positions between are in it). */
export interface IngestRequestReport extends ChunkReport {
  /** Items the request carried. */
  items: number;
}

export interface IngestResult extends BulkResult {
  /**
   * Items dropped because the same item (same unique_id, same content) was already in the same request: each
   * shares the outcome of the one sent, and is counted in `accepted` when that one is.
   */
  duplicates: number;
  requests: IngestRequestReport[];
}

/** An item read and ready to send. */
export interface Member<T> {
  position: number;
  value: T;
}

/** One request being filled, then sent. */
export interface Batch<T> {
  members: Member<T>[];
  /** Exact repeats of a member (`of`: its position), not sent: they share its outcome. */
  riders: Array<{ position: number; of: number; value: T }>;
  bytes: number;
  /** While it is filled: the member holding each key (its content hash is computed on a repeat only). */
  keys: Map<string, { member: Member<T>; hash?: string }>;
  /** A request that must be answered before this one goes (it holds an earlier item with a key of this one). */
  waitFor?: Batch<T>;
}

export interface BatchRules<T> {
  maxItems: number;
  maxBytes: number;
  size(value: T): number;
  /**
   * Items with the same key must not share a request (Klaviyo refuses a request that repeats a unique_id for
   * one profile and metric). `undefined`: no such rule.
   */
  key?(value: T): string | undefined;
  /** What makes two items with one key the same item. */
  hash?(value: T): string;
  /** An item whose key repeats with other content may still go in the same request (Klaviyo then says no). */
  mayShare?(value: T): boolean;
}

const newBatch = <T>(): Batch<T> => ({ members: [], riders: [], bytes: 0, keys: new Map() });

/** What `push` returns when the item completed no request (nearly always): one shared empty array. */
const NONE: readonly never[] = Object.freeze([]);

/**
 * Packs items into requests of at most `maxItems` items and `maxBytes` bytes, in reading order. An exact repeat
 * of an item of the request being filled rides with it instead of being sent; a repeat of its key with other
 * content waits for the next request (which then waits for this one's answer, so the first read is the first
 * recorded).
 */
export class RequestBuilder<T> {
  private current: Batch<T> = newBatch();
  private carry: Member<T>[] = [];

  constructor(private readonly rules: BatchRules<T>) {}

  /** Adds an item; returns the requests it completed (usually none: then a shared empty array). */
  push(member: Member<T>): readonly Batch<T>[] {
    return this.place(member, NONE);
  }

  /** Completes every request still being filled. */
  end(): readonly Batch<T>[] {
    let out: readonly Batch<T>[] = NONE;
    while (this.current.members.length > 0) out = this.rotate(out);
    return out;
  }

  /** Places an item; `out` collects the requests completed (allocated only when one is). */
  private place(member: Member<T>, out: readonly Batch<T>[]): readonly Batch<T>[] {
    const { rules } = this;
    const size = rules.size(member.value);
    let batch = this.current;
    // Riders count too, so that a run of repeats cannot grow one request without bound.
    if (
      batch.members.length > 0 &&
      (batch.members.length + batch.riders.length >= rules.maxItems || batch.bytes + size > rules.maxBytes)
    ) {
      out = this.rotate(out);
      batch = this.current;
    }
    const key = rules.key?.(member.value);
    if (key !== undefined) {
      const seen = batch.keys.get(key);
      if (seen) {
        // Hashes only when a key repeats, which is rare: hashing every item would cost more than the rest.
        const hash = rules.hash ? rules.hash(member.value) : "";
        seen.hash ??= rules.hash ? rules.hash(seen.member.value) : "";
        if (seen.hash === hash) {
          batch.riders.push({ position: member.position, of: seen.member.position, value: member.value });
          return out;
        }
        if (!rules.mayShare?.(member.value)) {
          this.carry.push(member);
          return out;
        }
      } else batch.keys.set(key, { member });
    }
    batch.members.push(member);
    batch.bytes += size;
    return out;
  }

  private rotate(out: readonly Batch<T>[]): readonly Batch<T>[] {
    const done = this.current;
    done.keys.clear(); // only needed while filling; the request may be in flight a while
    const list = out === NONE ? [done] : [...out, done];
    this.current = newBatch();
    const carried = this.carry;
    this.carry = [];
    if (carried.length === 0) return list;
    this.current.waitFor = done;
    let result: readonly Batch<T>[] = list;
    for (const member of carried) result = this.place(member, result);
    return result;
  }
}

/** Errors that stop the run: later requests would fail the same way (credentials, scopes, a cap, an abort). */
function stopsTheRun(error: unknown): boolean {
  if (error instanceof ApiError) return error.status === 401 || error.status === 403 || error.status === 429;
  return !(error instanceof KlaviyoError);
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * What a request accepted (2xx) came to, when it is not simply "every item accepted": a job Klaviyo ran later
 * and reported on item by item (Bulk Import Profiles' import errors), or one whose end was not seen.
 */
export interface SendOutcome {
  /** Items the job refused, by input position, with the reason. */
  rejected?: ReadonlyMap<number, string>;
  /** Items whose fate is unknown (the job did not finish in time, or could not be read): re-sending is safe. */
  failed?: ReadonlySet<number>;
  /** Facts merged into the request's report (a job's id, status and counts). */
  report?: Record<string, unknown>;
  /** Why no further request should go (an error every later request would meet); the rest is reported unsent. */
  stop?: string;
}

export interface IngestionSpec<T> {
  /** Requests in flight at once: a number, or asked again before each request (sized as answers come in). */
  concurrency: number | (() => number);
  signal: AbortSignal | undefined;
  onProgress: ((progress: IngestProgress) => void) | undefined;
  onUnsent: ((item: unknown, position: number) => void) | undefined;
  onRejected: ((item: unknown, position: number, reason: string) => void) | undefined;
  /**
   * Called once a request is complete, before it waits for a free slot: where its body is put together, so that
   * a request waiting or in flight holds its body only, not its items (which `unsentOf` then stands in for).
   */
  prepare?(batch: Batch<T>): void;
  /** Sends one request; rejects with the client's error. Resolves to its outcome when not all was accepted. */
  // biome-ignore lint/suspicious/noConfusingVoidType: a sender that returns nothing (every item accepted) is a `Promise<void>`
  send(batch: Batch<T>): Promise<SendOutcome | void>;
  /** Reasons by position from a refusal's error pointers. */
  reasons(error: ApiError, batch: Batch<T>): Map<number, string>;
  /** What `onUnsent` gets for an item. */
  unsentForm(value: T): unknown;
  /** What `onUnsent` gets for each position of a prepared request (riders included), in place of `unsentForm`. */
  unsentOf?(batch: Batch<T>): Map<number, unknown>;
}

/** Sends requests `concurrency` at a time and keeps the account of every position. */
export class Ingestion<T> {
  readonly result: IngestResult = {
    total: 0,
    accepted: 0,
    rejected: [],
    failed: [],
    unsent: [],
    complete: false,
    duplicates: 0,
    requests: [],
  };
  private readonly inFlight = new Set<Promise<void>>();
  private readonly settled = new WeakMap<Batch<T>, Promise<void>>();
  private stopReason: string | undefined;

  constructor(private readonly spec: IngestionSpec<T>) {}

  /** Why the run stops (an abort, or an error every later request would meet); `undefined` while it goes on. */
  get stopped(): string | undefined {
    if (this.stopReason === undefined && this.spec.signal?.aborted)
      this.stopReason = `not sent: aborted (${messageOf(this.spec.signal.reason)})`;
    return this.stopReason;
  }

  /** Counts `count` positions read. */
  read(count: number): void {
    this.result.total += count;
  }

  /** An item refused as read, taking `count` positions: rejected; it goes to `onRejected` as read. */
  reject(position: number, item: unknown, count: number, reason: string): void {
    for (let i = 0; i < count; i++) this.result.rejected.push({ index: position + i, reason });
    this.spec.onRejected?.(item, position, reason);
  }

  /** An item read after the run stopped, taking `count` positions: unsent; it goes to `onUnsent` as read. */
  unsent(position: number, item: unknown, count: number): void {
    for (let i = 0; i < count; i++) this.result.unsent.push(position + i);
    this.spec.onUnsent?.(item, position);
  }

  progress(): void {
    this.spec.onProgress?.({
      read: this.result.total,
      accepted: this.result.accepted,
      rejected: this.result.rejected.length,
      inFlight: this.inFlight.size,
    });
  }

  /** Sends a request once a slot is free (the caller waits, which pauses reading), or reports it unsent. */
  async dispatch(batch: Batch<T>): Promise<void> {
    this.spec.prepare?.(batch);
    const { concurrency } = this.spec;
    const limit = typeof concurrency === "number" ? () => concurrency : concurrency;
    while (this.inFlight.size >= limit()) await Promise.race(this.inFlight);
    let from = Number.POSITIVE_INFINITY;
    let to = 0;
    for (const { position } of [...batch.members, ...batch.riders]) {
      if (position < from) from = position;
      if (position >= to) to = position + 1;
    }
    const report: IngestRequestReport = {
      from,
      to,
      items: batch.members.length,
      status: "unsent",
    };
    this.result.requests.push(report);
    const stopped = this.stopped;
    if (stopped !== undefined) {
      report.error = stopped;
      this.giveUp(batch, "unsent");
      return;
    }
    const run = this.run(batch, report).finally(() => {
      this.inFlight.delete(run);
      this.progress();
    });
    this.inFlight.add(run);
    this.settled.set(batch, run);
    this.progress();
  }

  /** Waits for every request in flight, then completes the result (positions in order). */
  async finish(): Promise<IngestResult> {
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
    const { result } = this;
    result.rejected.sort((a, b) => a.index - b.index);
    result.failed.sort((a, b) => a - b);
    result.unsent.sort((a, b) => a - b);
    result.complete = result.accepted === result.total;
    this.progress();
    return result;
  }

  private async run(batch: Batch<T>, report: IngestRequestReport): Promise<void> {
    if (batch.waitFor) await this.settled.get(batch.waitFor);
    const stopped = this.stopped;
    if (stopped !== undefined) {
      report.error = stopped;
      this.giveUp(batch, "unsent");
      return;
    }
    try {
      const outcome = await this.spec.send(batch);
      report.status = "accepted";
      report.httpStatus = 202;
      if (outcome) this.settle(batch, report, outcome);
      else {
        this.result.accepted += batch.members.length + batch.riders.length;
        this.result.duplicates += batch.riders.length;
      }
    } catch (error) {
      const message = messageOf(error);
      report.error = message;
      if (error instanceof ApiError) report.httpStatus = error.status;
      if (error instanceof ApiError && error.status >= 400 && error.status < 500 && !stopsTheRun(error)) {
        const mapped = this.spec.reasons(error, batch);
        const reasons = new Map<number, string>();
        for (const m of batch.members) reasons.set(m.position, mapped.get(m.position) ?? message);
        for (const r of batch.riders)
          reasons.set(r.position, `the same event as position ${r.of}: ${mapped.get(r.of) ?? message}`);
        this.refused(batch, reasons);
        report.status = "rejected";
      } else if (stopsTheRun(error)) {
        this.stopReason ??= this.spec.signal?.aborted
          ? `not sent: aborted (${messageOf(this.spec.signal.reason)})`
          : `not sent: an earlier request failed (${message})`;
        this.giveUp(batch, "unsent");
      } else {
        report.status = "failed";
        this.giveUp(batch, "failed");
      }
    }
  }

  /** A request accepted whose items came to different ends (`SendOutcome`). */
  private settle(batch: Batch<T>, report: IngestRequestReport, outcome: SendOutcome): void {
    if (outcome.report) Object.assign(report, outcome.report);
    if (outcome.stop !== undefined) this.stopReason ??= `not sent: ${outcome.stop}`;
    const { onUnsent, onRejected } = this.spec;
    const form = onUnsent || onRejected ? this.formsOf(batch) : undefined;
    const items: Array<{ position: number; of?: number; value?: T }> = [...batch.members, ...batch.riders];
    for (const m of items) {
      const of = m.of ?? m.position;
      const reason = outcome.rejected?.get(of);
      if (outcome.failed?.has(of)) {
        this.result.failed.push(m.position);
        if (onUnsent && form) onUnsent(form(m), m.position);
      } else if (reason !== undefined) {
        const why = of === m.position ? reason : `the same item as position ${of}: ${reason}`;
        this.result.rejected.push({ index: m.position, reason: why });
        if (onRejected && form) onRejected(form(m), m.position, why);
      } else {
        this.result.accepted++;
        if (of !== m.position) this.result.duplicates++;
      }
    }
  }

  private giveUp(batch: Batch<T>, as: "unsent" | "failed"): void {
    const list = as === "unsent" ? this.result.unsent : this.result.failed;
    const { onUnsent } = this.spec;
    const form = onUnsent ? this.formsOf(batch) : undefined;
    for (const m of [...batch.members, ...batch.riders]) {
      list.push(m.position);
      if (onUnsent && form) onUnsent(form(m), m.position);
    }
  }

  /** A request Klaviyo refused: each of its items rejected with its reason, and given to `onRejected`. */
  private refused(batch: Batch<T>, reasons: ReadonlyMap<number, string>): void {
    const { onRejected } = this.spec;
    const form = onRejected ? this.formsOf(batch) : undefined;
    for (const m of [...batch.members, ...batch.riders]) {
      const reason = reasons.get(m.position) as string;
      this.result.rejected.push({ index: m.position, reason });
      if (onRejected && form) onRejected(form(m), m.position, reason);
    }
  }

  /** Each item of a request in the form it is read again (the same form for `onUnsent` and `onRejected`). */
  private formsOf(batch: Batch<T>): (m: { position: number; value?: T }) => unknown {
    const { unsentOf, unsentForm } = this.spec;
    if (unsentOf) {
      const forms = unsentOf(batch);
      return (m) => forms.get(m.position);
    }
    return (m) => unsentForm(m.value as T);
  }
}
