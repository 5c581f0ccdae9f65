import { existsSync, readFileSync } from "node:fs";
import type { Command } from "commander";
import { oauth } from "../auth/oauth-strategy.js";
import { apiKey } from "../core/api-key.js";
import { KlaviyoClient } from "../core/client.js";
import { InputValidationError } from "../core/errors.js";
import { RateLimiter } from "../core/rate-limit.js";
import { redisRateLimiter, redisStoreFor } from "../redis/shared.js";
import { ENV, redisUrlFromEnv } from "./env.js";
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

/**
 * Builds a client from flags and the environment: an API key (`--api-key`, $KLAVIYO_API_KEY), checked before
 * anything is sent, or else the OAuth tokens `klaviyo auth login` stored.
 */
export function clientFromFlags(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): KlaviyoClient {
  const key = flags.apiKey ?? env[ENV.apiKey];
  const store = cliTokenStore(env);
  // The login of `klaviyo auth login`: in its file, or shared through Redis (KLAVIYO_TOKEN_ENCRYPTION_KEY).
  const useOAuth = key === undefined && (existsSync(store.file.path) || store.shared);
  const baseUrl =
    flags.baseUrl ?? env[ENV.baseUrl] ?? (useOAuth ? storedBaseUrl(store.file.path) : undefined);
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
  if (!useOAuth && key === undefined) {
    throw new InputValidationError([
      {
        label: "API Key",
        key: "apiKey",
        message: "is required: give --api-key, set KLAVIYO_API_KEY, or log in with klaviyo auth login",
      },
    ]);
  }
  const scale = flags.rateLimitScale !== undefined ? Number(flags.rateLimitScale) : undefined;
  if (scale !== undefined && !(Number.isFinite(scale) && scale > 0)) {
    throw new InputValidationError([
      { label: "--rate-limit-scale", key: "rateLimitScale", message: "must be a number above 0" },
    ]);
  }
  const redisUrl = redisUrlFromEnv(env);
  return new KlaviyoClient({
    ...(scale !== undefined
      ? { rateLimiter: scaledLimiter(scale, redisUrl) }
      : redisUrl
        ? { rateLimiter: redisRateLimiter(redisUrl) }
        : {}),
    auth: useOAuth ? oauth({ store }) : apiKey(key as string),
    ...(baseUrl ? { baseUrl } : {}),
    ...(flags.revision ? { revision: flags.revision } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(maxRetries !== undefined ? { retry: { maxRetries } } : {}),
  });
}

/** A limiter with scaled limits, counting in Redis when `KLAVIYO_REDIS_URL` says so. */
function scaledLimiter(scale: number, url: string | undefined): RateLimiter {
  return new RateLimiter({ scale, ...(url ? { store: redisStoreFor(url) } : {}) });
}

/** The API base URL a stored OAuth login was made for. */
function storedBaseUrl(path: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(path, "utf8")) as { baseUrl?: string }).baseUrl;
  } catch {
    return undefined;
  }
}
