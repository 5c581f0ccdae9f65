/**
 * No flag given is ever silently ignored: for every command, every flag either has an effect (something sent or
 * printed changes) or is refused as a usage error (exit 2) naming it. The flags are read from the commander
 * definitions, so a new flag fails "every flag has a probe" until it is given one here. The CLI runs in-process
 * (`main`), against the emulator with the demo seed on a port (limits off) and a recording server for what must be
 * seen on the wire (headers, attempts, a slow answer).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AnyAction } from "../../src/actions/define.js";
import { actions } from "../../src/actions/index.js";
import { flagOf } from "../../src/actions/inputs.js";
import { inputsFromFlags, resultShape } from "../../src/cli/commands/run.js";
import { playgroundOptions } from "../../src/cli/commands/ui.js";
import { exampleFor } from "../../src/cli/examples.js";
import { buildProgram } from "../../src/cli/main.js";
import { DEV_API_KEY, type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { type InProcessResult, runInProcess } from "../helpers/cli-in-process.js";
import { closedPort, startServer, type TestServer } from "../helpers/servers.js";

/** What the recording server saw of one request. */
interface Seen {
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

type Result = InProcessResult;

const cli = runInProcess;

/** A usage error (exit 2) whose message names every one of `flags`. */
function expectRefused(result: Result, ...flags: string[]): void {
  expect(result.code, `${result.stderr}${result.stdout}`).toBe(2);
  for (const flag of flags) expect(result.stderr).toContain(flag);
}

let emulator: RunningEmulator;
let recorder: TestServer;
const seen: Seen[] = [];
let mode: "ok" | "slow" | "429" | "401" = "ok";
let dir: string;
const PROBE_KEY = "pk_probe_key_0123456789abcdef0123";
const saved = { ...process.env };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "klaviyo-flags-"));
  emulator = await startEmulator({ seed: "demo", rateLimits: "off" });
  recorder = await startServer((req, res) => {
    const entry: Seen = { url: req.url ?? "", headers: req.headers, body: "" };
    seen.push(entry);
    req.on("data", (chunk) => {
      entry.body += chunk;
    });
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/vnd.api+json", ...headers });
      res.end(JSON.stringify(body));
    };
    const error = (status: number, code: string) => ({
      errors: [{ status, code, title: code, detail: code }],
    });
    if (mode === "429") json(429, error(429, "throttled"), { "retry-after": "0" });
    else if (mode === "401") json(401, error(401, "not_authenticated"));
    else if (mode === "slow") setTimeout(() => json(200, { data: [] }), 400);
    else json(200, { data: [] });
  });
  for (const name of ["KLAVIYO_REDIS_URL", "KLAVIYO_TOKEN_ENCRYPTION_KEY", "KLAVIYO_CLIENT_SECRET"])
    delete process.env[name];
  process.env.KLAVIYO_API_KEY = DEV_API_KEY;
  process.env.KLAVIYO_BASE_URL = emulator.url;
  process.env.KLAVIYO_CONFIG_DIR = join(dir, "config");
  process.env.KLAVIYO_HEAP_TUNING = "off";
});
afterAll(async () => {
  process.env = saved;
  await emulator?.close();
  await recorder?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The shell words of an example line as `examples.ts` writes them: bare, '…' ('\'' inside) and "…" with $VAR. */
function words(line: string, vars: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c === " ") {
      if (word !== undefined) out.push(word);
      word = undefined;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      word = (word ?? "") + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      const end = line.indexOf('"', i + 1);
      word =
        (word ?? "") + line.slice(i + 1, end).replace(/\$(\w+)/g, (_m, name: string) => vars.get(name) ?? "");
      i = end;
    } else if (c === "\\") {
      word = (word ?? "") + (line[i + 1] ?? "");
      i++;
    } else word = (word ?? "") + c;
  }
  if (word !== undefined) out.push(word);
  return out;
}

/** Fast client-side limits for every call that does not probe them (the emulator's are off). */
const FAST = ["--rate-limit-scale", "1000"];

/**
 * An action's example made ready to run in-process: its lines before the last run (IDs set), the last one's
 * arguments returned (after `klaviyo`).
 */
