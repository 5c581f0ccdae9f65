import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The real `klaviyo` binary, as npm installs it: bin/klaviyo.js over the compiled dist/. */
export const BIN = fileURLToPath(new URL("../../bin/klaviyo.js", import.meta.url));
const DIST_MAIN = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

export function requireBuild(): void {
  if (!existsSync(DIST_MAIN))
    throw new Error("dist/ is missing: run `npm run build` (npm test does) before the CLI tests");
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `klaviyo …` to completion, with a clean environment plus `env`, no terminal on stdin. */
export function runCli(args: string[], env: Record<string, string> = {}, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}

/** Starts `klaviyo emulator … --port 0` and resolves with its URL once it prints its one line. */
export async function startCliEmulator(
  args: string[] = [],
): Promise<{ url: string; child: ChildProcess; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [BIN, "emulator", "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`emulator did not start: ${out}`)), 10_000);
    child.stdout?.on("data", (d) => {
      out += d;
      const m = /^Klaviyo emulator listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on("exit", (code) => reject(new Error(`emulator exited with ${code}: ${out}`)));
  });
  const stop = () =>
    new Promise<number | null>((resolve) => {
      child.once("exit", (code) => resolve(code));
      child.kill("SIGTERM");
    });
  return { url, child, stop };
}

/** The arguments of `klaviyo auth login` against an OAuth server at `oauthUrl` (the emulator's, or a recorder). */
export function authLoginArgs(options: {
  clientId: string;
  callbackPort: number | string;
  oauthUrl: string;
  baseUrl: string;
  scopes: string;
}): string[] {
  return [
    "--client-id",
    options.clientId,
    "--port",
    String(options.callbackPort),
    "--authorize-url",
    `${options.oauthUrl}/oauth/authorize`,
    "--token-url",
    `${options.oauthUrl}/oauth/token`,
    "--revoke-url",
    `${options.oauthUrl}/oauth/revoke`,
    "--base-url",
    options.baseUrl,
    "--scopes",
    options.scopes,
    "--no-open",
  ];
}
