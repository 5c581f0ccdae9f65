import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KlaviyoClient } from "../../src/core/client.js";
import { createEmulator } from "../../src/emulator/index.js";
import type { HttpMethod } from "../../src/klaviyo/operations.js";
import { checkedFetch, expectNoContractProblems } from "../helpers/contract.js";
import { openApiAvailable } from "../helpers/openapi.js";
import type { KlaviyoErrorEntry } from "./helpers.js";

const KEY = "pk_subscriptions_test_0000000000000";
const emulator = createEmulator({ apiKeys: [{ key: KEY }], rateLimits: "off" });
const contract = openApiAvailable();
const clientWith = (requests: boolean) =>
  new KlaviyoClient({
    apiKey: KEY,
    baseUrl: emulator.baseUrl,
    fetch: contract ? checkedFetch(emulator.fetch, { requests }) : emulator.fetch,
    rateLimiter: false,
    retry: { maxRetries: 0 },
  });
const client = clientWith(true);
/** Sends bodies the document forbids on purpose (responses are still checked). */
const loose = clientWith(false);

type Json = Record<string, unknown>;
interface Doc {
  data: { id: string; attributes: Json };
}
interface Marketing {
  consent: string;
  consent_timestamp: string | null;
  method: string | null;
  custom_method_detail?: string | null;
  can_receive_email_marketing?: boolean;
  can_receive_sms_marketing?: boolean;
  suppression?: Array<{ reason: string; timestamp: string }>;
  list_suppressions?: Array<{ list_id: string; reason: string; timestamp: string }>;
}
interface Subscriptions {
  email: { marketing: Marketing };
  sms: { marketing: Marketing; transactional: Json };
}

const SUBSCRIBE = "/api/profile-subscription-bulk-create-jobs";
const UNSUBSCRIBE = "/api/profile-subscription-bulk-delete-jobs";

async function call<T = Json>(
  method: HttpMethod,
  path: string,
  body?: unknown,
  query?: Record<string, string>,
  c = client,
) {
  const res = await c.request<T>({
    method,
    path,
    ...(body ? { body } : {}),
    ...(query ? { query } : {}),
    throwOnError: false,
  });
  return { status: res.status, body: res.body };
}

async function fails(path: string, body: unknown) {
  const res = await call<{ errors: KlaviyoErrorEntry[] }>("POST", path, body, undefined, loose);
  const error = res.body.errors[0] as KlaviyoErrorEntry;
  expect(error.status).toBe(res.status);
  return { status: res.status, error };
}

function job(type: string, profiles: Json[], options: { list?: string; attributes?: Json } = {}) {
  return {
    data: {
      type,
      attributes: {
        ...options.attributes,
        profiles: { data: profiles.map((attributes) => ({ type: "profile", attributes })) },
      },
      ...(options.list ? { relationships: { list: { data: { type: "list", id: options.list } } } } : {}),
    },
  };
}
const subscribeJob = (profiles: Json[], options?: { list?: string; attributes?: Json }) =>
  job("profile-subscription-bulk-create-job", profiles, options);
const unsubscribeJob = (profiles: Json[], options?: { list?: string }) =>
  job("profile-subscription-bulk-delete-job", profiles, options);

const emailConsent = (email: string, marketing: Json = { consent: "SUBSCRIBED" }) => ({
  email,
  subscriptions: { email: { marketing } },
});

async function createList(name: string, opt_in_process = "single_opt_in"): Promise<string> {
  const res = await call<Doc>("POST", "/api/lists", {
    data: { type: "list", attributes: { name, opt_in_process } },
  });
  return res.body.data.id;
}

function profileByEmail(email: string) {
  return [...emulator.state.profiles.values()].find((p) => p.attributes.email === email);
}

async function subscriptionsOf(email: string): Promise<Subscriptions> {
  const id = profileByEmail(email)?.id;
  expect(id).toBeDefined();
  const res = await call<Doc>("GET", `/api/profiles/${id}`, undefined, {
    "additional-fields[profile]": "subscriptions",
  });
  return res.body.data.attributes.subscriptions as Subscriptions;
}

const memberIds = (listId: string) => [...(emulator.state.memberships.get(listId)?.keys() ?? [])];

beforeEach(() => emulator.reset());
afterEach(() => {
  if (contract) expectNoContractProblems();
});

