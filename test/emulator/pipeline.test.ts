import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { createEmulator, DEV_API_KEY } from "../../src/emulator/index.js";
import { SPEC_REVISION } from "../../src/klaviyo/operations.js";
import { get, klaviyoHeaders, onlyError } from "./helpers.js";

const SECRET = "pk_test_secret_9f8e7d6c5b4a39281706";
const SCOPED = "pk_test_scoped_lists_only_1234567890";

describe("authentication", () => {
  const emulator = () =>
    createEmulator({
      rateLimits: "off",
      apiKeys: [{ key: SECRET }, { key: SCOPED, scopes: ["lists:read", "profiles:read"] }],
    });

  it("401 not_authenticated without an Authorization header", async () => {
    const { Authorization: _, ...headers } = klaviyoHeaders(SECRET);
    const res = await get(emulator(), "/api/accounts", headers);
    expect(res.status).toBe(401);
    const error = await onlyError(res);
    expect(error).toMatchObject({
      code: "not_authenticated",
      title: "Authentication credentials were not provided.",
      detail: "Missing or invalid authorization scheme. Please use Klaviyo-API-Key.",
    });
  });

  it.each([
    ["Bearer", `Bearer ${SECRET}`],
    ["Basic", `Basic ${SECRET}`],
    ["a bare key", SECRET],
    ["the scheme alone", "Klaviyo-API-Key"],
  ])("401 not_authenticated for %s", async (_, authorization) => {
    const res = await get(
      emulator(),
      "/api/accounts",
      klaviyoHeaders(SECRET, { Authorization: authorization }),
    );
    expect(res.status).toBe(401);
    expect((await onlyError(res)).code).toBe("not_authenticated");
  });

  it("401 authentication_failed for a key the account does not have", async () => {
    const res = await get(emulator(), "/api/accounts", klaviyoHeaders("pk_unknown_000000000000000000000000"));
    expect(res.status).toBe(401);
    const error = await onlyError(res);
    expect(error.code).toBe("authentication_failed");
    expect(error.title).toBe("Incorrect authentication credentials.");
  });

  it("the development key is refused once other keys are configured", async () => {
    const res = await get(emulator(), "/api/accounts", klaviyoHeaders(DEV_API_KEY));
    expect((await onlyError(res)).code).toBe("authentication_failed");
  });

  it("403 permission_denied for a key without the operation's scope, naming the scope", async () => {
    const res = await get(emulator(), "/api/accounts", klaviyoHeaders(SCOPED));
    expect(res.status).toBe(403);
    const error = await onlyError(res);
    expect(error.code).toBe("permission_denied");
    expect(error.detail).toContain("accounts:read");
    expect(error.detail).not.toContain("lists:read");
  });

  it("200 for a scoped key that holds the scope, and for a full key", async () => {
    const em = emulator();
    em.addApiKey("pk_test_accounts_reader_00000000000", ["accounts:read"]);
    expect(
      (await get(em, "/api/accounts", klaviyoHeaders("pk_test_accounts_reader_00000000000"))).status,
    ).toBe(200);
    expect((await get(em, "/api/accounts", klaviyoHeaders(SECRET))).status).toBe(200);
  });

  it("the scheme name is case-insensitive, the key is not", async () => {
    const em = emulator();
    expect(
      (await get(em, "/api/accounts", { ...klaviyoHeaders(), Authorization: `klaviyo-api-key ${SECRET}` }))
        .status,
    ).toBe(200);
    const res = await get(em, "/api/accounts", klaviyoHeaders(SECRET.toUpperCase()));
    expect((await onlyError(res)).code).toBe("authentication_failed");
  });

  it("addApiKey refuses a scope Klaviyo does not have", () => {
    expect(() => emulator().addApiKey("pk_test_typo_00000000000000000000", ["list:read"])).toThrow(
      /list:read/,
    );
  });
});

describe("revision header", () => {
  const em = createEmulator({ rateLimits: "off" });

  it("400 with source.parameter revision when missing", async () => {
    const { revision: _, ...headers } = klaviyoHeaders();
    const res = await get(em, "/api/accounts", headers);
    expect(res.status).toBe(400);
    const error = await onlyError(res);
    expect(error.code).toBe("invalid");
    expect(error.source).toEqual({ parameter: "revision" });
  });

  it.each([
    "2026-7-15",
    "latest",
    "2026-02-30",
    "2026-13-01",
    "2026-07-15.",
    "2026-07-15 beta",
    "v2026-07-15",
  ])("400 for the malformed revision %j", async (revision) => {
    const res = await get(em, "/api/accounts", klaviyoHeaders(DEV_API_KEY, { revision }));
    expect(res.status).toBe(400);
    expect((await onlyError(res)).source).toEqual({ parameter: "revision" });
  });

  it.each([SPEC_REVISION, "2024-02-29", "2026-07-15.pre"])("accepts %j", async (revision) => {
    expect((await get(em, "/api/accounts", klaviyoHeaders(DEV_API_KEY, { revision }))).status).toBe(200);
  });

  it("is checked after authentication", async () => {
    const res = await get(em, "/api/accounts", { revision: "nonsense" });
    expect(res.status).toBe(401);
  });
});

