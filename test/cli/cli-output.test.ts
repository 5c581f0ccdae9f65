/** The CLI as scripts use it: formats, streaming, `request`, exit codes, errors — the real binary, a real port. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireBuild, runCli, startCliEmulator } from "../helpers/cli.js";
import { closedPort } from "../helpers/servers.js";

const KEY = "pk_cli_output_key_abcdef0123456789ab";
let emulator: Awaited<ReturnType<typeof startCliEmulator>>;
let env: Record<string, string>;

beforeAll(async () => {
  requireBuild();
  emulator = await startCliEmulator([
    "--api-key",
    KEY,
    "--rate-limits",
    "off",
    "--seed-profiles",
    "250",
    "--seed",
    "demo",
  ]);
  env = { KLAVIYO_API_KEY: KEY, KLAVIYO_BASE_URL: emulator.url };
});
afterAll(async () => {
  await emulator.stop();
});

describe("output formats", () => {
  it("JSON is one compact line when piped; ndjson gives one item per line; table gives rows", async () => {
    const json = await runCli(["run", "list-lists"], env);
    expect(json.code).toBe(0);
    expect(json.stdout.trim().split("\n")).toHaveLength(1);
    expect((JSON.parse(json.stdout) as { data: unknown[] }).data.length).toBeGreaterThan(0);

    const ndjson = await runCli(["run", "list-profile", "--page-size", "7", "--format", "ndjson"], env);
    const lines = ndjson.stdout.trim().split("\n");
    expect(lines).toHaveLength(7);
    expect((JSON.parse(lines[0] ?? "") as { type: string }).type).toBe("profile");

    const table = await runCli(["run", "list-lists", "--format", "table"], env);
    const rows = table.stdout.trim().split("\n");
    expect(rows[0]).toMatch(/^id\s+type\s+name/);
    expect(rows.slice(1).some((r) => /\blist\b.*Newsletter/.test(r))).toBe(true);

    const bad = await runCli(["run", "list-lists", "--format", "xml"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--format: must be json, ndjson, table or id/);
  });

  it("--all streams every item of every page as NDJSON, each exactly once", async () => {
    const res = await runCli(["run", "list-profile", "--all", "--page-size", "40"], env);
    expect(res.code).toBe(0);
    const ids = res.stdout
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids).toHaveLength(274); // 250 seeded + 24 of the demo seed
    expect(new Set(ids).size).toBe(274);
    // stderr is not a terminal: no progress, nothing decorative.
    expect(res.stderr).toBe("");
  });
});

describe("klaviyo request", () => {
  it("GET with query parameters prints the body; -i adds status and headers", async () => {
    const res = await runCli(
      ["request", "GET", "/api/lists", "-q", "fields[list]=name", "-q", "page[size]=2"],
      env,
    );
    expect(res.code).toBe(0);
    const body = JSON.parse(res.stdout) as { data: Array<{ attributes: Record<string, unknown> }> };
    expect(body.data).toHaveLength(2);
    expect(Object.keys(body.data[0]?.attributes ?? {})).toEqual(["name"]);
    const withHead = await runCli(["request", "GET", "/api/accounts", "-i"], env);
    const full = JSON.parse(withHead.stdout) as { status: number; headers: Record<string, string> };
    expect(full.status).toBe(200);
    expect(full.headers["content-type"]).toBe("application/vnd.api+json");
  });

  it("POST a body from standard input; an absolute URL is refused before sending", async () => {
    const created = await runCli(
      ["request", "POST", "/api/lists", "-d", "-"],
      env,
      JSON.stringify({ data: { type: "list", attributes: { name: "Made by request" } } }),
    );
    expect(created.code).toBe(0);
    expect(
      (JSON.parse(created.stdout) as { data: { attributes: { name: string } } }).data.attributes.name,
    ).toBe("Made by request");
    const evil = await runCli(["request", "GET", "https://evil.example/api/lists"], env);
    expect(evil.code).toBe(2);
    expect(evil.stderr).toMatch(/^error: .*URL/);
  });
});

describe("exit codes and errors", () => {
  it("0 ok, 1 API error (404), 2 bad input, 3 authentication; one line each, --verbose adds the error without secrets", async () => {
    expect((await runCli(["run", "list-accounts"], env)).code).toBe(0);
    const missing = await runCli(["run", "get-list", "--list-id", "NoSuch"], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(missing.stderr).toMatch(/^error: Klaviyo API 404 \(GET \/api\/lists\/NoSuch\): /);
    const badInput = await runCli(["run", "create-profile", "--email", "not-an-email"], env);
    expect(badInput.code).toBe(2);
    expect(badInput.stderr).toMatch(/Individual's email address: is not an email address/);
    const wrongKey = "pk_not_this_one_0000000000000000000";
    const auth = await runCli(["run", "list-lists", "--api-key", wrongKey], {
      KLAVIYO_BASE_URL: emulator.url,
    });
    expect(auth.code).toBe(3);
    const verbose = await runCli(["run", "list-lists", "--api-key", wrongKey, "--verbose"], {
      KLAVIYO_BASE_URL: emulator.url,
    });
    expect(verbose.code).toBe(3);
    expect(verbose.stderr).toMatch(/"name": "AuthenticationError"/);
    expect(verbose.stderr).toMatch(/"code": "authentication_failed"/);
    expect(verbose.stderr + verbose.stdout).not.toContain(wrongKey);
    const network = await runCli(
      ["run", "list-lists", "--base-url", await closedPort(), "--max-retries", "0"],
      { KLAVIYO_API_KEY: KEY },
    );
    expect(network.code).toBe(1);
    expect(network.stderr).toMatch(/ECONNREFUSED/);
  });

  it("describe shows an action's inputs with their flags, defaults and an example", async () => {
    const res = await runCli(["describe", "list-campaigns"]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^List Campaigns \(list-campaigns\)/);
    expect(res.stdout).toMatch(
      /Filter Campaigns {2}--filter {2}filter {2}\(text, optional, default "equals\(messages.channel,'sms'\)"\)/,
    );
    expect(res.stdout).toMatch(/Message Fields {2}--message-fields {2}messageFields {2}\(fields, optional\)/);
    expect(res.stdout).toMatch(/Example:\n {2}\$ klaviyo run list-campaigns/);
    const unknown = await runCli(["describe", "nope"]);
    expect(unknown.code).toBe(2);
  });
});

describe("progress", () => {
  /** Runs List Profile with `flags`, stderr a terminal and stdout not: the exit code and what each received. */
  async function listProfilesOnATerminal(flags: Record<string, unknown>) {
    const { runWithFlags } = await import("../../src/cli/commands/run.js");
    const { getAction } = await import("../../src/actions/index.js");
    let out = "";
    let err = "";
    const io = {
      stdout: (t: string) => {
        out += t;
      },
      stderr: (t: string) => {
        err += t;
      },
      stdoutIsTerminal: false,
      stderrIsTerminal: true,
    };
    const action = getAction("list-profile");
    if (!action) throw new Error("no list-profile");
    const code = await runWithFlags(
      action,
      { all: true, pageSize: "100", apiKey: KEY, baseUrl: emulator.url, ...flags },
      io,
    );
    return { code, out, err };
  }

  it("on a terminal, --all reports items and rate on stderr; the items still go to stdout", async () => {
    // One cursor: a line per page of 100.
    const { code, out, err } = await listProfilesOnATerminal({ parallel: "1" });
    expect(code).toBe(0);
    expect(out.trim().split("\n")).toHaveLength(274);
    expect(err).toMatch(/\r100 items, \d+\/s\r200 items, \d+\/s\r274 items, \d+\/s\n$/);
  });

  it("a partitioned --all (the default) counts up to every item, once, as the partitions' pages arrive", async () => {
    const { code, out, err } = await listProfilesOnATerminal({});
    expect(code).toBe(0);
    const ids = out
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { id: string }).id);
    expect(new Set(ids).size).toBe(274);
    expect(ids).toHaveLength(274);
    expect(err).toMatch(/^(\r\d+ items, \d+\/s)+\n$/);
    const counts = [...err.matchAll(/\r(\d+) items/g)].map((m) => Number(m[1]));
    expect(counts.at(-1)).toBe(274);
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeGreaterThan(counts[i - 1] as number);
  });
});
