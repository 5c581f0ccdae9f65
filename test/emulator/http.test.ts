/**
 * What the emulator guarantees of HTTP, with hono routing it and @hono/node-server serving it: the routing order
 * (admin and OAuth ahead of the Klaviyo pipeline, the pipeline's stages in their order), the error handler and
 * the not-found answer in Klaviyo's format, HEAD, request bodies read as they arrive within a limit, connections
 * kept, dropped and survived as they should be, and a Host that is not a host refused. Over a real port through
 * node:http (for what `fetch` hides: raw headers, HEAD, the Host, bodies written chunk by chunk, the socket) and
 * in-process.
 */
import { randomBytes } from "node:crypto";
import { Agent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { describe, expect, it } from "vitest";
import { createEmulator, DEV_API_KEY } from "../../src/emulator/index.js";
import { klaviyoHeaders, onlyError, servedEmulators } from "./helpers.js";

/** An emulator on a free loopback port until the test ends. */
const serve = servedEmulators({ rateLimits: "off" });

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The client side's port of the connection that carried the exchange. */
  localPort: number | undefined;
}

/** A request through node:http, for what `fetch` hides: raw headers, HEAD, any Host, the socket. */
function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | string; agent?: Agent } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const { method = "GET", headers, agent } = options;
    const req = httpRequest(url, { method, headers, agent }, (res) => {
      const localPort = res.socket.localPort;
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          localPort,
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

/** Sends `chunks` of a body that never ends, and resolves with the answer the server gives meanwhile. */
function answerWhileSending(
  url: string,
  headers: Record<string, string>,
  chunks: number,
  method = "POST",
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: { ...headers, "Transfer-Encoding": "chunked" } });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (d: Buffer) => {
        body += d;
      });
      res.on("end", () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on("error", reject);
    for (let i = 0; i < chunks; i++) req.write(Buffer.alloc(64 * 1024, 0x20));
  });
}

const json = (extra: Record<string, string> = {}) =>
  klaviyoHeaders(DEV_API_KEY, { "Content-Type": "application/vnd.api+json", ...extra });

