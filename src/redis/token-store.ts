/**
 * OAuth tokens in Redis, shared by every worker of an app installation, encrypted at rest, with one refresh at a
 * time across all of them (`withRefreshLock`, which the OAuth strategy uses).
 *
 * - The connection is stored under `<prefix>{<key>}:tokens` as AES-256-GCM ciphertext (see `encryption.ts`), bound
 *   to that key name: nothing in Redis reads as a token or a client secret, and a value copied to another key does
 *   not open.
 * - The refresh lock is `<prefix>{<key>}:lock`: `SET … NX PX lockTtlMs` with a random token, extended while its
 *   holder is refreshing, released by a compare-and-delete script. A holder that dies leaves it to expire.
 *   Waiters poll it (every `pollMs`, jittered); as soon as the stored tokens change they take them, without the
 *   token endpoint.
 * - Redis unreachable: `load` answers with the tokens this process last saw, a refresh happens locally and its
 *   tokens are kept in memory, written back (unless Redis holds newer ones) once Redis answers again; logged once
 *   per outage. Nothing throws for an outage except `clear`, and `load` in a process that never saw tokens.
 *
 * `@redis/client` is an optional peer dependency: it is imported only here, on first use, and an existing client
 * (anything with `sendCommand`) can be passed instead.
 */
import { randomBytes } from "node:crypto";
import type { StoredConnection, TokenStore } from "../auth/token-store.js";
import { OAuthError } from "../core/errors.js";
import { decrypt, EncryptionError, encrypt, encryptionKeyFrom } from "./encryption.js";

/** What the store needs of a Redis client: `@redis/client`'s `createClient()` (connected) is one. */
export interface RedisCommandClient {
  sendCommand(args: string[]): Promise<unknown>;
  /** When false, commands are not sent (they would wait in the client's offline queue). */
  readonly isReady?: boolean;
}

export interface RedisTokenStoreOptions {
  /** `redis://…` (or `rediss://…`); the store creates and owns its client. Or give `client`. */
  url?: string;
  /** A client you created and connected; `close()` leaves it open. */
  client?: RedisCommandClient;
  /** The namespace of this connection, such as the app and account (`my-app:XqT4Lm`). Not a secret. */
  key: string;
  /** 32 bytes, or their text as 64 hex digits or base64 (see `encryptionKeyFrom`). */
  encryptionKey: string | Uint8Array;
  /** Default `klaviyo:oauth:`. */
  prefix?: string;
  /** How long a refresh lock lives unless its holder extends it (it does, every third of this). Default 15 s. */
  lockTtlMs?: number;
  /** How long a worker waits for another's refresh before giving up with an error. Default 20 s. */
  waitMs?: number;
  /** How often a waiting worker looks at the lock and the tokens. Default 50 ms. */
  pollMs?: number;
  /** A command that takes longer counts as Redis being unreachable. Default 2 s. */
  commandTimeoutMs?: number;
  /** Where the once-per-outage messages go. Default `console.warn`. */
  logger?: (message: string) => void;
}

export interface RedisTokenStore extends TokenStore {
  withRefreshLock<T>(
    work: (current: StoredConnection | undefined) => Promise<T>,
    adopt?: (current: StoredConnection) => T | undefined,
  ): Promise<T>;
  /** The Redis keys used: the encrypted connection and the refresh lock. */
  readonly keys: { readonly tokens: string; readonly lock: string };
  /** Whether the last command reached Redis. */
  readonly available: boolean;
  /** Quits the client if the store created it. */
  close(): Promise<void>;
}

/** What `clear()` leaves, so that workers still holding tokens do not put them back. */
const CLEARED = "cleared";

/** Takes the lock, or tells what the tokens are now. */
const ACQUIRE = `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1} end
local v = redis.call('GET', KEYS[2])
if v then return {0, v} end
return {0}`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
/** Sets KEYS[1] to ARGV[2] only if it still holds ARGV[1] ('' = absent). */
const COMPARE_AND_SET = `local v = redis.call('GET', KEYS[1])
if (v == false and ARGV[1] == '') or v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end
return 0`;

