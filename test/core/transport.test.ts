import { inspect } from "node:util";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runAction, runActionByKey } from "../../src/actions/index.js";
import type { FetchLike } from "../../src/core/chain.js";
import { KlaviyoClient, type KlaviyoClientOptions } from "../../src/core/client.js";
import { type Clock, FakeClock, systemClock } from "../../src/core/clock.js";
import { limitsHeardFor } from "../../src/core/emulator-limits.js";
import {
  ApiError,
  AuthenticationError,
  BadRequestError,
  ConnectionError,
  InputValidationError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ServerError,
  TimeoutError,
} from "../../src/core/errors.js";
import { RateLimiter } from "../../src/core/rate-limit.js";
import { DEFAULT_RETRY_POLICY } from "../../src/core/retry.js";
import { createEmulator, DEV_API_KEY, startEmulator } from "../../src/emulator/index.js";
import { checkedFetch } from "../helpers/contract.js";
import { closedPort, startServer, type TestServer } from "../helpers/servers.js";

const KEY = "pk_transport_test_key_0123456789abcd";
const OTHER_KEY = "pk_unknown_key_to_the_emulator_0000";
const SCOPED_KEY = "pk_scoped_key_lists_only_00000000000";

type Emulator = ReturnType<typeof createEmulator>;

/** An observer around the emulator's in-process fetch: records what went over the wire, changes nothing. */
function observed(emulator: Emulator): { fetch: FetchLike; sent: Request[] } {
  const sent: Request[] = [];
  // Answers are held against the OpenAPI document; requests are not, some are wrong on purpose.
  const checked = checkedFetch(emulator.fetch, { requests: false });
  return {
    sent,
    fetch: (input, init) => {
      sent.push(new Request(input, init));
      return checked(input, init);
    },
  };
}

function setup(
  emulatorOptions: Parameters<typeof createEmulator>[0] = {},
  clientOptions: KlaviyoClientOptions = {},
) {
  const clock = new FakeClock(Date.parse("2026-11-26T12:00:00.000Z"));
  const emulator = createEmulator({
    apiKeys: [{ key: KEY }, { key: SCOPED_KEY, scopes: ["lists:read"] }],
    clock,
    ...emulatorOptions,
  });
  const wire = observed(emulator);
  const client = new KlaviyoClient({
    apiKey: KEY,
    baseUrl: emulator.baseUrl,
    fetch: wire.fetch,
    clock,
    random: () => 0.5,
    ...clientOptions,
  });
  return { clock, emulator, client, sent: wire.sent };
}

