/**
 * Faults on a real socket: servers that never answer, stall, trickle bytes or answer with something other than
 * Klaviyo's JSON, and a caller who gives up while a request waits in the rate limiter or in backoff.
 *
 * What test/core/transport.test.ts already proves is not repeated here (a silent server and a stalled body time
 * out; an HTML 403, an empty 502 and a truncated-but-complete JSON body are typed errors; an abort ends a limiter
 * wait). This file adds: every kind of stall and trickle, headers included, as a seeded property, with the
 * socket closed after every attempt; the caller's abort during a body, in backoff (Retry-After, jitter) and in the
 * limiter (its own windows and the server's word), with nothing sent afterwards and no rate slot spent; answers
 * that break off mid-body, do not decode, are not HTTP, or are huge.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import {
  type AddressInfo,
  createServer as createTcpServer,
  type Server as NetServer,
  type Socket,
} from "node:net";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { KlaviyoClient } from "../../src/core/client.js";
import { type Clock, FakeClock } from "../../src/core/clock.js";
import {
  ApiError,
  ConnectionError,
  RateLimitError,
  ServerError,
  TimeoutError,
} from "../../src/core/errors.js";
import { RateLimiter } from "../../src/core/rate-limit.js";

const KEY = "pk_faults_test_key_0123456789abcdef";
/** The start of a second, so that a 1/s window cannot roll over while virtual time stands still. */
const T0 = Date.parse("2026-11-26T12:00:00.000Z");

// ---------------------------------------------------------------------------------------------------------------
// Servers on loopback that record, per connection, what arrived and whether the socket has closed.

/** A connection that carried a request: the first request's method and target, and whether it has closed. */
interface Conn {
  readonly url: string;
  readonly method: string;
  readonly closed: Promise<void>;
  isClosed(): boolean;
}

interface FaultServer {
  url: string;
  conns: Conn[];
  /** Requests (not connections) received: a keep-alive connection can carry several. */
  requests: Array<{ method: string; url: string }>;
  close(): Promise<void>;
}

const open: FaultServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

function track(socket: Socket, conns: Conn[], first: { url: string; method: string }): Conn {
  let closed = false;
  const conn: Conn = {
    url: first.url,
    method: first.method,
    closed: new Promise<void>((resolve) =>
      socket.once("close", () => {
        closed = true;
        resolve();
      }),
    ),
    isClosed: () => closed,
  };
  conns.push(conn);
  return conn;
}

async function listen(server: NetServer, sockets: Set<Socket>): Promise<string> {
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An HTTP server; `handler` gets each request with the connection it came on. */
async function httpServer(
  handler: (req: IncomingMessage, res: ServerResponse, conn: Conn) => void,
): Promise<FaultServer> {
  const conns: Conn[] = [];
  const requests: FaultServer["requests"] = [];
  const bySocket = new WeakMap<Socket, Conn>();
  const sockets = new Set<Socket>();
  const server = createHttpServer((req, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "" });
    let conn = bySocket.get(req.socket);
    if (!conn) {
      conn = track(req.socket, conns, { url: req.url ?? "", method: req.method ?? "" });
      bySocket.set(req.socket, conn);
    }
    handler(req, res, conn);
  });
  return served(server, sockets, conns, requests);
}

/** Listens, and registers the server to be closed (its sockets destroyed) after the test. */
async function served(
  server: NetServer,
  sockets: Set<Socket>,
  conns: Conn[],
  requests: FaultServer["requests"],
): Promise<FaultServer> {
  const url = await listen(server, sockets);
  const s: FaultServer = {
    url,
    conns,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  open.push(s);
  return s;
}

/** A TCP server that reads the request head and then does whatever `onRequest` does with the raw socket. */
async function tcpServer(onRequest: (socket: Socket, conn: Conn) => void): Promise<FaultServer> {
  const conns: Conn[] = [];
  const requests: FaultServer["requests"] = [];
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    socket.on("error", () => {});
    // Tracked once a request arrives: after an abort undici may open a spare connection that carries nothing.
    let head = "";
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      const [method = "", url = ""] = head.slice(0, head.indexOf("\r\n")).split(" ");
      const conn = track(socket, conns, { method, url });
      requests.push({ method, url });
      onRequest(socket, conn);
    };
    socket.on("data", onData);
  });
  return served(server, sockets, conns, requests);
}

