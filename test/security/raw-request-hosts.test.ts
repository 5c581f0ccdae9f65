/**
 * Raw Request sends the connection's credentials to the connection's base URL and nowhere else. A second listener
 * on loopback (the canary) records every connection made to it, not only requests, and must see none, whatever
 * path is given: full URLs, protocol-relative `//host`, backslashes, `@` user-info, percent-encoded hosts, dot
 * segments, control characters, look-alike slashes. Each path is either refused before sending, with an input
 * error naming URL, or arrives at the base URL's listener as a path under the base URL's own path.
 *
 * The base URL side is the emulator, on a real port behind a recording forwarder (so the request target is seen
 * exactly as sent), and a plain recorder mounted under a path prefix (`/klaviyo`), for the paths that would climb
 * out of a prefix.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAction } from "../../src/actions/index.js";
import { KlaviyoClient } from "../../src/core/client.js";
import { ApiError, InputValidationError } from "../../src/core/errors.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { requireBuild, runCli } from "../helpers/cli.js";
import { type Canary, type RecordingServer, startCanary, startRecorder } from "./helpers.js";

const KEY = "pk_hosts_test_key_5b1e0c9d7a3f2468";

let canary: Canary;
let emulator: RunningEmulator;
/** The emulator's side: a forwarder in front of it that records each request target as it arrives. */
let root: RecordingServer;
/** A base URL with a path: `http://127.0.0.1:PORT/klaviyo`. */
let prefixed: RecordingServer;

interface Base {
  readonly name: string;
  readonly recorder: () => RecordingServer;
  /** The base URL's path, without its trailing slash. */
  readonly prefix: string;
  readonly client: () => KlaviyoClient;
}

const clients = new Map<string, KlaviyoClient>();
const clientFor = (baseUrl: string) => {
  let client = clients.get(baseUrl);
  if (!client) {
    client = new KlaviyoClient({ apiKey: KEY, baseUrl, rateLimiter: false, retry: { maxRetries: 0 } });
    clients.set(baseUrl, client);
  }
  return client;
};

const BASES: readonly Base[] = [
  { name: "the emulator", recorder: () => root, prefix: "", client: () => clientFor(root.url) },
  {
    name: "a base URL with a path",
    recorder: () => prefixed,
    prefix: "/klaviyo",
    client: () => clientFor(`${prefixed.url}/klaviyo`),
  },
];

beforeAll(async () => {
  canary = await startCanary();
  emulator = await startEmulator({ rateLimits: "off", apiKeys: [{ key: KEY }] });
  root = await startRecorder({ forwardTo: emulator.url });
  prefixed = await startRecorder();
});

afterAll(async () => {
  await Promise.all([root?.close(), prefixed?.close(), emulator?.close(), canary?.close()]);
});

type Via = "Raw Request" | "client.request";

/**
 * Sends `path` to `base` by Raw Request or by the client's own `request`, and checks the outcome: refused before
 * sending (an input error naming URL, nothing arrived), or exactly one request arrived at the base, under its path.
 */
async function attempt(base: Base, via: Via, path: string): Promise<"refused" | "sent"> {
  const recorder = base.recorder();
  const before = recorder.requests.length;
  let outcome: "refused" | "sent";
  try {
    if (via === "Raw Request")
      await runAction("raw-request", { url: path, method: "GET" }, { client: base.client() });
    else await base.client().request({ method: "GET", path });
    outcome = "sent";
  } catch (error) {
    if (error instanceof InputValidationError) {
      expect(error.issues.map((i) => i.label)).toContain("URL");
      outcome = "refused";
    } else if (error instanceof ApiError) {
      outcome = "sent"; // the base answered, say 404: what matters is where the request went
    } else {
      throw error; // anything else is a crash
    }
  }
  const arrived = recorder.requests.slice(before);
  if (outcome === "refused") {
    expect(arrived, `${via} ${JSON.stringify(path)} was refused, yet sent`).toEqual([]);
  } else {
    expect(arrived, `${via} ${JSON.stringify(path)}`).toHaveLength(1);
    const target = arrived[0]?.url ?? "";
    expect(target.startsWith(`${base.prefix}/`), `${JSON.stringify(path)} arrived as ${target}`).toBe(true);
    expect(target.startsWith("//"), `${JSON.stringify(path)} arrived as ${target}`).toBe(false);
    expect(new URL(target, `${recorder.url}/`).origin).toBe(recorder.url);
    expect(arrived[0]?.headers.authorization).toBe(`Klaviyo-API-Key ${KEY}`);
  }
  return outcome;
}

function expectCanaryUntouched(): void {
  expect(canary.connections()).toBe(0);
  expect(canary.received()).toBe("");
}

