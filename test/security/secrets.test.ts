/**
 * Planted secrets never come out. A private API key (and a scoped and an unknown one), an OAuth app's client
 * secret, and every access and refresh token the emulator's OAuth server issues are planted; then every kind of
 * error is provoked (401, 403, 404, 409, 429, 500, 503, timeouts, refused and reset connections, input
 * validation, OAuth refusals such as invalid_grant and invalid_client, hostile servers that echo credentials)
 * through the library and through the real `klaviyo` binary (every command, `--verbose` included). Each secret,
 * as is and base64-, base64url-, URL- and hex-encoded, is then searched for in every message, `cause` chain,
 * `toJSON`, `util.inspect` (depth Infinity, hidden properties shown), stack, log line (the emulator's request
 * log and its own output), stdout and stderr, and every file under test/**\/__snapshots__.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
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
import { apiKey } from "../../src/core/api-key.js";
import type { FetchLike } from "../../src/core/chain.js";
import { KlaviyoClient } from "../../src/core/client.js";
import {
  ApiError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  ConnectionError,
  InputValidationError,
  NotFoundError,
  OAuthError,
  PermissionDeniedError,
  RateLimitError,
  ServerError,
  TimeoutError,
} from "../../src/core/errors.js";
import { createEmulator, type Emulator } from "../../src/emulator/index.js";
import { authLoginArgs, BIN, type CliResult, requireBuild, runCli } from "../helpers/cli.js";
import { checkedFetch } from "../helpers/contract.js";
import { closedPort, startServer, type TestServer } from "../helpers/servers.js";
import { cliLogin, findLeaks, playBrowser } from "./helpers.js";

const API_KEY = "pk_PLANTEDfullKey3f9a1c7e5b2d40868d1e";
const SCOPED_KEY = "pk_PLANTEDscopedKey9c2e47a1b3d5f608aa";
const UNKNOWN_KEY = "pk_PLANTEDunknownKey5d8b2f6a0c4e1937bb";
const CLIENT_ID = "planted-app";
const CLIENT_SECRET = "cs-PLANTED-client-secret-7b3e9d1f5a2c";
const WRONG_SECRET = "cs-PLANTED-wrong-secret-0a9b8c7d6e5f";
/** An access token fetch cannot put in a header (a NUL): fetch's own error would quote the header whole. */
const UNSENDABLE_TOKEN = "at-PLANTED-unsendable\u0000token-4e8a2b";
/** A token in a token file broken right at it, where JSON.parse's message would quote the text around it. */
const CORRUPT_TOKEN = "at-PLANTED-in-a-broken-file-9f8e7d6c5b4a";
const REDIRECT = "http://127.0.0.1:8765/callback";

/** Every secret planted or issued, by name; tokens are added as the OAuth server issues them. */
const secrets = new Map<string, string>([
  ["API key", API_KEY],
  ["scoped API key", SCOPED_KEY],
  ["unknown API key", UNKNOWN_KEY],
  ["client secret", CLIENT_SECRET],
  ["wrong client secret", WRONG_SECRET],
  ["unsendable access token", UNSENDABLE_TOKEN],
  ["corrupt-file token", CORRUPT_TOKEN],
  ["Basic credentials", `${CLIENT_ID}:${CLIENT_SECRET}`],
  ["API key without its prefix", API_KEY.slice(3)],
]);
function plantToken(kind: "access" | "refresh", token: unknown): void {
  if (typeof token === "string" && ![...secrets.values()].includes(token))
    secrets.set(`${kind} token #${secrets.size}`, token);
}

/** Every place an error shows itself: message, String, stack, toJSON, inspect, and the same for each cause. */
function errorViews(what: string, error: unknown): Array<[string, string]> {
  const views: Array<[string, string]> = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    const label = depth === 0 ? what : `${what} / cause ${depth}`;
    if (current instanceof Error) {
      views.push([`${label} / message`, current.message], [`${label} / stack`, current.stack ?? ""]);
    }
    views.push([`${label} / String`, String(current)]);
    let json: string;
    try {
      json = JSON.stringify(current) ?? "";
    } catch (e) {
      json = `unserialisable: ${String(e)}`;
    }
    views.push([`${label} / toJSON`, json]);
    views.push([`${label} / inspect`, inspect(current, { depth: Infinity, showHidden: true })]);
    current = (current as { cause?: unknown }).cause;
  }
  return views;
}

/** The error `run` fails with, which must be an `expected`; kept (with what caused it) for the search. */
async function provoke<E>(
  provoked: Array<[string, unknown]>,
  what: string,
  expected: abstract new (...args: never[]) => E,
  run: () => unknown,
): Promise<E> {
  let error: unknown;
  try {
    await run();
  } catch (e) {
    error = e;
  }
  expect(error, what).toBeInstanceOf(expected);
  provoked.push([what, error]);
  return error as E;
}