/** Every error a test provoked, checked at the end for secrets. */
const provoked: unknown[] = [];
async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    provoked.push(error);
    return error;
  }
  throw new Error("expected a failure");
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe("requests against the emulator", () => {
  it("sends the headers Klaviyo expects and returns the document, with the rate-limit state", async () => {
    const { client, sent, emulator } = setup();
    const res = await client.request<{ data: Array<{ id: string }> }>({
      method: "GET",
      path: "/api/accounts",
    });
    expect(res.status).toBe(200);
    expect(res.body.data[0]?.id).toBe(emulator.account.id);
    const h = sent[0]?.headers;
    expect(h?.get("authorization")).toBe(`Klaviyo-API-Key ${KEY}`);
    expect(h?.get("revision")).toBe("2026-07-15");
    expect(h?.get("accept")).toBe("application/vnd.api+json");
    expect(h?.get("user-agent")).toMatch(/^klaviyo-connector\/0\.1\.0 node\/\d+/);
    expect(res.rateLimit).toMatchObject({ limit: 15, remaining: 14 });
    expect(client.lastRateLimit?.remaining).toBe(14);
  });

  it("overrides the revision per client and per call", async () => {
    const { client, sent, emulator } = setup({}, { revision: "2026-04-15" });
    await client.request({ method: "GET", path: "/api/accounts" });
    await client.request({
      method: "GET",
      path: `/api/accounts/${emulator.account.id}`,
      revision: "2026-01-15",
    });
    expect(sent.map((r) => r.headers.get("revision"))).toEqual(["2026-04-15", "2026-01-15"]);
    const err = await failure(
      client.request({ method: "GET", path: "/api/accounts", revision: "July 2026" }),
    );
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).errors[0]?.source?.parameter).toBe("revision");
  });

  it("turns Klaviyo's auth errors into typed errors", async () => {
    const unknown = setup({}, { apiKey: OTHER_KEY });
    const e401 = await failure(unknown.client.request({ method: "GET", path: "/api/accounts" }));
    expect(e401).toBeInstanceOf(AuthenticationError);
    expect((e401 as AuthenticationError).code).toBe("authentication_failed");
    expect((e401 as AuthenticationError).status).toBe(401);

    const none = setup();
    const e401b = await failure(
      none.client.request({ method: "GET", path: "/api/accounts", authenticate: false }),
    );
    expect((e401b as AuthenticationError).code).toBe("not_authenticated");

    const scoped = setup({}, { apiKey: SCOPED_KEY });
    const e403 = await failure(scoped.client.request({ method: "GET", path: "/api/accounts" }));
    expect(e403).toBeInstanceOf(PermissionDeniedError);
    expect((e403 as PermissionDeniedError).code).toBe("permission_denied");
    expect((e403 as PermissionDeniedError).message).toMatch(/accounts:read/);

    const { client } = setup();
    const e404 = await failure(client.request({ method: "GET", path: "/api/accounts/NoSuch" }));
    expect(e404).toBeInstanceOf(NotFoundError);
    // Klaviyo points a 404 at the whole document (`/data/`); the message leaves out a pointer that says nothing.
    expect((e404 as NotFoundError).errors[0]?.source?.pointer).toBe("/data/");
    expect((e404 as NotFoundError).message).not.toMatch(/\[\/data/);
    expect((e404 as NotFoundError).message).toMatch(/^Klaviyo API 404 \(GET \/api\/accounts\/NoSuch\): \S/);
    // None of these were retried: the emulator saw each once.
    expect(unknown.emulator.requests).toHaveLength(1);
    expect(scoped.emulator.requests).toHaveLength(1);
  });
});

describe("rate limits", () => {
  it("waits out the server's Retry-After on a 429 and then succeeds", async () => {
    const { client, clock, emulator } = setup({}, { rateLimiter: false });
    await client.request({ method: "GET", path: "/api/accounts" });
    const res = await client.request({ method: "GET", path: "/api/accounts" });
    expect(res.status).toBe(200);
    expect(res.attempts).toBe(2);
    expect(emulator.requests.map((r) => r.status)).toEqual([200, 429, 200]);
    // Retry-After (1 s), and the jitter that keeps processes of one account out of step (random 0.5 here).
    expect(clock.sleeps).toEqual([1000 + 0.5 * DEFAULT_RETRY_POLICY.retryAfterJitterMs]);
  });

  it("never collects a 429 when the client-side limiter knows the tier: it waits instead", async () => {
    const { client, clock, emulator } = setup();
    const start = clock.now();
    for (let i = 0; i < 5; i++) await client.request({ method: "GET", path: "/api/accounts" });
    expect(emulator.requests.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    // 1 request per second: five requests span at least four seconds of (virtual) time.
    expect(clock.now() - start).toBeGreaterThanOrEqual(4000);
    expect(clock.now() - start).toBeLessThan(5000);
  });

  it("raises RateLimitError with retryAfterMs once retries are exhausted", async () => {
    const { client } = setup(
      { faults: [{ kind: "429", probability: 1 }] },
      { rateLimiter: false, retry: { maxRetries: 2 } },
    );
    const err = await failure(client.request({ method: "GET", path: "/api/accounts" }));
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).retryAfterMs).toBe(1000);
  });

  it("a shared limiter paces two clients of one key together", async () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter({ clock });
    const emulator = createEmulator({ apiKeys: [{ key: KEY }], clock });
    const make = () =>
      new KlaviyoClient({
        apiKey: KEY,
        baseUrl: emulator.baseUrl,
        fetch: emulator.fetch,
        clock,
        rateLimiter: limiter,
      });
    const [a, b] = [make(), make()];
    await Promise.all([a, b, a, b].map((c) => c.request({ method: "GET", path: "/api/accounts" })));
    expect(emulator.requests.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(clock.now()).toBeGreaterThanOrEqual(3000);
  });
});

