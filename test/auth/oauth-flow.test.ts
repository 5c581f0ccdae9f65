import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { authorizeUrl, exchangeCode, type OAuthClientConfig } from "../../src/auth/oauth.js";
import { oauth } from "../../src/auth/oauth-strategy.js";
import { MemoryTokenStore, type StoredConnection } from "../../src/auth/token-store.js";
import { KlaviyoClient } from "../../src/core/client.js";
import { OAuthError } from "../../src/core/errors.js";
import { createEmulator } from "../../src/emulator/index.js";

const CLIENT = {
  clientId: "demo-app",
  clientSecret: "demo-app-secret-0123456789",
  redirectUri: "http://127.0.0.1:8765/callback",
};

function setup(ttlSeconds?: number) {
  const emulator = createEmulator({
    oauthClients: [
      { clientId: CLIENT.clientId, clientSecret: CLIENT.clientSecret, redirectUris: [CLIENT.redirectUri] },
    ],
    rateLimits: "off",
    ...(ttlSeconds ? { accessTokenTtlSeconds: ttlSeconds } : {}),
  });
  const config: OAuthClientConfig = {
    ...CLIENT,
    scopes: "accounts:read lists:read",
    authorizeUrl: `${emulator.baseUrl}/oauth/authorize`,
    tokenUrl: `${emulator.baseUrl}/oauth/token`,
    revokeUrl: `${emulator.baseUrl}/oauth/revoke`,
    fetch: emulator.fetch,
  };
  /** Plays the browser: follows the authorize URL to the redirect and reads code and state from it. */
  async function authorize() {
    const request = authorizeUrl(config);
    const res = await emulator.fetch(request.url, { redirect: "manual" });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get("location") ?? "");
    expect(back.origin + back.pathname).toBe(CLIENT.redirectUri);
    return { request, code: back.searchParams.get("code"), state: back.searchParams.get("state") };
  }
  async function login(): Promise<StoredConnection> {
    const { request, code, state } = await authorize();
    const tokens = await exchangeCode(config, { code, state }, request);
    return { tokens, clientId: CLIENT.clientId, clientSecret: CLIENT.clientSecret };
  }
  function clientFor(store: MemoryTokenStore) {
    const auth = oauth({ store, tokenUrl: config.tokenUrl, fetch: emulator.fetch });
    return {
      auth,
      client: new KlaviyoClient({
        auth,
        baseUrl: emulator.baseUrl,
        fetch: emulator.fetch,
        rateLimiter: false,
      }),
    };
  }
  return { emulator, config, authorize, login, clientFor };
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error("expected a failure");
    },
    (e: unknown) => e,
  );
}

describe("authorization code with PKCE against the emulator", () => {
  it("logs in and calls the API with the Bearer token; the scopes granted are enforced", async () => {
    const { login, clientFor } = setup();
    const store = new MemoryTokenStore(await login());
    const { client } = clientFor(store);
    const res = await client.request<{ data: Array<{ id: string }> }>({
      method: "GET",
      path: "/api/accounts",
    });
    expect(res.body.data[0]?.id).toBe("XqT4Lm");
    const outside = await failure(client.request({ method: "GET", path: "/api/profiles" }));
    expect((outside as { status?: number }).status).toBe(403);
  });

  it("checks the state before anything else: a wrong or missing state never reaches the token endpoint", async () => {
    const { authorize, config, emulator } = setup();
    const { request, code } = await authorize();
    for (const state of ["forged", null]) {
      const error = await failure(exchangeCode(config, { code, state }, request));
      expect(error).toBeInstanceOf(OAuthError);
      expect((error as OAuthError).code).toBe("invalid_state");
    }
    expect(emulator.oauth.tokenRequests.authorization_code).toBe(0);
  });

  it("refuses a wrong verifier, a wrong client secret and a reused code", async () => {
    const { authorize, config } = setup();
    const first = await authorize();
    const wrongVerifier = await failure(
      exchangeCode(config, first, { ...first.request, verifier: "x".repeat(43) }),
    );
    expect((wrongVerifier as OAuthError).code).toBe("invalid_grant");
    const second = await authorize();
    const wrongSecret = await failure(
      exchangeCode({ ...config, clientSecret: "nope" }, second, second.request),
    );
    expect((wrongSecret as OAuthError).code).toBe("invalid_client");
    expect((wrongSecret as OAuthError).message).not.toContain("nope");
    await exchangeCode(config, second, second.request);
    const reused = await failure(exchangeCode(config, second, second.request));
    expect((reused as OAuthError).code).toBe("invalid_grant");
    expect((reused as OAuthError).reauthorizationRequired).toBe(true);
  });
});

