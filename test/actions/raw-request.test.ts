import { describe, expect, it } from "vitest";
import { runActionByKey } from "../../src/actions/index.js";
import {
  attemptOutcome,
  decideRawRetry,
  type RawRetrySettings,
  rawRetryPolicy,
} from "../../src/actions/raw-request-retry.js";
import { KlaviyoClient } from "../../src/core/client.js";
import { FakeClock } from "../../src/core/clock.js";
import {
  AuthenticationError,
  ConnectionError,
  InputValidationError,
  NotFoundError,
  RateLimitError,
  ServerError,
  TimeoutError,
} from "../../src/core/errors.js";
import { DEFAULT_RETRY_POLICY } from "../../src/core/retry.js";
import { ACTION_KEY, actionsSetup } from "./helpers.js";

const PNG = new Uint8Array(
  Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
    "base64",
  ),
);

interface RawOutput<T = unknown> {
  status: number;
  headers: Record<string, string>;
  data: T;
}

async function refused(promise: Promise<unknown>, ...labels: string[]): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputValidationError);
  const message = (error as Error).message;
  for (const label of labels) expect(message).toContain(`${label}:`);
  return message;
}

const jsonApi = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(body === null ? null : JSON.stringify(body), {
    status,
    headers: { "content-type": "application/vnd.api+json", ...headers },
  });
const errorDoc = (status: number, code: string) => ({
  errors: [{ id: "e1", status, code, title: code, detail: `${code} happened` }],
});

/** A client on a scripted server and a fake clock, to test retries without waiting. */
function scripted(answers: Array<(req: Request) => Response | Promise<Response>>) {
  const clock = new FakeClock();
  const calls: Request[] = [];
  const client = new KlaviyoClient({
    apiKey: ACTION_KEY,
    baseUrl: "https://a.klaviyo.com",
    rateLimiter: false,
    clock,
    fetch: async (input, init) => {
      const req = new Request(input, init);
      calls.push(req);
      const answer = answers.shift();
      if (!answer) throw new Error("no more scripted answers");
      return answer(req);
    },
  });
  return {
    clock,
    calls,
    run: <T = unknown>(inputs: Record<string, unknown>) =>
      runActionByKey("raw-request", inputs, { client }) as Promise<RawOutput<T>>,
  };
}