async function exampleArgs(action: AnyAction): Promise<string[]> {
  const { lines } = exampleFor(action);
  const vars = new Map<string, string>();
  for (const line of lines.slice(0, -1)) {
    // A secret input's value is made by a line of its own (`SECRET_KEY=$(openssl rand -hex 32)`): made here alike.
    const secret = /^(\w+)=\$\(openssl rand -hex (\d+)\)$/.exec(line);
    if (secret?.[1] && secret[2]) {
      vars.set(secret[1], randomBytes(Number(secret[2])).toString("hex"));
      continue;
    }
    const m = /^(\w+)=\$\(klaviyo (.*)\)$/.exec(line);
    if (!m?.[1] || m[2] === undefined) throw new Error(`not an ID line: ${line}`);
    const result = await cli([...words(m[2], vars), ...FAST]);
    expect(result.code, `${line}: ${result.stderr}`).toBe(0);
    vars.set(m[1], result.stdout.trim());
  }
  // Create Profile's example fails the second time (its note says so: the email is taken): each run its own.
  // So does Create Tag's (the tag group has a tag of that name): each run its own name.
  return words(lines.at(-1) as string, vars)
    .slice(1)
    .map((word) =>
      word.replace(/^([\w.]+)@example\.com$/, (_m, user: string) => `${user}+${++runs}@example.com`),
    )
    .map((word, i, all) =>
      action.key === "create-tag" && all[i - 1] === "--name" ? `${word} ${++runs}` : word,
    );
}
let runs = 0;

/** What the recording server received during `run`. */
async function recorded(run: () => Promise<Result>, as: typeof mode = "ok") {
  const before = seen.length;
  mode = as;
  try {
    const result = await run();
    return { result, requests: seen.slice(before) };
  } finally {
    mode = "ok";
  }
}

const CONNECTION = [
  "--api-key",
  "--base-url",
  "--revision",
  "--timeout",
  "--max-retries",
  "--rate-limit-scale",
];
const isList = (action: AnyAction) => Object.values(action.inputs).some((d) => d.key === "limit");

/** The flags a command is expected to have, by its path: every one has a probe below. */
function expectedFlags(path: string[]): string[] {
  const [first, second] = path;
  if (first === "run" && second) {
    const action = actions.find((a) => a.key === second) as AnyAction;
    return [
      ...Object.values(action.inputs).map((d) => `--${flagOf(d.key)}`),
      "--inputs",
      ...CONNECTION,
      "--format",
      "--verbose",
      ...(isList(action) ? ["--all", "--parallel"] : []),
    ];
  }
  const ingest = ["--concurrency", "--unsent", "--verbose", ...CONNECTION];
  // changes and sync: their probes are in test/cli/changes.test.ts ("each flag acts or is refused").
  const feed = [
    "--since",
    "--list-id",
    "--segment-id",
    "--metric",
    "--metric-id",
    "--lookback",
    "--horizon",
    "--verbose",
    ...CONNECTION,
  ];
  const table: Record<string, string[]> = {
    changes: [...feed, "--state", "--follow", "--interval"],
    sync: [...feed, "--state", "--out"],
    // listen: its probes are in test/cli/listen.test.ts ("each flag acts or is refused").
    listen: [
      "--forward-to",
      "--topics",
      "--secret",
      "--from-feed",
      "--since",
      "--interval",
      "--horizon",
      "--lookback",
      "--once",
      "--max-deliveries",
      "--duration",
      "--verbose",
      ...CONNECTION,
    ],
    request: ["--query", "--header", "--data", "--response-type", "--include", "--no-auth", ...CONNECTION],
    "ingest events": ingest,
    "ingest profiles": [...ingest, "--list-id", "--job-timeout"],
    "ingest subscribe": [...ingest, "--list-id", "--historical-import", "--custom-source"],
    "ingest unsubscribe": [...ingest, "--list-id"],
    ui: ["--port", "--emulator", ...CONNECTION],
    demo: ["--base-url", "--api-key", "--yes"],
    "auth login": [
      "--client-id",
      "--client-secret",
      "--scopes",
      "--port",
      "--authorize-url",
      "--token-url",
      "--revoke-url",
      "--base-url",
      "--no-open",
      "--timeout",
    ],
    emulator: [
      "--port",
      "--host",
      "--api-key",
      "--rate-limits",
      "--request-latency",
      "--latency",
      "--faults",
      "--data-file",
      "--seed",
      "--seed-profiles",
      "--seed-events",
      "--oauth-client",
      "--access-token-ttl",
      // Its probe is in test/emulator/webhooks.test.ts.
      "--no-webhook-access",
    ],
  };
  const flags = table[path.join(" ")] ?? [];
  return path[0] === "request" ? [...flags, "--format", "--verbose"] : flags;
}