describe("the client's own limiter, and emulators without limits", () => {
  const list = (i: number) => ({
    method: "POST" as const,
    path: "/api/lists",
    body: { data: { type: "list", attributes: { name: `List ${i}` } } },
  });

  it("raises a wait of its own longer than the retry policy allows at once, as a RateLimitError, sending nothing", async () => {
    // Create List: 10 a second, 150 a minute, 150 a day. The 151st would wait for midnight UTC.
    const { client, clock, emulator } = setup();
    for (let i = 0; i < 150; i++) await client.request(list(i));
    const before = clock.now();
    const err = await failure(client.request(list(150)));
    expect(err).toBeInstanceOf(RateLimitError);
    const refusal = err as RateLimitError;
    expect(refusal.fromLimiter).toBe(true);
    expect(refusal.status).toBe(429);
    const midnight = (Math.floor(before / 86_400_000) + 1) * 86_400_000;
    expect(refusal.retryAfterMs).toBeGreaterThan(60_000);
    expect(refusal.retryAfterMs).toBeLessThanOrEqual(midnight - before + 1000);
    expect(refusal.message).toMatch(/not sent/);
    expect(refusal.message).toMatch(/150 a day/);
    expect(clock.now()).toBe(before);
    expect(emulator.requests.filter((r) => r.method === "POST")).toHaveLength(150);
    // A policy that allows the wait waits instead (here: a day of virtual time).
    const patient = await client.request({ ...list(151), retry: { maxRetryAfterMs: 86_400_000 } });
    expect(patient.status).toBe(201);
    expect(clock.now()).toBeGreaterThanOrEqual(midnight);
  });

  it("waits on nothing against an emulator whose limits are off, and paces again once they are on", async () => {
    const { client, clock, emulator } = setup({ rateLimits: "off" });
    for (let i = 0; i < 200; i++) await client.request(list(i));
    expect(clock.sleeps).toEqual([]);
    expect(emulator.requests.every((r) => r.status === 201)).toBe(true);
    emulator.setRateLimits("real");
    // Get Account allows 1 a second: the first answer says "real", the next requests wait their turn.
    for (let i = 0; i < 3; i++) await client.request({ method: "GET", path: "/api/accounts" });
    expect(clock.sleeps.length).toBeGreaterThan(0);
    expect(emulator.requests.filter((r) => r.status === 429)).toEqual([]);
  });

  it("clients of one emulator share what it said; a limiter given is used as given", async () => {
    const clock = new FakeClock(Date.parse("2026-11-26T12:00:00.000Z"));
    const emulator = createEmulator({ apiKeys: [{ key: KEY }], clock, rateLimits: "off" });
    const origin = new URL(emulator.baseUrl).origin;
    expect(limitsHeardFor(emulator.fetch, origin).off).toBe(false);
    const first = new KlaviyoClient({ apiKey: KEY, baseUrl: emulator.baseUrl, fetch: emulator.fetch, clock });
    await first.request({ method: "GET", path: "/api/accounts" });
    // Every later client of this emulator starts out knowing; another server (Klaviyo) has said nothing.
    expect(limitsHeardFor(emulator.fetch, origin).off).toBe(true);
    expect(limitsHeardFor(createEmulator().fetch, origin).off).toBe(false);
    expect(limitsHeardFor(undefined, "https://a.klaviyo.com").off).toBe(false);
    // A limiter given (the CLI's --rate-limit-scale, say) paces even here: Get Account, 1 a second.
    const given = new KlaviyoClient({
      apiKey: KEY,
      baseUrl: emulator.baseUrl,
      fetch: emulator.fetch,
      clock,
      rateLimiter: new RateLimiter({ clock }),
    });
    for (let i = 0; i < 3; i++) await given.request({ method: "GET", path: "/api/accounts" });
    expect(clock.sleeps.length).toBeGreaterThan(0);
  });
});

