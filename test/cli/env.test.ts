/**
 * Every command honours `KLAVIYO_API_KEY` and `KLAVIYO_BASE_URL` (the real binary, real ports): `auth login` logs in
 * against the server `KLAVIYO_BASE_URL` names with no URL flag, the emulator prints a login line that works as
 * pasted, no credentials are refused before anything is sent (exit 3) by every command that calls Klaviyo, a
 * stored login's token does not follow `KLAVIYO_BASE_URL` elsewhere, `ui` and `demo` say what they do with the
 * variables, and a misspelt flag points at the help of the command it was given to.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_API_KEY } from "../../src/emulator/index.js";
import { BIN, type CliResult, requireBuild, runCli, startCliEmulator } from "../helpers/cli.js";
import { closedPort, startServer, type TestServer } from "../helpers/servers.js";

const SECRET = "env-test-secret-0123456789abcdef";
let emulator: Awaited<ReturnType<typeof startCliEmulator>>;
let emulatorStderr = "";
let recorder: TestServer;
let callbackPort: number;
let dir: string;

/** `klaviyo …` spawned with `env` only (and PATH), its output collected, resolved when it exits. */
function spawnCli(
  args: string[],
  env: Record<string, string>,
): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => {
    stdout += d;
  });
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const done = new Promise<CliResult>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done };
}

/** Plays the browser: the authorize URL (the first line login prints) redirects to login's callback. */
async function authorize(login: { child: ChildProcess }): Promise<void> {
  const url = await new Promise<string>((resolve) => {
    let out = "";
    login.child.stdout?.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(out.split("\n")[0] ?? "");
    });
  });
  const redirect = await fetch(url, { redirect: "manual" });
  expect(redirect.status).toBe(302);
  expect((await fetch(redirect.headers.get("location") ?? "")).status).toBe(200);
}

