import { CLIENT_ENV, envValue } from "../core/env.js";

export { envValue };

/** The environment variables the CLI reads, by name: the client's own and the CLI's. */
export const ENV = {
  ...CLIENT_ENV,
  clientSecret: "KLAVIYO_CLIENT_SECRET",
  /** Redis for the rate limits (and, with `tokenEncryptionKey`, the OAuth login) shared by every process. */
  redisUrl: "KLAVIYO_REDIS_URL",
  tokenEncryptionKey: "KLAVIYO_TOKEN_ENCRYPTION_KEY",
  /** `off` leaves V8's collection alone in the streaming commands. */
  heapTuning: "KLAVIYO_HEAP_TUNING",
} as const;

/** The Redis URL of the environment, if any. */
export function redisUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return envValue(ENV.redisUrl, env);
}
