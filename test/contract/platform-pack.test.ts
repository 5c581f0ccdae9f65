/**
 * The published package as a consumer installs it: `npm pack` the repository (no rebuild: the suite has built
 * dist/), install the tarball into scratch projects, and run and type-check code there, resolving the package
 * through its `exports` from node_modules as any consumer would.
 *
 * - Project A installs the package alone. The optional peers (`@prismatic-io/spectral`,
 *   `@activepieces/pieces-framework`) are not installed, yet `klaviyo-connector` and `klaviyo-connector/emulator`
 *   load, run an action against the emulator and type-check; only the platform subpaths fail, naming the missing
 *   framework.
 * - Project B installs the package with both frameworks at the versions of our lock file:
 *   `klaviyo-connector/prismatic` gives a component with every action and both connections whose action runs in
 *   spectral's own harness against the emulator, `klaviyo-connector/activepieces` a piece with every action and
 *   every trigger, and a consumer importing both subpaths type-checks.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actions as registry } from "../../src/actions/index.js";
import { TRIGGERS } from "../../src/platforms/triggers.js";
import { WEBHOOK_FAMILIES } from "../../src/platforms/webhook-triggers.js";
import { requireBuild } from "../helpers/cli.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const TIMEOUT = 120_000;
const NPM_FLAGS = ["--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts"];

let scratch = "";
let tarball = "";
let packedFiles: string[] = [];

/** The version our lock file holds for a package (the one the repository's own tests run against). */
function lockedVersion(name: string): string {
  const lock = JSON.parse(readFileSync(join(repo, "package-lock.json"), "utf8")) as {
    packages: Record<string, { version?: string }>;
  };
  const version = lock.packages[`node_modules/${name}`]?.version;
  if (!version) throw new Error(`${name} is not in package-lock.json`);
  return version;
}

/** Runs a command to completion; a failure carries its output. */
function run(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  try {
    return execFileSync(file, args, {
      cwd,
      env,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: TIMEOUT,
    });
  } catch (error) {
    const e = error as Error & { stdout?: string; stderr?: string };
    throw new Error(
      `${file} ${args.join(" ")} failed in ${cwd}: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`,
    );
  }
}

/** Runs an ESM script in a project, in a clean environment, and parses the JSON it prints last. */
function runScript(dir: string, name: string, source: string): Record<string, unknown> {
  writeFileSync(join(dir, name), source);
  const out = run(process.execPath, [name], dir, { PATH: process.env.PATH ?? "" });
  const last = out.trim().split("\n").at(-1) ?? "";
  return JSON.parse(last) as Record<string, unknown>;
}

/** A scratch ESM project with the tarball (and `extra` packages) installed from npm's cache. */
function project(name: string, tarball: string, extra: string[] = []): string {
  const dir = join(scratch, name);
  mkdirSync(dir);
  writeFileSync(
    join(dir, "package.json"),
    `${JSON.stringify({ name: `scratch-${name}`, version: "1.0.0", private: true, type: "module" }, null, 2)}\n`,
  );
  run("npm", ["install", tarball, ...extra, ...NPM_FLAGS], dir);
  return dir;
}

