/**
 * The CLI's OAuth login shared through Redis (KLAVIYO_REDIS_URL + KLAVIYO_TOKEN_ENCRYPTION_KEY): a login stored
 * there (as `klaviyo auth login` stores it), then six CLI processes, each with an empty config directory (no token
 * file), started at once after the access token expired: all succeed, and the token endpoint is called exactly once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_TOKEN_KEY } from "../../src/cli/token-stores.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { createRedisTokenStore } from "../../src/redis/token-store.js";
import { requireBuild, runCli } from "../helpers/cli.js";
import { redisAvailable, startRedis, type TestRedis } from "../helpers/redis.js";

const CLIENT_ID = "cli-shared-app";
const SECRET = "cs_cli_shared_secret_0123456789abcdef";
const ENCRYPTION_KEY = Buffer.alloc(32, 7).toString("base64");

describe.skipIf(!redisAvailable())("the CLI's OAuth login shared through Redis", () => {
  let redis: TestRedis;
  let emulator: RunningEmulator;
  const dirs: string[] = [];
  beforeAll(async () => {
    requireBuild();
    redis = await startRedis();
    emulator = await startEmulator({
      rateLimits: "off",
      oauthClients: [
        { clientId: CLIENT_ID, clientSecret: SECRET, redirectUris: ["http://127.0.0.1:1/callback"] },
      ],
    });
  });
  afterAll(async () => {
    await emulator?.close();
    await redis?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("six processes with an expired token: one refresh, all succeed; status says it is shared", async () => {
    const issued = emulator.emulator.oauth.issueTokens(CLIENT_ID, ["accounts:read", "lists:read"]);
    const store = await createRedisTokenStore({
      url: redis.url,
      key: CLI_TOKEN_KEY,
      encryptionKey: ENCRYPTION_KEY,
    });
    await store.save({
      tokens: {
        accessToken: issued.access_token,
        refreshToken: issued.refresh_token,
        // Expired for the client too, so every process wants a refresh before its first request.
        expiresAt: Date.now() - 1000,
        scope: issued.scope,
        tokenType: "Bearer",
      },
      clientId: CLIENT_ID,
      clientSecret: SECRET,
      tokenUrl: `${emulator.url}/oauth/token`,
      baseUrl: emulator.url,
    });
    await store.close();
    emulator.emulator.oauth.expireAccessTokens();
    const before = emulator.emulator.oauth.tokenRequests.refresh_token;
    const env = () => {
      const dir = mkdtempSync(join(tmpdir(), "klaviyo-cli-shared-"));
      dirs.push(dir);
      return {
        KLAVIYO_CONFIG_DIR: dir,
        KLAVIYO_BASE_URL: emulator.url,
        KLAVIYO_REDIS_URL: redis.url,
        KLAVIYO_TOKEN_ENCRYPTION_KEY: ENCRYPTION_KEY,
      };
    };
    const results = await Promise.all(
      Array.from({ length: 6 }, () => runCli(["run", "list-accounts"], env())),
    );
    for (const result of results) {
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect((JSON.parse(result.stdout) as { data: Array<{ id: string }> }).data[0]?.id).toBe("XqT4Lm");
    }
    expect(emulator.emulator.oauth.tokenRequests.refresh_token - before).toBe(1);

    const status = await runCli(["auth", "status"], env());
    expect(status.code).toBe(0);
    const shown = JSON.parse(status.stdout) as { sharedThroughRedis?: boolean; accessTokenExpired: boolean };
    expect(shown.sharedThroughRedis).toBe(true);
    expect(shown.accessTokenExpired).toBe(false);
    expect(status.stdout).not.toContain(SECRET);
  }, 60_000);
});