function errorCode(body: string | Buffer): string | undefined {
  return (JSON.parse(String(body)) as { errors: Array<{ code: string }> }).errors[0]?.code;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A multipart Upload Image From File body holding `file` (a PNG by its signature). */
function imageUpload(file: Buffer): { body: Buffer; contentType: string } {
  const boundary = `----emulator-test-${randomBytes(8).toString("hex")}`;
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n` +
        "Content-Type: image/png\r\n\r\n",
    ),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

describe("routing", () => {
  it("admin and OAuth routes answer ahead of the Klaviyo pipeline; every other path goes through it", async () => {
    const { url, emulator } = await serve();
    for (const path of ["/__emulator/health", "/__emulator/health/"]) {
      const health = await send(`${url}${path}`);
      expect([health.status, JSON.parse(String(health.body)).status], path).toEqual([200, "ok"]);
    }
    for (const path of ["/__emulator", "/__emulator/", "/__emulator/unknown/deeper"]) {
      const admin = await send(`${url}${path}`);
      expect(admin.status, path).toBe(404);
      expect(String(admin.body)).toContain("Unknown admin route");
    }
    const token = await send(`${url}/oauth/token`, { method: "POST" });
    expect([token.status, JSON.parse(String(token.body))]).toEqual([401, { error: "invalid_client" }]);
    const wrongMethod = await send(`${url}/oauth/token`);
    expect([wrongMethod.status, wrongMethod.headers.allow]).toEqual([405, "POST"]);
    // Neither the admin nor the OAuth routes reach the request log: the pipeline never saw them.
    expect(emulator.requests).toEqual([]);

    // A path that only starts like the admin prefix is the pipeline's, in Klaviyo's format, and logged.
    const lookalike = await send(`${url}/__emulatorx`);
    expect(lookalike.status).toBe(404);
    expect(lookalike.headers["content-type"]).toBe("application/vnd.api+json");
    expect(errorCode(lookalike.body)).toBe("not_found");
    expect(emulator.requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ["GET", "/__emulatorx", 404],
    ]);
  });

  it("the pipeline's stages run in order: lookup, authentication, revision, rate limit, faults, handler", async () => {
    const now = 1_750_000_000_500;
    const { url, emulator } = await serve({
      rateLimits: "real",
      clock: { now: () => now },
      faults: [{ kind: "503", probability: 1, operation: "get_accounts" }],
      random: () => 0,
    });
    const { revision, ...noRevision } = klaviyoHeaders();
    const answers = [
      // Lookup before authentication: an unknown path is 404 even without a key.
      await send(`${url}/api/no-such-thing`),
      // Authentication before the revision check.
      await send(`${url}/api/accounts`, { headers: { revision: revision as string } }),
      // The revision check before the rate limit: refused requests are not counted.
      await send(`${url}/api/accounts`, { headers: noRevision }),
      // Counted (Get Accounts allows one a second), then the fault answers in the handler's place.
      await send(`${url}/api/accounts`, { headers: klaviyoHeaders() }),
      // Over the limit: the rate limit answers before any fault is drawn.
      await send(`${url}/api/accounts`, { headers: klaviyoHeaders() }),
    ];
    expect(answers.map((a) => [a.status, errorCode(a.body)])).toEqual([
      [404, "not_found"],
      [401, "not_authenticated"],
      [400, "invalid"],
      [503, "service_unavailable"],
      [429, "throttled"],
    ]);
    // Every answer to a counted request carries the limits, the fault's too.
    expect(answers[3]?.headers["ratelimit-limit"]).toBe("15");
    expect(answers[4]?.headers["retry-after"]).toBe("1");
    expect(emulator.requests.map((r) => [r.status, r.operationId, r.fault, r.handled])).toEqual([
      [404, undefined, undefined, false],
      [401, "get_accounts", undefined, false],
      [400, "get_accounts", undefined, false],
      [503, "get_accounts", "503", false],
      [429, "get_accounts", undefined, false],
    ]);
  });

  it("a path the operation table reads loosely (//api/profiles) still passes every stage of the pipeline", async () => {
    const { url } = await serve({ seed: "demo" });
    for (const path of ["//api/profiles", "/api//profiles", "//api/accounts"]) {
      const refused = await send(`${url}${path}`);
      expect([refused.status, errorCode(refused.body)], path).toEqual([401, "not_authenticated"]);
    }
    const allowed = await send(`${url}//api/profiles`, { headers: klaviyoHeaders() });
    expect(allowed.status).toBe(200);
    expect(allowed.headers["content-type"]).toBe("application/vnd.api+json");
  });

  it("reads the query as URLSearchParams does: repeats merged, brackets and percent-encoding decoded", async () => {
    const { url } = await serve();
    const answer = await send(
      `${url}/api/accounts?fields%5Baccount%5D=contact_information.organization_name&fields[account]=timezone`,
      { headers: klaviyoHeaders() },
    );
    expect(answer.status).toBe(200);
    const [account] = (JSON.parse(String(answer.body)) as { data: Array<{ attributes: object }> }).data;
    expect(Object.keys(account?.attributes ?? {}).sort()).toEqual(["contact_information", "timezone"]);
    const unknown = await send(`${url}/api/accounts?fields%5Baccount%5D=n%C3%A9`, {
      headers: klaviyoHeaders(),
    });
    expect(unknown.status).toBe(400);
    expect(String(unknown.body)).toContain("'né' is not a valid field");
  });
});

