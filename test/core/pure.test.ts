import { readFileSync } from "node:fs";
import { inspect } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { apiKey, apiKeyProblem } from "../../src/core/api-key.js";
import { KlaviyoClient } from "../../src/core/client.js";
import { ApiError, ConflictError, InputValidationError, RateLimitError } from "../../src/core/errors.js";
import { cursorOf } from "../../src/core/pagination.js";
import { redact } from "../../src/core/redact.js";
import { expandPath, resolveUrl } from "../../src/core/url.js";
import { PACKAGE_NAME, PACKAGE_VERSION } from "../../src/core/version.js";
import { getOperation, matchOperation } from "../../src/klaviyo/operations.js";

const KEY = "pk_0123456789abcdef0123456789abcdef01";

describe("package identity", () => {
  it("User-Agent name and version match package.json", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      name: string;
      version: string;
    };
    expect([PACKAGE_NAME, PACKAGE_VERSION]).toEqual([pkg.name, pkg.version]);
  });
});

describe("API key connection", () => {
  it("refuses empty, whitespace and non-pk_ keys without echoing them", () => {
    const cases: Array<[string, RegExp]> = [
      ["", /empty/],
      [`${KEY} `, /whitespace/],
      [`pk_abc\ndef123`, /whitespace/],
      ["AbC123", /must be a private API key starting with pk_/],
      ["sk_live_abcdefabcdef", /pk_/],
    ];
    for (const [key, why] of cases) {
      let caught: unknown;
      try {
        apiKey(key);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(InputValidationError);
      const err = caught as InputValidationError;
      expect(err.message).toMatch(/^API Key: /);
      expect(err.message).toMatch(why);
      if (key.length > 0) {
        expect(err.message).not.toContain(key.trim());
        expect(JSON.stringify(err)).not.toContain(key.trim());
      }
    }
    expect(apiKeyProblem(KEY)).toBeUndefined();
  });
  it("never shows the key when the strategy or client is printed", () => {
    const client = new KlaviyoClient({ apiKey: KEY, rateLimiter: false });
    expect(inspect(client, { depth: 10, showHidden: true })).not.toContain(KEY);
    expect(JSON.stringify(client)).not.toContain(KEY);
    expect(inspect(apiKey(KEY), { depth: 10 })).not.toContain(KEY);
  });
});

describe("redact", () => {
  it("masks known secrets and anything shaped like a key or token", () => {
    const text = `Authorization: Klaviyo-API-Key ${KEY}; Bearer abc.def-ghi; url?access_token=xyz&x=1 {"refresh_token":"r1"} also ${KEY}`;
    const out = redact(text, [KEY]);
    expect(out).not.toContain(KEY);
    expect(out).not.toContain("abc.def-ghi");
    expect(out).not.toContain("xyz");
    expect(out).not.toContain("r1");
    expect(out).toContain("x=1");
  });
  it("removes any secret from any text it is embedded in", () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.stringMatching(/^[A-Za-z0-9]{8,40}$/),
        fc.string(),
        (before, secret, after) => {
          return !redact(`${before}${secret}${after}`, [secret]).includes(secret);
        },
      ),
    );
  });
});