async function commands(): Promise<Array<{ path: string[]; command: Command }>> {
  const silent = { stdout: () => {}, stderr: () => {} };
  const names = (await buildProgram(["node", "klaviyo"], silent)).commands.map((c) => c.name());
  const out: Array<{ path: string[]; command: Command }> = [];
  for (const name of new Set(names)) {
    const program = await buildProgram(["node", "klaviyo", name], silent);
    const walk = (c: Command, path: string[]) => {
      out.push({ path, command: c });
      for (const sub of c.commands) walk(sub, [...path, sub.name()]);
    };
    walk(program.commands.find((c) => c.name() === name) as Command, [name]);
  }
  return out;
}

describe("every flag of every command is known here (a new flag fails until it has a probe)", () => {
  it("the flags of each command, from its commander definition", async () => {
    const all = await commands();
    expect(all.length).toBeGreaterThan(actions.length + 10);
    for (const { path, command } of all) {
      const actual = command.options.map((o) => o.long as string).sort();
      expect(actual, `klaviyo ${path.join(" ")}`).toEqual([...expectedFlags(path)].sort());
      // Two options with one flag would make one of them unreachable.
      expect(new Set(actual).size, `klaviyo ${path.join(" ")}`).toBe(actual.length);
    }
  });
});

describe("klaviyo run <action>: each flag acts or is refused, for every action", () => {
  it("every input flag reaches its input, by its key (as --inputs would give it)", async () => {
    const program = await buildProgram(["node", "klaviyo", "run"], { stdout: () => {}, stderr: () => {} });
    const run = program.commands.find((c) => c.name() === "run") as Command;
    for (const action of actions) {
      const sub = run.commands.find((c) => c.name() === action.key) as Command;
      for (const def of Object.values(action.inputs)) {
        const flag = `--${flagOf(def.key)}`;
        const value =
          def.type === "boolean"
            ? []
            : def.type === "key-value"
              ? ["k=v"]
              : def.type === "binary"
                ? ["aGk="]
                : [def.example ?? "x"];
        const parsed = sub.parseOptions([flag, ...value]);
        expect(parsed.unknown, `${action.key} ${flag}`).toEqual([]);
        const raw = inputsFromFlags(action, sub.opts(), () => Buffer.from(""));
        expect(raw[def.key], `${action.key} ${flag} → ${def.key}`).toBeDefined();
      }
    }
  });

  it("--api-key, --base-url and --revision are what is sent; --verbose adds the whole error", async () => {
    for (const action of actions) {
      const args = await exampleArgs(action);
      const sent = await recorded(() =>
        cli([
          ...args,
          ...FAST,
          "--base-url",
          recorder.url,
          "--api-key",
          PROBE_KEY,
          "--revision",
          "2025-01-15",
        ]),
      );
      expect(sent.requests.length, `${action.key}: ${sent.result.stderr}`).toBeGreaterThan(0);
      for (const request of sent.requests) {
        expect(request.headers.authorization).toBe(`Klaviyo-API-Key ${PROBE_KEY}`);
        expect(request.headers.revision).toBe("2025-01-15");
      }
      const quiet = await recorded(() => cli([...args, ...FAST, "--base-url", recorder.url]), "401");
      const verbose = await recorded(
        () => cli([...args, ...FAST, "--base-url", recorder.url, "--verbose"]),
        "401",
      );
      expect([quiet.result.code, verbose.result.code], action.key).toEqual([3, 3]);
      // One line without it; with it, the whole error (or a bulk action's reports of its refused requests).
      expect(quiet.result.stderr.trim().split("\n"), action.key).toHaveLength(1);
      expect(verbose.result.stderr.startsWith(quiet.result.stderr), action.key).toBe(true);
      expect(verbose.result.stderr.slice(quiet.result.stderr.length), action.key).toMatch(
        /"name": "AuthenticationError"|"httpStatus": 401/,
      );
    }
  }, 120_000);

  it("--timeout and --max-retries change the attempts (for Raw Request, --max-retries is its Max Retry Count)", async () => {
    for (const action of actions) {
      const args = await exampleArgs(action);
      const slow = await recorded(
        () => cli([...args, ...FAST, "--base-url", recorder.url, "--timeout", "100", "--max-retries", "0"]),
        "slow",
      );
      expect(slow.result.code, action.key).toBe(1);
      expect(slow.result.stderr, action.key).toMatch(/timed out/i);
      const retried = await recorded(
        () => cli([...args, ...FAST, "--base-url", recorder.url, "--max-retries", "1"]),
        "429",
      );
      expect(retried.result.code, action.key).toBe(1);
      expect(retried.requests, action.key).toHaveLength(2);
    }
    const raw0 = await exampleArgs(actions.find((a) => a.key === "raw-request") as AnyAction);
    expectRefused(
      await cli([...raw0, "--max-retries", "1", "--max-retry-count", "2"]),
      "--max-retries",
      "--max-retry-count",
    );
    const raw = await exampleArgs(actions.find((a) => a.key === "raw-request") as AnyAction);
    const slow = await recorded(() => cli([...raw, "--base-url", recorder.url, "--timeout", "100"]), "slow");
    expect(slow.result.stderr).toMatch(/timed out/i);
    expectRefused(
      await cli([...raw, "--timeout", "100", "--timeout-ms", "200"]),
      "--timeout",
      "--timeout-ms",
    );
    expectRefused(
      await cli([...raw, "--revision", "2025-01-15", "--header", "revision: 2024-10-15"]),
      "--revision",
      "revision",
    );
  }, 120_000);

  it("--rate-limit-scale paces the client (a walk of pages takes longer), and 0 is refused", async () => {
    const walk = ["run", "list-profile", "--all", "--page-size", "1", "--limit", "6"];
    const started = performance.now();
    const slow = await cli([...walk, "--rate-limit-scale", "0.02"]);
    const paced = performance.now() - started;
    expect(slow.code, slow.stderr).toBe(0);
    expect(slow.stdout.trim().split("\n")).toHaveLength(6);
    expect(paced).toBeGreaterThan(1000);
    for (const action of actions)
      expectRefused(await cli(["run", action.key, "--rate-limit-scale", "0"]), "--rate-limit-scale");
  }, 60_000);

  it("--inputs is read (a key that is no input is refused by name; a file that cannot be read, by the flag)", async () => {
    const file = join(dir, "unknown-input.json");
    writeFileSync(file, JSON.stringify({ noSuchInput: 1 }));
    for (const action of actions) {
      expectRefused(await cli(["run", action.key, "--inputs", file]), "noSuchInput");
      expectRefused(await cli(["run", action.key, "--inputs", join(dir, "missing.json")]), "--inputs");
    }
  });

  it("--format json, ndjson, table and id: shown so, or refused by name where the result holds no resources", async () => {
    for (const action of actions) {
      const shape = resultShape(action);
      for (const format of ["json", "ndjson", "table", "id"]) {
        const result = await cli([...(await exampleArgs(action)), ...FAST, "--format", format]);
        const where = `${action.key} --format ${format}: ${result.stderr}`;
        if ((format === "table" && shape !== "resources") || (format === "id" && shape === "report")) {
          expectRefused(result, "--format");
          continue;
        }
        expect(result.code, where).toBe(0);
        expect(result.stderr, where).toBe("");
        const lines = result.stdout.split("\n").filter((l) => l !== "");
        if (format === "json") expect(lines, where).toHaveLength(1);
        if (format === "ndjson")
          for (const line of lines) expect(() => JSON.parse(line), where).not.toThrow();
        if (format === "table") expect(lines[0], where).toMatch(/^id\s+type\b/);
        // One ID a line, nothing else (a webhook topic's ID has a colon and dots: event:klaviyo.received_email).
        if (format === "id") for (const line of lines) expect(line, where).toMatch(/^[\w.:-]+$/);
      }
    }
  }, 120_000);

  it("--all streams items, --limit caps it, --parallel walks partitions; the combinations that cannot be are refused", async () => {
    for (const action of actions.filter(isList)) {
      const args = await exampleArgs(action);
      // An endpoint without a page size (Get Metrics) has no --page-size: its pages are Klaviyo's.
      const onePerPage = Object.values(action.inputs).some((d) => d.key === "pageSize")
        ? ["--page-size", "1"]
        : [];
      const one = await cli([...args, ...FAST, ...onePerPage]);
      expect(one.code, one.stderr).toBe(0);
      expect(JSON.parse(one.stdout)).toHaveProperty("data");
      // One cursor, in the collection's order (--parallel 1); --all alone walks time partitions where it can, the
      // same items in another order.
      const all = await cli([...args, ...FAST, "--all", "--parallel", "1", ...onePerPage]);
      expect(all.code, `${action.key}: ${all.stderr}`).toBe(0);
      const items = all.stdout.split("\n").filter((l) => l !== "");
      for (const item of items) expect(JSON.parse(item)).toHaveProperty("id");
      const partitioned = await cli([...args, ...FAST, "--all", ...onePerPage]);
      expect(partitioned.code, `${action.key}: ${partitioned.stderr}`).toBe(0);
      expect(partitioned.stderr).toBe("");
      expect(
        partitioned.stdout
          .split("\n")
          .filter((l) => l !== "")
          .sort(),
        action.key,
      ).toEqual([...items].sort());
      const capped = await cli([...args, ...FAST, "--all", ...onePerPage, "--limit", "2"]);
      expect(capped.code, capped.stderr).toBe(0);
      expect(
        capped.stdout.split("\n").filter((l) => l !== ""),
        action.key,
      ).toEqual(items.slice(0, 2));
      const ids = await cli([...args, ...FAST, "--all", "--format", "id"]);
      expect(
        ids.stdout
          .split("\n")
          .filter((l) => l !== "")
          .sort(),
      ).toEqual(items.map((i) => (JSON.parse(i) as { id: string }).id).sort());
      expectRefused(await cli([...args, "--all", "--format", "table"]), "--format", "--all");
      expectRefused(await cli([...args, "--all", "--format", "json"]), "--format", "--all");
      expectRefused(await cli([...args, "--parallel", "2"]), "--parallel", "--all");
      expectRefused(
        await cli([...args, "--all", "--parallel", "2", "--cursor", "abc"]),
        "--parallel",
        "--cursor",
      );
      const parallel = await cli([...args, ...FAST, "--all", "--parallel", "2"]);
      expect(parallel.code, parallel.stderr).toBe(0);
      expect(
        parallel.stdout
          .split("\n")
          .filter((l) => l !== "")
          .sort(),
      ).toEqual([...items].sort());
      // Where the endpoint cannot be cut by creation time, it says so (the pages are walked one after another).
      if (parallel.stderr !== "") expect(parallel.stderr).toMatch(/^note: --parallel: /);
    }
  }, 120_000);

  it("the examples' list actions make --all --limit a real dry run: fewer items than the collection", async () => {
    const all = await cli(["run", "list-profile", "--all", ...FAST]);
    const three = await cli(["run", "list-profile", "--all", "--limit", "3", ...FAST]);
    const items = all.stdout.trim().split("\n");
    expect(items.length).toBeGreaterThanOrEqual(24);
    expect(three.stdout.trim().split("\n")).toEqual(items.slice(0, 3));
  });
});