describe("a client's defaults from the environment", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("refuses a missing or empty key before anything is sent, naming the API Key", () => {
    vi.stubEnv("KLAVIYO_API_KEY", "");
    for (const options of [{}, { apiKey: undefined }, { apiKey: process.env.KLAVIYO_UNSET_FOR_THIS_TEST }]) {
      expect(() => new KlaviyoClient(options)).toThrow(InputValidationError);
      expect(() => new KlaviyoClient(options)).toThrow(/API Key.*required.*KLAVIYO_API_KEY/s);
    }
    expect(() => new KlaviyoClient({ apiKey: "" })).toThrow(/API Key.*empty/s);
  });

  it("reads KLAVIYO_API_KEY and KLAVIYO_BASE_URL when given neither, as openai-node reads its own", async () => {
    // An emulator on a port: the client must send there, with the environment's key.
    const running = await startEmulator({ apiKeys: [{ key: KEY }], rateLimits: "off" });
    servers.push({ close: () => running.close() } as TestServer);
    const server = { url: running.url };
    const emulator = running.emulator;
    vi.stubEnv("KLAVIYO_API_KEY", KEY);
    vi.stubEnv("KLAVIYO_BASE_URL", server.url);
    const client = new KlaviyoClient();
    expect(client.baseUrl.href).toBe(new URL(server.url).href);
    const res = await client.request({ method: "GET", path: "/api/accounts" });
    expect(res.status).toBe(200);
    expect(emulator.requests).toHaveLength(1);
    // Given options win over the environment.
    const given = new KlaviyoClient({ apiKey: DEV_API_KEY, baseUrl: "https://example.test" });
    expect(given.baseUrl.origin).toBe("https://example.test");
  });
});

describe("retries", () => {
  it("retries a 5xx for GET, up to maxRetries, then raises ServerError", async () => {
    const { client, emulator, clock } = setup(
      { faults: [{ kind: "503", probability: 1 }], rateLimits: "off" },
      { rateLimiter: false },
    );
    const err = await failure(client.request({ method: "GET", path: "/api/accounts" }));
    expect(err).toBeInstanceOf(ServerError);
    expect((err as ServerError).status).toBe(503);
    expect(emulator.requests).toHaveLength(4);
    // Full jitter with random() = 0.5: half of 500, 1000, 2000 ms.
    expect(clock.sleeps).toEqual([250, 500, 1000]);
  });

  it("recovers when a GET's connection is reset, and when a 500 comes once", async () => {
    let calls = 0;
    const { emulator } = setup({ rateLimits: "off" });
    // First attempt: the connection drops; second: a 500; third: a good answer.
    const plan = [[{ kind: "reset", probability: 1 }], [{ kind: "500", probability: 1 }], []] as const;
    const flaky: FetchLike = (input, init) => {
      emulator.setFaults([...(plan[calls++] ?? [])]);
      return emulator.fetch(input, init);
    };
    const c = new KlaviyoClient({
      apiKey: KEY,
      baseUrl: emulator.baseUrl,
      fetch: flaky,
      clock: new FakeClock(),
      rateLimiter: false,
    });
    const res = await c.request({ method: "GET", path: "/api/accounts" });
    expect(res.status).toBe(200);
    expect(res.attempts).toBe(3);
    expect(emulator.requests.map((r) => r.status)).toEqual([0, 500, 200]);
  });

  it("does not retry a plain POST after a 5xx or a dropped connection, but does after a 429", async () => {
    for (const kind of ["500", "reset"] as const) {
      const { client, emulator } = setup({ faults: [{ kind, probability: 1 }], rateLimits: "off" });
      const err = await failure(
        client.request({
          method: "POST",
          path: "/api/lists",
          body: { data: { type: "list", attributes: { name: "x" } } },
        }),
      );
      expect(err).toBeInstanceOf(kind === "500" ? ServerError : ConnectionError);
      expect(emulator.requests).toHaveLength(1);
    }
    const { client, emulator } = setup({ faults: [{ kind: "429", probability: 1 }], rateLimits: "off" });
    await failure(client.request({ method: "POST", path: "/api/lists", body: {} }));
    expect(emulator.requests).toHaveLength(4);
  });

  it("retries a POST the caller marks idempotent", async () => {
    const { client, emulator } = setup({ faults: [{ kind: "500", probability: 1 }], rateLimits: "off" });
    await failure(
      client.request({
        method: "POST",
        path: "/api/lists",
        body: {},
        idempotent: true,
        retry: { maxRetries: 1 },
      }),
    );
    expect(emulator.requests).toHaveLength(2);
  });

  it("retries a POST whose connection was refused (nothing was sent)", async () => {
    const clock = new FakeClock();
    const client = new KlaviyoClient({ apiKey: KEY, baseUrl: await closedPort(), clock, rateLimiter: false });
    const err = await failure(client.request({ method: "POST", path: "/api/events", body: {} }));
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).refused).toBe(true);
    expect((err as ConnectionError).message).toMatch(/ECONNREFUSED/);
    expect(clock.sleeps).toHaveLength(3);
  });
});