describe("errors", () => {
  it("picks the class by status and builds the message from errors[].detail", () => {
    const e = ApiError.generate({
      status: 409,
      method: "POST",
      path: "/api/profiles",
      errors: [
        {
          id: "e1",
          status: 409,
          code: "duplicate_profile",
          title: "Conflict.",
          detail: "A profile already exists with one of these identifiers.",
          source: { pointer: "/data/attributes" },
          meta: { duplicate_profile_id: "01JAFS0VVWGJFE7QE4EJQBA5AS" },
        },
      ],
      requestId: "e1",
    });
    expect(e).toBeInstanceOf(ConflictError);
    expect((e as ConflictError).duplicateProfileId).toBe("01JAFS0VVWGJFE7QE4EJQBA5AS");
    expect(e.code).toBe("duplicate_profile");
    expect(e.message).toBe(
      "Klaviyo API 409 (POST /api/profiles): A profile already exists with one of these identifiers. [/data/attributes] (request id e1)",
    );
    const r = ApiError.generate({ status: 429, retryAfterMs: 2000 });
    expect(r).toBeInstanceOf(RateLimitError);
    expect((r as RateLimitError).retryAfterMs).toBe(2000);
    expect(ApiError.generate({ status: 410 }).constructor).toBe(ApiError);
  });
  it("describes a non-JSON body instead of crashing", () => {
    const e = ApiError.generate({
      status: 403,
      rawBody: "<html>Attention Required</html>",
      contentType: "text/html",
    });
    expect(e.message).toMatch(/403.*expected Klaviyo's JSON error body but got text\/html/);
    expect(ApiError.generate({ status: 502, rawBody: "", contentType: "" }).message).toMatch(/502.*empty/);
  });
});

describe("URLs and operations", () => {
  const base = new URL("https://a.klaviyo.com");
  it("joins paths and encodes Klaviyo's bracketed query names", () => {
    const url = resolveUrl(base, "/api/accounts", {
      "fields[account]": ["timezone", "locale"],
      skip: undefined,
    });
    expect(url.toString()).toBe("https://a.klaviyo.com/api/accounts?fields%5Baccount%5D=timezone%2Clocale");
    expect(expandPath("/api/lists/{id}", { id: "a b/c" })).toBe("/api/lists/a%20b%2Fc");
  });
  it("refuses a path that would leave the host", () => {
    for (const path of ["//evil.example/api", "https://evil.example/api", "api/accounts", "/api\n/x"]) {
      expect(() => resolveUrl(base, path)).toThrow(InputValidationError);
    }
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          return resolveUrl(base, `/${s.replace(/^\/+/, "")}`).origin === base.origin;
        } catch (e) {
          return e instanceof InputValidationError || e instanceof TypeError;
        }
      }),
    );
  });
  it("matches concrete paths to the spec's operations, with or without a trailing slash", () => {
    expect(matchOperation("GET", "/api/accounts/")?.operation.id).toBe("get_accounts");
    expect(matchOperation("GET", "/api/accounts/AbC123")).toMatchObject({
      operation: { id: "get_account" },
      params: { id: "AbC123" },
    });
    expect(matchOperation("GET", "/api/lists/L1/profiles")?.operation.id).toBe("get_profiles_for_list");
    expect(matchOperation("POST", "/api/image-upload")?.operation.tier).toEqual({
      name: "upload_image_from_file",
      burst: 3,
      steady: 100,
      daily: 500,
    });
    expect(matchOperation("GET", "/api/nothing-here")).toBeUndefined();
    expect(getOperation("get_profiles").pageSize).toEqual({ default: 20, max: 100 });
    expect(getOperation("get_lists").pageSize).toEqual({ default: 10, max: 10 });
  });
  it("reads the cursor from a links.next URL or takes a bare cursor", () => {
    expect(
      cursorOf("https://a.klaviyo.com/api/profiles?page%5Bcursor%5D=bmV4dA%3D%3D&page%5Bsize%5D=5"),
    ).toBe("bmV4dA==");
    expect(cursorOf("bmV4dA==")).toBe("bmV4dA==");
    expect(cursorOf(null)).toBeUndefined();
  });
});

describe("tiers lowered by query parameters", () => {
  it("profile_count, include=lists and predictive_analytics are counted in their own, lower tiers", async () => {
    const { effectiveTier } = await import("../../src/klaviyo/tiers.js");
    const q = (s: string) => new URLSearchParams(s);
    expect(effectiveTier(getOperation("get_list"), q(""))).toEqual(getOperation("get_list").tier);
    expect(effectiveTier(getOperation("get_list"), q("additional-fields[list]=profile_count"))).toMatchObject(
      {
        name: "get_list+profile_count",
        burst: 1,
        steady: 15,
      },
    );
    expect(effectiveTier(getOperation("get_profile"), q("include=segments"))).toMatchObject({
      burst: 1,
      steady: 15,
    });
    expect(
      effectiveTier(
        getOperation("get_profiles"),
        q("additional-fields[profile]=subscriptions,predictive_analytics"),
      ),
    ).toMatchObject({
      burst: 10,
      steady: 150,
    });
    expect(
      effectiveTier(getOperation("get_profiles"), q("additional-fields[profile]=subscriptions")),
    ).toEqual(getOperation("get_profiles").tier);
  });
});
