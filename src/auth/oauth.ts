import type { FetchLike } from "../core/chain.js";
import { OAuthError } from "../core/errors.js";
import { redact } from "../core/redact.js";
import { challengeOf, createVerifier, randomState } from "./pkce.js";

/** Klaviyo's OAuth endpoints. Token and revoke must be on a.klaviyo.com: www refuses them since 2025-03-31. */
export const KLAVIYO_OAUTH_URLS = {
  authorizeUrl: "https://www.klaviyo.com/oauth/authorize",
  tokenUrl: "https://a.klaviyo.com/oauth/token",
  revokeUrl: "https://a.klaviyo.com/oauth/revoke",
} as const;

/** An OAuth app, as the OAuth 2.0 connection names its inputs, plus where its endpoints are. */
export interface OAuthClientConfig {
  clientId: string;
  clientSecret: string;
  /** Where Klaviyo sends the user back: must match a redirect URL registered for the app, exactly. */
  redirectUri?: string;
  /** Space-separated; `authorizeUrl` requires them (`DEFAULT_SCOPES.join(" ")` covers every action). */
  scopes?: string;
  authorizeUrl?: string;
  tokenUrl?: string;
  revokeUrl?: string;
  fetch?: FetchLike;
  /** Milliseconds since the epoch, for expiry times. */
  now?: () => number;
}

/** Tokens as the connector keeps them (times in ms since the epoch). */
export interface TokenSet {
  accessToken: string;
  refreshToken: string;
  /** When the access token expires. */
  expiresAt: number;
  scope: string;
  tokenType: string;
}

function basicAuth(config: OAuthClientConfig): string {
  return `Basic ${Buffer.from(`${config.clientId}:${config.clientSecret}`).toString("base64")}`;
}

/** The URL to send the user to, with a fresh PKCE verifier (keep it) and a random `state` (check it). */
export function authorizeUrl(config: OAuthClientConfig): { url: string; verifier: string; state: string } {
  if (!config.redirectUri)
    throw new OAuthError("invalid_request", "OAuth: a redirect URL is required to log in");
  const verifier = createVerifier();
  const state = randomState();
  const url = new URL(config.authorizeUrl ?? KLAVIYO_OAUTH_URLS.authorizeUrl);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", config.clientId);
  url.searchParams.set("redirect_uri", config.redirectUri);
  const scopes = config.scopes?.trim();
  if (!scopes)
    throw new OAuthError(
      "invalid_request",
      "OAuth: give the scopes to ask for (DEFAULT_SCOPES, from klaviyo-connector, covers every action)",
    );
  url.searchParams.set("scope", scopes);
  url.searchParams.set("state", state);
  url.searchParams.set("code_challenge", challengeOf(verifier));
  url.searchParams.set("code_challenge_method", "S256");
  return { url: url.toString(), verifier, state };
}

/** POSTs a form to the token or revoke endpoint with the app's Basic credentials; OAuth errors become `OAuthError`. */
async function postForm(
  config: OAuthClientConfig,
  url: string,
  form: Record<string, string>,
): Promise<unknown> {
  const fetchImpl = config.fetch ?? ((input, init) => fetch(input, init));
  const secrets = [config.clientSecret, ...Object.values(form)];
  let res: Response;
  try {
    res = await fetchImpl(url, {
      method: "POST",
      headers: {
        authorization: basicAuth(config),
        "content-type": "application/x-www-form-urlencoded",
        accept: "application/json",
      },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(30_000),
      // A redirect is an error here: following it would re-send the code, verifier or token to another URL.
      redirect: "manual",
    });
  } catch (error) {
    throw new OAuthError(
      "connection",
      `OAuth: could not reach ${new URL(url).origin}: ${redact(String(error), secrets)}`,
    );
  }
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    // Reported below with the status.
  }
  if (!res.ok) {
    const code = typeof body.error === "string" ? body.error : `http_${res.status}`;
    const detail = typeof body.error_description === "string" ? `: ${body.error_description}` : "";
    const advice =
      code === "invalid_grant"
        ? " — re-authorization required: the grant was revoked, expired (90 days unused) or already used; log in again"
        : code === "invalid_client"
          ? " — check the Client ID and Client secret"
          : "";
    throw new OAuthError(code, redact(`OAuth ${res.status} ${code}${detail}${advice}`, secrets), res.status);
  }
  return body;
}

/** Visible ASCII only: what a token can be, and what an `Authorization` header can carry. */
export function isTokenText(token: string): boolean {
  return /^[\x21-\x7e]+$/.test(token);
}

function tokenSet(body: unknown, now: number, previous?: TokenSet): TokenSet {
  const b = body as Record<string, unknown>;
  if (typeof b.access_token !== "string")
    throw new OAuthError("invalid_response", "OAuth: the token response has no access_token");
  const refresh = typeof b.refresh_token === "string" ? b.refresh_token : previous?.refreshToken;
  if (!refresh) throw new OAuthError("invalid_response", "OAuth: the token response has no refresh_token");
  if (!isTokenText(b.access_token) || !isTokenText(refresh))
    throw new OAuthError(
      "invalid_response",
      "OAuth: the token response holds a token with characters no token has",
    );
  const expiresIn = typeof b.expires_in === "number" ? b.expires_in : 3600;
  return {
    accessToken: b.access_token,
    // A refresh that returns a new refresh token replaces the old one (Klaviyo may rotate them).
    refreshToken: refresh,
    expiresAt: now + expiresIn * 1000,
    scope: typeof b.scope === "string" ? b.scope : (previous?.scope ?? ""),
    tokenType: typeof b.token_type === "string" ? b.token_type : "Bearer",
  };
}

/**
 * Exchanges the authorization code for tokens. The `state` that came back is checked against the one sent
 * before anything else, so a forged callback never reaches the token endpoint.
 */
export async function exchangeCode(
  config: OAuthClientConfig,
  callback: { code: string | null | undefined; state: string | null | undefined },
  expected: { state: string; verifier: string },
): Promise<TokenSet> {
  if (!callback.state || callback.state !== expected.state) {
    throw new OAuthError(
      "invalid_state",
      "OAuth: the state returned does not match the one sent (a forged or stale callback)",
    );
  }
  if (!callback.code) throw new OAuthError("invalid_request", "OAuth: the callback carries no code");
  if (!config.redirectUri) throw new OAuthError("invalid_request", "OAuth: the redirect URL is required");
  const body = await postForm(config, config.tokenUrl ?? KLAVIYO_OAUTH_URLS.tokenUrl, {
    grant_type: "authorization_code",
    code: callback.code,
    code_verifier: expected.verifier,
    redirect_uri: config.redirectUri,
  });
  return tokenSet(body, (config.now ?? Date.now)());
}

/** Uses the refresh token for a new access token (and, when Klaviyo sends one, a new refresh token). */
export async function refreshTokens(config: OAuthClientConfig, tokens: TokenSet): Promise<TokenSet> {
  const body = await postForm(config, config.tokenUrl ?? KLAVIYO_OAUTH_URLS.tokenUrl, {
    grant_type: "refresh_token",
    refresh_token: tokens.refreshToken,
  });
  return tokenSet(body, (config.now ?? Date.now)(), tokens);
}

/** Revokes a token (the refresh token by default: its access tokens go with it). */
export async function revokeToken(
  config: OAuthClientConfig,
  token: string,
  hint: "refresh_token" | "access_token" = "refresh_token",
): Promise<void> {
  await postForm(config, config.revokeUrl ?? KLAVIYO_OAUTH_URLS.revokeUrl, { token, token_type_hint: hint });
}