/** Writes one byte of `text` every `everyMs` until it is all sent (then calls `done`) or the socket goes away. */
function drip(socket: Socket | ServerResponse, text: string, everyMs: number, done?: () => void): void {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || i >= text.length) {
      clearInterval(timer);
      if (!socket.destroyed) done?.();
      return;
    }
    socket.write(text[i++] as string);
  }, everyMs);
  socket.once("close", () => clearInterval(timer));
}

/** Waits (up to a bound, not a timed assertion) for every connection's socket to close, and says whether they did. */
async function allClosed(conns: readonly Conn[], boundMs = 3000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, boundMs);
  });
  await Promise.race([Promise.all(conns.map((c) => c.closed)), bound]);
  clearTimeout(timer);
  return conns.every((c) => c.isClosed());
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the request to fail");
}

/** A few turns of the event loop and a round trip on a fresh connection: anything queued to go has gone. */
async function settle(server: FaultServer): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  await fetch(`${server.url}/__sentinel`).then((r) => r.arrayBuffer());
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Time that moves only when the test says so. Sleeps stay pending until `advance` passes their wake time, so a
 * sleep that ended while time stood still can only have ended by abort: "promptly", proven without timing.
 */
class ManualClock implements Clock {
  readonly sleeps: number[] = [];
  private readonly pending = new Set<{ at: number; resolve: () => void }>();
  private readonly started: Array<(ms: number) => void> = [];
  constructor(private time: number) {}
  now(): number {
    return this.time;
  }
  get pendingSleeps(): number {
    return this.pending.size;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.sleeps.push(ms);
    const promise = new Promise<void>((resolve, reject) => {
      const entry = { at: this.time + ms, resolve };
      this.pending.add(entry);
      signal?.addEventListener(
        "abort",
        () => {
          this.pending.delete(entry);
          reject(signal.reason);
        },
        { once: true },
      );
    });
    this.started.shift()?.(ms);
    return promise;
  }
  /** Resolves with the length of the next sleep to start that no earlier `nextSleep` has claimed. */
  nextSleep(): Promise<number> {
    return new Promise((resolve) => this.started.push(resolve));
  }
  /** Moves time on, waking every sleep due by then. */
  advance(ms: number): void {
    this.time += ms;
    for (const entry of [...this.pending]) {
      if (entry.at <= this.time) {
        this.pending.delete(entry);
        entry.resolve();
      }
    }
  }
}

/** A JSON:API answer such as Klaviyo's. */
function answer(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/vnd.api+json", ...headers });
  res.end(JSON.stringify(body));
}
const OK = { data: [], links: {} };
const unavailable = { errors: [{ id: "e1", status: 503, code: "error", title: "Service unavailable." }] };
const throttled = { errors: [{ id: "e2", status: 429, code: "throttled", title: "Request was throttled." }] };

// ---------------------------------------------------------------------------------------------------------------

