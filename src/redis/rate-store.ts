/**
 * The rate-limit store shared through Redis: every worker of an account counts in the same fixed windows, so
 * together they stay within Klaviyo's limits, and one worker's 429 (`Retry-After`) holds all of them back.
 *
 * The whole check-and-count is one Lua script, atomic on the server. When Redis cannot be reached (or answers too
 * slowly), the store counts in the process instead, says so once, and goes back to Redis when it answers again:
 * `take` and `block` never throw.
 *
 * `@redis/client` is an optional peer dependency: it is loaded only here, when a store is made from a URL.
 */
import { createHash } from "node:crypto";
import { InMemoryRateLimitStore, type RateLimitKey, type RateLimitStore } from "../core/rate-store.js";
import { type WindowSpec, windowStart } from "../klaviyo/rate-window.js";

/** What the store needs of a Redis client (`@redis/client`'s has it). */
export interface RedisCommandClient {
  sendCommand(args: string[]): Promise<unknown>;
}

type Listener = (...args: unknown[]) => void;
interface Emitter {
  on(event: string, listener: Listener): unknown;
  off?(event: string, listener: Listener): unknown;
}

export interface RedisRateLimitStoreOptions {
  /** `redis://…` or `rediss://…`; the store makes (and on `close()` quits) its own client. */
  url?: string;
  /** An already-made client instead of `url` (connected by its owner, who also quits it). */
  client?: RedisCommandClient;
  /** Prefix of every key (default `klaviyo:rl:`). */
  prefix?: string;
  /** Where the two state changes are told (Redis gone, Redis back). Default `console.warn`. */
  logger?: (message: string) => void;
  /** A command not answered within this long (ms) counts as Redis being unavailable (default 250). */
  commandTimeoutMs?: number;
  /** While Redis is unavailable, how often (ms) it is tried again (default 1000). */
  retryIntervalMs?: number;
  /** How long (ms) `createRedisRateLimitStore` waits for its first connection before starting locally (default 1000). */
  connectTimeoutMs?: number;
}

export interface RedisRateLimitStore extends RateLimitStore {
  /** False while Redis is unavailable and requests are counted in this process. */
  readonly usingRedis: boolean;
  /** Stops retrying and quits the client if the store made it. */
  close(): Promise<void>;
}

export const UNAVAILABLE_MESSAGE = "Redis unavailable: limiting locally until it returns";
export const BACK_MESSAGE = "Redis is back: limiting through it again";

/**
 * KEYS[1]: the block key; then per window i (from 0), KEYS[2+2i] its counter for the current window and
 * KEYS[3+2i] for the next one. ARGV: now, guardMs, then per window: limit, length, start.
 * A counter holds every request that counts in its window: those sent in it, and those sent in the guard band
 * at the end of the window before (they may arrive in it). Answers 0 after counting, or the wait in ms (>= 1).
 */
const TAKE_SCRIPT = `
local now = tonumber(ARGV[1])
local guard = tonumber(ARGV[2])
local n = (#ARGV - 2) / 3
local wait = tonumber(redis.call('GET', KEYS[1]) or '0') - now
for i = 0, n - 1 do
  local limit = tonumber(ARGV[3 + 3 * i])
  local left = tonumber(ARGV[5 + 3 * i]) + tonumber(ARGV[4 + 3 * i]) - now
  local full = tonumber(redis.call('GET', KEYS[2 + 2 * i]) or '0') >= limit
  if not full and guard > 0 and left <= guard then
    full = tonumber(redis.call('GET', KEYS[3 + 2 * i]) or '0') >= limit
  end
  if full and left > wait then wait = left end
end
if wait > 0 then return math.max(1, math.ceil(wait)) end
for i = 0, n - 1 do
  local len = tonumber(ARGV[4 + 3 * i])
  local left = tonumber(ARGV[5 + 3 * i]) + len - now
  redis.call('INCR', KEYS[2 + 2 * i])
  redis.call('PEXPIRE', KEYS[2 + 2 * i], math.ceil(left + len))
  if guard > 0 and left <= guard then
    redis.call('INCR', KEYS[3 + 2 * i])
    redis.call('PEXPIRE', KEYS[3 + 2 * i], math.ceil(left + 2 * len))
  end
end
return 0
`;

/** KEYS[1]: the block key. ARGV: until, ttl (ms). Keeps the later of the two blocks. */
const BLOCK_SCRIPT = `
if tonumber(ARGV[1]) > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 0
`;

interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash("sha1").update(source).digest("hex") };
}

const TAKE = script(TAKE_SCRIPT);
const BLOCK = script(BLOCK_SCRIPT);

/** A reason short enough for one log line, with anything that looks like URL credentials masked. */
function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\/\/[^@/\s]*@/g, "//***@").slice(0, 200);
}

class SharedStore implements RedisRateLimitStore {
  readonly synchronous = false;
  private readonly local = new InMemoryRateLimitStore();
  private up = true;
  private closed = false;
  private retryTimer: ReturnType<typeof setInterval> | undefined;
  private probing = false;
  private readonly onError: Listener = (error) => this.down(error);
  private readonly onReady: Listener = () => {
    if (!this.up) void this.probe();
  };

  constructor(
    private readonly client: RedisCommandClient,
    private readonly prefix: string,
    private readonly log: (message: string) => void,
    private readonly timeoutMs: number,
    private readonly retryMs: number,
    private readonly quit: (() => Promise<void>) | undefined,
  ) {
    const emitter = client as Partial<Emitter>;
    if (typeof emitter.on === "function") {
      emitter.on("error", this.onError);
      emitter.on("ready", this.onReady);
    }
  }

