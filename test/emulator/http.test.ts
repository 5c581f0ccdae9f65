/**
 * The emulator's own HTTP layer (src/emulator/http): routing, middleware, sub-apps and error answers, served
 * over a real port by the node:http adapter (bodies streamed both ways, HEAD, client aborts).
 */
import { createHash } from "node:crypto";
import { Agent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { Context } from "../../src/emulator/http/context.js";
import { createNodeServer, type NodeBindings } from "../../src/emulator/http/node.js";
import { App } from "../../src/emulator/http/router.js";
import { startEmulator } from "../../src/emulator/index.js";
import { klaviyoHeaders } from "./helpers.js";

type TestEnv = { Bindings: NodeBindings; Variables: { trail: string[] } };

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** Serves `app` on a free loopback port until the test ends. */
async function serve<E extends TestEnv>(app: App<E>): Promise<string> {
  const server = createNodeServer(app.fetch);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A request through node:http, for what `fetch` hides: raw headers, HEAD, bodies written chunk by chunk. */
function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | string; agent?: Agent } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const { method = "GET", headers, agent } = options;
    const req = httpRequest(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

function trail(c: Context<TestEnv>): string[] {
  const list = c.get("trail") ?? [];
  c.set("trail", list);
  return list;
}

describe("routing", () => {
  it("matches exact paths (trailing slash ignored), PREFIX/* and methods; the rest is 404", async () => {
    const app = new App<TestEnv>()
      .get("/health", (c) => c.json({ route: "health" }))
      .on(["PUT", "PATCH"], "/config", (c) => c.json({ route: `config ${c.req.method}` }))
      .use("/api/*", (c) => c.json({ route: "api", path: c.req.parsedUrl.pathname }));
    const url = await serve(app);
    const route = async (method: string, path: string) => {
      const res = await fetch(`${url}${path}`, { method });
      return res.status === 200 ? ((await res.json()) as { route: string }).route : res.status;
    };
    expect(await route("GET", "/health")).toBe("health");
    expect(await route("GET", "/health/")).toBe("health");
    expect(await route("POST", "/health")).toBe(404);
    expect(await route("GET", "/healthy")).toBe(404);
    expect(await route("PUT", "/config")).toBe("config PUT");
    expect(await route("PATCH", "/config/")).toBe("config PATCH");
    expect(await route("GET", "/config")).toBe(404);
    expect(await route("DELETE", "/api/profiles/abc")).toBe("api");
    expect(await route("GET", "/api")).toBe("api");
    expect(await route("GET", "/apix")).toBe(404);
    const fallback = await fetch(`${url}/nowhere`);
    expect(fallback.status).toBe(404);
  });

  it("a Host header that is not a host is a 400, not another path", async () => {
    const app = new App<TestEnv>().get("/b/x", (c) => c.json({ moved: true }));
    const answer = await send(`${await serve(app)}/x`, { headers: { Host: "a/b" } });
    expect(answer.status).toBe(400);
  });

  it("refuses patterns it does not support rather than matching them wrongly", () => {
    expect(() => new App().get("/profiles/:id", (c) => c.json({}))).toThrow(/Unsupported route pattern/);
  });

  it("parses the query: repeats, brackets, + and percent-encoding; absent is undefined", async () => {
    const app = new App<TestEnv>().get("/q", (c) =>
      c.json({
        a: c.req.queries("a"),
        fields: c.req.queries("fields[profile]"),
        plus: c.req.queries("plus"),
        encoded: c.req.queries("enc"),
        missing: c.req.queries("missing") ?? null,
      }),
    );
    const res = await fetch(
      `${await serve(app)}/q?a=1&a=2&fields%5Bprofile%5D=email,name&plus=a+b&enc=%C3%A9%20x`,
    );
    expect(await res.json()).toEqual({
      a: ["1", "2"],
      fields: ["email,name"],
      plus: ["a b"],
      encoded: ["é x"],
      missing: null,
    });
  });

  it("reads request headers whatever their case, and sends several Set-Cookie headers apart", async () => {
    const app = new App<TestEnv>().get("/h", (c) => {
      const headers = new Headers({ "X-Seen": c.req.header("x-custom-thing") ?? "none" });
      headers.append("Set-Cookie", "a=1; Path=/");
      headers.append("Set-Cookie", "b=2; Path=/");
      headers.set("X-Upper", c.req.header("X-CUSTOM-THING") ?? "none");
      return new Response("ok", { headers });
    });
    const answer = await send(`${await serve(app)}/h`, { headers: { "X-Custom-Thing": "Value" } });
    expect(answer.headers["x-seen"]).toBe("Value");
    expect(answer.headers["x-upper"]).toBe("Value");
    expect(answer.headers["set-cookie"]).toEqual(["a=1; Path=/", "b=2; Path=/"]);
  });
});

describe("middleware", () => {
  it("runs in registration order around the handler, and can change the answer on the way out", async () => {
    const app = new App<TestEnv>()
      .use("*", async (c, next) => {
        trail(c).push("outer in");
        await next();
        trail(c).push("outer out");
        c.res.headers.set("X-Trail", trail(c).join(", "));
      })
      .use("*", async (c, next) => {
        trail(c).push("inner in");
        await next();
        trail(c).push("inner out");
      })
      .get("/x", (c) => {
        trail(c).push("handler");
        return c.json({ ok: true });
      });
    const res = await fetch(`${await serve(app)}/x`);
    expect(res.headers.get("x-trail")).toBe("outer in, inner in, handler, inner out, outer out");
  });

  it("a middleware answers by setting c.res without calling next; the handler never runs", async () => {
    let handled = false;
    const app = new App<TestEnv>()
      .use("*", async (c) => {
        c.res = c.json({ from: "middleware" }, 429);
      })
      .get("/x", (c) => {
        handled = true;
        return c.json({ from: "handler" });
      });
    const res = await fetch(`${await serve(app)}/x`);
    expect(res.status).toBe(429);
    expect(await res.json()).toEqual({ from: "middleware" });
    expect(handled).toBe(false);
  });

  it("calling next() twice is an error, answered by onError", async () => {
    const app = new App<TestEnv>()
      .use("*", async (_c, next) => {
        await next();
        await next();
      })
      .get("/x", (c) => c.json({}))
      .onError((error, c) => c.json({ error: (error as Error).message }, 500));
    const res = await fetch(`${await serve(app)}/x`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: "next() called twice by one handler" });
  });
});

describe("sub-apps", () => {
  it("mounted routes run at their place among the parent's; the sub-app's * catches the rest of its prefix", async () => {
    const admin = new App()
      .get("/health", (c) => c.json({ from: "admin health" }))
      .all("*", (c) => c.json({ from: "admin fallback" }, 404));
    const app = new App<TestEnv>()
      .route("/__admin", admin)
      .use("*", async (c, next) => {
        await next();
        c.res.headers.set("X-Pipeline", "yes");
      })
      .all("*", (c) => c.json({ from: "main" }));
    const url = await serve(app);
    const health = await fetch(`${url}/__admin/health/`);
    expect(await health.json()).toEqual({ from: "admin health" });
    // Mounted ahead of the parent's middleware, so it never sees them.
    expect(health.headers.get("x-pipeline")).toBeNull();
    for (const path of ["/__admin", "/__admin/unknown/deeper"]) {
      const res = await fetch(`${url}${path}`);
      expect([res.status, await res.json()]).toEqual([404, { from: "admin fallback" }]);
    }
    const main = await fetch(`${url}/__adminx`);
    expect(await main.json()).toEqual({ from: "main" });
    expect(main.headers.get("x-pipeline")).toBe("yes");
  });
});

describe("errors", () => {
  it("the default 404 is plain; notFound replaces it", async () => {
    const url = await serve(new App<TestEnv>());
    expect((await fetch(`${url}/x`)).status).toBe(404);
    const custom = new App<TestEnv>().notFound((c) => c.json({ errors: [{ code: "not_found" }] }, 404));
    const res = await fetch(`${await serve(custom)}/x`);
    expect([res.status, await res.json()]).toEqual([404, { errors: [{ code: "not_found" }] }]);
  });

  it("a throw becomes onError's answer, and the outer middleware still run after it", async () => {
    const app = new App<TestEnv>()
      .use("*", async (c, next) => {
        await next();
        c.res.headers.set("X-Seen-Status", String(c.res.status));
      })
      .get("/boom", () => {
        throw new Error("secret detail");
      })
      .onError((_error, c) =>
        c.json({ errors: [{ status: 500, code: "error", title: "A server error occurred." }] }, 500),
      );
    const res = await fetch(`${await serve(app)}/boom`);
    expect(res.status).toBe(500);
    expect(res.headers.get("x-seen-status")).toBe("500");
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      errors: [{ status: 500, code: "error", title: "A server error occurred." }],
    });
    expect(text).not.toContain("secret");
  });

  it("an error onError rethrows rejects fetch in-process and resets the connection on a port", async () => {
    const dropped = new Error("drop");
    const app = new App<TestEnv>()
      .get("/drop", () => {
        throw dropped;
      })
      .get("/fine", (c) => c.json({ fine: true }));
    await expect(app.fetch(new Request("http://local.test/drop"))).rejects.toBe(dropped);
    const url = await serve(app);
    const error = await fetch(`${url}/drop`).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(((error as TypeError).cause as NodeJS.ErrnoException).code).toBe("ECONNRESET");
    expect((await fetch(`${url}/fine`)).status).toBe(200);
  });
});