/** How much was searched, for the figures. */
const searched = { views: 0, characters: 0 };

function expectNoLeaks(views: ReadonlyArray<readonly [string, string]>): void {
  searched.views += views.length;
  for (const [, text] of views) searched.characters += text.length;
  expect(findLeaks(views, secrets)).toEqual([]);
}

/** Runs `tasks` at most `width` at a time (each is a process: a few at once, not thirty). */
async function inBatches<T>(tasks: ReadonlyArray<() => Promise<T>>, width = 6): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await (tasks[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

const servers: TestServer[] = [];
afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const s = await startServer(handler);
  servers.push(s);
  return s;
}

/** Servers that echo the credentials they were sent back, in every way a careless proxy might. */
async function echoServers() {
  const echoJsonError = await server((req, res) => {
    res.writeHead(400, {
      "content-type": "application/vnd.api+json",
      "x-echo-authorization": req.headers.authorization ?? "",
    });
    res.end(
      JSON.stringify({
        errors: [
          {
            id: "e1",
            status: 400,
            code: "invalid",
            title: `you sent ${req.headers.authorization}`,
            detail: `you sent ${req.headers.authorization}`,
            source: { pointer: `/data/${req.headers.authorization}` },
            meta: {
              echoed: req.headers.authorization,
              bare: String(req.headers.authorization).split(" ")[1],
            },
          },
        ],
      }),
    );
  });
  const echoHtml = await server((req, res) => {
    res.writeHead(403, { "content-type": "text/html" });
    res.end(`<html><body>Forbidden: ${req.headers.authorization}</body></html>`);
  });
  const echoTruncated = await server((req, res) => {
    res.writeHead(200, { "content-type": "application/vnd.api+json" });
    res.end(`{"data": {"seen": "${String(req.headers.authorization).split(" ")[1]}"`);
  });
  const echoHeaders = await server((req, res) => {
    const credential = String(req.headers.authorization).split(" ")[1] ?? "";
    res.writeHead(200, {
      "content-type": "application/vnd.api+json",
      "set-cookie": `session=${credential}; HttpOnly`,
      "x-echo": `your key: ${credential}`,
      "x-api-key": credential,
    });
    res.end('{"data": []}');
  });
  return { echoJsonError, echoHtml, echoTruncated, echoHeaders };
}

describe("the library", () => {
  let emulator: Emulator;
  /** The emulator's fetch, contract-checked; token responses are read for the tokens to plant. */
  let emulatorFetch: FetchLike;
  let config: OAuthClientConfig;

  beforeAll(() => {
    emulator = createEmulator({
      rateLimits: "off",
      apiKeys: [{ key: API_KEY }, { key: SCOPED_KEY, scopes: ["accounts:read"] }],
      oauthClients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT] }],
    });
    const checked = checkedFetch(emulator.fetch);
    emulatorFetch = async (input, init) => {
      const res = await checked(input, init);
      const url = input instanceof Request ? input.url : String(input);
      if (url.endsWith("/oauth/token") && res.ok) {
        const body = (await res.clone().json()) as Record<string, unknown>;
        plantToken("access", body.access_token);
        plantToken("refresh", body.refresh_token);
      }
      return res;
    };
    config = {
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      redirectUri: REDIRECT,
      scopes: "accounts:read lists:read",
      authorizeUrl: `${emulator.baseUrl}/oauth/authorize`,
      tokenUrl: `${emulator.baseUrl}/oauth/token`,
      revokeUrl: `${emulator.baseUrl}/oauth/revoke`,
      fetch: emulatorFetch,
    };
  });

  const keyClient = (key: string, options: Partial<ConstructorParameters<typeof KlaviyoClient>[0]> = {}) =>
    new KlaviyoClient({
      apiKey: key,
      baseUrl: emulator.baseUrl,
      fetch: emulatorFetch,
      rateLimiter: false,
      retry: { maxRetries: 0 },
      ...options,
    });

  /** A completed OAuth login, the browser's part played against the emulator. */
  async function login(): Promise<StoredConnection> {
    const request = authorizeUrl(config);
    const back = await emulator.fetch(request.url, { redirect: "manual" });
    const params = new URL(back.headers.get("location") ?? "").searchParams;
    const tokens = await exchangeCode(
      config,
      { code: params.get("code"), state: params.get("state") },
      request,
    );
    return { tokens, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, tokenUrl: config.tokenUrl };
  }
  const oauthClient = (store: MemoryTokenStore, baseUrl = emulator.baseUrl, fetchImpl = emulatorFetch) => {
    const auth = oauth({ store, tokenUrl: config.tokenUrl, fetch: emulatorFetch });
    return {
      auth,
      client: new KlaviyoClient({
        auth,
        baseUrl,
        fetch: fetchImpl,
        rateLimiter: false,
        retry: { maxRetries: 0 },
      }),
    };
  };

  it("API errors with a private key: 401, 403, 404, 409, 400, 429, 500, 503", async () => {
    const provoked: Array<[string, unknown]> = [];
    const full = keyClient(API_KEY);
    await provoke(provoked, "401 unknown key", AuthenticationError, () =>
      keyClient(UNKNOWN_KEY).request({ method: "GET", path: "/api/accounts" }),
    );
    await provoke(provoked, "403 scoped key", PermissionDeniedError, () =>
      keyClient(SCOPED_KEY).request({ method: "GET", path: "/api/lists" }),
    );
    await provoke(provoked, "404 get-list", NotFoundError, () =>
      runAction("get-list", { listId: "NoSuch" }, { client: full }),
    );
    await runAction("create-profile", { email: "planted@example.com" }, { client: full });
    await provoke(provoked, "409 duplicate profile", ConflictError, () =>
      runAction("create-profile", { email: "planted@example.com" }, { client: full }),
    );
    // A body the OpenAPI document refuses, on purpose: sent past the contract check, straight to the emulator.
    await provoke(provoked, "400 raw request", BadRequestError, () =>
      runAction(
        "raw-request",
        { url: "/api/lists", method: "POST", data: { data: { type: "list" } } },
        { client: keyClient(API_KEY, { fetch: emulator.fetch }) },
      ),
    );
    emulator.setFaults([
      { kind: "429", probability: 1, operation: "get_segments" },
      { kind: "500", probability: 1, operation: "get_templates" },
      { kind: "503", probability: 1, operation: "get_campaigns" },
    ]);
    try {
      await provoke(provoked, "429", RateLimitError, () =>
        full.request({ method: "GET", path: "/api/segments" }),
      );
      await provoke(provoked, "500", ServerError, () =>
        full.request({ method: "GET", path: "/api/templates" }),
      );
      await provoke(provoked, "503 after retries", ServerError, () =>
        keyClient(API_KEY, { retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 1 } }).request({
          method: "GET",
          path: "/api/campaigns",
          query: { filter: "equals(messages.channel,'email')" },
        }),
      );
    } finally {
      emulator.setFaults([]);
    }
    expect(provoked).toHaveLength(8);
    expectNoLeaks(provoked.flatMap(([what, e]) => errorViews(what, e)));
  });

  it("transport failures: timeouts, refused and reset connections, hostile and broken answers", async () => {
    const provoked: Array<[string, unknown]> = [];
    const silent = await server(() => {});
    const stalled = await server((_req, res) => {
      res.writeHead(200, { "content-type": "application/vnd.api+json" });
      res.write('{"data": [');
    });
    const closed = await closedPort();
    const echo = await echoServers();
    const over = (url: string, key = API_KEY) =>
      new KlaviyoClient({
        apiKey: key,
        baseUrl: url,
        rateLimiter: false,
        retry: { maxRetries: 0 },
        timeoutMs: 100,
      });
    await provoke(provoked, "timeout: no answer", TimeoutError, () =>
      over(silent.url).request({ method: "GET", path: "/api/accounts" }),
    );
    await provoke(provoked, "timeout: stalled body", TimeoutError, () =>
      over(stalled.url).request({ method: "GET", path: "/api/accounts" }),
    );
    await provoke(provoked, "refused connection", ConnectionError, () =>
      over(closed).request({ method: "GET", path: "/api/accounts" }),
    );
    emulator.setFaults([{ kind: "reset", probability: 1, operation: "get_accounts" }]);
    try {
      await provoke(provoked, "reset connection", ConnectionError, () =>
        keyClient(API_KEY).request({ method: "GET", path: "/api/accounts" }),
      );
    } finally {
      emulator.setFaults([]);
    }
    const echoed = await provoke(provoked, "a JSON error echoing the key", BadRequestError, () =>
      over(echo.echoJsonError.url).request({ method: "GET", path: "/api/accounts" }),
    );
    // Not hidden by accident: the error kept Klaviyo's detail, with the credential cut out.
    expect(echoed.message).toContain("you sent Klaviyo-API-Key [REDACTED]");
    await provoke(provoked, "an HTML 403 echoing the key", PermissionDeniedError, () =>
      over(echo.echoHtml.url).request({ method: "GET", path: "/api/accounts" }),
    );
    await provoke(provoked, "a truncated JSON 200 echoing the key", ApiError, () =>
      over(echo.echoTruncated.url).request({ method: "GET", path: "/api/accounts" }),
    );
    const out = (await runAction(
      "raw-request",
      { url: "/api/accounts", method: "GET" },
      { client: over(echo.echoHeaders.url) },
    )) as { headers: Record<string, string> };
    expect(out.headers["set-cookie"]).toBe("[REDACTED]");
    expect(provoked).toHaveLength(7);
    expectNoLeaks([
      ...provoked.flatMap(([what, e]) => errorViews(what, e)),
      ["Raw Request output headers", JSON.stringify(out)],
    ]);
  });

  it("input validation: bad keys (a NUL included), bad inputs, a credential given as a header", async () => {
    const provoked: Array<[string, unknown]> = [];
    await provoke(provoked, "a key holding a NUL", InputValidationError, () =>
      keyClient(`${API_KEY}\u0000tail`).request({ method: "GET", path: "/api/accounts" }),
    );
    await provoke(provoked, "a key holding a DEL", InputValidationError, () => apiKey(`${API_KEY}\u007f`));
    await provoke(provoked, "a key with a space", InputValidationError, () => apiKey(`${API_KEY} x`));
    await provoke(provoked, "a key without pk_", InputValidationError, () => apiKey(API_KEY.slice(3)));
    const full = keyClient(API_KEY);
    await provoke(provoked, "a bad email", InputValidationError, () =>
      runAction("create-profile", { email: API_KEY }, { client: full }),
    );
    await provoke(provoked, "Authorization as a Raw Request header", InputValidationError, () =>
      runAction(
        "raw-request",
        { url: "/api/accounts", method: "GET", header: { Authorization: `Bearer ${API_KEY}` } },
        { client: full },
      ),
    );
    await provoke(provoked, "a header value with CRLF", InputValidationError, () =>
      runAction(
        "raw-request",
        { url: "/api/accounts", method: "GET", header: { "X-A": `${CLIENT_SECRET}\r\nX-B: 1` } },
        { client: full },
      ),
    );
    expect(provoked).toHaveLength(7);
    // An input refused by the action may be named; the value is not quoted, even when it is a key.
    expectNoLeaks(provoked.flatMap(([what, e]) => errorViews(what, e)));
  });

  it("OAuth: invalid_grant, invalid_client, invalid_state, hostile token servers, broken stores", async () => {
    const provoked: Array<[string, unknown]> = [];
    const connection = await login();
    const store = new MemoryTokenStore(connection);
    const { client, auth } = oauthClient(store);
    await client.request({ method: "GET", path: "/api/accounts" });
    await provoke(provoked, "403 outside the granted scopes", PermissionDeniedError, () =>
      client.request({ method: "GET", path: "/api/profiles" }),
    );
    // A refresh on a 401, then the grant revoked: invalid_grant.
    emulator.oauth.expireAccessTokens();
    await client.request({ method: "GET", path: "/api/accounts" });
    const current = (await store.load()) as StoredConnection;
    emulator.oauth.revokeRefreshToken(current.tokens.refreshToken);
    const revoked = await provoke(provoked, "invalid_grant on refresh", OAuthError, () =>
      client.request({ method: "GET", path: "/api/accounts" }),
    );
    expect(revoked.reauthorizationRequired).toBe(true);
    await provoke(provoked, "invalid_grant, refreshing by hand", OAuthError, () =>
      refreshTokens(config, current.tokens),
    );
    const second = authorizeUrl(config);
    const back = new URL(
      (await emulator.fetch(second.url, { redirect: "manual" })).headers.get("location") ?? "",
    ).searchParams;
    await provoke(provoked, "invalid_state", OAuthError, () =>
      exchangeCode(config, { code: back.get("code"), state: "forged" }, second),
    );
    await provoke(provoked, "invalid_client (a wrong secret)", OAuthError, () =>
      exchangeCode(
        { ...config, clientSecret: WRONG_SECRET },
        { code: back.get("code"), state: back.get("state") },
        second,
      ),
    );
    await provoke(provoked, "invalid_grant (a wrong verifier)", OAuthError, () =>
      exchangeCode(
        config,
        { code: back.get("code"), state: back.get("state") },
        { ...second, verifier: "v".repeat(43) },
      ),
    );
    const closed = await closedPort();
    await provoke(provoked, "the token URL refuses connections", OAuthError, () =>
      refreshTokens({ ...config, tokenUrl: `${closed}/oauth/token`, fetch: undefined }, current.tokens),
    );
    await provoke(provoked, "the revoke URL refuses connections", OAuthError, () =>
      revokeToken(
        { ...config, revokeUrl: `${closed}/oauth/revoke`, fetch: undefined },
        current.tokens.refreshToken,
      ),
    );
    await provoke(provoked, "no stored tokens", OAuthError, () =>
      oauthClient(new MemoryTokenStore()).client.request({ method: "GET", path: "/api/accounts" }),
    );

    // Token servers that misbehave: echo the form and the Basic header back, issue a token fetch cannot send,
    // redirect elsewhere.
    const echoForm = await server((req, res) => {
      let body = "";
      req.on("data", (d) => {
        body += d;
      });
      req.on("end", () => {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            error: "invalid_grant",
            error_description: `got ${body} with ${req.headers.authorization}`,
          }),
        );
      });
    });
    await provoke(provoked, "a token server echoing the form", OAuthError, () =>
      refreshTokens({ ...config, tokenUrl: `${echoForm.url}/oauth/token`, fetch: undefined }, current.tokens),
    );
    const unsendable = await server((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          access_token: UNSENDABLE_TOKEN,
          refresh_token: "rt-fine-0123456789abcdef",
          expires_in: 3600,
        }),
      );
    });
    const hostileStore = new MemoryTokenStore({
      ...connection,
      tokens: { ...connection.tokens, expiresAt: 0 },
    });
    const hostile = new KlaviyoClient({
      auth: oauth({ store: hostileStore, tokenUrl: `${unsendable.url}/oauth/token` }),
      baseUrl: unsendable.url,
      rateLimiter: false,
      retry: { maxRetries: 0 },
    });
    await provoke(provoked, "a token fetch cannot send, from the token server", OAuthError, () =>
      hostile.request({ method: "GET", path: "/api/accounts" }),
    );
    const storedUnsendable = new MemoryTokenStore({
      ...connection,
      tokens: { ...connection.tokens, accessToken: UNSENDABLE_TOKEN, expiresAt: Date.now() + 3_600_000 },
    });
    await provoke(provoked, "a token fetch cannot send, from the store", OAuthError, () =>
      new KlaviyoClient({
        auth: oauth({ store: storedUnsendable }),
        baseUrl: unsendable.url,
        rateLimiter: false,
      }).request({
        method: "GET",
        path: "/api/accounts",
      }),
    );
    const redirecting = await server((_req, res) => {
      res.writeHead(307, { location: `${echoForm.url}/elsewhere` }).end();
    });
    await provoke(provoked, "a token server that redirects", OAuthError, () =>
      refreshTokens(
        { ...config, tokenUrl: `${redirecting.url}/oauth/token`, fetch: undefined },
        current.tokens,
      ),
    );
    const dir = mkdtempSync(join(tmpdir(), "klaviyo-secrets-"));
    try {
      const file = join(dir, "oauth.json");
      writeFileSync(file, `{"tokens": {"accessToken": ${CORRUPT_TOKEN}, "refreshToken": "x"}}`);
      await provoke(provoked, "a broken token file", OAuthError, () =>
        new KlaviyoClient({
          auth: oauth({ store: new FileTokenStore(file) }),
          baseUrl: emulator.baseUrl,
        }).request({
          method: "GET",
          path: "/api/accounts",
        }),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(provoked).toHaveLength(14);
    const views = provoked.flatMap(([what, e]) => errorViews(what, e));
    expectNoLeaks(views);
    // Of the broken file's token, not even a fragment (JSON.parse quotes ten characters around a fault).
    for (let i = 0; i + 8 <= CORRUPT_TOKEN.length; i++) {
      const fragment = CORRUPT_TOKEN.slice(i, i + 8);
      expect(views.filter(([, text]) => text.includes(fragment)).map(([w]) => `${w}: ${fragment}`)).toEqual(
        [],
      );
    }
    // The clients, the strategies and the emulator's request log (its log lines, also served over HTTP).
    const log = await (await emulator.fetch(`${emulator.baseUrl}/__emulator/requests`)).text();
    expect(JSON.parse(log).requests.length).toBeGreaterThan(5);
    expectNoLeaks([
      ["OAuth client, inspect", inspect(client, { depth: Infinity, showHidden: true })],
      ["OAuth client, JSON", JSON.stringify(client)],
      ["OAuth strategy, inspect", inspect(auth, { depth: Infinity, showHidden: true })],
      ["OAuth strategy, JSON", JSON.stringify(auth)],
      ["key client, inspect", inspect(keyClient(API_KEY), { depth: Infinity, showHidden: true })],
      ["key client, JSON", JSON.stringify(keyClient(API_KEY))],
      ["emulator request log", JSON.stringify(emulator.requests)],
      ["emulator request log over HTTP", log],
    ]);
    // Tokens were planted from what the OAuth server issued: the search looked for them too.
    expect([...secrets.keys()].filter((k) => k.includes("token #")).length).toBeGreaterThanOrEqual(4);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The real binary

interface CliEmulator {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/** `klaviyo emulator` with the planted keys and OAuth app; everything it prints is kept. */
async function startPlantedEmulator(callbackUrl: string): Promise<CliEmulator> {
  const child = spawn(
    process.execPath,
    [
      BIN,
      "emulator",
      "--port",
      "0",
      "--rate-limits",
      "off",
      "--api-key",
      API_KEY,
      "--api-key",
      `${SCOPED_KEY}:accounts:read`,
      "--oauth-client",
      `${CLIENT_ID}:${CLIENT_SECRET}:${callbackUrl}`,
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "" } },
  );
  let output = "";
  child.stderr.on("data", (d) => {
    output += d;
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (d) => {
      output += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(output);
      if (m?.[1]) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`emulator exited with ${code}: ${output}`)));
  });
  return {
    url,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

describe("the real binary: every command, --verbose included", () => {
  let emulator: CliEmulator;
  let callbackPort: string;
  let configDir: string;
  /** Everything every command printed, by command. */
  const outputs: Array<[string, string]> = [];
  let echo: Awaited<ReturnType<typeof echoServers>>;
  let silent: TestServer;
  let closed: string;

  beforeAll(async () => {
    requireBuild();
    callbackPort = new URL(await closedPort()).port;
    configDir = mkdtempSync(join(tmpdir(), "klaviyo-secrets-cli-"));
    emulator = await startPlantedEmulator(`http://127.0.0.1:${callbackPort}/callback`);
    echo = await echoServers();
    silent = await server(() => {});
    closed = await closedPort();
  });
  afterAll(async () => {
    await emulator?.stop();
    rmSync(configDir, { recursive: true, force: true });
  });

  const tokenFile = () => join(configDir, "oauth.json");
  /** The tokens now in the token file are planted too (the CLI rotates them on every refresh). */
  function plantFromFile(): StoredConnection {
    const stored = JSON.parse(readFileSync(tokenFile(), "utf8")) as StoredConnection;
    plantToken("access", stored.tokens.accessToken);
    plantToken("refresh", stored.tokens.refreshToken);
    return stored;
  }
  function editFile(change: (stored: StoredConnection) => void): void {
    const stored = plantFromFile();
    change(stored);
    writeFileSync(tokenFile(), JSON.stringify(stored), { mode: 0o600 });
  }

  async function cli(args: string[], env: Record<string, string> = {}, input?: string): Promise<CliResult> {
    const result = await runCli(args, { KLAVIYO_CONFIG_DIR: configDir, ...env }, input);
    outputs.push([`klaviyo ${args.join(" ")} (exit ${result.code})`, `${result.stdout}\n${result.stderr}`]);
    return result;
  }
  async function login(extra: string[], env: Record<string, string>, tamper?: (callback: URL) => void) {
    const args = [
      ...authLoginArgs({
        clientId: CLIENT_ID,
        callbackPort,
        oauthUrl: emulator.url,
        baseUrl: emulator.url,
        scopes: "accounts:read lists:read lists:write",
      }),
      "--timeout",
      "30",
      ...extra,
    ];
    const result = await cliLogin(args, { KLAVIYO_CONFIG_DIR: configDir, ...env }, (url) =>
      playBrowser(url, tamper),
    );
    outputs.push([
      `klaviyo auth login ${extra.join(" ")} (exit ${result.code})`,
      `${result.stdout}\n${result.stderr}`,
    ]);
    return result;
  }

  it("API-key commands: errors of every kind, validation, echoing servers, ingest, manifest, help, demo", async () => {
    const key = { KLAVIYO_API_KEY: API_KEY, KLAVIYO_BASE_URL: emulator.url };
    const verbose = ["--verbose", "--max-retries", "0"];
    await fetch(`${emulator.url}/__emulator/config`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        faults: [
          { kind: "429", probability: 1, operation: "get_segments" },
          { kind: "500", probability: 1, operation: "get_templates" },
          { kind: "reset", probability: 1, operation: "get_images" },
        ],
      }),
    });
    const created = await cli(["run", "create-profile", "--email", "cli@example.com"], key);
    expect(created.code).toBe(0);
    const events = `${JSON.stringify({ metric: "Planted", profile: { email: "cli@example.com" }, time: "2026-01-01T00:00:00Z" })}\n`;
    const results = await inBatches([
      () => cli(["run", "list-lists"], key),
      () => cli(["run", "list-lists", ...verbose], { ...key, KLAVIYO_API_KEY: UNKNOWN_KEY }),
      () => cli(["run", "list-lists", ...verbose], { ...key, KLAVIYO_API_KEY: SCOPED_KEY }),
      () => cli(["run", "get-list", "--list-id", "NoSuch", ...verbose], key),
      () => cli(["run", "create-profile", "--email", "cli@example.com", ...verbose], key),
      () => cli(["run", "list-segments", ...verbose], key),
      () => cli(["run", "list-templates", ...verbose], key),
      () => cli(["run", "list-images", ...verbose], key),
      () => cli(["run", "list-lists", ...verbose, "--base-url", silent.url, "--timeout", "200"], key),
      () => cli(["run", "list-lists", ...verbose, "--base-url", closed], key),
      () => cli(["run", "list-lists", ...verbose, "--base-url", echo.echoJsonError.url], key),
      () => cli(["request", "GET", "/api/accounts", "-i", ...verbose, "--base-url", echo.echoHtml.url], key),
      () => cli(["request", "GET", "/api/accounts", ...verbose, "--base-url", echo.echoTruncated.url], key),
      () => cli(["request", "GET", "/api/accounts", "-i", "--base-url", echo.echoHeaders.url], key),
      () => cli(["request", "GET", "/api/lists/NoSuch", ...verbose], key),
      () => cli(["request", "GET", "/api/accounts", "-i"], key),
      () => cli(["request", "GET", `${emulator.url}/api/accounts`, ...verbose], key),
      () => cli(["run", "create-profile", "--email", "not-an-email", ...verbose], key),
      () => cli(["run", "list-lists", ...verbose], { ...key, KLAVIYO_API_KEY: `${API_KEY}\u0001` }),
      () => cli(["run", "list-lists", ...verbose, "--api-key", `${API_KEY} x`], key),
      () => cli(["run", "list-lists", `--api-kye=${API_KEY}`], key),
      () => cli(["run", "list-lists", "--api-key", API_KEY, "--timeout", "soon"], key),
      () => cli(["ingest", "events", "-"], { ...key, KLAVIYO_API_KEY: UNKNOWN_KEY }, events),
      () => cli(["ingest", "events", "-"], key, events),
      () => cli(["manifest"], { ...key, KLAVIYO_CLIENT_SECRET: CLIENT_SECRET }),
      () => cli(["actions"], key),
      () => cli(["describe", "raw-request"], key),
      () => cli(["run", "create-list", "--help"], key),
      () => cli(["auth", "login", "--help"], { ...key, KLAVIYO_CLIENT_SECRET: CLIENT_SECRET }),
      () => cli(["--help"], key),
    ]);
    const codes = results.map((r) => r.code);
    // Each failed as it should (so each error really was provoked), none crashed.
    expect(codes).toEqual([
      0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 2, 2, 2, 2, 2, 2, 3, 0, 0, 0, 0, 0, 0, 0,
    ]);
    expect(results[4]?.stderr).toMatch(/409/);
    expect(results[5]?.stderr).toMatch(/429/);
    expect(results[6]?.stderr).toMatch(/500/);
    expect(results[7]?.stderr).toMatch(/ECONNRESET|Could not reach/);
    expect(results[8]?.stderr).toMatch(/timed out/);
    expect(results[10]?.stderr).toContain("[REDACTED]");
    await fetch(`${emulator.url}/__emulator/config`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: '{"faults": []}',
    });
    // The demo tour, against the planted emulator with the planted key and with an unknown one, and embedded.
    const demos = await inBatches([
      () => cli(["demo", "--base-url", emulator.url, "--api-key", API_KEY, "--yes"]),
      () => cli(["demo", "--base-url", emulator.url, "--api-key", UNKNOWN_KEY, "--yes"]),
      () => cli(["demo"], key),
    ]);
    // A key Klaviyo refuses is an authentication failure: exit 3, as the README's table says.
    expect(demos.map((d) => d.code)).toEqual([0, 3, 0]);
    expect(demos[1]?.stdout).toMatch(/FAILED: Klaviyo API 401/);
    expectNoLeaks(outputs);
  });

  it("OAuth commands: login (and its failures), status, runs with refresh, invalid_grant, logout", async () => {
    const withSecret = { KLAVIYO_CLIENT_SECRET: CLIENT_SECRET };
    const first = await login([], withSecret);
    expect(first.code, first.stderr).toBe(0);
    plantFromFile();
    expect((await cli(["auth", "status"])).code).toBe(0);
    expect((await cli(["run", "list-accounts", "--verbose"])).code).toBe(0);
    expect((await cli(["run", "list-profile", "--verbose", "--max-retries", "0"])).code).toBe(1); // 403: not granted
    expect((await cli(["request", "GET", "/api/lists/NoSuch", "--verbose"])).code).toBe(1);
    expect((await cli(["run", "list-lists", "--verbose", "--base-url", echo.echoJsonError.url])).code).toBe(
      1,
    );
    expect((await cli(["request", "GET", "/x", "-i", "--base-url", echo.echoHeaders.url])).code).toBe(0);
    // Expired: the next command refreshes before it sends (and the tokens rotate).
    editFile((s) => {
      s.tokens.expiresAt = 0;
    });
    expect((await cli(["run", "list-accounts", "--verbose"])).code).toBe(0);
    const refreshed = plantFromFile();
    // The grant revoked behind the CLI's back: the next refresh is refused, invalid_grant, exit 3.
    const revoke = await fetch(`${emulator.url}/oauth/revoke`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString("base64")}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ token: refreshed.tokens.refreshToken }).toString(),
    });
    expect(revoke.status).toBe(200);
    editFile((s) => {
      s.tokens.expiresAt = 0;
    });
    const regrant = await cli(["run", "list-accounts", "--verbose"]);
    expect(regrant.code).toBe(3);
    expect(regrant.stderr).toMatch(/invalid_grant/);
    // Logins that fail: a wrong secret (given as a flag), a forged state, a refusal in the callback.
    const wrong = await login(["--client-secret", WRONG_SECRET], {});
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/invalid_client/);
    const forged = await login([], withSecret, (callback) => callback.searchParams.set("state", "forged"));
    expect(forged.code).toBe(3);
    expect(forged.stderr).toMatch(/state/);
    const refused = await login([], withSecret, (callback) => {
      callback.searchParams.delete("code");
      callback.searchParams.set("error", "access_denied");
    });
    expect(refused.code).toBe(3);
    // Log in again (the secret as a flag this time), log out; log in, and log out with the revoke URL down.
    expect((await login(["--client-secret", CLIENT_SECRET], {})).code).toBe(0);
    plantFromFile();
    expect((await cli(["auth", "logout"])).code).toBe(0);
    expect((await login([], withSecret)).code).toBe(0);
    editFile((s) => {
      s.revokeUrl = `${closed}/oauth/revoke`;
    });
    const logoutDown = await cli(["auth", "logout"]);
    expect(logoutDown.code).toBe(1);
    expect(logoutDown.stderr).toMatch(/could not revoke/);
    // A broken token file: the commands that read it print not even a fragment of the token in it.
    writeFileSync(tokenFile(), `{"tokens": {"accessToken": ${CORRUPT_TOKEN}, "refreshToken": "x"}}`, {
      mode: 0o600,
    });
    const broken = await Promise.all([
      cli(["run", "list-accounts", "--verbose"]),
      cli(["request", "GET", "/api/accounts", "--verbose"]),
      cli(["auth", "status"]),
      cli(["auth", "logout"]),
    ]);
    expect(broken.every((b) => b.code !== 0)).toBe(true);
    const brokenText = broken.map((b) => b.stdout + b.stderr).join("\n");
    for (let i = 0; i + 8 <= CORRUPT_TOKEN.length; i++)
      expect(brokenText).not.toContain(CORRUPT_TOKEN.slice(i, i + 8));
    expectNoLeaks(outputs);
    expect([...secrets.keys()].filter((k) => k.includes("token #")).length).toBeGreaterThanOrEqual(4);
  });

  it("the emulator's own output and its request log", async () => {
    const log = await (await fetch(`${emulator.url}/__emulator/requests`)).text();
    const health = await (await fetch(`${emulator.url}/__emulator/health`)).text();
    const config = await (await fetch(`${emulator.url}/__emulator/config`)).text();
    expect(JSON.parse(log).requests.length).toBeGreaterThan(20);
    expectNoLeaks([
      ["klaviyo emulator stdout and stderr", emulator.output()],
      ["GET /__emulator/requests", log],
      ["GET /__emulator/health", health],
      ["GET /__emulator/config", config],
    ]);
    if (process.env.SECURITY_FIGURES)
      console.log("secrets:", { cliRuns: outputs.length, secrets: secrets.size, ...searched });
  });
});

describe("test snapshots", () => {
  it("no file under test/**/__snapshots__ holds a planted secret or anything shaped like a credential", () => {
    const root = fileURLToPath(new URL("..", import.meta.url));
    const files: string[] = [];
    const walk = (dir: string, inSnapshots: boolean) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path, inSnapshots || name === "__snapshots__");
        else if (inSnapshots) files.push(path);
      }
    };
    walk(root, false);
    const views = files.map((f): [string, string] => [relative(root, f), readFileSync(f, "utf8")]);
    expectNoLeaks(views);
    const shaped =
      /\bpk_[A-Za-z0-9]{20,}|\b(?:Bearer|Basic) [A-Za-z0-9+/=._~-]{16,}|"(?:access|refresh)_token"\s*:\s*"[^"[]/;
    expect(views.filter(([, text]) => shaped.test(text)).map(([name]) => name)).toEqual([]);
    // The walk did look at the test tree (there are no snapshot files today: the list is empty, not skipped).
    expect(readdirSync(root)).toContain("security");
  });
});