describe("bulk subscribe", () => {
  it("creates absent profiles, records consent and adds them to the list (202, no body)", async () => {
    const listId = await createList("Newsletter");
    const existing = await call<Doc>("POST", "/api/profiles", {
      data: { type: "profile", attributes: { email: "old@example.com" } },
    });
    const res = await call(
      "POST",
      SUBSCRIBE,
      subscribeJob(
        [
          emailConsent("old@example.com"),
          {
            email: "new@example.com",
            phone_number: "+15005550006",
            subscriptions: {
              email: { marketing: { consent: "SUBSCRIBED" } },
              sms: { marketing: { consent: "SUBSCRIBED" }, transactional: { consent: "SUBSCRIBED" } },
            },
          },
        ],
        { list: listId, attributes: { custom_source: "Spring sign-up" } },
      ),
    );
    expect([res.status, res.body]).toEqual([202, null]);
    const created = profileByEmail("new@example.com");
    expect(created?.attributes.phone_number).toBe("+15005550006");
    expect(memberIds(listId)).toEqual([existing.body.data.id, created?.id]);

    const subs = await subscriptionsOf("new@example.com");
    expect(subs.email.marketing).toMatchObject({
      consent: "SUBSCRIBED",
      can_receive_email_marketing: true,
      method: "API",
      custom_method_detail: "Spring sign-up",
      suppression: [],
    });
    expect(Date.parse(subs.email.marketing.consent_timestamp ?? "")).toBeGreaterThan(Date.now() - 60_000);
    expect(subs.sms.marketing).toMatchObject({
      consent: "SUBSCRIBED",
      can_receive_sms_marketing: true,
      method: "API",
    });
    expect(subs.sms.transactional).toMatchObject({
      consent: "SUBSCRIBED",
      can_receive_sms_transactional: true,
    });

    const members = await call<{ data: Array<{ id: string }> }>("GET", `/api/lists/${listId}/profiles`);
    expect(members.body.data.map((p) => p.id)).toEqual(memberIds(listId));
    const counted = await call<Doc>("GET", `/api/lists/${listId}`, undefined, {
      "additional-fields[list]": "profile_count",
    });
    expect(counted.body.data.attributes.profile_count).toBe(2);
  });

  it("records open tracking, WhatsApp and push consent in shapes Get Profile's schema allows", async () => {
    const subscriptions = {
      email: { open_tracking: { consent: "SUBSCRIBED" } },
      whatsapp: { marketing: { consent: "SUBSCRIBED" } },
      push: {
        marketing: { consent: "SUBSCRIBED" },
        tokens: [{ token: "abc", platform: "ios", vendor: "apns" }],
      },
    };
    const res = await call(
      "POST",
      SUBSCRIBE,
      subscribeJob([{ email: "multi@example.com", phone_number: "+15005550007", subscriptions }]),
    );
    expect(res.status).toBe(202);
    const read = (await subscriptionsOf("multi@example.com")) as unknown as Record<
      string,
      Record<string, Json>
    >;
    expect(read.email?.open_tracking).toMatchObject({ consent: "SUBSCRIBED", can_receive: true });
    expect(read.whatsapp?.marketing).toMatchObject({ consent: "SUBSCRIBED", phone_number: "+15005550007" });
    expect(read.mobile_push?.marketing).toMatchObject({
      consent: "SUBSCRIBED",
      can_receive_push_marketing: true,
    });
    expect(read.email?.marketing).toMatchObject({ consent: "NEVER_SUBSCRIBED" });
  });

  it("finds a profile by id, and subscribes without a list", async () => {
    const made = await call<Doc>("POST", "/api/profiles", {
      data: { type: "profile", attributes: { email: "byid@example.com" } },
    });
    const body = {
      data: {
        type: "profile-subscription-bulk-create-job",
        attributes: {
          profiles: {
            data: [
              {
                type: "profile",
                id: made.body.data.id,
                attributes: { subscriptions: { email: { marketing: { consent: "SUBSCRIBED" } } } },
              },
            ],
          },
        },
      },
    };
    expect((await call("POST", SUBSCRIBE, body)).status).toBe(202);
    expect((await subscriptionsOf("byid@example.com")).email.marketing.consent).toBe("SUBSCRIBED");
    expect(emulator.state.profiles.size).toBe(1);
  });

  it("historical imports: consented_at required and in the past, and kept as the consent time", async () => {
    const historical = { historical_import: true };
    const missing = await fails(
      SUBSCRIBE,
      subscribeJob([emailConsent("h@example.com")], { attributes: historical }),
    );
    expect([missing.status, missing.error.source]).toEqual([
      400,
      { pointer: "/data/attributes/profiles/data/0/attributes/subscriptions/email/marketing/consented_at" },
    ]);
    const future = await fails(
      SUBSCRIBE,
      subscribeJob(
        [emailConsent("h@example.com", { consent: "SUBSCRIBED", consented_at: "2999-01-01T00:00:00Z" })],
        {
          attributes: historical,
        },
      ),
    );
    expect(future.status).toBe(400);
    expect(future.error.detail).toContain("past");
    const notHistorical = await fails(
      SUBSCRIBE,
      subscribeJob([
        emailConsent("h@example.com", { consent: "SUBSCRIBED", consented_at: "2020-01-01T00:00:00Z" }),
      ]),
    );
    expect([notHistorical.status, notHistorical.error.source]).toEqual([
      400,
      { pointer: "/data/attributes/profiles/data/0/attributes/subscriptions/email/marketing/consented_at" },
    ]);
    expect(emulator.state.profiles.size).toBe(0);

    const ok = await call(
      "POST",
      SUBSCRIBE,
      subscribeJob(
        [emailConsent("h@example.com", { consent: "SUBSCRIBED", consented_at: "2020-01-01T00:00:00Z" })],
        {
          attributes: historical,
        },
      ),
    );
    expect(ok.status).toBe(202);
    expect((await subscriptionsOf("h@example.com")).email.marketing.consent_timestamp).toBe(
      "2020-01-01T00:00:00+00:00",
    );
  });

  it("refuses other consent literals, missing identifiers, bad phones and too many profiles, pointing at them", async () => {
    const literal = await fails(
      SUBSCRIBE,
      subscribeJob([emailConsent("a@example.com", { consent: "UNSUBSCRIBED" })]),
    );
    expect([literal.status, literal.error.source]).toEqual([
      400,
      { pointer: "/data/attributes/profiles/data/0/attributes/subscriptions/email/marketing/consent" },
    ]);
    const noEmail = await fails(
      SUBSCRIBE,
      subscribeJob([
        { phone_number: "+15005550006", subscriptions: { email: { marketing: { consent: "SUBSCRIBED" } } } },
      ]),
    );
    expect([noEmail.status, noEmail.error.source]).toEqual([
      400,
      { pointer: "/data/attributes/profiles/data/0/attributes/email" },
    ]);
    const badPhone = await fails(
      SUBSCRIBE,
      subscribeJob([
        { phone_number: "5550006", subscriptions: { sms: { marketing: { consent: "SUBSCRIBED" } } } },
      ]),
    );
    expect([badPhone.status, badPhone.error.source]).toEqual([
      400,
      { pointer: "/data/attributes/profiles/data/0/attributes/phone_number" },
    ]);
    const many = Array.from({ length: 1001 }, (_, i) => emailConsent(`bulk${i}@example.com`));
    const tooMany = await fails(SUBSCRIBE, subscribeJob(many));
    expect([tooMany.status, tooMany.error.source]).toEqual([
      400,
      { pointer: "/data/attributes/profiles/data" },
    ]);
    const wrongType = await fails(
      SUBSCRIBE,
      job("profile-subscription-bulk-delete-job", [emailConsent("a@example.com")]),
    );
    expect([wrongType.status, wrongType.error.source]).toEqual([409, { pointer: "/data/type" }]);
    const noList = await fails(SUBSCRIBE, subscribeJob([emailConsent("a@example.com")], { list: "AbC123" }));
    expect([noList.status, noList.error.code]).toEqual([404, "not_found"]);
    expect(emulator.state.profiles.size).toBe(0);
    expect((await call("POST", SUBSCRIBE, subscribeJob(many.slice(0, 1000)))).status).toBe(202);
    expect(emulator.state.profiles.size).toBe(1000);
  });

  it("a double opt-in list holds email consent (and membership) until confirmed; a historical import does not", async () => {
    const listId = await createList("Confirmed", "double_opt_in");
    expect(
      (await call("POST", SUBSCRIBE, subscribeJob([emailConsent("wait@example.com")], { list: listId })))
        .status,
    ).toBe(202);
    expect((await subscriptionsOf("wait@example.com")).email.marketing.consent).toBe("NEVER_SUBSCRIBED");
    expect(memberIds(listId)).toEqual([]);
    const imported = subscribeJob(
      [emailConsent("wait@example.com", { consent: "SUBSCRIBED", consented_at: "2021-06-01T12:00:00Z" })],
      {
        list: listId,
        attributes: { historical_import: true },
      },
    );
    expect((await call("POST", SUBSCRIBE, imported)).status).toBe(202);
    expect((await subscriptionsOf("wait@example.com")).email.marketing.consent).toBe("SUBSCRIBED");
    expect(memberIds(listId)).toEqual([profileByEmail("wait@example.com")?.id]);
  });
});

