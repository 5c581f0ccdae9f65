/**
 * What Klaviyo's OAuth server remembers: authorization codes, the grants (app installations) they turn into, and
 * the access and refresh tokens of each grant. Everything here is in memory only; tokens and codes are random
 * and are only ever used as map keys, never put into an error or a log entry.
 */
import { createHash, randomBytes } from "node:crypto";
import { CredentialRegistry, type Principal } from "./auth.js";

/** How long an authorization code can be exchanged. */
export const AUTHORIZATION_CODE_TTL_MS = 10 * 60_000;
/** Klaviyo: a refresh token dies after 90 days without use. */
export const REFRESH_TOKEN_IDLE_MS = 90 * 86_400_000;
export const BEARER_SCHEME = "Bearer";

export interface Clock {
  now(): number;
}

/** An OAuth error answer (RFC 6749 §5.2): `{"error": code, "error_description"?: …}` with this status. */
export class OAuthError extends Error {
  override name = "OAuthError";
  constructor(
    readonly status: 400 | 401 | 404 | 405 | 413,
    readonly error: string,
    readonly description?: string,
  ) {
    super(description ?? error);
  }
}

const invalidGrant = (description: string) => new OAuthError(400, "invalid_grant", description);

/** The token endpoint's success body, as Klaviyo sends it. */
export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: "Bearer";
  readonly expires_in: number;
  readonly refresh_token: string;
  /** Space-separated. */
  readonly scope: string;
}

/**
 * A registry whose entries can also expire and be withdrawn, as OAuth access tokens do. A credential of such a
 * scheme that expired or was withdrawn is unknown again, which the pipeline answers 401 `authentication_failed`.
 */
export class RevocableCredentialRegistry extends CredentialRegistry {
  private readonly expiring = new Map<string, Map<string, { principal: Principal; expiresAt: number }>>();

  constructor(private readonly clock: Clock) {
    super();
  }

  /** Makes `scheme` known before any credential of it exists: a wrong one is then "wrong", not "no credentials". */
  addScheme(scheme: string): void {
    const key = scheme.toLowerCase();
    if (!this.expiring.has(key)) this.expiring.set(key, new Map());
  }

  /** Grants `principal` to `<scheme> <credential>` until `expiresAt` (epoch ms) or `withdraw`. */
  registerUntil(scheme: string, credential: string, principal: Principal, expiresAt: number): void {
    if (!credential || /\s/.test(credential))
      throw new Error(`A ${scheme} credential cannot be empty or hold spaces`);
    this.addScheme(scheme);
    this.expiring.get(scheme.toLowerCase())?.set(credential, { principal, expiresAt });
  }

  withdraw(scheme: string, credential: string): void {
    this.expiring.get(scheme.toLowerCase())?.delete(credential);
  }

  /** Forgets every expired credential (they are refused anyway; this only bounds memory). */
  sweep(): void {
    const now = this.clock.now();
    for (const map of this.expiring.values()) {
      for (const [credential, entry] of map) if (entry.expiresAt <= now) map.delete(credential);
    }
  }

  override hasScheme(scheme: string): boolean {
    return this.expiring.has(scheme.toLowerCase()) || super.hasScheme(scheme);
  }

  override lookup(scheme: string, credential: string): Principal | undefined {
    const map = this.expiring.get(scheme.toLowerCase());
    const entry = map?.get(credential);
    if (!entry) return super.lookup(scheme, credential);
    if (this.clock.now() < entry.expiresAt) return entry.principal;
    map?.delete(credential);
    return undefined;
  }
}

interface CodeRecord {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  readonly challenge: string;
  readonly expiresAt: number;
  /** Set once exchanged: a second exchange revokes this grant (RFC 6749 §4.1.2). */
  grantId: string | undefined;
}

/** One app installation: what the account owner granted, and the tokens that carry it. */
interface Grant {
  readonly id: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  refreshToken: string;
  /** When the current refresh token was issued or last used (every use rotates it). */
  lastUsedAt: number;
  readonly accessTokens: Set<string>;
}

interface AccessTokenRecord {
  readonly grantId: string;
  readonly clientId: string;
  readonly expiresAt: number;
}

