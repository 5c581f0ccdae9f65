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
 * 3 authentication (a key or token Klaviyo refuses, or an OAuth login that must be redone).
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

/** The exit code an error deserves. */
export function exitCodeOf(error: unknown): number {
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

export type Format = "json" | "ndjson" | "table";

export function parseFormat(value: string): Format {
  if (value === "json" || value === "ndjson" || value === "table") return value;
  throw new InputValidationError([
    { label: "--format", key: "format", message: "must be json, ndjson or table" },
  ]);
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

/** An action's output in the chosen format. List outputs are items (ndjson: one per line; table: rows). */
export function formatOutput(output: unknown, format: Format, pretty: boolean): string {
  const data = (output as { data?: unknown } | null)?.data;
  if (format === "ndjson") {
    if (Array.isArray(data)) return data.map((item) => formatJson(item, false)).join("");
    return formatJson(output, false);
  }
  if (format === "table") {
    if (Array.isArray(data)) return formatTable(data);
    if (data && typeof data === "object") return formatTable([data]);
    return formatJson(output, true);
  }
  return formatJson(output, pretty);
}