interface Stored {
  /** As Redis holds it: null when absent. */
  raw: string | null;
  /** Undefined when absent or cleared. */
  connection: StoredConnection | undefined;
}

/** Redis did not answer (down, offline, too slow, or refused the command). */
class Unavailable extends Error {}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function positive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${name} must be a number > 0`);
  return value;
}

function isConnection(value: unknown): value is StoredConnection {
  const v = value as StoredConnection | null;
  return (
    typeof v === "object" &&
    v !== null &&
    typeof v.clientId === "string" &&
    typeof v.clientSecret === "string" &&
    typeof v.tokens?.accessToken === "string" &&
    typeof v.tokens.refreshToken === "string" &&
    typeof v.tokens.expiresAt === "number"
  );
}

class RedisTokenStoreImpl implements RedisTokenStore {
  readonly keys: { readonly tokens: string; readonly lock: string };
  readonly #client: RedisCommandClient;
  readonly #owned: { close(): Promise<unknown> } | undefined;
  readonly #key: Buffer;
  readonly #lockTtlMs: number;
  readonly #waitMs: number;
  readonly #pollMs: number;
  readonly #timeoutMs: number;
  readonly #log: (message: string) => void;
  /** The last connection this process loaded or saved: the answer while Redis is unreachable. */
  #last: StoredConnection | undefined;
  /** Saved while Redis was unreachable: written back when it answers, unless it holds newer tokens. */
  #pending: StoredConnection | undefined;
  #down = false;
  /** Refreshes of this process go one at a time before they contend for the Redis lock. */
  #local: Promise<unknown> = Promise.resolve();

  constructor(
    options: RedisTokenStoreOptions,
    client: RedisCommandClient,
    owned: { close(): Promise<unknown> } | undefined,
  ) {
    const prefix = options.prefix ?? "klaviyo:oauth:";
    this.keys = { tokens: `${prefix}{${options.key}}:tokens`, lock: `${prefix}{${options.key}}:lock` };
    this.#client = client;
    this.#owned = owned;
    this.#key = encryptionKeyFrom(options.encryptionKey);
    this.#lockTtlMs = positive("lockTtlMs", options.lockTtlMs ?? 15_000);
    this.#waitMs = positive("waitMs", options.waitMs ?? 20_000);
    this.#pollMs = positive("pollMs", options.pollMs ?? 50);
    this.#timeoutMs = positive("commandTimeoutMs", options.commandTimeoutMs ?? 2_000);
    this.#log = options.logger ?? ((message) => console.warn(message));
  }

  get available(): boolean {
    return !this.#down;
  }

  /** Marks Redis unreachable; logs once per outage. Never says more than the error's kind. */
  noteDown(error: unknown): void {
    if (this.#down) return;
    this.#down = true;
    const kind = error instanceof Error ? error.name || "Error" : "error";
    this.#log(
      `Redis unavailable (${kind}): OAuth tokens for ${this.keys.tokens} are kept and refreshed in this process until it returns`,
    );
  }

  #noteUp(): void {
    if (!this.#down) return;
    this.#down = false;
    this.#log(`Redis is back: OAuth tokens for ${this.keys.tokens} are shared again`);
  }

  async #command(args: string[]): Promise<unknown> {
    if (this.#client.isReady === false) {
      const error = new Unavailable("offline");
      error.name = "ClientOfflineError";
      this.noteDown(error);
      throw error;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const reply = await Promise.race([
        this.#client.sendCommand(args),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const error = new Unavailable("timeout");
            error.name = "TimeoutError";
            reject(error);
          }, this.#timeoutMs);
        }),
      ]);
      this.#noteUp();
      return reply;
    } catch (error) {
      this.noteDown(error);
      throw error instanceof Unavailable ? error : new Unavailable("command failed", { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  #seal(connection: StoredConnection): string {
    return encrypt(JSON.stringify(connection), this.#key, this.keys.tokens);
  }

  #open(raw: string): StoredConnection {
    let value: unknown;
    try {
      value = JSON.parse(decrypt(raw, this.#key, this.keys.tokens));
    } catch (error) {
      if (!(error instanceof EncryptionError) && !(error instanceof SyntaxError)) throw error;
      throw new OAuthError(
        "token_decrypt_failed",
        `OAuth: the tokens stored in Redis (${this.keys.tokens}) cannot be decrypted: a different encryption key ` +
          "(KLAVIYO_TOKEN_ENCRYPTION_KEY) from the one they were saved with, or an altered value; use that key, or log in again",
      );
    }
    if (!isConnection(value))
      throw new OAuthError(
        "invalid_token_store",
        `OAuth: the value stored in Redis (${this.keys.tokens}) is not an OAuth connection; log in again`,
      );
    return value;
  }

  /** The value stored now. */
  async #read(): Promise<Stored> {
    const reply = await this.#command(["GET", this.keys.tokens]);
    const raw = typeof reply === "string" ? reply : null;
    return { raw, connection: raw === null || raw === CLEARED ? undefined : this.#open(raw) };
  }

  async load(): Promise<StoredConnection | undefined> {
    let read: Stored;
    try {
      read = await this.#read();
    } catch (error) {
      if (!(error instanceof Unavailable)) throw error;
      const local = this.#pending ?? this.#last;
      if (local) return structuredClone(local);
      throw new OAuthError(
        "token_store_unavailable",
        "OAuth: Redis (the token store) is unreachable and this process has no tokens yet; try again when it is back",
      );
    }
    if (read.raw === CLEARED) {
      this.#last = undefined;
      this.#pending = undefined;
      return undefined;
    }
    // Ours are newer (refreshed while Redis was unreachable) or Redis lost them (restarted without persistence):
    // put ours back, unless another worker wrote meanwhile.
    const local = this.#pending ?? (read.raw === null ? this.#last : undefined);
    this.#pending = undefined;
    if (local && (!read.connection || read.connection.tokens.expiresAt < local.tokens.expiresAt)) {
      try {
        const written = await this.#command([
          "EVAL",
          COMPARE_AND_SET,
          "1",
          this.keys.tokens,
          read.raw ?? "",
          this.#seal(local),
        ]);
        if (Number(written) === 1) {
          this.#last = local;
          return structuredClone(local);
        }
        read = await this.#read();
      } catch (error) {
        if (!(error instanceof Unavailable)) throw error;
        this.#pending = local;
        return structuredClone(local);
      }
    }
    this.#last = read.connection;
    return read.connection && structuredClone(read.connection);
  }

  async save(connection: StoredConnection): Promise<void> {
    const copy = structuredClone(connection);
    this.#last = copy;
    try {
      await this.#command(["SET", this.keys.tokens, this.#seal(copy)]);
      this.#pending = undefined;
    } catch (error) {
      if (!(error instanceof Unavailable)) throw error;
      this.#pending = copy;
    }
  }

  async clear(): Promise<void> {
    this.#last = undefined;
    this.#pending = undefined;
    try {
      await this.#command(["SET", this.keys.tokens, CLEARED]);
    } catch (error) {
      if (!(error instanceof Unavailable)) throw error;
      throw new OAuthError(
        "token_store_unavailable",
        "OAuth: Redis (the token store) is unreachable: the stored tokens could not be removed",
      );
    }
  }

  withRefreshLock<T>(
    work: (current: StoredConnection | undefined) => Promise<T>,
    adopt?: (current: StoredConnection) => T | undefined,
  ): Promise<T> {
    const run = this.#local.then(() => this.#withLock(work, adopt));
    this.#local = run.catch(() => undefined);
    return run;
  }

  async #withLock<T>(
    work: (current: StoredConnection | undefined) => Promise<T>,
    adopt?: (current: StoredConnection) => T | undefined,
  ): Promise<T> {
    const token = randomBytes(16).toString("hex");
    const deadline = Date.now() + this.#waitMs;
    let seen: string | null | undefined;
    for (;;) {
      let reply: unknown;
      try {
        reply = await this.#command([
          "EVAL",
          ACQUIRE,
          "2",
          this.keys.lock,
          this.keys.tokens,
          token,
          String(this.#lockTtlMs),
        ]);
      } catch (error) {
        if (!(error instanceof Unavailable)) throw error;
        // No lock to be had: refresh here, with what this process holds.
        const local = this.#pending ?? this.#last;
        return work(local && structuredClone(local));
      }
      const [acquired, value] = Array.isArray(reply) ? reply : [];
      if (Number(acquired) === 1) return this.#holding(token, async () => work(await this.load()));
      const raw = typeof value === "string" ? value : null;
      if (adopt && raw !== seen) {
        seen = raw;
        const current = raw === null || raw === CLEARED ? undefined : this.#open(raw);
        const adopted = current && adopt(structuredClone(current));
        if (adopted !== undefined) {
          this.#last = current;
          return adopted;
        }
      }
      if (Date.now() >= deadline)
        throw new OAuthError(
          "refresh_lock_timeout",
          `OAuth: waited ${this.#waitMs} ms for another worker to refresh the tokens (${this.keys.lock}); try again`,
        );
      await sleep(this.#pollMs * (0.5 + Math.random()));
    }
  }

  /** Runs `fn` holding the lock: extends it while `fn` runs, releases it after (if it is still ours). */
  async #holding<T>(token: string, fn: () => Promise<T>): Promise<T> {
    const extend = setInterval(
      () => {
        this.#command(["EVAL", EXTEND, "1", this.keys.lock, token, String(this.#lockTtlMs)]).catch(
          () => undefined,
        );
      },
      Math.max(1, Math.floor(this.#lockTtlMs / 3)),
    );
    extend.unref();
    try {
      return await fn();
    } finally {
      clearInterval(extend);
      await this.#command(["EVAL", RELEASE, "1", this.keys.lock, token]).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const owned = this.#owned;
    if (owned)
      await Promise.resolve()
        .then(() => owned.close())
        .catch(() => undefined);
  }
}

