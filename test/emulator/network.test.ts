/**
 * The network the emulator reproduces between a client and Klaviyo: a request delayed on its way in is counted
 * against the rate limits (and logged, `at`) when it arrives, as Klaviyo's gateway counts it, not when it was
 * sent; its answer is delayed apart; a client that gives up on the way is a request that never arrived. With
 * Klaviyo's real limits on Get Accounts (1/s burst) and the real clock: the delays are real time, so are the
 * windows they move requests across.
 */
import { request as httpRequest } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { createEmulator, DEV_API_KEY, type Emulator } from "../../src/emulator/index.js";
import { klaviyoHeaders, servedEmulators } from "./helpers.js";

const serve = servedEmulators();

/** A `random` that returns `values` in turn (again from the first when they run out). */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] as number;
}

/** How late a timer may fire on a loaded machine (2 shared cores), and how early by `Date.now`'s rounding. */
const LATE_MS = 60;
const EARLY_MS = 2;

/** A request to Get Accounts (1/s burst, 15/m steady) through `fetch`, with the time it was sent. */
async function getAccounts(
  fetch: Emulator["fetch"],
  baseUrl: string,
  init: RequestInit = {},
): Promise<{ sent: number; answered: number; status: number; retryAfter: string | null }> {
  const sent = Date.now();
  const res = await fetch(`${baseUrl}/api/accounts`, { headers: klaviyoHeaders(), ...init });
  await res.arrayBuffer();
  return { sent, answered: Date.now(), status: res.status, retryAfter: res.headers.get("Retry-After") };
}

/**
 * Waits until `before` ms before the end of a one-second window (within a few ms late) and returns that window's
 * end. A timer fired too late on a loaded machine is tried again at the next second.
 */
async function aimBefore(before: number): Promise<number> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const boundary = Math.ceil((Date.now() + before + 200) / 1000) * 1000;
    await sleep(boundary - before - Date.now());
    const left = boundary - Date.now();
    if (left <= before + EARLY_MS && left >= before - 30) return boundary;
  }
  throw new Error("timers on this machine are too late to aim at a window's edge");
}

/** Waits until the time `time` (ms since the epoch). */
async function waitUntil(time: number): Promise<void> {
  const left = time - Date.now();
  if (left > 0) await sleep(left);
}

describe("a request is logged at its arrival: sent time plus its drawn request delay", () => {
  it("in-process: the request delay is drawn from the range with `random`, before the answer's", async () => {
    // Draws in turn: request delay, answer delay, for each request. [100, 300] at 0.25 = 150, at 0.75 = 250;
    // [0, 200] at 0.5 = 100, at 0 = 0.
    const em = createEmulator({
      rateLimits: "off",
      requestLatencyMs: [100, 300],
      latencyMs: [0, 200],
      random: sequence(0.25, 0.5, 0.75, 0),
    });
    const first = await getAccounts(em.fetch, em.baseUrl);
    const second = await getAccounts(em.fetch, em.baseUrl);
    expect([first.status, second.status]).toEqual([200, 200]);
    const [a, b] = em.requests.map((r) => r.at) as [number, number];
    // `at` is the arrival, not the sending, and not the answer (held 100 ms more for the first).
    expect(a - first.sent - 150).toBeGreaterThanOrEqual(-EARLY_MS);
    expect(a - first.sent - 150).toBeLessThanOrEqual(LATE_MS);
    expect(first.answered - first.sent).toBeGreaterThanOrEqual(250 - EARLY_MS);
    expect(b - second.sent - 250).toBeGreaterThanOrEqual(-EARLY_MS);
    expect(b - second.sent - 250).toBeLessThanOrEqual(LATE_MS);
  });

  it("on a port: the same, the delay counted from when the server received the request", async () => {
    const { url, emulator } = await serve({
      rateLimits: "off",
      requestLatencyMs: [200, 400],
      random: sequence(0.5),
    });
    const answer = await getAccounts(fetch, url);
    expect(answer.status).toBe(200);
    const at = emulator.requests[0]?.at as number;
    expect(at - answer.sent).toBeGreaterThanOrEqual(300 - EARLY_MS);
    expect(at - answer.sent).toBeLessThanOrEqual(300 + LATE_MS);
  });

  it("without a request delay, `at` is the sending time (the default stays as it was)", async () => {
    const em = createEmulator({ rateLimits: "off", latencyMs: 150 });
    const answer = await getAccounts(em.fetch, em.baseUrl);
    const at = em.requests[0]?.at as number;
    expect(at - answer.sent).toBeLessThanOrEqual(LATE_MS);
    expect(answer.answered - answer.sent).toBeGreaterThanOrEqual(150 - EARLY_MS);
  });
});

