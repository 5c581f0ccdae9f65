/**
 * `klaviyo sync <streams…> --state FILE --out DIR`: one NDJSON file per stream kept up to date, one line per
 * record (by ID), and one state file holding every stream's checkpoint.
 *
 * A change stream's file is appended to a page at a time (the page flushed to disk before the state that says it
 * was handled), then compacted when the stream's run ends: the last line of each ID is kept, in a file written
 * beside it and renamed over it. A crash leaves at worst a partial last line, cut at the next run, and lines of
 * changes after the saved checkpoint, which the next run delivers again (the later line of an ID wins). Memory
 * holds a page, and in compaction the IDs of the file, never its records.
 *
 * Streams Klaviyo gives no change cursor for (metrics, tags) are read whole each run into a new file; the
 * records of the old file no longer there are written as deleted, with the time of the snapshot that found them
 * gone, and stay so (a record that comes back replaces its deletion).
 */
import {
  closeSync,
  createReadStream,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import type { Command } from "commander";
import type { KlaviyoClient } from "../../core/client.js";
import {
  type Change,
  changeFeed,
  checkCheckpointFor,
  type FeedCheckpoint,
  type FeedRecord,
  initialCheckpoint,
  parseCheckpoint,
  STREAM_NAMES,
  type StreamName,
  type StreamScope,
} from "../../feed/index.js";
import { addConnectionOptions, checkConnectionFlags, clientFromFlags } from "../connection.js";
import {
  checkMetricFlags,
  checkWritableFile,
  metricIdByName,
  SNAPSHOT_STREAMS,
  type SnapshotStream,
  temporaryBeside,
  writeFileAtomic,
} from "../feed-flags.js";
import { EXIT_OK, flagError, formatJson, type Io } from "../output.js";
import { tuneHeapForStreaming } from "../streaming-heap.js";
import {
  addFeedOptions,
  asFlagError,
  type FeedFlags,
  feedSettings,
  reportFeedError,
  scopeOf,
} from "./changes.js";

interface SyncFlags extends FeedFlags {
  state: string;
  out: string;
}

/** A change stream's entry in the state: its checkpoint, and whether its file is compacted (one line per ID). */
interface ChangeEntry {
  checkpoint: FeedCheckpoint;
  compacted: boolean;
}

/** A snapshot stream's entry: when its last snapshot was taken. */
interface SnapshotEntry {
  snapshot_at: string;
}

interface SyncState {
  v: 1;
  streams: Record<string, ChangeEntry | SnapshotEntry | undefined>;
}

/** With no checkpoint and no --since, sync reads everything. */
const EPOCH = "1970-01-01T00:00:00Z";

const SNAPSHOT_SOURCES: Readonly<Record<SnapshotStream, { path: string; operation: string }>> = {
  metrics: { path: "/api/metrics", operation: "get_metrics" },
  tags: { path: "/api/tags", operation: "get_tags" },
};

type SyncStream = StreamName | SnapshotStream;

const isSnapshot = (stream: SyncStream): stream is SnapshotStream =>
  (SNAPSHOT_STREAMS as readonly string[]).includes(stream);

function streamsOf(names: readonly string[]): SyncStream[] {
  const valid: readonly string[] = [...STREAM_NAMES, ...SNAPSHOT_STREAMS];
  const unknown = names.filter((n) => !valid.includes(n));
  if (unknown.length > 0) {
    throw flagError(
      "<streams…>",
      `${unknown.map((n) => JSON.stringify(n)).join(", ")} ${unknown.length > 1 ? "are not streams" : "is not a stream"}: give any of ${valid.join(", ")}`,
    );
  }
  return [...new Set(names)] as SyncStream[];
}

/** The state file, checked; an empty state when it does not exist yet. */
function readSyncState(path: string): SyncState {
  if (!existsSync(path)) return { v: 1, streams: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw flagError("--state", `${path} is not JSON`);
  }
  const state = parsed as Partial<SyncState> | null;
  if (
    typeof state !== "object" ||
    state === null ||
    state.v !== 1 ||
    typeof state.streams !== "object" ||
    state.streams === null
  )
    throw flagError("--state", `${path} is not the state of klaviyo sync ({"v": 1, "streams": {…}})`);
  return state as SyncState;
}

/** A stream's entry in the state, checked against the stream and its scope. */
function entryOf(
  state: SyncState,
  path: string,
  stream: SyncStream,
  scope: StreamScope,
): ChangeEntry | SnapshotEntry | undefined {
  const entry = state.streams[stream];
  if (entry === undefined) return undefined;
  const bad = (why: string) => flagError("--state", `${path}, stream ${stream}: ${why}`);
  if (isSnapshot(stream)) {
    if (typeof (entry as SnapshotEntry).snapshot_at !== "string") throw bad("not a snapshot's entry");
    return entry;
  }
  const change = entry as Partial<ChangeEntry>;
  let checkpoint: FeedCheckpoint;
  try {
    checkpoint = parseCheckpoint(change.checkpoint);
    checkCheckpointFor(checkpoint, stream, scope);
  } catch (error) {
    throw bad(
      `${(error as Error).message} Give the flags it was made with, or another state file and directory.`,
    );
  }
  return { checkpoint, compacted: change.compacted !== false };
}

/** Removes temporary files a killed run left beside `path` (those of processes no longer running). */
function removeStaleTemporaries(path: string): void {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = name.startsWith(prefix) ? /^(\d+)\.\d+\.tmp$/.exec(name.slice(prefix.length)) : null;
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && !running(pid)) rmSync(join(dir, name), { force: true });
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Makes `file` exist and end with a whole line: a crash while appending may have left part of one. */
function repairTail(file: string): void {
  if (!existsSync(file)) {
    closeSync(openSync(file, "a"));
    return;
  }
  const size = statSync(file).size;
  if (size === 0) return;
  const fd = openSync(file, "r");
  try {
    const chunk = Buffer.alloc(64 * 1024);
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const read = readSync(fd, chunk, 0, end - start, start);
      const at = chunk.subarray(0, read).lastIndexOf(0x0a);
      if (at >= 0) {
        const keep = start + at + 1;
        if (keep < size) truncateSync(file, keep);
        return;
      }
      end = start;
    }
    truncateSync(file, 0);
  } finally {
    closeSync(fd);
  }
}