describe("timeouts always fire, whatever the server does, and the socket is closed", () => {
  /** Server behaviours that never complete an answer. */
  type Stall =
    | { kind: "silent" }
    | { kind: "partial-status"; bytes: number }
    | { kind: "trickle-headers"; everyMs: number }
    | { kind: "headers-then-stall" }
    | { kind: "partial-body"; bytes: number }
    | { kind: "trickle-body"; everyMs: number; chunked: boolean }
    | { kind: "slow-body"; everyMs: number };

  const HEAD = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.api+json\r\nX-Padding: ";
  const BODY = JSON.stringify({
    data: Array.from({ length: 50 }, (_, i) => ({ type: "profile", id: `P${i}` })),
  });

  function behave(stall: Stall): (socket: Socket) => void {
    return (socket) => {
      switch (stall.kind) {
        case "silent":
          return;
        case "partial-status":
          socket.write("HTTP/1.1 200 OK\r\n".slice(0, stall.bytes));
          return;
        case "trickle-headers":
          // Headers that never end: one byte of an endless header value at a time.
          socket.write(HEAD);
          drip(socket, "x".repeat(1_000_000), stall.everyMs);
          return;
        case "headers-then-stall":
          socket.write(`${HEAD}1\r\nContent-Length: ${BODY.length}\r\n\r\n`);
          return;
        case "partial-body":
          socket.write(`${HEAD}1\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY.slice(0, stall.bytes)}`);
          return;
        case "trickle-body":
          // A body that never ends: whitespace is valid JSON padding, so only the clock can stop it.
          if (stall.chunked) {
            socket.write(`${HEAD}1\r\nTransfer-Encoding: chunked\r\n\r\n`);
            drip(socket, "1\r\n \r\n".repeat(200_000), stall.everyMs);
          } else {
            socket.write(`${HEAD}1\r\nContent-Length: 1000000\r\n\r\n`);
            drip(socket, " ".repeat(1_000_000), stall.everyMs);
          }
          return;
        case "slow-body":
          // A complete answer that would finish, but only long after any sensible timeout.
          socket.write(`${HEAD}1\r\nContent-Length: ${BODY.length}\r\n\r\n`);
          drip(socket, BODY, stall.everyMs);
          return;
      }
    };
  }

  const RUNS = 40;
  const stalls: fc.Arbitrary<Stall> = fc.oneof(
    fc.constant<Stall>({ kind: "silent" }),
    fc.record({ kind: fc.constant("partial-status" as const), bytes: fc.integer({ min: 1, max: 16 }) }),
    fc.record({ kind: fc.constant("trickle-headers" as const), everyMs: fc.integer({ min: 1, max: 10 }) }),
    fc.constant<Stall>({ kind: "headers-then-stall" }),
    fc.record({
      kind: fc.constant("partial-body" as const),
      bytes: fc.integer({ min: 0, max: BODY.length - 1 }),
    }),
    fc.record({
      kind: fc.constant("trickle-body" as const),
      everyMs: fc.integer({ min: 1, max: 10 }),
      chunked: fc.boolean(),
    }),
    fc.record({ kind: fc.constant("slow-body" as const), everyMs: fc.integer({ min: 20, max: 40 }) }),
  );

  it("every stall and trickle ends in a TimeoutError per attempt, GETs retried, a POST never, sockets closed", async () => {
    const drawn = new Map<Stall["kind"], number>();
    await fc.assert(
      fc.asyncProperty(
        stalls,
        fc.integer({ min: 60, max: 160 }),
        fc.constantFrom("GET" as const, "POST" as const),
        fc.integer({ min: 0, max: 1 }),
        async (stall, timeoutMs, method, maxRetries) => {
          drawn.set(stall.kind, (drawn.get(stall.kind) ?? 0) + 1);
          const server = await tcpServer(behave(stall));
          const clock = new FakeClock(T0); // backoff between attempts without waiting; the timeout is real
          const client = new KlaviyoClient({
            apiKey: KEY,
            baseUrl: server.url,
            timeoutMs,
            clock,
            random: () => 0.5,
            rateLimiter: false,
            retry: { maxRetries },
          });
          const error = await rejection(
            client.request({ method, path: "/api/profiles", ...(method === "POST" ? { body: {} } : {}) }),
          );
          expect(error).toBeInstanceOf(TimeoutError);
          expect((error as TimeoutError).timeoutMs).toBe(timeoutMs);
          expect((error as TimeoutError).message).toBe(
            `${method} /api/profiles timed out after ${timeoutMs} ms`,
          );
          // A POST that timed out may have been done: never sent twice. A GET: once per attempt.
          const attempts = method === "GET" ? maxRetries + 1 : 1;
          expect(server.requests).toHaveLength(attempts);
          expect(server.conns).toHaveLength(attempts);
          // The client let go of every connection it opened: nothing half-read is left in the pool.
          expect(await allClosed(server.conns)).toBe(true);
          await server.close();
        },
      ),
      { numRuns: RUNS, seed: 8_2026, endOnFailure: true },
    );
    // Every kind of stall was among the cases (the seed is fixed, so this is a check on the seed's spread).
    expect([...drawn.values()].reduce((a, b) => a + b, 0)).toBe(RUNS);
    expect(drawn.size).toBe(7);
    console.log(`timeouts: ${RUNS} cases`, Object.fromEntries(drawn));
  }, 60_000);

  it("a caller's abort during a trickling body ends it with the caller's reason, not a timeout, and closes the socket", async () => {
    const server = await httpServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/vnd.api+json" });
      res.flushHeaders();
      drip(res, " ".repeat(1_000_000), 2);
    });
    const client = new KlaviyoClient({
      apiKey: KEY,
      baseUrl: server.url,
      rateLimiter: false,
      timeoutMs: 60_000,
    });
    const controller = new AbortController();
    const pending = rejection(
      client.request({ method: "GET", path: "/api/accounts", signal: controller.signal }),
    );
    while (server.conns.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort(new Error("caller gave up"));
    const error = await pending;
    expect(error).not.toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toBe("caller gave up");
    expect(await allClosed(server.conns)).toBe(true);
    // Not retried: an abort is the caller's decision, not a fault.
    expect(server.requests).toHaveLength(1);
  });
});