describe("rate limits count a request when it arrives (Get Accounts: 1/s)", () => {
  it("two requests sent 100 ms before a second's end with a 300 ms request delay are counted in the next second: one 429", async () => {
    const delayed = createEmulator({ requestLatencyMs: [280, 320], random: sequence(0.5, 0.25) });
    const direct = createEmulator();
    const boundary = await aimBefore(100);
    const answers = await Promise.all([
      getAccounts(delayed.fetch, delayed.baseUrl),
      getAccounts(delayed.fetch, delayed.baseUrl),
      getAccounts(direct.fetch, direct.baseUrl),
      getAccounts(direct.fetch, direct.baseUrl),
    ]);
    for (const answer of answers) expect(answer.sent).toBeLessThan(boundary);

    // With the delay: both arrived in the next window (300 and 290 ms after sending), where the second is one
    // too many.
    expect(delayed.requests.map((r) => r.at >= boundary && r.at < boundary + 1000)).toEqual([true, true]);
    // The log is in the order of answers: the 290 ms one arrived, and was answered, first.
    const sent = answers[0]?.sent as number;
    const delays = delayed.requests.map((r) => r.at - sent);
    const errors = delays.map((d, k) => d - ([290, 300][k] as number));
    expect(
      errors.every((e) => e >= -EARLY_MS && e <= LATE_MS),
      `delays ${delays}`,
    ).toBe(true);
    expect(delayed.requests.map((r) => r.status).sort()).toEqual([200, 429]);
    expect(answers.slice(0, 2).find((a) => a.status === 429)?.retryAfter).toBe("1");

    // Without it: both counted in the earlier window, where they were sent.
    expect(direct.requests.map((r) => r.at < boundary)).toEqual([true, true]);
    expect(direct.requests.map((r) => r.status).sort()).toEqual([200, 429]);
  });

  it("one request each side of a window's edge: without a delay both pass; with 300 ms both arrive after it, and the second is 429", async () => {
    const delayed = createEmulator({ requestLatencyMs: 300 });
    const direct = createEmulator();
    const boundary = await aimBefore(100);
    const firsts = [getAccounts(delayed.fetch, delayed.baseUrl), getAccounts(direct.fetch, direct.baseUrl)];
    await waitUntil(boundary + 50);
    const seconds = [getAccounts(delayed.fetch, delayed.baseUrl), getAccounts(direct.fetch, direct.baseUrl)];
    const [delayedFirst, directFirst, delayedSecond, directSecond] = await Promise.all([
      ...firsts,
      ...seconds,
    ]);
    expect([delayedFirst?.sent, directFirst?.sent].every((t) => (t as number) < boundary)).toBe(true);
    expect([delayedSecond?.sent, directSecond?.sent].every((t) => (t as number) >= boundary)).toBe(true);

    // Without a delay, the first is counted in the earlier window, the second in the next: one each.
    expect(direct.requests.map((r) => r.at < boundary)).toEqual([true, false]);
    expect([directFirst?.status, directSecond?.status]).toEqual([200, 200]);
    // With it, both land in the next window: the client paced one per second, and still met a 429.
    expect(delayed.requests.map((r) => r.at >= boundary)).toEqual([true, true]);
    expect([delayedFirst?.status, delayedSecond?.status]).toEqual([200, 429]);
  });
});

describe("a request aborted during its request delay never arrived: not counted, not handled, not logged", () => {
  const createList = {
    method: "POST",
    headers: klaviyoHeaders(DEV_API_KEY, { "Content-Type": "application/vnd.api+json" }),
    body: JSON.stringify({ data: { type: "list", attributes: { name: "Never arrived" } } }),
  };

  it("in-process (the caller's signal)", async () => {
    // A frozen clock keeps every request in one 1 s window, whatever the real delays: a counted request shows.
    const em = createEmulator({ clock: new FakeClock(Date.UTC(2026, 6, 15, 12)), requestLatencyMs: 200 });
    const lists = em.state.lists.size;
    const controller = new AbortController();
    const pending = [
      em.fetch(`${em.baseUrl}/api/accounts`, { headers: klaviyoHeaders(), signal: controller.signal }),
      em.fetch(`${em.baseUrl}/api/lists`, { ...createList, signal: controller.signal }),
    ];
    setTimeout(() => controller.abort(), 30);
    for (const p of pending) await expect(p).rejects.toMatchObject({ name: "AbortError" });
    // Past the delay: had the wait gone on, both would have been handled and logged by now.
    await sleep(350);
    expect(em.requests).toEqual([]);
    expect(em.state.lists.size).toBe(lists);

    // Not counted: the window still has its one request for the next, and no more.
    em.setRequestLatency(0);
    expect((await getAccounts(em.fetch, em.baseUrl)).status).toBe(200);
    expect((await getAccounts(em.fetch, em.baseUrl)).status).toBe(429);
  });

  it("on a port (the client closes its connection)", async () => {
    const { url, emulator } = await serve({
      clock: new FakeClock(Date.UTC(2026, 6, 15, 12)),
      requestLatencyMs: 200,
    });
    const lists = emulator.state.lists.size;
    await Promise.all(
      [
        { path: "/api/accounts", method: "GET", headers: klaviyoHeaders(), body: "" },
        { path: "/api/lists", ...createList },
      ].map(
        ({ path, method, headers, body }) =>
          new Promise<void>((resolve) => {
            const req = httpRequest(`${url}${path}`, { method, headers });
            req.on("error", () => {});
            req.on("close", () => resolve());
            req.end(body, () => setTimeout(() => req.destroy(), 30));
          }),
      ),
    );
    await sleep(350);
    expect(emulator.requests).toEqual([]);
    expect(emulator.state.lists.size).toBe(lists);
    emulator.setRequestLatency(0);
    expect((await getAccounts(fetch, url)).status).toBe(200);
    expect((await getAccounts(fetch, url)).status).toBe(429);
  });
});

