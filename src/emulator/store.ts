/**
 * Tables of resources in memory. Every row gets a sequence number when it is created; lists are served in that
 * order (or sorted with it as the tie-break), which is what lets cursors stay valid while rows come and go.
 */
import { randomFillSync } from "node:crypto";

/** A stored resource: Klaviyo's wire attributes as they would be returned, plus its place in creation order. */
export interface ResourceRow {
  readonly id: string;
  readonly seq: number;
  attributes: Record<string, unknown>;
}

export class Table<R extends ResourceRow> {
  private readonly rows = new Map<string, R>();
  private nextSeq = 1;
  /** The rows as an array and what is known of their order, until a row is inserted or deleted. */
  private snapshot: { rows: R[]; nonDecreasing: Map<string, boolean> } | undefined;

  constructor(rows: Iterable<R> = []) {
    for (const row of rows) {
      this.rows.set(row.id, row);
      this.nextSeq = Math.max(this.nextSeq, row.seq + 1);
    }
  }

  /** The sequence number the next row will get. */
  seq(): number {
    return this.nextSeq++;
  }

  insert(row: R): R {
    if (this.rows.has(row.id)) throw new Error(`duplicate id ${row.id}`);
    this.rows.set(row.id, row);
    this.snapshot = undefined;
    return row;
  }

  get(id: string): R | undefined {
    return this.rows.get(id);
  }

  delete(id: string): boolean {
    this.snapshot = undefined;
    return this.rows.delete(id);
  }

  get size(): number {
    return this.rows.size;
  }

  clear(): void {
    this.snapshot = undefined;
    this.rows.clear();
  }

  /** Rows in creation order. */
  values(): IterableIterator<R> {
    return this.rows.values();
  }

  /** Rows in creation order, as an array kept until a row is inserted or deleted (do not change it). */
  ordered(): readonly R[] {
    this.snapshot ??= { rows: [...this.rows.values()], nonDecreasing: new Map() };
    return this.snapshot.rows;
  }

  /**
   * Whether `time(row)` (epoch ms) is defined and never decreases along `ordered()`: checked once per set of rows,
   * and only meaningful for a field no row changes after its creation (`created`), which the caller names as `field`.
   */
  nonDecreasing(field: string, time: (row: R) => number | undefined): boolean {
    const rows = this.ordered();
    const known = this.snapshot?.nonDecreasing.get(field);
    if (known !== undefined) return known;
    let last = Number.NEGATIVE_INFINITY;
    let holds = true;
    for (const row of rows) {
      const t = time(row);
      if (t === undefined || t < last) {
        holds = false;
        break;
      }
      last = t;
    }
    this.snapshot?.nonDecreasing.set(field, holds);
    return holds;
  }

  toJSON(): R[] {
    return [...this.rows.values()];
  }
}

/**
 * Random bytes for ids, drawn from a pool filled 8 KB at a time: one `randomBytes` call per id cost more than
 * recording the event itself in bulk jobs. (Ids need to be unique, not secret; the pool is still CSPRNG output.)
 */
const pool = Buffer.alloc(8192);
let poolOffset = pool.length;

export function randomPoolBytes(n: number): Buffer {
  if (poolOffset + n > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = pool.subarray(poolOffset, poolOffset + n);
  poolOffset += n;
  return out;
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** A short id as Klaviyo gives lists, segments, metrics and templates (`Y6nRLr`). */
export function shortId(length = 6): string {
  const bytes = randomPoolBytes(length);
  let out = "";
  for (const b of bytes) out += BASE62[b % 62];
  return out;
}

/** A ULID, as Klaviyo gives profiles, campaigns and their messages (`01GDDKASAP8TKDDA2GRZDSVP4H`). */
export function ulid(now: number): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let random = "";
  for (const b of randomPoolBytes(16)) random += CROCKFORD[b % 32];
  return time + random;
}

/**
 * Klaviyo's timestamps as it reports them: ISO 8601 in UTC with an explicit offset, to the whole second
 * (`2026-01-01T10:00:00+00:00`): `created`, `updated`, `created_at`, `updated_at`, `joined_group_at`, an
 * event's `datetime`, a suppression's `timestamp`. Everything the emulator records goes through here, so two
 * writes within one second carry the same time, as on Klaviyo; lists sorted on such a time break the tie by
 * creation order (`seq`), which keeps keyset cursors stable.
 */
export function isoNow(now: number): string {
  return new Date(Math.floor(now / 1000) * 1000).toISOString().replace(".000Z", "+00:00");
}
