import {
  ApiError,
  AuthenticationError,
  InputValidationError,
  KlaviyoError,
  OAuthError,
} from "../core/errors.js";
import { redact } from "../core/redact.js";

/**
 * Exit codes: 0 success; 1 the API or the network failed; 2 the command line or an input was wrong;
 * 3 authentication (no credentials at all, a key or token Klaviyo refuses, or an OAuth login that must be redone).
 */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_AUTH = 3;

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stdout / stderr are terminals (pretty output, progress), as `process.stdout.isTTY` says. */
  stdoutIsTerminal?: boolean;
  stderrIsTerminal?: boolean;
}

export const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stdoutIsTerminal: process.stdout.isTTY === true,
  stderrIsTerminal: process.stderr.isTTY === true,
};

/**
 * No credentials at all: no `--api-key` (or an empty one), no `$KLAVIYO_API_KEY`, no stored login. Reported like
 * an input ("API Key: is required …") but exits 3: what is missing is authentication, not a usage mistake.
 */
export class MissingCredentialsError extends InputValidationError {
  override name = "MissingCredentialsError";
}

/** What a bulk run reports (an ingestion, Bulk Create Events, Subscribe Profiles …), as far as exit codes go. */
export interface BulkReport {
  total: number;
  accepted: number;
  complete: boolean;
  rejected: readonly unknown[];
  failed: readonly number[];
  unsent: readonly number[];
  requests: ReadonlyArray<{ httpStatus?: number; status?: string; error?: string }>;
}

/** Whether an output is a bulk run's report. */
export function isBulkReport(output: unknown): output is BulkReport {
  const o = output as Partial<BulkReport> | null;
  return (
    typeof o === "object" &&
    o !== null &&
    typeof o.complete === "boolean" &&
    typeof o.total === "number" &&
    typeof o.accepted === "number" &&
    Array.isArray(o.rejected) &&
    Array.isArray(o.failed) &&
    Array.isArray(o.unsent) &&
    Array.isArray(o.requests)
  );
}

/**
 * The exit code of a bulk run: 3 when Klaviyo refused the credentials (401), 1 when items were left failed or
 * unsent (the API or the network), 2 when some were rejected (bad input) and every other one accepted, 0 when all
 * were.
 */
export function bulkExitCode(report: BulkReport): number {
  if (report.complete) return EXIT_OK;
  if (report.requests.some((r) => r.httpStatus === 401)) return EXIT_AUTH;
  if (report.failed.length > 0 || report.unsent.length > 0) return EXIT_FAILURE;
  return EXIT_USAGE;
}

/**
 * Says on stderr what a bulk run left undone, in one line (the first request error with it); `verbose` adds the
 * reports of the requests that were not accepted. Returns the exit code (`bulkExitCode`).
 */
export function reportBulk(
  label: string,
  report: BulkReport,
  io: Io,
  secrets: readonly string[] = [],
  verbose = false,
): number {
  if (report.complete) return EXIT_OK;
  const first = report.requests.find((r) => r.error !== undefined)?.error;
  io.stderr(
    `error: ${label}: ${report.accepted} of ${report.total} accepted; ${report.rejected.length} rejected, ${report.failed.length} failed, ${report.unsent.length} unsent${first ? ` (${redact(first, secrets)})` : ""}\n`,
  );
  if (verbose) {
    const undone = report.requests.filter((r) => r.status !== "accepted");
    io.stderr(`${redact(JSON.stringify(undone, null, 2), secrets)}\n`);
  }
  return bulkExitCode(report);
}

/** The exit code an error deserves. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof MissingCredentialsError) return EXIT_AUTH;
  if (error instanceof InputValidationError) return EXIT_USAGE;
  if (error instanceof AuthenticationError || error instanceof OAuthError) return EXIT_AUTH;
  return EXIT_FAILURE;
}

/**
 * Prints an error for a person: one line (what failed, Klaviyo's detail, the input at fault), secrets scrubbed;
 * with `verbose`, the whole error as JSON after it (still scrubbed: errors never hold secrets, and the text is
 * redacted again on the way out). Returns the exit code.
 */
