/**
 * The environment variables a client reads when it is given no options for them (as openai-node reads its own),
 * in one place. The CLI reads these and its own (`src/cli/env.ts`). What the client loads never depends on them.
 */
export const CLIENT_ENV = {
  /** A private API key (`pk_…`), when the client is given neither `apiKey` nor `auth`. */
  apiKey: "KLAVIYO_API_KEY",
  /** The API's base URL (the emulator's, a proxy's), when the client is given no `baseUrl`. */
  baseUrl: "KLAVIYO_BASE_URL",
} as const;

/** A variable's value, trimmed; `undefined` when it is unset or blank, or where there is no `process`. */
export function envValue(
  name: string,
  env: Record<string, string | undefined> | undefined = globalThis.process?.env,
): string | undefined {
  const value = env?.[name]?.trim();
  return value ? value : undefined;
}
