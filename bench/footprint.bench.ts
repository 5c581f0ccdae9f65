/**
 * Footprint: installed size of the package with its runtime dependencies, and the time and memory to import it,
 * next to Klaviyo's official SDK (`klaviyo-api`, a dev dependency here). Import figures are medians of fresh
 * processes. Sizes are measured from node_modules as npm installed them (`npm ls --omit=dev`).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { record } from "./results.js";

const root = fileURLToPath(new URL("..", import.meta.url));

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

const ownDeps = Object.keys(
  (JSON.parse(readFileSync(`${root}package.json`, "utf8")) as { dependencies?: Record<string, string> })
    .dependencies ?? {},
);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

function importCost(code: string, runs = 5): { ms: number; rssMb: number } {
  const ms: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", code], {
      cwd: root,
      encoding: "utf8",
    });
    const [t, r] = out.trim().split(" ").map(Number);
    ms.push(t ?? Number.NaN);
    rss.push(r ?? Number.NaN);
  }
  return { ms: median(ms), rssMb: median(rss) };
}

const ourPaths = [`${root}dist`, `${root}bin`, `${root}package.json`, ...closure(ownDeps)];
const ours = duKb(ourPaths);
const oursBytes = duKb(ourPaths, true);
const sdk = duKb(closure(["klaviyo-api"]));
const sdkBytes = duKb(closure(["klaviyo-api"]), true);
const timing = (specifier: string, how: "import" | "require") =>
  how === "import"
    ? `const t = performance.now(); await import(${JSON.stringify(specifier)}); console.log((performance.now() - t).toFixed(1), (process.memoryUsage().rss / 1e6).toFixed(1));`
    : `import { createRequire } from "node:module"; const require = createRequire(${JSON.stringify(`${root}package.json`)}); const t = performance.now(); require(${JSON.stringify(specifier)}); console.log((performance.now() - t).toFixed(1), (process.memoryUsage().rss / 1e6).toFixed(1));`;
const importOurs = importCost(timing(`${root}dist/index.js`, "import"));
const importClient = importCost(timing(`${root}dist/core/client.js`, "import"));
const importSdk = importCost(timing("klaviyo-api", "require"));

console.log("\nFootprint (installed size with runtime dependencies; import: median of 5 fresh processes)");
console.log(
  `  klaviyo-connector        ${(ours / 1024).toFixed(1)} MB on disk (${(oursBytes / 1024).toFixed(1)} MB of content)   import ${importOurs.ms} ms, RSS ${importOurs.rssMb} MB`,
);
console.log(
  `  klaviyo-connector core   (the client alone)   import ${importClient.ms} ms, RSS ${importClient.rssMb} MB`,
);
console.log(
  `  klaviyo-api (official)   ${(sdk / 1024).toFixed(1)} MB on disk (${(sdkBytes / 1024).toFixed(1)} MB of content)   require ${importSdk.ms} ms, RSS ${importSdk.rssMb} MB`,
);
console.log("  targets: under 2 MB installed, under 50 ms to import");

record([
  {
    name: "installed size with runtime dependencies (on disk)",
    unit: "MB",
    value: ours / 1024,
    peer: { "klaviyo-api": sdk / 1024 },
    ceiling: 2,
  },
  {
    name: "installed size with runtime dependencies (content, as npm's unpacked size)",
    unit: "MB",
    value: oursBytes / 1024,
    peer: { "klaviyo-api": sdkBytes / 1024 },
    ceiling: 2,
  },
  {
    name: "time to import (median of 5 fresh processes)",
    unit: "ms",
    value: importOurs.ms,
    peer: { "klaviyo-api": importSdk.ms, "klaviyo-connector client alone": importClient.ms },
    ceiling: 50,
  },
  {
    name: "RSS after import",
    unit: "MB",
    value: importOurs.rssMb,
    peer: { "klaviyo-api": importSdk.rssMb },
    ceiling: null,
  },
]);
