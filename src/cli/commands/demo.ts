import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { runActionByKey } from "../../actions/index.js";
import { apiKey } from "../../core/api-key.js";
import { builtins } from "../../core/builtins.js";
import type { FetchLike } from "../../core/chain.js";
import { KlaviyoClient } from "../../core/client.js";
import { ApiError, AuthenticationError, PermissionDeniedError } from "../../core/errors.js";
import { redact } from "../../core/redact.js";
import { createEmulator, DEV_API_KEY } from "../../emulator/index.js";
import { isLoopbackHost } from "../../klaviyo/webhooks.js";
import { webhookNodeHandler } from "../../webhooks/index.js";
import { apiKeyOf, checkBaseUrl } from "../connection.js";
import { ENV, envValue } from "../env.js";
import {
  EXIT_AUTH,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  flagError,
  type Io,
  MissingCredentialsError,
  reportError,
} from "../output.js";
import { type Step, summarize, type TourState, tour } from "./demo-tour.js";

export interface DemoFlags {
  baseUrl?: string;
  apiKey?: string;
  yes?: boolean;
}

/** `klaviyo demo`: every action against the embedded emulator (or a server you name), one row each. */
export function registerDemoCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command("demo")
    .description("run every action once against the embedded emulator (or --base-url with --api-key)")
    .option("--base-url <url>", "run against this Klaviyo-compatible server instead of the embedded emulator")
    .option("--api-key <key>", "the private API key for --base-url; default $KLAVIYO_API_KEY")
    .option("--yes", "with --base-url: do not ask before creating and deleting data there")
    .addHelpText(
      "after",
      `
The tour creates, changes and deletes data, so it runs on the embedded emulator unless --base-url names a server:
$KLAVIYO_BASE_URL alone does not send it anywhere (it says so), and $KLAVIYO_API_KEY is the key for --base-url.
Exit codes: 0 every step succeeded, 1 a step failed, 2 bad usage or not confirmed, 3 the key was refused.

Examples:
  $ klaviyo demo
  $ klaviyo demo --base-url "$KLAVIYO_BASE_URL" --yes`,
    )
    .action(async (flags: DemoFlags) => {
      try {
        setExit(await runDemo(io, demoTarget(flags, io)));
      } catch (error) {
        setExit(reportError(error, io, flags.apiKey ? [flags.apiKey] : []));
      }
    });
}

/**
 * Where the tour runs: the server of --base-url, with --api-key or else $KLAVIYO_API_KEY (checked before anything
 * is sent), or the embedded emulator; when the environment names a server the tour is not sent to, it says so.
 */
export function demoTarget(flags: DemoFlags, io: Io, env: NodeJS.ProcessEnv = process.env): DemoFlags {
  if (flags.baseUrl === undefined) {
    if (flags.apiKey !== undefined) throw flagError("--api-key", "is for --base-url: give --base-url too");
    if (flags.yes) throw flagError("--yes", "is for --base-url: the embedded emulator asks nothing");
    const named = envValue(ENV.baseUrl, env);
    if (named !== undefined) {
      io.stderr(
        `${ENV.baseUrl} is set, but the tour creates and deletes data, so it runs on the embedded emulator; to run it there: klaviyo demo --base-url "$${ENV.baseUrl}"\n`,
      );
    }
    return {};
  }
  const baseUrl = checkBaseUrl(flags.baseUrl, "--base-url");
  const key = apiKeyOf(flags, env);
  if (key === undefined || key === "") {
    throw new MissingCredentialsError([
      {
        label: "API Key",
        key: "apiKey",
        message: `is required with --base-url: give --api-key or set ${ENV.apiKey}`,
      },
    ]);
  }
  apiKey(key); // malformed: refused here, by label, before anything is sent
  return { baseUrl, apiKey: key, ...(flags.yes ? { yes: true } : {}) };
}