describe("Raw Request refuses, before sending, every path that names another host", () => {
  const port = () => canary.hostPort.split(":")[1] as string;
  const C = () => canary.hostPort;
  const cases: ReadonlyArray<[string, () => string]> = [
    ["an absolute URL", () => `http://${C()}/api/accounts`],
    ["an absolute URL in capitals", () => `HTTP://${C()}/api/accounts`],
    ["https", () => `https://${C()}/api/accounts`],
    ["another scheme", () => `ftp://${C()}/x`],
    ["a file URL", () => "file:///etc/passwd"],
    ["a websocket URL", () => `ws://${C()}/`],
    ["protocol-relative", () => `//${C()}/api/accounts`],
    ["three slashes", () => `///${C()}/x`],
    ["protocol-relative after a space", () => ` //${C()}/x`],
    ["protocol-relative after a tab", () => `\t//${C()}/x`],
    ["two backslashes", () => `\\\\${C()}/x`],
    ["slash backslash", () => `/\\${C()}/x`],
    ["backslash slash", () => `\\/${C()}/x`],
    ["slash backslash slash", () => `/\\/${C()}/x`],
    ["a bare host", () => `${C()}/api/accounts`],
    ["@ then the host", () => `@${C()}/x`],
    ["user-info, protocol-relative", () => `//user:pass@${C()}/x`],
    ["user-info naming the base first", () => `http://${root.url.slice(7)}@${C()}/x`],
    ["user-info without a scheme", () => `user:pass@${C()}/x`],
    ["percent-encoded slashes first", () => `%2F%2F${C()}/x`],
    ["a percent-encoded scheme", () => `http%3A%2F%2F${C()}/x`],
    ["a percent-encoded host", () => `//%31%32%37.0.0.1:${port()}/x`],
    ["CRLF and a Host header", () => `/api/accounts\r\nHost: ${C()}`],
    ["CRLF and a second request", () => `/api\r\n\r\nGET http://${C()}/ HTTP/1.1`],
    ["a line feed then a slash", () => `/\n/${C()}/x`],
    ["a NUL", () => `/\u0000${C()}`],
    ["DEL", () => `/api/accounts\u007f`],
    ["NEL (U+0085)", () => `/\u0085/${C()}`],
    ["a vertical tab", () => `/\u000b/${C()}`],
    ["fullwidth solidi", () => `\uff0f\uff0f${C()}/x`],
    ["division slashes", () => `\u2215\u2215${C()}/x`],
  ];

  it("the listed cases, on both bases: refused, nothing sent anywhere", async () => {
    for (const base of BASES) {
      for (const [name, path] of cases) {
        const outcome = await attempt(base, "Raw Request", path());
        expect(outcome, `${name}: ${JSON.stringify(path())} on ${base.name}`).toBe("refused");
        // The client's own request() has the same gate: it refuses or stays on the base, never leaves it.
        await attempt(base, "client.request", path());
      }
    }
    expectCanaryUntouched();
  });

  it("dot segments cannot climb out of the base URL's path", async () => {
    const [rootBase, prefixBase] = BASES as [Base, Base];
    for (const path of [
      "/../x",
      "/..",
      "/%2e%2e/x",
      "/%2E%2e/x",
      "/.%2e/x",
      "/api/../../x",
      "/api/%2e%2e/%2e%2e/x",
      "/./../x",
    ]) {
      for (const via of ["Raw Request", "client.request"] as const) {
        expect(await attempt(prefixBase, via, path), `${via} ${path}`).toBe("refused");
        // Under a base URL without a path there is nothing to climb out of: they arrive, resolved, on its host.
        expect(await attempt(rootBase, via, path), `${via} ${path}`).toBe("sent");
      }
    }
    // A dot segment that leaves `//` at the start of the path (`/.//host/x` is `//host/x`, which a server or a
    // proxy may read as another host) is refused; under a prefix it is only `/klaviyo//host/x`.
    const doubled = `/.//${canary.hostPort}/x`;
    for (const via of ["Raw Request", "client.request"] as const) {
      expect(await attempt(rootBase, via, doubled), via).toBe("refused");
      expect(await attempt(prefixBase, via, doubled), via).toBe("sent");
    }
    expectCanaryUntouched();
  });

  it("paths that only look like another host stay on the base: they arrive there as paths", async () => {
    const C = canary.hostPort;
    for (const base of BASES) {
      for (const path of [
        "/api/accounts",
        `/@${C}/x`,
        `/%2F%2F${C}/x`,
        `/%5C%5C${C}/x`,
        `/api/accounts?next=http://${C}/`,
        `/api/accounts#//${C}`,
        "/api//accounts",
        `/\u2215\u2215${C}`,
      ]) {
        expect(await attempt(base, "Raw Request", path), path).toBe("sent");
      }
    }
    expectCanaryUntouched();
  });
});