beforeAll(async () => {
  requireBuild();
  dir = mkdtempSync(join(tmpdir(), "klaviyo-env-"));
  callbackPort = Number(new URL(await closedPort()).port);
  emulator = await startCliEmulator([
    "--oauth-client",
    `env-app:${SECRET}:http://127.0.0.1:${callbackPort}/callback`,
  ]);
  emulator.child.stderr?.on("data", (d) => {
    emulatorStderr += d;
  });
  recorder = await startServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/vnd.api+json" });
    res.end('{"data": []}');
  });
});
afterAll(async () => {
  await emulator?.stop();
  await recorder?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("klaviyo emulator and auth login", () => {
  it("the emulator prints its four URLs and a login line that works as pasted (no secret printed)", async () => {
    await expect.poll(() => emulatorStderr).toMatch(/Log in/);
    const url = emulator.url;
    expect(emulatorStderr).toContain(
      `OAuth client env-app: authorize at ${url}/oauth/authorize, tokens at ${url}/oauth/token, revoke at ${url}/oauth/revoke; API base URL ${url}.`,
    );
    expect(emulatorStderr).not.toContain(SECRET);
    const line = /: (klaviyo auth login .+)$/m.exec(emulatorStderr)?.[1] ?? "";
    expect(line).toBe(`klaviyo auth login --base-url ${url} --client-id env-app --port ${callbackPort}`);
    const config = join(dir, "pasted");
    const login = spawnCli([...line.split(" ").slice(1), "--no-open"], {
      KLAVIYO_CONFIG_DIR: config,
      KLAVIYO_CLIENT_SECRET: SECRET,
    });
    await authorize(login);
    const result = await login.done;
    expect(result.stderr).toMatch(/Connected to Harbor & Pine Outfitters \(XqT4Lm\)/);
    expect(result.code).toBe(0);
    const stored = JSON.parse(readFileSync(join(config, "oauth.json"), "utf8")) as Record<string, string>;
    expect(stored).toMatchObject({
      baseUrl: url,
      tokenUrl: `${url}/oauth/token`,
      revokeUrl: `${url}/oauth/revoke`,
    });
  });

  it("auth login with KLAVIYO_BASE_URL alone logs in there; the login then stays with that server", async () => {
    const config = join(dir, "from-env");
    const login = spawnCli(
      ["auth", "login", "--client-id", "env-app", "--port", String(callbackPort), "--no-open"],
      {
        KLAVIYO_CONFIG_DIR: config,
        KLAVIYO_CLIENT_SECRET: SECRET,
        KLAVIYO_BASE_URL: emulator.url,
      },
    );
    await authorize(login);
    const result = await login.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(
      `Logging in for ${emulator.url} (tokens from ${emulator.url}/oauth/token`,
    );
    const env = { KLAVIYO_CONFIG_DIR: config };
    expect((await runCli(["run", "list-accounts"], env)).code).toBe(0);

    // KLAVIYO_BASE_URL naming another server does not take the login's token there; --base-url does.
    const elsewhere = await runCli(["run", "list-accounts"], { ...env, KLAVIYO_BASE_URL: recorder.url });
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toMatch(
      /^error: KLAVIYO_BASE_URL: names http:\/\/127\.0\.0\.1:\d+, but the stored OAuth login is for/,
    );
    expect(recorder.requests).toHaveLength(0);
    const status = await runCli(["auth", "status"], {
      ...env,
      KLAVIYO_BASE_URL: recorder.url,
      KLAVIYO_API_KEY: DEV_API_KEY,
    });
    expect(status.code).toBe(0);
    expect(status.stderr).toMatch(/KLAVIYO_API_KEY is set, so commands use that key, not this login/);
    const named = await runCli(["auth", "status"], { ...env, KLAVIYO_BASE_URL: recorder.url });
    expect(named.stderr).toMatch(/commands refuse to send its token there unless given --base-url/);

    const logout = await runCli(["auth", "logout"], env);
    expect(logout.code).toBe(0);
    const out = await runCli(["auth", "status"], env);
    expect(out.code).toBe(3);
    expect(out.stderr).toMatch(/^Not logged in/);
  });

  it("auth login refuses bad flags before it listens, naming them", async () => {
    const env = { KLAVIYO_CONFIG_DIR: join(dir, "bad"), KLAVIYO_CLIENT_SECRET: SECRET };
    const port = await runCli(["auth", "login", "--client-id", "x", "--port", "nope"], env);
    expect([port.code, port.stderr]).toEqual([2, "error: --port: must be a whole number from 1 to 65535\n"]);
    const base = await runCli(["auth", "login", "--client-id", "x"], {
      ...env,
      KLAVIYO_BASE_URL: "not a url",
    });
    expect(base.code).toBe(2);
    expect(base.stderr).toMatch(/^error: KLAVIYO_BASE_URL: must be an http\(s\) URL/);
  });

  it("the emulator listens on the port of KLAVIYO_BASE_URL and accepts KLAVIYO_API_KEY, never printing it", async () => {
    const port = new URL(await closedPort()).port;
    const key = "pk_env_emulator_key_0123456789abcd";
    const started = spawnCli(["emulator", "--rate-limits", "off"], {
      KLAVIYO_BASE_URL: `http://127.0.0.1:${port}`,
      KLAVIYO_API_KEY: key,
    });
    let out = "";
    started.child.stdout?.on("data", (d) => {
      out += d;
    });
    try {
      await expect
        .poll(() => out, { timeout: 10_000 })
        .toBe(`Klaviyo emulator listening on http://127.0.0.1:${port}\n`);
      const headers = (k: string) => ({ Authorization: `Klaviyo-API-Key ${k}`, revision: "2026-07-15" });
      expect((await fetch(`http://127.0.0.1:${port}/api/accounts`, { headers: headers(key) })).status).toBe(
        200,
      );
      expect(
        (await fetch(`http://127.0.0.1:${port}/api/accounts`, { headers: headers(DEV_API_KEY) })).status,
      ).toBe(200);
    } finally {
      started.child.kill("SIGTERM");
    }
    const result = await started.done;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`Listening on port ${port}, the port of $KLAVIYO_BASE_URL.`);
    expect(result.stderr + result.stdout).not.toContain(key);
  });
});

describe("no credentials: refused before anything is sent, exit 3, by every command that calls Klaviyo", () => {
  it.each([
    ["run", "list-accounts"],
    ["request", "GET", "/api/accounts"],
    ["ingest", "events", "-"],
    ["ingest", "subscribe", "-"],
    ["ingest", "unsubscribe", "-"],
    ["ui"],
    ["demo", "--yes"],
  ])("klaviyo %s … with KLAVIYO_API_KEY unset, empty, or --api-key ''", async (...args) => {
    const command = args[0] === "demo" ? ["demo", "--base-url", recorder.url, "--yes"] : args;
    const config = { KLAVIYO_CONFIG_DIR: join(dir, "nobody") };
    const base = { ...config, KLAVIYO_BASE_URL: recorder.url };
    const unset = await runCli(command, base, "");
    const empty = await runCli(command, { ...base, KLAVIYO_API_KEY: "  " }, "");
    const flag = await runCli([...command, "--api-key", ""], base, "");
    for (const result of [unset, empty, flag]) {
      expect(result.code, result.stderr).toBe(3);
      expect(result.stderr).toMatch(/^error: API Key: is (required|empty)/);
    }
    expect(recorder.requests).toHaveLength(0);
  });
});

describe("klaviyo ui and demo say what they do with the variables", () => {
  it("ui with KLAVIYO_BASE_URL and KLAVIYO_API_KEY connects there and says how to get the emulator", async () => {
    const env = { KLAVIYO_BASE_URL: emulator.url, KLAVIYO_API_KEY: DEV_API_KEY, KLAVIYO_CONFIG_DIR: dir };
    for (const [args, says] of [
      [
        ["ui"],
        /KLAVIYO_BASE_URL and KLAVIYO_API_KEY are set, so this is that server, not the embedded emulator: no inspector.*klaviyo ui --emulator/,
      ],
      [["ui", "--emulator"], /^Running on the embedded Klaviyo emulator/m],
    ] as const) {
      const ui = spawnCli([...args], env);
      let out = "";
      ui.child.stdout?.on("data", (d) => {
        out += d;
      });
      try {
        await expect.poll(() => out, { timeout: 10_000 }).toMatch(/^Playground: /);
      } finally {
        ui.child.kill("SIGTERM");
      }
      const result = await ui.done;
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(says);
    }
  });

  it("demo stays on the embedded emulator with KLAVIYO_BASE_URL set, and says so", async () => {
    const result = await runCli(["demo"], { KLAVIYO_BASE_URL: recorder.url, KLAVIYO_API_KEY: DEV_API_KEY });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(
      /KLAVIYO_BASE_URL is set, but the tour creates and deletes data, so it runs on the embedded emulator/,
    );
    expect(recorder.requests).toHaveLength(0);
  }, 30_000);
});

describe("a usage error points at the help of the command it was given to", () => {
  it.each([
    [["run", "get-list", "--lst-id", "x"], "(klaviyo run get-list --help lists its flags)"],
    [["run", "get-lis"], "(klaviyo run --help lists the actions)"],
    [["ingest", "events", "-", "--bogus"], "(klaviyo ingest events --help lists its options)"],
    [["auth", "login", "--bogus"], "(klaviyo auth login --help lists its options)"],
    [["--bogus"], "(klaviyo --help lists the commands)"],
  ])("klaviyo %j", async (args, hint) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n").at(-1)).toBe(hint);
  });
});
