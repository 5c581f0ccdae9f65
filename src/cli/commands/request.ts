import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { actionContext, validateInputs } from "../../actions/define.js";
import { getAction } from "../../actions/index.js";
import { addConnectionOptions, type ConnectionFlags, clientFromFlags } from "../connection.js";
import { EXIT_OK, type Format, formatOutput, type Io, parseFormat, reportError } from "../output.js";
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
Examples:
  $ klaviyo request GET /api/lists -q 'fields[list]=name' -q 'page[size]=5'
  $ klaviyo request POST /api/lists -d '{"data": {"type": "list", "attributes": {"name": "VIP"}}}'
  $ klaviyo request PATCH /api/profiles/01GDDKASAP8TKDDA2GRZDSVP4H -d @patch.json
  $ klaviyo request GET /client/reviews --no-auth -q company_id=AbC123`,
    );
  addConnectionOptions(command);
  addOutputOptions(command, false);
  command.action(async (method: string, path: string, flags: RequestFlags) => {
    const action = getAction("raw-request");
    if (!action) throw new Error("raw-request action missing");
    try {
      const format: Format = flags.format ? parseFormat(flags.format) : "json";
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
      });
      const client = clientFromFlags(flags);
      const output = (await action.perform(actionContext(action, client), values)) as {
        status: number;
        headers: unknown;
        data: unknown;
      };
      if (!flags.include && output.data instanceof Uint8Array) {
        process.stdout.write(output.data);
      } else {
        const shown = flags.include ? output : output.data;
        io.stdout(
          typeof shown === "string" && !flags.include
            ? `${shown}\n`
            : formatOutput(shown ?? null, format, io.stdoutIsTerminal === true),
        );
      }
      setExit(EXIT_OK);
    } catch (error) {
      setExit(reportError(error, io, flags.apiKey ? [flags.apiKey] : [], flags.verbose === true));
    }
  });
}