describe("Raw Request against the emulator", () => {
  it("GETs a path with the connection's credentials and revision, returning status, headers and JSON", async () => {
    const { run, sent, emulator } = actionsSetup();
    const out = await run<RawOutput<{ data: Array<{ type: string; id: string }> }>>("raw-request", {
      url: "/api/accounts",
      method: "GET",
    });
    expect(out.status).toBe(200);
    expect(out.data.data[0]).toMatchObject({ type: "account", id: emulator.account.id });
    expect(out.headers["content-type"]).toContain("application/vnd.api+json");
    expect(Object.keys(out)).toEqual(["status", "headers", "data"]);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.url).toBe(`${emulator.baseUrl}/api/accounts`);
    expect(sent[0]?.headers.get("revision")).toBe("2026-07-15");
    expect(sent[0]?.headers.get("authorization")).toBe(`Klaviyo-API-Key ${ACTION_KEY}`);
    expect(JSON.stringify(out)).not.toContain(ACTION_KEY);
  });

  it("POSTs JSON text, PATCHes a JSON value, reads with query parameters and DELETEs: the state follows", async () => {
    const { run, sent, emulator } = actionsSetup();
    const created = await run<RawOutput<{ data: { id: string } }>>("raw-request", {
      url: "/api/lists",
      method: "POST",
      data: '{"data": {"type": "list", "attributes": {"name": "VIP"}}}',
    });
    expect(created.status).toBe(201);
    const id = created.data.data.id;
    expect(emulator.state.lists.get(id)?.attributes.name).toBe("VIP");
    expect(sent[0]?.headers.get("content-type")).toBe("application/vnd.api+json");

    const patched = await run<RawOutput>("raw-request", {
      url: `/api/lists/${id}`,
      method: "PATCH",
      data: { data: { type: "list", id, attributes: { name: "VIP 2" } } },
    });
    expect(patched.status).toBe(200);
    expect(emulator.state.lists.get(id)?.attributes.name).toBe("VIP 2");

    const read = await run<RawOutput<{ data: Array<{ attributes: Record<string, unknown> }> }>>(
      "raw-request",
      {
        url: "/api/lists",
        method: "GET",
        queryParameter: ["fields[list]=name", `filter=equals(id,"${id}")`],
      },
    );
    expect(read.data.data.map((d) => d.attributes)).toEqual([{ name: "VIP 2" }]);
    const query = new URL(sent[2]?.url ?? "").searchParams;
    expect(query.get("fields[list]")).toBe("name");
    expect(query.get("filter")).toBe(`equals(id,"${id}")`);

    const deleted = await run<RawOutput>("raw-request", { url: `/api/lists/${id}`, method: "DELETE" });
    expect(deleted).toMatchObject({ status: 204, data: null });
    expect(emulator.state.lists.get(id)).toBeUndefined();
  });

  it("keeps a query string written in the URL and adds Query Parameter to it", async () => {
    const { run, sent } = actionsSetup();
    await run("raw-request", {
      url: "/api/lists?fields[list]=name",
      method: "GET",
      queryParameter: { "page[size]": "5" },
    });
    const query = new URL(sent[0]?.url ?? "").searchParams;
    expect([query.get("fields[list]"), query.get("page[size]")]).toEqual(["name", "5"]);
  });

  it("returns text or bytes as Response Type asks", async () => {
    const { run } = actionsSetup();
    const text = await run<RawOutput<string>>("raw-request", {
      url: "/api/accounts",
      method: "GET",
      responseType: "text",
    });
    expect(typeof text.data).toBe("string");
    expect(JSON.parse(text.data).data[0].type).toBe("account");
    const bytes = await run<RawOutput<Uint8Array>>("raw-request", {
      url: "/api/accounts",
      method: "GET",
      responseType: "binary",
    });
    expect(bytes.data).toBeInstanceOf(Uint8Array);
    expect(JSON.parse(Buffer.from(bytes.data).toString("utf8")).data[0].type).toBe("account");
  });

  it("uploads files as multipart/form-data with their file names and form fields", async () => {
    const { run, sent, emulator } = actionsSetup();
    const out = await run<RawOutput<{ data: { id: string; attributes: { name: string } } }>>("raw-request", {
      url: "/api/image-upload",
      method: "POST",
      fileData: { file: PNG },
      fileDataFileNames: ["file=logo.png"],
      formData: { hidden: "true" },
    });
    expect(out.status).toBe(201);
    expect(out.data.data.attributes.name).toBe("logo");
    expect(emulator.state.images.get(out.data.data.id)?.attributes).toMatchObject({
      hidden: true,
      size: PNG.length,
    });
    expect(sent[0]?.headers.get("content-type")).toMatch(/^multipart\/form-data; boundary=/);
    const form = await sent[0]?.formData();
    expect((form?.get("file") as File | undefined)?.name).toBe("logo.png");
    expect(form?.get("hidden")).toBe("true");

    // Without a file name the field name (and the image's extension) is used; base64 text is bytes.
    const again = await run<RawOutput<{ data: { attributes: { name: string } } }>>("raw-request", {
      url: "/api/image-upload",
      method: "POST",
      fileData: [`file=${Buffer.from(PNG).toString("base64")}`],
    });
    expect(again.data.data.attributes.name).toBe("file");
  });

  it("sends no Authorization with Exclude Authorization (a private /api endpoint then answers 401)", async () => {
    const { run, sent } = actionsSetup();
    await expect(
      run("raw-request", { url: "/api/accounts", method: "GET", excludeAuthorization: true }),
    ).rejects.toBeInstanceOf(AuthenticationError);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.headers.has("authorization")).toBe(false);
    expect(sent[0]?.headers.get("revision")).toBe("2026-07-15");
  });

  it("sends a revision given under Header instead of the connection's, and other headers as given", async () => {
    const { run, sent } = actionsSetup();
    await run("raw-request", {
      url: "/api/accounts",
      method: "GET",
      header: ["Revision: 2025-10-15", "X-Trace: abc", "X-Trace: def"],
    });
    expect(sent[0]?.headers.get("revision")).toBe("2025-10-15");
    expect(sent[0]?.headers.get("x-trace")).toBe("abc, def");
  });

  it("fails with Klaviyo's typed error for a 4xx answer, after no retry by default", async () => {
    const { run, sent } = actionsSetup();
    await expect(run("raw-request", { url: "/api/lists/nope", method: "GET" })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect(sent).toHaveLength(1);
  });
});

