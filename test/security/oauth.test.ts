/**
 * OAuth, attacked: the `state` is always checked (a callback whose state differs in any way never reaches the
 * token endpoint), PKCE is S256 end to end (the client sends the verifier of its challenge; the emulator refuses
 * any other, the "plain" one included), the token file is 0600 after every write and never seen half-written
 * however many processes write it, and a refresh token goes to the token URL and nowhere else (and to the revoke
 * URL when logging out), through the library and through the real `klaviyo` binary.
 *
 * The API and the OAuth endpoints are the emulator's, on a real port, reached through two recording forwarders:
 * one stands for the API base URL, the other for Klaviyo's OAuth host, so every request each received, headers
 * and body, can be searched. (What test/auth and test/emulator/oauth.test.ts already prove, such as a wrong or
 * missing state at the library, each authorize refusal and the 90-day expiry, is not repeated.)
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAction } from "../../src/actions/index.js";
import {
  authorizeUrl,
  exchangeCode,
  type OAuthClientConfig,
  refreshTokens,
  revokeToken,
} from "../../src/auth/oauth.js";
import { oauth } from "../../src/auth/oauth-strategy.js";
import { FileTokenStore, MemoryTokenStore, type StoredConnection } from "../../src/auth/token-store.js";
import type { FetchLike } from "../../src/core/chain.js";
import { KlaviyoClient } from "../../src/core/client.js";
import { OAuthError } from "../../src/core/errors.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { authLoginArgs, requireBuild, runCli } from "../helpers/cli.js";
import { closedPort } from "../helpers/servers.js";
import {
  type Canary,
  cliLogin,
  encodings,
  playBrowser,
  type Recorded,
  type RecordingServer,
  requestText,
  startCanary,
  startRecorder,
} from "./helpers.js";

const CLIENT_ID = "oauth-security-app";
const CLIENT_SECRET = "cs-oauth-security-2c7f1e9a4b6d8035";
const LIBRARY_REDIRECT = "http://127.0.0.1:8765/callback";

let emu: RunningEmulator;
/** Stands for the API base URL. */
let api: RecordingServer;
/** Stands for Klaviyo's OAuth host: authorize, token, revoke. */
let oauthHost: RecordingServer;
let canary: Canary;
let callbackPort: string;
const dirs: string[] = [];

beforeAll(async () => {
  callbackPort = new URL(await closedPort()).port;
  emu = await startEmulator({
    rateLimits: "off",
    oauthClients: [
      {
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUris: [LIBRARY_REDIRECT, `http://127.0.0.1:${callbackPort}/callback`],
      },
    ],
  });
  api = await startRecorder({ forwardTo: emu.url });
  oauthHost = await startRecorder({ forwardTo: emu.url });
  canary = await startCanary();
});
afterAll(async () => {
  await Promise.all([api?.close(), oauthHost?.close(), canary?.close()]);
  await emu?.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "klaviyo-oauth-security-"));
  dirs.push(dir);
  return dir;
}

const s256 = (verifier: string) => createHash("sha256").update(verifier).digest("base64url");
const tokenCalls = () => ({ ...emu.emulator.oauth.tokenRequests });

function libraryConfig(fetchImpl?: FetchLike): OAuthClientConfig {
  return {
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUri: LIBRARY_REDIRECT,
    scopes: "accounts:read lists:read",
    authorizeUrl: `${oauthHost.url}/oauth/authorize`,
    tokenUrl: `${oauthHost.url}/oauth/token`,
    revokeUrl: `${oauthHost.url}/oauth/revoke`,
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  };
}

/** The browser's leg for the library: the authorize URL followed to its redirect, read, not visited. */
async function authorizeByLibrary(config: OAuthClientConfig) {
  const request = authorizeUrl(config);
  const res = await fetch(request.url, { redirect: "manual" });
  expect(res.status).toBe(302);
  const back = new URL(res.headers.get("location") ?? "").searchParams;
  return { request, code: back.get("code"), state: back.get("state") };
}

/** Refresh tokens the OAuth host handed out, read from the token responses it relayed. */
function issuedRefreshTokens(): string[] {
  return oauthHost.requests
    .filter((r) => r.url === "/oauth/token" && r.status === 200)
    .map((r) => (JSON.parse(r.responseBody) as { refresh_token: string }).refresh_token);
}

