/**
 * Every example the CLI prints and the README's "Using the CLI" shows, run as pasted: collected from the help of
 * every command (`klaviyo --help`, `klaviyo <command> --help`, `klaviyo run <action> --help`, …), from
 * `klaviyo describe <action>` for every action and from the README section's `$ klaviyo …` lines, then run in a
 * real shell (bash, `pipefail`) calling the real binary, against the emulator with the demo seed on a port, with
 * `KLAVIYO_BASE_URL` and `KLAVIYO_API_KEY` pointing at it as the README says. Each line must exit 0, or print the
 * exit code the README shows under it (`…; echo "exit $?"`). Lines that start a server (`klaviyo emulator`,
 * `klaviyo ui`) must print their ready line, then stop with 0 on SIGTERM.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actions } from "../../src/actions/index.js";
import { buildProgram } from "../../src/cli/main.js";
import { DEV_API_KEY, type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { BIN, requireBuild } from "../helpers/cli.js";
import { runInProcess } from "../helpers/cli-in-process.js";

/** One example: shell lines run in order in one shell, from where it was printed. */
interface Example {
  source: string;
  lines: string[];
  /** For README lines: the exit code the README shows under the line (`exit N`), if any. */
  expectedExit?: Array<number | undefined>;
}

const inProcess = runInProcess;

/** Every command's path, from the commander definitions (each top-level command registered as it runs). */
async function commandPaths(): Promise<string[][]> {
  const silent = { stdout: () => {}, stderr: () => {} };
  const names = (await buildProgram(["node", "klaviyo"], silent)).commands.map((c) => c.name());
  const paths: string[][] = [[]];
  for (const name of names) {
    const program = await buildProgram(["node", "klaviyo", name], silent);
    const command = program.commands.find((c) => c.name() === name) as Command;
    const walk = (c: Command, path: string[]) => {
      paths.push(path);
      for (const sub of c.commands) walk(sub, [...path, sub.name()]);
    };
    walk(command, [name]);
  }
  return paths;
}

/** The examples in a text: runs of `$ ` lines (indented or not), each run one example. */
function examplesIn(text: string, source: string): Example[] {
  const out: Example[] = [];
  let current: string[] | undefined;
  for (const line of text.split("\n")) {
    const m = /^\s*\$ (.+)$/.exec(line);
    if (m?.[1]) {
      current ??= [];
      current.push(m[1]);
    } else if (current) {
      out.push({ source, lines: current });
      current = undefined;
    }
  }
  if (current) out.push({ source, lines: current });
  return out;
}

