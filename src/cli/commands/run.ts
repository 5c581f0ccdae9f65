import { readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { type AnyAction, actionContext, validateInputs } from "../../actions/define.js";
import { actions, getAction } from "../../actions/index.js";
import { flagOf, holdsFiles, type InputDefinition } from "../../actions/inputs.js";
import { manifest } from "../../actions/manifest.js";
import { InputValidationError } from "../../core/errors.js";
import { partitionFieldFor } from "../../core/partition.js";
import {
  addConnectionOptions,
  type ConnectionFlags,
  checkConnectionFlags,
  clientFromFlags,
} from "../connection.js";
import { exampleFor, formatExample } from "../examples.js";
import {
  EXIT_OK,
  EXIT_USAGE,
  type Format,
  flagError,
  formatJson,
  formatOutput,
  type Io,
  isBulkReport,
  parseFormat,
  reportBulk,
  reportError,
} from "../output.js";
import { tuneHeapForStreaming } from "../streaming-heap.js";

/** `@path` reads a file (bytes for binary inputs, text otherwise); `-` reads standard input. */
function readArgument(value: string, binary: boolean, stdin: () => Buffer): unknown {
  if (value === "-") return binary ? new Uint8Array(stdin()) : stdin().toString("utf8");
  if (value.startsWith("@")) {
    const bytes = readFileSync(value.slice(1));
    return binary ? new Uint8Array(bytes) : bytes.toString("utf8");
  }
  return value;
}

function optionFor(def: InputDefinition): Option {
  const flag = `--${flagOf(def.key)}`;
  const help = `${def.label}: ${def.comments}${def.default !== undefined ? ` (default: ${JSON.stringify(def.default)})` : ""}`;
  switch (def.type) {
    case "boolean":
      return new Option(`${flag} [true|false]`, help);
    case "key-value":
      return new Option(`${flag} <key=value>`, `${help} (repeatable)`).argParser(
        (value: string, previous: string[] = []) => [...previous, value],
      );
    case "binary":
      return new Option(`${flag} <@path|base64>`, help);
    case "json":
      return new Option(`${flag} <json|@file>`, help);
    default:
      return new Option(`${flag} <value>`, help);
  }
}

/** The raw inputs of one CLI invocation: `--inputs` JSON first, then each flag over it. */
export function inputsFromFlags(
  action: AnyAction,
  flags: Record<string, unknown>,
  stdin: () => Buffer = () => readFileSync(0),
): Record<string, unknown> {
  let raw: Record<string, unknown> = {};
  if (typeof flags.inputs === "string") {
    let text: string;
    try {
      text = String(readArgument(flags.inputs === "-" ? "-" : `@${flags.inputs}`, false, stdin));
    } catch (error) {
      throw new InputValidationError([
        {
          label: "--inputs",
          key: "inputs",
          message: `cannot read ${flags.inputs}: ${(error as Error).message}`,
        },
      ]);
    }
    try {
      raw = JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
      throw new InputValidationError([
        { label: "--inputs", key: "inputs", message: `is not a JSON object: ${(error as Error).message}` },
      ]);
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw new InputValidationError([
        { label: "--inputs", key: "inputs", message: "must be a JSON object" },
      ]);
    }
  }
  for (const def of Object.values(action.inputs)) {
    const value = flags[def.key];
    if (value === undefined) continue;
    const binaryValues = holdsFiles(def);
    if (def.type === "boolean") raw[def.key] = value === true ? true : value;
    else if (def.type === "key-value" && binaryValues && Array.isArray(value)) {
      // `--file-data file=@logo.png`: the CLI reads the file (the library never reads local files itself).
      raw[def.key] = value.map((pair: string) => {
        const m = /^([^=]+)=@(.+)$/s.exec(pair);
        return m ? `${m[1]}=${readFileSync(m[2] as string).toString("base64")}` : pair;
      });
    } else if (typeof value === "string") raw[def.key] = readArgument(value, def.type === "binary", stdin);
    else raw[def.key] = value;
  }
  return raw;
}

export interface OutputFlags {
  format?: string;
  all?: boolean;
  /** `--parallel [N]`: true without a value, the text of N with one. */
  parallel?: boolean | string;
  verbose?: boolean;
}

/** Output and diagnostics flags shared by `run` and `request`. */
export function addOutputOptions(command: Command, list: boolean): Command {
  command
    .option(
      "--format <format>",
      "json (pretty on a terminal, one line when piped), ndjson, table (resources as rows) or id (their IDs, one per line, for $(…))",
    )
    .option("--verbose", "on error, print the whole error (never a secret)");
  if (list) {
    command.option(
      "--all",
      "every item, streamed as NDJSON as the pages arrive (constant memory); where the endpoint can filter by " +
        "creation time, in time partitions walked at once, as many as reach the rate limit at the latency " +
        "observed (every item exactly once, not in order); with --sort, --cursor or --limit N (the first N), " +
        "one cursor in order",
    );
    command.option(
      "--parallel [n]",
      "with --all: time partitions walked N at once (without N: sized by the latency, as --all does by default); " +
        "--parallel 1 walks one cursor, in order",
    );
  }
  return command;
}

/**
 * `--parallel [N]`: the partitions walked at once (`"auto"`: sized by the latency), 1 for one cursor, or undefined
 * when not given.
 */
function parallelOf(flags: OutputFlags & { cursor?: unknown }): number | "auto" | undefined {
  if (flags.parallel === undefined || flags.parallel === false) return undefined;
  const problem = (message: string) => flagError("--parallel", message);
  if (!flags.all) throw problem("needs --all (it walks every page)");
  if (flags.cursor !== undefined)
    throw problem(
      "walks the whole collection in partitions, so it cannot continue from --cursor: give one of them",
    );
  if (flags.parallel === true) return "auto";
  const n = Number(flags.parallel);
  if (!/^\d+$/.test(flags.parallel) || !Number.isInteger(n) || n < 1 || n > 64) {
    throw problem("must be a whole number from 1 to 64");
  }
  return n;
}

/**
 * How `--all` walks: time partitions (sized by the latency unless `--parallel N` says) where the endpoint allows,
 * or one cursor, in the collection's order: asked for (`--parallel 1`), or implied by a sort, a cursor to continue
 * from or `--limit` (the first N items).
 */
function walkOf(
  action: AnyAction,
  parallel: number | "auto" | undefined,
  values: Record<string, unknown>,
): { partitions?: number; concurrency?: number } | undefined {
  if (!partitionable(action) || parallel === 1) return undefined;
  if (
    parallel === undefined &&
    (values.sort !== undefined || values.cursor !== undefined || values.limit !== undefined)
  )
    return undefined;
  return parallel === undefined || parallel === "auto"
    ? {}
    : { concurrency: parallel, partitions: 2 * parallel };
}

/** Progress on stderr for long walks, only on a terminal: items so far and the rate. */
function progress(io: Io): { add(n: number): void; done(): void } {
  const started = performance.now();
  let count = 0;
  const show = io.stderrIsTerminal === true;
  return {
    add(n) {
      count += n;
      if (!show) return;
      const seconds = (performance.now() - started) / 1000;
      io.stderr(`\r${count} items, ${(count / Math.max(seconds, 0.001)).toFixed(0)}/s`);
    },
    done() {
      if (show && count > 0) io.stderr("\n");
    },
  };
}

function isListAction(action: AnyAction): boolean {
  return Object.values(action.inputs).some((d) => d.key === "limit");
}

/** The actions whose result is a report of what was done (a job, an ingestion, an HTTP exchange), not resources. */
const REPORT_RESULTS = new Set([
  "bulk-create-events",
  "bulk-import-profiles",
  "create-event",
  "raw-request",
  "subscribe-profiles",
  "unsubscribe-profiles",
  "add-profiles-to-list",
  "remove-profiles-from-list",
  "tag-resources",
  "untag-resources",
  "merge-profiles",
  "request-profile-deletion",
  "suppress-profiles",
  "unsuppress-profiles",
]);

/**
 * What an action returns, as the output formats see it: resources (a list's items, or one resource's document),
 * a deletion (`{deleted: true, id}`), or a report with no resources in it.
 */
export function resultShape(action: AnyAction): "resources" | "deleted" | "report" {
  if (REPORT_RESULTS.has(action.key)) return "report";
  if (action.key.startsWith("delete-")) return "deleted";
  return "resources";
}

/** Refuses, before anything is sent, an output format this action's result cannot be shown in. */
function checkFormat(action: AnyAction, format: Format | undefined, all: boolean): void {
  const shape = resultShape(action);
  if (format === "table" && shape !== "resources") {
    throw flagError(
      "--format",
      `table shows resources, and ${action.label} returns ${shape === "deleted" ? "{deleted, id}" : "a report of what was done"}: leave --format out for JSON`,
    );
  }
  if (format === "id" && shape === "report") {
    throw flagError(
      "--format",
      `id prints resource IDs, and ${action.label} returns none: leave --format out for JSON`,
    );
  }
  if (all && (format === "json" || format === "table")) {
    throw flagError(
      "--format",
      `${format} cannot be used with --all, which streams items as they arrive: NDJSON (the default, or --format ndjson) or --format id; for a ${format === "table" ? "table" : "JSON document"} of the first N items, give --limit N without --all`,
    );
  }
}

/**
 * Raw Request makes its own attempts (Max Retry Count, which --max-retries gives when it is not given itself), has
 * its own timeout (Timeout) and may carry its own revision header: a connection flag that one of those would
 * override without a word is refused.
 */
function checkRawRequestFlags(flags: Record<string, unknown> & ConnectionFlags): void {
  if (flags.maxRetries !== undefined && flags.maxRetryCount !== undefined)
    throw flagError(
      "--max-retries",
      "and --max-retry-count both set Raw Request's retries: give one of them",
    );
  if (flags.timeout !== undefined && flags.timeoutMs !== undefined)
    throw flagError("--timeout", "and --timeout-ms both set the per-attempt timeout: give one of them");
  const headers = Array.isArray(flags.header) ? (flags.header as unknown[]) : [];
  if (flags.revision !== undefined && headers.some((h) => /^\s*revision\s*[:=]/i.test(String(h))))
    throw flagError("--revision", "and a revision --header both set the revision: give one of them");
}

/** Writes an output in its format; `undefined` text (no resources) cannot happen for a format `checkFormat` let by. */
function writeOutput(output: unknown, format: Format, io: Io): void {
  const text = formatOutput(output, format, io.stdoutIsTerminal === true);
  if (text !== undefined) {
    io.stdout(text);
    return;
  }
  io.stderr(`note: --format ${format}: the result holds no resources; printed as JSON\n`);
  io.stdout(formatJson(output, io.stdoutIsTerminal === true));
}

/** Performs an action with CLI flags and writes its output; returns the exit code. */
export async function runWithFlags(
  action: AnyAction,
  flags: Record<string, unknown> & ConnectionFlags & OutputFlags,
  io: Io,
): Promise<number> {
  // Scrubbed from whatever is printed: the key, and the values of the action's secret inputs once read.
  const secrets: string[] = flags.apiKey ? [flags.apiKey] : [];
  try {
    checkConnectionFlags(flags);
    const format: Format | undefined = flags.format ? parseFormat(flags.format) : undefined;
    checkFormat(action, format, flags.all === true);
    if (action.key === "raw-request") checkRawRequestFlags(flags);
    const parallel = parallelOf(flags);
    const raw = inputsFromFlags(action, flags);
    secrets.push(...secretValues(action, raw));
    // Raw Request makes the attempts itself (the transport one each): --max-retries is its Max Retry Count.
    if (action.key === "raw-request" && flags.maxRetries !== undefined && raw.maxRetryCount === undefined)
      raw.maxRetryCount = flags.maxRetries;
    const values = validateInputs(action, raw, { text: true });
    const client = clientFromFlags(flags);
    if (flags.all) {
      tuneHeapForStreaming();
      // Every page, each item one NDJSON line (or its ID) as it arrives: nothing is held but the current page.
      // With --parallel, time partitions walked `parallel` at a time, pages merged as they arrive; with --limit N,
      // the action stops the walk at N items.
      const meter = progress(io);
      const sink = (items: readonly unknown[]) => {
        for (const item of items) {
          io.stdout(format === "id" ? `${(item as { id?: string }).id ?? ""}\n` : formatJson(item, false));
        }
        meter.add(items.length);
      };
      if (parallel !== undefined && parallel !== 1 && !partitionable(action)) {
        io.stderr(
          `note: --parallel: ${action.label} cannot be split by creation time, so its pages are walked one after another\n`,
        );
      }
      const partitions = walkOf(action, parallel, values);
      await action.perform(
        actionContext(action, client, { stream: { sink, ...(partitions ? { partitions } : {}) } }),
        values,
      );
      meter.done();
      return EXIT_OK;
    }
    const output = await action.perform(actionContext(action, client), values);
    writeOutput(output, format ?? "json", io);
    // A bulk action's report says what became of every item: anything not accepted is not a success.
    if (!isBulkReport(output)) return EXIT_OK;
    return reportBulk(action.label, output, io, secrets, flags.verbose === true);
  } catch (error) {
    return reportError(error, io, secrets, flags.verbose === true);
  }
}

/** The values given to an action's secret inputs (a webhook's Secret Key), as text. */
function secretValues(action: AnyAction, raw: Readonly<Record<string, unknown>>): string[] {
  return Object.values(action.inputs)
    .filter((def) => def.secret && typeof raw[def.key] === "string")
    .map((def) => raw[def.key] as string);
}

/** Whether `--parallel` can cut this list action's collection by creation time. */
function partitionable(action: AnyAction): boolean {
  return action.operation !== undefined && partitionFieldFor(action.operation) !== undefined;
}

/** The help text of an action's example. */
export function exampleHelp(action: AnyAction): string {
  return formatExample(exampleFor(action));
}

/** `klaviyo run <action> --<input> VALUE…`: one subcommand per action, its flags generated from the inputs. */
export function registerRunCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  const run = program
    .command("run")
    .description(
      "run an action against Klaviyo (or the emulator): klaviyo run <action> --help for its inputs",
    )
    .addHelpText(
      "after",
      `
List actions give one page by default; --limit N gathers pages until N items (one JSON document); --all streams
every item as NDJSON (--all --limit N: the first N). --format id prints only the IDs, for $(…) in a POSIX shell.
Exit codes: 0 success, 1 API or network error, 2 bad usage or input, 3 authentication (no key or login, or refused).

Examples:
  $ klaviyo run list-lists --format table
  $ klaviyo run get-profile --profile-id "$(klaviyo run list-profile --limit 1 --format id)" --additional-fields subscriptions
  $ klaviyo run list-profile --all > profiles.ndjson
  $ klaviyo run list-profile --all --limit 5 --format id
  $ echo '{"listName": "VIP"}' | klaviyo run create-list --inputs -`,
    );
  for (const action of actions) {
    const sub = run.command(action.key).description(`${action.label}: ${action.description}`);
    for (const def of Object.values(action.inputs)) sub.addOption(optionFor(def));
    sub.option("--inputs <file|->", "the inputs as a JSON object, from a file or standard input (-)");
    addConnectionOptions(sub);
    addOutputOptions(sub, isListAction(action));
    sub.addHelpText("after", `\n${exampleHelp(action)}`);
    sub.action(async (flags: Record<string, unknown> & ConnectionFlags & OutputFlags) => {
      setExit(await runWithFlags(action, flags, io));
    });
  }
}