/**
 * Where each refresh token went. The API side never got one (nor the client secret), in any header, URL or body,
 * in any encoding; on the OAuth host, only `POST /oauth/token` (as `refresh_token`) and, with `revoke`, `POST
 * /oauth/revoke` (as `token`) carried one.
 */
function expectRefreshTokensOnlyAtTheTokenUrl(from: { api: number; oauth: number }, revoke: boolean): void {
  const tokens = issuedRefreshTokens();
  expect(tokens.length).toBeGreaterThanOrEqual(3);
  const apiRequests = api.requests.slice(from.api);
  expect(apiRequests.length).toBeGreaterThan(0);
  for (const r of apiRequests) {
    const text = requestText(r);
    for (const secret of [...tokens, CLIENT_SECRET])
      for (const [encoding, form] of encodings(secret))
        expect(text.includes(form), `API ${r.method} ${r.url} carried a secret (${encoding})`).toBe(false);
  }
  const carried = (r: Recorded) =>
    tokens.filter((t) =>
      encodings(t).some(([, form]) => `${r.url}\n${JSON.stringify(r.headers)}\n${r.body}`.includes(form)),
    );
  let refreshes = 0;
  let revokes = 0;
  for (const r of oauthHost.requests.slice(from.oauth)) {
    const found = carried(r);
    if (found.length === 0) continue;
    const form = new URLSearchParams(r.body);
    const where = `${r.method} ${r.url}`;
    if (where === "POST /oauth/token") {
      expect(form.get("grant_type")).toBe("refresh_token");
      expect(found).toEqual([form.get("refresh_token")]);
      expect(r.url).not.toContain(found[0]); // in the body, never the URL
      refreshes++;
    } else {
      expect(revoke, `a refresh token went to ${where}`).toBe(true);
      expect(where).toBe("POST /oauth/revoke");
      expect(found).toEqual([form.get("token")]);
      revokes++;
    }
  }
  expect(refreshes).toBeGreaterThanOrEqual(2);
  if (revoke) expect(revokes).toBe(1);
}

