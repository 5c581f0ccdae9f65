/**
 * `KLAVIYO_REDIS_URL` (or the client option `redisUrl`): the rate limits of every client of the process counted in
 * Redis, shared with every other worker of the same accounts. The Redis store is loaded only when asked for (it
 * needs the optional package `@redis/client`), on the first request; until it has connected (at most a second) or
 * when it cannot, requests are counted in the process, so nothing waits on Redis and nothing fails for it.
 */
import { InMemoryRateLimitStore, type RateLimitKey, type RateLimitStore } from "./rate-store.js";
import type { WindowSpec } from "./rate-window.js";

export const REDIS_URL_ENV = "KLAVIYO_REDIS_URL";

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
    this.#ready ??= import("../shared/redis-rate-store.js")
      .then((m) => m.createRedisRateLimitStore({ url: this.url, logger: this.log }))
      .catch((error: unknown) => {
        this.log(
          `${REDIS_URL_ENV} is set, but no Redis store could be made (${error instanceof Error ? error.message : String(error)}): limiting locally`,
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

/** The process's one store for a Redis URL (every limiter of the process on that URL shares its connection). */
export function redisStoreFor(url: string, log = (message: string) => console.warn(message)): RateLimitStore {
  let store = stores.get(url);
  if (!store) {
    store = new LazyRedisStore(url, log);
    stores.set(url, store);
  }
  return store;
}

/** The Redis URL of the environment, if any. */
export function redisUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const url = env[REDIS_URL_ENV]?.trim();
  return url ? url : undefined;
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
  const others = closables.splice(0);
  await Promise.all([...all.map((s) => s.close()), ...others.map((close) => close())]);
}
