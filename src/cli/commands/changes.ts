import { existsSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { Command } from "commander";
import {
  ConnectionError,
  InputValidationError,
  RateLimitError,
  ServerError,
  TimeoutError,
} from "../../core/errors.js";
import {
  type Change,
  changeFeed,
  checkCheckpointFor,
  DEFAULT_HORIZON_SECONDS,
  DEFAULT_LOOKBACK_SECONDS,
  type FeedCheckpoint,
  initialCheckpoint,
  parseCheckpoint,
  STREAM_NAMES,
  type StreamName,
  type StreamScope,
} from "../../feed/index.js";
import { idProblem } from "../../klaviyo/identifiers.js";
import {
  addConnectionOptions,
  apiKeyOf,
  type ConnectionFlags,
  checkConnectionFlags,
  clientFromFlags,
} from "../connection.js";
import {
  changeStreamOf,
  checkMetricFlags,
  checkWritableFile,
  metricIdByName,
  secondsOf,
  sinceOf,
  stdoutWriter,
  writeFileAtomic,
} from "../feed-flags.js";
import { EXIT_FAILURE, EXIT_OK, flagError, type Io, reportError } from "../output.js";
import { onStopSignal } from "../signals.js";
import { tuneHeapForStreaming } from "../streaming-heap.js";

export interface FeedFlags extends ConnectionFlags {
  since?: string;
  metric?: string;
  metricId?: string;
  listId?: string;
  segmentId?: string;
  lookback?: string;
  horizon?: string;
  verbose?: boolean;
}

interface ChangesFlags extends FeedFlags {
  state?: string;
  follow?: boolean;
  interval?: string;
}

const MAX_LOOKBACK = 365 * 86_400;
const MAX_HORIZON = 86_400;

/** The feed's inputs by their flags: its errors name `List ID`, the command line says `--list-id`. */
const FLAG_OF: Readonly<Record<string, string>> = {
  listId: "--list-id",
  segmentId: "--segment-id",
  metricId: "--metric-id",
  since: "--since",
  lookback: "--lookback",
  horizon: "--horizon",
};

/** Reports an error of `changes` or `sync` (input errors named by their flags, the key masked); its exit code, never 0. */
export function reportFeedError(
  error: unknown,
  io: Io,
  flags: { apiKey?: string; verbose?: boolean },
): number {
  // The key scrubbed is the one in use: the flag's, or the environment's.
  const key = apiKeyOf(flags);
  const code = reportError(asFlagError(error), io, key ? [key] : [], flags.verbose === true);
  return code === EXIT_OK ? EXIT_FAILURE : code;
}

/** An input error of the feed, its inputs named by their flags. */
export function asFlagError(error: unknown): unknown {
  if (!(error instanceof InputValidationError) || error.constructor !== InputValidationError) return error;
  const issues = error.issues.map((issue) => {
    const flag = issue.key !== undefined ? FLAG_OF[issue.key] : undefined;
    return flag ? { ...issue, label: flag } : issue;
  });
  const context = /^(The [\w-]+ stream): /.exec(error.message)?.[1];
  return new InputValidationError(issues, context);
}

/** `--list-id`, `--segment-id` and `--metric-id` as the feed's scope (the metric by name comes later). */
export function scopeOf(flags: FeedFlags): StreamScope {
  if (flags.metricId !== undefined) {
    const problem = flags.metricId.trim() === "" ? "is empty" : idProblem(flags.metricId);
    if (problem) throw flagError("--metric-id", `${problem}: give a metric's ID, such as Y6nRLr`);
  }
  return {
    ...(flags.listId !== undefined ? { listId: flags.listId } : {}),
    ...(flags.segmentId !== undefined ? { segmentId: flags.segmentId } : {}),
    ...(flags.metricId !== undefined ? { metricId: flags.metricId } : {}),
  };
}

/** The flags every feed command reads, checked before anything is sent. */
export function feedSettings(flags: FeedFlags, streams: readonly StreamName[]) {
  const since = sinceOf(flags.since);
  const horizonSeconds = secondsOf("--horizon", flags.horizon, 0, MAX_HORIZON);
  const lookbackSeconds = secondsOf("--lookback", flags.lookback, 0, MAX_LOOKBACK);
  if (lookbackSeconds !== undefined && !streams.includes("events"))
    throw flagError("--lookback", "applies to the events stream only (it re-reads events recorded late)");
  return {
    since,
    ...(horizonSeconds !== undefined ? { horizonSeconds } : {}),
    ...(lookbackSeconds !== undefined ? { lookbackSeconds } : {}),
  };
}

/**
 * Errors worth reading the feed again after (`changes --follow`, `listen --from-feed`): the network, a 5xx, a rate
 * limit longer than a retry waits.
 */
export function transient(error: unknown): boolean {
  return (
    error instanceof ConnectionError ||
    error instanceof TimeoutError ||
    error instanceof ServerError ||
    error instanceof RateLimitError
  );
}

/** One line per change: `stream`, `change`, `at`, `record` as Klaviyo sent it, and `related`, `late` when there. */
export const changeLine = (change: Change): string => `${JSON.stringify(change)}\n`;

/** The checkpoint of a state file, checked; undefined when the file does not exist yet. */
function readState(path: string): FeedCheckpoint | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return parseCheckpoint(readFileSync(path, "utf8"));
  } catch (error) {
    throw flagError("--state", `${path}: ${(error as Error).message}`);
  }
}

