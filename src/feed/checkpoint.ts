/**
 * A change feed's checkpoint: plain JSON, saved after every page, from which the next run (or a run restarted
 * after a crash) carries on with nothing lost and nothing repeated.
 *
 * Per partition it holds the watermark: the latest change time seen (`at`) and the IDs of the records seen at
 * exactly that time (`ids`), since Klaviyo reports whole seconds and more may share the second. A walk in
 * progress adds its upper bound (`until`) and the cursor of its next page, so a restart resumes mid-walk. Events
 * also keep, for the lookback, a digest of the IDs already delivered per hour of their time (`delivered`).
 */
import * as v from "valibot";
import { STREAM_NAMES, type StreamName, type StreamScope } from "./streams.js";

const isoTime = v.pipe(
  v.string(),
  v.check((s) => !Number.isNaN(Date.parse(s)), "not a date-time"),
);

const watermark = v.object({
  /** Every change before this time has been delivered (ISO 8601). */
  at: isoTime,
  /** The records delivered at exactly `at`. */
  ids: v.array(v.string()),
  /** A walk in progress: its upper bound, the watermark it began at, and the cursor of its next page. */
  walk: v.optional(v.object({ until: isoTime, from: v.optional(isoTime), cursor: v.optional(v.string()) })),
});

const checkpointSchema = v.object({
  v: v.literal(1),
  stream: v.picklist(STREAM_NAMES),
  scope: v.object({
    listId: v.optional(v.string()),
    segmentId: v.optional(v.string()),
    metricId: v.optional(v.string()),
  }),
  partitions: v.record(v.string(), watermark),
  /** Events: hour (epoch ms of its start) → space-separated digests of the event IDs delivered in that hour. */
  delivered: v.optional(v.record(v.string(), v.string())),
});

export type Watermark = v.InferOutput<typeof watermark>;
export type FeedCheckpoint = v.InferOutput<typeof checkpointSchema>;

/** A checkpoint from JSON text or a parsed value, checked; an error says what is wrong with it. */
export function parseCheckpoint(value: unknown): FeedCheckpoint {
  let parsed = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new TypeError("The checkpoint is not JSON.");
    }
  }
  const result = v.safeParse(checkpointSchema, parsed);
  if (!result.success) {
    const issue = result.issues[0];
    const where = issue.path?.map((p) => String(p.key)).join(".") ?? "";
    throw new TypeError(
      `The checkpoint is not a change feed's checkpoint${where ? ` (at ${where})` : ""}: ${issue.message}`,
    );
  }
  return result.output;
}

/** Refuses a checkpoint made for another stream or scope, which would silently skip or repeat changes. */
export function checkCheckpointFor(checkpoint: FeedCheckpoint, stream: StreamName, scope: StreamScope): void {
  if (checkpoint.stream !== stream) {
    throw new TypeError(`The checkpoint is for the ${checkpoint.stream} stream, not ${stream}.`);
  }
  for (const key of ["listId", "segmentId", "metricId"] as const) {
    if ((checkpoint.scope[key] ?? undefined) !== (scope[key] ?? undefined)) {
      throw new TypeError(
        `The checkpoint was made with ${key} ${JSON.stringify(checkpoint.scope[key] ?? null)}, not ${JSON.stringify(scope[key] ?? null)}.`,
      );
    }
  }
}

/**
 * A 53-bit digest of an event ID (cyrb53), in base 36: the lookback needs to know whether an ID was delivered,
 * not the ID itself, and a digest is about a third of its size. Two IDs of one hour sharing a digest (odds
 * about n² / 2⁵⁴ for n events in the hour) would make the later one look delivered.
 */
export function digest(id: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < id.length; i++) {
    const ch = id.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}
