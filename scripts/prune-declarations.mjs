/**
 * After `tsc`: deletes the declaration files no consumer can reach. A consumer sees the types of the entry points
 * package.json "exports" names (`.`, `./emulator`, `./prismatic`, `./activepieces`) and of what they import,
 * transitively; the declarations of internal modules (the
 * emulator's request schemas above all, whose inferred types are large) would only weigh on the installed size.
 * test/contract/package.test.ts type-checks a consumer against the pruned dist with skipLibCheck off.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// The folder to prune: the build's staging folder when it says so (scripts/build.mjs), else dist/.
const dist = process.argv[2] ? resolve(process.argv[2]) : fileURLToPath(new URL("../dist/", import.meta.url));
const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const entries = Object.values(pkg.exports)
  .map((target) => (typeof target === "object" ? target.types : undefined))
  .filter((types) => typeof types === "string")
  .map((types) => resolve(dist, types.replace(/^\.\/dist\//, "")));

const reachable = new Set();
const stack = [...entries];
while (stack.length > 0) {
  const file = stack.pop();
  if (reachable.has(file)) continue;
  if (!existsSync(file)) throw new Error(`prune-declarations: ${file} is imported but missing`);
  reachable.add(file);
  const text = readFileSync(file, "utf8");
  // Static imports and re-exports, and import("…") types: every way a declaration names another module.
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g)) {
    stack.push(resolve(dirname(file), m[1].replace(/\.js$/, ".d.ts")));
  }
}

let removed = 0;
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (entry.name.endsWith(".d.ts") && !reachable.has(path)) {
      rmSync(path);
      removed += 1;
    }
  }
};
walk(dist);

// The declarations name Node's types (Headers, AbortSignal, Buffer, NodeJS.ProcessEnv, node:stream): each entry
// says so, so that a consumer's compiler loads @types/node whatever its `types` option (TypeScript 6 and later
// load no @types package unless told to).
const NODE_REFERENCE = '/// <reference types="node" />\n';
for (const entry of entries) {
  const text = readFileSync(entry, "utf8");
  if (!text.startsWith(NODE_REFERENCE)) writeFileSync(entry, NODE_REFERENCE + text);
}
console.log(`prune-declarations: kept ${reachable.size} declaration files, removed ${removed} internal ones`);
