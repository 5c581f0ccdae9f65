/**
 * The Redis token store against a real redis-server: encryption at rest, and one OAuth refresh across many
 * workers (separate processes, each connection with its own Redis client), a lock holder that dies, and Redis
 * going away and coming back.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import { createClient } from "@redis/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { oauth } from "../../src/auth/oauth-strategy.js";
import type { StoredConnection } from "../../src/auth/token-store.js";
import { KlaviyoClient } from "../../src/core/client.js";
import { OAuthError } from "../../src/core/errors.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { EncryptionError, encryptionKeyFrom } from "../../src/redis/encryption.js";
import { createRedisTokenStore, type RedisTokenStoreOptions } from "../../src/redis/token-store.js";
import { freePort, redisAvailable, startRedis, type TestRedis } from "../helpers/redis.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const WORKER = fileURLToPath(new URL("./fixtures/oauth-worker.ts", import.meta.url));
const CLIENT_ID = "shared-app";
const CLIENT_SECRET = "cs_shared_secret_0123456789abcdef";
const KEY_HEX = randomBytes(32).toString("hex");
const fingerprint = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 16);

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error("expected a failure");
    },
    (e: unknown) => e,
  );
}

describe("encryptionKeyFrom", () => {
  const bytes = randomBytes(32);
  it("reads 32 bytes as hex, base64 or base64url text, or as bytes", () => {
    expect(encryptionKeyFrom(bytes.toString("hex"))).toEqual(bytes);
    expect(encryptionKeyFrom(bytes.toString("hex").toUpperCase())).toEqual(bytes);
    expect(encryptionKeyFrom(` ${bytes.toString("base64")}\n`)).toEqual(bytes);
    expect(encryptionKeyFrom(bytes.toString("base64url"))).toEqual(bytes);
    expect(encryptionKeyFrom(new Uint8Array(bytes))).toEqual(bytes);
  });

  it("refuses a wrong length or text that is neither hex nor base64, without quoting it", () => {
    const cases: Array<[string | Uint8Array, RegExp]> = [
      [randomBytes(16).toString("hex"), /16 bytes of hex, not 32/],
      [randomBytes(31).toString("base64"), /decodes to 31 bytes, not 32/],
      [randomBytes(48).toString("base64"), /decodes to 48 bytes, not 32/],
      ["correct horse battery staple, not a key!!", /neither hex nor base64/],
      ["", /is empty/],
      [randomBytes(24), /must be 32 bytes, not 24/],
    ];
    for (const [value, message] of cases) {
      const error = (() => {
        try {
          encryptionKeyFrom(value);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(EncryptionError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(/KLAVIYO_TOKEN_ENCRYPTION_KEY/);
      if (typeof value === "string" && value) expect((error as Error).message).not.toContain(value);
    }
  });

  it("the Redis store imports @redis/client only dynamically (the core works without it)", () => {
    const source = readFileSync(new URL("../../src/redis/token-store.ts", import.meta.url), "utf8");
    expect(source).not.toMatch(/^import[^;]*from "@redis\/client"/m);
    expect(source).toContain('await import("@redis/client")');
  });
});

describe.skipIf(!redisAvailable())("the Redis token store (real redis-server)", () => {
  let redis: TestRedis;
  let api: RunningEmulator;
  let raw: ReturnType<typeof createClient>;
  let n = 0;
  const keyName = () => `${CLIENT_ID}:acct${++n}`;

  beforeAll(async () => {
    redis = await startRedis();
    api = await startEmulator({
      rateLimits: "off",
      oauthClients: [
        { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: ["http://127.0.0.1/cb"] },
      ],
    });
    raw = createClient({ url: redis.url });
    raw.on("error", () => undefined);
    await raw.connect();
  });

  afterAll(async () => {
    raw?.destroy();
    await api?.close();
    await redis?.stop();
  });

  /** A connection as a login would leave it, for tokens the emulator issues now; `expired`: past its expiry. */
  function login(expired = false): StoredConnection {
    const issued = api.emulator.oauth.issueTokens(CLIENT_ID, ["accounts:read"]);
    return {
      tokens: {
        accessToken: issued.access_token,
        refreshToken: issued.refresh_token,
        expiresAt: expired ? Date.now() - 1000 : Date.now() + issued.expires_in * 1000,
        scope: issued.scope,
        tokenType: "Bearer",
      },
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      tokenUrl: `${api.url}/oauth/token`,
    };
  }

  function store(key: string, options: Partial<RedisTokenStoreOptions> = {}) {
    return createRedisTokenStore({
      url: redis.url,
      key,
      encryptionKey: KEY_HEX,
      commandTimeoutMs: 500,
      logger: () => undefined,
      ...options,
    });
  }

  function apiClient(auth: ReturnType<typeof oauth>) {
    return new KlaviyoClient({ auth, baseUrl: api.url, rateLimiter: false, retry: { maxRetries: 0 } });
  }

  it("round trip; what Redis holds is ciphertext, with no token or secret in it, even decoded", async () => {
    const key = keyName();
    const s = await store(key);
    const connection = login();
    await s.save(connection);
    expect(await s.load()).toEqual(connection);
    const other = await store(key);
    expect(await other.load()).toEqual(connection);
    const value = await raw.get(s.keys.tokens);
    expect(value).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const decoded = Buffer.from(value ?? "", "base64").toString("latin1");
    for (const secret of [connection.tokens.accessToken, connection.tokens.refreshToken, CLIENT_SECRET]) {
      expect(value).not.toContain(secret);
      expect(decoded).not.toContain(secret);
    }
    expect(decoded).not.toContain("accessToken");
    // Two saves of the same connection differ (a fresh IV each time).
    await s.save(connection);
    expect(await raw.get(s.keys.tokens)).not.toBe(value);
    await Promise.all([s.close(), other.close()]);
  });

  it("takes a client you made (and leaves it open); with no Redis at all, it says so and nothing crashes", async () => {
    const key = keyName();
    const yours = await createRedisTokenStore({ client: raw, key, encryptionKey: KEY_HEX });
    const connection = login();
    await yours.save(connection);
    const ours = await store(key);
    expect(await ours.load()).toEqual(connection);
    await Promise.all([yours.close(), ours.close()]);
    expect(await raw.ping()).toBe("PONG");

    const messages: string[] = [];
    const nowhere = await createRedisTokenStore({
      url: `redis://127.0.0.1:${await freePort()}`,
      key,
      encryptionKey: KEY_HEX,
      commandTimeoutMs: 300,
      logger: (m) => messages.push(m),
    });
    const error = await failure(nowhere.load());
    expect((error as OAuthError).code).toBe("token_store_unavailable");
    expect(messages.filter((m) => /unavailable/i.test(m))).toHaveLength(1);
    await nowhere.close();
  });

  it("a wrong key, a tampered value or a value moved to another key: a clear error that leaks nothing", async () => {
    const key = keyName();
    const s = await store(key);
    const connection = login();
    await s.save(connection);
    const sealed = (await raw.get(s.keys.tokens)) ?? "";
    const otherKey = randomBytes(32).toString("base64");
    const wrong = await store(key, { encryptionKey: otherKey });
    const errors: unknown[] = [await failure(wrong.load())];

    const bytes = Buffer.from(sealed, "base64");
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    await raw.set(s.keys.tokens, bytes.toString("base64"));
    errors.push(await failure(s.load()));

    const moved = await store(keyName());
    await raw.set(moved.keys.tokens, sealed);
    errors.push(await failure(moved.load()));

    for (const error of errors) {
      expect(error).toBeInstanceOf(OAuthError);
      expect((error as OAuthError).code).toBe("token_decrypt_failed");
      expect((error as OAuthError).message).toMatch(/cannot be decrypted/);
      for (const view of [String(error), JSON.stringify(error), inspect(error, { depth: 5 })]) {
        for (const secret of [
          connection.tokens.accessToken,
          connection.tokens.refreshToken,
          CLIENT_SECRET,
          KEY_HEX,
          otherKey,
          sealed,
        ]) {
          expect(view).not.toContain(secret);
        }
      }
    }
    await Promise.all([s.close(), wrong.close(), moved.close()]);
  });

  it("clear(): every worker sees no tokens, and one that held some does not put them back", async () => {
    const key = keyName();
    const [a, b] = await Promise.all([store(key), store(key)]);
    await a.save(login());
    expect(await b.load()).toBeDefined();
    await a.clear();
    expect(await b.load()).toBeUndefined();
    expect(await a.load()).toBeUndefined();
    await Promise.all([a.close(), b.close()]);
  });

  it("100 workers (4 processes × 25, each with its own Redis client) with an expired token: exactly one refresh", async () => {
    const key = keyName();
    const seed = await store(key);
    const connection = login(true);
    await seed.save(connection);
    api.emulator.oauth.expireAccessToken(connection.tokens.accessToken);
    const before = api.emulator.oauth.tokenRequests.refresh_token;

    const processes = 4;
    const perProcess = 25;
    const started = performance.now();
    const workers = Array.from({ length: processes }, () =>
      spawnWorker({
        WORKER_COUNT: String(perProcess),
        WORKER_REDIS_URL: redis.url,
        WORKER_API_URL: api.url,
        WORKER_TOKEN_URL: `${api.url}/oauth/token`,
        WORKER_KEY: key,
        WORKER_ENCRYPTION_KEY: KEY_HEX,
      }),
    );
    await Promise.all(workers.map((w) => w.ready));
    const readyMs = performance.now() - started;
    const go = performance.now();
    for (const w of workers) w.child.stdin?.write("go\n");
    const results = await Promise.all(workers.map((w) => w.result));
    const runMs = performance.now() - go;

    const stored = await seed.load();
    expect(stored?.tokens.accessToken).not.toBe(connection.tokens.accessToken);
    const expected = fingerprint(`Bearer ${stored?.tokens.accessToken}`);
    const tokens = results.flatMap((r) => r.tokens);
    const statuses = results.flatMap((r) => r.statuses);
    expect(tokens).toHaveLength(processes * perProcess);
    expect(new Set(tokens)).toEqual(new Set([expected]));
    expect(statuses).toEqual(Array(processes * perProcess).fill(200));
    expect(api.emulator.oauth.tokenRequests.refresh_token - before).toBe(1);
    expect(results.reduce((sum, r) => sum + r.refreshes, 0)).toBe(1);
    console.info(
      `100 workers: 1 refresh_token grant; processes ready in ${Math.round(readyMs)} ms, ` +
        `all authorized and called in ${Math.round(runMs)} ms (authorization() per process: ${results
          .map((r) => r.authorizedMs)
          .join(", ")} ms)`,
    );
    await seed.close();
  }, 30_000);

  it("a lock holder killed mid-refresh: another worker refreshes once the lock's TTL has run out", async () => {
    const key = keyName();
    const lockTtlMs = 600;
    const seed = await store(key);
    const connection = login(true);
    await seed.save(connection);
    const before = api.emulator.oauth.tokenRequests.refresh_token;

    // A token endpoint that takes the request and never answers: the holder is stuck mid-refresh.
    const sockets: Socket[] = [];
    let reached: () => void = () => undefined;
    const holderRefreshing = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const blackhole: Server = createServer((socket) => {
      sockets.push(socket);
      reached();
    });
    await new Promise<void>((resolve) => blackhole.listen(0, "127.0.0.1", resolve));
    const port = (blackhole.address() as { port: number }).port;

    const holder = spawnWorker({
      WORKER_COUNT: "1",
      WORKER_REDIS_URL: redis.url,
      WORKER_API_URL: api.url,
      WORKER_TOKEN_URL: `http://127.0.0.1:${port}/oauth/token`,
      WORKER_KEY: key,
      WORKER_ENCRYPTION_KEY: KEY_HEX,
      WORKER_LOCK_TTL_MS: String(lockTtlMs),
    });
    await holder.ready;
    holder.child.stdin?.write("go\n");
    await holderRefreshing;
    // Held well past its first TTL: the holder extends it while it is alive.
    await new Promise((r) => setTimeout(r, lockTtlMs * 1.5));
    expect(await raw.get(seed.keys.lock)).not.toBeNull();
    holder.child.kill("SIGKILL");
    const killed = performance.now();

    const next = await store(key, { lockTtlMs });
    const auth = oauth({ store: next });
    const header = await auth.authorization();
    const tookMs = performance.now() - killed;
    expect(header).not.toBe(`Bearer ${connection.tokens.accessToken}`);
    expect(api.emulator.oauth.tokenRequests.refresh_token - before).toBe(1);
    expect((await apiClient(auth).request({ method: "GET", path: "/api/accounts" })).status).toBe(200);
    console.info(`killed holder: the next worker refreshed ${Math.round(tookMs)} ms after the kill`);
    for (const socket of sockets) socket.destroy();
    blackhole.close();
    await Promise.all([seed.close(), next.close()]);
  }, 20_000);

  it("a waiter gives up with a clear error if the lock is never released nor the tokens changed", async () => {
    const key = keyName();
    const s = await store(key, { waitMs: 300 });
    await s.save(login(true));
    await raw.set(s.keys.lock, "someone-else", { expiration: { type: "PX", value: 10_000 } });
    const error = await failure(Promise.resolve(oauth({ store: s }).authorization()));
    expect((error as OAuthError).code).toBe("refresh_lock_timeout");
    await raw.del(s.keys.lock);
    await s.close();
  });

  it("Redis stopped: authorization() keeps working (local refresh, logged once); restarted: shared again", async () => {
    const key = keyName();
    const messages: string[] = [];
    const a = await store(key, { logger: (m) => messages.push(m) });
    const connection = login();
    await a.save(connection);
    const authA = oauth({ store: a });
    const clientA = apiClient(authA);
    expect((await clientA.request({ method: "GET", path: "/api/accounts" })).status).toBe(200);
    const before = api.emulator.oauth.tokenRequests.refresh_token;

    await redis.stop();
    api.emulator.oauth.expireAccessTokens();
    // A 401, a refresh with no Redis: done here, and the request goes through.
    expect((await clientA.request({ method: "GET", path: "/api/accounts" })).status).toBe(200);
    expect(api.emulator.oauth.tokenRequests.refresh_token - before).toBe(1);
    // Another connection of this process, made during the outage, uses the tokens the store last saw.
    const late = oauth({ store: a });
    expect(await late.authorization()).toBe(await authA.authorization());
    expect(messages.filter((m) => /unavailable/i.test(m))).toHaveLength(1);
    expect(messages.join("\n")).not.toContain(connection.tokens.accessToken);

    await redis.start();
    // The store's own client reconnects in the background; the first command that reaches Redis says so.
    const deadline = Date.now() + 5000;
    while (!(await a.load().then(() => a.available)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(a.available).toBe(true);
    expect(messages.filter((m) => /back/i.test(m))).toHaveLength(1);

    // The empty Redis got this process's tokens back: a worker that never saw them finds them there.
    const b = await store(key);
    const authB = oauth({ store: b });
    expect(await authB.authorization()).toBe(await authA.authorization());

    // And refreshes are shared again: both workers hit by a 401 at once, one refresh.
    api.emulator.oauth.expireAccessTokens();
    const middle = api.emulator.oauth.tokenRequests.refresh_token;
    const results = await Promise.all([
      clientA.request({ method: "GET", path: "/api/accounts" }),
      apiClient(authB).request({ method: "GET", path: "/api/accounts" }),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    expect(api.emulator.oauth.tokenRequests.refresh_token - middle).toBe(1);
    expect(await authA.authorization()).toBe(await authB.authorization());
    await Promise.all([a.close(), b.close()]);
  }, 20_000);
});

interface WorkerResult {
  tokens: string[];
  statuses: Array<number | string>;
  refreshes: number;
  authorizedMs: number;
}

function spawnWorker(env: Record<string, string>): {
  child: ChildProcess;
  ready: Promise<void>;
  result: Promise<WorkerResult>;
} {
  const child = spawn(process.execPath, ["--import", "tsx", WORKER], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  let onReady: () => void = () => undefined;
  let onFailure: (error: Error) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    onFailure = reject;
  });
  child.stdout?.on("data", (d) => {
    out += d;
    if (out.includes("ready\n")) onReady();
  });
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const result = new Promise<WorkerResult>((resolve, reject) => {
    child.once("exit", (code, signal) => {
      const failed = new Error(`worker exited with ${code ?? signal}: ${err}`);
      onFailure(failed);
      if (code !== 0) return reject(failed);
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (!line) return reject(new Error(`worker printed no result: ${out} ${err}`));
      resolve(JSON.parse(line) as WorkerResult);
    });
  });
  // The killed holder's result is never read.
  result.catch(() => undefined);
  ready.catch(() => undefined);
  return { child, ready, result };
}