describe("the OAuth strategy", () => {
  it("an access token the server expired: 401, one refresh, the request succeeds; the new refresh token is stored", async () => {
    const { login, clientFor, emulator } = setup();
    const connection = await login();
    const store = new MemoryTokenStore(connection);
    const { client } = clientFor(store);
    emulator.oauth.expireAccessTokens();
    const res = await client.request({ method: "GET", path: "/api/accounts" });
    expect(res.status).toBe(200);
    expect(emulator.oauth.tokenRequests.refresh_token).toBe(1);
    const saved = await store.load();
    expect(saved?.tokens.refreshToken).not.toBe(connection.tokens.refreshToken);
    expect(saved?.tokens.accessToken).not.toBe(connection.tokens.accessToken);
  });

  it("refreshes ahead of expiry, before sending", async () => {
    const { login, clientFor, emulator } = setup();
    const connection = await login();
    connection.tokens.expiresAt = Date.now() + 30_000; // inside the 60 s margin
    const { client } = clientFor(new MemoryTokenStore(connection));
    await client.request({ method: "GET", path: "/api/accounts" });
    expect(emulator.oauth.tokenRequests.refresh_token).toBe(1);
    expect(emulator.requests.map((r) => r.status)).toEqual([200]);
  });

  it("100 concurrent requests on an expired token cause exactly one refresh", async () => {
    const { login, clientFor, emulator } = setup();
    const connection = await login();
    connection.tokens.expiresAt = Date.now() - 1000;
    emulator.oauth.expireAccessTokens();
    const { client } = clientFor(new MemoryTokenStore(connection));
    const results = await Promise.all(
      Array.from({ length: 100 }, () => client.request({ method: "GET", path: "/api/accounts" })),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(emulator.oauth.tokenRequests.refresh_token).toBe(1);
  });

  it("100 concurrent requests refused with 401 (token expired on the server only) still refresh once", async () => {
    const { login, clientFor, emulator } = setup();
    const { client } = clientFor(new MemoryTokenStore(await login()));
    emulator.oauth.expireAccessTokens();
    const results = await Promise.all(
      Array.from({ length: 100 }, () => client.request({ method: "GET", path: "/api/accounts" })),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(emulator.oauth.tokenRequests.refresh_token).toBe(1);
  });

  it("a revoked refresh token: a clear re-authorization error, one refresh attempt, no retry loop, no secret shown", async () => {
    const { login, clientFor, emulator } = setup();
    const connection = await login();
    emulator.oauth.revokeRefreshToken(connection.tokens.refreshToken);
    emulator.oauth.expireAccessTokens();
    const { client } = clientFor(new MemoryTokenStore(connection));
    const error = await failure(client.request({ method: "GET", path: "/api/accounts" }));
    expect(error).toBeInstanceOf(OAuthError);
    expect((error as OAuthError).reauthorizationRequired).toBe(true);
    expect((error as OAuthError).message).toMatch(/re-authorization required/);
    expect(emulator.oauth.tokenRequests.refresh_token).toBe(1);
    for (const view of [String(error), JSON.stringify(error), inspect(error, { depth: 5 })]) {
      for (const secret of [
        connection.tokens.accessToken,
        connection.tokens.refreshToken,
        CLIENT.clientSecret,
      ]) {
        expect(view).not.toContain(secret);
      }
    }
  });

  it("a refresh token aged out (90 days unused) is the same clear error", async () => {
    const { login, clientFor, emulator } = setup();
    const connection = await login();
    emulator.oauth.ageRefreshToken(connection.tokens.refreshToken, 91);
    connection.tokens.expiresAt = 0;
    const { client } = clientFor(new MemoryTokenStore(connection));
    const error = await failure(client.request({ method: "GET", path: "/api/accounts" }));
    expect((error as OAuthError).reauthorizationRequired).toBe(true);
  });
});
