import { describe, expect, it } from "vitest";
import { createEmulator, type FaultSpec, parseFaults } from "../../src/emulator/index.js";
import { get, klaviyoHeaders, onlyError } from "./helpers.js";

/** An emulator whose every fault draw comes out at `draw` (0 fires any fault with probability > 0). */
function withFaults(faults: FaultSpec[], draw = 0) {
  return createEmulator({ rateLimits: "off", faults, random: () => draw });
}

async function expectDropped(promise: Promise<Response>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TypeError);
  expect((error as TypeError).message).toBe("fetch failed");
  const cause = (error as TypeError).cause as NodeJS.ErrnoException;
  expect(cause).toBeInstanceOf(Error);
  expect(cause.code).toBe("ECONNRESET");
}

describe("faults before the handler", () => {
  it("429: throttled with Retry-After 1, handler not run", async () => {
    const em = withFaults([{ kind: "429", probability: 0.5 }]);
    const res = await get(em, "/api/accounts");
    expect(res.status).toBe(429);
    expect(res.headers.get("Retry-After")).toBe("1");
    expect((await onlyError(res)).code).toBe("throttled");
    expect(em.requests).toMatchObject([
      {
        method: "GET",
        path: "/api/accounts",
        operationId: "get_accounts",
        status: 429,
        handled: false,
        fault: "429",
      },
    ]);
  });

  it.each([
    ["500", 500],
    ["503", 503],
  ] as const)("%s: a %i in Klaviyo's format, handler not run", async (kind, status) => {
    const em = withFaults([{ kind, probability: 1 }]);
    const res = await get(em, "/api/accounts");
    expect(res.status).toBe(status);
    expect((await onlyError(res)).status).toBe(status);
    expect(em.requests.at(-1)).toMatchObject({ status, handled: false, fault: kind });
  });

  it("reset: the in-process fetch rejects as undici does on a dropped connection", async () => {
    const em = withFaults([{ kind: "reset", probability: 1 }]);
    await expectDropped(get(em, "/api/accounts"));
    expect(em.requests.at(-1)).toMatchObject({ status: 0, handled: false, fault: "reset" });
  });

  it("app.fetch itself rejects the same way", async () => {
    const em = withFaults([{ kind: "reset", probability: 1 }]);
    const request = new Request(`${em.baseUrl}/api/accounts`, { headers: klaviyoHeaders() });
    await expectDropped(Promise.resolve(em.app.fetch(request)));
  });
});

describe("faults after the handler committed", () => {
  it("500-after-commit: the client sees a 500, the handler ran", async () => {
    const em = withFaults([{ kind: "500-after-commit", probability: 1 }]);
    const res = await get(em, "/api/accounts");
    expect(res.status).toBe(500);
    expect((await onlyError(res)).code).toBe("error");
    expect(em.requests.at(-1)).toMatchObject({ status: 500, handled: true, fault: "500-after-commit" });
  });

  it("reset-after-commit: the connection drops, the handler ran", async () => {
    const em = withFaults([{ kind: "reset-after-commit", probability: 1 }]);
    await expectDropped(get(em, "/api/accounts"));
    expect(em.requests.at(-1)).toMatchObject({ status: 0, handled: true, fault: "reset-after-commit" });
  });

  it("a handler that failed committed nothing, so it is not faulted after", async () => {
    const em = withFaults([{ kind: "500-after-commit", probability: 1 }]);
    const res = await get(em, "/api/accounts/AbC123");
    expect(res.status).toBe(404);
    expect(em.requests.at(-1)?.fault).toBeUndefined();
  });
});

describe("drawing faults", () => {
  it("a fault fires when the draw is under its probability, not otherwise", async () => {
    expect((await get(withFaults([{ kind: "503", probability: 0.3 }], 0.29), "/api/accounts")).status).toBe(
      503,
    );
    expect((await get(withFaults([{ kind: "503", probability: 0.3 }], 0.3), "/api/accounts")).status).toBe(
      200,
    );
    expect((await get(withFaults([{ kind: "503", probability: 0 }], 0), "/api/accounts")).status).toBe(200);
  });

  it("only requests to the named operation are faulted", async () => {
    const em = withFaults([{ kind: "500", probability: 1, operation: "get_account" }]);
    expect((await get(em, "/api/accounts")).status).toBe(200);
    expect((await get(em, `/api/accounts/${em.account.id}`)).status).toBe(500);
  });

  it("faults come after authentication: an unauthenticated request is 401, not a fault", async () => {
    const em = withFaults([{ kind: "reset", probability: 1 }]);
    expect((await get(em, "/api/accounts", { revision: "2026-07-15" })).status).toBe(401);
  });

  it("setFaults replaces the faults at run time and checks them", async () => {
    const em = withFaults([{ kind: "500", probability: 1 }]);
    expect((await get(em, "/api/accounts")).status).toBe(500);
    em.setFaults([]);
    expect((await get(em, "/api/accounts")).status).toBe(200);
    expect(() => em.setFaults([{ kind: "500", probability: 2 }])).toThrow(/between 0 and 1/);
  });
});

describe("latency", () => {
  it("is added to every request with a real timer", async () => {
    const em = createEmulator({ rateLimits: "off", latencyMs: 60 });
    const started = performance.now();
    expect((await get(em, "/api/accounts")).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    em.setLatency(0);
    const config = (await (await em.fetch(`${em.baseUrl}/__emulator/config`)).json()) as {
      latencyMs: number;
    };
    expect(config.latencyMs).toBe(0);
  });

  it("a caller's abort ends the wait as fetch does", async () => {
    const em = createEmulator({ rateLimits: "off", latencyMs: 5_000 });
    const controller = new AbortController();
    const pending = em.fetch(`${em.baseUrl}/api/accounts`, {
      headers: klaviyoHeaders(),
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 10);
    // Without the abort this would resolve (200) after the 5 s latency; rejecting is the proof.
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
  });
});

describe("parseFaults", () => {
  it("reads KIND=P lists", () => {
    expect(parseFaults("429=0.1, reset-after-commit=1,500=0")).toEqual([
      { kind: "429", probability: 0.1 },
      { kind: "reset-after-commit", probability: 1 },
      { kind: "500", probability: 0 },
    ]);
    expect(parseFaults("")).toEqual([]);
  });

  it.each([
    ["boom=0.5", /Unknown fault kind "boom"/],
    ["500=1.5", /between 0 and 1/],
    ["500=-0.1", /between 0 and 1/],
    ["500=abc", /between 0 and 1/],
    ["500", /KIND=P/],
    ["500=", /KIND=P/],
  ])("refuses %j", (text, message) => {
    expect(() => parseFaults(text)).toThrow(message);
  });
});
