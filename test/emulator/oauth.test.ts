import { createHash, randomBytes } from "node:crypto";
import { Command, CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import {
  type EmulatorFlags,
  registerEmulatorCommand,
  runEmulatorCommand,
} from "../../src/cli/commands/emulator.js";
import {
  createEmulator,
  DEV_API_KEY,
  type Emulator,
  type EmulatorOptions,
  parseOAuthClients,
  type TokenResponse,
} from "../../src/emulator/index.js";
import { get, klaviyoHeaders, onlyError } from "./helpers.js";

const CLIENT_ID = "harbor-app";
const SECRET = "cs_super_secret_0123456789abcdef";
const REDIRECT = "https://app.example/oauth/callback";
const OTHER_ID = "other-app";
const OTHER_SECRET = "cs_other_secret_fedcba9876543210";
const OTHER_REDIRECT = "http://localhost:8080/cb";
const DAY = 86_400_000;

/** An emulator with two OAuth apps and a clock the test moves. */
function setup(options: EmulatorOptions = {}) {
  const clock = { t: Date.parse("2026-03-01T12:00:00Z"), now: () => clock.t };
  const em = createEmulator({
    rateLimits: "off",
    clock,
    oauthClients: [
      { clientId: CLIENT_ID, clientSecret: SECRET, redirectUris: [REDIRECT, "https://app.example/other"] },
      { clientId: OTHER_ID, clientSecret: OTHER_SECRET, redirectUris: [OTHER_REDIRECT] },
    ],
    ...options,
  });
  return { em, clock };
}

function pkce() {
  const verifier = randomBytes(48).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  return { verifier, challenge };
}

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
}

function authorizeUrl(em: Emulator, params: Record<string, string | undefined>): string {
  const url = new URL("/oauth/authorize", em.baseUrl);
  for (const [name, value] of Object.entries(params))
    if (value !== undefined) url.searchParams.set(name, value);
  return url.href;
}

function authorize(
  em: Emulator,
  overrides: Record<string, string | undefined> = {},
  challenge = pkce().challenge,
) {
  return em.fetch(
    authorizeUrl(em, {
      response_type: "code",
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT,
      scope: "accounts:read profiles:read",
      state: "st-42",
      code_challenge: challenge,
      code_challenge_method: "S256",
      ...overrides,
    }),
  );
}

function post(
  em: Emulator,
  path: string,
  form: Record<string, string>,
  /** `null`: no Authorization header. */
  authorization: string | null = basic(CLIENT_ID, SECRET),
  contentType = "application/x-www-form-urlencoded",
) {
  return em.fetch(`${em.baseUrl}${path}`, {
    method: "POST",
    headers: { "Content-Type": contentType, ...(authorization ? { Authorization: authorization } : {}) },
    body: new URLSearchParams(form).toString(),
  });
}

async function codeFrom(res: Response): Promise<string> {
  expect(res.status).toBe(302);
  const location = new URL(res.headers.get("location") ?? "");
  expect(location.searchParams.get("state")).toBe("st-42");
  return location.searchParams.get("code") ?? "";
}

/** The whole browser leg and the code exchange; returns the tokens and what it took. */
async function login(em: Emulator, scope = "accounts:read profiles:read") {
  const { verifier, challenge } = pkce();
  const code = await codeFrom(await authorize(em, { scope }, challenge));
  const res = await post(em, "/oauth/token", {
    grant_type: "authorization_code",
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT,
  });
  expect(res.status).toBe(200);
  return { tokens: (await res.json()) as TokenResponse, code, verifier };
}

async function oauthError(res: Response, status: number, error: string): Promise<Record<string, string>> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(res.headers.get("cache-control")).toBe("no-store");
  const body = (await res.json()) as Record<string, string>;
  expect(body.error).toBe(error);
  return body;
}

const bearer = (token: string) => klaviyoHeaders(DEV_API_KEY, { Authorization: `Bearer ${token}` });