describe("klaviyo request: each flag acts or is refused", () => {
  it("what is sent: -q, -H, --api-key, --revision, --base-url; --no-auth sends no key (and needs none)", async () => {
    const sent = await recorded(() =>
      cli([
        "request",
        "GET",
        "/api/lists",
        "-q",
        "page[size]=2",
        "-H",
        "X-Probe: yes",
        "--api-key",
        PROBE_KEY,
        "--revision",
        "2025-01-15",
        "--base-url",
        recorder.url,
      ]),
    );
    expect(sent.requests).toHaveLength(1);
    expect(decodeURIComponent(sent.requests[0]?.url ?? "")).toBe("/api/lists?page[size]=2");
    expect(sent.requests[0]?.headers["x-probe"]).toBe("yes");
    expect(sent.requests[0]?.headers.authorization).toBe(`Klaviyo-API-Key ${PROBE_KEY}`);
    expect(sent.requests[0]?.headers.revision).toBe("2025-01-15");
    delete process.env.KLAVIYO_API_KEY;
    try {
      const open = await recorded(() =>
        cli(["request", "GET", "/client/x", "--no-auth", "--base-url", recorder.url]),
      );
      expect(open.result.code, open.result.stderr).toBe(0);
      expect(open.requests[0]?.headers.authorization).toBeUndefined();
      expect((await cli(["request", "GET", "/api/x", "--base-url", recorder.url])).code).toBe(3);
    } finally {
      process.env.KLAVIYO_API_KEY = DEV_API_KEY;
    }
    expectRefused(
      await cli(["request", "GET", "/client/x", "--no-auth", "--api-key", PROBE_KEY]),
      "--api-key",
      "--no-auth",
    );
    const once = await recorded(
      () => cli(["request", "GET", "/api/lists", "--base-url", recorder.url]),
      "429",
    );
    const retried = await recorded(
      () =>
        cli(["request", "POST", "/api/lists", "-d", "{}", "--base-url", recorder.url, "--max-retries", "2"]),
      "429",
    );
    expect([once.requests.length, retried.requests.length]).toEqual([1, 3]);
    expectRefused(
      await cli(["request", "GET", "/api/lists", "--revision", "2025-01-15", "-H", "revision: 2024-10-15"]),
      "--revision",
    );
  });

  it("--timeout, -d, --response-type, -i, --format, --verbose", async () => {
    const slow = await recorded(
      () => cli(["request", "GET", "/api/lists", "--base-url", recorder.url, "--timeout", "100"]),
      "slow",
    );
    expect(slow.result.stderr).toMatch(/timed out/i);
    const made = await cli([
      "request",
      "POST",
      "/api/lists",
      "-d",
      '{"data":{"type":"list","attributes":{"name":"Via -d"}}}',
    ]);
    expect((JSON.parse(made.stdout) as { data: { attributes: { name: string } } }).data.attributes.name).toBe(
      "Via -d",
    );
    const text = await cli(["request", "GET", "/api/accounts", "--response-type", "text"]);
    expect(text.stdout.startsWith('{"data"')).toBe(true);
    const head = await cli(["request", "GET", "/api/accounts", "-i"]);
    expect(JSON.parse(head.stdout)).toMatchObject({ status: 200 });
    expect((await cli(["request", "GET", "/api/lists", "--format", "table"])).stdout).toMatch(
      /^id\s+type\s+name/,
    );
    const two = ["request", "GET", "/api/lists", "-q", "page[size]=2"];
    expect((await cli([...two, "--format", "id"])).stdout.trim().split("\n")).toHaveLength(2);
    expect((await cli([...two, "--format", "ndjson"])).stdout.trim().split("\n")).toHaveLength(2);
    const noResources = await cli([
      "request",
      "GET",
      "/api/accounts",
      "-q",
      "fields[account]=timezone",
      "--format",
      "id",
    ]);
    expect(noResources.code).toBe(0); // an account is a resource
    expectRefused(
      await cli(["request", "GET", "/api/accounts", "--response-type", "text", "--format", "table"]),
      "--format",
    );
    expectRefused(await cli(["request", "GET", "/api/accounts", "-i", "--format", "id"]), "--format");
    const verbose = await recorded(
      () => cli(["request", "GET", "/x", "--base-url", recorder.url, "--verbose"]),
      "401",
    );
    expect(verbose.result.stderr).toContain('"name": "AuthenticationError"');
    expectRefused(
      await cli(["request", "GET", "/api/lists", "--rate-limit-scale", "0"]),
      "--rate-limit-scale",
    );
  });
});