describe("bulk unsubscribe", () => {
  it("unsubscribes a profile outside the list globally, with an UNSUBSCRIBE suppression; subscribing lifts it", async () => {
    await call("POST", SUBSCRIBE, subscribeJob([emailConsent("g@example.com")]));
    const res = await call(
      "POST",
      UNSUBSCRIBE,
      unsubscribeJob([
        { email: "g@example.com", subscriptions: { email: { marketing: { consent: "UNSUBSCRIBED" } } } },
      ]),
    );
    expect([res.status, res.body]).toEqual([202, null]);
    const after = (await subscriptionsOf("g@example.com")).email.marketing;
    expect(after).toMatchObject({ consent: "UNSUBSCRIBED", can_receive_email_marketing: false });
    expect(after.suppression?.map((s) => s.reason)).toEqual(["UNSUBSCRIBE"]);
    await call("POST", SUBSCRIBE, subscribeJob([emailConsent("g@example.com")]));
    const again = (await subscriptionsOf("g@example.com")).email.marketing;
    expect(again).toMatchObject({
      consent: "SUBSCRIBED",
      can_receive_email_marketing: true,
      suppression: [],
    });
  });

  it("a member of the given list leaves it with a list suppression, keeping its global consent", async () => {
    const listId = await createList("Weekly");
    await call(
      "POST",
      SUBSCRIBE,
      subscribeJob([emailConsent("m@example.com"), emailConsent("other@example.com")], { list: listId }),
    );
    const id = profileByEmail("m@example.com")?.id;
    const res = await call(
      "POST",
      UNSUBSCRIBE,
      unsubscribeJob(
        [{ email: "m@example.com", subscriptions: { email: { marketing: { consent: "UNSUBSCRIBED" } } } }],
        { list: listId },
      ),
    );
    expect(res.status).toBe(202);
    expect(memberIds(listId)).toEqual([profileByEmail("other@example.com")?.id]);
    const marketing = (await subscriptionsOf("m@example.com")).email.marketing;
    expect(marketing.consent).toBe("SUBSCRIBED");
    expect(marketing.list_suppressions).toEqual([
      { list_id: listId, reason: "UNSUBSCRIBE", timestamp: expect.any(String) },
    ]);
    const filtered = await call<{ data: Array<{ id: string }> }>("GET", "/api/profiles", undefined, {
      filter: `equals(subscriptions.email.marketing.list_suppressions.list_id,'${listId}')`,
    });
    expect(filtered.body.data.map((p) => p.id)).toEqual([id]);
  });

  it("SMS unsubscribe, profile creation for an unknown number, and the 100-profile limit", async () => {
    const res = await call(
      "POST",
      UNSUBSCRIBE,
      unsubscribeJob([
        { phone_number: "+15005550009", subscriptions: { sms: { marketing: { consent: "UNSUBSCRIBED" } } } },
      ]),
    );
    expect(res.status).toBe(202);
    const row = [...emulator.state.profiles.values()].find(
      (p) => p.attributes.phone_number === "+15005550009",
    );
    const read = await call<Doc>("GET", `/api/profiles/${row?.id}`, undefined, {
      "additional-fields[profile]": "subscriptions",
    });
    expect((read.body.data.attributes.subscriptions as Subscriptions).sms.marketing).toMatchObject({
      consent: "UNSUBSCRIBED",
      can_receive_sms_marketing: false,
    });
    const many = Array.from({ length: 101 }, (_, i) => ({
      email: `u${i}@example.com`,
      subscriptions: { email: { marketing: { consent: "UNSUBSCRIBED" } } },
    }));
    const tooMany = await fails(UNSUBSCRIBE, unsubscribeJob(many));
    expect([tooMany.status, tooMany.error.source]).toEqual([
      400,
      { pointer: "/data/attributes/profiles/data" },
    ]);
    const literal = await fails(UNSUBSCRIBE, unsubscribeJob([emailConsent("x@example.com")]));
    expect([literal.status, literal.error.source]).toEqual([
      400,
      { pointer: "/data/attributes/profiles/data/0/attributes/subscriptions/email/marketing/consent" },
    ]);
    expect(emulator.state.profiles.size).toBe(1);
  });
});
