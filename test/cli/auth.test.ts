/**
 * The CLI's OAuth login end to end, on real ports: the emulator as Klaviyo, `klaviyo auth login` waiting on its
 * callback, and the browser step played by a plain HTTP client following the redirect. Then an action runs with
 * the stored token, `auth status` shows no secret, `auth logout` revokes and deletes.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authLoginArgs, BIN, requireBuild, runCli, startCliEmulator } from "../helpers/cli.js";
import { closedPort } from "../helpers/servers.js";

const SECRET = "cli-oauth-secret-0123456789abcdef";
let emulator: Awaited<ReturnType<typeof startCliEmulator>>;
let callbackPort: number;
let configDir: string;

beforeAll(async () => {
  requireBuild();
  callbackPort = Number(new URL(await closedPort()).port);
  configDir = mkdtempSync(join(tmpdir(), "klaviyo-cli-auth-"));
  emulator = await startCliEmulator([
    "--oauth-client",
    `cli-app:${SECRET}:http://127.0.0.1:${callbackPort}/callback`,
  ]);
});
afterAll(async () => {
  await emulator.stop();
  rmSync(configDir, { recursive: true, force: true });
});

describe("klaviyo auth", () => {
  it("login, an action with the stored token, status, logout", async () => {
    const env = {
      KLAVIYO_CONFIG_DIR: configDir,
      KLAVIYO_CLIENT_SECRET: SECRET,
      PATH: process.env.PATH ?? "",
    };
    const login = spawn(
      process.execPath,
      [
        BIN,
        "auth",
        "login",
        ...authLoginArgs({
          clientId: "cli-app",
          callbackPort,
          oauthUrl: emulator.url,
          baseUrl: emulator.url,
          scopes: "accounts:read lists:read lists:write",
        }),
      ],
      { env, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    login.stderr.on("data", (d) => {
      stderr += d;
    });
    const authorizeUrl = await new Promise<string>((resolve) => {
      login.stdout.on("data", (d) => {
        stdout += d;
        if (stdout.includes("\n")) resolve(stdout.split("\n")[0] ?? "");
      });
    });
    expect(authorizeUrl).toContain("code_challenge_method=S256");
    // The browser: the authorize page redirects to the CLI's callback, which we then visit.
    const redirect = await fetch(authorizeUrl, { redirect: "manual" });
    expect(redirect.status).toBe(302);
    const callback = await fetch(redirect.headers.get("location") ?? "");
    expect(callback.status).toBe(200);
    const code = await new Promise<number | null>((resolve) => login.on("close", resolve));
    expect(stderr).toMatch(/Connected to Harbor & Pine Outfitters \(XqT4Lm\)/);
    expect(code).toBe(0);
    expect(stdout + stderr).not.toContain(SECRET);
    expect(statSync(join(configDir, "oauth.json")).mode & 0o777).toBe(0o600);

    // Any command without an API key now uses the stored tokens (and their base URL).
    const noKeyEnv = { KLAVIYO_CONFIG_DIR: configDir };
    const list = await runCli(["run", "list-accounts"], noKeyEnv);
    expect(list.stderr).toBe("");
    expect((JSON.parse(list.stdout) as { data: Array<{ id: string }> }).data[0]?.id).toBe("XqT4Lm");
    const created = await runCli(["run", "create-list", "--list-name", "Made with OAuth"], noKeyEnv);
    expect(created.code).toBe(0);

    const loggedIn = await runCli(["auth", "status"], noKeyEnv);
    expect(loggedIn.code).toBe(0);
    const shown = JSON.parse(loggedIn.stdout) as { account: { id: string }; scopes: string[] };
    expect(shown.account.id).toBe("XqT4Lm");
    expect(shown.scopes).toEqual(["accounts:read", "lists:read", "lists:write"]);
    expect(loggedIn.stdout).not.toContain(SECRET);
    expect(loggedIn.stdout).not.toMatch(/access_?token"\s*:\s*"/i);

    const logout = await runCli(["auth", "logout"], noKeyEnv);
    expect(logout.code).toBe(0);
    expect(logout.stderr).toMatch(/Revoked/);
    const after = await runCli(["run", "list-accounts", "--base-url", emulator.url], noKeyEnv);
    expect(after.code).toBe(3); // no credentials at all: authentication
    expect(after.stderr).toMatch(/API Key: is required/);
    const status = await runCli(["auth", "status"], noKeyEnv);
    expect(status.code).toBe(3);
    expect(status.stderr).toMatch(/^Not logged in/);
  });
});