describe("the authorization-code flow with PKCE", () => {
  it("redirects with a code, exchanges it for Bearer tokens that reach the API within their scopes", async () => {
    const { em } = setup();
    const { verifier, challenge } = pkce();
    const res = await authorize(em, {}, challenge);
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location") ?? "");
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    const code = location.searchParams.get("code") ?? "";
    expect(code).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(location.searchParams.get("state")).toBe("st-42");

    const tokenRes = await post(em, "/oauth/token", {
      grant_type: "authorization_code",
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
    });
    expect(tokenRes.status).toBe(200);
    expect(tokenRes.headers.get("content-type")).toMatch(/^application\/json/);
    expect(tokenRes.headers.get("cache-control")).toBe("no-store");
    const tokens = (await tokenRes.json()) as TokenResponse;
    expect(Object.keys(tokens).sort()).toEqual([
      "access_token",
      "expires_in",
      "refresh_token",
      "scope",
      "token_type",
    ]);
    expect(tokens).toMatchObject({
      token_type: "Bearer",
      expires_in: 3600,
      scope: "accounts:read profiles:read",
    });
    expect(tokens.access_token).not.toBe(tokens.refresh_token);

    const accounts = await get(em, "/api/accounts", bearer(tokens.access_token));
    expect(accounts.status).toBe(200);
    const denied = await get(em, "/api/lists", bearer(tokens.access_token));
    expect(denied.status).toBe(403);
    expect((await onlyError(denied)).code).toBe("permission_denied");
    expect(em.oauth.tokenRequests).toEqual({ authorization_code: 1, refresh_token: 0, other: 0 });
  });

  it("gives each installation its own quota, apart from the account's private keys", async () => {
    const { em } = setup({ rateLimits: "real" });
    const { tokens } = await login(em);
    // Get Accounts allows 1 request a second per bucket.
    expect((await get(em, "/api/accounts")).status).toBe(200);
    expect((await get(em, "/api/accounts")).status).toBe(429);
    expect((await get(em, "/api/accounts", bearer(tokens.access_token))).status).toBe(200);
    expect((await get(em, "/api/accounts", bearer(tokens.access_token))).status).toBe(429);
  });

  it("keeps a query the registered redirect URI already has", async () => {
    const redirect = "https://app.example/cb?tenant=7";
    const em = createEmulator({
      oauthClients: [{ clientId: "q", clientSecret: SECRET, redirectUris: [redirect] }],
    });
    const res = await authorize(em, { client_id: "q", redirect_uri: redirect });
    const location = new URL(res.headers.get("location") ?? "");
    expect(location.searchParams.get("tenant")).toBe("7");
    expect(location.searchParams.get("code")).toBeTruthy();
  });

  it("an unknown Bearer token is authentication_failed; without OAuth clients Bearer is an unknown scheme", async () => {
    const { em } = setup();
    const res = await get(em, "/api/accounts", bearer("nope"));
    expect(res.status).toBe(401);
    expect((await onlyError(res)).code).toBe("authentication_failed");
    const plain = createEmulator({ rateLimits: "off" });
    const other = await get(plain, "/api/accounts", bearer("nope"));
    expect((await onlyError(other)).code).toBe("not_authenticated");
  });
});