describe("Raw Request refuses, before sending", () => {
  it("URLs that are not a path on the connection's host", async () => {
    const { run, sent } = actionsSetup();
    for (const url of [
      "https://evil.example/x",
      "HTTPS://a.klaviyo.com/api/accounts",
      "//evil.example/x",
      "/\\evil.example",
      "\\\\evil.example/x",
      "/api/accounts\r\nX-Injected: 1",
      "/api/accounts\n",
      "api/accounts",
      "javascript:alert(1)",
    ]) {
      await refused(run("raw-request", { url, method: "GET" }), "URL");
    }
    await refused(run("raw-request", { method: "GET" }), "URL");
    expect(sent).toHaveLength(0);
  });

  it("a missing or unknown method, and bodies that cannot be sent", async () => {
    const { run, sent } = actionsSetup();
    await refused(run("raw-request", { url: "/api/accounts" }), "Method");
    await refused(run("raw-request", { url: "/api/accounts", method: "TRACE" }), "Method");
    await refused(run("raw-request", { url: "/api/lists", method: "GET", data: "{}" }), "Data");
    await refused(
      run("raw-request", { url: "/api/lists", method: "GET", formData: { a: "1" } }),
      "Form Data",
    );
    await refused(
      run("raw-request", { url: "/api/lists", method: "POST", data: "{}", formData: { a: "1" } }),
      "Data",
    );
    expect(
      await refused(
        run("raw-request", {
          url: "/api/image-upload",
          method: "POST",
          fileData: { file: PNG },
          fileDataFileNames: { image: "x.png" },
        }),
        "File Data File Names",
      ),
    ).toMatch(/"image"/);
    await refused(
      run("raw-request", { url: "/x", method: "POST", fileData: { file: "not base64!" } }),
      "File Data",
    );
    await refused(
      run("raw-request", { url: "/x", method: "POST", fileData: { file: "@/no/such/file.png" } }),
      "File Data",
    );
    await refused(
      run("raw-request", {
        url: "/x",
        method: "POST",
        fileData: { file: PNG },
        header: { "Content-Type": "multipart/form-data" },
      }),
      "Header",
    );
    expect(sent).toHaveLength(0);
  });

  it("headers the transport owns, bad header names and values with line breaks, without echoing values", async () => {
    const { run, sent } = actionsSetup();
    const auth = await refused(
      run("raw-request", {
        url: "/api/accounts",
        method: "GET",
        header: { Authorization: "Bearer s3cr3t-token" },
      }),
      "Header",
    );
    expect(auth).not.toContain("s3cr3t-token");
    await refused(
      run("raw-request", { url: "/a", method: "GET", header: { Host: "evil.example" } }),
      "Header",
    );
    await refused(run("raw-request", { url: "/a", method: "GET", header: { "Bad Name": "x" } }), "Header");
    const crlf = await refused(
      run("raw-request", { url: "/a", method: "GET", header: { "X-A": "secret-value\r\nX-B: 1" } }),
      "Header",
    );
    expect(crlf).not.toContain("secret-value");
    expect(sent).toHaveLength(0);
  });

  it("retry and timeout numbers out of range", async () => {
    const { run, sent } = actionsSetup();
    const base = { url: "/api/accounts", method: "GET" };
    await refused(run("raw-request", { ...base, maxRetryCount: -1 }), "Max Retry Count");
    await refused(run("raw-request", { ...base, maxRetryCount: 1.5 }), "Max Retry Count");
    await refused(run("raw-request", { ...base, retryDelayMs: "soon" }), "Retry Delay (ms)");
    await refused(run("raw-request", { ...base, timeoutMs: 0 }), "Timeout");
    await refused(run("raw-request", { ...base, responseType: "xml" }), "Response Type");
    await refused(run("raw-request", { ...base, retryOnAllErrors: "maybe" }), "Retry On All Errors");
    expect(sent).toHaveLength(0);
  });
});

