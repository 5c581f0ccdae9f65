import { afterEach, describe, expect, it } from "vitest";
import { KlaviyoClient } from "../../src/core/client.js";
import type { QueryInput } from "../../src/core/url.js";
import { createEmulator, type FaultKind, SEED_ACCOUNT_ID } from "../../src/emulator/index.js";
import type { HttpMethod } from "../../src/klaviyo/operations.js";
import {
  checkedFetch,
  contractProblems,
  expectNoContractProblems,
  validateRequest,
  validateResponse,
} from "../helpers/contract.js";
import { openApiAvailable } from "../helpers/openapi.js";

const JSON_API = "application/vnd.api+json";
const KEY = "pk_contract_full_access_0000000000";
const LISTS_ONLY = "pk_contract_lists_read_only_000000";
const id = SEED_ACCOUNT_ID;
const available = openApiAvailable();

describe.skipIf(!available)("the emulator's answers against Klaviyo's OpenAPI document", () => {
  const emulator = createEmulator({
    apiKeys: [{ key: KEY }, { key: LISTS_ONLY, scopes: ["lists:read"] }],
    rateLimits: "off",
  });
  const clientFor = (options: { apiKey?: string; revision?: string; requests?: boolean } = {}) =>
    new KlaviyoClient({
      apiKey: options.apiKey ?? KEY,
      baseUrl: emulator.baseUrl,
      fetch: checkedFetch(emulator.fetch, { requests: options.requests ?? true }),
      rateLimiter: false,
      retry: { maxRetries: 0 },
      ...(options.revision ? { revision: options.revision } : {}),
    });
  const client = clientFor();
  const call = async (c: KlaviyoClient, method: HttpMethod, path: string, query?: QueryInput) =>
    (await c.request({ method, path, ...(query ? { query } : {}), throwOnError: false })).status;

  afterEach(() => {
    emulator.setFaults([]);
    contractProblems.length = 0;
  });

  it("GET /api/accounts, with and without sparse fieldsets", async () => {
    expect(await call(client, "GET", "/api/accounts")).toBe(200);
    expect(await call(client, "GET", "/api/accounts", { "fields[account]": ["timezone", "locale"] })).toBe(
      200,
    );
    expectNoContractProblems();
  });

  it("GET /api/accounts/{id}, with and without sparse fieldsets (nested and `id` only)", async () => {
    expect(await call(client, "GET", `/api/accounts/${id}`)).toBe(200);
    for (const fields of [
      ["contact_information.street_address.city", "test_account"],
      ["contact_information"],
      ["id"],
    ]) {
      expect(await call(client, "GET", `/api/accounts/${id}`, { "fields[account]": fields })).toBe(200);
    }
    expectNoContractProblems();
  });

  it("401 for an unknown key and for no Authorization at all", async () => {
    expect(
      await call(clientFor({ apiKey: "pk_not_a_key_of_this_emulator_000" }), "GET", "/api/accounts"),
    ).toBe(401);
    const anonymous = await client.request({
      method: "GET",
      path: "/api/accounts",
      authenticate: false,
      throwOnError: false,
    });
    expect(anonymous.status).toBe(401);
    expectNoContractProblems();
  });

  it("403 for a key without the operation's scope", async () => {
    expect(await call(clientFor({ apiKey: LISTS_ONLY }), "GET", "/api/accounts")).toBe(403);
    expectNoContractProblems();
  });

  it("404 for another account's id", async () => {
    expect(await call(client, "GET", "/api/accounts/AbC123")).toBe(404);
    expectNoContractProblems();
  });

  it("501 for an operation of the document the emulator does not implement yet", async () => {
    // Catalogs are no part of the connector, so the emulator does not implement them.
    expect(await call(client, "GET", "/api/catalog-items")).toBe(501);
    expectNoContractProblems();
  });

  it("400 for a malformed revision and for an unknown field: the answers conform, the requests are flagged", async () => {
    const badRevision = clientFor({ revision: "latest" });
    expect(await call(badRevision, "GET", "/api/accounts")).toBe(400);
    expect(await call(client, "GET", `/api/accounts/${id}`, { "fields[account]": "timezone,nope" })).toBe(
      400,
    );
    // The requests break the contract on purpose; their answers must not.
    expect(contractProblems).toEqual([
      expect.stringMatching(/^GET \/api\/accounts -> 400: header revision: "latest" is not YYYY-MM-DD/),
      expect.stringMatching(
        /^GET \/api\/accounts\/\w+ -> 400: query fields\[account\]\/1: "nope" is not one of/,
      ),
    ]);
    contractProblems.length = 0;
    const lenient = clientFor({ revision: "latest", requests: false });
    expect(await call(lenient, "GET", "/api/accounts", { "fields[account]": "nope" })).toBe(400);
    expectNoContractProblems();
  });

  it.each<[FaultKind, number]>([
    ["429", 429],
    ["500", 500],
    ["503", 503],
    ["500-after-commit", 500],
  ])("an injected %s fault is answered %i", async (kind, status) => {
    emulator.setFaults([{ kind, probability: 1 }]);
    expect(await call(client, "GET", "/api/accounts")).toBe(status);
    expectNoContractProblems();
  });

  it("flags a misshapen answer without consuming it, and the requests of a call that got no answer", async () => {
    const body = JSON.stringify({
      data: { type: "acount", id, attributes: {}, links: { self: "https://x.test/" } },
    });
    const fake = checkedFetch(async () => new Response(body, { headers: { "content-type": JSON_API } }));
    const res = await fake(`${emulator.baseUrl}/api/accounts/${id}`, { headers: { revision: "2026-07-15" } });
    expect(await res.text()).toBe(body);
    expect(contractProblems).toContain(
      `GET /api/accounts/${id} -> 200: body/data/type: "acount" is not one of ["account"]`,
    );
    expect(contractProblems).toContain(
      `GET /api/accounts/${id} -> 200: body/data/attributes/locale: required, missing`,
    );
    contractProblems.length = 0;
    const dropped = checkedFetch(() => Promise.reject(new TypeError("fetch failed")));
    await expect(dropped(`${emulator.baseUrl}/api/accounts`)).rejects.toThrow("fetch failed");
    expect(contractProblems).toEqual([
      "GET /api/accounts -> no response: header revision: required, missing",
    ]);
  });

  it("expectNoContractProblems lists every problem, and empties the list", () => {
    contractProblems.push("GET /api/x -> 200: one", "GET /api/x -> 200: two");
    expect(() => expectNoContractProblems()).toThrow(
      /2 contract problem\(s\):\n {2}GET \/api\/x -> 200: one\n/,
    );
    expect(contractProblems).toEqual([]);
  });
});

