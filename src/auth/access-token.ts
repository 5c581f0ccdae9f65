import { fingerprint } from "../core/api-key.js";
import type { AuthStrategy } from "../core/auth-strategy.js";
import { InputValidationError } from "../core/errors.js";
import { isTokenText } from "./oauth.js";

/**
 * An OAuth access token that something else obtains and refreshes: an integration platform (Prismatic,
 * Activepieces) runs the authorization and hands each step its current token. Sent as `Authorization: Bearer …`;
 * kept in a private field, so it never shows in `console.log(client)` or an error. It is not refreshed here: the
 * platform refreshes it and hands the next step the new one.
 */
class AccessTokenAuth implements AuthStrategy {
  readonly kind = "oauth" as const;
  readonly id: string;
  readonly #token: string;

  constructor(token: string) {
    this.#token = token;
    this.id = `token:${fingerprint(token)}`;
  }
  authorization(): string {
    return `Bearer ${this.#token}`;
  }
  secrets(): readonly string[] {
    return [this.#token];
  }
  toJSON(): Record<string, string> {
    return { kind: this.kind, id: this.id };
  }
}

/** Why an access token cannot be sent, or undefined. Never quotes the token. */
export function accessTokenProblem(token: unknown): string | undefined {
  if (typeof token !== "string" || token === "")
    return "is missing: authorize the OAuth 2.0 connection first";
  if (!isTokenText(token)) return "is malformed (it holds whitespace or characters a header cannot carry)";
  return undefined;
}

/** The strategy for an access token obtained elsewhere (see `AccessTokenAuth`); refuses one that cannot be sent. */
export function accessToken(token: string, label = "Access Token"): AuthStrategy {
  const problem = accessTokenProblem(token);
  if (problem) throw new InputValidationError([{ label, key: "accessToken", message: problem }]);
  return new AccessTokenAuth(token);
}