/** The README's "Using the CLI" section: its console blocks' `$ ` lines, and `klaviyo`/`npx klaviyo` lines of sh blocks. */
function readmeExamples(): Example[] {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const start = readme.indexOf("## Using the CLI");
  const end = readme.indexOf("## The playground: `klaviyo ui`");
  expect(start).toBeGreaterThan(0);
  expect(end).toBeGreaterThan(start);
  const section = readme.slice(start, end);
  const out: Example[] = [];
  for (const block of section.matchAll(/```(console|sh)\n([\s\S]*?)```/g)) {
    const [, kind, body = ""] = block;
    const lines: string[] = [];
    const expectedExit: Array<number | undefined> = [];
    const rows = body.split("\n");
    rows.forEach((row, i) => {
      const command =
        kind === "console"
          ? /^\$ (.+)$/.exec(row)?.[1]
          : /^((?:npx )?klaviyo .+?)(?:\s+#.*)?$/.exec(row)?.[1];
      if (!command) return;
      // npx runs the package's own bin, the binary the shim below runs.
      lines.push(command.replace(/^npx klaviyo /, "klaviyo "));
      let shown: number | undefined;
      for (let j = i + 1; j < rows.length && !rows[j]?.startsWith("$ "); j++) {
        const m = /^exit (\d+)$/.exec(rows[j] ?? "");
        if (m) shown = Number(m[1]);
      }
      expectedExit.push(/echo "exit \$\?"$/.test(command) ? shown : undefined);
    });
    if (lines.length > 0)
      out.push({ source: `README (Using the CLI), block ${out.length + 1}`, lines, expectedExit });
  }
  return out;
}

/** `klaviyo emulator …` and `klaviyo ui …` serve until stopped. */
const SERVER = /^klaviyo (emulator|ui)\b/;
const READY: Record<string, RegExp> = {
  emulator: /^Klaviyo emulator listening on http:\/\/127\.0\.0\.1:\d+$/m,
  ui: /^Playground: http:\/\/127\.0\.0\.1:\d+\/\?token=/m,
};

let dir: string;
let shimDir: string;

function shellEnv(emulator: RunningEmulator, work: string): Record<string, string> {
  return {
    PATH: `${shimDir}:${process.env.PATH ?? ""}`,
    KLAVIYO_BASE_URL: emulator.url,
    KLAVIYO_API_KEY: DEV_API_KEY,
    KLAVIYO_CONFIG_DIR: join(work, ".config"),
    HOME: work,
  };
}

interface LineResult {
  line: string;
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs an example's lines in one bash, in `work`, each line's exit status and stderr recorded. */
function runLines(
  lines: readonly string[],
  env: Record<string, string>,
  work: string,
): Promise<LineResult[]> {
  const script = [
    "set -o pipefail",
    ...lines.map(
      (line, i) =>
        `{ ${line}\n} >"${work}/.out.${i}" 2>"${work}/.err.${i}" </dev/null; echo $? >"${work}/.status.${i}"`,
    ),
  ].join("\n");
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", script], { cwd: work, env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", () => {
      resolve(
        lines.map((line, i) => {
          const read = (name: string) => {
            try {
              return readFileSync(join(work, `.${name}.${i}`), "utf8");
            } catch {
              return "";
            }
          };
          const status = read("status").trim();
          return {
            line,
            status: status === "" ? -1 : Number(status),
            stderr: read("err") + (status === "" ? stderr : ""),
            stdout: read("out"),
          };
        }),
      );
    });
  });
}

/** Starts a server example, waits for its ready line, stops it with SIGTERM: its exit code, or why it failed. */
function runServer(line: string, env: Record<string, string>, work: string): Promise<string | undefined> {
  const kind = SERVER.exec(line)?.[1] as string;
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", `exec ${line}`], {
      cwd: work,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let out = "";
    let err = "";
    let ready = false;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve(`no ready line within 20 s; stdout ${JSON.stringify(out)}, stderr ${JSON.stringify(err)}`);
    }, 20_000);
    child.stdout.on("data", (d) => {
      out += d;
      if (!ready && READY[kind]?.test(out)) {
        ready = true;
        child.kill("SIGTERM");
      }
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (!ready) resolve(`exited ${code} before its ready line; stderr ${JSON.stringify(err)}`);
      else resolve(code === 0 ? undefined : `exited ${code} after SIGTERM; stderr ${JSON.stringify(err)}`);
    });
  });
}

/** Runs examples against `emulator`, each in a fresh working directory; returns the failures, described. */
async function runAll(examples: readonly Example[], emulator: RunningEmulator): Promise<string[]> {
  const failures: string[] = [];
  for (const example of examples) {
    const work = mkdtempSync(join(dir, "example-"));
    const env = shellEnv(emulator, work);
    const batch: string[] = [];
    const expected: Array<number | undefined> = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const results = await runLines(batch, env, work);
      results.forEach((r, i) => {
        // A README line ending in `echo "exit $?"` prints the code the README shows under it.
        const want = expected[i] ?? 0;
        const got = expected[i] === undefined ? r.status : Number(/exit (\d+)\s*$/.exec(r.stdout)?.[1] ?? -1);
        if (got !== want) {
          failures.push(
            `${example.source}: \`${r.line}\` exited ${got}, not ${want}: ${r.stderr.trim()} (stdout ends: ${r.stdout.slice(-1500)})`,
          );
        }
      });
      batch.length = 0;
      expected.length = 0;
    };
    for (const [i, line] of example.lines.entries()) {
      if (SERVER.test(line)) {
        await flush();
        // A second emulator is started as a user would start one: not told where the first one is.
        const serverEnv = /^klaviyo emulator\b/.test(line)
          ? Object.fromEntries(Object.entries(env).filter(([k]) => k !== "KLAVIYO_BASE_URL"))
          : env;
        const problem = await runServer(line, serverEnv, work);
        if (problem) failures.push(`${example.source}: \`${line}\` ${problem}`);
        continue;
      }
      batch.push(line);
      expected.push(example.expectedExit?.[i]);
    }
    await flush();
  }
  return failures;
}