describe("GET /oauth/authorize refusals", () => {
  it.each([
    ["an unknown client", { client_id: "intruder" }, "invalid_client"],
    ["no client_id", { client_id: undefined }, "invalid_request"],
    ["no redirect_uri", { redirect_uri: undefined }, "invalid_request"],
    ["another client's redirect_uri", { redirect_uri: OTHER_REDIRECT }, "invalid_request"],
    ["an attacker's redirect_uri", { redirect_uri: "https://evil.example/steal" }, "invalid_request"],
    ["a longer path", { redirect_uri: `${REDIRECT}/x` }, "invalid_request"],
    ["a trailing slash", { redirect_uri: `${REDIRECT}/` }, "invalid_request"],
    ["an added query", { redirect_uri: `${REDIRECT}?next=https://evil.example` }, "invalid_request"],
    ["another case", { redirect_uri: REDIRECT.toUpperCase() }, "invalid_request"],
    [
      "an unknown client with an attacker's URI",
      { client_id: "x", redirect_uri: "https://evil.example" },
      "invalid_client",
    ],
  ])("%s: 400 here, never a redirect", async (_name, overrides, error) => {
    const { em } = setup();
    const res = await authorize(em, overrides);
    expect(res.headers.get("location")).toBeNull();
    await oauthError(res, 400, error);
  });

  it("a repeated redirect_uri is refused without a redirect", async () => {
    const { em } = setup();
    const url = `${authorizeUrl(em, {
      response_type: "code",
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT,
      scope: "accounts:read",
      state: "s",
      code_challenge: pkce().challenge,
      code_challenge_method: "S256",
    })}&redirect_uri=${encodeURIComponent("https://evil.example")}`;
    const res = await em.fetch(url);
    expect(res.headers.get("location")).toBeNull();
    await oauthError(res, 400, "invalid_request");
  });

  it.each([
    ["response_type=token", { response_type: "token" }, "unsupported_response_type", "st-42"],
    ["no response_type", { response_type: undefined }, "invalid_request", "st-42"],
    ["no state", { state: undefined }, "invalid_request", null],
    ["code_challenge_method=plain", { code_challenge_method: "plain" }, "invalid_request", "st-42"],
    ["no code_challenge_method", { code_challenge_method: undefined }, "invalid_request", "st-42"],
    ["no code_challenge", { code_challenge: undefined }, "invalid_request", "st-42"],
    ["a malformed code_challenge", { code_challenge: "short" }, "invalid_request", "st-42"],
    ["an unknown scope", { scope: "accounts:read list:read" }, "invalid_scope", "st-42"],
    ["no scope", { scope: undefined }, "invalid_scope", "st-42"],
  ])("%s: redirected back with error=%s", async (_name, overrides, error, state) => {
    const { em } = setup();
    const res = await authorize(em, overrides);
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location") ?? "");
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get("error")).toBe(error);
    expect(location.searchParams.get("state")).toBe(state);
    expect(location.searchParams.has("code")).toBe(false);
  });

  it("names a mistyped scope, but nothing that is not shaped like one", async () => {
    const { em } = setup();
    const res = await authorize(em, { scope: `list:read ${SECRET}` });
    const description = new URL(res.headers.get("location") ?? "").searchParams.get("error_description");
    expect(description).toBe("Unknown scope(s): list:read, 1 malformed.");
  });

  it("answers only GET", async () => {
    const { em } = setup();
    const res = await em.fetch(`${em.baseUrl}/oauth/authorize`, { method: "POST" });
    await oauthError(res, 405, "invalid_request");
    expect(res.headers.get("allow")).toBe("GET");
    await oauthError(await em.fetch(`${em.baseUrl}/oauth/nothing`), 404, "invalid_request");
  });
});

describe("POST /oauth/token client authentication", () => {
  it.each([
    ["no Authorization", null],
    ["a wrong secret", basic(CLIENT_ID, "wrong")],
    ["another client's secret", basic(CLIENT_ID, OTHER_SECRET)],
    ["an unknown client", basic("intruder", SECRET)],
    ["bad base64", "Basic !!!not-base64!!!"],
    ["base64 without a colon", `Basic ${Buffer.from(CLIENT_ID + SECRET).toString("base64")}`],
    [
      "base64 without its padding",
      `Basic ${Buffer.from(`${CLIENT_ID}:${SECRET}x`).toString("base64").replace(/=+$/, "")}`,
    ],
    ["another scheme", `Bearer ${SECRET}`],
    ["the secret in the body only", null],
  ])("%s → 401 invalid_client", async (_name, authorization) => {
    const { em } = setup();
    const res = await post(
      em,
      "/oauth/token",
      { grant_type: "refresh_token", refresh_token: "x", client_id: CLIENT_ID, client_secret: SECRET },
      authorization,
    );
    const body = await oauthError(res, 401, "invalid_client");
    expect(body).toEqual({ error: "invalid_client" });
    expect(res.headers.get("www-authenticate")).toMatch(/^Basic/);
  });

  it("accepts a lower-case scheme; refuses a form body of another type and unsupported grants", async () => {
    const { em } = setup();
    const { tokens } = await login(em);
    const lower = await post(
      em,
      "/oauth/token",
      { grant_type: "refresh_token", refresh_token: tokens.refresh_token },
      basic(CLIENT_ID, SECRET).replace("Basic", "basic"),
    );
    expect(lower.status).toBe(200);
    const json = await post(em, "/oauth/token", { grant_type: "refresh_token" }, null, "application/json");
    expect(json.status).toBe(401);
    const notForm = await post(
      em,
      "/oauth/token",
      { grant_type: "x" },
      basic(CLIENT_ID, SECRET),
      "application/json",
    );
    await oauthError(notForm, 400, "invalid_request");
    for (const grant of ["client_credentials", "password", "implicit"]) {
      await oauthError(await post(em, "/oauth/token", { grant_type: grant }), 400, "unsupported_grant_type");
    }
    await oauthError(await post(em, "/oauth/token", {}), 400, "invalid_request");
    expect(em.oauth.tokenRequests).toEqual({ authorization_code: 1, refresh_token: 2, other: 5 });
  });
});

