/**
 * What `klaviyo changes` and `klaviyo sync` share: their flags read and checked before anything is sent, a metric
 * found by its name, files written atomically, and stdout written before a checkpoint is saved.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { KlaviyoClient } from "../core/client.js";
import { STREAM_NAMES, type StreamName } from "../feed/index.js";
import { isoDateTime } from "../klaviyo/formats.js";
import { flagError, type Io, processIo } from "./output.js";

/** Streams Klaviyo gives no change cursor for: `klaviyo sync` takes a snapshot of them instead. */
export const SNAPSHOT_STREAMS = ["metrics", "tags"] as const;
export type SnapshotStream = (typeof SNAPSHOT_STREAMS)[number];

/** A whole number of seconds from a flag, within bounds; undefined when not given. */
export function secondsOf(
  flag: string,
  value: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max))
    throw flagError(flag, `must be a whole number of seconds from ${min} to ${max}`);
  return n;
}

/** `--since`: an ISO 8601 date or time (a date alone is midnight UTC), normalised; undefined when not given. */
export function sinceOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const iso = isoDateTime(value);
  if (iso === undefined || Number.isNaN(Date.parse(iso))) {
    throw flagError(
      "--since",
      `${JSON.stringify(value)} is not a date: give an ISO 8601 date or time, such as 2026-01-31 or 2026-01-31T12:00:00Z`,
    );
  }
  return iso;
}

/** A change stream by its name, or a usage error naming every valid one (and saying where metrics and tags are). */
export function changeStreamOf(name: string, label: string): StreamName {
  if ((STREAM_NAMES as readonly string[]).includes(name)) return name as StreamName;
  if ((SNAPSHOT_STREAMS as readonly string[]).includes(name)) {
    throw flagError(
      label,
      `Klaviyo gives no change cursor for ${name}: klaviyo sync ${name} --state FILE --out DIR takes a snapshot of them, marking those no longer there as deleted`,
    );
  }
  throw flagError(label, `${JSON.stringify(name)} is not a stream: give one of ${STREAM_NAMES.join(", ")}`);
}

/** `--metric-id` or `--metric` (a name, found with List Metrics), at most one, and only where events are read. */
export function checkMetricFlags(
  flags: { metric?: string; metricId?: string },
  events: boolean,
  where: string,
): void {
  if (flags.metric !== undefined && flags.metricId !== undefined)
    throw flagError("--metric", "and --metric-id both name the metric: give one of them");
  const given =
    flags.metric !== undefined ? "--metric" : flags.metricId !== undefined ? "--metric-id" : undefined;
  if (given && !events) throw flagError(given, `applies to the events stream only, not ${where}`);
  if (flags.metric !== undefined && flags.metric.trim() === "")
    throw flagError("--metric", "is empty: give a metric's name, such as 'Placed Order'");
}

interface MetricRecord {
  id: string;
  attributes?: { name?: string; integration?: { name?: string } | null };
}

/**
 * The ID of the metric named `name` (exactly), read from List Metrics page by page. No metric of that name, or
 * several (one per integration), is a usage error that names what there is.
 */
export async function metricIdByName(
  client: KlaviyoClient,
  name: string,
  signal?: AbortSignal,
): Promise<string> {
  const matches: MetricRecord[] = [];
  const names = new Set<string>();
  for await (const metric of client.paginateItems<MetricRecord>({
    method: "GET",
    path: "/api/metrics",
    operation: "get_metrics",
    ...(signal ? { signal } : {}),
  })) {
    const its = metric.attributes?.name;
    if (its === name) matches.push(metric);
    else if (typeof its === "string") names.add(its);
  }
  const [only, ...others] = matches;
  if (only && others.length === 0) return only.id;
  if (only) {
    const listed = matches
      .map((m) => `${m.id} (${m.attributes?.integration?.name ?? "no integration"})`)
      .join(", ");
    throw flagError(
      "--metric",
      `${matches.length} metrics are named ${JSON.stringify(name)}: ${listed}; give one with --metric-id`,
    );
  }
  const known = [...names].sort();
  const shown = known.length > 30 ? `${known.slice(0, 30).join(", ")}, …` : known.join(", ");
  throw flagError(
    "--metric",
    `no metric is named ${JSON.stringify(name)} (names are exact, case included)${known.length > 0 ? `; the account's metrics: ${shown}` : "; the account has no metrics"}`,
  );
}

/** A file's directory must exist, and the path must not be a directory: checked before anything is sent. */
export function checkWritableFile(flag: string, path: string): void {
  const dir = dirname(resolve(path));
  let ok = false;
  try {
    ok = statSync(dir).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) throw flagError(flag, `cannot write ${path}: its directory ${dir} does not exist`);
  try {
    if (statSync(path).isDirectory()) throw flagError(flag, `${path} is a directory, not a file`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

let temporaries = 0;

/** A temporary file's path beside `path` (same directory, so a rename replaces `path` atomically). */
export function temporaryBeside(path: string): string {
  temporaries += 1;
  return join(dirname(path), `.${basename(path)}.${process.pid}.${temporaries}.tmp`);
}

/**
 * Writes `text` to `path` atomically: to a temporary file in the same directory, flushed to disk, then renamed
 * over `path`. A reader (or a crash) sees the old file or the new one, never a part.
 */
export function writeFileAtomic(path: string, text: string): void {
  const temporary = temporaryBeside(path);
  try {
    const fd = openSync(temporary, "w");
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/**
 * Writes to stdout and resolves once the text is handed to the operating system (for the process's own stdout,
 * the write's callback), so a checkpoint saved after it never runs ahead of what was printed; rejects if stdout
 * is gone (a closed pipe).
 */
export function stdoutWriter(io: Io): (text: string) => Promise<void> {
  if (io !== processIo) {
    return async (text) => {
      io.stdout(text);
    };
  }
  return (text) =>
    new Promise<void>((done, fail) => {
      process.stdout.write(text, (error) => (error ? fail(error) : done()));
    });
}
