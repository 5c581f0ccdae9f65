import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connections } from "../../src/actions/connections.js";
import { actions as registry } from "../../src/actions/index.js";
import { tour } from "../../src/cli/commands/demo-tour.js";
import { requireBuild, runCli, startCliEmulator } from "../helpers/cli.js";
import { closedPort } from "../helpers/servers.js";

const KEY = "pk_cli_test_key_abcdef0123456789abcd";
let emulator: Awaited<ReturnType<typeof startCliEmulator>>;

beforeAll(async () => {
  requireBuild();
  emulator = await startCliEmulator(["--api-key", KEY, "--seed", "demo"]);
});
afterAll(async () => {
  expect(await emulator.stop()).toBe(0);
});

describe("klaviyo run, the real binary against the emulator on a real port", () => {
  it("List Accounts then Get Account, JSON on stdout, key from the environment", async () => {
    const env = { KLAVIYO_API_KEY: KEY, KLAVIYO_BASE_URL: emulator.url };
    const list = await runCli(["run", "list-accounts"], env);
    expect(list.stderr).toBe("");
    expect(list.code).toBe(0);
    const id = (JSON.parse(list.stdout) as { data: Array<{ id: string }> }).data[0]?.id;
    expect(id).toMatch(/^\w{6}$/);
    const one = await runCli(
      ["run", "get-account", "--account-id", id ?? "", "--fields", "timezone,locale"],
      env,
    );
    expect(one.code).toBe(0);
    const doc = JSON.parse(one.stdout) as { data: { id: string; attributes: Record<string, unknown> } };
    expect(doc.data.id).toBe(id);
    expect(Object.keys(doc.data.attributes).sort()).toEqual(["locale", "timezone"]);
  });

  it("a bad input exits 2 naming the input, before any request (the base URL is a closed port)", async () => {
    const nowhere = await closedPort();
    const res = await runCli(["run", "get-account", "--api-key", KEY, "--base-url", nowhere]);
    expect(res.code).toBe(2);
    expect(res.stderr).toBe("error: Get Account: Account ID: is required\n");
    const fields = await runCli([
      "run",
      "list-accounts",
      "--fields",
      "timezone,shoe_size",
      "--api-key",
      KEY,
      "--base-url",
      nowhere,
    ]);
    expect(fields.code).toBe(2);
    expect(fields.stderr).toMatch(/Fields: unknown field "shoe_size"/);
  });

  it("a malformed key exits 2 without echoing it; a wrong key exits 3 with Klaviyo's 401, key never shown", async () => {
    const spaced = "pk_has a_space_in_it_0123456789";
    const bad = await runCli(["run", "list-accounts", "--api-key", spaced, "--base-url", emulator.url]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/API Key: contains whitespace/);
    const wrong = "pk_not_known_to_the_emulator_000000";
    const denied = await runCli(["run", "list-accounts", "--api-key", wrong, "--base-url", emulator.url]);
    expect(denied.code).toBe(3);
    expect(denied.stderr).toMatch(/401.*Incorrect authentication credentials/);
    for (const out of [bad.stdout, bad.stderr, denied.stdout, denied.stderr]) {
      expect(out).not.toContain(spaced);
      expect(out).not.toContain(wrong);
    }
  });

  it("a network failure exits 1 with a one-line message", async () => {
    const res = await runCli([
      "run",
      "list-accounts",
      "--api-key",
      KEY,
      "--base-url",
      await closedPort(),
      "--timeout",
      "2000",
    ]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(
      /^error: Could not reach http:\/\/127\.0\.0\.1:\d+ for GET \/api\/accounts \(ECONNREFUSED\)\n$/,
    );
  });

  it("klaviyo actions lists every action, one line each; klaviyo manifest prints them all as JSON", async () => {
    const res = await runCli(["actions"]);
    expect(res.code).toBe(0);
    const lines = res.stdout.trim().split("\n");
    expect(lines).toHaveLength(registry.length);
    // In label order: the first is the first label (Add Profiles to List once the everyday actions joined).
    expect(lines.map((line) => line.split(/\s+/)[0])).toEqual(registry.map((a) => a.key));
    expect(lines[0]).toMatch(/^add-profiles-to-list\s+Add Profiles to List$/);
    expect(lines).toContainEqual(expect.stringMatching(/^bulk-create-events\s+Bulk Create Events$/));
    expect(lines).toContainEqual(expect.stringMatching(/^raw-request\s+Raw Request$/));
    const manifest = await runCli(["manifest"]);
    expect(manifest.code).toBe(0);
    const doc = JSON.parse(manifest.stdout) as { actions: Array<{ key: string }>; connections: unknown[] };
    expect(doc.actions).toHaveLength(registry.length);
    expect(doc.connections).toHaveLength(connections.length);
  });

  it("--inputs takes a JSON object from standard input, and flags override it", async () => {
    const env = { KLAVIYO_API_KEY: KEY, KLAVIYO_BASE_URL: emulator.url };
    const created = await runCli(
      ["run", "create-list", "--inputs", "-"],
      env,
      JSON.stringify({ listName: "From stdin" }),
    );
    expect(created.code).toBe(0);
    const id = (JSON.parse(created.stdout) as { data: { id: string; attributes: { name: string } } }).data;
    expect(id.attributes.name).toBe("From stdin");
    const renamed = await runCli(
      ["run", "update-list", "--inputs", "-", "--list-name", "From a flag"],
      env,
      JSON.stringify({ listId: id.id, listName: "ignored" }),
    );
    expect(renamed.code).toBe(0);
    expect(
      (JSON.parse(renamed.stdout) as { data: { attributes: { name: string } } }).data.attributes.name,
    ).toBe("From a flag");
  });
});

describe("klaviyo demo", () => {
  it("on an account without a draft flow, skips the flow steps saying why, runs the rest and exits 0", async () => {
    const bare = await startCliEmulator(["--api-key", KEY]);
    try {
      const res = await runCli(["demo", "--base-url", bare.url, "--api-key", KEY, "--yes"]);
      expect(res.code).toBe(0);
      const rows = res.stdout.trim().split("\n");
      const skipped = rows.filter((r) => r.includes("skipped: the account has no draft flow"));
      expect(skipped.map((r) => r.split(/\s+/)[0])).toEqual([
        "get-flow",
        "update-flow-status",
        "update-flow-status",
      ]);
      const steps = tour("x").length;
      expect(rows.at(-1)).toBe(
        `${steps - 3}/${steps} steps succeeded, 3 skipped (${registry.length} actions)`,
      );
    } finally {
      expect(await bare.stop()).toBe(0);
    }
  });

  it("runs every one of the actions against the embedded emulator, one row each, and exits 0", async () => {
    const res = await runCli(["demo"]);
    expect(res.code).toBe(0);
    const rows = res.stdout.trim().split("\n");
    const steps = tour("x").length;
    expect(rows.at(-1)).toBe(`${steps}/${steps} steps succeeded (${registry.length} actions)`);
    const actions = new Set(rows.slice(0, -1).map((r) => r.split(/\s+/)[0]));
    expect(actions.size).toBe(registry.length);
    expect(rows[0]).toMatch(/^list-accounts\s+200\s+\d+ ms\s+1 item\(s\)$/);
    expect(rows).toContainEqual(expect.stringMatching(/^upload-image \(from file\)\s+201 /));
    expect(rows).toContainEqual(expect.stringMatching(/^delete-list\s+204 .*deleted \w+$/));
    expect(res.stderr).toMatch(/embedded Klaviyo emulator/);
  });

  it("against a server named with --base-url it warns, wants --yes when not on a terminal, and fails where refused", async () => {
    const unconfirmed = await runCli(["demo", "--base-url", emulator.url, "--api-key", KEY]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/will create, change and then delete/);
    expect(unconfirmed.stderr).toMatch(/pass --yes/);
    expect(unconfirmed.stdout).toBe("");
    const ok = await runCli(["demo", "--base-url", emulator.url, "--api-key", KEY, "--yes"]);
    expect(ok.code).toBe(0);
    const wrong = "pk_wrong_key_for_the_demo_000000";
    const refused = await runCli(["demo", "--base-url", emulator.url, "--api-key", wrong, "--yes"]);
    expect(refused.code).toBe(3); // authentication, as the exit-code table says
    expect(refused.stdout).toMatch(/list-accounts\s+401/);
    expect(refused.stdout + refused.stderr).not.toContain(wrong);
  });
});