describe("the delays' settings", () => {
  async function config(em: Emulator, body?: unknown): Promise<{ status: number; body: unknown }> {
    const res = await em.fetch(
      `${em.baseUrl}/__emulator/config`,
      body === undefined ? {} : { method: "PUT", body: JSON.stringify(body) },
    );
    return { status: res.status, body: await res.json() };
  }

  it("the admin route sets and returns requestLatencyMs and latencyMs, numbers or [min, max]", async () => {
    const em = createEmulator({ rateLimits: "off", requestLatencyMs: [1, 2], latencyMs: 3 });
    expect((await config(em)).body).toMatchObject({ requestLatencyMs: [1, 2], latencyMs: 3 });
    const put = await config(em, { requestLatencyMs: [120, 120], latencyMs: [100, 300] });
    expect(put).toEqual({
      status: 200,
      body: {
        faults: [],
        requestLatencyMs: [120, 120],
        latencyMs: [100, 300],
        rateLimits: "off",
        eventVisibilityDelayMs: 0,
      },
    });
    expect((await config(em)).body).toMatchObject({ requestLatencyMs: [120, 120], latencyMs: [100, 300] });
    // Applied: the next request arrives 120 ms after it was sent.
    em.setLatency(0);
    const answer = await getAccounts(em.fetch, em.baseUrl);
    expect((em.requests[0]?.at as number) - answer.sent).toBeGreaterThanOrEqual(120 - EARLY_MS);
    // One alone leaves the other as it is.
    expect((await config(em, { requestLatencyMs: 0 })).body).toMatchObject({
      requestLatencyMs: 0,
      latencyMs: 0,
    });
  });

  it.each([
    [{ requestLatencyMs: -1 }, /^requestLatencyMs must be milliseconds from 0 to 600000/],
    [{ requestLatencyMs: [80, 20] }, /^requestLatencyMs is a range \[min, max\] with min <= max/],
    [{ requestLatencyMs: 600_001 }, /^requestLatencyMs must be milliseconds/],
    [{ requestLatencyMs: "50" }, /^requestLatencyMs must be milliseconds/],
    [{ requestLatencyMs: [20] }, /^requestLatencyMs must be milliseconds/],
    [{ requestLatencyMs: null }, /^requestLatencyMs must be milliseconds/],
    [{ latencyMs: [-5, 10] }, /^latencyMs must be milliseconds/],
    [{ latencyMs: [300, 100] }, /^latencyMs is a range/],
    [{ latencyMs: 1e9 }, /^latencyMs must be milliseconds/],
  ])("the admin route refuses %j, and changes nothing", async (body, detail) => {
    const em = createEmulator({ rateLimits: "off", requestLatencyMs: 7, latencyMs: [8, 9] });
    const before = (await config(em)).body;
    const put = await config(em, { ...body, faults: [{ kind: "503", probability: 1 }] });
    expect(put.status).toBe(400);
    const errors = (put.body as { errors: Array<{ status: number; code: string; detail: string }> }).errors;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ status: 400, code: "invalid" });
    expect(errors[0]?.detail).toMatch(detail);
    expect((await config(em)).body).toEqual(before);
  });

  it("the library refuses the same values, in the options and in setRequestLatency/setLatency", async () => {
    expect(() => createEmulator({ requestLatencyMs: [80, 20] })).toThrow(/^requestLatencyMs is a range/);
    expect(() => createEmulator({ latencyMs: -1 })).toThrow(/^latencyMs must be milliseconds/);
    const em = createEmulator({ rateLimits: "off" });
    expect(() => em.setRequestLatency(Number.NaN)).toThrow(/^requestLatencyMs must be milliseconds/);
    expect(() => em.setRequestLatency([0, Number.POSITIVE_INFINITY])).toThrow(/^requestLatencyMs/);
    expect(() => em.setLatency(Number.POSITIVE_INFINITY)).toThrow(/^latencyMs must be milliseconds/);
    expect(() => em.setLatency([10, 5])).toThrow(/^latencyMs is a range/);
    em.setRequestLatency([20, 80]);
    em.setLatency(15);
    await expect(config(em)).resolves.toMatchObject({ body: { requestLatencyMs: [20, 80], latencyMs: 15 } });
  });
});