describe("routing", () => {
  const em = createEmulator({ rateLimits: "off" });

  it.each([
    ["GET", "/api/no-such-thing"],
    ["DELETE", "/api/accounts"],
    ["GET", "/"],
    ["GET", "/api/accounts/XqT4Lm/extra/segments"],
  ])("%s %s is 404 not_found in Klaviyo's format, even without credentials", async (method, path) => {
    const res = await em.fetch(`${em.baseUrl}${path}`, { method });
    expect(res.status).toBe(404);
    const error = await onlyError(res);
    expect(error.code).toBe("not_found");
  });

  it("an operation Klaviyo has but the emulator does not is 501 naming the operation id", async () => {
    const res = await get(em, "/api/coupons/SUMMER");
    expect(res.status).toBe(501);
    const error = await onlyError(res);
    expect(error.code).toBe("not_implemented");
    expect(error.detail).toContain("get_coupon");
    expect(em.requests.at(-1)).toMatchObject({ operationId: "get_coupon", status: 501, handled: false });
  });

  it("answers with and without a trailing slash", async () => {
    for (const path of [
      "/api/accounts",
      "/api/accounts/",
      `/api/accounts/${em.account.id}`,
      `/api/accounts/${em.account.id}/`,
    ]) {
      expect((await get(em, path)).status, path).toBe(200);
    }
  });

  it("an unexpected exception in a handler is a 500 in Klaviyo's format, without a stack", async () => {
    const broken = createEmulator({ rateLimits: "off" });
    // A request whose handler will throw: the state no longer holds the account object it expects.
    Object.defineProperty(broken.account, "attributes", {
      get() {
        throw new Error("boom at /secret/path.ts:12");
      },
    });
    const res = await get(broken, "/api/accounts");
    expect(res.status).toBe(500);
    const text = await res.clone().text();
    expect(text).not.toContain("boom");
    expect(text).not.toContain(".ts:");
    expect((await onlyError(res)).title).toBe("A server error occurred.");
  });
});

describe("secrecy", () => {
  it("no response body or header, and no log entry, ever contains the API key", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const em = createEmulator({ clock, apiKeys: [{ key: SECRET }, { key: SCOPED, scopes: ["lists:read"] }] });
    // [path, headers, whether to stay in the same second as the previous request (to draw a 429)]
    const attempts: Array<[string, Record<string, string>, boolean?]> = [
      ["/api/accounts", klaviyoHeaders(SECRET)],
      ["/api/accounts", klaviyoHeaders(SECRET), true],
      [`/api/accounts/${em.account.id}`, klaviyoHeaders(SECRET)],
      ["/api/accounts/other", klaviyoHeaders(SECRET)],
      ["/api/accounts?fields[account]=bogus", klaviyoHeaders(SECRET)],
      ["/api/accounts", klaviyoHeaders(SCOPED)],
      ["/api/accounts", klaviyoHeaders(`${SECRET}x`)],
      ["/api/accounts", { Authorization: `Bearer ${SECRET}`, revision: SPEC_REVISION }],
      ["/api/accounts", klaviyoHeaders(SECRET, { revision: SECRET })],
      ["/api/coupons", klaviyoHeaders(SECRET)],
      [`/api/${SECRET}`, klaviyoHeaders(SECRET)],
    ];
    const statuses: number[] = [];
    for (const [path, headers, sameSecond] of attempts) {
      if (!sameSecond) clock.advance(1000);
      const res = await get(em, path, headers);
      statuses.push(res.status);
      const body = await res.text();
      expect(body, path).not.toContain(SECRET);
      for (const [name, value] of res.headers) expect(`${name}: ${value}`).not.toContain(SECRET);
    }
    expect(statuses).toEqual([200, 429, 200, 404, 400, 403, 401, 401, 400, 501, 404]);
    expect(JSON.stringify(em.requests)).not.toContain(SECRET);
  });
});
