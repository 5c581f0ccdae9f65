import { existsSync, readFileSync } from "node:fs";
import type { Command } from "commander";
import { oauth } from "../auth/oauth-strategy.js";
import { apiKey } from "../core/api-key.js";
import type { AuthStrategy } from "../core/auth-strategy.js";
import { KlaviyoClient } from "../core/client.js";
import { InputValidationError } from "../core/errors.js";
import { RateLimiter } from "../core/rate-limit.js";
import { DEFAULT_BASE_URL } from "../core/version.js";
import { redisRateLimiter, redisStoreFor } from "../redis/shared.js";
import { ENV, envValue, redisUrlFromEnv } from "./env.js";
import { MissingCredentialsError } from "./output.js";
import { cliTokenStore } from "./token-stores.js";

export interface ConnectionFlags {
  apiKey?: string;
  baseUrl?: string;
  revision?: string;
  timeout?: string;
  maxRetries?: string;
  rateLimitScale?: string;
}

/** The connection flags every command that talks to Klaviyo shares. */
export function addConnectionOptions(command: Command): Command {
  return command
    .option(
      "--api-key <key>",
      "private API key (pk_…); default $KLAVIYO_API_KEY, else the tokens of klaviyo auth login",
    )
    .option("--base-url <url>", "API base URL; default $KLAVIYO_BASE_URL or https://a.klaviyo.com")
    .option("--revision <date>", "the revision header to send (default: the one this release is built for)")
    .option("--timeout <ms>", "per-attempt timeout in milliseconds (default 60000)")
    .option("--max-retries <n>", "retries after a 429, a 5xx or a network error (default 3; 0 = none)")
    .option(
      "--rate-limit-scale <f>",
      "multiply the client's rate limits (e.g. against an emulator started with --rate-limits scale=F); default 1",
    );
}

/** A URL as the connection takes it (http or https), or an error naming where it came from. */
export function checkBaseUrl(value: string, from: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new InputValidationError([
      {
        label: from,
        key: "baseUrl",
        message: "must be an http(s) URL, such as https://a.klaviyo.com or http://127.0.0.1:8089",
      },
    ]);
  }
  return value;
}

/** The base URL of flags and the environment (`--base-url`, then `$KLAVIYO_BASE_URL`), checked; or undefined. */
export function baseUrlOf(
  flags: { baseUrl?: string },
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (flags.baseUrl !== undefined) return checkBaseUrl(flags.baseUrl, "--base-url");
  const fromEnv = envValue(ENV.baseUrl, env);
  return fromEnv === undefined ? undefined : checkBaseUrl(fromEnv, ENV.baseUrl);
}

/** The API key of flags and the environment: `--api-key`, then `$KLAVIYO_API_KEY` (unset or blank: none). */
export function apiKeyOf(
  flags: { apiKey?: string },
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  return flags.apiKey ?? envValue(ENV.apiKey, env);
}

function missingCredentials(message: string): MissingCredentialsError {
  return new MissingCredentialsError([{ label: "API Key", key: "apiKey", message }]);
}

/**
 * The connection flags that take a value, checked (by the flag's name) and read: called first by every command,
 * so a wrong one is reported before the inputs, and again by `clientFromFlags`.
 */
export function checkConnectionFlags(flags: ConnectionFlags): {
  timeoutMs: number | undefined;
  maxRetries: number | undefined;
  scale: number | undefined;
} {
  const timeoutMs = flags.timeout !== undefined ? Number(flags.timeout) : undefined;
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new InputValidationError([
      { label: "--timeout", key: "timeout", message: "must be a positive number of milliseconds" },
    ]);
  }
  const maxRetries = flags.maxRetries !== undefined ? Number(flags.maxRetries) : undefined;
  if (maxRetries !== undefined && !(Number.isInteger(maxRetries) && maxRetries >= 0 && maxRetries <= 10)) {
    throw new InputValidationError([
      { label: "--max-retries", key: "maxRetries", message: "must be a whole number from 0 to 10" },
    ]);
  }
  const scale = flags.rateLimitScale !== undefined ? Number(flags.rateLimitScale) : undefined;
  if (scale !== undefined && !(Number.isFinite(scale) && scale > 0)) {
    throw new InputValidationError([
      { label: "--rate-limit-scale", key: "rateLimitScale", message: "must be a number above 0" },
    ]);
  }
  if (flags.baseUrl !== undefined) checkBaseUrl(flags.baseUrl, "--base-url");
  return { timeoutMs, maxRetries, scale };
}