describe("klaviyo ingest: each flag acts or is refused", () => {
  it("--concurrency, --unsent, --verbose, --list-id, --historical-import, --custom-source and the connection flags", async () => {
    const events = join(dir, "events.ndjson");
    writeFileSync(
      events,
      `${JSON.stringify({ metric: "Probe", profile: { email: "probe@example.com" } })}\n`,
    );
    expectRefused(await cli(["ingest", "events", events, "--concurrency", "0"]), "--concurrency");
    const verbose = await cli(["ingest", "events", events, "--verbose", "--concurrency", "1"]);
    expect(JSON.parse(verbose.stdout)).toHaveProperty("requests");
    const unsent = join(dir, "left.ndjson");
    await cli(["ingest", "events", events, "--unsent", unsent]);
    expect(readFileSync(unsent, "utf8")).toBe(""); // written (every record accepted: nothing left)
    const sent = await recorded(() =>
      cli([
        "ingest",
        "events",
        events,
        "--base-url",
        recorder.url,
        "--api-key",
        PROBE_KEY,
        "--revision",
        "2025-01-15",
      ]),
    );
    expect(sent.requests[0]?.headers.authorization).toBe(`Klaviyo-API-Key ${PROBE_KEY}`);
    expect(sent.requests[0]?.headers.revision).toBe("2025-01-15");
    const slow = await recorded(
      () =>
        cli([
          "ingest",
          "events",
          events,
          "--base-url",
          recorder.url,
          "--timeout",
          "100",
          "--max-retries",
          "0",
        ]),
      "slow",
    );
    expect(slow.result.code).toBe(1);
    const retried = await recorded(
      () => cli(["ingest", "events", events, "--base-url", recorder.url, "--max-retries", "1"]),
      "429",
    );
    expect(retried.requests).toHaveLength(2);
    expectRefused(await cli(["ingest", "events", events, "--rate-limit-scale", "0"]), "--rate-limit-scale");

    const people = join(dir, "people.ndjson");
    writeFileSync(people, `${JSON.stringify({ email: "listed@example.com" })}\n`);
    const list = (
      await cli(["run", "create-list", "--list-name", "Ingested", "--format", "id"])
    ).stdout.trim();
    expect((await cli(["ingest", "subscribe", people, "--list-id", list])).code).toBe(0);
    const members = await cli(["run", "list-list-profiles", "--list-id", list, "--format", "id"]);
    expect(members.stdout.trim().split("\n")).toHaveLength(1);
    expectRefused(await cli(["ingest", "unsubscribe", people, "--list-id", "a b"]), "--list-id");
    // With --historical-import every consent needs consented_at: a record without it is rejected.
    const historical = await cli(["ingest", "subscribe", people, "--historical-import"]);
    expect(historical.code).toBe(2);
    expect(JSON.parse(historical.stdout).rejected[0].reason).toMatch(/consented_at/);
    const sourced = await recorded(() =>
      cli(["ingest", "subscribe", people, "--custom-source", "Probe form", "--base-url", recorder.url]),
    );
    expect(sourced.requests).toHaveLength(1);
    expect(sourced.requests[0]?.body).toContain('"custom_source":"Probe form"');

    // ingest profiles: --list-id adds the imported profiles to the list; --job-timeout is checked.
    const imported = join(dir, "imported.ndjson");
    writeFileSync(imported, `${JSON.stringify({ email: "imported@example.com", first_name: "Probe" })}\n`);
    const importList = (
      await cli(["run", "create-list", "--list-name", "Imported", "--format", "id"])
    ).stdout.trim();
    const importedRun = await cli([
      "ingest",
      "profiles",
      imported,
      "--list-id",
      importList,
      "--job-timeout",
      "60",
    ]);
    expect(importedRun.code, importedRun.stderr).toBe(0);
    const importedMembers = await cli([
      "run",
      "list-list-profiles",
      "--list-id",
      importList,
      "--format",
      "id",
    ]);
    expect(importedMembers.stdout.trim().split("\n")).toHaveLength(1);
    expectRefused(await cli(["ingest", "profiles", imported, "--list-id", "a b"]), "--list-id");
    expectRefused(await cli(["ingest", "profiles", imported, "--job-timeout", "0"]), "--job-timeout");
  });
});