describe("a caller's AbortSignal cancels waits in the rate limiter and in backoff, and nothing is sent after", () => {
  /** GET /api/accounts: 1 per second, 15 per minute. `mode` picks what the server answers. */
  async function accounts(mode: () => "ok" | "503" | "429" | "reset") {
    return httpServer((req, res) => {
      if (req.url === "/__sentinel") return answer(res, 200, OK);
      const m = mode();
      if (m === "ok") return answer(res, 200, OK);
      if (m === "503") return answer(res, 503, unavailable, { "retry-after": "30" });
      if (m === "429") return answer(res, 429, throttled, { "retry-after": "30" });
      req.socket.resetAndDestroy();
    });
  }
  /**
   * Sends GET /api/accounts and says whether it went at once ("sent") or had to wait in the limiter ("waited
   * N ms"); a wait is then let run out, so the test ends either way.
   */
  async function sentWithoutWaiting(client: KlaviyoClient, clock: ManualClock): Promise<string> {
    // Listening for a sleep before sending: a wait in the limiter can start before `request` even returns.
    const sleeping = clock.nextSleep().then((ms) => `waited ${ms} ms`);
    const sent = client.request({ method: "GET", path: "/api/accounts" }).then(() => "sent");
    const first = await Promise.race([sent, sleeping]);
    if (first !== "sent") {
      clock.advance(3_600_000);
      await sent;
    }
    return first;
  }
  const apiRequests = (server: FaultServer) => server.requests.filter((r) => r.url !== "/__sentinel");

  it("requests queued in the limiter (tier exhausted) reject at once on abort, send nothing, and spend no slot", async () => {
    const server = await accounts(() => "ok");
    const clock = new ManualClock(T0);
    const client = new KlaviyoClient({
      apiKey: KEY,
      baseUrl: server.url,
      clock,
      rateLimiter: new RateLimiter({ clock }),
    });
    await client.request({ method: "GET", path: "/api/accounts" });
    expect(apiRequests(server)).toHaveLength(1);

    const controller = new AbortController();
    const sleeps = [clock.nextSleep(), clock.nextSleep(), clock.nextSleep()];
    const waiting = [0, 1, 2].map(() =>
      rejection(client.request({ method: "GET", path: "/api/accounts", signal: controller.signal })),
    );
    // Each of the three is now asleep in the limiter, waiting for the next second.
    const lengths = await Promise.all(sleeps);
    expect(lengths.every((ms) => ms > 0 && ms <= 1000)).toBe(true);
    expect(clock.pendingSleeps).toBe(3);
    controller.abort(new Error("caller gave up"));
    for (const error of await Promise.all(waiting)) expect((error as Error).message).toBe("caller gave up");
    // Settled while time stood still: the abort ended the waits, not the windows rolling over.
    expect(clock.now()).toBe(T0);
    expect(clock.pendingSleeps).toBe(0);

    // Time moves on; nothing that was aborted wakes up and goes.
    clock.advance(3_600_000);
    await settle(server);
    expect(apiRequests(server)).toHaveLength(1);
    // And the aborted requests took no place in the windows: the next one goes without a wait.
    expect(await sentWithoutWaiting(client, clock)).toBe("sent");
    expect(apiRequests(server)).toHaveLength(2);
  });

  it("a request held back by the server's Retry-After (429 on another call) is released by abort, sending nothing", async () => {
    let mode: "ok" | "429" = "429";
    const server = await accounts(() => mode);
    const clock = new ManualClock(T0);
    const client = new KlaviyoClient({
      apiKey: KEY,
      baseUrl: server.url,
      clock,
      rateLimiter: new RateLimiter({ clock }),
    });
    const first = await rejection(
      client.request({ method: "GET", path: "/api/accounts", retry: { maxRetries: 0 } }),
    );
    expect(first).toBeInstanceOf(RateLimitError);
    mode = "ok";
    const controller = new AbortController();
    const started = clock.nextSleep();
    const held = rejection(
      client.request({ method: "GET", path: "/api/accounts", signal: controller.signal }),
    );
    // The limiter holds it for the server's 30 seconds (give or take the window it would have waited anyway).
    expect(await started).toBeGreaterThanOrEqual(29_000);
    controller.abort(new Error("stop waiting"));
    expect(((await held) as Error).message).toBe("stop waiting");
    expect(clock.now()).toBe(T0);
    clock.advance(3_600_000);
    await settle(server);
    expect(apiRequests(server)).toHaveLength(1);
  });

  it("backoff after a 503 with a long Retry-After ends at once on abort; no retry is sent", async () => {
    const server = await accounts(() => "503");
    const clock = new ManualClock(T0);
    const client = new KlaviyoClient({
      apiKey: KEY,
      baseUrl: server.url,
      clock,
      random: () => 0.5,
      rateLimiter: new RateLimiter({ clock }),
    });
    const controller = new AbortController();
    const started = clock.nextSleep();
    const pending = rejection(
      client.request({ method: "GET", path: "/api/accounts", signal: controller.signal }),
    );
    // The server's 30 s and half of the 500 ms jitter that keeps processes of one account out of step.
    expect(await started).toBe(30_250);
    expect(apiRequests(server)).toHaveLength(1);
    controller.abort(new Error("caller gave up"));
    expect(((await pending) as Error).message).toBe("caller gave up");
    expect(clock.now()).toBe(T0);
    expect(clock.pendingSleeps).toBe(0);
    clock.advance(3_600_000);
    await settle(server);
    expect(apiRequests(server)).toHaveLength(1);
  });

  it("backoff after a dropped connection (jittered) ends at once on abort; no retry is sent", async () => {
    const server = await accounts(() => "reset");
    const clock = new ManualClock(T0);
    const client = new KlaviyoClient({
      apiKey: KEY,
      baseUrl: server.url,
      clock,
      random: () => 0.5,
      rateLimiter: false,
    });
    const controller = new AbortController();
    const started = clock.nextSleep();
    const pending = rejection(
      client.request({ method: "GET", path: "/api/accounts", signal: controller.signal }),
    );
    expect(await started).toBe(250); // half of the first 500 ms step
    controller.abort(new Error("caller gave up"));
    expect(((await pending) as Error).message).toBe("caller gave up");
    clock.advance(3_600_000);
    await settle(server);
    expect(apiRequests(server)).toHaveLength(1);
  });

  it("on the real clock too: a 30 s Retry-After is cut short by abort, within a test that allows far less", async () => {
    const controller = new AbortController();
    const server = await httpServer((req, res) => {
      if (req.url === "/__sentinel") return answer(res, 200, OK);
      answer(res, 503, unavailable, { "retry-after": "30" });
      // Abort once the answer is out, while the client is (about to be) asleep for 30 seconds.
      res.once("finish", () => setTimeout(() => controller.abort(new Error("caller gave up")), 20));
    });
    const client = new KlaviyoClient({ apiKey: KEY, baseUrl: server.url, rateLimiter: new RateLimiter() });
    const error = await rejection(
      client.request({ method: "GET", path: "/api/accounts", signal: controller.signal }),
    );
    expect((error as Error).message).toBe("caller gave up");
    await settle(server);
    expect(apiRequests(server)).toHaveLength(1);
  }, 10_000);

  it("an already aborted signal sends nothing and takes no place in the rate windows", async () => {
    const server = await accounts(() => "ok");
    const clock = new ManualClock(T0);
    const client = new KlaviyoClient({
      apiKey: KEY,
      baseUrl: server.url,
      clock,
      rateLimiter: new RateLimiter({ clock }),
    });
    const error = await rejection(
      client.request({
        method: "GET",
        path: "/api/accounts",
        signal: AbortSignal.abort(new Error("too late")),
      }),
    );
    expect((error as Error).message).toBe("too late");
    await settle(server);
    expect(apiRequests(server)).toHaveLength(0);
    // The window's one request per second is still free.
    expect(await sentWithoutWaiting(client, clock)).toBe("sent");
    expect(apiRequests(server)).toHaveLength(1);
  });
});