/** Credentials that authenticate nothing: for `--no-auth` requests (public endpoints) when none are at hand. */
const NO_CREDENTIALS: AuthStrategy = {
  kind: "api-key",
  id: "no-credentials",
  authorization() {
    throw missingCredentials("is required for this request: it is not one of the --no-auth kind");
  },
  secrets: () => [],
};

export interface ClientSettings {
  /** `--no-auth`: nothing is sent with credentials, so none are required (they are used when at hand). */
  readonly credentials?: "required" | "optional";
}

/**
 * Builds a client from flags and the environment: an API key (`--api-key`, $KLAVIYO_API_KEY), checked before
 * anything is sent, or else the OAuth tokens `klaviyo auth login` stored; the base URL from `--base-url`,
 * $KLAVIYO_BASE_URL or the stored login, else Klaviyo's. The client is always given both, so it reads nothing
 * from the environment itself. No credentials at all is a `MissingCredentialsError` (exit 3).
 */
export function clientFromFlags(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv = process.env,
  settings: ClientSettings = {},
): KlaviyoClient {
  const key = apiKeyOf(flags, env);
  if (key === "") {
    throw missingCredentials(
      "is empty: give --api-key pk_…, or leave it out to use $KLAVIYO_API_KEY or the login of klaviyo auth login",
    );
  }
  const store = cliTokenStore(env);
  // The login of `klaviyo auth login`: in its file, or shared through Redis (KLAVIYO_TOKEN_ENCRYPTION_KEY).
  const useOAuth = key === undefined && (existsSync(store.file.path) || store.shared);
  const stored = useOAuth ? storedBaseUrl(store.file.path) : undefined;
  const baseUrl = baseUrlOf(flags, env) ?? stored ?? DEFAULT_BASE_URL;
  // A login's token goes where the login was made for, unless a command says otherwise (--base-url): the
  // environment's URL alone (set for the emulator, say) does not take a real account's token elsewhere.
  if (useOAuth && flags.baseUrl === undefined && stored !== undefined && !sameOrigin(baseUrl, stored)) {
    throw new InputValidationError([
      {
        label: ENV.baseUrl,
        key: "baseUrl",
        message: `names ${baseUrl}, but the stored OAuth login is for ${stored}, and its token is not sent elsewhere unless a command says so: give --base-url ${baseUrl}, log in for it (klaviyo auth login --base-url ${baseUrl} …), or unset ${ENV.baseUrl}`,
      },
    ]);
  }
  const { timeoutMs, maxRetries, scale } = checkConnectionFlags(flags);
  let auth: AuthStrategy;
  if (useOAuth) auth = oauth({ store });
  else if (key !== undefined) auth = apiKey(key);
  else if (settings.credentials === "optional") auth = NO_CREDENTIALS;
  else {
    throw missingCredentials(
      `is required: give --api-key, set ${ENV.apiKey}, or log in with klaviyo auth login`,
    );
  }
  const redisUrl = redisUrlFromEnv(env);
  return new KlaviyoClient({
    ...(scale !== undefined
      ? { rateLimiter: scaledLimiter(scale, redisUrl) }
      : redisUrl
        ? { rateLimiter: redisRateLimiter(redisUrl) }
        : {}),
    auth,
    baseUrl,
    ...(flags.revision ? { revision: flags.revision } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(maxRetries !== undefined ? { retry: { maxRetries } } : {}),
  });
}

/** A limiter with scaled limits, counting in Redis when `KLAVIYO_REDIS_URL` says so. */
function scaledLimiter(scale: number, url: string | undefined): RateLimiter {
  return new RateLimiter({ scale, ...(url ? { store: redisStoreFor(url) } : {}) });
}

/** Whether two URLs have one origin (scheme, host and port); false when either does not parse. */
export function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

/** The API base URL a stored OAuth login was made for. */
function storedBaseUrl(path: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(path, "utf8")) as { baseUrl?: string }).baseUrl;
  } catch {
    return undefined;
  }
}
