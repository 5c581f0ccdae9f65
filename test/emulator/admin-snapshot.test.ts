import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createEmulator, DEV_API_KEY } from "../../src/emulator/index.js";
import { SnapshotWriter, serialize } from "../../src/emulator/snapshot.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "klaviyo-emulator-"));
  dirs.push(d);
  return d;
}

const headers = { Authorization: `Klaviyo-API-Key ${DEV_API_KEY}`, revision: "2026-07-15" };

describe("admin routes under /__emulator/", () => {
  it("health reports the version and what the emulator holds", async () => {
    const e = createEmulator({ seed: "demo" });
    const res = await e.fetch(`${e.baseUrl}/__emulator/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; resources: Record<string, number> };
    expect(body.status).toBe("ok");
    expect(body.resources.profiles).toBe(24);
    expect(body.resources.lists).toBe(3);
  });

  it("reset empties every resource, and admin calls never enter the Klaviyo request log", async () => {
    const e = createEmulator({ seedProfiles: 10 });
    await e.fetch(`${e.baseUrl}/api/accounts`, { headers });
    expect((await e.fetch(`${e.baseUrl}/__emulator/reset`, { method: "POST" })).status).toBe(204);
    expect(e.state.profiles.size).toBe(0);
    const log = (await (await e.fetch(`${e.baseUrl}/__emulator/requests`)).json()) as {
      requests: Array<{ path: string }>;
    };
    expect(log.requests.map((r) => r.path)).toEqual(["/api/accounts"]);
  });

  it("config changes faults, latency and rate limits while running, and refuses bad values", async () => {
    const e = createEmulator();
    const put = await e.fetch(`${e.baseUrl}/__emulator/config`, {
      method: "PUT",
      body: JSON.stringify({ faults: [{ kind: "503", probability: 1 }], rateLimits: "off" }),
    });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({
      faults: [{ kind: "503", probability: 1 }],
      latencyMs: 0,
      requestLatencyMs: 0,
      rateLimits: "off",
      eventVisibilityDelayMs: 0,
    });
    expect((await e.fetch(`${e.baseUrl}/api/accounts`, { headers })).status).toBe(503);
    const bad = await e.fetch(`${e.baseUrl}/__emulator/config`, {
      method: "PUT",
      body: JSON.stringify({ faults: [{ kind: "fire", probability: 2 }] }),
    });
    expect(bad.status).toBe(400);
    expect((await e.fetch(`${e.baseUrl}/__emulator/nothing`)).status).toBe(404);
  });
});

describe("--data-file snapshots", () => {
  it("saves the state atomically and a new emulator starts from it", async () => {
    const file = join(tempDir(), "state.json");
    const first = createEmulator({ dataFile: file, seed: "demo" });
    first.flush();
    const saved = JSON.parse(readFileSync(file, "utf8")) as { format: string; profiles: unknown[] };
    expect(saved.format).toBe("klaviyo-emulator-snapshot");
    expect(saved.profiles).toHaveLength(24);
    // No temporary file is left behind beside the snapshot.
    expect(readdirSync(join(file, ".."))).toEqual(["state.json"]);

    const second = createEmulator({ dataFile: file, seed: "demo" });
    expect(serialize(second.state)).toEqual(serialize(first.state));
    // The seed is not applied again over a loaded state.
    expect(second.state.profiles.size).toBe(24);
  });

  it("saves after a change made over HTTP (reset), without an explicit flush", async () => {
    const file = join(tempDir(), "state.json");
    const e = createEmulator({ dataFile: file, seedProfiles: 5 });
    await e.fetch(`${e.baseUrl}/__emulator/reset`, { method: "POST" });
    await new Promise((r) => setTimeout(r, 250));
    expect((JSON.parse(readFileSync(file, "utf8")) as { profiles: unknown[] }).profiles).toHaveLength(0);
  });

  it("refuses a file that is not a snapshot, clearly", () => {
    const file = join(tempDir(), "state.json");
    writeFileSync(file, '{"hello": 1}');
    expect(() => createEmulator({ dataFile: file })).toThrow(/not an emulator snapshot/);
  });
});

describe("seeding", () => {
  it("seeds 100,000 profiles with distinct emails", () => {
    const e = createEmulator({ seedProfiles: 100_000 });
    expect(e.state.profiles.size).toBe(100_000);
    const emails = new Set([...e.state.profiles.values()].map((p) => p.attributes.email));
    expect(emails.size).toBe(100_000);
  });
});

describe("seeding events", () => {
  it("records events over the profiles, readable through the API", async () => {
    const e = createEmulator({ seedProfiles: 10, seedEvents: 500, rateLimits: "off" });
    expect(e.state.events.size).toBe(500);
    expect(e.state.metrics.size).toBe(3);
    const res = await e.fetch(`${e.baseUrl}/api/events?page%5Bsize%5D=5`, { headers });
    const body = (await res.json()) as { data: Array<{ type: string }>; links: { next?: string } };
    expect(body.data).toHaveLength(5);
    expect(body.links.next).toBeDefined();
  });
  it("the demo seed has lists with members and events", () => {
    const e = createEmulator({ seed: "demo" });
    expect(e.state.events.size).toBe(60);
    expect([...e.state.memberships.values()].map((m) => m.size)).toEqual([24, 6, 4]);
  });
});

describe("a background save that fails", () => {
  it("is reported once, does not throw out of its timer, leaves no temporary file, and is tried again", async () => {
    const root = mkdtempSync(join(tmpdir(), "klaviyo-snapshot-fail-"));
    try {
      const dir = join(root, "data");
      mkdirSync(dir);
      const file = join(dir, "state.json");
      const emulator = createEmulator({ rateLimits: "off" });
      const errors: unknown[] = [];
      const writer = new SnapshotWriter(
        file,
        () => emulator.state,
        1,
        (error) => errors.push(error),
      );
      // The writer's timer, run by hand: nothing here depends on how fast the machine is.
      vi.useFakeTimers();
      const settle = async () => {
        vi.advanceTimersByTime(5);
      };
      rmSync(dir, { recursive: true }); // every save now fails (ENOENT)
      writer.changed();
      await settle();
      writer.changed();
      await settle();
      expect(errors).toHaveLength(1); // once, however many saves fail in a row
      expect(String(errors[0])).toMatch(/ENOENT/);
      mkdirSync(dir);
      writer.changed();
      await settle();
      expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(
        JSON.parse(JSON.stringify(serialize(emulator.state))),
      );
      expect(readdirSync(dir)).toEqual(["state.json"]);
      rmSync(dir, { recursive: true });
      writer.changed();
      await settle();
      expect(errors).toHaveLength(2); // failing again after a success is reported again
      expect(existsSync(dir)).toBe(false);
    } finally {
      vi.useRealTimers();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