describe("bodies", () => {
  it("a body sent in many chunks arrives whole", async () => {
    const app = new App<TestEnv>().post("/echo", async (c) => {
      const bytes = await c.req.bytes();
      return c.json({
        length: bytes?.byteLength,
        sha: createHash("sha256")
          .update(bytes ?? "")
          .digest("hex"),
      });
    });
    const url = await serve(app);
    const payload = Buffer.alloc(3 * 1024 * 1024 + 17, "klaviyo");
    const chunks = Array.from({ length: 25 }, (_, i) => payload.subarray(i * 130_000, (i + 1) * 130_000));
    const res = await fetch(`${url}/echo`, {
      method: "POST",
      body: new ReadableStream({
        start(controller) {
          for (const chunk of chunks) controller.enqueue(chunk);
          controller.close();
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect(await res.json()).toEqual({
      length: payload.byteLength,
      sha: createHash("sha256").update(payload).digest("hex"),
    });
  });

  it("is streamed: a handler answers after the first chunk while the client still holds the rest", async () => {
    const app = new App<TestEnv>().post("/first", async (c) => {
      const reader = c.req.raw.body?.getReader();
      const first = await reader?.read();
      await reader?.cancel();
      return c.json({ first: first?.value?.byteLength ?? 0 });
    });
    const url = await serve(app);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${url}/first`, {
        method: "POST",
        headers: { "Transfer-Encoding": "chunked" },
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
      // The body is never ended: only an answer given before the end lets this test finish.
      req.write(Buffer.alloc(1000, 1));
    });
    expect(answer).toEqual({ status: 200, body: JSON.stringify({ first: 1000 }) });
  });

  it("bytes(limit) refuses a body as soon as it passes the limit, without waiting for the rest", async () => {
    const app = new App<TestEnv>().post("/limited", async (c) => {
      const bytes = await c.req.bytes(64 * 1024);
      return bytes ? c.json({ length: bytes.byteLength }) : c.json({ error: "too large" }, 413);
    });
    const url = await serve(app);
    expect(await (await fetch(`${url}/limited`, { method: "POST", body: "small" })).json()).toEqual({
      length: 5,
    });
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${url}/limited`, {
        method: "POST",
        headers: { "Transfer-Encoding": "chunked" },
      });
      req.on("response", (res) => {
        res.resume();
        req.destroy();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      // 1 MB of a body that never ends: the refusal cannot wait for the end.
      for (let i = 0; i < 16; i++) req.write(Buffer.alloc(64 * 1024, 2));
    });
    expect(status).toBe(413);
  });

  it("the connection carries the next request after a body the handler read in part or not at all", async () => {
    const app = new App<TestEnv>()
      .post("/ignore", (c) => c.json({ ignored: true }, 401))
      .post("/part", async (c) => {
        const reader = c.req.raw.body?.getReader();
        await reader?.read();
        await reader?.cancel();
        return c.json({ part: true });
      })
      .get("/next", (c) => c.json({ next: true }));
    const url = await serve(app);
    // One socket, so the later requests can only be answered if the server consumed the earlier bodies.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const statuses: number[] = [];
    for (const [method, path] of [
      ["POST", "/ignore"],
      ["POST", "/part"],
      ["GET", "/next"],
    ] as const) {
      const body = method === "POST" ? Buffer.alloc(4 * 1024 * 1024, 3) : undefined;
      statuses.push((await send(`${url}${path}`, { method, body, agent })).status);
    }
    agent.destroy();
    expect(statuses).toEqual([401, 200, 200]);
  });

  it("small answers carry Content-Length; a streamed answer arrives whole in chunks", async () => {
    const parts = Array.from({ length: 50 }, (_, i) => `part ${i};`.repeat(2000));
    const app = new App<TestEnv>()
      .get("/small", (c) => c.json({ small: true }))
      .get("/stream", () => {
        const encoder = new TextEncoder();
        let i = 0;
        return new Response(
          new ReadableStream<Uint8Array>({
            pull(controller) {
              const part = parts[i++];
              if (part === undefined) controller.close();
              else controller.enqueue(encoder.encode(part));
            },
          }),
        );
      });
    const url = await serve(app);
    const small = await send(`${url}/small`);
    expect(small.headers["content-length"]).toBe(String(small.body.byteLength));
    expect(small.headers["content-type"]).toBe("application/json");
    const streamed = await send(`${url}/stream`);
    expect(streamed.headers["transfer-encoding"]).toBe("chunked");
    expect(streamed.body.toString()).toBe(parts.join(""));
  });

  it("HEAD is answered as GET, with its status and headers and no body, in-process and on a port", async () => {
    const app = new App<TestEnv>().get("/thing", (c) => {
      const res = c.json({ thing: true }, 203);
      res.headers.set("X-Thing", "yes");
      return res;
    });
    const inProcess = await app.fetch(new Request("http://local.test/thing", { method: "HEAD" }));
    expect([inProcess.status, inProcess.headers.get("x-thing"), await inProcess.text()]).toEqual([
      203,
      "yes",
      "",
    ]);
    const answer = await send(`${await serve(app)}/thing`, { method: "HEAD" });
    expect([answer.status, answer.headers["x-thing"], answer.body.byteLength]).toEqual([203, "yes", 0]);
  });
});

describe("clients that go away", () => {
  it("a client that aborts mid-body fails the read, not the process; the server keeps serving", async () => {
    let readFailed: (error: unknown) => void = () => {};
    const failure = new Promise<unknown>((resolve) => {
      readFailed = resolve;
    });
    let started: () => void = () => {};
    const reading = new Promise<void>((resolve) => {
      started = resolve;
    });
    const app = new App<TestEnv>()
      .post("/upload", async (c) => {
        started();
        try {
          await c.req.bytes();
        } catch (error) {
          readFailed(error);
          throw error;
        }
        return c.json({ whole: true });
      })
      .get("/next", (c) => c.json({ next: true }))
      .onError((_e, c) => c.json({ error: true }, 500));
    const url = await serve(app);
    const req = httpRequest(`${url}/upload`, { method: "POST", headers: { "Content-Length": "1000000" } });
    req.on("error", () => {});
    req.write(Buffer.alloc(10_000, 4));
    await reading;
    req.destroy();
    expect(await failure).toBeInstanceOf(Error);
    expect((await fetch(`${url}/next`)).status).toBe(200);
  });

  it("c.req.signal aborts when the client disconnects before the answer", async () => {
    let seen: AbortSignal | undefined;
    let arrived: () => void = () => {};
    const arrival = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let aborted: () => void = () => {};
    const abort = new Promise<void>((resolve) => {
      aborted = resolve;
    });
    const app = new App<TestEnv>().get("/slow", async (c) => {
      seen = c.req.signal;
      c.req.signal.addEventListener("abort", () => aborted());
      arrived();
      await abort;
      return c.json({ late: true });
    });
    const req = httpRequest(`${await serve(app)}/slow`);
    req.on("error", () => {});
    req.end();
    await arrival;
    expect(seen?.aborted).toBe(false);
    req.destroy();
    await abort;
    expect(seen?.aborted).toBe(true);
  });

  it("c.req.signal first read after the client left is already aborted", async () => {
    let arrived: () => void = () => {};
    const arrival = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let report: (aborted: boolean) => void = () => {};
    const reported = new Promise<boolean>((resolve) => {
      report = resolve;
    });
    const app = new App<TestEnv>().get("/late", async (c) => {
      const outgoing = c.env?.outgoing;
      const closed = new Promise((resolve) => outgoing?.once("close", resolve));
      arrived();
      await closed;
      report(c.req.signal.aborted);
      return c.json({ late: true });
    });
    const req = httpRequest(`${await serve(app)}/late`);
    req.on("error", () => {});
    req.end();
    await arrival;
    req.destroy();
    expect(await reported).toBe(true);
  });

  it("a client that leaves mid-answer cancels the streamed body; the server keeps serving", async () => {
    let cancelled: () => void = () => {};
    const cancel = new Promise<void>((resolve) => {
      cancelled = resolve;
    });
    const app = new App<TestEnv>()
      .get("/endless", () => {
        const chunk = new Uint8Array(64 * 1024);
        return new Response(
          new ReadableStream<Uint8Array>({
            pull: (controller) => controller.enqueue(chunk),
            cancel: () => cancelled(),
          }),
        );
      })
      .get("/next", (c) => c.json({ next: true }));
    const url = await serve(app);
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${url}/endless`, (res) => {
        res.once("data", () => {
          req.destroy();
          resolve();
        });
      });
      req.on("error", reject);
      req.end();
    });
    await cancel;
    expect((await fetch(`${url}/next`)).status).toBe(200);
  });

  it("the handler can reset the socket through the bindings; the client sees ECONNRESET", async () => {
    const app = new App<TestEnv>().get("/reset", (c) => {
      c.env?.incoming.socket.resetAndDestroy();
      return c.json({ never: "sent" });
    });
    const error = await fetch(`${await serve(app)}/reset`).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(((error as TypeError).cause as NodeJS.ErrnoException).code).toBe("ECONNRESET");
  });
});

describe("in-process", () => {
  it("fetch answers a Request without a server; c.env is undefined", async () => {
    const app = new App<TestEnv>().post("/echo", async (c) =>
      c.json({ env: c.env === undefined, body: await c.req.json(), method: c.req.method }),
    );
    const res = await app.fetch(
      new Request("http://local.test/echo", { method: "POST", body: JSON.stringify({ a: 1 }) }),
    );
    expect(await res.json()).toEqual({ env: true, body: { a: 1 }, method: "POST" });
  });
});

describe("the emulator on this layer", () => {
  it("refuses a body past Klaviyo's 5 MB with its 413 while the client is still sending", async () => {
    const running = await startEmulator({ rateLimits: "off" });
    closers.push(() => running.close());
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${running.url}/api/events`, {
        method: "POST",
        headers: {
          ...klaviyoHeaders(),
          "Content-Type": "application/vnd.api+json",
          "Transfer-Encoding": "chunked",
        },
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
      // 6 MB of a body that never ends.
      for (let i = 0; i < 96; i++) req.write(Buffer.alloc(64 * 1024, 0x20));
    });
    expect(answer.status).toBe(413);
    expect((JSON.parse(answer.body) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe(
      "request_too_large",
    );
  });
});
