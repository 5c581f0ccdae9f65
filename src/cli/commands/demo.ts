import type { Command } from "commander";
import { runAction } from "../../actions/index.js";
import type { FetchLike } from "../../core/chain.js";
import { KlaviyoClient } from "../../core/client.js";
import { ApiError } from "../../core/errors.js";
import { createEmulator, DEV_API_KEY } from "../../emulator/index.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type Io, reportError } from "../output.js";

interface Step {
  action: string;
  inputs: (state: TourState) => Record<string, unknown>;
  summary: (output: unknown, state: TourState) => string;
}

interface TourState {
  accountId?: string;
}

type Doc = { data?: unknown };
const first = (output: unknown): { id?: string; attributes?: Record<string, unknown> } | undefined => {
  const data = (output as Doc | undefined)?.data;
  return (Array.isArray(data) ? data[0] : data) as
    | { id?: string; attributes?: Record<string, unknown> }
    | undefined;
};

/** The tour: every action the project has, in an order where each step can use what the last one made. */
const TOUR: Step[] = [
  {
    action: "list-accounts",
    inputs: () => ({}),
    summary: (out, state) => {
      const account = first(out);
      state.accountId = account?.id;
      const info = account?.attributes?.contact_information as { organization_name?: string } | undefined;
      return `account ${account?.id} (${info?.organization_name ?? "?"})`;
    },
  },
  {
    action: "get-account",
    inputs: (s) => ({
      accountId: s.accountId,
      fields: "contact_information.organization_name,timezone,preferred_currency",
    }),
    summary: (out) => {
      const a = first(out)?.attributes ?? {};
      return `timezone ${String(a.timezone)}, currency ${String(a.preferred_currency)}, fields ${Object.keys(a).join(",")}`;
    },
  },
];

/** `klaviyo demo`: runs every action against the embedded emulator (or a server you name), one row each. */
export function registerDemoCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command("demo")
    .description("run every action once against the embedded emulator (or --base-url with --api-key)")
    .option("--base-url <url>", "run against this Klaviyo-compatible server instead of the embedded emulator")
    .option("--api-key <key>", "the private API key for --base-url")
    .action(async (flags: { baseUrl?: string; apiKey?: string }) => {
      if (Boolean(flags.baseUrl) !== Boolean(flags.apiKey)) {
        io.stderr("error: --base-url and --api-key go together\n");
        setExit(EXIT_USAGE);
        return;
      }
      try {
        setExit(await runDemo(io, flags));
      } catch (error) {
        setExit(reportError(error, io, flags.apiKey ? [flags.apiKey] : []));
      }
    });
}

export async function runDemo(io: Io, flags: { baseUrl?: string; apiKey?: string } = {}): Promise<number> {
  let baseFetch: FetchLike;
  let baseUrl: string;
  let key: string;
  if (flags.baseUrl && flags.apiKey) {
    baseFetch = (input, init) => fetch(input, init);
    baseUrl = flags.baseUrl;
    key = flags.apiKey;
    io.stderr(`Running the tour against ${baseUrl}\n`);
  } else {
    const emulator = createEmulator();
    baseFetch = emulator.fetch;
    baseUrl = emulator.baseUrl;
    key = DEV_API_KEY;
    io.stderr("Running the tour against the embedded Klaviyo emulator (in-process, real rate limits)\n");
  }
  let lastStatus = 0;
  const recording: FetchLike = async (input, init) => {
    const res = await baseFetch(input, init);
    lastStatus = res.status;
    return res;
  };
  const client = new KlaviyoClient({ apiKey: key, baseUrl, fetch: recording });
  const state: TourState = {};
  const width = Math.max(...TOUR.map((s) => s.action.length));
  let failures = 0;
  for (const step of TOUR) {
    const started = performance.now();
    lastStatus = 0;
    let line: string;
    try {
      const output = await runAction(step.action, step.inputs(state), { client });
      line = step.summary(output, state);
    } catch (error) {
      failures++;
      if (error instanceof ApiError) lastStatus = error.status;
      line = `FAILED: ${error instanceof Error ? error.message : String(error)}`;
    }
    const ms = (performance.now() - started).toFixed(0).padStart(5);
    io.stdout(`${step.action.padEnd(width)}  ${String(lastStatus || "-").padStart(3)}  ${ms} ms  ${line}\n`);
  }
  io.stdout(`${TOUR.length - failures}/${TOUR.length} actions succeeded\n`);
  return failures === 0 ? EXIT_OK : EXIT_FAILURE;
}
