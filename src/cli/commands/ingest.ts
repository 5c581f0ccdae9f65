import { closeSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import type { Command } from "commander";
import { idSchema } from "../../actions/inputs.js";
import { InputValidationError } from "../../core/errors.js";
import {
  type IngestProgress,
  type IngestResult,
  ingestEvents,
  ingestProfiles,
  ingestSubscriptions,
} from "../../ingest/index.js";
import { readRecords, UnreadableRecord } from "../../ingest/ndjson.js";
import { parse } from "../../klaviyo/schema.js";
import {
  addConnectionOptions,
  type ConnectionFlags,
  checkConnectionFlags,
  clientFromFlags,
} from "../connection.js";
import { bulkExitCode, EXIT_FAILURE, EXIT_OK, formatJson, type Io, reportError } from "../output.js";
import { tuneHeapForStreaming } from "../streaming-heap.js";

type Kind = "events" | "subscribe" | "unsubscribe" | "profiles";

interface IngestFlags extends ConnectionFlags {
  concurrency?: string;
  unsent?: string;
  listId?: string;
  historicalImport?: boolean;
  customSource?: string;
  jobTimeout?: string;
  verbose?: boolean;
}

const DESCRIPTIONS: Record<Kind, string> = {
  events:
    "record events from an NDJSON or JSON array file (- for standard input), streamed, several requests at a time within the rate limit; events without a unique_id get one derived from their content and time, so a re-run of the same file records nothing twice (an event without a time is given the time it is read: a re-run of such a file records it again)",
  subscribe:
    "subscribe profiles from an NDJSON or JSON array file (- for standard input), 1,000 per job, several jobs at a time",
  unsubscribe:
    "unsubscribe profiles from an NDJSON or JSON array file (- for standard input), 100 per job, several jobs at a time",
  profiles:
    "create or update profiles (Bulk Import Profiles) from an NDJSON or JSON array file (- for standard input), in jobs of up to 10,000 profiles and 5 MB, several at a time; each job is waited for and the profiles it could not import are rejected with Klaviyo's reason",
};

function usageError(label: string, key: string, message: string): InputValidationError {
  return new InputValidationError([{ label, key, message }]);
}

/** `--job-timeout` in milliseconds (seconds on the command line, 1 to 86,400). */
function jobTimeoutOf(flags: IngestFlags): number | undefined {
  if (flags.jobTimeout === undefined) return undefined;
  const n = /^\d+$/.test(flags.jobTimeout.trim()) ? Number(flags.jobTimeout) : Number.NaN;
  if (!(n >= 1 && n <= 86_400))
    throw usageError("--job-timeout", "jobTimeout", "must be a whole number of seconds from 1 to 86400");
  return n * 1000;
}

function concurrencyOf(flags: IngestFlags): number | undefined {
  if (flags.concurrency === undefined) return undefined;
  const n = /^\d+$/.test(flags.concurrency.trim()) ? Number(flags.concurrency) : Number.NaN;
  if (!(n >= 1 && n <= 100))
    throw usageError("--concurrency", "concurrency", "must be a whole number from 1 to 100");
  return n;
}

/**
 * The key under which `--unsent` writes a rejected record's reason beside the record, and which ingest ignores
 * when it reads a record: a re-run of that file sends the records as they are (fixed or not).
 */
export const REJECTED_KEY = "_rejected";

/**
 * Writes the records left for a re-run as NDJSON to a temporary file, renamed over `path` at the end (so the
 * input may be `path`).
 */
function unsentWriter(path: string | undefined) {
  if (path === undefined) return undefined;
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, "w");
  let count = 0;
  return {
    write(item: unknown) {
      writeSync(fd, `${JSON.stringify(item)}\n`);
      count++;
    },
    /**
     * A rejected record, with its reason beside it under `_rejected`; one that was not valid JSON as its line
     * stood (its reason is in the summary), a value that is not an object under `_value`.
     */
    writeRejected(item: unknown, _position: number, reason: string) {
      const why = reasonText(reason);
      if (item instanceof UnreadableRecord) {
        writeSync(fd, `${item.text ?? JSON.stringify({ [REJECTED_KEY]: why })}\n`);
      } else {
        const record = isRecordObject(item)
          ? { [REJECTED_KEY]: why, ...item }
          : { [REJECTED_KEY]: why, _value: item };
        writeSync(fd, `${JSON.stringify(record)}\n`);
      }
      count++;
    },
    /** `keep`: always; `written`: only if something was written (a run that failed part-way). */
    close(keep: "always" | "written") {
      closeSync(fd);
      if (keep === "always" || count > 0) renameSync(temporary, path);
      else rmSync(temporary, { force: true });
      return count;
    },
  };
}

const isRecordObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A record without the reason an earlier `--unsent` wrote beside it. */
function withoutReason(record: unknown): unknown {
  if (!isRecordObject(record) || !(REJECTED_KEY in record)) return record;
  const { [REJECTED_KEY]: _reason, ...rest } = record;
  return rest;
}

async function* withoutReasons(records: AsyncIterable<unknown>): AsyncGenerator<unknown> {
  for await (const record of records) yield withoutReason(record);
}

/** "line 701: not valid JSON …" → "not valid JSON …": positions are the summary's 0-based `index`. */
const reasonText = (reason: string) => reason.replace(/^line \d+: /, "");

/** Progress on stderr, on a terminal only: read, accepted, the rate and the requests in flight, ~5 times a second. */
function progressMeter(io: Io) {
  if (io.stderrIsTerminal !== true) return { update: undefined, done() {} };
  const started = performance.now();
  let shown = 0;
  let last: IngestProgress | undefined;
  const show = (p: IngestProgress) => {
    const seconds = Math.max((performance.now() - started) / 1000, 0.001);
    io.stderr(
      `\r${p.read} read, ${p.accepted} accepted, ${(p.accepted / seconds).toFixed(0)}/s, ${p.inFlight} in flight `,
    );
  };
  return {
    update(p: IngestProgress) {
      last = p;
      const now = performance.now();
      if (now - shown < 200) return;
      shown = now;
      show(p);
    },
    done() {
      if (last) {
        show(last);
        io.stderr("\n");
      }
    },
  };
}