/** The ID a line of ours starts with (`{"id":"…"`), else the `id` of the JSON line; undefined for none. */
function idOfLine(line: string): string | undefined {
  const m = /^\{"id":("(?:[^"\\]|\\.)*")/.exec(line);
  if (m?.[1]) return JSON.parse(m[1]) as string;
  try {
    const value = JSON.parse(line) as { id?: unknown } | null;
    return typeof value?.id === "string" ? value.id : undefined;
  } catch {
    return undefined;
  }
}

function lines(file: string): AsyncIterable<string> {
  return createInterface({
    input: createReadStream(file, { encoding: "utf8" }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
}

/** Writes text to a file descriptor in chunks of about a megabyte. */
function bufferedWriter(fd: number) {
  let pending: string[] = [];
  let size = 0;
  const flush = () => {
    if (pending.length > 0) writeSync(fd, pending.join(""));
    pending = [];
    size = 0;
  };
  return {
    write(text: string) {
      pending.push(text);
      size += text.length;
      if (size >= 1 << 20) flush();
    },
    flush,
  };
}

/**
 * Replaces `file` with what `fill` writes, atomically: a temporary file beside it, flushed and synced, then
 * renamed over it; on an error the temporary file goes and `file` is as it was.
 */
async function replaceFile<T>(
  file: string,
  fill: (out: ReturnType<typeof bufferedWriter>) => Promise<T>,
): Promise<T> {
  const temporary = temporaryBeside(file);
  const fd = openSync(temporary, "w");
  let result: T;
  try {
    const out = bufferedWriter(fd);
    result = await fill(out);
    out.flush();
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temporary, file);
  return result;
}

/** Keeps the last line of each ID, in a file renamed over `file`; returns the lines kept. */
async function compact(file: string): Promise<number> {
  const last = new Map<string, number>();
  let index = 0;
  for await (const line of lines(file)) {
    const id = idOfLine(line);
    if (id !== undefined) last.set(id, index);
    index++;
  }
  return replaceFile(file, async (out) => {
    let kept = 0;
    index = 0;
    for await (const line of lines(file)) {
      const id = idOfLine(line);
      if (id !== undefined && last.get(id) === index) {
        out.write(`${line}\n`);
        kept++;
      }
      index++;
    }
    return kept;
  });
}

/** How many lines a file holds. */
async function lineCount(file: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(file)) {
    const bytes = chunk as Buffer;
    for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) n++;
  }
  return n;
}

/** A change stream's line: the record's ID and type first (for upserts by ID), the change, the record as sent. */
function syncLine(change: Change): string {
  const { record } = change;
  return `${JSON.stringify({
    id: record.id,
    type: record.type,
    change: change.change,
    at: change.at,
    record,
    ...(change.related ? { related: change.related } : {}),
  })}\n`;
}

interface StreamReport {
  file: string;
  changes?: number;
  records: number;
  deleted?: number;
}

interface SyncContext {
  client: KlaviyoClient;
  state: SyncState;
  save: () => void;
  settings: ReturnType<typeof feedSettings>;
}

async function syncChangeStream(
  ctx: SyncContext,
  stream: StreamName,
  file: string,
  scope: StreamScope,
  entry: ChangeEntry | undefined,
): Promise<StreamReport> {
  const { settings } = ctx;
  repairTail(file);
  let compacted = entry?.compacted ?? true;
  let checkpoint =
    entry?.checkpoint ??
    initialCheckpoint({
      stream,
      ...scope,
      since: settings.since ?? EPOCH,
      ...(settings.lookbackSeconds !== undefined ? { lookbackSeconds: settings.lookbackSeconds } : {}),
    });
  const record = () => {
    ctx.state.streams[stream] = { checkpoint, compacted };
    ctx.save();
  };
  if (!entry) record();
  let changes = 0;
  const fd = openSync(file, "a");
  try {
    for await (const page of changeFeed(ctx.client, {
      stream,
      ...scope,
      checkpoint,
      ...(settings.horizonSeconds !== undefined ? { horizonSeconds: settings.horizonSeconds } : {}),
      ...(settings.lookbackSeconds !== undefined ? { lookbackSeconds: settings.lookbackSeconds } : {}),
    })) {
      if (page.changes.length > 0) {
        // On disk before the state says the page was handled.
        writeSync(fd, page.changes.map(syncLine).join(""));
        fsyncSync(fd);
        changes += page.changes.length;
        compacted = false;
      }
      checkpoint = page.checkpoint;
      record();
    }
  } finally {
    closeSync(fd);
  }
  let records: number;
  if (!compacted) {
    records = await compact(file);
    compacted = true;
    record();
  } else records = await lineCount(file);
  return { file, changes, records };
}

async function syncSnapshot(ctx: SyncContext, stream: SnapshotStream, file: string): Promise<StreamReport> {
  const source = SNAPSHOT_SOURCES[stream];
  const seen = new Set<string>();
  let deleted = 0;
  const at = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  await replaceFile(file, async (out) => {
    for await (const record of ctx.client.paginateItems<FeedRecord>({
      method: "GET",
      path: source.path,
      operation: source.operation,
    })) {
      if (seen.has(record.id)) continue;
      seen.add(record.id);
      out.write(`${JSON.stringify({ id: record.id, type: record.type, record })}\n`);
    }
    if (existsSync(file)) {
      for await (const line of lines(file)) {
        const id = idOfLine(line);
        if (id === undefined || seen.has(id)) continue;
        seen.add(id);
        const old = JSON.parse(line) as { type?: string; deleted?: boolean; record?: FeedRecord };
        if (old.deleted === true) out.write(`${line}\n`);
        else {
          out.write(
            `${JSON.stringify({ id, type: old.type ?? old.record?.type, deleted: true, deleted_at: at, record: old.record })}\n`,
          );
          deleted++;
        }
      }
    }
  });
  ctx.state.streams[stream] = { snapshot_at: at };
  ctx.save();
  return { file, records: seen.size, deleted };
}

/** Runs `klaviyo sync`; returns the exit code. */
export async function runSync(names: readonly string[], flags: SyncFlags, io: Io): Promise<number> {
  try {
    checkConnectionFlags(flags);
    const streams = streamsOf(names);
    const changeStreams = streams.filter((s): s is StreamName => !isSnapshot(s));
    checkMetricFlags(flags, streams.includes("events"), "these streams (add events)");
    const scopedBy: Array<[keyof FeedFlags, string, StreamName]> = [
      ["listId", "--list-id", "list-members"],
      ["segmentId", "--segment-id", "segment-members"],
    ];
    for (const [key, flag, stream] of scopedBy) {
      if (flags[key] !== undefined && !streams.includes(stream))
        throw flagError(flag, `is the ${stream} stream's: add ${stream} to the streams, or leave it out`);
    }
    const settings = feedSettings(flags, changeStreams);
    const scope = scopeOf(flags);
    const scopeFor = (stream: StreamName, metricId = scope.metricId): StreamScope => ({
      ...(stream === "list-members" && scope.listId !== undefined ? { listId: scope.listId } : {}),
      ...(stream === "segment-members" && scope.segmentId !== undefined
        ? { segmentId: scope.segmentId }
        : {}),
      ...(stream === "events" && metricId !== undefined ? { metricId } : {}),
    });
    for (const stream of changeStreams) {
      try {
        initialCheckpoint({ stream, ...scopeFor(stream), ...settings });
      } catch (error) {
        throw asFlagError(error);
      }
    }
    checkWritableFile("--state", flags.state);
    const out = resolve(flags.out);
    if (existsSync(out) && !statSync(out).isDirectory())
      throw flagError("--out", `${flags.out} is not a directory`);
    if (!existsSync(dirname(out)))
      throw flagError("--out", `cannot make ${flags.out}: ${dirname(out)} does not exist`);
    const state = readSyncState(flags.state);
    const fileOf = (stream: SyncStream) => join(flags.out, `${stream}.ndjson`);
    const entries = new Map<SyncStream, ChangeEntry | SnapshotEntry | undefined>();
    for (const stream of streams) {
      // The metric named by --metric is checked against the state once it is found.
      const entryScope = isSnapshot(stream)
        ? {}
        : scopeFor(
            stream,
            flags.metric !== undefined
              ? (state.streams[stream] as ChangeEntry | undefined)?.checkpoint?.scope?.metricId
              : scope.metricId,
          );
      const entry = entryOf(state, flags.state, stream, entryScope);
      if (entry && !isSnapshot(stream) && !existsSync(fileOf(stream)))
        throw flagError(
          "--out",
          `${fileOf(stream)} is missing, but ${flags.state} says its changes up to its checkpoint were written there: to sync ${stream} again from the start, remove its entry from the state (or use another state file)`,
        );
      entries.set(stream, entry);
    }
    if (flags.since !== undefined && changeStreams.every((s) => entries.get(s) !== undefined))
      io.stderr(
        `note: --since is not used: ${flags.state} holds where the last run of every stream stopped\n`,
      );
    tuneHeapForStreaming();
    const client = clientFromFlags(flags);
    let metricId = scope.metricId;
    if (flags.metric !== undefined) {
      metricId = await metricIdByName(client, flags.metric);
      if (entries.get("events")) entryOf(state, flags.state, "events", scopeFor("events", metricId));
    }
    mkdirSync(out, { recursive: true });
    const ctx: SyncContext = {
      client,
      state,
      settings,
      save: () => writeFileAtomic(flags.state, `${JSON.stringify(state)}\n`),
    };
    removeStaleTemporaries(flags.state);
    const report: Record<string, StreamReport> = {};
    for (const stream of streams) {
      const file = fileOf(stream);
      removeStaleTemporaries(file);
      report[stream] = isSnapshot(stream)
        ? await syncSnapshot(ctx, stream, file)
        : await syncChangeStream(
            ctx,
            stream,
            file,
            scopeFor(stream, metricId),
            entries.get(stream) as ChangeEntry | undefined,
          );
    }
    io.stdout(
      formatJson({ state: flags.state, out: flags.out, streams: report }, io.stdoutIsTerminal === true),
    );
    return EXIT_OK;
  } catch (error) {
    return reportFeedError(error, io, flags);
  }
}

/** `klaviyo sync <streams…> --state FILE --out DIR`. */
export function registerSyncCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  const command = program
    .command("sync <streams...>")
    .description(
      "keep one NDJSON file per stream in a directory up to date (upserts by ID; metrics and tags as snapshots, deletions marked), every checkpoint in one state file",
    )
    .requiredOption(
      "--state <file>",
      "the state: every stream's checkpoint, written atomically after each page",
    )
    .requiredOption(
      "--out <dir>",
      "the directory of the files, one per stream: DIR/<stream>.ndjson (made if missing)",
    );
  addFeedOptions(command);
  addConnectionOptions(command);
  command.addHelpText(
    "after",
    `
Change streams (${STREAM_NAMES.join(", ")}):
read as changes since the last run (with no checkpoint yet, since --since, or from the start). Snapshot streams
(${SNAPSHOT_STREAMS.join(", ")}): Klaviyo gives no change cursor for them, so each run reads them whole.
Each line of DIR/<stream>.ndjson is one record, by ID: {"id", "type", "change", "at", "record"} ("related" too
for events: their metric and profile), "record" as Klaviyo sent it; a record changed again replaces its line
when the stream's run ends (while it runs, a file may hold both lines; the later one wins). In metrics.ndjson
and tags.ndjson, a record no longer in Klaviyo becomes {"id", "type", "deleted": true, "deleted_at", "record"}
(its last version; "deleted_at" the time of the snapshot that found it gone). Removals from a list or segment
are not in Klaviyo's API: list-members and segment-members only gain members. One --list-id, --segment-id and
metric per state file. Prints a summary: per stream its file, the changes read, the records it holds, the
records it found deleted.

Examples:
  $ klaviyo sync profiles lists tags metrics --state sync.json --out data
  $ klaviyo sync profiles lists tags metrics --state sync.json --out data
  $ klaviyo sync events --metric 'Placed Order' --lookback 0 --state events.json --out data`,
  );
  command.action(async (streams: string[], flags: SyncFlags) => {
    setExit(await runSync(streams, flags, io));
  });
}
