import { describe, expect, it } from "vitest";
import { KlaviyoClient } from "../../src/core/client.js";
import { FakeClock } from "../../src/core/clock.js";
import { RateLimitError } from "../../src/core/errors.js";
import { createEmulator, DEV_API_KEY, parseRateLimitMode } from "../../src/emulator/index.js";
import { get, klaviyoHeaders, onlyError } from "./helpers.js";

// A minute boundary, so the per-minute window starts exactly here.
const T0 = Date.UTC(2026, 6, 15, 12, 0, 0);

function rateHeaders(res: Response) {
  return {
    limit: res.headers.get("RateLimit-Limit"),
    remaining: res.headers.get("RateLimit-Remaining"),
    reset: res.headers.get("RateLimit-Reset"),
  };
}

describe("real rate limits (GET /api/accounts: 1/s burst, 15/m steady)", () => {
  it("a second request in the same second is 429 with Retry-After; a second later it passes", async () => {
    const clock = new FakeClock(T0);
    const em = createEmulator({ clock });

    const first = await get(em, "/api/accounts");
    expect(first.status).toBe(200);
    expect(rateHeaders(first)).toEqual({ limit: "15", remaining: "14", reset: "60" });

    clock.advance(400);
    const second = await get(em, "/api/accounts");
    expect(second.status).toBe(429);
    expect(second.headers.get("Retry-After")).toBe("1");
    expect(second.headers.get("RateLimit-Limit")).toBeNull();
    const error = await onlyError(second);
    expect(error).toMatchObject({ code: "throttled", title: "Request was throttled." });
    expect(error.detail).toBe("Request was throttled. Expected available in 1 second.");

    clock.advance(600);
    const third = await get(em, "/api/accounts");
    expect(third.status).toBe(200);
    expect(rateHeaders(third)).toEqual({ limit: "15", remaining: "13", reset: "59" });
  });

  it("the steady window: the 16th request in a minute waits for the minute to end", async () => {
    const clock = new FakeClock(T0);
    const em = createEmulator({ clock });
    const remaining: string[] = [];
    for (let i = 0; i < 15; i++) {
      const res = await get(em, "/api/accounts");
      expect(res.status).toBe(200);
      remaining.push(res.headers.get("RateLimit-Remaining") ?? "");
      clock.advance(1000);
    }
    expect(remaining).toEqual([
      "14",
      "13",
      "12",
      "11",
      "10",
      "9",
      "8",
      "7",
      "6",
      "5",
      "4",
      "3",
      "2",
      "1",
      "0",
    ]);
    const over = await get(em, "/api/accounts");
    expect(over.status).toBe(429);
    expect(over.headers.get("Retry-After")).toBe("45");
    expect((await onlyError(over)).detail).toContain("45 seconds");
    clock.advance(45_000);
    expect((await get(em, "/api/accounts")).status).toBe(200);
  });

  it("counts each operation apart, and the account's keys together", async () => {
    const clock = new FakeClock(T0);
    const em = createEmulator({
      clock,
      apiKeys: [{ key: DEV_API_KEY }, { key: "pk_second_key_of_the_same_account_00" }],
    });
    expect((await get(em, "/api/accounts")).status).toBe(200);
    expect((await get(em, `/api/accounts/${em.account.id}`)).status).toBe(200);
    const otherKey = await get(em, "/api/accounts", klaviyoHeaders("pk_second_key_of_the_same_account_00"));
    expect(otherKey.status).toBe(429);
  });

  it("refused requests (401, 400) are not counted", async () => {
    const clock = new FakeClock(T0);
    const em = createEmulator({ clock });
    expect((await get(em, "/api/accounts", klaviyoHeaders("pk_wrong_000000000000000000000"))).status).toBe(
      401,
    );
    expect((await get(em, "/api/accounts", klaviyoHeaders(DEV_API_KEY, { revision: "x" }))).status).toBe(400);
    expect((await get(em, "/api/accounts")).status).toBe(200);
  });

  it("a handler's error answer still carries the RateLimit headers", async () => {
    const em = createEmulator({ clock: new FakeClock(T0) });
    const res = await get(em, "/api/accounts/AbC123");
    expect(res.status).toBe(404);
    expect(rateHeaders(res)).toEqual({ limit: "15", remaining: "14", reset: "60" });
  });
});

