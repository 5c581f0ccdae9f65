import { describe, expect, it } from "vitest";
import { createEmulator, SEED_ACCOUNT_ID } from "../../src/emulator/index.js";
import { ACCOUNT_FIELDS } from "../../src/emulator/routes/accounts.js";
import { validateResponse } from "../helpers/contract.js";
import { loadOpenApi, openApiAvailable } from "../helpers/openapi.js";
import { get, onlyError } from "./helpers.js";

interface AccountBody {
  data: { type: string; id: string; attributes: Record<string, unknown>; links: { self: string } };
  links: Record<string, string>;
}
interface AccountsBody {
  data: AccountBody["data"][];
  links: Record<string, string>;
}

const em = createEmulator({ rateLimits: "off" });
const base = em.baseUrl;
const id = SEED_ACCOUNT_ID;

describe("GET /api/accounts", () => {
  it("lists the one account the key belongs to, with absolute self links and no next/prev", async () => {
    const res = await get(em, "/api/accounts/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/vnd.api+json");
    const body = (await res.json()) as AccountsBody;
    expect(body.data).toHaveLength(1);
    const [account] = body.data;
    expect(account).toMatchObject({ type: "account", id, links: { self: `${base}/api/accounts/${id}/` } });
    expect(account?.attributes).toEqual(em.account.attributes);
    expect(body.links).toEqual({ self: `${base}/api/accounts/` });
  });

  it("has a realistic seeded account: 6-character id equal to its public key", () => {
    expect(em.account.id).toMatch(/^[A-Za-z0-9]{6}$/);
    expect(em.account.attributes.public_api_key).toBe(em.account.id);
    expect(em.account.attributes.contact_information.street_address.city).toBe("Boston");
  });

  it("keeps only the fields asked for, with dotted paths into nested objects", async () => {
    const res = await get(em, "/api/accounts?fields[account]=contact_information.organization_name,timezone");
    const body = (await res.json()) as AccountsBody;
    expect(body.data[0]?.attributes).toEqual({
      contact_information: { organization_name: "Harbor & Pine Outfitters" },
      timezone: "US/Eastern",
    });
  });

  it("reaches two levels down, and a parent name keeps its whole subtree", async () => {
    const deep = (await (
      await get(em, "/api/accounts?fields[account]=contact_information.street_address.city,locale")
    ).json()) as AccountsBody;
    expect(deep.data[0]?.attributes).toEqual({
      contact_information: { street_address: { city: "Boston" } },
      locale: "en-US",
    });
    const parent = (await (
      await get(
        em,
        "/api/accounts?fields[account]=contact_information.street_address.zip,contact_information",
      )
    ).json()) as AccountsBody;
    expect(parent.data[0]?.attributes).toEqual({
      contact_information: em.account.attributes.contact_information,
    });
  });

  it("reads percent-encoded brackets, as URLSearchParams writes them, and repeated parameters", async () => {
    const query = new URLSearchParams([
      ["fields[account]", "industry"],
      ["fields[account]", "preferred_currency"],
    ]);
    expect(query.toString()).toContain("%5B");
    const body = (await (await get(em, `/api/accounts?${query}`)).json()) as AccountsBody;
    expect(body.data[0]?.attributes).toEqual({
      industry: "Apparel & Accessories",
      preferred_currency: "USD",
    });
  });

  it("fields[account]=id keeps the id and no attributes", async () => {
    const body = (await (await get(em, "/api/accounts?fields[account]=id")).json()) as AccountsBody;
    expect(body.data[0]).toMatchObject({ id, attributes: {} });
  });

  it("an unknown field is 400 naming the parameter and the field", async () => {
    const res = await get(em, "/api/accounts?fields[account]=timezone,contact_information.phone");
    expect(res.status).toBe(400);
    const error = await onlyError(res);
    expect(error.code).toBe("invalid");
    expect(error.source).toEqual({ parameter: "fields[account]" });
    expect(error.detail).toContain("'contact_information.phone'");
  });
});

