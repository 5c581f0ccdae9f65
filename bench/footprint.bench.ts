/**
 * Footprint: the budgets a user of the library feels, next to Klaviyo's official SDK (`klaviyo-api`, a dev
 * dependency here).
 *
 * - Bundle size: esbuild bundles, minifies and gzips a file that imports only `KlaviyoClient` from the built entry
 *   (dist/index.js), and one that imports `KlaviyoClient` and `runAction` (which reaches every action). Neither may
 *   hold a module of the emulator, the CLI, the playground, the platform adapters, the Redis stores, `@redis/client`
 *   or `@opentelemetry` (read from esbuild's metafile, with `@redis/client` installed so a stray import of it would
 *   be bundled): if one does, the benchmark fails (exit code 1). `test/contract/bundle.test.ts` checks the same.
 * - Import time: wall time of `node -e 'await import(".../dist/index.js")'` less that of a bare `node -e ''`, median
 *   of fresh processes, run interleaved.
 * - Installed size with the runtime dependencies (reported, not a target).
 *
 * Targets (reported as met or not; only the forbidden modules fail the run): the client alone ≤ 20 KB min+gz, the
 * client with runAction ≤ 80 KB min+gz, import ≤ 40 ms over bare node. `BENCH_IMPORT_RUNS` sets the runs (21).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { build, type Metafile } from "esbuild";
import { record } from "./results.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const distEntry = `${root}dist/index.js`;

/** Folders of dist/ (from src/) that are faces and tools built on the library: no user bundle may hold them. */
export const FORBIDDEN_FOLDERS = ["emulator", "cli", "playground", "platforms", "redis", "ui"] as const;
/** Packages the library's users must not be made to load: optional peers, telemetry. */
export const FORBIDDEN_PACKAGES = ["@redis/client", "@opentelemetry/"] as const;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const forbiddenPath = new RegExp(
  `(^|/)(dist|src)/(${FORBIDDEN_FOLDERS.join("|")})/|(^|/)node_modules/(${FORBIDDEN_PACKAGES.map((p) => escapeRegExp(p.replace(/\/$/, ""))).join("|")})/`,
);
const forbiddenSpecifier = (specifier: string) =>
  FORBIDDEN_PACKAGES.some((p) =>
    p.endsWith("/") ? specifier.startsWith(p) : specifier === p || specifier.startsWith(`${p}/`),
  );

/** What users bundle: the entries measured here and checked by test/contract/bundle.test.ts. */
export const OUR_BUNDLES = {
  "KlaviyoClient alone": `export { KlaviyoClient } from ${JSON.stringify(distEntry)};`,
  "KlaviyoClient + runAction": `export { KlaviyoClient, runAction } from ${JSON.stringify(distEntry)};`,
} as const;
export const SDK_BUNDLE = `export { ApiKeySession, ListsApi } from "klaviyo-api";`;

export interface BundleReport {
  /** Bytes of the minified bundle, and of it gzipped. */
  minBytes: number;
  gzBytes: number;
  /** Sources (of src/, and npm packages' modules) with code in the bundle, and modules esbuild read. */
  modules: number;
  read: number;
  /** The sources in the bundle: src/ files (through dist/'s bundled files) and npm packages' modules. */
  sources: string[];
  /** Modules (or imports of packages) of the forbidden folders and packages, as esbuild saw them. */
  forbidden: string[];
  metafile: Metafile;
}

