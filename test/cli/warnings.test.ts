/**
 * No command prints Node's runtime warnings (a `MaxListenersExceededWarning` from many requests waiting on one
 * signal, say): stderr carries only the command's own lines. Each command runs as a user runs it, the real binary
 * against an emulator at Klaviyo's real limits with a network's delay, so requests wait in the limiter.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_API_KEY } from "../../src/emulator/index.js";
import { requireBuild, runCli, startCliEmulator } from "../helpers/cli.js";

/** What Node writes for a warning or a deprecation: `(node:1234) SomeWarning: …`. */
const NODE_WARNING = /\(node:\d+\)|Warning:|DeprecationWarning|ExperimentalWarning/;

let emulator: Awaited<ReturnType<typeof startCliEmulator>>;
const dir = mkdtempSync(join(tmpdir(), "klaviyo-warnings-"));
let env: Record<string, string>;

beforeAll(async () => {
  requireBuild();
  emulator = await startCliEmulator([
    "--rate-limits",
    "real",
    "--request-latency",
    "5-20",
    "--seed-profiles",
    "3000",
  ]);
  env = { KLAVIYO_API_KEY: DEV_API_KEY, KLAVIYO_BASE_URL: emulator.url, KLAVIYO_CONFIG_DIR: dir };
});
afterAll(async () => {
  await emulator?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("no runtime warnings on stderr", () => {
  it("ingest with 20 requests in flight, most of them waiting in the limiter on one signal", async () => {
    const file = join(dir, "events.ndjson");
    const lines = Array.from({ length: 25_000 }, (_, i) =>
      JSON.stringify({ metric: "Viewed", profile: { email: `w${i % 300}@example.com` }, properties: { i } }),
    );
    writeFileSync(file, `${lines.join("\n")}\n`);
    const res = await runCli(["ingest", "events", file, "--concurrency", "20"], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).not.toMatch(NODE_WARNING);
    expect(res.stderr).toBe(""); // no terminal: no progress line either
  }, 60_000);

  it("an export in time partitions, sized by the latency", async () => {
    const res = await runCli(["run", "list-profile", "--all", "--format", "id"], env);
    expect(res.code, res.stderr).toBe(0);
    const ids = res.stdout.trim().split("\n");
    const health = (await (await fetch(`${emulator.url}/__emulator/health`)).json()) as {
      resources: { profiles: number };
    };
    expect(new Set(ids).size).toBe(ids.length); // every profile exactly once
    expect(ids).toHaveLength(health.resources.profiles);
    expect(res.stderr).toBe("");
  }, 60_000);

  it("the demo, on its embedded emulator", async () => {
    const res = await runCli(["demo"], { KLAVIYO_CONFIG_DIR: dir });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).not.toMatch(NODE_WARNING);
  }, 60_000);
});