describe("Raw Request retries", () => {
  const ok = () => jsonApi(200, { data: [] });
  const status =
    (s: number, headers: Record<string, string> = {}) =>
    () =>
      jsonApi(s, errorDoc(s, `e${s}`), headers);

  it("makes exactly one attempt with Max Retry Count 0 (not the transport's default 3)", async () => {
    const { run, calls } = scripted([status(503), ok]);
    await expect(run({ url: "/api/lists", method: "GET" })).rejects.toBeInstanceOf(ServerError);
    expect(calls).toHaveLength(1);
    const throttled = scripted([status(429, { "retry-after": "1" }), ok]);
    await expect(throttled.run({ url: "/api/lists", method: "GET" })).rejects.toBeInstanceOf(RateLimitError);
    expect(throttled.calls).toHaveLength(1);
  });

  it("waits the fixed Retry Delay (ms) between retries of 5xx answers, POST included", async () => {
    const { run, calls, clock } = scripted([status(500), status(502), () => jsonApi(201, { data: {} })]);
    const out = await run({
      url: "/api/lists",
      method: "POST",
      data: {},
      maxRetryCount: 3,
      retryDelayMs: 250,
    });
    expect(out.status).toBe(201);
    expect(calls).toHaveLength(3);
    expect(clock.sleeps).toEqual([250, 250]);
  });

  it("gives up after Max Retry Count retries with the last error", async () => {
    const { run, calls, clock } = scripted([status(500), status(500), status(503), ok]);
    await expect(
      run({ url: "/api/lists", method: "GET", maxRetryCount: 2, retryDelayMs: 10 }),
    ).rejects.toMatchObject({ status: 503 });
    expect(calls).toHaveLength(3);
    expect(clock.sleeps).toEqual([10, 10]);
  });

  it("honours Retry-After on 429, whatever the delay settings", async () => {
    const { run, calls, clock } = scripted([status(429, { "retry-after": "2" }), ok]);
    const out = await run({ url: "/api/lists", method: "GET", maxRetryCount: 1, retryDelayMs: 5 });
    expect(out.status).toBe(200);
    expect(calls).toHaveLength(2);
    // Retry-After (2 s) and the transport's jitter, which keeps processes of one account out of step.
    expect(clock.sleeps).toHaveLength(1);
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(2000);
    expect(clock.sleeps[0]).toBeLessThan(2000 + DEFAULT_RETRY_POLICY.retryAfterJitterMs);
  });

  it("retries 4xx answers only with Retry On All Errors", async () => {
    const plain = scripted([status(404), ok]);
    await expect(plain.run({ url: "/api/lists/x", method: "GET", maxRetryCount: 2 })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect(plain.calls).toHaveLength(1);
    const all = scripted([status(409), status(400), ok]);
    const out = await all.run({ url: "/api/lists", method: "GET", maxRetryCount: 2, retryOnAllErrors: true });
    expect(out.status).toBe(200);
    expect(all.calls).toHaveLength(3);
    expect(all.clock.sleeps).toEqual([0, 0]);
  });

  it("retries network errors and timeouts", async () => {
    const refusedConnection = () => {
      throw new TypeError("fetch failed", { cause: { code: "ECONNRESET" } });
    };
    const net = scripted([refusedConnection, ok]);
    expect((await net.run({ url: "/api/lists", method: "GET", maxRetryCount: 1 })).status).toBe(200);
    expect(net.calls).toHaveLength(2);

    const never = (req: Request) =>
      new Promise<Response>((_, reject) =>
        req.signal.addEventListener("abort", () => reject(req.signal.reason)),
      );
    const slow = scripted([never, never]);
    await expect(
      slow.run({ url: "/api/lists", method: "GET", timeoutMs: 20, maxRetryCount: 1 }),
    ).rejects.toBeInstanceOf(TimeoutError);
    expect(slow.calls).toHaveLength(2);
    const once = scripted([refusedConnection]);
    await expect(once.run({ url: "/api/lists", method: "GET" })).rejects.toBeInstanceOf(ConnectionError);
  });

  it("uses the transport's jittered exponential backoff when asked, ignoring Retry Delay (ms)", async () => {
    const { run, clock } = scripted([status(500), status(500), status(500), ok]);
    await run({
      url: "/api/lists",
      method: "GET",
      maxRetryCount: 3,
      retryDelayMs: 99_999,
      useExponentialBackoff: true,
    });
    expect(clock.sleeps).toHaveLength(3);
    clock.sleeps.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThan(500 * 2 ** i);
    });
  });

  it("never echoes credential-bearing response headers", async () => {
    const { run } = scripted([
      () =>
        jsonApi(
          200,
          { data: [] },
          { "set-cookie": "session=abc123", "x-echo": `Klaviyo-API-Key ${ACTION_KEY}`, "x-request-id": "r1" },
        ),
    ]);
    const out = await run({ url: "/api/lists", method: "GET" });
    expect(out.headers["set-cookie"]).toBe("[REDACTED]");
    expect(out.headers["x-request-id"]).toBe("r1");
    expect(JSON.stringify(out)).not.toContain(ACTION_KEY);
    expect(JSON.stringify(out)).not.toContain("abc123");
  });
});