export interface OAuthGrantsOptions {
  readonly registry: RevocableCredentialRegistry;
  /** The account every installation is made in. */
  readonly accountId: string;
  readonly clock: Clock;
  readonly accessTokenTtlSeconds: number;
}

/** A random, URL-safe secret of 256 bits. */
function secret(): string {
  return randomBytes(32).toString("base64url");
}

/** PKCE S256 (RFC 7636 §4.2): base64url(SHA-256(verifier)), no padding. */
export function s256(verifier: string): string {
  return createHash("sha256").update(verifier, "ascii").digest("base64url");
}

/**
 * Names scopes for an error description, but only those shaped like one (`lists:read`): anything else a client
 * put in `scope` may be something it should not have, such as a pasted secret.
 */
export function describeScopes(scopes: readonly string[]): string {
  const shaped = scopes.filter((s) => /^[a-z][a-z-]{0,40}:[a-z]{1,20}$/.test(s));
  const others = scopes.length - shaped.length;
  return [...shaped, ...(others > 0 ? [`${others} malformed`] : [])].join(", ");
}

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

export class OAuthGrants {
  private readonly codes = new Map<string, CodeRecord>();
  private readonly grants = new Map<string, Grant>();
  /** Current refresh tokens only: a rotated one is gone, so it is refused. */
  private readonly refreshTokens = new Map<string, string>();
  private readonly accessTokens = new Map<string, AccessTokenRecord>();

  constructor(private readonly options: OAuthGrantsOptions) {}

  private now(): number {
    return this.options.clock.now();
  }

  /** A single-use code, valid 10 minutes, bound to the client, redirect URI, scopes and PKCE challenge. */
  issueCode(init: Omit<CodeRecord, "expiresAt" | "grantId">): string {
    this.sweep();
    const code = secret();
    this.codes.set(code, { ...init, expiresAt: this.now() + AUTHORIZATION_CODE_TTL_MS, grantId: undefined });
    return code;
  }

  /** `grant_type=authorization_code`. */
  redeemCode(clientId: string, code: string, verifier: string, redirectUri: string): TokenResponse {
    const record = this.codes.get(code);
    if (!record || record.clientId !== clientId)
      throw invalidGrant("The authorization code is invalid or was issued to another client.");
    if (record.grantId !== undefined) {
      const grant = this.grants.get(record.grantId);
      if (grant) this.revokeGrant(grant);
      throw invalidGrant(
        "The authorization code has already been used; the tokens issued for it have been revoked.",
      );
    }
    if (this.now() >= record.expiresAt) {
      this.codes.delete(code);
      throw invalidGrant("The authorization code has expired.");
    }
    if (record.redirectUri !== redirectUri)
      throw invalidGrant("redirect_uri does not match the one the authorization code was issued for.");
    if (!VERIFIER.test(verifier))
      throw invalidGrant("code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~].");
    if (s256(verifier) !== record.challenge)
      throw invalidGrant("code_verifier does not match the code_challenge.");
    const grant = this.createGrant(clientId, record.scopes);
    record.grantId = grant.id;
    return this.respond(grant, record.scopes);
  }

  /** `grant_type=refresh_token`: a new access token and a new refresh token; the old refresh token dies. */
  refresh(clientId: string, refreshToken: string, requested: readonly string[] | undefined): TokenResponse {
    const grantId = this.refreshTokens.get(refreshToken);
    const grant = grantId === undefined ? undefined : this.grants.get(grantId);
    if (!grant || grant.clientId !== clientId)
      throw invalidGrant("The refresh token is invalid, was revoked or was issued to another client.");
    if (this.now() - grant.lastUsedAt >= REFRESH_TOKEN_IDLE_MS) {
      this.revokeGrant(grant);
      throw invalidGrant("The refresh token has expired: it was not used for 90 days.");
    }
    const scopes = requested ?? grant.scopes;
    const extra = scopes.filter((s) => !grant.scopes.includes(s));
    if (extra.length > 0)
      throw new OAuthError(
        400,
        "invalid_scope",
        `Scopes not granted to this installation: ${describeScopes(extra)}.`,
      );
    this.refreshTokens.delete(grant.refreshToken);
    grant.refreshToken = secret();
    grant.lastUsedAt = this.now();
    this.refreshTokens.set(grant.refreshToken, grant.id);
    this.sweep();
    return this.respond(grant, scopes);
  }

