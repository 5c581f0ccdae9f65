import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import {
  type EmulatorFlags,
  parseApiKeyOption,
  registerEmulatorCommand,
  runEmulatorCommand,
} from "../../src/cli/commands/emulator.js";
import { DEV_API_KEY } from "../../src/emulator/index.js";
import { klaviyoHeaders } from "./helpers.js";

const CLI = fileURLToPath(new URL("./fixtures/klaviyo-cli.ts", import.meta.url));
const KEY = "pk_cli_given_key_0123456789abcdef";

describe("parseApiKeyOption", () => {
  it("a bare key grants every scope; after the first colon come the scopes", () => {
    expect(parseApiKeyOption(KEY)).toEqual({ key: KEY });
    expect(parseApiKeyOption(`${KEY}:accounts:read lists:read`)).toEqual({
      key: KEY,
      scopes: ["accounts:read", "lists:read"],
    });
    expect(parseApiKeyOption(`${KEY}:accounts:read,profiles:write`).scopes).toEqual([
      "accounts:read",
      "profiles:write",
    ]);
  });

  it.each([`${KEY}:`, `${KEY}:list:read`, ":accounts:read", ""])(
    "refuses %j without quoting the key",
    (value) => {
      let message = "";
      try {
        parseApiKeyOption(value);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).not.toBe("");
      expect(message).not.toContain(KEY);
    },
  );
});

/** Parses a command line with a program like the real one, returning the usage error's exit code and stderr. */
async function parseBad(args: string[]): Promise<{ exitCode: number; stderr: string }> {
  let stderr = "";
  const program = new Command("klaviyo").exitOverride().configureOutput({
    writeOut: () => {},
    writeErr: (text) => {
      stderr += text;
    },
  });
  registerEmulatorCommand(program);
  try {
    await program.parseAsync(["emulator", ...args], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return { exitCode: error.exitCode, stderr };
    throw error;
  }
  throw new Error("the command line was accepted");
}

describe("bad option values exit 2 with a clear message", () => {
  it.each([
    [["--faults", "boom=0.5"], /Unknown fault kind "boom"/],
    [["--faults", "500=1.5"], /between 0 and 1/],
    [["--rate-limits", "fast"], /Unknown rate-limit mode "fast"/],
    [["--rate-limits", "scale=0"], /greater than 0/],
    [["--port", "70000"], /--port must be a whole number/],
    [["--latency", "-5"], /--latency must be a whole number/],
    [["--latency", "300-100"], /--latency: the range 300-100 runs backwards/],
    [["--latency", "100-abc"], /--latency must be a whole number of milliseconds .* or a range MIN-MAX/],
    [["--request-latency", "-5"], /--request-latency must be a whole number/],
    [["--request-latency", "1.5"], /--request-latency must be a whole number/],
    [["--request-latency", "80-20"], /--request-latency: the range 80-20 runs backwards/],
    [["--request-latency", "20-700000"], /--request-latency must be .* from 0 to 600000/],
    [["--api-key", `${KEY}:not:a-scope`], /Unknown Klaviyo scope/],
  ])("%j", async (args, message) => {
    const { exitCode, stderr } = await parseBad(args);
    expect(exitCode).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).not.toContain(KEY);
  });
});

describe("--request-latency and --latency: N or MIN-MAX", () => {
  function parsed(args: string[]): Record<string, unknown> {
    const program = new Command("klaviyo").exitOverride();
    registerEmulatorCommand(program);
    const command = program.commands.find((c) => c.name() === "emulator") as Command;
    command.parseOptions(args);
    return command.opts();
  }

  it("reads a fixed delay as a number and a range as [min, max]; without them, no request delay", () => {
    expect(parsed(["--request-latency", "20-80", "--latency", "100-300"])).toMatchObject({
      requestLatency: [20, 80],
      latency: [100, 300],
    });
    expect(parsed(["--request-latency", "50", "--latency", "200"])).toMatchObject({
      requestLatency: 50,
      latency: 200,
    });
    const none = parsed([]);
    expect(none.requestLatency).toBeUndefined();
    expect(none.latency).toBe(0);
  });
});

function flags(overrides: Partial<EmulatorFlags> = {}): EmulatorFlags {
  return { port: 0, host: "127.0.0.1", apiKey: [], rateLimits: "off", latency: 0, faults: [], ...overrides };
}

function capture() {
  const out = { stdout: "", stderr: "" };
  return {
    out,
    io: {
      stdout: (t: string) => {
        out.stdout += t;
      },
      stderr: (t: string) => {
        out.stderr += t;
      },
    },
  };
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!condition()) throw new Error("timed out waiting");
}

