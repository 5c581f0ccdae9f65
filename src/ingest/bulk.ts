import { ApiError, KlaviyoError } from "../core/errors.js";

/** What became of each request of a bulk action. */
export interface ChunkReport {
  /** Items `from` (inclusive) to `to` (exclusive), by input position. */
  from: number;
  to: number;
  /**
   * `accepted`: Klaviyo took it (202). `rejected`: Klaviyo refused it (4xx), nothing of it was recorded.
   * `failed`: sent, but no clear answer (a 5xx or a dropped connection after retries): it may or may not have
   * been recorded. `unsent`: never sent, because an earlier request failed in a way that stops the run.
   */
  status: "accepted" | "rejected" | "failed" | "unsent";
  httpStatus?: number;
  error?: string;
}

/** The outcome of a bulk action, item by item: nothing is lost without saying so. */
export interface BulkResult {
  total: number;
  accepted: number;
  /** Items Klaviyo refused, by input position, with its reason. */
  rejected: Array<{ index: number; reason: string }>;
  /** Items whose request failed without a clear answer (see `ChunkReport.status`). */
  failed: number[];
  /** Items never sent. */
  unsent: number[];
  /** True when every item was accepted. */
  complete: boolean;
  requests: ChunkReport[];
}

/**
 * Splits items into requests of at most `maxItems` items and `maxBytes` bytes (as `sizeOf` measures each item
 * on the wire). An item larger than `maxBytes` alone still gets a request of its own: Klaviyo says why it is
 * refused.
 */
export function chunkRanges<T>(
  items: readonly T[],
  maxItems: number,
  maxBytes: number,
  sizeOf: (item: T) => number,
): Array<{ from: number; to: number }> {
  const ranges: Array<{ from: number; to: number }> = [];
  let from = 0;
  let bytes = 0;
  for (let i = 0; i < items.length; i++) {
    const size = sizeOf(items[i] as T);
    if (i > from && (i - from >= maxItems || bytes + size > maxBytes)) {
      ranges.push({ from, to: i });
      from = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (from < items.length) ranges.push({ from, to: items.length });
  return ranges;
}

/** Errors that stop a bulk run: later requests would fail the same way (credentials, scopes, a daily cap, abort). */
function stopsTheRun(error: unknown): boolean {
  if (error instanceof ApiError) return error.status === 401 || error.status === 403 || error.status === 429;
  return !(error instanceof KlaviyoError);
}

/**
 * Sends each range with `send`, in order, and reports every item. A refused request (4xx) marks its items
 * rejected, each with the reason `reasons` maps from Klaviyo's error pointers (or the request's message), and
 * the run goes on; an error that would repeat (401, 403, a 429 past retrying, an abort) stops it, the rest
 * reported unsent.
 */
export async function sendInChunks(
  ranges: ReadonlyArray<{ from: number; to: number }>,
  send: (range: { from: number; to: number }) => Promise<void>,
  reasons: (error: ApiError, range: { from: number; to: number }) => Map<number, string>,
): Promise<BulkResult> {
  const total = ranges.length > 0 ? (ranges[ranges.length - 1] as { to: number }).to : 0;
  const result: BulkResult = {
    total,
    accepted: 0,
    rejected: [],
    failed: [],
    unsent: [],
    complete: false,
    requests: [],
  };
  let stopped: string | undefined;
  for (const range of ranges) {
    const indices = Array.from({ length: range.to - range.from }, (_, i) => range.from + i);
    if (stopped) {
      result.unsent.push(...indices);
      result.requests.push({ ...range, status: "unsent", error: stopped });
      continue;
    }
    try {
      await send(range);
      result.accepted += indices.length;
      result.requests.push({ ...range, status: "accepted", httpStatus: 202 });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof ApiError && error.status >= 400 && error.status < 500 && !stopsTheRun(error)) {
        const mapped = reasons(error, range);
        for (const index of indices) result.rejected.push({ index, reason: mapped.get(index) ?? message });
        result.requests.push({ ...range, status: "rejected", httpStatus: error.status, error: message });
        continue;
      }
      if (stopsTheRun(error)) {
        stopped = `not sent: an earlier request failed (${message})`;
        result.unsent.push(...indices);
        result.requests.push({
          ...range,
          status: "unsent",
          error: message,
          ...(error instanceof ApiError ? { httpStatus: error.status } : {}),
        });
        continue;
      }
      result.failed.push(...indices);
      result.requests.push({
        ...range,
        status: "failed",
        error: message,
        ...(error instanceof ApiError ? { httpStatus: error.status } : {}),
      });
    }
  }
  result.complete = result.accepted === total;
  return result;
}

/**
 * Maps Klaviyo's `source.pointer`s to item positions: `indexOf` reads the item's place in the request from a
 * pointer (`/data/attributes/profiles/data/3/...` → 3), and the range turns it into an input position.
 */
export function reasonsByPointer(
  indexOf: (pointer: string) => number | undefined,
): (error: ApiError, range: { from: number; to: number }) => Map<number, string> {
  return (error, range) => {
    const out = new Map<number, string>();
    for (const entry of error.errors) {
      const pointer = entry.source?.pointer;
      const at = pointer ? indexOf(pointer) : undefined;
      if (at === undefined) continue;
      const reason = `${entry.detail ?? entry.title ?? entry.code ?? "refused"}${pointer ? ` [${pointer}]` : ""}`;
      const index = range.from + at;
      out.set(index, out.has(index) ? `${out.get(index)}; ${reason}` : reason);
    }
    return out;
  };
}