/** Bundles `entry` (ES module source, resolved from the repository's root) as a user's bundler would: minified, for Node. */
export async function bundle(entry: string): Promise<BundleReport> {
  const result = await build({
    stdin: { contents: entry, resolveDir: root, sourcefile: "entry.mjs", loader: "js" },
    absWorkingDir: root,
    bundle: true,
    minify: true,
    platform: "node",
    format: "esm",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const out = result.outputFiles[0]?.contents ?? new Uint8Array();
  const { metafile } = result;
  const output = Object.values(metafile.outputs)[0];
  const inputs = Object.entries(metafile.inputs);
  // dist/ is bundled (scripts/build.mjs): each of its files holds sources, which the build recorded.
  const built = buildSources();
  const sources = [
    ...new Set(Object.keys(output?.inputs ?? {}).flatMap((path) => built[path] ?? [path])),
  ].sort();
  const forbidden = [
    ...sources.filter((path) => forbiddenPath.test(path)),
    ...inputs.flatMap(([path, input]) =>
      input.imports
        .filter((i) => forbiddenSpecifier(i.original ?? i.path))
        .map((i) => `${path} imports ${i.original ?? i.path}`),
    ),
  ];
  return {
    minBytes: out.length,
    gzBytes: gzipSync(out, { level: 9 }).length,
    modules: sources.length,
    read: inputs.length,
    sources,
    forbidden: [...new Set(forbidden)].sort(),
    metafile,
  };
}

/** The sources each file of dist/ holds, as the build recorded them (`dist/build-meta.json`). */
function buildSources(): Record<string, string[]> {
  const meta = `${root}dist/build-meta.json`;
  if (!existsSync(meta)) return {};
  return (JSON.parse(readFileSync(meta, "utf8")) as { outputs: Record<string, string[]> }).outputs;
}

/** Kilobytes of `paths`: on disk (blocks, as `du` counts them) or apparent (bytes of content, as npm's "unpacked size"). */
function duKb(paths: string[], apparent = false): number {
  if (paths.length === 0) return 0;
  const out = execFileSync("du", ["-sk", ...(apparent ? ["--apparent-size"] : []), ...paths], {
    encoding: "utf8",
  });
  return out
    .trim()
    .split("\n")
    .reduce((sum, line) => sum + Number(line.split(/\s+/)[0]), 0);
}

/** A package and everything it depends on at run time, as installed (flat node_modules). */
function closure(names: readonly string[], seen = new Set<string>()): string[] {
  for (const name of names) {
    if (seen.has(name)) continue;
    const dir = `${root}node_modules/${name}`;
    if (!existsSync(`${dir}/package.json`)) continue;
    seen.add(name);
    const pkg = JSON.parse(readFileSync(`${dir}/package.json`, "utf8")) as {
      dependencies?: Record<string, string>;
    };
    closure(Object.keys(pkg.dependencies ?? {}), seen);
  }
  return [...seen].map((name) => `${root}node_modules/${name}`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/** Wall milliseconds of `node --input-type=module -e <code>` in a fresh process, from the repository's root. */
function nodeMs(code: string): number {
  const started = process.hrtime.bigint();
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", code], { cwd: root, stdio: "pipe" });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (run.status !== 0) throw new Error(`node -e ${code} failed: ${run.stderr}`);
  return ms;
}

/** Median import time of each specifier over bare node, the runs interleaved so drift falls on all alike. */
function importTimes(specifiers: Record<string, string>, runs: number): Record<string, number> {
  const codes: Record<string, string> = { "bare node": "" };
  for (const [name, specifier] of Object.entries(specifiers))
    codes[name] = `await import(${JSON.stringify(specifier)});`;
  const names = Object.keys(codes);
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const name of names) nodeMs(codes[name] as string); // warm the file cache
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length] as string;
      times[name]?.push(nodeMs(codes[name] as string));
    }
  }
  const bare = median(times["bare node"] ?? []);
  return Object.fromEntries(
    names.filter((n) => n !== "bare node").map((n) => [n, median(times[n] ?? []) - bare]),
  );
}

/** RSS in MB of a fresh process after importing `specifier` (median of 3). */
function rssAfter(specifier: string): number {
  const code = `await import(${JSON.stringify(specifier)}); console.log(process.memoryUsage().rss / 1e6);`;
  const rss = [0, 1, 2].map(() =>
    Number(
      execFileSync(process.execPath, ["--input-type=module", "-e", code], { cwd: root, encoding: "utf8" }),
    ),
  );
  return median(rss);
}

const kb = (bytes: number) => bytes / 1024;
const verdict = (value: number, ceiling: number) => (value <= ceiling ? "met" : "NOT MET");