/** Type-checks one consumer file as a strict NodeNext program; returns the program and its diagnostics. */
function typeCheck(file: string, skipLibCheck: boolean): { program: ts.Program; problems: string[] } {
  const program = ts.createProgram([file], {
    strict: true,
    skipLibCheck,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2023.d.ts"],
    types: ["node"],
    typeRoots: [join(repo, "node_modules/@types")],
  });
  const problems = ts
    .getPreEmitDiagnostics(program)
    .map((d) => `${d.file?.fileName ?? ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
  return { program, problems };
}

beforeAll(() => {
  requireBuild();
  scratch = mkdtempSync(join(tmpdir(), "klaviyo-pack-"));
  // --ignore-scripts: `prepare` would rebuild dist/ under the other test files' feet; the suite built it already.
  const out = run("npm", ["pack", "--pack-destination", scratch, "--ignore-scripts", "--json"], repo);
  const [packed] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
  if (!packed) throw new Error(`npm pack printed no package: ${out}`);
  tarball = join(scratch, packed.filename);
  packedFiles = packed.files.map((f) => f.path);
}, TIMEOUT);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("npm pack", () => {
  it("holds the entry points of every subpath export, and only what `files` names", () => {
    expect(existsSync(tarball)).toBe(true);
    for (const path of [
      "package.json",
      "bin/klaviyo.js",
      "dist/index.js",
      "dist/index.d.ts",
      "dist/emulator/index.js",
      "dist/emulator/index.d.ts",
      "dist/platforms/prismatic.js",
      "dist/platforms/prismatic.d.ts",
      "dist/platforms/activepieces.js",
      "dist/platforms/activepieces.d.ts",
      "dist/redis/index.js",
      "dist/redis/index.d.ts",
      "dist/ui/index.html",
    ])
      expect(packedFiles).toContain(path);
    expect(packedFiles.filter((p) => !/^(bin|dist)\/|^(package\.json|README\.md|LICENSE)$/.test(p))).toEqual(
      [],
    );
  });
});

describe("project A: the package alone, without the optional peers", () => {
  let dir = "";
  beforeAll(() => {
    dir = project("core", tarball);
  }, TIMEOUT);

  it("installs neither framework", () => {
    expect(existsSync(join(dir, "node_modules/klaviyo-connector/package.json"))).toBe(true);
    expect(existsSync(join(dir, "node_modules/@prismatic-io/spectral"))).toBe(false);
    expect(existsSync(join(dir, "node_modules/@activepieces"))).toBe(false);
  });

  it(
    "loads klaviyo-connector and klaviyo-connector/emulator and runs an action on the emulator",
    () => {
      const out = runScript(
        dir,
        "core.mjs",
        `import { KlaviyoClient, actions, runAction } from "klaviyo-connector";
import { createEmulator, DEV_API_KEY, SEED_ACCOUNT_ID } from "klaviyo-connector/emulator";
const emulator = createEmulator({ rateLimits: "off" });
const client = new KlaviyoClient({ apiKey: DEV_API_KEY, baseUrl: emulator.baseUrl, fetch: emulator.fetch });
const accounts = await runAction("list-accounts", {}, { client });
const account = await runAction("get-account", { accountId: SEED_ACCOUNT_ID }, { client });
console.log(JSON.stringify({ actions: actions.length, seed: SEED_ACCOUNT_ID, listed: accounts.data.map((a) => a.id), got: account.data.id }));
`,
      );
      expect(out.actions).toBe(registry.length);
      expect(out.listed).toEqual([out.seed]);
      expect(out.got).toBe(out.seed);
    },
    TIMEOUT,
  );

  it(
    "loads klaviyo-connector/redis without @redis/client, which a Redis store then asks for by name; a client given redisRateLimiter still never fails a request",
    () => {
      expect(existsSync(join(dir, "node_modules/@redis/client"))).toBe(false);
      const out = runScript(
        dir,
        "redis.mjs",
        `import { createRedisRateLimitStore, encryptionKeyFrom, redisRateLimiter } from "klaviyo-connector/redis";
import { KlaviyoClient } from "klaviyo-connector";
import { createEmulator, DEV_API_KEY } from "klaviyo-connector/emulator";
const result = { key: encryptionKeyFrom("a".repeat(64)).length };
try {
  await createRedisRateLimitStore({ url: "redis://127.0.0.1:1" });
  result.store = "made";
} catch (error) {
  result.store = error.message;
}
const warnings = [];
console.warn = (m) => warnings.push(String(m));
const emulator = createEmulator({ rateLimits: "off" });
const client = new KlaviyoClient({ apiKey: DEV_API_KEY, baseUrl: emulator.baseUrl, fetch: emulator.fetch, rateLimiter: redisRateLimiter("redis://127.0.0.1:1") });
result.status = (await client.request({ method: "GET", path: "/api/accounts" })).status;
result.warnings = warnings;
console.log(JSON.stringify(result));
`,
      );
      expect(out.key).toBe(32);
      expect(out.store).toMatch(/needs the optional package @redis\/client/);
      expect(out.status).toBe(200);
      expect(out.warnings).toEqual([expect.stringMatching(/No Redis store could be made.*limiting locally/)]);
    },
    TIMEOUT,
  );

  it(
    "fails to load the platform subpaths with a module-not-found error naming the missing framework",
    () => {
      const out = runScript(
        dir,
        "platforms.mjs",
        `const result = {};
for (const [name, path] of [["prismatic", "klaviyo-connector/prismatic"], ["activepieces", "klaviyo-connector/activepieces"]]) {
  try {
    await import(path);
    result[name] = { loaded: true };
  } catch (error) {
    result[name] = { code: error.code, message: error.message };
  }
}
console.log(JSON.stringify(result));
`,
      );
      expect(out.prismatic).toEqual({
        code: "ERR_MODULE_NOT_FOUND",
        message: expect.stringContaining("Cannot find package '@prismatic-io/spectral' imported from"),
      });
      expect(out.activepieces).toEqual({
        code: "ERR_MODULE_NOT_FOUND",
        message: expect.stringContaining(
          "Cannot find package '@activepieces/pieces-framework' imported from",
        ),
      });
    },
    TIMEOUT,
  );

  it(
    "type-checks a consumer of the core and the emulator with skipLibCheck off",
    () => {
      const file = join(dir, "consumer.ts");
      writeFileSync(
        file,
        `import { KlaviyoClient, runAction } from "klaviyo-connector";
import { createEmulator, DEV_API_KEY } from "klaviyo-connector/emulator";
const emulator = createEmulator({ rateLimits: "off" });
const client = new KlaviyoClient({ apiKey: DEV_API_KEY, baseUrl: emulator.baseUrl, fetch: emulator.fetch });
export const accounts: Promise<unknown> = runAction("list-accounts", {}, { client });
`,
      );
      const { program, problems } = typeCheck(file, false);
      expect(problems).toEqual([]);
      const installed = join(dir, "node_modules/klaviyo-connector/dist/index.d.ts");
      expect(program.getSourceFiles().map((f) => f.fileName)).toContain(installed);
    },
    TIMEOUT,
  );
});

describe("project B: the package with @prismatic-io/spectral and @activepieces/pieces-framework", () => {
  let dir = "";
  beforeAll(() => {
    dir = project("platforms", tarball, [
      `@prismatic-io/spectral@${lockedVersion("@prismatic-io/spectral")}`,
      `@activepieces/pieces-framework@${lockedVersion("@activepieces/pieces-framework")}`,
    ]);
  }, TIMEOUT);

  it(
    "gives a Prismatic component whose action runs in spectral's harness, and an Activepieces piece",
    () => {
      const out = runScript(
        dir,
        "platforms.mjs",
        `import { apiKeyConnection, component, createComponent } from "klaviyo-connector/prismatic";
import { klaviyo } from "klaviyo-connector/activepieces";
import { createEmulator, DEV_API_KEY, SEED_ACCOUNT_ID } from "klaviyo-connector/emulator";
import { createConnection, createHarness } from "@prismatic-io/spectral/dist/testing.js";
const em = createEmulator({ rateLimits: "off" });
const local = createComponent({ client: { baseUrl: em.baseUrl, fetch: em.fetch } });
const harness = createHarness(local);
const result = await harness.action("listAccounts", {
  connection: createConnection(apiKeyConnection, { apiKey: DEV_API_KEY }),
});
console.log(JSON.stringify({
  prismaticActions: Object.keys(component.actions).length,
  connections: component.connections.map((c) => c.key),
  listed: result.data.data.map((a) => a.id),
  seed: SEED_ACCOUNT_ID,
  activepiecesActions: Object.keys(klaviyo.actions()).length,
  activepiecesTriggers: Object.keys(klaviyo.triggers()).length,
}));
`,
      );
      expect(out.prismaticActions).toBe(registry.length);
      expect(out.connections).toEqual(["apiKey", "oauth2"]);
      expect(out.listed).toEqual([out.seed]);
      expect(out.activepiecesActions).toBe(registry.length);
      expect(out.activepiecesTriggers).toBe(TRIGGERS.length + WEBHOOK_FAMILIES.length);
    },
    TIMEOUT,
  );

  it(
    "type-checks a consumer of both platform subpaths",
    () => {
      const file = join(dir, "consumer.ts");
      writeFileSync(
        file,
        `import { createKlaviyoPiece, klaviyo } from "klaviyo-connector/activepieces";
import { createEmulator } from "klaviyo-connector/emulator";
import { apiKeyConnection, type Component, component, createComponent } from "klaviyo-connector/prismatic";
const em = createEmulator({ rateLimits: "off" });
const local: Component = createComponent({ client: { baseUrl: em.baseUrl, fetch: em.fetch } });
export const counts: number[] = [
  Object.keys(component.actions).length,
  Object.keys(local.actions).length,
  Object.keys(klaviyo.actions()).length,
  Object.keys(createKlaviyoPiece().actions()).length,
];
export const connectionKey: string = apiKeyConnection.key;
`,
      );
      // skipLibCheck: the pieces framework's own declarations (through the \`ai\` SDK) do not check without DOM types.
      const { program, problems } = typeCheck(file, true);
      expect(problems).toEqual([]);
      const installed = join(dir, "node_modules/klaviyo-connector/dist/platforms");
      const names = program.getSourceFiles().map((f) => f.fileName);
      expect(names).toContain(join(installed, "prismatic.d.ts"));
      expect(names).toContain(join(installed, "activepieces.d.ts"));
    },
    TIMEOUT,
  );
});