describe("state", () => {
  it("a callback state that differs in any way is refused before any token request (property)", async () => {
    const config = libraryConfig();
    const { request, code, state } = await authorizeByLibrary(config);
    const sent = request.state;
    expect(state).toBe(sent);
    const before = tokenCalls();
    const oauthBefore = oauthHost.requests.length;
    const flip = (i: number) => sent.slice(0, i) + (sent[i] === "A" ? "B" : "A") + sent.slice(i + 1);
    const wrongState = fc
      .oneof(
        fc.constantFrom(
          null,
          undefined,
          "",
          sent.slice(0, -1),
          `${sent}x`,
          ` ${sent}`,
          `${sent} `,
          `${sent}\u0000`,
          sent.toUpperCase(),
          sent.toLowerCase(),
          encodeURIComponent(`${sent}=`),
          `${sent},${sent}`,
          Buffer.from(sent).toString("base64"),
        ),
        fc.nat({ max: sent.length - 1 }).map(flip),
        fc.string({ maxLength: 40 }),
        fc.string({ unit: "binary", maxLength: 40 }),
      )
      .filter((s) => s !== sent);
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(wrongState, async (wrong) => {
        cases++;
        const error = await exchangeCode(config, { code, state: wrong }, request).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(OAuthError);
        expect((error as OAuthError).code).toBe("invalid_state");
      }),
      { seed: 8_2026, numRuns: 200 },
    );
    expect(cases).toBe(200);
    expect(tokenCalls()).toEqual(before);
    expect(oauthHost.requests.slice(oauthBefore)).toEqual([]);
    // The code was good all along: with the state that was sent, it is exchanged.
    const tokens = await exchangeCode(config, { code, state }, request);
    expect(tokens.accessToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("klaviyo auth login: a forged or missing state, or a refusal, ends the login with no token request and no token file", async () => {
    requireBuild();
    const configDir = tempDir();
    const before = tokenCalls();
    const oauthBefore = oauthHost.requests.length;
    const outcomes: Array<number | null> = [];
    for (const tamper of [
      (u: URL) => u.searchParams.set("state", "forged"),
      (u: URL) => u.searchParams.delete("state"),
      (u: URL) => u.searchParams.set("state", `${u.searchParams.get("state")}x`),
      (u: URL) => {
        u.searchParams.delete("code");
        u.searchParams.set("error", "access_denied");
      },
    ]) {
      const result = await cliLogin(
        cliLoginArgs(),
        { KLAVIYO_CONFIG_DIR: configDir, KLAVIYO_CLIENT_SECRET: CLIENT_SECRET },
        (url) => playBrowser(url, tamper),
      );
      outcomes.push(result.code);
      expect(result.stdout + result.stderr).not.toContain(CLIENT_SECRET);
    }
    expect(outcomes).toEqual([3, 3, 3, 3]);
    expect(tokenCalls()).toEqual(before);
    // The browser's visits to /oauth/authorize are all the OAuth host saw.
    expect(oauthHost.requests.slice(oauthBefore).map((r) => `${r.method} ${r.url.split("?")[0]}`)).toEqual(
      Array(4).fill("GET /oauth/authorize"),
    );
    expect(readdirSync(configDir)).toEqual([]);
  });
});

describe("PKCE", () => {
  it("the client sends S256 and, to the token URL, the verifier that challenge was made from", async () => {
    const from = oauthHost.requests.length;
    const config = libraryConfig();
    const { request, code, state } = await authorizeByLibrary(config);
    await exchangeCode(config, { code, state }, request);
    const [authorize, token] = oauthHost.requests.slice(from);
    const query = new URL(authorize?.url ?? "", oauthHost.url).searchParams;
    expect(query.get("code_challenge_method")).toBe("S256");
    const verifier = new URLSearchParams(token?.body).get("code_verifier") ?? "";
    expect(verifier).toMatch(/^[A-Za-z0-9._~-]{43,128}$/);
    expect(query.get("code_challenge")).toBe(s256(verifier));
    expect(authorize?.url).not.toContain(verifier);
  });

  it("the emulator checks S256: the plain method's pair (challenge = verifier) and plain itself are refused", async () => {
    const verifier = "plain-method-verifier-0123456789abcdefghijk"; // 43 characters, a valid challenge's shape
    const authorize = (method: string) =>
      fetch(
        `${emu.url}/oauth/authorize?${new URLSearchParams({
          response_type: "code",
          client_id: CLIENT_ID,
          redirect_uri: LIBRARY_REDIRECT,
          scope: "accounts:read",
          state: "s",
          code_challenge: verifier,
          code_challenge_method: method,
        })}`,
        { redirect: "manual" },
      );
    const plain = new URL((await authorize("plain")).headers.get("location") ?? "").searchParams;
    expect(plain.get("error")).toBe("invalid_request");
    expect(plain.has("code")).toBe(false);
    const code =
      new URL((await authorize("S256")).headers.get("location") ?? "").searchParams.get("code") ?? "";
    const res = await tokenRequest({
      grant_type: "authorization_code",
      code,
      code_verifier: verifier,
      redirect_uri: LIBRARY_REDIRECT,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_grant");
  });

  it("a code is redeemed only with the verifier its challenge was made from (property)", async () => {
    const verifierArb = fc.stringMatching(/^[A-Za-z0-9._~-]{43,128}$/);
    const { emulator } = emu;
    await fc.assert(
      fc.asyncProperty(verifierArb, verifierArb, async (verifier, other) => {
        fc.pre(verifier !== other);
        const location = (
          await emulator.fetch(
            `${emulator.baseUrl}/oauth/authorize?${new URLSearchParams({
              response_type: "code",
              client_id: CLIENT_ID,
              redirect_uri: LIBRARY_REDIRECT,
              scope: "accounts:read",
              state: "s",
              code_challenge: s256(verifier),
              code_challenge_method: "S256",
            })}`,
          )
        ).headers.get("location");
        const code = new URL(location ?? "").searchParams.get("code") ?? "";
        const redeem = (codeVerifier: string) =>
          emulator.fetch(`${emulator.baseUrl}/oauth/token`, {
            method: "POST",
            headers: {
              authorization: basic(),
              "content-type": "application/x-www-form-urlencoded",
            },
            body: new URLSearchParams({
              grant_type: "authorization_code",
              code,
              code_verifier: codeVerifier,
              redirect_uri: LIBRARY_REDIRECT,
            }).toString(),
          });
        expect((await redeem(other)).status).toBe(400);
        expect((await redeem(verifier)).status).toBe(200);
      }),
      { seed: 7636, numRuns: 60 },
    );
  });
});

function basic(): string {
  return `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString("base64")}`;
}

function tokenRequest(form: Record<string, string>): Promise<Response> {
  return fetch(`${emu.url}/oauth/token`, {
    method: "POST",
    headers: { authorization: basic(), "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
}

const connection = (n: number, filler = ""): StoredConnection => ({
  tokens: {
    accessToken: `at-${n}`,
    refreshToken: `rt-${n}`,
    expiresAt: 1_900_000_000_000 + n,
    scope: `accounts:read ${filler}`.trim(),
    tokenType: "Bearer",
  },
  clientId: CLIENT_ID,
  clientSecret: CLIENT_SECRET,
});

describe("the token file", () => {
  it("is 0600 after every write: new, over a 0644 file, under umask 000, and after every refresh", async () => {
    const dir = tempDir();
    const path = join(dir, "config", "oauth.json");
    const store = new FileTokenStore(path);
    const umask = process.umask(0o000);
    try {
      await store.save(connection(1));
    } finally {
      process.umask(umask);
    }
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "config")).mode & 0o777).toBe(0o700);
    chmodSync(path, 0o644);
    await store.save(connection(2));
    expect(statSync(path).mode & 0o777).toBe(0o600);

    // The strategy's refreshes save through the store: after each, still 0600, and the new tokens in it.
    const config = libraryConfig();
    const { request, code, state } = await authorizeByLibrary(config);
    const tokens = await exchangeCode(config, { code, state }, request);
    await store.save({ tokens, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, tokenUrl: config.tokenUrl });
    const client = new KlaviyoClient({ auth: oauth({ store }), baseUrl: api.url, rateLimiter: false });
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) {
      chmodSync(path, 0o644); // even when someone loosened it in between
      emu.emulator.oauth.expireAccessTokens();
      await client.request({ method: "GET", path: "/api/accounts" });
      expect(statSync(path).mode & 0o777).toBe(0o600);
      seen.add(((await store.load()) as StoredConnection).tokens.refreshToken);
    }
    expect(seen.size).toBe(3);
    expect(readdirSync(join(dir, "config"))).toEqual(["oauth.json"]);
  });

  it("is never seen half-written while four processes save it over and over", async () => {
    requireBuild();
    const dir = tempDir();
    const path = join(dir, "oauth.json");
    // Large enough (~64 kB) that a write not made atomic would be caught part-way.
    const filler = "x".repeat(64_000);
    await new FileTokenStore(path).save(connection(0, filler));
    const storeModule = fileURLToPath(new URL("../../dist/index.js", import.meta.url));
    const WRITERS = 4;
    const SAVES = 150;
    const script = `
      const { FileTokenStore } = await import(${JSON.stringify(storeModule)});
      const [path, writer, saves, filler] = process.argv.slice(1);
      const store = new FileTokenStore(path);
      for (let i = 0; i < Number(saves); i++) {
        const n = Number(writer) * 100000 + i;
        await store.save({ tokens: { accessToken: "at-" + n, refreshToken: "rt-" + n, expiresAt: 1900000000000 + n,
          scope: "accounts:read " + filler, tokenType: "Bearer" }, clientId: ${JSON.stringify(CLIENT_ID)},
          clientSecret: ${JSON.stringify(CLIENT_SECRET)} });
      }`;
    const running = Array.from({ length: WRITERS }, (_, w) => {
      const child = spawn(
        process.execPath,
        ["--input-type=module", "-e", script, path, String(w + 1), String(SAVES), filler],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      let stderr = "";
      child.stderr.on("data", (d) => {
        stderr += d;
      });
      return new Promise<string>((resolve) => child.on("close", (code) => resolve(`${code} ${stderr}`)));
    });
    let done = false;
    const finished = Promise.all(running).then((results) => {
      done = true;
      return results;
    });
    let reads = 0;
    const seen = new Set<string>();
    const problems: string[] = [];
    while (!done) {
      const mode = statSync(path).mode & 0o777;
      const text = readFileSync(path, "utf8");
      reads++;
      if (mode !== 0o600) problems.push(`mode ${mode.toString(8)}`);
      try {
        const stored = JSON.parse(text) as StoredConnection;
        const n = stored.tokens.accessToken.slice(3);
        if (
          stored.tokens.refreshToken !== `rt-${n}` ||
          stored.tokens.expiresAt !== 1_900_000_000_000 + Number(n) ||
          stored.tokens.scope !== `accounts:read ${filler}` ||
          stored.clientSecret !== CLIENT_SECRET
        )
          problems.push(`an inconsistent file at read ${reads}`);
        seen.add(n);
      } catch {
        problems.push(`a torn file at read ${reads} (${text.length} characters)`);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await finished).toEqual(Array(WRITERS).fill("0 "));
    expect(problems).toEqual([]);
    expect(reads).toBeGreaterThan(20);
    expect(seen.size).toBeGreaterThan(1); // the reader did see the writers' files change under it
    expect(readdirSync(dir)).toEqual(["oauth.json"]); // no temporary file left behind
    if (process.env.SECURITY_FIGURES)
      console.log("token file: reads", reads, "distinct files seen", seen.size, "saves", WRITERS * SAVES);
  });

  it("never writes through a planted file or symlink: not at a temporary name, not at the file itself", async () => {
    const dir = tempDir();
    const path = join(dir, "oauth.json");
    const victims = [join(dir, "victim-tmp"), join(dir, "victim-file")];
    for (const victim of victims) writeFileSync(victim, "victim", { mode: 0o644 });
    // The temporary name a predictable scheme would use, and the token file itself, as symlinks elsewhere.
    symlinkSync(victims[0] as string, `${path}.${process.pid}.tmp`);
    symlinkSync(victims[1] as string, path);
    await new FileTokenStore(path).save(connection(7));
    for (const victim of victims) expect(readFileSync(victim, "utf8")).toBe("victim");
    expect(lstatSync(path).isFile()).toBe(true);
    expect(lstatSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, "utf8")).tokens.accessToken).toBe("at-7");
  });
});

function cliLoginArgs(): string[] {
  return [
    ...authLoginArgs({
      clientId: CLIENT_ID,
      callbackPort,
      oauthUrl: oauthHost.url,
      baseUrl: api.url,
      scopes: "accounts:read lists:read",
    }),
    "--timeout",
    "30",
  ];
}

describe("a refresh token is sent to the token URL only", () => {
  it("the library: login, refresh ahead of expiry and after a 401, concurrent requests, revocation, logout", async () => {
    const from = { api: api.requests.length, oauth: oauthHost.requests.length };
    const fetched: string[] = [];
    const recordingFetch: FetchLike = (input, init) => {
      fetched.push(new URL(input instanceof Request ? input.url : String(input)).origin);
      return fetch(input, init);
    };
    const config = libraryConfig(recordingFetch);
    const { request, code, state } = await authorizeByLibrary(config);
    const tokens = await exchangeCode(config, { code, state }, request);
    const store = new MemoryTokenStore({
      tokens,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      tokenUrl: config.tokenUrl,
    });
    const client = new KlaviyoClient({
      auth: oauth({ store, fetch: recordingFetch }),
      baseUrl: api.url,
      fetch: recordingFetch,
      rateLimiter: false,
    });
    await client.request({ method: "GET", path: "/api/accounts" });
    // Ahead of expiry: the stored expiry moved into the refresh margin.
    const stored = (await store.load()) as StoredConnection;
    await store.save({ ...stored, tokens: { ...stored.tokens, expiresAt: Date.now() } });
    const ahead = new KlaviyoClient({
      auth: oauth({ store, fetch: recordingFetch }),
      baseUrl: api.url,
      fetch: recordingFetch,
      rateLimiter: false,
    });
    await ahead.request({ method: "GET", path: "/api/lists" });
    // After a 401: the server expired the token; twenty requests at once, one refresh.
    emu.emulator.oauth.expireAccessTokens();
    const refreshesBefore = tokenCalls().refresh_token;
    await Promise.all(
      Array.from({ length: 20 }, () => ahead.request({ method: "GET", path: "/api/accounts" })),
    );
    expect(tokenCalls().refresh_token).toBe(refreshesBefore + 1);
    await runAction("raw-request", { url: "/api/lists", method: "GET" }, { client: ahead });
    for await (const _ of ahead.paginateItems({ method: "GET", path: "/api/lists", limit: 5 })) {
      // walked for its requests only
    }
    // Logout: the refresh token revoked at the revoke URL; the next refresh fails, at the token URL.
    const last = (await store.load()) as StoredConnection;
    await revokeToken(config, last.tokens.refreshToken);
    emu.emulator.oauth.expireAccessTokens();
    const refused = await ahead.request({ method: "GET", path: "/api/accounts" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((refused as OAuthError).reauthorizationRequired).toBe(true);
    expectRefreshTokensOnlyAtTheTokenUrl(from, true);
    expect(new Set(fetched)).toEqual(new Set([api.url, oauthHost.url]));
    expect(canary.connections()).toBe(0);
  });

  it("the real binary: login, a refresh ahead of expiry and one after a 401, logout; the file 0600 throughout", async () => {
    requireBuild();
    const configDir = tempDir();
    const file = join(configDir, "oauth.json");
    const env = { KLAVIYO_CONFIG_DIR: configDir };
    const from = { api: api.requests.length, oauth: oauthHost.requests.length };
    const login = await cliLogin(cliLoginArgs(), { ...env, KLAVIYO_CLIENT_SECRET: CLIENT_SECRET }, (url) =>
      playBrowser(url),
    );
    expect(login.code, login.stderr).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // The CLI's PKCE, as the OAuth host saw it: S256 of the verifier it then sent.
    const [authorize, exchange] = oauthHost.requests.slice(from.oauth);
    const verifier = new URLSearchParams(exchange?.body).get("code_verifier") ?? "";
    expect(new URL(authorize?.url ?? "", oauthHost.url).searchParams.get("code_challenge")).toBe(
      s256(verifier),
    );
    expect(new URL(authorize?.url ?? "", oauthHost.url).searchParams.get("code_challenge_method")).toBe(
      "S256",
    );

    const run = async (args: string[]) => {
      const result = await runCli(args, env);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      return result;
    };
    await run(["run", "list-accounts"]);
    const stored = JSON.parse(readFileSync(file, "utf8")) as StoredConnection;
    writeFileSync(file, JSON.stringify({ ...stored, tokens: { ...stored.tokens, expiresAt: 0 } }), {
      mode: 0o600,
    });
    await run(["run", "list-lists"]);
    emu.emulator.oauth.expireAccessTokens();
    await run(["request", "GET", "/api/accounts"]);
    await run(["run", "list-lists", "--all"]);
    const logout = await runCli(["auth", "logout"], env);
    expect(logout.code, logout.stderr).toBe(0);
    expect(existsSync(file)).toBe(false);
    expectRefreshTokensOnlyAtTheTokenUrl(from, true);
    expect(canary.connections()).toBe(0);
  });

  it("a token or revoke endpoint that redirects is not followed: the redirect target receives nothing", async () => {
    const redirecting = await startRecorder({
      answer: (req, res) => {
        const status = Number(/status=(\d+)/.exec(req.url)?.[1] ?? 307);
        res.writeHead(status, { location: `${canary.url}/collect` }).end();
      },
    });
    try {
      const tokens = {
        accessToken: "at-unused",
        refreshToken: "rt-must-not-travel-0123456789",
        expiresAt: 0,
        scope: "",
        tokenType: "Bearer",
      };
      for (const status of [301, 302, 303, 307, 308]) {
        const config = libraryConfig();
        const at = (path: string) => `${redirecting.url}${path}?status=${status}`;
        const outcomes = await Promise.all(
          [
            refreshTokens({ ...config, tokenUrl: at("/oauth/token") }, tokens),
            revokeToken({ ...config, revokeUrl: at("/oauth/revoke") }, tokens.refreshToken),
            exchangeCode(
              { ...config, tokenUrl: at("/oauth/token") },
              { code: "a-code", state: "s" },
              { state: "s", verifier: "v".repeat(43) },
            ),
            new KlaviyoClient({
              auth: oauth({
                store: new MemoryTokenStore({ tokens, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }),
                tokenUrl: at("/oauth/token"),
              }),
              baseUrl: api.url,
              rateLimiter: false,
            }).request({ method: "GET", path: "/api/accounts" }),
          ].map((p: Promise<unknown>) =>
            p.then(
              () => undefined,
              (e: unknown) => e,
            ),
          ),
        );
        for (const error of outcomes) {
          expect(error).toBeInstanceOf(OAuthError);
          expect((error as OAuthError).status).toBe(status);
        }
      }
      expect(redirecting.requests).toHaveLength(20);
      expect(canary.connections()).toBe(0);
      expect(canary.received()).toBe("");
    } finally {
      await redirecting.close();
    }
  });
});