describe("runEmulatorCommand", () => {
  it("without --api-key: one stdout line, the dev key announced on stderr, served until stopped", async () => {
    const { out, io } = capture();
    let stop = () => {};
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const done = runEmulatorCommand(flags(), io, () => stopped);
    await waitFor(() => out.stdout.includes("\n"));
    const match = /^Klaviyo emulator listening on (http:\/\/127\.0\.0\.1:(\d+))\n$/.exec(out.stdout);
    expect(match).not.toBeNull();
    expect(out.stderr).toContain(DEV_API_KEY);
    const url = match?.[1] as string;
    expect((await fetch(`${url}/api/accounts`, { headers: klaviyoHeaders() })).status).toBe(200);
    stop();
    await done;
    await expect(fetch(`${url}/api/accounts`)).rejects.toThrow("fetch failed");
    expect(out.stdout.split("\n")).toHaveLength(2);
  });

  it("with --api-key: only those keys are accepted, and none is printed", async () => {
    const { out, io } = capture();
    let stop = () => {};
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const done = runEmulatorCommand(
      flags({ apiKey: [parseApiKeyOption(`${KEY}:lists:read`)] }),
      io,
      () => stopped,
    );
    await waitFor(() => out.stdout.includes("\n"));
    const url = out.stdout.trim().split(" ").at(-1) as string;
    expect((await fetch(`${url}/api/accounts`, { headers: klaviyoHeaders(KEY) })).status).toBe(403);
    expect((await fetch(`${url}/api/accounts`, { headers: klaviyoHeaders(DEV_API_KEY) })).status).toBe(401);
    stop();
    await done;
    expect(out.stdout + out.stderr).not.toContain(KEY);
    expect(out.stderr).not.toContain(DEV_API_KEY);
  });
});

/** Reads a child's stdout until its first line. */
async function firstLine(child: ChildProcess): Promise<string> {
  let text = "";
  for await (const chunk of child.stdout ?? []) {
    text += String(chunk);
    if (text.includes("\n")) return text;
  }
  throw new Error(`no line on stdout; got ${JSON.stringify(text)}`);
}

describe("runEmulatorCommand with delays", () => {
  it("serves with the request delay and the answer's range it was given", async () => {
    const { out, io } = capture();
    let stop = () => {};
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const done = runEmulatorCommand(
      flags({ requestLatency: [150, 150], latency: [0, 0] }),
      io,
      () => stopped,
    );
    await waitFor(() => out.stdout.includes("\n"));
    const url = out.stdout.trim().split(" ").at(-1) as string;
    try {
      const config = await (await fetch(`${url}/__emulator/config`)).json();
      expect(config).toMatchObject({ requestLatencyMs: [150, 150], latencyMs: [0, 0] });
      const sent = Date.now();
      expect((await fetch(`${url}/api/accounts`, { headers: klaviyoHeaders() })).status).toBe(200);
      const log = (await (await fetch(`${url}/__emulator/requests`)).json()) as {
        requests: { at: number }[];
      };
      expect((log.requests[0]?.at as number) - sent).toBeGreaterThanOrEqual(148);
    } finally {
      stop();
      await done;
    }
  });
});

describe("klaviyo emulator, as a process", () => {
  it.each(["SIGTERM", "SIGINT"] as const)(
    "serves until %s, then exits 0",
    async (signal) => {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", CLI, "emulator", "--port", "0", "--api-key", KEY],
        {
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let stderr = "";
      child.stderr?.on("data", (chunk) => {
        stderr += String(chunk);
      });
      const line = await firstLine(child);
      const match = /^Klaviyo emulator listening on (http:\/\/127\.0\.0\.1:\d+)\n$/.exec(line);
      expect(match, line).not.toBeNull();
      const res = await fetch(`${match?.[1]}/api/accounts`, { headers: klaviyoHeaders(KEY) });
      expect(res.status).toBe(200);
      child.kill(signal);
      const [code] = await once(child, "exit");
      expect(code).toBe(0);
      expect(stderr).not.toContain(KEY);
    },
    30_000,
  );

  it("--request-latency 150 --latency 50-60: the config says so, and a request takes both", async () => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", CLI, "emulator", "--port", "0", "--request-latency", "150", "--latency", "50-60"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    try {
      const line = await firstLine(child);
      const url = /listening on (http:\/\/\S+)/.exec(line)?.[1] as string;
      const config = await (await fetch(`${url}/__emulator/config`)).json();
      expect(config).toMatchObject({ requestLatencyMs: 150, latencyMs: [50, 60] });
      const sent = Date.now();
      expect((await fetch(`${url}/api/accounts`, { headers: klaviyoHeaders() })).status).toBe(200);
      expect(Date.now() - sent).toBeGreaterThanOrEqual(198);
    } finally {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
  }, 30_000);

  /** Runs `klaviyo emulator …args` to its end: its exit code and what it printed. */
  async function emulatorCli(args: string[]): Promise<{ code: unknown; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, ["--import", "tsx", CLI, "emulator", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk) => {
      stdout += String(chunk);
    });
    child.stderr?.on("data", (chunk) => {
      stderr += String(chunk);
    });
    const [code] = await once(child, "exit");
    return { code, stdout, stderr };
  }

  it("a bad --request-latency exits 2 before listening, naming the flag", async () => {
    const { code, stdout, stderr } = await emulatorCli(["--request-latency", "80-20"]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/--request-latency: the range 80-20 runs backwards/);
  }, 30_000);

  it("a bad option exits 2 before listening", async () => {
    const { code, stdout, stderr } = await emulatorCli(["--faults", "reset=2"]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/between 0 and 1/);
  }, 30_000);
});
