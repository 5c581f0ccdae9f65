/**
 * Rate limits counted in Redis, handed to a client explicitly: `new KlaviyoClient({ rateLimiter:
 * redisRateLimiter(url) })`. The library never reaches for Redis by itself; the CLI builds this from
 * `KLAVIYO_REDIS_URL`. The store is made on the first request (it needs the optional package `@redis/client`);
 * until it has connected (at most a second) or when it cannot, requests are counted in the process, so nothing
 * waits on Redis and nothing fails for it.
 */
import { RateLimiter } from "../core/rate-limit.js";
import { InMemoryRateLimitStore, type RateLimitKey, type RateLimitStore } from "../core/rate-store.js";
import type { WindowSpec } from "../klaviyo/rate-window.js";
import { createRedisRateLimitStore } from "./rate-store.js";

interface Closable extends RateLimitStore {
  close(): Promise<void>;
}

/** A Redis store made on first use; the process's own counts stand in when it cannot be made. */
class LazyRedisStore implements RateLimitStore {
  readonly synchronous = false;
  #store: RateLimitStore | undefined;
  #ready: Promise<RateLimitStore> | undefined;

  constructor(
    private readonly url: string,
    private readonly log: (message: string) => void,
  ) {}

  private ready(): Promise<RateLimitStore> {
    this.#ready ??= createRedisRateLimitStore({ url: this.url, logger: this.log })
      .catch((error: unknown): RateLimitStore => {
        this.log(
          `No Redis store could be made (${error instanceof Error ? error.message : String(error)}): limiting locally`,
        );
        return new InMemoryRateLimitStore();
      })
      .then((store) => {
        this.#store = store;
        return store;
      });
    return this.#ready;
  }

  async take(
    key: RateLimitKey,
    windows: readonly WindowSpec[],
    guardMs: number,
    now: number,
  ): Promise<number> {
    if (this.#store) return this.#store.take(key, windows, guardMs, now);
    const asked = Date.now();
    const store = await this.ready();
    // The first request waited for the connection: its time moved on as much.
    return store.take(key, windows, guardMs, now + (Date.now() - asked));
  }

  block(key: RateLimitKey, until: number, now: number): void | Promise<void> {
    if (this.#store) return this.#store.block(key, until, now);
    return this.ready().then((store) => store.block(key, until, now));
  }

  async close(): Promise<void> {
    if (!this.#ready) return;
    const store = (await this.#ready) as Partial<Closable>;
    this.#ready = undefined;
    this.#store = undefined;
    await store.close?.();
  }
}

const stores = new Map<string, LazyRedisStore>();
const limiters = new Map<string, RateLimiter>();

/** The process's one store for a Redis URL (every limiter of the process on that URL shares its connection). */
export function redisStoreFor(url: string, log = (message: string) => console.warn(message)): RateLimitStore {
  let store = stores.get(url);
  if (!store) {
    store = new LazyRedisStore(url, log);
    stores.set(url, store);
  }
  return store;
}

/** The process's limiter counting in the Redis at `url` (one per URL), for a client's `rateLimiter` option. */
export function redisRateLimiter(url: string): RateLimiter {
  let limiter = limiters.get(url);
  if (!limiter) {
    limiter = new RateLimiter({ store: redisStoreFor(url) });
    limiters.set(url, limiter);
  }
  return limiter;
}

const closables: Array<() => Promise<void>> = [];

/** Something else holding a Redis connection for the process (the CLI's token store), closed with the rest. */
export function registerClosable(close: () => Promise<void>): void {
  closables.push(close);
}

/** Closes the process's Redis connections (the CLI does at the end of a command, so the process can exit). */
export async function closeSharedStores(): Promise<void> {
  const all = [...stores.values()];
  stores.clear();
  limiters.clear();
  const others = closables.splice(0);
  await Promise.all([...all.map((s) => s.close()), ...others.map((close) => close())]);
}