describe("answers that are not Klaviyo's JSON, over a real socket: clear typed errors", () => {
  const client = (url: string, maxRetries = 0) =>
    new KlaviyoClient({
      apiKey: KEY,
      baseUrl: url,
      rateLimiter: false,
      clock: new FakeClock(T0),
      random: () => 0.5,
      retry: { maxRetries },
    });

  it("a body that breaks off mid-way (connection dropped): ConnectionError saying the answer was cut, GET retried, POST not", async () => {
    const server = await httpServer((req, res) => {
      res.writeHead(200, { "content-type": "application/vnd.api+json", "content-length": "4096" });
      res.write('{"data": [{"type": "profile", "id": "01H');
      setTimeout(() => req.socket.destroy(), 10);
    });
    const get = await rejection(client(server.url, 2).request({ method: "GET", path: "/api/profiles" }));
    expect(get).toBeInstanceOf(ConnectionError);
    expect((get as ConnectionError).refused).toBe(false);
    expect((get as Error).message).toMatch(
      /^Could not read the whole 200 answer from http:\/\/127\.0\.0\.1:\d+ to GET \/api\/profiles \(UND_ERR_SOCKET\)$/,
    );
    expect(server.requests).toHaveLength(3);
    const post = await rejection(
      client(server.url, 2).request({ method: "POST", path: "/api/profiles", body: { data: {} } }),
    );
    expect(post).toBeInstanceOf(ConnectionError);
    // The server had the POST and answered: sending it again could create a second profile.
    expect(server.requests).toHaveLength(4);
  });

  it("a chunked body cut before its last chunk, and a body that claims gzip but is not: ConnectionError naming the cause", async () => {
    const server = await httpServer((req, res) => {
      if (req.url?.startsWith("/gzip")) {
        res.writeHead(200, { "content-type": "application/vnd.api+json", "content-encoding": "gzip" });
        res.end('{"data": []}');
        return;
      }
      res.writeHead(200, { "content-type": "application/vnd.api+json" });
      res.write('{"data": [');
      setTimeout(() => req.socket.destroy(), 10);
    });
    const cut = await rejection(client(server.url).request({ method: "GET", path: "/chunked" }));
    expect(cut).toBeInstanceOf(ConnectionError);
    expect((cut as Error).message).toMatch(
      /Could not read the whole 200 answer .* to GET \/chunked \(UND_ERR_SOCKET\)$/,
    );
    const gzip = await rejection(client(server.url).request({ method: "GET", path: "/gzip" }));
    expect(gzip).toBeInstanceOf(ConnectionError);
    expect((gzip as Error).message).toMatch(
      /Could not read the whole 200 answer .* to GET \/gzip \(Z_DATA_ERROR\)$/,
    );
  });

  it("something that is not HTTP at all, and a connection closed before any answer: ConnectionError", async () => {
    const garbage = await tcpServer((socket) => socket.end("SSH-2.0-OpenSSH_9.6\r\n"));
    const e1 = await rejection(client(garbage.url).request({ method: "GET", path: "/api/accounts" }));
    expect(e1).toBeInstanceOf(ConnectionError);
    expect((e1 as Error).message).toMatch(
      /^Could not reach http:\/\/127\.0\.0\.1:\d+ for GET \/api\/accounts \(HPE_/,
    );
    const hangup = await tcpServer((socket) => socket.end());
    const e2 = await rejection(client(hangup.url).request({ method: "GET", path: "/api/accounts" }));
    expect(e2).toBeInstanceOf(ConnectionError);
    expect((e2 as ConnectionError).refused).toBe(false);
  });

  it("a 200 HTML page (a captive portal), a JSON 500 not in Klaviyo's format, a body of invalid UTF-8: typed, with the body quoted", async () => {
    const server = await httpServer((req, res) => {
      if (req.url?.startsWith("/portal")) {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        res.end("<html><body>Sign in to the hotel Wi-Fi</body></html>");
      } else if (req.url?.startsWith("/json500")) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end('{"message": "Internal server error"}');
      } else {
        res.writeHead(400, { "content-type": "application/vnd.api+json" });
        res.end(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
      }
    });
    const portal = (await rejection(
      client(server.url).request({ method: "GET", path: "/portal" }),
    )) as ApiError;
    expect(portal).toBeInstanceOf(ApiError);
    expect(portal.status).toBe(200);
    expect(portal.message).toMatch(/200 .*expected JSON but got text\/html.*Sign in to the hotel Wi-Fi/);
    const json500 = (await rejection(
      client(server.url).request({ method: "GET", path: "/json500" }),
    )) as ApiError;
    expect(json500).toBeInstanceOf(ServerError);
    expect(json500.errors).toEqual([]);
    expect(json500.message).toMatch(/500 .*Internal server error/);
    const bad = (await rejection(client(server.url).request({ method: "GET", path: "/utf8" }))) as ApiError;
    expect(bad.status).toBe(400);
    expect(bad.message).toMatch(/^Klaviyo API 400 \(GET \/utf8\): expected Klaviyo's JSON error body/);
  });

  it("a 1 MB HTML error page: the message and the kept body stay short", async () => {
    const server = await httpServer((_req, res) => {
      res.writeHead(503, { "content-type": "text/html" });
      res.end(`<html><title>Service Unavailable</title>${"<p>x</p>".repeat(130_000)}</html>`);
    });
    const error = (await rejection(
      client(server.url).request({ method: "GET", path: "/api/accounts" }),
    )) as ApiError;
    expect(error).toBeInstanceOf(ServerError);
    expect(error.message).toMatch(/503 .*text\/html.*Service Unavailable/);
    expect(error.message.length).toBeLessThan(400);
    expect((error.rawBody ?? "").length).toBeLessThanOrEqual(500);
    expect(JSON.stringify(error).length).toBeLessThan(1500);
  });

  it("an HTML 429 without Retry-After is a RateLimitError, retried with backoff, never a parse crash", async () => {
    const server = await httpServer((_req, res) => {
      res.writeHead(429, { "content-type": "text/html" });
      res.end("<html><h1>429 Too Many Requests</h1></html>");
    });
    const clock = new FakeClock(T0);
    const c = new KlaviyoClient({
      apiKey: KEY,
      baseUrl: server.url,
      clock,
      random: () => 0.5,
      rateLimiter: false,
      retry: { maxRetries: 2 },
    });
    const error = (await rejection(
      c.request({ method: "POST", path: "/api/events", body: {} }),
    )) as RateLimitError;
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.retryAfterMs).toBeUndefined();
    expect(error.message).toMatch(/429 .*text\/html.*Too Many Requests/);
    expect(server.requests).toHaveLength(3);
    expect(clock.sleeps).toEqual([250, 500]);
  });

  it("a redirect (a proxy's login page) is not followed: an ApiError with its status, and the other host gets nothing", async () => {
    const elsewhere = await httpServer((_req, res) => answer(res, 200, OK));
    const server = await httpServer((_req, res) => {
      res.writeHead(302, { location: `${elsewhere.url}/login` });
      res.end();
    });
    const error = (await rejection(
      client(server.url).request({ method: "GET", path: "/api/accounts" }),
    )) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(302);
    await settle(elsewhere);
    expect(elsewhere.requests.filter((r) => r.url !== "/__sentinel")).toHaveLength(0);
  });
});
