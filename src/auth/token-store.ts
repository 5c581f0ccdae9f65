import { builtins } from "../core/builtins.js";
import { OAuthError } from "../core/errors.js";
import type { TokenSet } from "./oauth.js";

/** What an OAuth connection keeps between runs: the tokens, the app they belong to, and where to refresh them. */
export interface StoredConnection {
  tokens: TokenSet;
  clientId: string;
  /** Kept beside the tokens (in a file only its owner can read) so later commands can refresh. */
  clientSecret: string;
  tokenUrl?: string;
  revokeUrl?: string;
  /** The API base URL the login was made for. */
  baseUrl?: string;
  account?: { id: string; name?: string };
}

/** Where tokens are loaded from and saved to. */
export interface TokenStore {
  load(): Promise<StoredConnection | undefined>;
  save(connection: StoredConnection): Promise<void>;
  clear(): Promise<void>;
  /**
   * Optional, for a store shared by several processes: one token refresh at a time across all of them.
   * `work` runs holding the store's lock and is given the connection stored now (re-read under the lock); it
   * refreshes and saves, or takes tokens another process has just saved. While waiting for the lock, each time
   * the stored connection changes `adopt` (when given) is asked first: a value other than `undefined` ends the
   * wait with it, without the lock and without `work`. A store without this method: each process refreshes
   * on its own (the OAuth strategy is single-flight within its process either way).
   */
  withRefreshLock?<T>(
    work: (current: StoredConnection | undefined) => Promise<T>,
    adopt?: (current: StoredConnection) => T | undefined,
  ): Promise<T>;
}

/**
 * What a store keeps of a connection: its data as JSON holds it, as a file or Redis would. Functions and other
 * values JSON cannot carry (an app's `fetch`, given by spreading the app into the connection) are left out rather
 * than failing the save.
 */
export function storable(connection: StoredConnection): StoredConnection {
  return JSON.parse(JSON.stringify(connection)) as StoredConnection;
}

/** Tokens in memory only (a platform that keeps them elsewhere, tests); kept as a file store would keep them. */
export class MemoryTokenStore implements TokenStore {
  private value: StoredConnection | undefined;
  constructor(value?: StoredConnection) {
    this.value = value ? storable(value) : undefined;
  }
  async load(): Promise<StoredConnection | undefined> {
    return this.value ? structuredClone(this.value) : undefined;
  }
  async save(connection: StoredConnection): Promise<void> {
    this.value = storable(connection);
  }
  async clear(): Promise<void> {
    this.value = undefined;
  }
}

/** The user's config directory for this connector: $KLAVIYO_CONFIG_DIR, else XDG / APPDATA / ~/.config. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KLAVIYO_CONFIG_DIR) return env.KLAVIYO_CONFIG_DIR;
  if (process.platform === "win32" && env.APPDATA)
    return builtins.path.join(env.APPDATA, "klaviyo-connector");
  return builtins.path.join(
    env.XDG_CONFIG_HOME || builtins.path.join(builtins.os.homedir(), ".config"),
    "klaviyo-connector",
  );
}

/**
 * Tokens in a JSON file readable by its owner only (mode 0600, in a 0700 directory), written atomically: to a
 * temporary file beside it, then renamed over it, so a crash never leaves half a file.
 */
export class FileTokenStore implements TokenStore {
  constructor(readonly path: string = builtins.path.join(configDir(), "oauth.json")) {}

  async load(): Promise<StoredConnection | undefined> {
    let text: string;
    try {
      text = builtins.fs.readFileSync(this.path, "utf8");
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return undefined;
      throw error;
    }
    try {
      return JSON.parse(text) as StoredConnection;
    } catch (error) {
      // Not JSON.parse's message: it quotes the text around the fault, which may be part of a token.
      const at = /position \d+/.exec((error as Error).message)?.[0];
      throw new OAuthError(
        "invalid_token_file",
        `OAuth: ${this.path} is not valid JSON${at ? ` (at ${at})` : ""}; log in again (klaviyo auth login)`,
      );
    }
  }

  async save(connection: StoredConnection): Promise<void> {
    builtins.fs.mkdirSync(builtins.path.dirname(this.path), { recursive: true, mode: 0o700 });
    // A fresh name, created exclusively: never a stale or planted file (or symlink) of a predictable name.
    const tmp = `${this.path}.${process.pid}.${builtins.crypto.randomBytes(6).toString("hex")}.tmp`;
    builtins.fs.writeFileSync(tmp, JSON.stringify(connection, null, 2), { mode: 0o600, flag: "wx" });
    builtins.fs.chmodSync(tmp, 0o600);
    builtins.fs.renameSync(tmp, this.path);
  }

  async clear(): Promise<void> {
    builtins.fs.rmSync(this.path, { force: true });
  }
}
