import { type Command, InvalidArgumentError } from "commander";
import { checkScopes, DEV_API_KEY } from "../../emulator/auth.js";
import { type FaultSpec, parseFaults } from "../../emulator/faults.js";
import { type LatencyMs, parseLatency } from "../../emulator/latency.js";
import { type OAuthClient, parseOAuthClients } from "../../emulator/oauth.js";
import { parseRateLimitMode, type RateLimitMode } from "../../emulator/rate-limit.js";
import { type StartOptions, startEmulator } from "../../emulator/server.js";
import { ENV, envValue } from "../env.js";
import type { Io } from "../output.js";
import { stopSignal } from "../signals.js";

interface ApiKeyOption {
  readonly key: string;
  readonly scopes?: readonly string[];
}

export interface EmulatorFlags {
  readonly port: number;
  readonly host: string;
  readonly apiKey: readonly ApiKeyOption[];
  readonly rateLimits: RateLimitMode;
  /** The delay of every answer: milliseconds, or `[min, max]` drawn per request. */
  readonly latency: LatencyMs;
  /** The one-way delay of every request before it is counted (`--request-latency`); default none. */
  readonly requestLatency?: LatencyMs;
  readonly faults: readonly FaultSpec[];
  readonly dataFile?: string;
  readonly seed?: "demo";
  readonly seedProfiles?: number;
  readonly seedEvents?: number;
  readonly oauthClients?: readonly OAuthClient[];
  readonly accessTokenTtl?: number;
  /** $KLAVIYO_API_KEY, accepted (every scope) beside the development key when no --api-key is given. */
  readonly environmentKey?: string;
  /** False (`--no-webhook-access`): the account has no webhook access, every Webhooks API call answers 403. */
  readonly webhookAccess?: boolean;
}

type RawFlags = Partial<Omit<EmulatorFlags, "apiKey">> & { apiKey?: string[]; oauthClient?: string[] };

function parseSeed(value: string): "demo" {
  if (value !== "demo") throw new Error(`Unknown seed "${value}": use demo`);
  return value;
}

/** Commander argument parsers must throw InvalidArgumentError; ours say exit 2, a usage error. */
function usage<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (error) {
      const invalid = new InvalidArgumentError(error instanceof Error ? error.message : String(error));
      invalid.exitCode = 2;
      throw invalid;
    }
  };
}

function parseInteger(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!(n >= min && n <= max)) throw new Error(`${name} must be a whole number from ${min} to ${max}`);
    return n;
  };
}

/**
 * `KEY` grants every scope; `KEY:scope scope…` only those (the key is what comes before the first colon).
 * Errors never quote the key: it may be a real one.
 */
export function parseApiKeyOption(value: string): ApiKeyOption {
  const colon = value.indexOf(":");
  const key = (colon < 0 ? value : value.slice(0, colon)).trim();
  if (!key || /\s/.test(key)) throw new Error("an API key cannot be empty or hold spaces");
  if (colon < 0) return { key };
  const scopes = value
    .slice(colon + 1)
    .split(/[\s,]+/)
    .filter((s) => s.length > 0);
  if (scopes.length === 0)
    throw new Error("list the key's scopes after the colon, such as KEY:accounts:read");
  checkScopes(scopes);
  return { key, scopes };
}

/** The port of $KLAVIYO_BASE_URL when it names this machine over http with a port (http://127.0.0.1:8089). */
function loopbackPort(env: NodeJS.ProcessEnv): number | undefined {
  const value = envValue(ENV.baseUrl, env);
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    if (url.protocol !== "http:" || url.port === "") return undefined;
    return url.hostname === "127.0.0.1" || url.hostname === "localhost" ? Number(url.port) : undefined;
  } catch {
    return undefined;
  }
}

/** The port of a redirect URI `klaviyo auth login` can listen on (`http://127.0.0.1:PORT/callback`), if it is one. */
function loginPort(redirectUri: string): string | undefined {
  return /^http:\/\/127\.0\.0\.1:(\d+)\/callback$/.exec(redirectUri)?.[1];
}

/**
 * What an OAuth app needs to know about this emulator: its four URLs, and the `klaviyo auth login` line that logs
 * in with it (the secret is never printed: login reads $KLAVIYO_CLIENT_SECRET or asks for it).
 */
