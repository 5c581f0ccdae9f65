/**
 * The layers of src/, as the folders name them, held by their imports (static, dynamic and re-exports, read with
 * TypeScript's own pre-processor): arrows point down, no folder loops back on another, and what a user of the
 * library loads (src/index.ts and everything it reaches) holds no module of the emulator, the CLI, the
 * playground, the platforms or Redis, and no npm package but valibot (and its JSON Schema converter, for the manifest).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "../src");

/** What each folder may import besides itself. Everything not listed is forbidden. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  klaviyo: [],
  core: ["klaviyo"],
  auth: ["core", "klaviyo"],
  ingest: ["core", "auth", "klaviyo"],
  actions: ["core", "auth", "ingest", "klaviyo"],
  feed: ["core", "klaviyo"],
  // Receiving Klaviyo's system webhooks: verifying, the handlers, the dedupe store, flow-webhook receivers.
  webhooks: ["core", "klaviyo"],
  "(root)": ["core", "auth", "ingest", "actions", "feed", "webhooks", "klaviyo"],
  redis: ["core", "auth", "webhooks", "klaviyo"],
  emulator: ["core", "klaviyo"],
  platforms: ["core", "auth", "actions", "feed", "webhooks", "klaviyo"],
  // The playground runs the platforms' polling triggers and pickers (src/playground/triggers.ts); it is no part of
  // the library's entry, which the last test holds.
  playground: ["core", "auth", "ingest", "actions", "feed", "webhooks", "klaviyo", "emulator", "platforms"],
  cli: [
    "core",
    "auth",
    "ingest",
    "actions",
    "feed",
    "webhooks",
    "klaviyo",
    "emulator",
    "playground",
    "redis",
  ],
};

/** The npm packages the library itself may load. */
const LIBRARY_PACKAGES = ["@valibot/to-json-schema", "valibot"];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

function folderOf(file: string): string {
  const parts = relative(SRC, file).split("/");
  return parts.length > 1 ? (parts[0] as string) : "(root)";
}

interface Imports {
  local: string[];
  packages: string[];
}

const imports = new Map<string, Imports>();
for (const file of sourceFiles(SRC)) {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  const local: string[] = [];
  const packages: string[] = [];
  for (const { fileName } of importedFiles) {
    if (fileName.startsWith(".")) local.push(resolve(dirname(file), fileName).replace(/\.js$/, ".ts"));
    else packages.push(fileName);
  }
  imports.set(file, { local, packages });
}

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] as string);
}

describe("the layers of src/", () => {
  it("every folder is one the rules know", () => {
    const folders = new Set([...imports.keys()].map(folderOf));
    expect([...folders].filter((f) => !(f in ALLOWED))).toEqual([]);
  });

  it("every import points down: no folder imports one it may not", () => {
    const wrong: string[] = [];
    for (const [file, { local }] of imports) {
      const from = folderOf(file);
      for (const target of local) {
        const to = folderOf(target);
        if (to !== from && !ALLOWED[from]?.includes(to))
          wrong.push(`${relative(SRC, file)} → ${relative(SRC, target)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("no folder reaches back to itself through others", () => {
    const edges = new Map<string, Set<string>>();
    for (const [file, { local }] of imports) {
      const from = folderOf(file);
      for (const target of local) {
        const to = folderOf(target);
        if (to !== from) edges.set(from, (edges.get(from) ?? new Set()).add(to));
      }
    }
    const loops: string[] = [];
    const walk = (start: string, at: string, path: string[]) => {
      for (const next of edges.get(at) ?? []) {
        if (next === start) loops.push([...path, next].join(" → "));
        else if (!path.includes(next)) walk(start, next, [...path, next]);
      }
    };
    for (const folder of edges.keys()) walk(folder, folder, [folder]);
    expect(loops).toEqual([]);
  });

  it("the library's entry reaches no face, tool or Redis, and no npm package but valibot (and its JSON Schema converter, for the manifest)", () => {
    const reached = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string) => {
      if (reached.has(file)) return;
      reached.add(file);
      const found = imports.get(file);
      expect(found, `${relative(SRC, file)} is imported but not in src/`).toBeDefined();
      for (const specifier of found?.packages ?? [])
        if (!specifier.startsWith("node:")) packages.add(packageName(specifier));
      for (const target of found?.local ?? []) visit(target);
    };
    visit(join(SRC, "index.ts"));
    const folders = new Set([...reached].map(folderOf));
    expect([...folders].sort()).toEqual([
      "(root)",
      "actions",
      "auth",
      "core",
      "feed",
      "ingest",
      "klaviyo",
      "webhooks",
    ]);
    expect([...packages].sort()).toEqual(LIBRARY_PACKAGES);
    // The check reads real imports: the emulator's entry does reach hono.
    const emulatorPackages = new Set(
      [...imports]
        .filter(([file]) => folderOf(file) === "emulator")
        .flatMap(([, { packages: p }]) => p.map(packageName)),
    );
    expect(emulatorPackages.has("hono")).toBe(true);
  });
});