const helpExamples: Example[] = [];
const describeExamples: Example[] = [];
let paths: string[][] = [];
let topHelp = "";

beforeAll(async () => {
  requireBuild();
  dir = mkdtempSync(join(tmpdir(), "klaviyo-examples-"));
  shimDir = join(dir, "bin");
  // `klaviyo` on the PATH, as npm installs it: the real binary over the built dist/.
  mkdirSync(shimDir);
  writeFileSync(join(shimDir, "klaviyo"), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(shimDir, "klaviyo"), 0o755);

  paths = await commandPaths();
  for (const path of paths) {
    const help = await inProcess([...path, "--help"]);
    expect(help.code, `klaviyo ${path.join(" ")} --help`).toBe(0);
    if (path.length === 0) topHelp = help.stdout;
    helpExamples.push(...examplesIn(help.stdout, `klaviyo ${[...path, "--help"].join(" ")}`));
  }
  for (const action of actions) {
    const described = await inProcess(["describe", action.key]);
    expect(described.code).toBe(0);
    describeExamples.push(...examplesIn(described.stdout, `klaviyo describe ${action.key}`));
  }
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the examples are collected from every command's help, every action's description and the README", () => {
  it("every action's help and description show an example; the commands with examples are all visited", () => {
    expect(paths.length).toBeGreaterThan(actions.length + 10);
    for (const action of actions) {
      const help = helpExamples.filter((e) => e.source === `klaviyo run ${action.key} --help`);
      const described = describeExamples.filter((e) => e.source === `klaviyo describe ${action.key}`);
      expect(help, action.key).toHaveLength(1);
      expect(described.map((e) => e.lines)).toEqual(help.map((e) => e.lines));
      expect(help[0]?.lines.at(-1)).toMatch(new RegExp(`^klaviyo run ${action.key}\\b`));
    }
    const sources = new Set(helpExamples.map((e) => e.source));
    for (const command of [
      "--help",
      "run --help",
      "request --help",
      "ingest --help",
      "ui --help",
      "emulator --help",
      "demo --help",
    ])
      expect(sources, command).toContain(`klaviyo ${command}`);
    // The development key the top-level help tells to set is the one the emulator accepts.
    expect(topHelp).toContain(`KLAVIYO_API_KEY=${DEV_API_KEY}`);
  });

  it("the README section has examples, and none names a flag the CLI does not have", () => {
    const readme = readmeExamples();
    expect(readme.flatMap((e) => e.lines).length).toBeGreaterThanOrEqual(8);
    expect(readme.flatMap((e) => e.lines).join("\n")).not.toContain("--page-cursor");
  });
});

describe("every example runs as pasted against `klaviyo emulator --seed demo`", () => {
  it("the help and describe examples, one emulator for all (in the order printed)", async () => {
    const emulator = await startEmulator({ seed: "demo" });
    try {
      // help and describe print the same example for an action: run once, named by both.
      const seen = new Map<string, Example>();
      for (const example of [...helpExamples, ...describeExamples]) {
        const key = example.lines.join("\n");
        const known = seen.get(key);
        if (known) known.source = `${known.source}, ${example.source}`;
        else seen.set(key, { ...example });
      }
      const failures = await runAll([...seen.values()], emulator);
      expect(failures).toEqual([]);
    } finally {
      await emulator.close();
    }
  }, 300_000);

  it("the README's examples, in order, on an emulator of their own", async () => {
    const emulator = await startEmulator({ seed: "demo" });
    try {
      const failures = await runAll(readmeExamples(), emulator);
      expect(failures).toEqual([]);
    } finally {
      await emulator.close();
    }
  }, 120_000);
});