/** Refuses a state file made for another stream or scope, by the flag. */
function checkStateFor(
  path: string,
  checkpoint: FeedCheckpoint,
  stream: StreamName,
  scope: StreamScope,
): void {
  try {
    checkCheckpointFor(checkpoint, stream, scope);
  } catch (error) {
    throw flagError(
      "--state",
      `${path}: ${(error as Error).message} Give the flags it was made with, or another state file.`,
    );
  }
}

/** Waits `ms`, or less if `signal` aborts; whether the wait ran its course. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** Runs `klaviyo changes <stream>`; returns the exit code. */
export async function runChanges(streamName: string, flags: ChangesFlags, io: Io): Promise<number> {
  const controller = new AbortController();
  let disposeSignals = () => {};
  try {
    checkConnectionFlags(flags);
    const stream = changeStreamOf(streamName, "<stream>");
    checkMetricFlags(flags, stream === "events", `the ${stream} stream`);
    if (flags.interval !== undefined && !flags.follow)
      throw flagError(
        "--interval",
        "is the wait between polls of --follow: give --follow too, or leave it out",
      );
    const interval = secondsOf("--interval", flags.interval, 1, 86_400) ?? 60;
    const settings = feedSettings(flags, [stream]);
    const scope = scopeOf(flags);
    // The feed's own checks (a list or segment ID where the stream needs one, and nowhere else), before sending.
    try {
      initialCheckpoint({ stream, ...scope, ...settings });
    } catch (error) {
      throw asFlagError(error);
    }
    let checkpoint: FeedCheckpoint | undefined;
    if (flags.state !== undefined) {
      checkWritableFile("--state", flags.state);
      checkpoint = readState(flags.state);
      if (checkpoint) {
        // The metric named by --metric is checked against the state once it is found.
        const metricId = flags.metric !== undefined ? checkpoint.scope.metricId : scope.metricId;
        checkStateFor(flags.state, checkpoint, stream, {
          ...scope,
          ...(metricId !== undefined ? { metricId } : {}),
        });
        if (settings.since !== undefined)
          io.stderr(`note: --since is not used: ${flags.state} holds where the last run stopped\n`);
      }
    }
    tuneHeapForStreaming();
    const client = clientFromFlags(flags);
    if (flags.follow) disposeSignals = onStopSignal(() => controller.abort(new Error("stopped by a signal")));
    let metricId = scope.metricId;
    if (flags.metric !== undefined) {
      metricId = await metricIdByName(client, flags.metric, controller.signal);
      if (checkpoint && flags.state !== undefined)
        checkStateFor(flags.state, checkpoint, stream, { ...scope, metricId });
    }
    const fullScope: StreamScope = { ...scope, ...(metricId !== undefined ? { metricId } : {}) };
    // Without a state, the run starts at --since or now; the state file is written at once, so a run that finds
    // nothing still leaves where it started (the next run then misses nothing in between).
    let current = checkpoint ?? initialCheckpoint({ stream, ...fullScope, ...settings });
    if (flags.state !== undefined && !checkpoint)
      writeFileAtomic(flags.state, `${JSON.stringify(current)}\n`);
    const write = stdoutWriter(io);
    for (;;) {
      try {
        for await (const page of changeFeed(client, {
          stream,
          ...fullScope,
          checkpoint: current,
          ...(settings.horizonSeconds !== undefined ? { horizonSeconds: settings.horizonSeconds } : {}),
          ...(settings.lookbackSeconds !== undefined ? { lookbackSeconds: settings.lookbackSeconds } : {}),
          signal: controller.signal,
        })) {
          if (page.changes.length > 0) await write(page.changes.map(changeLine).join(""));
          current = page.checkpoint;
          if (flags.state !== undefined) writeFileAtomic(flags.state, `${JSON.stringify(current)}\n`);
        }
      } catch (error) {
        if (controller.signal.aborted) break;
        if (!flags.follow || !transient(error)) throw error;
        const message = (error as Error).message;
        io.stderr(`warning: ${message}; polling again in ${interval} s\n`);
      }
      if (!flags.follow || !(await pause(interval * 1000, controller.signal))) break;
    }
    return EXIT_OK;
  } catch (error) {
    if (controller.signal.aborted && !(error instanceof InputValidationError)) return EXIT_OK;
    return reportFeedError(error, io, flags);
  } finally {
    disposeSignals();
  }
}

