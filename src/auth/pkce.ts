import { builtins } from "../core/builtins.js";

/** A PKCE code verifier: 32 random bytes as base64url, 43 characters (RFC 7636 allows 43–128). */
export function createVerifier(): string {
  return builtins.crypto.randomBytes(32).toString("base64url");
}

/** The S256 challenge of a verifier: base64url(SHA-256(verifier)), unpadded. Klaviyo accepts only S256. */
export function challengeOf(verifier: string): string {
  return builtins.crypto.createHash("sha256").update(verifier).digest("base64url");
}

/** An unguessable `state`, to tie the callback to the request that started the login. */
export function randomState(): string {
  return builtins.crypto.randomBytes(24).toString("base64url");
}