describe("the retry policy of Raw Request (pure)", () => {
  const settings = (over: Partial<RawRetrySettings> = {}): RawRetrySettings => ({
    maxRetryCount: 2,
    retryDelayMs: 300,
    retryOnAllErrors: false,
    useExponentialBackoff: false,
    ...over,
  });
  const half = () => 0.5;

  it("maps the inputs onto the transport's policy", () => {
    expect(rawRetryPolicy(settings({ maxRetryCount: 0 })).maxRetries).toBe(0);
    const plain = rawRetryPolicy(settings());
    expect(plain.statuses).toContain(500);
    expect(plain.statuses).toContain(599);
    expect(plain.statuses).not.toContain(404);
    expect(plain.methods).toContain("POST");
    expect(rawRetryPolicy(settings({ retryOnAllErrors: true })).statuses).toEqual(
      expect.arrayContaining([301, 400, 404, 409, 500]),
    );
    expect(rawRetryPolicy(settings({ useExponentialBackoff: true }))).toMatchObject({
      baseDelayMs: 500,
      maxDelayMs: 20_000,
    });
  });

  it("decides fixed delays, Retry-After and the end of retries", () => {
    const s = settings();
    expect(decideRawRetry(s, "POST", { kind: "status", status: 500 }, 0, half)).toEqual({
      retry: true,
      delayMs: 300,
    });
    expect(decideRawRetry(s, "GET", { kind: "status", status: 503 }, 1, half)).toEqual({
      retry: true,
      delayMs: 300,
    });
    expect(decideRawRetry(s, "GET", { kind: "status", status: 503 }, 2, half).retry).toBe(false);
    expect(decideRawRetry(s, "GET", { kind: "status", status: 429, retryAfterMs: 1500 }, 0, half)).toEqual({
      retry: true,
      delayMs: 1500 + 0.5 * DEFAULT_RETRY_POLICY.retryAfterJitterMs,
    });
    expect(
      decideRawRetry(s, "GET", { kind: "status", status: 429, retryAfterMs: 3_600_000 }, 0, half).retry,
    ).toBe(false);
    expect(decideRawRetry(s, "GET", { kind: "status", status: 400 }, 0, half).retry).toBe(false);
    expect(decideRawRetry(s, "DELETE", { kind: "timeout" }, 0, half)).toEqual({ retry: true, delayMs: 300 });
    const exp = settings({ useExponentialBackoff: true, maxRetryCount: 3 });
    expect(decideRawRetry(exp, "GET", { kind: "network", refused: false }, 2, half)).toEqual({
      retry: true,
      delayMs: 1000,
    });
  });

  it("reads attempts' outcomes from the transport's errors", () => {
    expect(attemptOutcome(new TimeoutError(10, "GET /"))).toEqual({ kind: "timeout" });
    expect(attemptOutcome(new ConnectionError("x", { refused: true }))).toEqual({
      kind: "network",
      refused: true,
    });
    expect(attemptOutcome(new Error("other"))).toBeUndefined();
  });
});

describe("the CLI flags of Raw Request and the image actions", () => {
  it("do not clash with the connection flags every `klaviyo run` command has", async () => {
    const { flagOf } = await import("../../src/actions/inputs.js");
    const { registry } = await import("../../src/actions/index.js");
    const reserved = new Set(["api-key", "base-url", "revision", "timeout", "inputs", "help"]);
    const {
      "get-image": a,
      "list-images": b,
      "update-image": c,
      "upload-image": d,
      "raw-request": e,
    } = registry;
    for (const action of [a, b, c, d, e]) {
      for (const def of Object.values(action.inputs))
        expect(reserved.has(flagOf(def.key)), def.key).toBe(false);
    }
  });
});