describe("the error handler and the not-found answer", () => {
  it("an unexpected throw is Klaviyo's 500, and the outer stages still log it and stamp the limits", async () => {
    const { url, emulator } = await serve({ rateLimits: "real" });
    Object.defineProperty(emulator.account, "attributes", {
      get() {
        throw new Error("boom at /secret/path.ts:12");
      },
    });
    const answer = await send(`${url}/api/accounts`, { headers: klaviyoHeaders() });
    expect(answer.status).toBe(500);
    expect(answer.headers["content-type"]).toBe("application/vnd.api+json");
    expect(answer.headers["ratelimit-limit"]).toBe("15");
    expect(String(answer.body)).not.toContain("boom");
    expect(String(answer.body)).not.toContain(".ts:");
    expect(errorCode(answer.body)).toBe("error");
    expect(emulator.requests.at(-1)).toMatchObject({
      status: 500,
      operationId: "get_accounts",
      handled: false,
    });
    // The server is none the worse.
    expect((await send(`${url}/__emulator/health`)).status).toBe(200);
  });

  it("no path gets a text 404: every unknown one is Klaviyo's document", async () => {
    const { url } = await serve();
    for (const path of ["/", "/api", "/api/", "/favicon.ico", "/api/accounts/x/y/z"]) {
      for (const method of ["GET", "POST", "DELETE"]) {
        const answer = await send(`${url}${path}`, { method });
        expect(answer.status, `${method} ${path}`).toBe(404);
        expect(answer.headers["content-type"], `${method} ${path}`).toBe("application/vnd.api+json");
        expect(errorCode(answer.body)).toBe("not_found");
      }
    }
  });
});

describe("HEAD", () => {
  it("is answered as GET, with its status and headers and no body, in-process and on a port", async () => {
    const { url, emulator } = await serve({ rateLimits: { scale: 10 } });
    const got = await send(`${url}/api/accounts`, { headers: klaviyoHeaders() });
    const head = await send(`${url}/api/accounts`, { method: "HEAD", headers: klaviyoHeaders() });
    expect(got.body.byteLength).toBeGreaterThan(0);
    // A JSON answer goes out in one piece, with its length.
    expect(got.headers["content-length"]).toBe(String(got.body.byteLength));
    expect([head.status, head.headers["content-type"], head.body.byteLength]).toEqual([
      200,
      "application/vnd.api+json",
      0,
    ]);
    expect(head.headers["ratelimit-limit"]).toBe(got.headers["ratelimit-limit"]);
    expect(emulator.requests.at(-1)).toMatchObject({
      method: "HEAD",
      operationId: "get_accounts",
      status: 200,
    });

    const inProcess = createEmulator({ rateLimits: "off" });
    const res = await inProcess.fetch(`${inProcess.baseUrl}/api/accounts`, {
      method: "HEAD",
      headers: klaviyoHeaders(),
    });
    expect([res.status, res.headers.get("content-type"), await res.text()]).toEqual([
      200,
      "application/vnd.api+json",
      "",
    ]);
    const missing = await send(`${url}/api/accounts/NoSuch`, { method: "HEAD", headers: klaviyoHeaders() });
    expect([missing.status, missing.body.byteLength]).toEqual([404, 0]);
  });
});

describe("the Host and the request target", () => {
  it("a Host that is not a host is a 400 before the pipeline; the server keeps serving", async () => {
    const { url, emulator } = await serve();
    for (const host of ["a/b", "a b", "evil.example@127.0.0.1", "a\\b"]) {
      const answer = await send(`${url}/api/accounts`, { headers: { ...klaviyoHeaders(), Host: host } });
      expect(answer.status, host).toBe(400);
    }
    expect(emulator.requests).toEqual([]);
    const fine = await send(`${url}/api/accounts`, { headers: klaviyoHeaders() });
    expect(fine.status).toBe(200);
  });

  it("links are built from the Host the client sent", async () => {
    const { url, port } = await serve();
    const answer = await send(`${url}/api/accounts`, {
      headers: { ...klaviyoHeaders(), Host: `localhost:${port}` },
    });
    const body = JSON.parse(String(answer.body)) as { links: { self: string } };
    expect(body.links.self).toBe(`http://localhost:${port}/api/accounts`);
  });
});