/** The flags `changes` and `sync` share: what a stream is scoped to, where it starts, how it is read. */
export function addFeedOptions(command: Command): Command {
  return command
    .option(
      "--since <date>",
      "with no checkpoint yet: deliver changes from this ISO 8601 date or time on (2026-01-31, 2026-01-31T12:00:00Z)",
    )
    .option("--list-id <id>", "list-members: the list whose members are read")
    .option("--segment-id <id>", "segment-members: the segment whose members are read")
    .option("--metric <name>", "events: only those of the metric of this name (found with List Metrics)")
    .option("--metric-id <id>", "events: only those of the metric of this ID")
    .option(
      "--lookback <seconds>",
      `events: re-read this far behind for events recorded with a past time or indexed late, delivered once, marked "late" (default ${DEFAULT_LOOKBACK_SECONDS}, 7 days; 0 turns it off)`,
    )
    .option(
      "--horizon <seconds>",
      `read up to this far behind now, so records still being written are read whole next time (default ${DEFAULT_HORIZON_SECONDS})`,
    )
    .option("--verbose", "on error, print the whole error (never a secret)");
}

/** `klaviyo changes <stream>`. */
export function registerChangesCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  const command = program
    .command("changes <stream>")
    .description(
      "print each change of a stream since a checkpoint as one JSON line, exactly once across runs; --follow keeps polling",
    )
    .option(
      "--state <file>",
      "the checkpoint: read from FILE when it exists (else the run starts at --since, or now), written atomically after each page once its lines are printed",
    )
    .option("--follow", "poll again every --interval seconds until SIGINT or SIGTERM (then exit 0)");
  addFeedOptions(command);
  command.option("--interval <seconds>", "with --follow: seconds between polls (default 60)");
  addConnectionOptions(command);
  command.addHelpText(
    "after",
    `
Streams: ${STREAM_NAMES.join(", ")}.
(metrics and tags have no change cursor: klaviyo sync takes snapshots of them.)
Each line: {"stream", "change", "at", "record"} and, when there, "related" (an event's metric and profile) and
"late" (an event the lookback found). "change" is created or updated (profiles, lists, segments, templates,
flows, campaigns), recorded (events), joined (list-members, segment-members), suppressed or unsubscribed
(suppressions); "at" is when (ISO 8601); "record" is the resource as Klaviyo sent it (type, id, attributes, …).
A change is printed once it is --horizon seconds old. Stop a run at any point: with --state, the next one starts
right after the last change printed, and none is printed twice. klaviyo changes events --follow --state
events.json polls every minute until Ctrl-C.

Examples:
  $ klaviyo changes profiles --since 2026-01-01 --state profiles.json
  $ klaviyo changes profiles --state profiles.json
  $ klaviyo changes events --metric 'Placed Order' --since 2026-01-01 --lookback 0
  $ klaviyo changes list-members --list-id "$(klaviyo run list-lists --limit 1 --format id)" --since 2026-01-01`,
  );
  command.action(async (stream: string, flags: ChangesFlags) => {
    setExit(await runChanges(stream, flags, io));
  });
}
