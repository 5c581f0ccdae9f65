/** The environment variables the CLI reads, by name, in one place. */
export const ENV = {
  apiKey: "KLAVIYO_API_KEY",
  baseUrl: "KLAVIYO_BASE_URL",
  clientSecret: "KLAVIYO_CLIENT_SECRET",
  /** Redis for the rate limits (and, with `tokenEncryptionKey`, the OAuth login) shared by every process. */
  redisUrl: "KLAVIYO_REDIS_URL",
  tokenEncryptionKey: "KLAVIYO_TOKEN_ENCRYPTION_KEY",
  /** `off` leaves V8's collection alone in the streaming commands. */
  heapTuning: "KLAVIYO_HEAP_TUNING",
} as const;

/** A variable's value, trimmed; `undefined` when it is unset or blank. */
export function envValue(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** The Redis URL of the environment, if any. */
export function redisUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return envValue(ENV.redisUrl, env);
}
