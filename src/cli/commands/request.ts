import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { actionContext, validateInputs } from "../../actions/define.js";
import { getAction } from "../../actions/index.js";
import {
  addConnectionOptions,
  type ConnectionFlags,
  checkConnectionFlags,
  clientFromFlags,
} from "../connection.js";
import {
  EXIT_OK,
  type Format,
  flagError,
  formatJson,
  formatOutput,
  type Io,
  parseFormat,
  reportError,
} from "../output.js";
import { addOutputOptions, type OutputFlags } from "./run.js";

interface RequestFlags extends ConnectionFlags, OutputFlags {
  query?: string[];
  header?: string[];
  data?: string;
  responseType?: string;
  include?: boolean;
  auth?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `klaviyo request GET /api/lists -q 'fields[list]=name'`: the Raw Request action, made pleasant. */
export function registerRequestCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  const command = program
    .command("request <method> <path>")
    .description("send any request to Klaviyo's API (the Raw Request action): prints the response body")
    .option("-q, --query <key=value>", "a query parameter (repeatable)", collect)
    .option("-H, --header <Name: value>", "a request header (repeatable)", collect)
    .option("-d, --data <json|@file|->", "the request body: JSON text, @file.json, or - for standard input")
    .option("--response-type <type>", "json (default), text or binary (raw bytes to stdout)")
    .option("-i, --include", "print the status and headers too, as {status, headers, data}")
    .option("--no-auth", "send no Authorization header (public /client endpoints, with company_id)")
    .addHelpText(
      "after",
      `
Paths only: an absolute URL, or a path that would leave the connection's host, is refused before sending. The
request is sent once unless --max-retries N: then it is tried again after a 429, a 5xx, a timeout or a network
error, whatever the method (POST included: only when repeating it cannot do the work twice).

Examples:
  $ klaviyo request GET /api/lists -q 'fields[list]=name' -q 'page[size]=5'
  $ klaviyo request POST /api/lists -d '{"data": {"type": "list", "attributes": {"name": "VIP"}}}'
  $ echo '{"data": {"type": "list", "attributes": {"name": "From stdin"}}}' | klaviyo request POST /api/lists -d -
  $ klaviyo request GET /api/lists --format id
  $ klaviyo request DELETE "/api/lists/$(klaviyo run create-list --list-name Draft --format id)"`,
    );
  addConnectionOptions(command);
  addOutputOptions(command, false);
  command.action(async (method: string, path: string, flags: RequestFlags) => {
    const action = getAction("raw-request");
    if (!action) throw new Error("raw-request action missing");
    try {
      checkConnectionFlags(flags);
      const format: Format | undefined = flags.format ? parseFormat(flags.format) : undefined;
      checkRequestFlags(flags, format);
      let data: unknown;
      if (flags.data !== undefined) {
        data =
          flags.data === "-"
            ? readFileSync(0, "utf8")
            : flags.data.startsWith("@")
              ? readFileSync(flags.data.slice(1), "utf8")
              : flags.data;
      }
      const values = validateInputs(action, {
        method: method.toUpperCase(),
        url: path,
        ...(data !== undefined ? { data } : {}),
        ...(flags.query ? { queryParameter: flags.query } : {}),
        ...(flags.header ? { header: flags.header } : {}),
        ...(flags.responseType ? { responseType: flags.responseType } : {}),
        ...(flags.auth === false ? { excludeAuthorization: true } : {}),
        // The action makes the attempts itself: --max-retries is its Max Retry Count (0 unless given).
        ...(flags.maxRetries !== undefined ? { maxRetryCount: Number(flags.maxRetries) } : {}),
      });
      const client = clientFromFlags(flags, process.env, {
        credentials: flags.auth === false ? "optional" : "required",
      });
      const output = (await action.perform(actionContext(action, client), values)) as {
        status: number;
        headers: unknown;
        data: unknown;
      };
      if (!flags.include && output.data instanceof Uint8Array) {
        process.stdout.write(output.data);
      } else if (typeof output.data === "string" && !flags.include) {
        io.stdout(`${output.data}\n`);
      } else {
        const shown = flags.include ? output : (output.data ?? null);
        const pretty = io.stdoutIsTerminal === true;
        const text = formatOutput(shown, format ?? "json", pretty);
        if (text !== undefined) io.stdout(text);
        else if (format === "id") {
          throw flagError(
            "--format",
            "id: the response holds no resources, so no IDs (the request was sent)",
          );
        } else {
          io.stderr(`note: --format ${format}: the response holds no resources (data); printed as JSON\n`);
          io.stdout(formatJson(shown, pretty));
        }
      }
      setExit(EXIT_OK);
    } catch (error) {
      setExit(reportError(error, io, flags.apiKey ? [flags.apiKey] : [], flags.verbose === true));
    }
  });
}

/** The flags that cannot go together, or would be ignored, refused before anything is sent. */
function checkRequestFlags(flags: RequestFlags, format: Format | undefined): void {
  if (flags.auth === false && flags.apiKey !== undefined)
    throw flagError("--api-key", "is not sent with --no-auth: give one of them");
  if (flags.revision !== undefined && (flags.header ?? []).some((h) => /^\s*revision\s*:/i.test(h)))
    throw flagError("--revision", "and a revision header (-H) both set the revision: give one of them");
  const type = flags.responseType ?? "json";
  if (format !== undefined && type !== "json")
    throw flagError(
      "--format",
      `applies to JSON responses; --response-type ${type} prints the body as it is`,
    );
  if (flags.include && (format === "table" || format === "id"))
    throw flagError(
      "--format",
      `${format} shows the body's resources, and -i prints {status, headers, data}: give one of them`,
    );
}