describe("GET /api/accounts/{id}", () => {
  it("returns the key's account with links.self", async () => {
    const res = await get(em, `/api/accounts/${id}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as AccountBody;
    expect(body.data).toMatchObject({ type: "account", id, links: { self: `${base}/api/accounts/${id}/` } });
    expect(body.links).toEqual({ self: `${base}/api/accounts/${id}` });
  });

  it("applies sparse fieldsets", async () => {
    const body = (await (
      await get(em, `/api/accounts/${id}?fields[account]=test_account`)
    ).json()) as AccountBody;
    expect(body.data.attributes).toEqual({ test_account: false });
  });

  it("is 404 for any other id", async () => {
    const res = await get(em, "/api/accounts/AbC123");
    expect(res.status).toBe(404);
    const error = await onlyError(res);
    expect(error.code).toBe("not_found");
    expect(error.detail).toContain("AbC123");
  });

  it("checks the fieldset before the id, and the id is matched exactly", async () => {
    expect((await get(em, `/api/accounts/${id.toLowerCase()}`)).status).toBe(404);
    expect((await get(em, "/api/accounts/AbC123?fields[account]=nope")).status).toBe(400);
  });

  it("responses never share objects with the emulator's state", async () => {
    const body = (await (await get(em, `/api/accounts/${id}`)).json()) as AccountBody;
    (body.data.attributes.contact_information as Record<string, unknown>).organization_name = "changed";
    expect(em.account.attributes.contact_information.organization_name).toBe("Harbor & Pine Outfitters");
  });
});

describe.runIf(openApiAvailable())("against Klaviyo's OpenAPI document", () => {
  const doc = () => loadOpenApi<{ paths: Record<string, { get: { parameters: unknown[] } }> }>();
  /** The problems of an answer of `operationId` (see test/helpers/contract.ts). */
  const problems = async (operationId: string, res: Response, sparse = false) =>
    validateResponse(operationId, res.status, res.headers.get("content-type"), await res.text(), { sparse });

  it("the allowed account fields are exactly the enum of fields[account], on both operations", () => {
    for (const path of ["/api/accounts", "/api/accounts/{id}"]) {
      const params = doc().paths[path]?.get.parameters as Array<{
        name: string;
        schema: { items: { enum: string[] } };
      }>;
      const fields = params.find((p) => p.name === "fields[account]");
      expect(fields?.schema.items.enum, path).toEqual(ACCOUNT_FIELDS);
    }
  });

  it("the list matches get_accounts' 200 (GetAccountResponseCollection)", async () => {
    expect(await problems("get_accounts", await get(em, "/api/accounts"))).toEqual([]);
    // Brackets percent-encoded, as the connector sends them: the emulator echoes the request URL into
    // links.self, and a raw "[" there is not a valid URI (format: uri).
    const query = new URLSearchParams({
      "fields[account]": "contact_information.street_address.city,locale",
    });
    const sparse = await get(em, `/api/accounts?${query}`);
    expect(await problems("get_accounts", sparse, true)).toEqual([]);
  });

  it("the single account matches get_account's 200 (GetAccountResponse)", async () => {
    expect(await problems("get_account", await get(em, `/api/accounts/${id}`))).toEqual([]);
    const sparse = await get(em, `/api/accounts/${id}?fields%5Baccount%5D=id`);
    expect(await problems("get_account", sparse, true)).toEqual([]);
  });

  it("the checker does catch a misshapen account", () => {
    const bad = { data: { type: "acount", id, attributes: { timezone: 5, extra: 1 }, links: {} } };
    expect(validateResponse("get_account", 200, "application/vnd.api+json", bad)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('body/data/type: "acount" is not one of'),
        expect.stringContaining('body/data/attributes/timezone: 5 is not of type "string"'),
        expect.stringContaining("body/data/attributes/extra: not declared by the document"),
        expect.stringContaining("body/data/links/self: required, missing"),
        expect.stringContaining("body/data/attributes/locale: required, missing"),
      ]),
    );
  });

  it("errors match the document's 4XX error schema", async () => {
    expect(await problems("get_account", await get(em, "/api/accounts/AbC123"))).toEqual([]);
    expect(await problems("get_account", await get(em, `/api/accounts/${id}?fields[account]=nope`))).toEqual(
      [],
    );
  });
});