  /**
   * RFC 7009: a refresh token revokes its whole grant (its access tokens too); an access token only itself. A
   * token that is unknown, or another client's, is left alone without saying so.
   */
  revoke(clientId: string, token: string): void {
    const grantId = this.refreshTokens.get(token);
    const grant = grantId === undefined ? undefined : this.grants.get(grantId);
    if (grant) {
      if (grant.clientId === clientId) this.revokeGrant(grant);
      return;
    }
    const access = this.accessTokens.get(token);
    if (access?.clientId === clientId) this.dropAccessToken(token);
  }

  /** Tokens as a completed authorization would give them (for tests that skip the browser leg). */
  issueDirectly(clientId: string, scopes: readonly string[]): TokenResponse {
    this.sweep();
    return this.respond(this.createGrant(clientId, scopes), scopes);
  }

  expireAccessToken(token: string): boolean {
    if (!this.accessTokens.has(token)) return false;
    this.dropAccessToken(token);
    return true;
  }

  expireAccessTokens(): void {
    for (const token of [...this.accessTokens.keys()]) this.dropAccessToken(token);
  }

  revokeRefreshToken(token: string): boolean {
    const grant = this.grantOf(token);
    if (grant) this.revokeGrant(grant);
    return grant !== undefined;
  }

  ageRefreshToken(token: string, days: number): boolean {
    const grant = this.grantOf(token);
    if (grant) grant.lastUsedAt -= days * 86_400_000;
    return grant !== undefined;
  }

  private grantOf(refreshToken: string): Grant | undefined {
    const grantId = this.refreshTokens.get(refreshToken);
    return grantId === undefined ? undefined : this.grants.get(grantId);
  }

  private createGrant(clientId: string, scopes: readonly string[]): Grant {
    const grant: Grant = {
      id: secret(),
      clientId,
      scopes: [...scopes],
      refreshToken: secret(),
      lastUsedAt: this.now(),
      accessTokens: new Set(),
    };
    this.grants.set(grant.id, grant);
    this.refreshTokens.set(grant.refreshToken, grant.id);
    return grant;
  }

  /** Issues an access token of `grant` carrying `scopes`, registered under `Bearer` with its installation's quota. */
  private respond(grant: Grant, scopes: readonly string[]): TokenResponse {
    const { accountId, accessTokenTtlSeconds, registry } = this.options;
    const accessToken = secret();
    const expiresAt = this.now() + accessTokenTtlSeconds * 1000;
    registry.registerUntil(
      BEARER_SCHEME,
      accessToken,
      { accountId, scopes: new Set(scopes), rateBucket: `oauth:${grant.clientId}:${accountId}` },
      expiresAt,
    );
    this.accessTokens.set(accessToken, { grantId: grant.id, clientId: grant.clientId, expiresAt });
    grant.accessTokens.add(accessToken);
    return {
      access_token: accessToken,
      token_type: "Bearer",
      expires_in: accessTokenTtlSeconds,
      refresh_token: grant.refreshToken,
      scope: scopes.join(" "),
    };
  }

  private dropAccessToken(token: string): void {
    const record = this.accessTokens.get(token);
    this.accessTokens.delete(token);
    this.options.registry.withdraw(BEARER_SCHEME, token);
    if (record) this.grants.get(record.grantId)?.accessTokens.delete(token);
  }

  private revokeGrant(grant: Grant): void {
    for (const token of [...grant.accessTokens]) this.dropAccessToken(token);
    this.refreshTokens.delete(grant.refreshToken);
    this.grants.delete(grant.id);
  }

  /** Forgets expired codes, access tokens and aged-out grants, so a long-running emulator does not grow. */
  private sweep(): void {
    const now = this.now();
    for (const [code, record] of this.codes) if (record.expiresAt <= now) this.codes.delete(code);
    for (const [token, record] of this.accessTokens) if (record.expiresAt <= now) this.dropAccessToken(token);
    for (const grant of [...this.grants.values()]) {
      if (now - grant.lastUsedAt >= REFRESH_TOKEN_IDLE_MS) this.revokeGrant(grant);
    }
    this.options.registry.sweep();
  }
}