export function oauthClientLines(client: OAuthClient, url: string): string {
  const lines = [
    `OAuth client ${client.clientId}: authorize at ${url}/oauth/authorize, tokens at ${url}/oauth/token, revoke at ${url}/oauth/revoke; API base URL ${url}.`,
  ];
  const port = client.redirectUris.map(loginPort).find((p) => p !== undefined);
  if (port !== undefined) {
    lines.push(
      `  Log in (the client secret from $KLAVIYO_CLIENT_SECRET, or asked for): klaviyo auth login --base-url ${url} --client-id ${client.clientId} --port ${port}`,
    );
  } else {
    lines.push(
      `  klaviyo auth login listens on http://127.0.0.1:PORT/callback: give ${client.clientId} such a redirect URI to log in with it.`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Serves the emulator until `until` settles, then closes it. Prints the listening line (the only stdout line)
 * and, when no key was given, which development key is accepted. Keys given on the command line are never
 * printed.
 */
export async function runEmulatorCommand(
  flags: EmulatorFlags,
  io: Io,
  until: () => Promise<unknown>,
): Promise<void> {
  const options: StartOptions = {
    port: flags.port,
    host: flags.host,
    rateLimits: flags.rateLimits,
    latencyMs: flags.latency,
    ...(flags.requestLatency !== undefined ? { requestLatencyMs: flags.requestLatency } : {}),
    faults: flags.faults,
    ...(flags.apiKey.length > 0
      ? { apiKeys: flags.apiKey }
      : flags.environmentKey !== undefined && flags.environmentKey !== DEV_API_KEY
        ? { apiKeys: [{ key: flags.environmentKey }, { key: DEV_API_KEY }] }
        : {}),
    ...(flags.dataFile ? { dataFile: flags.dataFile } : {}),
    ...(flags.seed ? { seed: flags.seed } : {}),
    ...(flags.seedProfiles ? { seedProfiles: flags.seedProfiles } : {}),
    ...(flags.seedEvents ? { seedEvents: flags.seedEvents } : {}),
    ...(flags.oauthClients?.length ? { oauthClients: flags.oauthClients } : {}),
    ...(flags.accessTokenTtl ? { accessTokenTtlSeconds: flags.accessTokenTtl } : {}),
    ...(flags.webhookAccess === false ? { webhookAccess: false } : {}),
  };
  const running = await startEmulator(options);
  if (flags.apiKey.length === 0) {
    const also =
      flags.environmentKey !== undefined && flags.environmentKey !== DEV_API_KEY
        ? ` and the key in $${ENV.apiKey}`
        : "";
    io.stderr(`No --api-key given: accepting the development key ${DEV_API_KEY}${also} (every scope).\n`);
  }
  for (const client of flags.oauthClients ?? []) io.stderr(oauthClientLines(client, running.url));
  // Stopping is listened for before the line is printed: whoever waits for the line may stop it at once.
  const stopped = until();
  io.stdout(`Klaviyo emulator listening on ${running.url}\n`);
  await stopped;
  running.emulator.flush();
  await running.close();
  io.stderr("Klaviyo emulator stopped.\n");
}

/** `klaviyo emulator`: a local Klaviyo on a real port, for clients and tools that cannot run it in-process. */
export function registerEmulatorCommand(program: Command): void {
  program
    .command("emulator")
    .description("serve a local Klaviyo emulator until interrupted (SIGINT or SIGTERM)")
    .option(
      "--port <n>",
      "port to listen on; 0 picks a free one; default: the port of $KLAVIYO_BASE_URL when it is http://127.0.0.1:PORT, else 0",
      usage(parseInteger("--port", 0, 65535)),
      0,
    )
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option(
      "--api-key <key>",
      'accept this private key, with every scope, or only some: "KEY:accounts:read lists:read" (repeatable); without it, the development key and $KLAVIYO_API_KEY',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      "--rate-limits <mode>",
      "real, off, or scale=F to multiply every limit by F",
      usage(parseRateLimitMode),
      "real",
    )
    .option(
      "--request-latency <ms>",
      "one-way delay of every request before Klaviyo counts it against the rate limits, in milliseconds: N, or MIN-MAX drawn per request (such as 20-80)",
      usage((value: string) => parseLatency(value, "--request-latency")),
    )
    .option(
      "--latency <ms>",
      "delay of every answer, after the request is handled, in milliseconds: N, or MIN-MAX drawn per request (such as 100-300)",
      usage((value: string) => parseLatency(value, "--latency")),
      0,
    )
    .option(
      "--faults <spec>",
      "inject faults: KIND=P,… with KIND one of 429, 500, 503, reset, 500-after-commit, reset-after-commit",
      usage(parseFaults),
    )
    .option(
      "--data-file <path>",
      "load the state from this JSON snapshot and save every change to it (atomically)",
    )
    .option("--seed <name>", "start with seed data: demo (a small realistic account)", usage(parseSeed))
    .option(
      "--seed-profiles <n>",
      "start with N generated profiles (for benchmarks)",
      usage(parseInteger("--seed-profiles", 1, 10_000_000)),
    )
    .option(
      "--seed-events <n>",
      "start with N generated events over the profiles (for benchmarks)",
      usage(parseInteger("--seed-events", 1, 10_000_000)),
    )
    .option(
      "--oauth-client <id:secret:redirect_uri>",
      "accept this OAuth app at /oauth (authorize, token, revoke); repeat for more apps or redirect URIs",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      "--access-token-ttl <seconds>",
      "lifetime of OAuth access tokens (default 3600)",
      usage(parseInteger("--access-token-ttl", 1, 31_536_000)),
    )
    .option(
      "--no-webhook-access",
      "make the account one without webhook access: every Webhooks API call answers 403 permission_denied, as Klaviyo answers accounts without Advanced KDP",
    )
    .addHelpText(
      "after",
      `
It prints its URL on stdout (Klaviyo emulator listening on URL); point the CLI at it with
KLAVIYO_BASE_URL=URL and KLAVIYO_API_KEY=${DEV_API_KEY} (the key it accepts without --api-key).
With those set first (KLAVIYO_BASE_URL=http://127.0.0.1:PORT), it listens on that port and accepts that key.
With --oauth-client, it prints the OAuth URLs and the klaviyo auth login line for each app.

Examples:
  $ klaviyo emulator --seed demo
  $ klaviyo emulator --rate-limits off --seed-profiles 100000
  $ klaviyo emulator --seed demo --request-latency 20-80 --latency 100-300
  $ klaviyo emulator --seed demo --oauth-client my-app:my-secret:http://127.0.0.1:8765/callback`,
    )
    .action(async (raw: RawFlags, command: Command) => {
      const output = command.configureOutput();
      const io: Io = {
        stdout: (text) => (output.writeOut ? output.writeOut(text) : process.stdout.write(text)),
        stderr: (text) => (output.writeErr ? output.writeErr(text) : process.stderr.write(text)),
      };
      let apiKey: ApiKeyOption[];
      try {
        apiKey = (raw.apiKey ?? []).map(parseApiKeyOption);
      } catch (error) {
        // Parsed here rather than by Commander, whose message would quote the key.
        const message = error instanceof Error ? error.message : String(error);
        return command.error(`error: option '--api-key <key>' is invalid: ${message}`, { exitCode: 2 });
      }
      let oauthClients: OAuthClient[];
      try {
        oauthClients = parseOAuthClients(raw.oauthClient ?? []);
      } catch (error) {
        // Parsed here rather than by Commander, whose message would quote the secret.
        const message = error instanceof Error ? error.message : String(error);
        return command.error(`error: option '--oauth-client' is invalid: ${message}`, { exitCode: 2 });
      }
      // Where $KLAVIYO_BASE_URL says the emulator is (a port on this machine), unless --port says otherwise.
      const envPort =
        command.getOptionValueSource("port") === "default" ? loopbackPort(process.env) : undefined;
      if (envPort !== undefined) io.stderr(`Listening on port ${envPort}, the port of $${ENV.baseUrl}.\n`);
      const environmentKey = apiKey.length === 0 ? envValue(ENV.apiKey) : undefined;
      const flags: EmulatorFlags = {
        port: envPort ?? raw.port ?? 0,
        host: raw.host ?? "127.0.0.1",
        apiKey,
        rateLimits: raw.rateLimits ?? "real",
        latency: raw.latency ?? 0,
        ...(raw.requestLatency !== undefined ? { requestLatency: raw.requestLatency } : {}),
        faults: raw.faults ?? [],
        ...(raw.dataFile ? { dataFile: raw.dataFile } : {}),
        ...(raw.seed ? { seed: raw.seed } : {}),
        ...(raw.seedProfiles ? { seedProfiles: raw.seedProfiles } : {}),
        ...(raw.seedEvents ? { seedEvents: raw.seedEvents } : {}),
        ...(oauthClients.length > 0 ? { oauthClients } : {}),
        ...(raw.accessTokenTtl ? { accessTokenTtl: raw.accessTokenTtl } : {}),
        ...(environmentKey !== undefined ? { environmentKey } : {}),
        ...(raw.webhookAccess === false ? { webhookAccess: false } : {}),
      };
      try {
        await runEmulatorCommand(flags, io, stopSignal);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const hint = envPort !== undefined ? ` (the port of $${ENV.baseUrl}: --port 0 picks a free one)` : "";
        command.error(`error: cannot start the emulator on ${flags.host}:${flags.port}: ${message}${hint}`, {
          exitCode: 1,
        });
      }
    });
}
