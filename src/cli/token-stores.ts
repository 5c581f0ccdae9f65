/**
 * Where the CLI keeps its OAuth login: the file `klaviyo auth login` writes (readable by its owner only), and, with
 * `KLAVIYO_REDIS_URL` and `KLAVIYO_TOKEN_ENCRYPTION_KEY` set, Redis first: encrypted with that key, shared by every
 * process and machine that has both, with one refresh per expiry across all of them (docs/DEPLOYMENT.md). The file
 * is kept in step, so a later command without Redis still finds the login.
 */
import { join } from "node:path";
import { configDir, FileTokenStore, type StoredConnection, type TokenStore } from "../auth/token-store.js";
import { registerClosable } from "../redis/shared.js";
import type { RedisTokenStore } from "../redis/token-store.js";
import { ENV, envValue, redisUrlFromEnv } from "./env.js";

export const TOKEN_ENCRYPTION_KEY_ENV = ENV.tokenEncryptionKey;
/** The namespace of the CLI's login in Redis (one login per Redis, as one per config directory). */
export const CLI_TOKEN_KEY = "klaviyo-cli";

export class CliTokenStore implements TokenStore {
  /** Present when the login is shared through Redis. */
  withRefreshLock?: TokenStore["withRefreshLock"];
  #redis: Promise<RedisTokenStore> | undefined;

  constructor(
    readonly file: FileTokenStore,
    private readonly redisFactory?: () => Promise<RedisTokenStore>,
  ) {
    if (redisFactory) {
      this.withRefreshLock = async (work, adopt) => (await this.redis()).withRefreshLock(work, adopt);
    }
  }

  /** Whether the login is kept in Redis too. */
  get shared(): boolean {
    return this.redisFactory !== undefined;
  }

  /** Where the login is, for messages: the file, and Redis when shared (never the URL: it may hold a password). */
  get where(): string {
    return this.shared ? `${this.file.path} and Redis (${CLI_TOKEN_KEY})` : this.file.path;
  }

  private redis(): Promise<RedisTokenStore> {
    if (!this.redisFactory) throw new Error("internal: no Redis token store");
    this.#redis ??= this.redisFactory().then((store) => {
      registerClosable(() => store.close());
      return store;
    });
    return this.#redis;
  }

  async load(): Promise<StoredConnection | undefined> {
    if (!this.shared) return this.file.load();
    const shared = await (await this.redis()).load();
    if (shared) return shared;
    // A login made before Redis was configured: shared from now on.
    const local = await this.file.load();
    if (local) await (await this.redis()).save(local);
    return local;
  }

  async save(connection: StoredConnection): Promise<void> {
    if (this.shared) await (await this.redis()).save(connection);
    await this.file.save(connection);
  }

  async clear(): Promise<void> {
    if (this.shared) await (await this.redis()).clear();
    await this.file.clear();
  }
}

/** The CLI's token store for this environment (see the module's comment). */
export function cliTokenStore(env: NodeJS.ProcessEnv = process.env): CliTokenStore {
  const file = new FileTokenStore(join(configDir(env), "oauth.json"));
  const url = redisUrlFromEnv(env);
  const key = envValue(ENV.tokenEncryptionKey, env);
  if (!url || !key) return new CliTokenStore(file);
  return new CliTokenStore(file, async () => {
    const { createRedisTokenStore } = await import("../redis/token-store.js");
    return createRedisTokenStore({ url, key: CLI_TOKEN_KEY, encryptionKey: key });
  });
}