  get usingRedis(): boolean {
    return this.up && !this.closed;
  }

  private base(key: RateLimitKey): string {
    // One hash tag per (credential, tier): its keys stay on one Redis Cluster slot, as a script needs.
    return `${this.prefix}{${key.credential}:${key.tier}}`;
  }

  async take(
    key: RateLimitKey,
    windows: readonly WindowSpec[],
    guardMs: number,
    now: number,
  ): Promise<number> {
    if (this.usingRedis) {
      try {
        const base = this.base(key);
        const keys = [`${base}:block`];
        const args = [String(now), String(guardMs)];
        for (const w of windows) {
          const start = windowStart(now, w.lengthMs);
          keys.push(`${base}:${w.lengthMs}:${start}`, `${base}:${w.lengthMs}:${start + w.lengthMs}`);
          args.push(String(w.limit), String(w.lengthMs), String(start));
        }
        const wait = Number(await this.eval(TAKE, keys, args));
        if (!Number.isFinite(wait))
          throw new Error("the rate-limit script answered something other than a number");
        return wait;
      } catch (error) {
        this.down(error);
      }
    }
    return this.local.take(key, windows, guardMs, now);
  }

  async block(key: RateLimitKey, until: number, now: number): Promise<void> {
    // Kept here too, so that the server's word still holds if Redis goes away.
    this.local.block(key, until);
    if (!this.usingRedis) return;
    try {
      const ttl = Math.max(1, Math.ceil(until - now)) + 1000;
      await this.eval(BLOCK, [`${this.base(key)}:block`], [String(until), String(ttl)]);
    } catch (error) {
      this.down(error);
    }
  }

  /** EVALSHA, and EVAL when the server does not have the script yet (first use, or a restarted server). */
  private async eval(s: Script, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await this.command(["EVALSHA", s.sha, String(keys.length), ...keys, ...args]);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return await this.command(["EVAL", s.source, String(keys.length), ...keys, ...args]);
    }
  }

  /** One command, or a rejection once `timeoutMs` has passed without an answer. */
  private command(args: string[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no answer within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      let sent: Promise<unknown>;
      try {
        sent = this.client.sendCommand(args);
      } catch (error) {
        clearTimeout(timer);
        reject(error);
        return;
      }
      sent.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  /** Counting moves to the process, said once; Redis is tried again every `retryMs` until it answers. */
  down(error: unknown): void {
    if (!this.up || this.closed) return;
    this.up = false;
    this.log(`${UNAVAILABLE_MESSAGE} (${reasonOf(error)})`);
    this.retryTimer = setInterval(() => void this.probe(), this.retryMs);
    this.retryTimer.unref?.();
  }

  private async probe(): Promise<void> {
    if (this.up || this.closed || this.probing) return;
    this.probing = true;
    try {
      // The script itself, not a PING: a server that answers but refuses scripts (ACL, out of memory) stays
      // "unavailable" instead of flapping back every second. `until` 0 writes nothing.
      await this.eval(BLOCK, [`${this.prefix}probe`], ["0", "1"]);
    } catch {
      return;
    } finally {
      this.probing = false;
    }
    if (this.up || this.closed) return;
    this.up = true;
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    this.log(BACK_MESSAGE);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.retryTimer);
    const emitter = this.client as Partial<Emitter>;
    emitter.off?.("ready", this.onReady);
    if (!this.quit) emitter.off?.("error", this.onError);
    // The store's own client keeps its error listener: a late socket error must not crash the process.
    await this.quit?.();
  }
}

/**
 * A rate-limit store in Redis, for `new RateLimiter({ store })` (or a client's `rateLimiter`), shared by every
 * process that uses the same Redis and prefix. From `url`, it loads `@redis/client` and makes its own client
 * (no offline queue, reconnecting with backoff); or it uses `client` as given. Resolves even when Redis cannot be
 * reached yet: it then counts locally until Redis answers.
 */
export async function createRedisRateLimitStore(
  options: RedisRateLimitStoreOptions = {},
): Promise<RedisRateLimitStore> {
  const prefix = options.prefix ?? "klaviyo:rl:";
  const log = options.logger ?? ((message: string) => console.warn(message));
  const timeoutMs = options.commandTimeoutMs ?? 250;
  const retryMs = options.retryIntervalMs ?? 1000;
  if (options.client) return new SharedStore(options.client, prefix, log, timeoutMs, retryMs, undefined);
  if (!options.url) throw new TypeError("createRedisRateLimitStore needs a url or a client");

  let redis: typeof import("@redis/client");
  try {
    redis = await import("@redis/client");
  } catch (cause) {
    throw new Error("A Redis store needs the optional package @redis/client (npm install @redis/client)", {
      cause,
    });
  }
  const client = redis.createClient({
    url: options.url,
    // While disconnected, commands fail at once (and the store counts locally) instead of queueing forever.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: Math.max(timeoutMs, 1000),
      reconnectStrategy: (retries: number) =>
        Math.min(50 * 2 ** retries, retryMs) + Math.floor(Math.random() * 50),
    },
  });
  const quit = async () => {
    try {
      if (client.isReady) await client.close();
      else client.destroy();
    } catch {
      client.destroy();
    }
  };
  const store = new SharedStore(client, prefix, log, timeoutMs, retryMs, quit);
  const connected = client.connect().then(
    () => true,
    () => false,
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const waited = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), options.connectTimeoutMs ?? 1000);
  });
  const ready = await Promise.race([connected, waited]);
  clearTimeout(timer);
  // Not connected yet: the first command would fail at once anyway; say it now, and keep trying.
  if (!ready) store.down(new Error(`no connection within ${options.connectTimeoutMs ?? 1000} ms`));
  return store;
}