function checkKey(key: unknown): string {
  if (typeof key !== "string" || !/^[^\s{}]{1,200}$/.test(key))
    throw new TypeError(
      "The Redis token store needs a `key` (the app and account, for instance): 1 to 200 characters, no spaces or braces",
    );
  return key;
}

/**
 * A `TokenStore` in Redis, for many workers of one app installation. Give `url` (the store creates, connects
 * and owns a `@redis/client` client; that package must be installed) or your own connected `client`. Waits up to
 * `commandTimeoutMs` for a first connection; if Redis is not there yet it keeps trying in the background.
 */
export async function createRedisTokenStore(options: RedisTokenStoreOptions): Promise<RedisTokenStore> {
  checkKey(options.key);
  // The key is checked before anything connects, so a wrong one is reported at once.
  encryptionKeyFrom(options.encryptionKey);
  if (options.client) return new RedisTokenStoreImpl(options, options.client, undefined);
  if (!options.url) throw new TypeError("The Redis token store needs a `url` (redis://…) or a `client`");
  let createClient: typeof import("@redis/client").createClient;
  try {
    ({ createClient } = await import("@redis/client"));
  } catch {
    throw new Error("The Redis token store needs the @redis/client package: npm install @redis/client");
  }
  const client = createClient({
    url: options.url,
    // Commands fail at once while disconnected (the store answers locally) instead of waiting in a queue.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: options.commandTimeoutMs ?? 2_000,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1_000),
    },
  });
  const store = new RedisTokenStoreImpl(options, client, client);
  // Without a listener an 'error' event would end the process.
  client.on("error", (error: unknown) => store.noteDown(error));
  const connected = client.connect().then(
    () => true,
    () => false,
  );
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    connected,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, options.commandTimeoutMs ?? 2_000);
    }),
  ]);
  clearTimeout(timer);
  return store;
}