export function reportError(
  error: unknown,
  io: Io,
  secrets: readonly string[] = [],
  verbose = false,
): number {
  const message = error instanceof Error ? error.message : String(error);
  io.stderr(`error: ${redact(message, secrets)}\n`);
  if (error instanceof OAuthError && error.reauthorizationRequired) {
    io.stderr("hint: run klaviyo auth login again\n");
  }
  if (verbose) {
    const detail =
      error instanceof KlaviyoError || error instanceof ApiError
        ? error.toJSON()
        : { name: (error as Error)?.name, message, stack: (error as Error)?.stack };
    io.stderr(`${redact(JSON.stringify(detail, null, 2), secrets)}\n`);
  }
  return exitCodeOf(error);
}

export type Format = "json" | "ndjson" | "table" | "id";

export const FORMATS: readonly Format[] = ["json", "ndjson", "table", "id"];

export function parseFormat(value: string): Format {
  if ((FORMATS as readonly string[]).includes(value)) return value as Format;
  throw new InputValidationError([
    { label: "--format", key: "format", message: "must be json, ndjson, table or id" },
  ]);
}

/** A usage error about one flag (or several, named together), before anything is sent. */
export function flagError(flag: string, message: string): InputValidationError {
  return new InputValidationError([{ label: flag, key: flag.replace(/^-+/, ""), message }]);
}

/** Bytes are shown as base64 so the output stays JSON. */
function jsonable(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) =>
      v instanceof Uint8Array ? { base64: Buffer.from(v).toString("base64") } : v,
    ),
  );
}

/** JSON: pretty on a terminal, compact (one line) when piped. */
export function formatJson(value: unknown, pretty: boolean): string {
  return `${JSON.stringify(jsonable(value), null, pretty ? 2 : undefined)}\n`;
}

type Resource = { type?: string; id?: string; attributes?: Record<string, unknown> };

function cell(value: unknown): string {
  if (value === null || value === undefined) return "";
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

/** A plain-text table of resources: id, type and their first scalar attributes. */
export function formatTable(items: readonly unknown[]): string {
  const rows = items as Resource[];
  const columns = ["id", "type"];
  for (const row of rows.slice(0, 20)) {
    for (const [key, value] of Object.entries(row.attributes ?? {})) {
      if (columns.length >= 6) break;
      if (!columns.includes(key) && (value === null || typeof value !== "object")) columns.push(key);
    }
  }
  const table = [
    columns,
    ...rows.map((r) =>
      columns.map((c) => cell(c === "id" ? r.id : c === "type" ? r.type : r.attributes?.[c])),
    ),
  ];
  const widths = columns.map((_, i) => Math.max(...table.map((row) => (row[i] ?? "").length)));
  return `${table
    .map((row) =>
      row
        .map((v, i) => v.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")}\n`;
}

const isResource = (value: unknown): value is Resource =>
  typeof value === "object" &&
  value !== null &&
  !Array.isArray(value) &&
  typeof (value as Resource).id === "string";

/**
 * The resources an output holds, as `--format table` and `--format id` show them: the items of a list, the one
 * resource of a document (`{data: {id, …}}`); `undefined` when it holds none (a report, a job, a body without
 * `data`).
 */
export function resourcesOf(output: unknown): Resource[] | undefined {
  const data = (output as { data?: unknown } | null)?.data;
  if (Array.isArray(data)) return data.every(isResource) ? data : undefined;
  if (isResource(data)) return [data];
  return undefined;
}

/** The IDs `--format id` prints for an output: its resources', else a top-level `id` (`{deleted: true, id}`). */
export function idsOf(output: unknown): string[] | undefined {
  const resources = resourcesOf(output);
  if (resources) return resources.map((r) => r.id as string);
  const id = (output as { id?: unknown } | null)?.id;
  return typeof id === "string" ? [id] : undefined;
}

/**
 * An output in the chosen format. List outputs are items (ndjson: one per line; table: rows; id: one ID per line).
 * `table` and `id` need resources: without them the text is `undefined` and the caller says so (see `resourcesOf`).
 */
export function formatOutput(output: unknown, format: Format, pretty: boolean): string | undefined {
  const data = (output as { data?: unknown } | null)?.data;
  switch (format) {
    case "ndjson":
      if (Array.isArray(data)) return data.map((item) => formatJson(item, false)).join("");
      return formatJson(output, false);
    case "table": {
      const resources = resourcesOf(output);
      return resources ? formatTable(resources) : undefined;
    }
    case "id": {
      const ids = idsOf(output);
      return ids ? ids.map((id) => `${id}\n`).join("") : undefined;
    }
    default:
      return formatJson(output, pretty);
  }
}