describe("timeouts and cancellation", () => {
  it("times out a server that never answers", async () => {
    const server = await startServer(() => {});
    servers.push(server);
    const client = new KlaviyoClient({
      apiKey: KEY,
      baseUrl: server.url,
      timeoutMs: 150,
      clock: new FakeClock(),
      rateLimiter: false,
    });
    const err = await failure(
      client.request({ method: "GET", path: "/api/accounts", retry: { maxRetries: 1 } }),
    );
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).timeoutMs).toBe(150);
    expect(server.requests).toHaveLength(2);
  });

  it("times out a server that sends headers and then stalls the body", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/vnd.api+json" });
      res.write('{"data": [');
    });
    servers.push(server);
    const client = new KlaviyoClient({
      apiKey: KEY,
      baseUrl: server.url,
      timeoutMs: 150,
      rateLimiter: false,
      retry: { maxRetries: 0 },
    });
    const err = await failure(client.request({ method: "GET", path: "/api/accounts" }));
    expect(err).toBeInstanceOf(TimeoutError);
  });

  it("does not retry a POST that timed out (it may have been done)", async () => {
    const server = await startServer(() => {});
    servers.push(server);
    const client = new KlaviyoClient({
      apiKey: KEY,
      baseUrl: server.url,
      timeoutMs: 100,
      clock: new FakeClock(),
      rateLimiter: false,
    });
    await failure(client.request({ method: "POST", path: "/api/lists", body: {} }));
    expect(server.requests).toHaveLength(1);
  });

  it("a caller's AbortSignal cancels a request in flight and a wait in the limiter", async () => {
    const server = await startServer(() => {});
    servers.push(server);
    const client = new KlaviyoClient({ apiKey: KEY, baseUrl: server.url, rateLimiter: false });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("caller gave up")), 50);
    await expect(
      client.request({ method: "GET", path: "/api/accounts", signal: controller.signal }),
    ).rejects.toThrow("caller gave up");

    // The limiter's wait (about a second, at 1 request per second) is what the abort must cut short: a clock
    // that records whether a sleep ended by abort tells, without timing anything.
    let abortedSleeps = 0;
    // Time stands still at the start of a second, so the 1/s window cannot roll over before the abort.
    const frozen = Date.parse("2026-11-26T12:00:00.000Z");
    const clock: Clock = {
      now: () => frozen,
      sleep: (ms, signal) =>
        systemClock.sleep(ms, signal).catch((error: unknown) => {
          abortedSleeps++;
          throw error;
        }),
    };
    const emulator = createEmulator({ apiKeys: [{ key: KEY }] });
    const limited = new KlaviyoClient({
      apiKey: KEY,
      baseUrl: emulator.baseUrl,
      fetch: emulator.fetch,
      clock,
      rateLimiter: new RateLimiter({ clock }),
    });
    await limited.request({ method: "GET", path: "/api/accounts" });
    const second = new AbortController();
    setTimeout(() => second.abort(new Error("stop waiting")), 30);
    await expect(
      limited.request({ method: "GET", path: "/api/accounts", signal: second.signal }),
    ).rejects.toThrow("stop waiting");
    expect(abortedSleeps).toBe(1);
    expect(emulator.requests).toHaveLength(1);
  });
});