describe("grant_type=authorization_code", () => {
  async function freshCode(em: Emulator, redirectUri = REDIRECT) {
    const { verifier, challenge } = pkce();
    const code = await codeFrom(await authorize(em, { redirect_uri: redirectUri }, challenge));
    return { code, verifier };
  }

  it.each([
    ["a wrong verifier", (v: string) => ({ code_verifier: `${v.slice(0, -1)}A` })],
    ["a verifier of 42 characters", () => ({ code_verifier: "a".repeat(42) })],
    ["a verifier of 129 characters", () => ({ code_verifier: "a".repeat(129) })],
    ["another redirect_uri", () => ({ redirect_uri: "https://app.example/other" })],
    ["an unknown code", () => ({ code: "made-up" })],
  ])("%s → 400 invalid_grant", async (_name, change) => {
    const { em } = setup();
    const { code, verifier } = await freshCode(em);
    const form = { grant_type: "authorization_code", code, code_verifier: verifier, redirect_uri: REDIRECT };
    const body = await oauthError(
      await post(em, "/oauth/token", { ...form, ...change(verifier) }),
      400,
      "invalid_grant",
    );
    expect(body.error_description).toBeTruthy();
    // A failed attempt does not use the code up.
    expect((await post(em, "/oauth/token", form)).status).toBe(200);
  });

  it("a code is the client's it was issued to", async () => {
    const { em } = setup();
    const { code, verifier } = await freshCode(em);
    const form = { grant_type: "authorization_code", code, code_verifier: verifier, redirect_uri: REDIRECT };
    await oauthError(
      await post(em, "/oauth/token", form, basic(OTHER_ID, OTHER_SECRET)),
      400,
      "invalid_grant",
    );
  });

  it("needs code, code_verifier and redirect_uri", async () => {
    const { em } = setup();
    const { code, verifier } = await freshCode(em);
    const form = { grant_type: "authorization_code", code, code_verifier: verifier, redirect_uri: REDIRECT };
    for (const name of ["code", "code_verifier", "redirect_uri"] as const) {
      const { [name]: _left, ...rest } = form;
      await oauthError(await post(em, "/oauth/token", rest), 400, "invalid_request");
    }
  });

  it("a code lives 10 minutes", async () => {
    const { em, clock } = setup();
    const early = await freshCode(em);
    const late = await freshCode(em);
    clock.t += 10 * 60_000 - 1;
    const form = { grant_type: "authorization_code", redirect_uri: REDIRECT };
    const ok = await post(em, "/oauth/token", { ...form, code: early.code, code_verifier: early.verifier });
    expect(ok.status).toBe(200);
    clock.t += 1;
    const body = await oauthError(
      await post(em, "/oauth/token", { ...form, code: late.code, code_verifier: late.verifier }),
      400,
      "invalid_grant",
    );
    expect(body.error_description).toMatch(/expired/);
  });

  it("a reused code is refused and the tokens issued from it are revoked", async () => {
    const { em } = setup();
    const { tokens, code, verifier } = await login(em);
    const form = { grant_type: "authorization_code", code, code_verifier: verifier, redirect_uri: REDIRECT };
    const body = await oauthError(await post(em, "/oauth/token", form), 400, "invalid_grant");
    expect(body.error_description).toMatch(/already been used/);
    expect((await get(em, "/api/accounts", bearer(tokens.access_token))).status).toBe(401);
    await oauthError(
      await post(em, "/oauth/token", { grant_type: "refresh_token", refresh_token: tokens.refresh_token }),
      400,
      "invalid_grant",
    );
    await oauthError(await post(em, "/oauth/token", form), 400, "invalid_grant");
  });
});