describe("klaviyo ui, demo, auth login, emulator: each flag acts or is refused", () => {
  it("ui: the connection flags reach the playground's client; --emulator and --port are checked", () => {
    const env = { KLAVIYO_API_KEY: DEV_API_KEY, KLAVIYO_BASE_URL: emulator.url };
    const connected = playgroundOptions(
      { revision: "2025-01-15", timeout: "1234", maxRetries: "2", rateLimitScale: "0.5" },
      env,
    );
    expect(connected).toMatchObject({
      emulator: false,
      baseUrl: `${emulator.url}/`,
      client: { revision: "2025-01-15", timeoutMs: 1234, retry: { maxRetries: 2 } },
    });
    expect(connected.client?.rateLimiter).toBeDefined();
    expect(playgroundOptions({ emulator: true }, env)).toMatchObject({ emulator: true });
    expect(playgroundOptions({ port: "8123", emulator: true }, env)).toMatchObject({ port: 8123 });
    expect(playgroundOptions({ apiKey: PROBE_KEY, baseUrl: recorder.url }, {})).toMatchObject({
      baseUrl: `${recorder.url}/`,
    });
    expect(() => playgroundOptions({ emulator: true, baseUrl: recorder.url }, {})).toThrow(/--emulator/);
    expect(() => playgroundOptions({ port: "70000" }, {})).toThrow(/--port/);
  });

  it("demo: --base-url with --api-key sends the tour there; --yes and --api-key without --base-url are refused", async () => {
    expectRefused(await cli(["demo", "--yes"]), "--yes", "--base-url");
    expectRefused(await cli(["demo", "--api-key", PROBE_KEY]), "--api-key", "--base-url");
    const unconfirmed = await cli(["demo", "--base-url", recorder.url, "--api-key", PROBE_KEY]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/--yes/);
    const sent = await recorded(() =>
      cli(["demo", "--base-url", recorder.url, "--api-key", PROBE_KEY, "--yes"]),
    );
    expect(sent.requests.length).toBeGreaterThan(0);
    expect(sent.requests[0]?.headers.authorization).toBe(`Klaviyo-API-Key ${PROBE_KEY}`);
  }, 60_000);

  it("auth login: every flag is checked before anything is listened on, and shows in what it prints", async () => {
    process.env.KLAVIYO_CLIENT_SECRET = "probe-secret";
    try {
      const base = ["auth", "login", "--client-id", "probe-app", "--no-open"];
      expectRefused(await cli(["auth", "login", "--client-id", " "]), "--client-id");
      expectRefused(await cli([...base, "--port", "x"]), "--port");
      expectRefused(await cli([...base, "--timeout", "0"]), "--timeout");
      for (const flag of ["--authorize-url", "--token-url", "--revoke-url", "--base-url"])
        expectRefused(await cli([...base, flag, "not a url"]), flag);
      const port = new URL(await closedPort()).port;
      const waited = await cli([
        ...base,
        "--port",
        port,
        "--timeout",
        "1",
        "--scopes",
        "lists:read",
        "--base-url",
        "http://127.0.0.1:9",
        "--authorize-url",
        "http://127.0.0.1:9/a",
        "--token-url",
        "http://127.0.0.1:9/t",
        "--revoke-url",
        "http://127.0.0.1:9/r",
      ]);
      expect(waited.code).toBe(1);
      expect(waited.stderr).toMatch(/no callback within 1 s/);
      const authorize = new URL(waited.stdout.trim());
      expect(authorize.origin + authorize.pathname).toBe("http://127.0.0.1:9/a");
      expect(authorize.searchParams.get("client_id")).toBe("probe-app");
      expect(authorize.searchParams.get("scope")).toBe("lists:read");
      expect(authorize.searchParams.get("redirect_uri")).toBe(`http://127.0.0.1:${port}/callback`);
      expect(waited.stderr).toContain(
        "Logging in for http://127.0.0.1:9 (tokens from http://127.0.0.1:9/t, revoked at http://127.0.0.1:9/r)",
      );
      delete process.env.KLAVIYO_CLIENT_SECRET;
      const noSecret = await cli([...base, "--port", port]);
      expect(noSecret.code).toBe(2);
      expect(noSecret.stderr).toMatch(/client secret is required/);
    } finally {
      delete process.env.KLAVIYO_CLIENT_SECRET;
    }
  });

  it("emulator: a bad value of each flag that takes one is refused by name before listening", async () => {
    const bad: Record<string, string> = {
      "--port": "70000",
      "--api-key": "has space:accounts:read",
      "--rate-limits": "fast",
      "--request-latency": "80-20",
      "--latency": "-1",
      "--faults": "boom=1",
      "--seed": "huge",
      "--seed-profiles": "0",
      "--seed-events": "0",
      "--oauth-client": "nope",
      "--access-token-ttl": "0",
    };
    for (const [flag, value] of Object.entries(bad)) {
      const result = await cli(["emulator", flag, value]);
      expect(result.code, `${flag} ${value}: ${result.stderr}`).toBe(2);
      expect(result.stderr, flag).toMatch(new RegExp(`${flag.replace(/^--/, "")}|Unknown|seed`, "i"));
    }
    // --host, --data-file: where it listens and what it loads, seen in test/emulator/cli.test.ts and
    // test/reliability/data-file-crash.test.ts.
  });
});
