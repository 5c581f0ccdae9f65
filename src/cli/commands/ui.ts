import type { Command } from "commander";
import { InputValidationError } from "../../core/errors.js";
import { RateLimiter } from "../../core/rate-limit.js";
import { DEV_API_KEY } from "../../emulator/auth.js";
import { type PlaygroundOptions, startPlayground } from "../../playground/server.js";
import {
  addConnectionOptions,
  apiKeyOf,
  baseUrlOf,
  type ConnectionFlags,
  clientFromFlags,
} from "../connection.js";
import { ENV, envValue } from "../env.js";
import { EXIT_FAILURE, EXIT_OK, type Io, reportError } from "../output.js";
import { stopSignal } from "../signals.js";

export interface UiFlags extends ConnectionFlags {
  port?: string | number;
  emulator?: boolean;
}

export interface UiSettings {
  readonly env?: NodeJS.ProcessEnv;
  /** The built front end; default dist/ui. */
  readonly staticDir?: string;
}

function parsePort(value: string | number | undefined): number {
  if (value === undefined) return 0;
  const text = String(value).trim();
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 0 && n <= 65535)) {
    throw new InputValidationError([
      { label: "--port", key: "port", message: "must be a whole number from 0 to 65535" },
    ]);
  }
  return n;
}

/**
 * The playground's options from the command line: the embedded emulator with `--emulator`, or when no key is
 * given (no `--api-key`, no `$KLAVIYO_API_KEY`) and no `--base-url`; otherwise the connection every command
 * uses (the key, else the stored OAuth login), checked before the server starts.
 */
export function playgroundOptions(flags: UiFlags, env: NodeJS.ProcessEnv = process.env): PlaygroundOptions {
  const port = parsePort(flags.port);
  if (flags.emulator && (flags.apiKey !== undefined || flags.baseUrl !== undefined)) {
    throw new InputValidationError([
      {
        label: "--emulator",
        key: "emulator",
        message: "runs on the embedded emulator: give it without --api-key and --base-url",
      },
    ]);
  }
  const key = apiKeyOf(flags, env);
  const emulator = flags.emulator === true || (key === undefined && baseUrlOf(flags, env) === undefined);
  // The shared flags (--revision, --timeout, --max-retries, --rate-limit-scale) checked as every command does.
  const client = emulator
    ? clientFromFlags({ ...flags, apiKey: DEV_API_KEY }, {})
    : clientFromFlags(flags, env);
  const scale = flags.rateLimitScale !== undefined ? Number(flags.rateLimitScale) : undefined;
  const clientOptions = {
    revision: client.revision,
    timeoutMs: client.timeoutMs,
    retry: client.retryPolicy,
    ...(scale !== undefined ? { rateLimiter: new RateLimiter({ scale }) } : {}),
  };
  if (emulator) return { port, emulator: true, client: clientOptions };
  if (!client.auth) throw new Error("no connection");
  return {
    port,
    emulator: false,
    baseUrl: client.baseUrl.href,
    auth: client.auth,
    client: clientOptions,
  };
}

/**
 * Serves the playground until `until` settles, then closes it. Prints its address (with the token) on stdout,
 * the rest on stderr; never a credential. Returns the exit code.
 */
export async function runUi(
  flags: UiFlags,
  io: Io,
  until: () => Promise<unknown>,
  settings: UiSettings = {},
): Promise<number> {
  const env = settings.env ?? process.env;
  let options: PlaygroundOptions;
  try {
    options = playgroundOptions(flags, env);
  } catch (error) {
    return reportError(error, io, flags.apiKey ? [flags.apiKey] : []);
  }
  let playground: Awaited<ReturnType<typeof startPlayground>>;
  try {
    playground = await startPlayground({
      ...options,
      ...(settings.staticDir ? { staticDir: settings.staticDir } : {}),
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`error: cannot start the playground on 127.0.0.1:${options.port ?? 0}: ${message}\n`);
    return EXIT_FAILURE;
  }
  if (!playground.frontEnd) {
    io.stderr(
      `The playground's front end is not built (no index.html in ${playground.staticDir}): run npm run build. ` +
        "The API is served all the same.\n",
    );
  }
  if (playground.mode === "emulator") {
    io.stderr(
      "Running on the embedded Klaviyo emulator with demo data (24 profiles, 3 lists, 60 events) and real " +
        "rate limits; nothing leaves this machine. Give --api-key (or --base-url) to connect to Klaviyo.\n",
    );
  } else {
    io.stderr(
      `Connected to ${options.baseUrl} with ${options.auth?.kind === "oauth" ? "the stored OAuth login" : "an API key"}` +
        " (held by this process: the page never sees it).\n",
    );
    const fromEnv = [
      flags.baseUrl === undefined && envValue(ENV.baseUrl, env) !== undefined ? ENV.baseUrl : undefined,
      flags.apiKey === undefined && envValue(ENV.apiKey, env) !== undefined ? ENV.apiKey : undefined,
    ].filter((name) => name !== undefined);
    if (fromEnv.length > 0) {
      io.stderr(
        `${fromEnv.join(" and ")} ${fromEnv.length > 1 ? "are" : "is"} set, so this is that server, not the embedded emulator: ` +
          "no inspector, and no demo data unless it has them. For the embedded emulator: klaviyo ui --emulator\n",
      );
    }
  }
  // Stopping is listened for before the address is printed: whoever waits for it may stop it at once.
  const stopped = until();
  io.stdout(`Playground: ${playground.url}\n`);
  io.stderr("Open the address above (it holds the access token). Stop with Ctrl-C.\n");
  await stopped;
  await playground.close();
  io.stderr("Playground stopped.\n");
  return EXIT_OK;
}

/** `klaviyo ui`: the playground, a web page on 127.0.0.1 to run actions and inspect the emulator. */
export function registerUiCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  const command = program
    .command("ui")
    .description(
      "serve the playground, a web page on 127.0.0.1 to run every action and inspect the emulator, until interrupted",
    )
    .option("--port <n>", "port to listen on; 0 (the default) picks a free one")
    .option(
      "--emulator",
      "run on the embedded emulator with demo data, even with $KLAVIYO_BASE_URL or $KLAVIYO_API_KEY set (the default when neither is)",
    );
  addConnectionOptions(command);
  command.addHelpText(
    "after",
    `
The page is served on 127.0.0.1 only, at an address holding a random token; the API key stays in this process.
Without a key (--api-key, $KLAVIYO_API_KEY) and without a base URL (--base-url, $KLAVIYO_BASE_URL) it runs on the
embedded emulator with demo data and its inspector; with them, on that server (it says so), and a base URL
without a key uses the login of klaviyo auth login. --emulator runs on the embedded emulator whatever the
environment says.

Examples:
  $ klaviyo ui
  $ klaviyo ui --emulator`,
  );
  command.action(async (flags: UiFlags) => {
    setExit(await runUi(flags, io, stopSignal));
  });
}