describe("grant_type=refresh_token", () => {
  const refresh = (em: Emulator, token: string, extra: Record<string, string> = {}, auth?: string) =>
    post(em, "/oauth/token", { grant_type: "refresh_token", refresh_token: token, ...extra }, auth);

  it("rotates: new tokens that work, and the old refresh token stops working", async () => {
    const { em } = setup();
    const { tokens } = await login(em);
    const res = await refresh(em, tokens.refresh_token);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const next = (await res.json()) as TokenResponse;
    expect(next).toMatchObject({
      token_type: "Bearer",
      expires_in: 3600,
      scope: "accounts:read profiles:read",
    });
    expect(next.refresh_token).not.toBe(tokens.refresh_token);
    expect(next.access_token).not.toBe(tokens.access_token);
    expect((await get(em, "/api/accounts", bearer(next.access_token))).status).toBe(200);
    const body = await oauthError(await refresh(em, tokens.refresh_token), 400, "invalid_grant");
    expect(body.error_description).toBeTruthy();
    expect((await refresh(em, next.refresh_token)).status).toBe(200);
    expect(em.oauth.tokenRequests.refresh_token).toBe(3);
  });

  it("may narrow the scopes, never widen them; the refresh token keeps the grant", async () => {
    const { em } = setup();
    const { tokens } = await login(em);
    const narrow = (await (
      await refresh(em, tokens.refresh_token, { scope: "profiles:read" })
    ).json()) as TokenResponse;
    expect(narrow.scope).toBe("profiles:read");
    const denied = await get(em, "/api/accounts", bearer(narrow.access_token));
    expect((await onlyError(denied)).code).toBe("permission_denied");
    await oauthError(await refresh(em, narrow.refresh_token, { scope: "lists:read" }), 400, "invalid_scope");
    const full = (await (await refresh(em, narrow.refresh_token)).json()) as TokenResponse;
    expect(full.scope).toBe("accounts:read profiles:read");
  });

  it("refuses an unknown token and another client's token", async () => {
    const { em } = setup();
    const { tokens } = await login(em);
    await oauthError(await refresh(em, "made-up"), 400, "invalid_grant");
    await oauthError(
      await refresh(em, tokens.refresh_token, {}, basic(OTHER_ID, OTHER_SECRET)),
      400,
      "invalid_grant",
    );
    await oauthError(await post(em, "/oauth/token", { grant_type: "refresh_token" }), 400, "invalid_request");
    expect((await refresh(em, tokens.refresh_token)).status).toBe(200);
  });

  it("a refresh token dies after 90 days unused; each use starts the 90 days again", async () => {
    const { em, clock } = setup();
    const { tokens } = await login(em);
    clock.t += 89 * DAY;
    const next = (await (await refresh(em, tokens.refresh_token)).json()) as TokenResponse;
    clock.t += 90 * DAY - 1;
    const last = (await (await refresh(em, next.refresh_token)).json()) as TokenResponse;
    expect(last.refresh_token).toBeTruthy();
    clock.t += 90 * DAY;
    const body = await oauthError(await refresh(em, last.refresh_token), 400, "invalid_grant");
    expect(body.error_description).toMatch(/90 days/);
  });

  it("the emulator's controls revoke or age a refresh token", async () => {
    const { em } = setup();
    const a = (await login(em)).tokens;
    const b = (await login(em)).tokens;
    expect(em.oauth.ageRefreshToken(a.refresh_token)).toBe(true);
    await oauthError(await refresh(em, a.refresh_token), 400, "invalid_grant");
    expect(em.oauth.revokeRefreshToken(b.refresh_token)).toBe(true);
    expect((await get(em, "/api/accounts", bearer(b.access_token))).status).toBe(401);
    await oauthError(await refresh(em, b.refresh_token), 400, "invalid_grant");
    expect(em.oauth.revokeRefreshToken("unknown")).toBe(false);
  });
});

