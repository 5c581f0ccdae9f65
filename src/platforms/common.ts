/**
 * What the platform adapters (`./prismatic.ts`, `./activepieces.ts`) share: the one set of action definitions
 * they are generated from, the client each step runs on, and the few conversions from what a platform hands a
 * step to what our inputs accept. Validation stays ours: every value goes through `validateInputs`, so a
 * platform's form shows the same labelled errors as the library and the CLI, before anything is sent.
 */

import { DEFAULT_SCOPES } from "../actions/connections.js";
import { type AnyAction, actionContext, validateInputs } from "../actions/define.js";
import { actions as allActions } from "../actions/index.js";
import type { InputDefinition } from "../actions/inputs.js";
import { accessToken } from "../auth/access-token.js";
import { apiKey } from "../core/api-key.js";
import type { AuthStrategy } from "../core/auth-strategy.js";
import { KlaviyoClient, type KlaviyoClientOptions } from "../core/client.js";

/** Klaviyo's OAuth endpoints (its OAuth guide: authorize on www.klaviyo.com, tokens on a.klaviyo.com). */
export const KLAVIYO_AUTHORIZE_URL = "https://www.klaviyo.com/oauth/authorize";
export const KLAVIYO_TOKEN_URL = "https://a.klaviyo.com/oauth/token";
export { DEFAULT_SCOPES };

export const COMPONENT_DESCRIPTION = `Profiles, lists, segments, events, campaigns, templates, images and subscriptions in Klaviyo: ${allActions.length} actions on Klaviyo's current API revision, with chunked bulk calls, bounded pagination, rate limits per endpoint tier and retries that honour Retry-After.`;

/** Options every adapter takes. */
export interface AdapterOptions {
  /** The actions to offer; default every action of the connector. */
  actions?: readonly AnyAction[];
  /**
   * Options of the client each step runs on (`baseUrl`, `fetch`, `timeoutMs`, `retry`, `rateLimiter` …): point
   * `baseUrl` (and `fetch`) at the emulator to test an integration offline. Its credentials come from the
   * connection the platform hands the step.
   */
  client?: Omit<KlaviyoClientOptions, "auth" | "apiKey">;
}

export function actionsOf(options: AdapterOptions): readonly AnyAction[] {
  return options.actions ?? allActions;
}

/** `create-profile` → `createProfile`. */
export function camelKey(key: string): string {
  return key.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** `create-profile` → `create_profile`. */
export function snakeKey(key: string): string {
  return key.replace(/-/g, "_");
}

/** Credentials a platform hands a step: an API key, or an OAuth access token it obtained and refreshes. */
export type PlatformCredentials = { apiKey: unknown } | { accessToken: unknown };

/** The strategy for a step's credentials; a missing or malformed one is refused by label (`label`: the token's). */
export function authOf(credentials: PlatformCredentials, label: string): AuthStrategy {
  if ("accessToken" in credentials)
    return accessToken(typeof credentials.accessToken === "string" ? credentials.accessToken : "", label);
  // A missing key is an empty one: "API Key: is empty; give a private API key starting with pk_".
  return apiKey(typeof credentials.apiKey === "string" ? credentials.apiKey.trim() : "");
}

/**
 * Bytes from what platforms hand a file input: Prismatic's data payload (`{ data: Buffer, contentType }`),
 * Activepieces' file (`{ filename, data: Buffer }`); anything else is left to the input's own checks (a
 * Buffer, base64 text).
 */
export function bytesOf(value: unknown): unknown {
  if (value && typeof value === "object" && !(value instanceof Uint8Array)) {
    const data = (value as { data?: unknown }).data;
    if (data instanceof Uint8Array) return data;
  }
  return value;
}

/** A platform's value for one of our inputs, as our validation takes it (absent stays absent). */
export function fromPlatform(def: InputDefinition, value: unknown): unknown {
  if (value === null || value === undefined || value === "") return undefined;
  if (def.type === "binary") return bytesOf(value);
  if (def.type === "key-value") {
    // A file-data list carries files: each value may be a data payload or a file object.
    if (Array.isArray(value))
      return value.map((pair) =>
        pair && typeof pair === "object" && "value" in pair
          ? { ...(pair as object), value: bytesOf((pair as { value: unknown }).value) }
          : pair,
      );
    if (typeof value === "object")
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, bytesOf(v)]));
  }
  return value;
}

/**
 * Runs one action for a platform: the platform's values converted (`fromPlatform`), validated by label, then
 * performed on a client with the step's credentials.
 */
export async function performFor(
  action: AnyAction,
  values: Readonly<Record<string, unknown>>,
  auth: AuthStrategy,
  options: AdapterOptions,
  signal?: AbortSignal,
): Promise<unknown> {
  const raw: Record<string, unknown> = {};
  for (const def of Object.values(action.inputs)) {
    const value = fromPlatform(def, values[def.key]);
    if (value !== undefined) raw[def.key] = value;
  }
  const inputs = validateInputs(action, raw, { text: true });
  const client = new KlaviyoClient({ ...options.client, auth });
  return action.perform(actionContext(action, client, { signal }), inputs);
}

/** The default as text, the way the specification writes it (`false`, `0`, `json`); JSON for objects. */
export function defaultText(def: InputDefinition): string | undefined {
  if (def.default === undefined) return undefined;
  return typeof def.default === "object" ? JSON.stringify(def.default) : String(def.default);
}
