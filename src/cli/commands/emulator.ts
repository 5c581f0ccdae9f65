import { type Command, InvalidArgumentError } from "commander";
import { checkScopes, DEV_API_KEY } from "../../emulator/auth.js";
import { type FaultSpec, parseFaults } from "../../emulator/faults.js";
import { type OAuthClient, parseOAuthClients } from "../../emulator/oauth.js";
import { parseRateLimitMode, type RateLimitMode } from "../../emulator/rate-limit.js";
import { type StartOptions, startEmulator } from "../../emulator/server.js";
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
  readonly latency: number;
  readonly faults: readonly FaultSpec[];
  readonly dataFile?: string;
  readonly seed?: "demo";
  readonly seedProfiles?: number;
  readonly seedEvents?: number;
  readonly oauthClients?: readonly OAuthClient[];
  readonly accessTokenTtl?: number;
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
    faults: flags.faults,
    ...(flags.apiKey.length > 0 ? { apiKeys: flags.apiKey } : {}),
    ...(flags.dataFile ? { dataFile: flags.dataFile } : {}),
    ...(flags.seed ? { seed: flags.seed } : {}),
    ...(flags.seedProfiles ? { seedProfiles: flags.seedProfiles } : {}),
    ...(flags.seedEvents ? { seedEvents: flags.seedEvents } : {}),
    ...(flags.oauthClients?.length ? { oauthClients: flags.oauthClients } : {}),
    ...(flags.accessTokenTtl ? { accessTokenTtlSeconds: flags.accessTokenTtl } : {}),
  };
  const running = await startEmulator(options);
  if (flags.apiKey.length === 0) {
    io.stderr(`No --api-key given: accepting the development key ${DEV_API_KEY} (every scope).\n`);
  }
  for (const { clientId } of flags.oauthClients ?? []) {
    io.stderr(
      `OAuth client ${clientId}: authorize at ${running.url}/oauth/authorize, tokens at ${running.url}/oauth/token.\n`,
    );
  }
  io.stdout(`Klaviyo emulator listening on ${running.url}\n`);
  await until();
  running.emulator.flush();
  await running.close();
  io.stderr("Klaviyo emulator stopped.\n");
}

/** `klaviyo emulator`: a local Klaviyo on a real port, for clients and tools that cannot run it in-process. */
export function registerEmulatorCommand(program: Command): void {
  program
    .command("emulator")
    .description("serve a local Klaviyo emulator until interrupted (SIGINT or SIGTERM)")
    .option("--port <n>", "port to listen on; 0 picks a free one", usage(parseInteger("--port", 0, 65535)), 0)
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option(
      "--api-key <key>",
      'accept this private key, with every scope, or only some: "KEY:accounts:read lists:read" (repeatable)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      "--rate-limits <mode>",
      "real, off, or scale=F to multiply every limit by F",
      usage(parseRateLimitMode),
      "real",
    )
    .option(
      "--latency <ms>",
      "milliseconds added to every request",
      usage(parseInteger("--latency", 0, 600_000)),
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
      const flags: EmulatorFlags = {
        port: raw.port ?? 0,
        host: raw.host ?? "127.0.0.1",
        apiKey,
        rateLimits: raw.rateLimits ?? "real",
        latency: raw.latency ?? 0,
        faults: raw.faults ?? [],
        ...(raw.dataFile ? { dataFile: raw.dataFile } : {}),
        ...(raw.seed ? { seed: raw.seed } : {}),
        ...(raw.seedProfiles ? { seedProfiles: raw.seedProfiles } : {}),
        ...(raw.seedEvents ? { seedEvents: raw.seedEvents } : {}),
        ...(oauthClients.length > 0 ? { oauthClients } : {}),
        ...(raw.accessTokenTtl ? { accessTokenTtl: raw.accessTokenTtl } : {}),
      };
      try {
        await runEmulatorCommand(flags, io, stopSignal);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        command.error(`error: cannot start the emulator on ${flags.host}:${flags.port}: ${message}`, {
          exitCode: 1,
        });
      }
    });
}