async function main(): Promise<void> {
  if (!existsSync(distEntry)) throw new Error("dist/ is missing: run `npm run build` first");
  const runs = Number(process.env.BENCH_IMPORT_RUNS ?? 21);

  const [client, withRun] = await Promise.all(Object.values(OUR_BUNDLES).map((entry) => bundle(entry)));
  const sdkBundle = await bundle(SDK_BUNDLE);
  if (!client || !withRun) throw new Error("unreachable: two bundles");

  const imports = importTimes({ ours: distEntry, "klaviyo-api": "klaviyo-api" }, runs);
  const oursMs = imports.ours ?? Number.NaN;
  const rssOurs = rssAfter(distEntry);
  const rssSdk = rssAfter("klaviyo-api");

  const ownDeps = Object.keys(
    (JSON.parse(readFileSync(`${root}package.json`, "utf8")) as { dependencies?: Record<string, string> })
      .dependencies ?? {},
  );
  const ourPaths = [`${root}dist`, `${root}bin`, `${root}package.json`, ...closure(ownDeps)];
  const ours = duKb(ourPaths);
  const oursBytes = duKb(ourPaths, true);
  const sdk = duKb(closure(["klaviyo-api"]));
  const sdkBytes = duKb(closure(["klaviyo-api"]), true);

  const row = (name: string, b: BundleReport) =>
    `  ${name.padEnd(44)} ${kb(b.gzBytes).toFixed(1).padStart(7)} KB min+gz  ${kb(b.minBytes).toFixed(1).padStart(8)} KB min  ${String(b.modules).padStart(5)} modules (${b.read} read)`;
  console.log("\nBundles (esbuild --bundle --minify --platform=node, gzip -9)");
  console.log(row("KlaviyoClient alone", client));
  console.log(row("KlaviyoClient + runAction", withRun));
  console.log(row("klaviyo-api: ApiKeySession, ListsApi", sdkBundle));
  console.log(`\nImport time over bare node (median of ${runs} fresh processes, interleaved)`);
  console.log(
    `  klaviyo-connector (dist/index.js)        ${oursMs.toFixed(1)} ms   RSS ${rssOurs.toFixed(1)} MB`,
  );
  console.log(
    `  klaviyo-api (official)                   ${(imports["klaviyo-api"] ?? Number.NaN).toFixed(1)} ms   RSS ${rssSdk.toFixed(1)} MB`,
  );
  console.log("\nInstalled size with runtime dependencies (reported, not a target)");
  console.log(
    `  klaviyo-connector   ${(ours / 1024).toFixed(1)} MB on disk (${(oursBytes / 1024).toFixed(1)} MB of content)`,
  );
  console.log(
    `  klaviyo-api         ${(sdk / 1024).toFixed(1)} MB on disk (${(sdkBytes / 1024).toFixed(1)} MB of content)`,
  );
  console.log("\nTargets");
  console.log(`  KlaviyoClient alone ≤ 20 KB min+gz: ${verdict(kb(client.gzBytes), 20)}`);
  console.log(`  KlaviyoClient + runAction ≤ 80 KB min+gz: ${verdict(kb(withRun.gzBytes), 80)}`);
  console.log(`  import ≤ 40 ms over bare node: ${verdict(oursMs, 40)}`);

  const sdkPeer = (value: number) => ({ "klaviyo-api (ApiKeySession, ListsApi)": value });
  record([
    {
      name: "bundle: KlaviyoClient alone (esbuild, min+gz)",
      unit: "KB",
      value: kb(client.gzBytes),
      peer: sdkPeer(kb(sdkBundle.gzBytes)),
      ceiling: 20,
    },
    {
      name: "bundle: KlaviyoClient + runAction (esbuild, min+gz)",
      unit: "KB",
      value: kb(withRun.gzBytes),
      peer: sdkPeer(kb(sdkBundle.gzBytes)),
      ceiling: 80,
    },
    {
      name: "bundle: KlaviyoClient alone, modules",
      unit: "count",
      value: client.modules,
      peer: sdkPeer(sdkBundle.modules),
      ceiling: null,
    },
    {
      name: "bundle: KlaviyoClient + runAction, modules",
      unit: "count",
      value: withRun.modules,
      peer: sdkPeer(sdkBundle.modules),
      ceiling: null,
    },
    {
      name: "time to import dist/index.js over bare node (median of fresh processes)",
      unit: "ms",
      value: oursMs,
      peer: {
        "klaviyo-api": imports["klaviyo-api"] ?? Number.NaN,
      },
      ceiling: 40,
    },
    {
      name: "RSS after import",
      unit: "MB",
      value: rssOurs,
      peer: { "klaviyo-api": rssSdk },
      ceiling: null,
    },
    {
      name: "installed size with runtime dependencies (on disk)",
      unit: "MB",
      value: ours / 1024,
      peer: { "klaviyo-api": sdk / 1024 },
      ceiling: null,
    },
    {
      name: "installed size with runtime dependencies (content, as npm's unpacked size)",
      unit: "MB",
      value: oursBytes / 1024,
      peer: { "klaviyo-api": sdkBytes / 1024 },
      ceiling: null,
    },
  ]);

  const stray = Object.entries({
    "KlaviyoClient alone": client,
    "KlaviyoClient + runAction": withRun,
  }).flatMap(([name, b]) => [
    ...b.forbidden.slice(0, 20).map((m) => `  ${name}: ${m}`),
    ...(b.forbidden.length > 20 ? [`  ${name}: … and ${b.forbidden.length - 20} more`] : []),
  ]);
  if (stray.length > 0) {
    console.error(
      `\nFAILED: the library's bundles hold modules of ${FORBIDDEN_FOLDERS.map((f) => `src/${f}`).join(", ")}, ${FORBIDDEN_PACKAGES.join(", ")}:\n${stray.join("\n")}`,
    );
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();