describe("answers that are not Klaviyo's JSON", () => {
  it("an HTML 403 from a proxy, an empty 502, a truncated JSON body: clear typed errors", async () => {
    const server = await startServer((req, res) => {
      if (req.url?.startsWith("/html")) {
        res.writeHead(403, { "content-type": "text/html", "cf-ray": "8a1b2c3d" });
        res.end("<!DOCTYPE html><html><title>Attention Required! | Cloudflare</title></html>");
      } else if (req.url?.startsWith("/empty")) {
        res.writeHead(502);
        res.end();
      } else {
        res.writeHead(200, { "content-type": "application/vnd.api+json" });
        res.end('{"data": [{"type": "account", "id": "A');
      }
    });
    servers.push(server);
    const client = new KlaviyoClient({
      apiKey: KEY,
      baseUrl: server.url,
      rateLimiter: false,
      retry: { maxRetries: 0 },
    });
    const html = (await failure(client.request({ method: "GET", path: "/html" }))) as ApiError;
    expect(html).toBeInstanceOf(PermissionDeniedError);
    expect(html.message).toMatch(/403.*text\/html.*Attention Required/);
    expect(html.requestId).toBe("8a1b2c3d");
    const empty = (await failure(client.request({ method: "GET", path: "/empty" }))) as ApiError;
    expect(empty).toBeInstanceOf(ServerError);
    expect(empty.message).toMatch(/502.*empty body/);
    const truncated = (await failure(client.request({ method: "GET", path: "/truncated" }))) as ApiError;
    expect(truncated).toBeInstanceOf(ApiError);
    expect(truncated.message).toMatch(/200.*malformed or truncated/);
  });
});

describe("pagination", () => {
  /** A collection of 250 profiles served in pages, the cursor being an offset. */
  function pagedFetch(log: URL[]): FetchLike {
    return async (input) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      log.push(url);
      const size = Number(url.searchParams.get("page[size]") ?? 20);
      const offset = Number(url.searchParams.get("page[cursor]") ?? 0);
      const data = Array.from({ length: Math.max(0, Math.min(size, 250 - offset)) }, (_, i) => ({
        type: "profile",
        id: `P${offset + i}`,
        attributes: { email: `p${offset + i}@example.com` },
      }));
      const next = new URL(url);
      next.host = "a.klaviyo.com";
      next.protocol = "https:";
      next.searchParams.set("page[cursor]", String(offset + size));
      const links = { self: url.toString(), ...(offset + size < 250 ? { next: next.toString() } : {}) };
      return new Response(JSON.stringify({ data, links }), {
        headers: { "content-type": "application/vnd.api+json" },
      });
    };
  }
  const make = (log: URL[]) =>
    new KlaviyoClient({
      apiKey: KEY,
      baseUrl: "http://proxy.test/klaviyo",
      fetch: pagedFetch(log),
      rateLimiter: false,
    });

  it("walks every page at the endpoint's maximum page size, on the client's base URL, keeping the query", async () => {
    const log: URL[] = [];
    const ids: string[] = [];
    for await (const p of make(log).paginateItems<{ id: string }>({
      method: "GET",
      path: "/api/profiles",
      query: { filter: "equals(email,'x')" },
    })) {
      ids.push(p.id);
    }
    expect(ids).toHaveLength(250);
    expect(new Set(ids).size).toBe(250);
    expect(log.map((u) => u.searchParams.get("page[size]"))).toEqual(["100", "100", "100"]);
    expect(log.every((u) => u.host === "proxy.test" && u.pathname === "/klaviyo/api/profiles")).toBe(true);
    expect(log.every((u) => u.searchParams.get("filter") === "equals(email,'x')")).toBe(true);
  });

  it("stops at limit items, asking no more than it needs", async () => {
    const log: URL[] = [];
    const ids: string[] = [];
    for await (const p of make(log).paginateItems<{ id: string }>({
      method: "GET",
      path: "/api/profiles",
      limit: 130,
    }))
      ids.push(p.id);
    expect(ids).toHaveLength(130);
    expect(log).toHaveLength(2);
    const small: URL[] = [];
    for await (const _ of make(small).paginateItems({ method: "GET", path: "/api/profiles", limit: 7 }))
      void _;
    expect(small.map((u) => u.searchParams.get("page[size]"))).toEqual(["7"]);
  });

  it("stops at maxPages and resumes from a cursor or a links.next URL", async () => {
    const log: URL[] = [];
    const pages = [];
    for await (const page of make(log).paginate({
      method: "GET",
      path: "/api/profiles",
      pageSize: 50,
      maxPages: 2,
    }))
      pages.push(page);
    expect(pages.map((p) => p.data.length)).toEqual([50, 50]);
    expect(pages[1]?.nextCursor).toBe("100");
    const resumed: URL[] = [];
    const rest = [];
    for await (const page of make(resumed).paginate({
      method: "GET",
      path: "/api/profiles",
      pageSize: 50,
      cursor: pages[1]?.links?.next ?? "",
    }))
      rest.push(...page.data);
    expect(rest).toHaveLength(150);
    expect(resumed[0]?.searchParams.get("page[cursor]")).toBe("100");
  });

  it("refuses bounds that make no sense", async () => {
    const iterator = make([]).paginate({ method: "GET", path: "/api/profiles", limit: 0 });
    await expect(iterator.next()).rejects.toThrow(/limit/);
  });
});