describe("access token lifetime", () => {
  it("an access token expires after its TTL: 401 authentication_failed, then refresh works", async () => {
    const { em, clock } = setup();
    const { tokens } = await login(em);
    clock.t += 3600_000 - 1;
    expect((await get(em, "/api/accounts", bearer(tokens.access_token))).status).toBe(200);
    clock.t += 1;
    const expired = await get(em, "/api/accounts", bearer(tokens.access_token));
    expect(expired.status).toBe(401);
    expect((await onlyError(expired)).code).toBe("authentication_failed");
    const res = await post(em, "/oauth/token", {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token,
    });
    const next = (await res.json()) as TokenResponse;
    expect((await get(em, "/api/accounts", bearer(next.access_token))).status).toBe(200);
  });

  it("honours accessTokenTtlSeconds, and the controls expire tokens at once", async () => {
    const { em, clock } = setup({ accessTokenTtlSeconds: 60 });
    const { tokens } = await login(em);
    expect(tokens.expires_in).toBe(60);
    clock.t += 60_000;
    expect((await get(em, "/api/accounts", bearer(tokens.access_token))).status).toBe(401);
    const direct = em.oauth.issueTokens(CLIENT_ID, ["accounts:read"]);
    expect((await get(em, "/api/accounts", bearer(direct.access_token))).status).toBe(200);
    expect(em.oauth.expireAccessToken(direct.access_token)).toBe(true);
    expect((await get(em, "/api/accounts", bearer(direct.access_token))).status).toBe(401);
    const again = em.oauth.issueTokens(CLIENT_ID, ["accounts:read"]);
    em.oauth.expireAccessTokens();
    expect((await get(em, "/api/accounts", bearer(again.access_token))).status).toBe(401);
    expect(() => em.oauth.issueTokens("nobody", [])).toThrow(/Unknown OAuth client/);
    expect(() => createEmulator({ accessTokenTtlSeconds: 0 })).toThrow(/whole number/);
  });
});