describe("a property over hostile paths", () => {
  it("every path is refused before sending or arrives under the base URL; the second listener sees no connection", async () => {
    const C = canary.hostPort;
    const fragment = fc.constantFrom(
      "/",
      "//",
      "\\",
      "\\\\",
      "@",
      ":",
      "?",
      "#",
      ".",
      "..",
      "%2F",
      "%2f",
      "%5C",
      "%40",
      "%2e",
      "%2E%2E",
      "%00",
      "%0d%0a",
      "%",
      "%zz",
      "http:",
      "https://",
      "HTTP://",
      "file:",
      "javascript:",
      C,
      `${C}/x`,
      "127.0.0.1",
      "localhost",
      "user:pass@",
      "api",
      "accounts",
      "\r",
      "\n",
      "\t",
      "\u0000",
      "\u000b",
      "\u007f",
      "\u0085",
      "\u2028",
      "\u202e",
      "\uff0f",
      "\u2215",
      "\uff3c",
      "\ud800",
      " ",
      "é",
    );
    const hostilePath = fc.oneof(
      fc.array(fragment, { minLength: 1, maxLength: 8 }).map((parts) => parts.join("")),
      fc
        .tuple(fc.constantFrom("/", "//", "\\", "/api/", ""), fc.array(fragment, { maxLength: 6 }))
        .map(([head, parts]) => head + parts.join("")),
      fc.string({ unit: "binary", maxLength: 24 }).map((s) => `/${s}`),
      fc.string({ unit: "binary", maxLength: 24 }),
    );
    const counts = { refused: 0, sent: 0 };
    await fc.assert(
      fc.asyncProperty(hostilePath, async (path) => {
        for (const base of BASES) {
          for (const via of ["Raw Request", "client.request"] as const) {
            counts[await attempt(base, via, path)]++;
          }
        }
        return canary.connections() === 0;
      }),
      { seed: 20260708, numRuns: 300 },
    );
    expectCanaryUntouched();
    // Both outcomes were exercised: the gate is not simply refusing everything.
    expect(counts.refused).toBeGreaterThan(200);
    expect(counts.sent).toBeGreaterThan(200);
    if (process.env.SECURITY_FIGURES) console.log("raw-request-hosts property:", counts);
  });
});

describe("answers that point elsewhere are not followed", () => {
  it("a redirect to the second listener fails the call; pagination's links.next naming it stays on the base", async () => {
    const redirecting = await startRecorder({
      answer: (req, res) => {
        const status = Number(/status=(\d+)/.exec(req.url)?.[1] ?? 302);
        res.writeHead(status, { location: `${canary.url}/stolen` }).end();
      },
    });
    const paging = await startRecorder({
      answer: (_req, res) => {
        res.writeHead(200, { "content-type": "application/vnd.api+json" }).end(
          JSON.stringify({
            data: [{ type: "list", id: "a" }],
            links: { next: `${canary.url}/api/lists?page%5Bcursor%5D=c2` },
          }),
        );
      },
    });
    try {
      const client = clientFor(redirecting.url);
      for (const status of [301, 302, 303, 307, 308]) {
        const error = await runAction(
          "raw-request",
          { url: `/api/lists?status=${status}`, method: "GET" },
          { client },
        ).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ApiError);
        expect((error as ApiError).status).toBe(status);
      }
      expect(redirecting.requests).toHaveLength(5);

      const pages: unknown[] = [];
      for await (const page of clientFor(paging.url).paginate({
        method: "GET",
        path: "/api/lists",
        maxPages: 3,
      }))
        pages.push(page);
      expect(pages).toHaveLength(3);
      expect(paging.requests.map((r) => new URL(r.url, paging.url).searchParams.get("page[cursor]"))).toEqual(
        [null, "c2", "c2"],
      );
      expectCanaryUntouched();
    } finally {
      await Promise.all([redirecting.close(), paging.close()]);
    }
  });
});

describe("klaviyo request, the real binary", () => {
  it("refuses hostile paths with exit 2 naming URL; nothing reaches either listener", async () => {
    requireBuild();
    const C = canary.hostPort;
    const env = { KLAVIYO_API_KEY: KEY };
    const runs: Array<[string, string[]]> = [
      ["the emulator", ["request", "GET", `http://${C}/api/accounts`, "--base-url", root.url]],
      ["the emulator", ["request", "GET", `//${C}/api/accounts`, "--base-url", root.url]],
      ["the emulator", ["request", "GET", `/\\${C}/api/accounts`, "--base-url", root.url]],
      ["a base URL with a path", ["request", "GET", "/../x", "--base-url", `${prefixed.url}/klaviyo`]],
    ];
    const before = root.requests.length + prefixed.requests.length;
    const results = await Promise.all(runs.map(([, args]) => runCli(args, env)));
    for (const [i, result] of results.entries()) {
      expect(result.code, `${runs[i]?.[1].join(" ")}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(/URL: /);
      expect(result.stdout).toBe("");
    }
    expect(root.requests.length + prefixed.requests.length).toBe(before);
    expectCanaryUntouched();
  });
});
