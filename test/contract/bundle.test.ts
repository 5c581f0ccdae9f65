/**
 * What a user's bundler pulls in from the built package: the bundles bench/footprint.bench.ts measures (KlaviyoClient
 * alone; KlaviyoClient with runAction, which reaches every action), built with esbuild from dist/, must hold no module
 * of the emulator, the CLI, the playground, the platform adapters, the Redis stores, `@redis/client` or
 * `@opentelemetry`. A structural check: sizes and timings are the benchmark's, not asserted here.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { bundle, FORBIDDEN_FOLDERS, OUR_BUNDLES } from "../../bench/footprint.bench.js";
import { requireBuild } from "../helpers/cli.js";

const dist = fileURLToPath(new URL("../../dist/", import.meta.url));

describe("the library's bundles, built with esbuild from dist/", () => {
  it.each(Object.entries(OUR_BUNDLES))(
    "%s holds no module of the faces, the Redis stores, @redis/client or @opentelemetry",
    async (_name, entry) => {
      requireBuild();
      const report = await bundle(entry);
      expect(report.forbidden).toEqual([]);
      // It is the library that was bundled: the client is in it, with code.
      expect(report.sources).toContain("src/core/client.ts");
      expect(report.modules).toBeGreaterThan(1);
      expect(report.gzBytes).toBeGreaterThan(0);
    },
    60_000,
  );

  it("runAction's bundle reaches the actions", async () => {
    requireBuild();
    const report = await bundle(OUR_BUNDLES["KlaviyoClient + runAction"]);
    expect(report.sources).toContain("src/actions/index.ts");
  }, 60_000);

  it("the check sees a forbidden module where there is one (the emulator's and the Redis stores' entries)", async () => {
    requireBuild();
    const emulator = await bundle(
      `export { createEmulator } from ${JSON.stringify(`${dist}emulator/index.js`)};`,
    );
    expect(emulator.forbidden).toContain("src/emulator/app.ts");
    const redis = await bundle(`export * from ${JSON.stringify(`${dist}redis/index.js`)};`);
    expect(redis.forbidden.some((m) => m.startsWith("src/redis/"))).toBe(true);
    expect(redis.forbidden.some((m) => m.includes("@redis/client"))).toBe(true);
    expect(FORBIDDEN_FOLDERS).toContain("emulator");
  }, 60_000);
});