describe("request bodies", () => {
  it("a body sent in many chunks arrives whole", async () => {
    const { url } = await serve();
    const file = Buffer.concat([PNG_SIGNATURE, randomBytes(3 * 1024 * 1024 + 17)]);
    const { body, contentType } = imageUpload(file);
    const chunks = Array.from({ length: Math.ceil(body.byteLength / 130_000) }, (_, i) =>
      body.subarray(i * 130_000, (i + 1) * 130_000),
    );
    expect(chunks.length).toBeGreaterThan(20);
    const res = await fetch(`${url}/api/image-upload`, {
      method: "POST",
      headers: { ...klaviyoHeaders(), "Content-Type": contentType },
      body: new ReadableStream({
        start(controller) {
          for (const chunk of chunks) controller.enqueue(chunk);
          controller.close();
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(201);
    const image = (await res.json()) as { data: { attributes: { size: number; format: string } } };
    expect(image.data.attributes).toMatchObject({ size: file.byteLength, format: "png" });
  });

  it("refuses a body past Klaviyo's 5 MB with its 413 while the client is still sending", async () => {
    const { url } = await serve();
    // 6 MB of a body that never ends.
    const answer = await answerWhileSending(`${url}/api/events`, json(), 96);
    expect(answer.status).toBe(413);
    expect(errorCode(answer.body)).toBe("request_too_large");
  });

  it("the admin and OAuth endpoints read their bodies within a limit too", async () => {
    const { url, emulator } = await serve();
    // 2 MB of a config that never ends (the limit is 1 MB).
    const config = await answerWhileSending(
      `${url}/__emulator/config`,
      { "Content-Type": "application/json" },
      32,
      "PUT",
    );
    expect([config.status, errorCode(config.body)]).toEqual([413, "request_too_large"]);
    // 256 kB of a token request that never ends (the limit is 64 kB): refused, and counted.
    const token = await answerWhileSending(
      `${url}/oauth/token`,
      { "Content-Type": "application/x-www-form-urlencoded" },
      4,
    );
    expect(token.status).toBe(413);
    expect(JSON.parse(token.body)).toMatchObject({ error: "invalid_request" });
    expect(emulator.oauth.tokenRequests).toEqual({ authorization_code: 0, refresh_token: 0, other: 1 });
    const revoke = await answerWhileSending(
      `${url}/oauth/revoke`,
      { "Content-Type": "application/x-www-form-urlencoded" },
      4,
    );
    // Client authentication comes first there, as before: without it, a 401 whatever the body.
    expect(revoke.status).toBe(401);
    // Within the limits, both work as ever.
    const put = await send(`${url}/__emulator/config`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ latencyMs: 0 }),
    });
    expect([put.status, JSON.parse(String(put.body)).latencyMs]).toEqual([200, 0]);
  });

  it("refuses a declared Content-Length past the limit before reading the body", async () => {
    const { url, emulator } = await serve();
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${url}/api/events`, {
        method: "POST",
        headers: { ...json(), "Content-Length": String(6 * 1024 * 1024) },
      });
      req.on("response", (res) => {
        let body = "";
        res.on("data", (d: Buffer) => {
          body += d;
        });
        res.on("end", () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, body });
        });
      });
      req.on("error", reject);
      // One kilobyte of the six announced: the answer cannot wait for the rest.
      req.write(Buffer.alloc(1024, 0x20));
    });
    expect(answer.status).toBe(413);
    expect(errorCode(answer.body)).toBe("request_too_large");
    expect(emulator.requests.at(-1)).toMatchObject({ status: 413, operationId: "create_event" });
  });

  it("in-process too, an endless body is refused at the limit and the rest is never pulled", async () => {
    const emulator = createEmulator({ rateLimits: "off" });
    let pulled = 0;
    let cancelled = false;
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    const res = await emulator.fetch(`${emulator.baseUrl}/api/events`, {
      method: "POST",
      headers: json(),
      body: new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled += chunk.byteLength;
          controller.enqueue(chunk);
        },
        cancel() {
          cancelled = true;
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect((await onlyError(res)).code).toBe("request_too_large");
    expect(cancelled).toBe(true);
    // The limit and a few chunks of slack for the stream's queue: not an unbounded read.
    expect(pulled).toBeLessThan(5 * 1024 * 1024 + 8 * chunk.byteLength);
  });

  it("the connection carries the next request after a body read in part or not at all", async () => {
    const { url } = await serve();
    // One socket, so the later requests can only be answered if the server got past the earlier bodies.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const exchanges: Array<[string, Record<string, string>, Buffer | undefined]> = [
      // Refused before the body is read (no key).
      ["/api/events", { "Content-Type": "application/vnd.api+json" }, Buffer.alloc(4 * 1024 * 1024, 0x20)],
      // Read up to the limit, then refused.
      ["/api/events", json(), Buffer.alloc(6 * 1024 * 1024, 0x20)],
      ["/api/accounts", klaviyoHeaders(), undefined],
    ];
    const answers: RawAnswer[] = [];
    for (const [path, headers, body] of exchanges) {
      answers.push(await send(`${url}${path}`, { method: body ? "POST" : "GET", headers, body, agent }));
    }
    agent.destroy();
    expect(answers.map((a) => a.status)).toEqual([401, 413, 200]);
    expect(new Set(answers.map((a) => a.localPort)).size).toBe(1);
  });
});

describe("clients that go away", () => {
  it("a client that leaves mid-body does not take the server down; nothing is committed", async () => {
    const { url, emulator } = await serve();
    const events = emulator.state.events.size;
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${url}/api/events`, {
        method: "POST",
        headers: { ...json(), "Content-Length": "1000000" },
      });
      req.on("error", () => {});
      req.on("close", () => resolve());
      req.write(Buffer.alloc(10_000, 0x20), () => setTimeout(() => req.destroy(), 50));
    });
    await expect.poll(() => emulator.requests.length).toBe(1);
    expect(emulator.requests[0]).toMatchObject({ operationId: "create_event", handled: false });
    expect(emulator.state.events.size).toBe(events);
    expect((await send(`${url}/api/accounts`, { headers: klaviyoHeaders() })).status).toBe(200);
  });

  it("a client that leaves during the added latency ends the wait: nothing is answered or logged for it", async () => {
    const { url, emulator } = await serve({ latencyMs: 1000 });
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${url}/api/accounts`, { headers: klaviyoHeaders() });
      req.on("error", () => {});
      req.on("close", () => resolve());
      req.end(() => setTimeout(() => req.destroy(), 50));
    });
    // Past the latency: had the wait not ended, the request would be in the log by now.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(emulator.requests).toEqual([]);
    const started = Date.now();
    expect((await send(`${url}/api/accounts`, { headers: klaviyoHeaders() })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(emulator.requests).toHaveLength(1);
  });
});

describe("dropped connections", () => {
  it("reset-after-commit on a port: the change is made, the socket is reset, the next connection is served", async () => {
    const { url, emulator } = await serve({
      faults: [{ kind: "reset-after-commit", probability: 1, operation: "create_list" }],
      random: () => 0,
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const before = await send(`${url}/api/accounts`, { headers: klaviyoHeaders(), agent });
    expect(before.status).toBe(200);
    const error = await send(`${url}/api/lists`, {
      method: "POST",
      headers: json(),
      body: JSON.stringify({ data: { type: "list", attributes: { name: "Dropped" } } }),
      agent,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as NodeJS.ErrnoException).code).toBe("ECONNRESET");
    expect([...emulator.state.lists.values()].some((l) => l.attributes.name === "Dropped")).toBe(true);
    expect(emulator.requests.at(-1)).toMatchObject({ status: 0, handled: true, fault: "reset-after-commit" });
    const after = await send(`${url}/api/accounts`, { headers: klaviyoHeaders(), agent });
    agent.destroy();
    expect(after.status).toBe(200);
    expect(after.localPort).not.toBe(before.localPort);
  });

  it("in-process, a dropped connection rejects as undici's fetch does, and a caller's abort wins the race", async () => {
    const emulator = createEmulator({
      rateLimits: "off",
      faults: [{ kind: "reset", probability: 1, operation: "get_accounts" }],
      random: () => 0,
    });
    const error = await emulator
      .fetch(`${emulator.baseUrl}/api/accounts`, { headers: klaviyoHeaders() })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(TypeError);
    expect(((error as TypeError).cause as NodeJS.ErrnoException).code).toBe("ECONNRESET");

    emulator.setFaults([]);
    const reason = new Error("gave up");
    const already = AbortSignal.abort(reason);
    await expect(
      emulator.fetch(`${emulator.baseUrl}/api/accounts`, { headers: klaviyoHeaders(), signal: already }),
    ).rejects.toBe(reason);
    // The signal of a Request input counts as fetch's does.
    const request = new Request(`${emulator.baseUrl}/api/accounts`, {
      headers: klaviyoHeaders(),
      signal: already,
    });
    await expect(emulator.fetch(request)).rejects.toBe(reason);
  });
});
