import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { authorizeUrl } from "../../src/auth/oauth.js";
import { challengeOf, createVerifier, randomState } from "../../src/auth/pkce.js";
import {
  configDir,
  FileTokenStore,
  MemoryTokenStore,
  type StoredConnection,
} from "../../src/auth/token-store.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const connection: StoredConnection = {
  tokens: {
    accessToken: "at-1",
    refreshToken: "rt-1",
    expiresAt: 1_900_000_000_000,
    scope: "accounts:read",
    tokenType: "Bearer",
  },
  clientId: "client-1",
  clientSecret: "secret-1",
};

describe("PKCE", () => {
  it("verifiers are 43 base64url characters and each is new", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const v = createVerifier();
      expect(v).toMatch(/^[A-Za-z0-9_-]{43}$/);
      seen.add(v);
    }
    expect(seen.size).toBe(200);
    expect(randomState()).not.toBe(randomState());
  });
  it("the S256 challenge is base64url(SHA-256(verifier)) without padding, for any verifier", () => {
    // RFC 7636 appendix B's example.
    expect(challengeOf("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe(
      "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    );
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9._~-]{43,128}$/), (v) => {
        const expected = createHash("sha256")
          .update(v)
          .digest("base64")
          .replace(/\+/g, "-")
          .replace(/\//g, "_")
          .replace(/=+$/, "");
        return challengeOf(v) === expected;
      }),
    );
  });
  it("the authorize URL carries every parameter Klaviyo requires, with space-separated scopes", () => {
    const { url, verifier, state } = authorizeUrl({
      clientId: "cid",
      clientSecret: "s",
      redirectUri: "http://127.0.0.1:8765/callback",
      scopes: "accounts:read lists:read",
    });
    const u = new URL(url);
    expect(u.origin + u.pathname).toBe("https://www.klaviyo.com/oauth/authorize");
    expect(Object.fromEntries(u.searchParams)).toEqual({
      response_type: "code",
      client_id: "cid",
      redirect_uri: "http://127.0.0.1:8765/callback",
      scope: "accounts:read lists:read",
      state,
      code_challenge: challengeOf(verifier),
      code_challenge_method: "S256",
    });
    expect(url).not.toContain("secret");
  });
});

describe("token stores", () => {
  it("the file store writes mode 0600 in a 0700 directory, atomically, and reads back", async () => {
    const dir = mkdtempSync(join(tmpdir(), "klaviyo-tokens-"));
    dirs.push(dir);
    const path = join(dir, "nested", "oauth.json");
    const store = new FileTokenStore(path);
    expect(await store.load()).toBeUndefined();
    await store.save(connection);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "nested")).mode & 0o777).toBe(0o700);
    expect(readdirSync(join(dir, "nested"))).toEqual(["oauth.json"]);
    expect(await store.load()).toEqual(connection);
    await store.save({ ...connection, tokens: { ...connection.tokens, accessToken: "at-2" } });
    expect((await store.load())?.tokens.accessToken).toBe("at-2");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await store.clear();
    expect(existsSync(path)).toBe(false);
  });
  it("the memory store hands out copies", async () => {
    const store = new MemoryTokenStore(connection);
    const loaded = await store.load();
    if (loaded) loaded.tokens.accessToken = "changed";
    expect((await store.load())?.tokens.accessToken).toBe("at-1");
  });
  it("every store saves a connection with an app spread into it (its fetch too), keeping its data", async () => {
    const dir = mkdtempSync(join(tmpdir(), "klaviyo-tokens-"));
    dirs.push(dir);
    const app = {
      clientId: connection.clientId,
      clientSecret: connection.clientSecret,
      fetch: globalThis.fetch,
    };
    for (const store of [new MemoryTokenStore(), new FileTokenStore(join(dir, "oauth.json"))]) {
      await store.save({ tokens: connection.tokens, ...app });
      expect(await store.load()).toEqual({
        tokens: connection.tokens,
        clientId: app.clientId,
        clientSecret: app.clientSecret,
      });
    }
  });
  it("the default directory follows KLAVIYO_CONFIG_DIR, then XDG_CONFIG_HOME", () => {
    expect(configDir({ KLAVIYO_CONFIG_DIR: "/x/y" })).toBe("/x/y");
    expect(configDir({ XDG_CONFIG_HOME: "/cfg" })).toBe("/cfg/klaviyo-connector");
  });
});
