/**
 * A rebuild never takes dist/ away from what is using it: `npm install` (prepare) or `npm test` rebuilding while a
 * CLI or a test runs from dist/. The build (scripts/build.mjs) runs in a scratch copy of the project whose dist/
 * already holds a build, and dist/'s entries are checked every few milliseconds while it runs: each must be there
 * every time, and nothing of the build's staging may be left behind.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { requireBuild } from "../helpers/cli.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "klaviyo-build-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("the build", () => {
  it("replaces dist/ whole: its entry points exist at every moment of a rebuild", async () => {
    requireBuild();
    for (const item of [
      "src",
      "scripts",
      "ui",
      "bin",
      "dist",
      "package.json",
      "tsconfig.json",
      "tsconfig.build.json",
    ])
      cpSync(join(root, item), join(scratch, item), { recursive: true });
    symlinkSync(join(root, "node_modules"), join(scratch, "node_modules"), "dir");
    const watched = ["dist/index.js", "dist/index.d.ts", "dist/cli/main.js", "dist/ui/index.html"].map((p) =>
      join(scratch, p),
    );
    let checks = 0;
    const missing = new Set<string>();
    const poll = setInterval(() => {
      checks++;
      for (const path of watched) if (!existsSync(path)) missing.add(path);
    }, 5);
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ["scripts/build.mjs"], { cwd: scratch, stdio: "ignore" });
      child.on("exit", resolve);
    });
    clearInterval(poll);
    expect(code).toBe(0);
    expect(checks).toBeGreaterThan(100);
    expect([...missing]).toEqual([]);
    expect(readdirSync(scratch).filter((name) => name.startsWith(".dist-"))).toEqual([]);
    for (const path of watched) expect(existsSync(path)).toBe(true);
  }, 120_000);
});