describe.skipIf(!available)("the contract validator catches what it must", () => {
  const account = () => ({
    type: "account",
    id,
    attributes: {
      test_account: false,
      contact_information: {
        default_sender_name: "Harbor",
        default_sender_email: "hello@example.com",
        website_url: "https://example.com",
        organization_name: "Harbor",
        street_address: {
          address1: "1 Main St",
          address2: null,
          city: "Boston",
          region: "MA",
          country: "US",
          zip: "02110",
        },
      },
      industry: null,
      timezone: "US/Eastern",
      preferred_currency: "USD",
      public_api_key: id,
      locale: "en-US",
    },
    links: { self: `https://a.klaviyo.com/api/accounts/${id}/` },
  });
  const check = (data: unknown, sparse = false) =>
    validateResponse("get_account", 200, "application/vnd.api+json", { data }, { sparse });
  const revision = { revision: "2026-07-15" };

  it("accepts a well-formed account, from raw text too, and with a media type parameter", () => {
    expect(check(account())).toEqual([]);
    const text = JSON.stringify({ data: account(), links: { self: "https://a.klaviyo.com/api/accounts/x" } });
    expect(validateResponse("get_account", 200, "application/vnd.api+json; charset=utf-8", text)).toEqual([]);
  });

  it("a missing required member", () => {
    const { locale: _, ...attributes } = account().attributes;
    expect(check({ ...account(), attributes })).toEqual(["body/data/attributes/locale: required, missing"]);
    const { links: __, ...withoutLinks } = account();
    expect(check(withoutLinks)).toEqual(["body/data/links: required, missing"]);
  });

  it("sparse fieldsets relax `required` inside attributes only", () => {
    const sparse = { ...account(), attributes: { timezone: "US/Eastern" } };
    expect(check(sparse)).toContain("body/data/attributes/locale: required, missing");
    expect(check(sparse, true)).toEqual([]);
    const { links: _, ...withoutLinks } = sparse;
    expect(check(withoutLinks, true)).toEqual(["body/data/links: required, missing"]);
    expect(check({ ...sparse, attributes: { timezone: 5 } }, true)).toEqual([
      'body/data/attributes/timezone: 5 is not of type "string"',
    ]);
  });

  it("a wrong type, deep down", () => {
    const bad = account();
    (bad.attributes.contact_information.street_address as Record<string, unknown>).zip = 2110;
    expect(check(bad)).toEqual([
      'body/data/attributes/contact_information/street_address/zip: 2110 is not of type ["string","null"]',
    ]);
  });

  it("null where the document does not allow it, and null where it does", () => {
    expect(check({ ...account(), attributes: { ...account().attributes, timezone: null } })).toEqual([
      'body/data/attributes/timezone: null is not of type "string"',
    ]);
    // `industry` and `address2` are nullable; `account()` has them null.
    expect(check(account())).toEqual([]);
  });

  it("a value outside an enum, and a member the document does not declare", () => {
    expect(check({ ...account(), type: "acount" })).toEqual([
      'body/data/type: "acount" is not one of ["account"]',
    ]);
    expect(check({ ...account(), attributes: { ...account().attributes, extra: 1 } })).toEqual([
      "body/data/attributes/extra: not declared by the document",
    ]);
  });

  it("formats: a self link that is not a URI", () => {
    expect(check({ ...account(), links: { self: "not a uri" } })).toEqual([
      'body/data/links/self: must match format "uri" ("not a uri")',
    ]);
  });

  it("status, media type and empty bodies", () => {
    expect(validateResponse("get_account", 302, null, "")).toEqual([
      "status 302 is not declared (declared: 200, 4XX, 5XX)",
    ]);
    expect(validateResponse("get_account", 200, "application/json", { data: account() })).toEqual([
      'Content-Type "application/json", but status 200 declares application/vnd.api+json',
    ]);
    expect(validateResponse("get_account", 200, "application/vnd.api+json", "")).toEqual([
      "empty body, but status 200 declares application/vnd.api+json",
    ]);
    expect(validateResponse("get_account", 200, "application/vnd.api+json", "{")).toEqual([
      'the body is not JSON: "{"',
    ]);
    expect(validateResponse("delete_list", 204, null, "")).toEqual([]);
    expect(validateResponse("delete_list", 204, "application/json", "{}")).toEqual([
      'status 204 declares no content, but the body is "{}"',
    ]);
    expect(validateResponse("create_event", 202, null, "")).toEqual([]);
  });

  it("error documents: Klaviyo's status, links and meta are allowed, anything else is not", () => {
    const error = {
      id: "7d2c7c63-3c6d-4a8a-9a52-2d1b0c4f1a11",
      status: 404,
      code: "not_found",
      title: "Not found.",
      detail: "Gone.",
      source: { pointer: "/data/" },
      links: {},
      meta: {},
    };
    const json = "application/vnd.api+json";
    expect(validateResponse("get_account", 404, json, { errors: [error] })).toEqual([]);
    expect(validateResponse("get_account", 503, json, { errors: [error] })).toEqual([]);
    expect(validateResponse("get_account", 404, json, { errors: [{ ...error, extra: true }] })).toEqual([
      "body/errors/0/extra: not declared by the document",
    ]);
    const { title: _, ...untitled } = error;
    expect(validateResponse("get_account", 400, json, { errors: [untitled] })).toEqual([
      "body/errors/0/title: required, missing",
    ]);
  });

  it("requests: a required query parameter missing, and the revision header", () => {
    expect(validateRequest("get_campaigns", { query: new URLSearchParams(), headers: revision })).toEqual([
      "query filter: required, missing",
    ]);
    const query = new URLSearchParams({ filter: "equals(messages.channel,'email')" });
    expect(validateRequest("get_campaigns", { query, headers: revision })).toEqual([]);
    expect(validateRequest("get_campaigns", { query, headers: {} })).toEqual([
      "header revision: required, missing",
    ]);
  });

  it("requests: lists, enums, bounds and undeclared or repeated parameters", () => {
    const problems = (entries: [string, string][]) =>
      validateRequest("get_profiles", { query: new URLSearchParams(entries), headers: revision });
    expect(
      problems([
        ["fields[profile]", "email,first_name"],
        ["include", "push-tokens"],
        ["sort", "-created"],
        ["page[size]", "100"],
      ]),
    ).toEqual([]);
    expect(problems([["fields[profile]", "email,nope"]])).toEqual([
      expect.stringMatching(/^query fields\[profile\]\/1: "nope" is not one of \["created","email",/),
    ]);
    expect(problems([["include", "lists"]])[0]).toMatch(/^query include\/0: "lists" is not one of/);
    expect(problems([["sort", "name"]])[0]).toMatch(/^query sort: "name" is not one of/);
    expect(problems([["page[size]", "101"]])).toEqual(["query page[size]: must be <= 100 (101)"]);
    expect(problems([["page[size]", "0"]])).toEqual(["query page[size]: must be >= 1 (0)"]);
    expect(problems([["page[size]", "ten"]])).toEqual(['query page[size]: "ten" is not of type "integer"']);
    expect(problems([["pagesize", "10"]])).toEqual(["query pagesize: not a parameter of get_profiles"]);
    expect(
      problems([
        ["sort", "id"],
        ["sort", "email"],
      ]),
    ).toEqual(["query sort: given 2 times; the document takes one value"]);
  });

  it("requests: the JSON body against the operation's requestBody", () => {
    const headers = { ...revision, "content-type": "application/vnd.api+json" };
    const query = new URLSearchParams();
    const body = { data: { type: "profile", attributes: { email: "sarah@example.com", first_name: null } } };
    expect(validateRequest("create_profile", { query, headers, body })).toEqual([]);
    expect(validateRequest("create_profile", { query, headers })).toEqual(["body: required, missing"]);
    expect(validateRequest("create_profile", { query, headers, body: { data: { attributes: {} } } })).toEqual(
      ["body/data/type: required, missing"],
    );
    expect(
      validateRequest("create_profile", {
        query,
        headers,
        body: { data: { type: "profile", attributes: { email: 5 } } },
      }),
    ).toEqual(['body/data/attributes/email: 5 is not of type ["string","null"]']);
    expect(validateRequest("create_profile", { query, headers: revision, body })).toEqual([
      'Content-Type "", but create_profile takes application/vnd.api+json',
    ]);
    expect(validateRequest("get_profiles", { query, headers: revision, body })).toEqual([
      "body: get_profiles takes no body",
    ]);
  });

  it("requests: a multipart upload is checked for its Content-Type only", () => {
    const query = new URLSearchParams();
    const multipart = { ...revision, "content-type": "multipart/form-data; boundary=x" };
    expect(validateRequest("upload_image_from_file", { query, headers: multipart })).toEqual([]);
    expect(
      validateRequest("upload_image_from_file", {
        query,
        headers: { ...revision, "content-type": "image/png" },
      }),
    ).toEqual(['Content-Type "image/png", but upload_image_from_file takes multipart/form-data']);
  });

  it("an unknown operation id is a mistake of the test, not a contract problem", () => {
    expect(() => validateResponse("get_acounts", 200, null, "")).toThrow(/no operation "get_acounts"/);
  });
});