/** `klaviyo actions`, `klaviyo describe <action>` and `klaviyo manifest`. */
export function registerActionsCommand(
  program: Command,
  io: Io,
  setExit: (code: number) => void = () => {},
): void {
  program
    .command("actions")
    .description("list every action, one line each")
    .action(() => {
      const width = Math.max(...actions.map((a) => a.key.length));
      for (const a of actions) io.stdout(`${a.key.padEnd(width)}  ${a.label}\n`);
    });
  program
    .command("describe <action>")
    .description("an action's inputs: label, flag, type, default, description, and an example")
    .action((key: string) => {
      const action = getAction(key);
      if (!action) {
        io.stderr(`error: unknown action "${key}"; klaviyo actions lists them\n`);
        setExit(EXIT_USAGE);
        return;
      }
      io.stdout(
        `${action.label} (${action.key})\n${action.description}\n\nInputs (label, CLI flag, library input key):\n`,
      );
      for (const def of Object.values(action.inputs)) {
        const facts = [def.type, def.required ? "required" : "optional"];
        if (def.default !== undefined) facts.push(`default ${JSON.stringify(def.default)}`);
        io.stdout(
          `  ${def.label}  --${flagOf(def.key)}  ${def.key}  (${facts.join(", ")})\n      ${def.comments}\n`,
        );
      }
      io.stdout(`\n${exampleHelp(action)}`);
      setExit(EXIT_OK);
    });
  program
    .command("manifest")
    .description("print the machine-readable manifest: every connection and action with its inputs (JSON)")
    .action(() => {
      io.stdout(`${JSON.stringify(manifest(), null, 2)}\n`);
    });
}
