/**
 * The build: declarations by tsc (one per module, pruned to what the package's entries reach), and the JavaScript
 * by esbuild: each entry of package.json's "exports" (and the CLI's) bundled, the code they share split into
 * chunks (so a class such as `InputValidationError` exists once, whichever entries a program imports), npm
 * packages left as imports. Importing the library then reads a handful of files instead of a hundred, which is
 * most of its start-up time. `dist/build-meta.json` (not published) records which sources each output holds, for the
 * bundle checks of test/contract/bundle.test.ts and bench/footprint.bench.ts. Then Vite builds the playground's
 * front end into dist/ui.
 *
 * Everything is built into a staging folder (.dist-next/) and put in dist/'s place at the end by two renames: a CLI
 * or a test started while `npm install` (prepare) or `npm test` rebuilds never finds dist/ missing or half-written.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const run = (command, args) => {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

const STAGE = ".dist-next";
const stage = `${root}${STAGE}`;
rmSync(stage, { recursive: true, force: true });
run(process.execPath, [
  `${root}node_modules/typescript/bin/tsc`,
  "-p",
  "tsconfig.build.json",
  "--emitDeclarationOnly",
  "--outDir",
  STAGE,
]);
run(process.execPath, [`${root}scripts/prune-declarations.mjs`, stage]);

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
  outdir: STAGE,
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

// Outputs named as they will be found: under dist/.
const sources = Object.fromEntries(
  Object.entries(result.metafile.outputs).map(([output, { inputs }]) => [
    output.replace(`${STAGE}/`, "dist/"),
    Object.keys(inputs),
  ]),
);
writeFileSync(`${stage}/build-meta.json`, `${JSON.stringify({ outputs: sources }, null, 1)}\n`);
console.log(`build: ${entries.length} entries, ${Object.keys(sources).length} files of JavaScript`);

run(process.execPath, [
  `${root}node_modules/vite/bin/vite.js`,
  "build",
  "--config",
  "ui/vite.config.ts",
  "--outDir",
  `${stage}/ui`,
  "--emptyOutDir",
  "--logLevel",
  "warn",
]);

// The swap: the old dist/ moves aside and the new one takes its name, then the old one goes.
const old = `${root}.dist-old-${process.pid}`;
if (existsSync(`${root}dist`)) renameSync(`${root}dist`, old);
renameSync(stage, `${root}dist`);
rmSync(old, { recursive: true, force: true });
