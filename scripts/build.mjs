/**
 * The build: declarations by tsc (one per module, pruned to what the package's entries reach), and the JavaScript
 * by esbuild: each entry of package.json's "exports" (and the CLI's) bundled, the code they share split into
 * chunks (so a class such as `InputValidationError` exists once, whichever entries a program imports), npm
 * packages left as imports. Importing the library then reads a handful of files instead of a hundred, which is
 * most of its start-up time. `dist/build-meta.json` (not published) records which sources each output holds, for the
 * bundle checks of test/contract/bundle.test.ts and bench/footprint.bench.ts.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const run = (command, args) => {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

rmSync(`${root}dist`, { recursive: true, force: true });
run(process.execPath, [
  `${root}node_modules/typescript/bin/tsc`,
  "-p",
  "tsconfig.build.json",
  "--emitDeclarationOnly",
]);
run(process.execPath, [`${root}scripts/prune-declarations.mjs`]);

const pkg = JSON.parse(readFileSync(`${root}package.json`, "utf8"));
/** `./dist/emulator/index.d.ts` → `emulator/index`, whose source is `src/emulator/index.ts`. */
const entries = Object.values(pkg.exports)
  .map((target) => (typeof target === "object" ? target.types : undefined))
  .filter((types) => typeof types === "string")
  .map((types) => types.replace(/^\.\/dist\//, "").replace(/\.d\.ts$/, ""));
entries.push("cli/main");

/**
 * Packages bundled into dist/ rather than imported: valibot (validation) and its JSON Schema converter. Only what is
 * called is kept, and a program importing the library parses that instead of valibot's 200 KB module: 26 ms
 * instead of 35 ms in-process here, which brings the import within its 40 ms budget. Nothing of theirs is shared
 * with a user's code at run time (schemas are plain objects); valibot stays a dependency for the published
 * declarations, which name its types (an input's schema).
 */
const BUNDLED = new Set(["valibot", "@valibot/to-json-schema"]);

const result = await build({
  absWorkingDir: root,
  entryPoints: Object.fromEntries(entries.map((name) => [name, `src/${name}.ts`])),
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: [
    ...Object.keys(pkg.dependencies ?? {}).filter((name) => !BUNDLED.has(name)),
    ...Object.keys(pkg.peerDependencies ?? {}),
  ],
  chunkNames: "chunks/[name]-[hash]",
  // Whitespace and syntax minified, names kept (stack traces read as in the source): less to parse at start-up.
  minifyWhitespace: true,
  minifySyntax: true,
  metafile: true,
  logLevel: "warning",
});

const sources = Object.fromEntries(
  Object.entries(result.metafile.outputs).map(([output, { inputs }]) => [output, Object.keys(inputs)]),
);
writeFileSync(`${root}dist/build-meta.json`, `${JSON.stringify({ outputs: sources }, null, 1)}\n`);
console.log(`build: ${entries.length} entries, ${Object.keys(sources).length} files of JavaScript`);