/** Runs one ingestion from flags; returns the exit code (0 only when every item was accepted). */
export async function runIngest(kind: Kind, file: string, flags: IngestFlags, io: Io): Promise<number> {
  tuneHeapForStreaming();
  const controller = new AbortController();
  const onSignal = () => {
    io.stderr("\nstopping: what was not sent is reported unsent (interrupt again to quit at once)\n");
    controller.abort(new Error("interrupted"));
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
  let unsent: ReturnType<typeof unsentWriter>;
  try {
    checkConnectionFlags(flags);
    const concurrency = concurrencyOf(flags);
    const jobTimeoutMs = jobTimeoutOf(flags);
    if (flags.listId !== undefined && !parse(idSchema, flags.listId).success)
      throw usageError("--list-id", "listId", "must be a list ID, such as Y6nRLr");
    if (file !== "-") {
      try {
        if (!statSync(file).isFile()) throw new Error("not a file");
      } catch (error) {
        throw usageError("<file>", "file", `cannot read ${file}: ${(error as Error).message}`);
      }
    }
    const client = clientFromFlags(flags);
    unsent = unsentWriter(flags.unsent);
    const meter = progressMeter(io);
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    const source = withoutReasons(readRecords(file !== "-" ? file : process.stdin));
    const options = {
      signal: controller.signal,
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(meter.update ? { onProgress: meter.update } : {}),
      ...(unsent ? { onUnsent: unsent.write, onRejected: unsent.writeRejected } : {}),
    };
    let result: IngestResult;
    if (kind === "events") result = await ingestEvents(client, source, options);
    else if (kind === "profiles") {
      result = await ingestProfiles(client, source, {
        ...options,
        ...(flags.listId !== undefined ? { listId: flags.listId.trim() } : {}),
        ...(jobTimeoutMs !== undefined ? { jobTimeoutMs } : {}),
      });
    } else {
      result = await ingestSubscriptions(client, kind, source, {
        ...options,
        ...(flags.listId !== undefined ? { listId: flags.listId.trim() } : {}),
        ...(kind === "subscribe" && flags.historicalImport ? { historicalImport: true } : {}),
        ...(kind === "subscribe" && flags.customSource !== undefined
          ? { customSource: flags.customSource }
          : {}),
      });
    }
    meter.done();
    const written = unsent?.close("always");
    unsent = undefined;
    const { requests, ...summary } = result;
    const shown = { ...(flags.verbose ? result : summary) };
    shown.rejected = result.rejected.map((r) => ({ index: r.index, reason: reasonText(r.reason) }));
    io.stdout(
      formatJson(
        {
          ...shown,
          ...(written !== undefined && flags.unsent !== undefined
            ? { unsentFile: flags.unsent, unsentWritten: written }
            : {}),
        },
        io.stdoutIsTerminal === true,
      ),
    );
    return bulkExitCode(result);
  } catch (error) {
    unsent?.close("written");
    const code = reportError(error, io, flags.apiKey ? [flags.apiKey] : [], flags.verbose === true);
    return code === EXIT_OK ? EXIT_FAILURE : code;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** `klaviyo ingest events|profiles|subscribe|unsubscribe <file|->`. */
export function registerIngestCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  const ingest = program
    .command("ingest")
    .description(
      "stream a large NDJSON or JSON array file into Klaviyo: events, profiles, subscribe, unsubscribe",
    )
    .addHelpText(
      "after",
      `
Each record is checked as it is read: a bad one is rejected with its reason and the rest go on. The summary
(total, accepted, rejected, failed, unsent, complete) is printed as JSON on stdout; positions (rejected[].index,
failed, unsent) count records from 0 in file order (blank lines skipped; an event bulk entry of N events takes
N). Progress goes to stderr on a terminal. With --unsent FILE, every record not accepted is written there as
NDJSON for a re-run: unsent ones (after an interrupt or a stopping error), failed ones, and rejected ones with
their reason beside them under "_rejected" (ingest ignores that key when it reads a record): fix those, run the
file again.
Exit codes: 0 every record accepted; 2 some rejected (bad input), every other one accepted; 1 some failed or
unsent (the API or the network); 3 Klaviyo refused the credentials, or there were none.

Examples:
  $ printf '%s\\n' '{"metric": "Placed Order", "profile": {"email": "sarah.mason@example.com"}, "value": 29.98}' > orders.ndjson
  $ klaviyo ingest events orders.ndjson --unsent left.ndjson
  $ klaviyo ingest events left.ndjson --unsent left.ndjson
  $ printf '%s\\n' '{"email": "sarah.mason@example.com", "first_name": "Sarah"}' '{"external_id": "crm-63f64a2b", "phone_number": "+15005550006"}' > people.ndjson
  $ klaviyo ingest profiles people.ndjson --unsent left.ndjson
  $ echo '[{"email": "sarah.mason@example.com"}]' | klaviyo ingest subscribe - --list-id "$(klaviyo run list-lists --limit 1 --format id)"`,
    );
  for (const kind of ["events", "profiles", "subscribe", "unsubscribe"] as const) {
    const sub = ingest
      .command(`${kind} <file>`)
      .description(DESCRIPTIONS[kind])
      .option(
        "--concurrency <n>",
        kind === "profiles"
          ? "jobs in flight at once, each from its creation until Klaviyo completes it, 1 to 100 (default 4); the rate limit still applies"
          : "requests in flight at once, 1 to 100 (default: as many as reach the rate limit at the latency observed, at most 20); the rate limit still applies",
      )
      .option(
        "--unsent <file>",
        'write every record not accepted to this file as NDJSON, for a re-run: unsent, failed, and rejected ones (with their reason under "_rejected")',
      );
    if (kind !== "events") {
      sub.option(
        "--list-id <id>",
        kind === "subscribe"
          ? "the list to subscribe the profiles to"
          : kind === "profiles"
            ? "the list to add every imported profile to (no consent is recorded: use ingest subscribe for that)"
            : "the list to unsubscribe the profiles from (profiles not in it are unsubscribed globally)",
      );
    }
    if (kind === "profiles") {
      sub.option(
        "--job-timeout <seconds>",
        "how long to wait for each job to complete once created (default 1800); the profiles of a job still running then are reported failed, with its id",
      );
    }
    if (kind === "subscribe") {
      sub
        .option("--historical-import", "consent given in the past: every consent then needs consented_at")
        .option("--custom-source <text>", "where the consent was collected");
    }
    sub.option("--verbose", "include the report of every request in the summary; on error, the whole error");
    addConnectionOptions(sub);
    sub.action(async (file: string, flags: IngestFlags) => {
      setExit(await runIngest(kind, file, flags, io));
    });
  }
}