describe("actions through the transport", () => {
  it("List Accounts and Get Account return Klaviyo's documents, with sparse fieldsets", async () => {
    const { client, emulator, sent } = setup({ rateLimits: "off" });
    const list = (await runAction("list-accounts", {}, { client })) as {
      data: Array<{ id: string; attributes: Record<string, unknown> }>;
    };
    expect(list.data).toHaveLength(1);
    const id = list.data[0]?.id ?? "";
    expect(id).toBe(emulator.account.id);
    const one = (await runAction(
      "get-account",
      { accountId: id, fields: ["timezone", "contact_information.organization_name"] },
      { client },
    )) as {
      data: { attributes: Record<string, unknown> };
    };
    expect(Object.keys(one.data.attributes).sort()).toEqual(["contact_information", "timezone"]);
    expect(Object.keys(one.data.attributes.contact_information as object)).toEqual(["organization_name"]);
    expect(new URL(sent[1]?.url ?? "").searchParams.get("fields[account]")).toBe(
      "timezone,contact_information.organization_name",
    );
  });

  it("refuses bad inputs by label before any request", async () => {
    const { client, emulator } = setup();
    // Inputs the types refuse, given at run time (a key and inputs from a file): refused the same, by label.
    await expect(runActionByKey("get-account", {}, { client })).rejects.toThrow(
      "Get Account: Account ID: is required",
    );
    await expect(runAction("get-account", { accountId: "a/b" }, { client })).rejects.toThrow(
      /Account ID: must not contain/,
    );
    await expect(runAction("list-accounts", { fields: "timezone,colour" }, { client })).rejects.toThrow(
      /Fields: unknown field "colour"/,
    );
    await expect(runActionByKey("get-account", { accountId: "X", extra: 1 }, { client })).rejects.toThrow(
      /extra: is not an input/,
    );
    expect(emulator.requests).toHaveLength(0);
  });
});

describe("secrets", () => {
  it("no error provoked in this file carries the API key, in message, JSON, inspect or stack", async () => {
    const echo = await startServer((req, res) => {
      res.writeHead(400, { "content-type": "application/vnd.api+json" });
      res.end(
        JSON.stringify({
          errors: [
            {
              id: "1",
              status: 400,
              code: "invalid",
              title: "Bad",
              detail: `you sent ${req.headers.authorization}`,
            },
          ],
        }),
      );
    });
    servers.push(echo);
    const client = new KlaviyoClient({ apiKey: KEY, baseUrl: echo.url, rateLimiter: false });
    const err = (await failure(client.request({ method: "GET", path: "/api/accounts" }))) as ApiError;
    expect(err.message).toContain("you sent Klaviyo-API-Key [REDACTED]");
    expect(provoked.length).toBeGreaterThan(15);
    for (const e of provoked) {
      const views = [
        String(e),
        JSON.stringify(e),
        inspect(e, { depth: 8, showHidden: true }),
        (e as Error).stack ?? "",
      ];
      for (const view of views) {
        for (const secret of [KEY, OTHER_KEY, SCOPED_KEY, DEV_API_KEY]) expect(view).not.toContain(secret);
      }
    }
  });
});
