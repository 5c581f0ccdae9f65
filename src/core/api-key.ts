import type { AuthStrategy } from "./auth-strategy.js";
import { builtins } from "./builtins.js";
import { InputValidationError } from "./errors.js";

export const API_KEY_LABEL = "API Key";

/** Why a private API key cannot be right, or undefined when it looks right. Never quotes the key. */
export function apiKeyProblem(key: unknown): string | undefined {
  if (typeof key !== "string") return "is required (a private API key starting with pk_)";
  if (key.length === 0) return "is empty; give a private API key starting with pk_";
  if (/\s/.test(key)) return "contains whitespace; check for a stray space or line break from copying it";
  // A control or non-ASCII character cannot go into a header; fetch's own error would quote the whole header.
  if (/[^\x21-\x7e]/.test(key))
    return "contains a control or non-ASCII character, which a private API key never has";
  if (!key.startsWith("pk_")) {
    return "must be a private API key starting with pk_ (a 6-character public key or site ID only works with /client endpoints)";
  }
  if (key.length < 8) return "is too short to be a private API key";
  return undefined;
}

/** A stable, non-reversible name for a secret, to key rate-limit buckets and caches by. */
export function fingerprint(secret: string): string {
  return builtins.crypto.createHash("sha256").update(secret).digest("hex").slice(0, 16);
}

/**
 * Klaviyo's private API key connection: `Authorization: Klaviyo-API-Key pk_…`. The key is checked before any
 * request (empty, whitespace, missing `pk_` prefix) and kept in a private field, so it never shows in
 * `console.log(client)` or an error.
 */
class ApiKeyAuth implements AuthStrategy {
  readonly kind = "api-key" as const;
  readonly id: string;
  readonly #header: string;
  readonly #key: string;

  constructor(key: string) {
    this.#key = key;
    this.#header = `Klaviyo-API-Key ${key}`;
    this.id = `key:${fingerprint(key)}`;
  }
  authorization(): string {
    return this.#header;
  }
  secrets(): readonly string[] {
    return [this.#key];
  }
  toJSON(): Record<string, string> {
    return { kind: this.kind, id: this.id };
  }
}

/** Builds the API-key strategy, refusing a key that cannot be valid with an `InputValidationError`. */
export function apiKey(key: string): AuthStrategy {
  const problem = apiKeyProblem(key);
  if (problem) throw new InputValidationError([{ label: API_KEY_LABEL, key: "apiKey", message: problem }]);
  return new ApiKeyAuth(key);
}
