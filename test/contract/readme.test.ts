/**
 * The README's library examples that stand alone are run as written: each code block marked
 * `<!-- readme-test: NAME -->` is type-checked against the published declarations and run with tsx against the
 * built package (its imports of `klaviyo-connector` pointed at dist/). A block that no longer compiles, throws or
 * fails one of its own assertions fails here. The README's table of Get List's labels, keys and flags is held
 * against the registry.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import { registry } from "../../src/actions/index.js";
import { flagOf } from "../../src/actions/inputs.js";
import { requireBuild } from "../helpers/cli.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const readme = readFileSync(join(root, "README.md"), "utf8");
const scratch = mkdtempSync(join(tmpdir(), "klaviyo-readme-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The marked blocks, by name. */
function markedBlocks(): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const m of readme.matchAll(/<!-- readme-test: ([\w-]+) -->\n```ts\n([\s\S]*?)\n```/g))
    blocks.set(m[1] as string, m[2] as string);
  return blocks;
}

/** The block with its package imports pointed at dist/. */
function againstDist(code: string): string {
  return code.replace(/from "klaviyo-connector(\/[\w-]+)?"/g, (_m, sub: string | undefined) => {
    const entry = sub ? `dist${sub}/index.js` : "dist/index.js";
    return `from ${JSON.stringify(join(root, entry))}`;
  });
}

describe("the README's examples", () => {
  const blocks = markedBlocks();

  it("marks the examples it promises to run", () => {
    expect([...blocks.keys()].sort()).toEqual(["oauth", "own-tests", "webhooks"]);
  });

  it.each([...blocks.keys()])(
    "%s: type-checks against the published declarations and runs",
    (name) => {
      requireBuild();
      const file = join(scratch, `${name}.mts`);
      writeFileSync(file, againstDist(blocks.get(name) as string));
      const program = ts.createProgram([file], {
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        target: ts.ScriptTarget.ES2022,
        lib: ["lib.es2023.d.ts"],
        types: ["node"],
        typeRoots: [join(root, "node_modules/@types")],
      });
      const problems = ts
        .getPreEmitDiagnostics(program)
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      expect(problems).toEqual([]);
      const env = { ...process.env };
      delete env.KLAVIYO_API_KEY;
      delete env.KLAVIYO_BASE_URL;
      const run = spawnSync(process.execPath, [join(root, "node_modules/tsx/dist/cli.mjs"), file], {
        cwd: scratch,
        env,
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
    },
    90_000,
  );

  it("names Get List's inputs by label, library key and CLI flag as the registry does", () => {
    const table = readme.slice(readme.indexOf("| Label (the specification, the platforms) |"));
    const rows = [...table.matchAll(/^\| ([^|`]+) \| `(\w+)` \| `--([\w-]+)` \|$/gm)].map((m) => ({
      label: (m[1] as string).trim(),
      key: m[2],
      flag: m[3],
    }));
    const expected = Object.values(registry["get-list"].inputs).map((d) => ({
      label: d.label,
      key: d.key,
      flag: flagOf(d.key),
    }));
    expect(rows).toEqual(expected);
  });
});
