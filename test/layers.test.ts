import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import config, { type Layer, layers } from "../vitest.config.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const names = Object.keys(layers) as Layer[];

/** Every test file under test/, as a path from the repository's root. */
function testFiles(): string[] {
  return readdirSync(`${root}test`, { recursive: true, encoding: "utf8" })
    .map((p) => `test/${p.split("\\").join("/")}`)
    .filter((p) => p.endsWith(".test.ts"))
    .sort();
}

const FOLDER = /^(test\/(?:[\w.-]+\/)*)\*\*\/\*\.test\.ts$/;
const FILE = /^test\/(?:[\w.-]+\/)*[\w.-]+\.test\.ts$/;

/** Whether `file` matches `pattern`, for the two shapes the config allows (as picomatch reads them). */
function matches(pattern: string, file: string): boolean {
  const folder = FOLDER.exec(pattern);
  if (folder) return file.startsWith(folder[1] as string) && file.endsWith(".test.ts");
  if (FILE.test(pattern)) return file === pattern;
  throw new Error(`vitest.config.ts: "${pattern}" is neither a folder glob nor a file's path`);
}

function layersOf(file: string): Layer[] {
  return names.filter(
    (name) =>
      layers[name].include.some((p) => matches(p, file)) &&
      !layers[name].exclude.some((p: string) => matches(p, file)),
  );
}

describe("test layers (vitest.config.ts)", () => {
  const files = testFiles();

  it("finds the test files", () => {
    expect(files).toContain("test/layers.test.ts");
    expect(files.length).toBeGreaterThan(names.length);
  });

  it("every test file belongs to exactly one layer", () => {
    const wrong = files
      .map((file) => ({ file, in: layersOf(file) }))
      .filter((f) => f.in.length !== 1)
      .map((f) => `${f.file}: ${f.in.length === 0 ? "in no layer" : `in ${f.in.join(" and ")}`}`);
    expect(wrong, "classify it in vitest.config.ts (unit, integration or e2e)").toEqual([]);
  });

  it("names no file that is not there (a renamed or deleted test leaves no stale entry)", () => {
    const stale = names.flatMap((name) =>
      [...layers[name].include, ...layers[name].exclude]
        .filter((p: string) => !files.some((f) => matches(p, f)))
        .map((p: string) => `${name}: ${p}`),
    );
    expect(stale).toEqual([]);
  });

  it("each layer is a Vitest project with the shared setup, the forks pool and the timeout", () => {
    const projects = (config.test?.projects ?? []) as Array<{
      test: { name: string; include: string[]; setupFiles: string[]; pool: string; testTimeout: number };
    }>;
    expect(projects.map((p) => p.test.name)).toEqual(names);
    for (const project of projects) {
      expect(project.test.include).toEqual(layers[project.test.name as Layer].include);
      expect(project.test.setupFiles).toEqual(["test/setup.ts"]);
      expect(project.test.pool).toBe("forks");
      expect(project.test.testTimeout).toBe(20_000);
    }
  });
});
