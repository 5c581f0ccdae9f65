import type { Command } from "commander";
import { InputValidationError } from "../../core/errors.js";
import { RateLimiter } from "../../core/rate-limit.js";
import { DEV_API_KEY } from "../../emulator/auth.js";
import { type PlaygroundOptions, startPlayground } from "../../playground/server.js";
import { addConnectionOptions, type ConnectionFlags, clientFromFlags } from "../connection.js";
import { ENV } from "../env.js";
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
  const key = flags.apiKey ?? env[ENV.apiKey];
  const emulator = flags.emulator === true || (key === undefined && flags.baseUrl === undefined);
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
  }
  io.stdout(`Playground: ${playground.url}\n`);
  io.stderr("Open the address above (it holds the access token). Stop with Ctrl-C.\n");
  await until();
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
    .option("--emulator", "run on the embedded emulator with demo data (the default when no key is given)");
  addConnectionOptions(command);
  command.addHelpText(
    "after",
    `
The page is served on 127.0.0.1 only, at an address holding a random token; the API key stays in this process.
Without a key (--api-key, $KLAVIYO_API_KEY) and without --base-url it runs on the embedded emulator with demo
data; --base-url without a key uses the login of klaviyo auth login.

Examples:
  $ klaviyo ui
  $ klaviyo ui --port 8765
  $ klaviyo ui --api-key "$KLAVIYO_API_KEY"`,
  );
  command.action(async (flags: UiFlags) => {
    setExit(await runUi(flags, io, stopSignal));
  });
}