describe("rate-limit modes", () => {
  it("off never limits and sends no RateLimit headers", async () => {
    const em = createEmulator({ clock: new FakeClock(T0), rateLimits: "off" });
    for (let i = 0; i < 40; i++) {
      const res = await get(em, "/api/accounts");
      expect(res.status).toBe(200);
      expect(res.headers.get("RateLimit-Limit")).toBeNull();
    }
  });

  it("scale multiplies every limit", async () => {
    const clock = new FakeClock(T0);
    const em = createEmulator({ clock, rateLimits: { scale: 3 } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await get(em, "/api/accounts")).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    clock.advance(1000);
    expect(rateHeaders(await get(em, "/api/accounts"))).toEqual({
      limit: "45",
      remaining: "41",
      reset: "59",
    });
  });

  it("setRateLimits switches mode at run time and starts the counts afresh", async () => {
    const em = createEmulator({ clock: new FakeClock(T0) });
    expect((await get(em, "/api/accounts")).status).toBe(200);
    expect((await get(em, "/api/accounts")).status).toBe(429);
    expect(em.rateLimits).toBe("real");
    em.setRateLimits("off");
    expect(em.rateLimits).toBe("off");
    expect((await get(em, "/api/accounts")).status).toBe(200);
    em.setRateLimits({ scale: 2 });
    expect(em.rateLimits).toEqual({ scale: 2 });
    em.setRateLimits("real");
    expect((await get(em, "/api/accounts")).status).toBe(200);
    expect(() => em.setRateLimits({ scale: 0 })).toThrow(/greater than 0/);
  });
});

describe("parseRateLimitMode", () => {
  it.each([
    ["real", "real"],
    ["off", "off"],
    [" off ", "off"],
    ["scale=2", { scale: 2 }],
    ["scale=0.25", { scale: 0.25 }],
  ])("%j → %j", (text, mode) => {
    expect(parseRateLimitMode(text)).toEqual(mode);
  });

  it.each(["", "fast", "scale", "scale=", "scale=0", "scale=-1", "scale=abc", "scale=Infinity", "REAL"])(
    "refuses %j",
    (text) => {
      expect(() => parseRateLimitMode(text)).toThrow(/rate-limit/);
    },
  );
});

describe("daily caps and parameter-dependent tiers", () => {
  it("Create List stops at 150 a day; the client does not wait out the day but says when to come back", async () => {
    const clock = new FakeClock(T0);
    const em = createEmulator({ clock });
    const client = new KlaviyoClient({
      apiKey: DEV_API_KEY,
      baseUrl: em.baseUrl,
      fetch: em.fetch,
      clock,
      rateLimiter: false,
    });
    for (let i = 0; i < 150; i++) {
      // 10 a second and 150 a minute would also stop us: spread them over three minutes.
      clock.advance(1500);
      const res = await client.request({
        method: "POST",
        path: "/api/lists",
        body: { data: { type: "list", attributes: { name: `List ${i}` } } },
      });
      expect(res.status).toBe(201);
    }
    clock.advance(60_000);
    const refused = await client
      .request({
        method: "POST",
        path: "/api/lists",
        body: { data: { type: "list", attributes: { name: "one too many" } } },
      })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RateLimitError);
    const wait = (refused as RateLimitError).retryAfterMs ?? 0;
    // The day (UTC, from T0 at noon) ends in under 12 hours: far past any retry cap, so no retry was made.
    expect(wait).toBeGreaterThan(11 * 3600_000);
    expect(wait).toBeLessThanOrEqual(12 * 3600_000);
    expect(em.state.lists.size).toBe(150);
    expect(em.requests.filter((r) => r.status === 429)).toHaveLength(1);
  });

  it("additional-fields[list]=profile_count is counted at 1/s, apart from plain Get List", async () => {
    const clock = new FakeClock(T0);
    const em = createEmulator({ clock, seed: "demo" });
    const listId = [...em.state.lists.values()][0]?.id ?? "";
    const withCount = `/api/lists/${listId}?additional-fields%5Blist%5D=profile_count`;
    expect((await get(em, withCount)).status).toBe(200);
    expect((await get(em, withCount)).status).toBe(429);
    // Plain Get List (75/s) is not held back by the profile_count tier.
    expect((await get(em, `/api/lists/${listId}`)).status).toBe(200);
    expect(rateHeaders(await get(em, `/api/lists/${listId}`)).limit).toBe("750");
  });
});