/** Asks on a terminal; elsewhere (a pipe, CI) only `--yes` says yes. */
async function confirm(io: Io, question: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    io.stderr("Not a terminal: pass --yes to confirm.\n");
    return false;
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

export async function runDemo(io: Io, flags: DemoFlags = {}): Promise<number> {
  let baseFetch: FetchLike;
  let baseUrl: string;
  let key: string;
  if (flags.baseUrl && flags.apiKey) {
    io.stderr(
      `The tour will create, change and then delete a list, a profile, events, a template, a segment, a campaign, images and a webhook on ${flags.baseUrl}.\n`,
    );
    if (!flags.yes && !(await confirm(io, "Go ahead?"))) return EXIT_USAGE;
    baseFetch = (input, init) => fetch(input, init);
    baseUrl = flags.baseUrl;
    key = flags.apiKey;
  } else {
    // The demo seed: the flows the tour reads and sets (flows cannot be made through the API the tour uses).
    const emulator = createEmulator({ seed: "demo" });
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
  // The tour's webhook points at a receiver of the demo's own when the server is on this machine (http on a
  // loopback host is the emulator's allowance); a server elsewhere gets the tour's default https URL.
  const webhookSecret = builtins.crypto.randomBytes(32).toString("base64url");
  const receiver =
    !flags.baseUrl || isLoopbackHost(new URL(flags.baseUrl).hostname)
      ? await startReceiver(webhookSecret)
      : undefined;
  try {
    const steps = tour(Date.now().toString(36), {
      webhookSecret,
      ...(receiver ? { webhookUrl: receiver.url } : {}),
    });
    const takeStatus = () => {
      const status = lastStatus;
      lastStatus = 0;
      return status;
    };
    return await walk(io, client, steps, takeStatus, [key, webhookSecret]);
  } finally {
    await receiver?.close();
  }
}

/**
 * A receiver of the tour's webhook on a loopback port: deliveries verified with the tour's secret (none come
 * while the tour runs: nothing is recorded while its webhook is enabled), answered 200.
 */
async function startReceiver(secret: string): Promise<{ url: string; close(): Promise<void> }> {
  const handle = webhookNodeHandler({ secret });
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/klaviyo-demo-webhook`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Runs the steps, one row each; `takeStatus` gives the HTTP status of the last answer (and forgets it), `secrets`
 * are scrubbed from what is printed.
 */
async function walk(
  io: Io,
  client: KlaviyoClient,
  steps: readonly Step[],
  takeStatus: () => number,
  secrets: readonly string[],
): Promise<number> {
  const state: TourState = {};
  const width = Math.max(...steps.map((s) => s.action.length + (s.note ? s.note.length + 3 : 0)));
  let failures = 0;
  let refused = 0;
  let skipped = 0;
  for (const step of steps) {
    const started = performance.now();
    takeStatus();
    let line: string;
    let status: number | undefined;
    if (step.when && !state[step.when.has]) {
      skipped++;
      const name = step.note ? `${step.action} (${step.note})` : step.action;
      io.stdout(`${name.padEnd(width)}    -      - ms  skipped: ${step.when.otherwise}
`);
      continue;
    }
    try {
      const output = await runStep(step, state, client);
      step.keep?.(output, state);
      line = summarize(output);
      const bulk = output as
        | { complete?: boolean; rejected?: unknown[]; failed?: unknown[]; unsent?: unknown[] }
        | undefined;
      if (bulk?.complete === false) {
        const intended =
          step.rejects !== undefined &&
          bulk.rejected?.length === step.rejects &&
          !bulk.failed?.length &&
          !bulk.unsent?.length;
        if (intended) line = `${line}, as intended`;
        else {
          failures++;
          line = `INCOMPLETE: ${line}`;
        }
      }
    } catch (error) {
      if (step.unavailable && error instanceof PermissionDeniedError) {
        skipped++;
        const name = step.note ? `${step.action} (${step.note})` : step.action;
        io.stdout(`${name.padEnd(width)}  403      - ms  skipped: ${step.unavailable.otherwise}\n`);
        continue;
      }
      failures++;
      if (error instanceof AuthenticationError) refused++;
      if (error instanceof ApiError) status = error.status;
      line = `FAILED: ${redact(error instanceof Error ? error.message : String(error), secrets)}`;
    }
    status ??= takeStatus();
    const ms = (performance.now() - started).toFixed(0).padStart(5);
    const name = step.note ? `${step.action} (${step.note})` : step.action;
    io.stdout(`${name.padEnd(width)}  ${String(status || "-").padStart(3)}  ${ms} ms  ${line}\n`);
  }
  const distinct = new Set(steps.map((s) => s.action)).size;
  const skips = skipped > 0 ? `, ${skipped} skipped` : "";
  io.stdout(
    `${steps.length - failures - skipped}/${steps.length} steps succeeded${skips} (${distinct} actions)\n`,
  );
  return failures === 0 ? EXIT_OK : refused > 0 ? EXIT_AUTH : EXIT_FAILURE;
}

/** Runs one step of the tour (each step's inputs were typed by its key where it was written: `Step`). */
function runStep(step: Step, state: TourState, client: KlaviyoClient) {
  return runActionByKey(step.action, step.inputs(state), { client });
}