describe("POST /oauth/revoke", () => {
  const revoke = (em: Emulator, form: Record<string, string>, auth?: string) =>
    post(em, "/oauth/revoke", form, auth);

  it("a refresh token takes its access tokens with it", async () => {
    const { em } = setup();
    const { tokens } = await login(em);
    const res = await revoke(em, { token: tokens.refresh_token, token_type_hint: "refresh_token" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
    expect((await get(em, "/api/accounts", bearer(tokens.access_token))).status).toBe(401);
    await oauthError(
      await post(em, "/oauth/token", { grant_type: "refresh_token", refresh_token: tokens.refresh_token }),
      400,
      "invalid_grant",
    );
  });

  it("an access token alone; the refresh token still works", async () => {
    const { em } = setup();
    const { tokens } = await login(em);
    expect((await revoke(em, { token: tokens.access_token, token_type_hint: "access_token" })).status).toBe(
      200,
    );
    expect((await get(em, "/api/accounts", bearer(tokens.access_token))).status).toBe(401);
    const res = await post(em, "/oauth/token", {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token,
    });
    expect(res.status).toBe(200);
  });

  it("200 for an unknown token or another client's (left alone); 401 without client auth; 400 without token", async () => {
    const { em } = setup();
    const { tokens } = await login(em);
    expect((await revoke(em, { token: "never-issued" })).status).toBe(200);
    expect((await revoke(em, { token: tokens.refresh_token }, basic(OTHER_ID, OTHER_SECRET))).status).toBe(
      200,
    );
    expect((await get(em, "/api/accounts", bearer(tokens.access_token))).status).toBe(200);
    await oauthError(
      await revoke(em, { token: tokens.refresh_token }, basic(CLIENT_ID, "nope")),
      401,
      "invalid_client",
    );
    await oauthError(await em.fetch(`${em.baseUrl}/oauth/revoke`, { method: "POST" }), 401, "invalid_client");
    await oauthError(await revoke(em, {}), 400, "invalid_request");
    expect((await get(em, "/api/accounts", bearer(tokens.access_token))).status).toBe(200);
  });
});

describe("secrets stay secret", () => {
  it("no token, code or client secret in the request log or in any refusal", async () => {
    const { em } = setup();
    const { tokens, code, verifier } = await login(em);
    const secrets = [SECRET, code, verifier, tokens.access_token, tokens.refresh_token];
    const answers: string[] = [];
    const keep = async (res: Response) => {
      answers.push(
        `${res.headers.get("location") ?? ""} ${res.headers.get("www-authenticate") ?? ""} ${await res.text()}`,
      );
    };
    await keep(
      await post(em, "/oauth/token", {
        grant_type: "authorization_code",
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT,
      }),
    );
    await keep(
      await post(
        em,
        "/oauth/token",
        { grant_type: "refresh_token", refresh_token: tokens.refresh_token },
        basic(CLIENT_ID, `${SECRET}x`),
      ),
    );
    await keep(
      await post(em, "/oauth/token", {
        grant_type: "refresh_token",
        refresh_token: tokens.refresh_token,
        scope: "lists:write",
      }),
    );
    await keep(await get(em, "/api/lists", bearer(tokens.access_token)));
    await keep(await get(em, "/api/accounts", bearer(tokens.access_token)));
    await keep(await authorize(em, { scope: SECRET }));
    const text = answers.join("\n") + JSON.stringify(em.requests);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(em.requests.some((r) => r.path.startsWith("/oauth"))).toBe(false);
  });
});

describe("--oauth-client", () => {
  it("splits on the first two colons and merges repeats of one app", () => {
    expect(
      parseOAuthClients([
        `${CLIENT_ID}:${SECRET}:http://localhost:8080/cb`,
        `${CLIENT_ID}:${SECRET}:https://a.example/x`,
      ]),
    ).toEqual([
      {
        clientId: CLIENT_ID,
        clientSecret: SECRET,
        redirectUris: ["http://localhost:8080/cb", "https://a.example/x"],
      },
    ]);
  });

  it.each([
    `${CLIENT_ID}:${SECRET}`,
    `${CLIENT_ID}:${SECRET}:not a url`,
    `${CLIENT_ID}:${SECRET}:https://a.example/#frag`,
    `:${SECRET}:https://a.example/`,
    `${CLIENT_ID}::https://a.example/`,
  ])("refuses %j without quoting the secret", (value) => {
    expect(() => parseOAuthClients([value])).toThrow();
    try {
      parseOAuthClients([value]);
    } catch (error) {
      expect((error as Error).message).not.toContain(SECRET);
    }
  });

  it("refuses one app with two secrets, without quoting either", () => {
    expect(() =>
      parseOAuthClients([`a:${SECRET}:https://x.example/`, `a:${OTHER_SECRET}:https://x.example/`]),
    ).toThrow(/two different secrets/);
  });

  it("a bad value exits 2 and quotes no secret", async () => {
    let stderr = "";
    const program = new Command("klaviyo").exitOverride().configureOutput({
      writeOut: () => {},
      writeErr: (text) => {
        stderr += text;
      },
    });
    registerEmulatorCommand(program);
    const error = await program
      .parseAsync(["emulator", "--oauth-client", `${CLIENT_ID}:${SECRET}:nope`], { from: "user" })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(CommanderError);
    expect((error as CommanderError).exitCode).toBe(2);
    expect(stderr).toMatch(/--oauth-client/);
    expect(stderr).not.toContain(SECRET);
  });

  it("the command serves the app on a real port and prints its id, never its secret", async () => {
    const out = { stdout: "", stderr: "" };
    const io = {
      stdout: (t: string) => {
        out.stdout += t;
      },
      stderr: (t: string) => {
        out.stderr += t;
      },
    };
    let stop = () => {};
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const flags: EmulatorFlags = {
      port: 0,
      host: "127.0.0.1",
      apiKey: [],
      rateLimits: "off",
      latency: 0,
      faults: [],
      oauthClients: parseOAuthClients([`${CLIENT_ID}:${SECRET}:${REDIRECT}`]),
      accessTokenTtl: 120,
    };
    const done = runEmulatorCommand(flags, io, () => stopped);
    for (let i = 0; i < 200 && !out.stdout.includes("\n"); i++) await new Promise((r) => setTimeout(r, 10));
    const url = out.stdout.trim().split(" ").at(-1) as string;
    const res = await fetch(`${url}/oauth/token`, {
      method: "POST",
      headers: {
        Authorization: basic(CLIENT_ID, SECRET),
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: "grant_type=refresh_token&refresh_token=unknown",
    });
    expect(res.status).toBe(400);
    stop();
    await done;
    expect(out.stderr).toContain(`OAuth client ${CLIENT_ID}`);
    expect(out.stdout + out.stderr).not.toContain(SECRET);
    expect(out.stdout.split("\n")).toHaveLength(2);
  });
});
