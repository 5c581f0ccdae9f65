import { fingerprint } from "../core/api-key.js";
import type { AuthStrategy } from "../core/auth-strategy.js";
import { OAuthError } from "../core/errors.js";
import { isTokenText, type OAuthClientConfig, refreshTokens, type TokenSet } from "./oauth.js";
import type { StoredConnection, TokenStore } from "./token-store.js";

export interface OAuthStrategyOptions extends Omit<OAuthClientConfig, "clientId" | "clientSecret"> {
  store: TokenStore;
  /** Refresh this long before the access token expires (default 60 s), so no request goes out with a dying token. */
  refreshMarginMs?: number;
}

/**
 * The OAuth connection for the transport: `Authorization: Bearer …` from the stored tokens, refreshed ahead of
 * expiry and once after a 401. However many requests are waiting, **one refresh at a time**: they all await the
 * same one. A refresh token Klaviyo refuses (`invalid_grant`) ends in an `OAuthError` that says to log in again,
 * with no retry loop.
 */
class OAuthStrategy implements AuthStrategy {
  readonly kind = "oauth" as const;
  id = "oauth:unknown";
  #connection: StoredConnection | undefined;
  #loading: Promise<StoredConnection> | undefined;
  #refreshing: Promise<TokenSet> | undefined;
  readonly #options: OAuthStrategyOptions;
  /** Refreshes made: visible for tests and diagnostics. */
  refreshes = 0;

  constructor(options: OAuthStrategyOptions) {
    this.#options = options;
  }

  private now(): number {
    return (this.#options.now ?? Date.now)();
  }

  private async connection(): Promise<StoredConnection> {
    if (this.#connection) return this.#connection;
    this.#loading ??= this.#options.store.load().then((stored) => {
      if (!stored)
        throw new OAuthError("not_logged_in", "OAuth: no stored tokens; log in first (klaviyo auth login)");
      this.#connection = stored;
      this.id = `oauth:${fingerprint(stored.clientId)}:${stored.account?.id ?? "account"}`;
      return stored;
    });
    try {
      return await this.#loading;
    } finally {
      this.#loading = undefined;
    }
  }

  private expiring(tokens: TokenSet): boolean {
    return tokens.expiresAt - (this.#options.refreshMarginMs ?? 60_000) <= this.now();
  }

  /**
   * One refresh for everyone waiting; the new tokens are saved before anyone uses them. With a store shared by
   * several processes (`withRefreshLock`), one refresh across all of them: under the store's lock the stored
   * tokens are read again, and if another process has refreshed meanwhile (a different access token, not about
   * to expire), they are taken as they are, with no call to the token endpoint.
   */
  private refresh(): Promise<TokenSet> {
    this.#refreshing ??= (async () => {
      const connection = await this.connection();
      const { store } = this.#options;
      if (!store.withRefreshLock) return this.refreshFrom(connection);
      const held = connection.tokens.accessToken;
      const adopt = (current: StoredConnection): TokenSet | undefined => {
        if (current.tokens.accessToken === held || this.expiring(current.tokens)) return undefined;
        this.#connection = current;
        return current.tokens;
      };
      return store.withRefreshLock(
        async (current) => (current && adopt(current)) ?? this.refreshFrom(current ?? connection),
        adopt,
      );
    })().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  private async refreshFrom(connection: StoredConnection): Promise<TokenSet> {
    this.refreshes++;
    const tokens = await refreshTokens(
      {
        ...this.#options,
        clientId: connection.clientId,
        clientSecret: connection.clientSecret,
        ...(connection.tokenUrl && !this.#options.tokenUrl ? { tokenUrl: connection.tokenUrl } : {}),
      },
      connection.tokens,
    );
    const updated = { ...connection, tokens };
    await this.#options.store.save(updated);
    this.#connection = updated;
    return tokens;
  }

  async authorization(): Promise<string> {
    const connection = await this.connection();
    let tokens = connection.tokens;
    if (this.#refreshing || this.expiring(tokens)) {
      tokens = await this.refresh();
    }
    // A stored token fetch could not send would surface as fetch's error, which quotes the whole header.
    if (!isTokenText(tokens.accessToken))
      throw new OAuthError("invalid_token", "OAuth: the stored access token is malformed; log in again");
    return `Bearer ${tokens.accessToken}`;
  }

  async onUnauthorized(used?: string): Promise<boolean> {
    const connection = await this.connection();
    // Another request already refreshed since this one was sent: just send it again with the new token.
    if (used && used !== `Bearer ${connection.tokens.accessToken}`) return true;
    await this.refresh();
    return true;
  }

  secrets(): readonly string[] {
    const c = this.#connection;
    return c ? [c.tokens.accessToken, c.tokens.refreshToken, c.clientSecret] : [];
  }

  toJSON(): Record<string, string> {
    return { kind: this.kind, id: this.id };
  }
}

/** The OAuth 2.0 connection over a token store (`FileTokenStore` for the CLI, your own for a platform). */
export function oauth(options: OAuthStrategyOptions): AuthStrategy & { readonly refreshes: number } {
  return new OAuthStrategy(options);
}
