import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { KlaviyoClient } from "../../src/core/client.js";
import { createEmulator, type Emulator } from "../../src/emulator/index.js";
import { API_INTEGRATION } from "../../src/emulator/resources/metrics-model.js";
import { checkedFetch, expectNoContractProblems, type FetchLike } from "../helpers/contract.js";
import { type KlaviyoErrorEntry, klaviyoHeaders } from "./helpers.js";

const KEY = "pk_events_test_key";

interface Resource {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  relationships?: Record<string, { data?: unknown; links?: { self: string; related: string } }>;
  links: { self: string };
}
interface Collection {
  data: Resource[];
  included?: Resource[];
  links: { self: string; next?: string; prev?: string };
}

let em: Emulator;
let fetcher: FetchLike;
let lenient: FetchLike;

beforeEach(() => {
  em = createEmulator({ apiKeys: [{ key: KEY }], rateLimits: "off" });
  fetcher = checkedFetch(em.fetch);
  // For bodies the OpenAPI document itself forbids (the point of the test is the refusal).
  lenient = checkedFetch(em.fetch, { requests: false });
});

afterEach(() => {
  vi.useRealTimers();
  expectNoContractProblems();
});

function post(path: string, body: unknown, via: FetchLike = fetcher): Promise<Response> {
  return via(`${em.baseUrl}${path}`, {
    method: "POST",
    headers: klaviyoHeaders(KEY, { "Content-Type": "application/vnd.api+json" }),
    body: JSON.stringify(body),
  });
}

async function getJson<T = Collection>(path: string): Promise<{ status: number; body: T }> {
  const res = await fetcher(`${em.baseUrl}${path}`, { headers: klaviyoHeaders(KEY) });
  return { status: res.status, body: (await res.json()) as T };
}

async function errorsOf(res: Response): Promise<KlaviyoErrorEntry[]> {
  expect(res.headers.get("content-type")).toBe("application/vnd.api+json");
  return ((await res.json()) as { errors: KlaviyoErrorEntry[] }).errors;
}

interface EventSpec {
  metric?: string;
  email?: string;
  profile?: Record<string, unknown>;
  properties?: Record<string, unknown>;
  time?: string;
  value?: number;
  value_currency?: string;
  unique_id?: string;
}

function eventBody(spec: EventSpec = {}): unknown {
  return {
    data: {
      type: "event",
      attributes: {
        properties: spec.properties ?? { OrderId: "1234", Items: ["A", "B"] },
        ...(spec.time ? { time: spec.time } : {}),
        ...(spec.value !== undefined ? { value: spec.value } : {}),
        ...(spec.value_currency ? { value_currency: spec.value_currency } : {}),
        ...(spec.unique_id ? { unique_id: spec.unique_id } : {}),
        metric: { data: { type: "metric", attributes: { name: spec.metric ?? "Placed Order" } } },
        profile: {
          data: { type: "profile", attributes: spec.profile ?? { email: spec.email ?? "sarah@example.com" } },
        },
      },
    },
  };
}

async function createEvent(spec: EventSpec = {}): Promise<void> {
  const res = await post("/api/events", eventBody(spec));
  expect(res.status).toBe(202);
  expect(await res.text()).toBe("");
}

async function events(query = ""): Promise<Collection> {
  const { status, body } = await getJson(`/api/events${query}`);
  expect(status).toBe(200);
  return body;
}

describe("POST /api/events", () => {
  it("records the event under its metric and a profile created from the email, and reads it back", async () => {
    await createEvent({
      time: "2026-07-20T12:00:00Z",
      value: 29.98,
      value_currency: "USD",
      unique_id: "order-1234",
      profile: { email: "sarah@example.com", first_name: "Sarah" },
    });
    const list = await events("?include=metric,profile");
    expect(list.data).toHaveLength(1);
    const [event] = list.data;
    expect(event?.type).toBe("event");
    expect(event?.attributes).toEqual({
      timestamp: Date.UTC(2026, 6, 20, 12) / 1000,
      datetime: "2026-07-20T12:00:00+00:00",
      event_properties: {
        OrderId: "1234",
        Items: ["A", "B"],
        $event_id: "order-1234",
        $value: 29.98,
        $value_currency: "USD",
      },
      uuid: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
    });
    // The request log holds what was sent, for a test to assert.
    const sent = em.requests.find((r) => r.operationId === "create_event");
    expect(sent?.body).toMatchObject({
      data: { type: "event", attributes: { value_currency: "USD", value: 29.98 } },
    });
    expect(sent?.bodyBytes).toBeGreaterThan(100);
    expect(em.requests.find((r) => r.operationId === "get_events")).not.toHaveProperty("body");
    expect(event?.links.self).toBe(`${em.baseUrl}/api/events/${event?.id}/`);

    const metric = list.included?.find((r) => r.type === "metric");
    const profile = list.included?.find((r) => r.type === "profile");
    expect(metric?.attributes).toMatchObject({ name: "Placed Order", integration: API_INTEGRATION });
    expect(profile?.attributes).toMatchObject({
      email: "sarah@example.com",
      first_name: "Sarah",
      last_event_date: "2026-07-20T12:00:00+00:00",
    });
    expect(event?.relationships?.metric).toEqual({
      data: { type: "metric", id: metric?.id },
      links: {
        self: `${em.baseUrl}/api/events/${event?.id}/relationships/metric/`,
        related: `${em.baseUrl}/api/events/${event?.id}/metric/`,
      },
    });
    expect(event?.relationships?.profile?.data).toEqual({ type: "profile", id: profile?.id });
    // The state agrees: one profile, made from the email, one metric.
    expect([...em.state.profiles.values()].map((p) => p.attributes.email)).toEqual(["sarah@example.com"]);
    expect(em.state.metrics.size).toBe(1);
  });

  it("uses the receipt time, to the second, when no time is given", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-03-04T05:06:07.890Z"));
    await createEvent();
    const [event] = (await events()).data;
    expect(event?.attributes.datetime).toBe("2026-03-04T05:06:07+00:00");
    expect(event?.attributes.timestamp).toBe(Date.UTC(2026, 2, 4, 5, 6, 7) / 1000);
  });

  it("creates one metric per name, and Get Metric / Get Metrics show it with the API integration", async () => {
    await createEvent({ metric: "Viewed Product", unique_id: "a" });
    await createEvent({ metric: "Viewed Product", unique_id: "b" });
    await createEvent({ metric: "Placed Order", unique_id: "c" });
    const { body } = await getJson("/api/metrics");
    expect(body.data.map((m) => m.attributes.name)).toEqual(["Viewed Product", "Placed Order"]);
    const viewed = body.data[0] as Resource;
    expect(viewed.attributes.integration).toEqual(API_INTEGRATION);
    expect(viewed.attributes.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    expect(viewed.relationships?.["flow-triggers"]?.links?.related).toBe(
      `${em.baseUrl}/api/metrics/${viewed.id}/flow-triggers/`,
    );

    const one = await getJson<{ data: Resource }>(`/api/metrics/${viewed.id}`);
    expect(one.status).toBe(200);
    expect(one.body.data).toEqual(viewed);
    // No flows in the emulator: include=flow-triggers gives an empty linkage and nothing included.
    const withFlows = await getJson<{ data: Resource; included: unknown[] }>(
      `/api/metrics/${viewed.id}?include=flow-triggers`,
    );
    expect(withFlows.body.data.relationships?.["flow-triggers"]?.data).toEqual([]);
    expect(withFlows.body.included).toEqual([]);
    const byMetric = await events(`?filter=${encodeURIComponent(`equals(metric_id,'${viewed.id}')`)}`);
    expect(byMetric.data.map((e) => e.attributes.event_properties)).toMatchObject([
      { $event_id: "a" },
      { $event_id: "b" },
    ]);

    const missing = await fetcher(`${em.baseUrl}/api/metrics/NoSuch`, { headers: klaviyoHeaders(KEY) });
    expect(missing.status).toBe(404);
    expect((await errorsOf(missing))[0]?.detail).toContain("NoSuch");
  });

  it("filters metrics by integration name and category", async () => {
    await createEvent({ metric: "Viewed Product" });
    const api = await getJson(`/api/metrics?filter=${encodeURIComponent("equals(integration.name,'API')")}`);
    expect(api.body.data.map((m) => m.attributes.name)).toEqual(["Viewed Product"]);
    const shopify = await getJson(
      `/api/metrics?filter=${encodeURIComponent("equals(integration.category,'Shopify')")}`,
    );
    expect(shopify.body.data).toEqual([]);
  });

  it("records a repeated unique_id for the same profile and metric only once, and still answers 202", async () => {
    await createEvent({ unique_id: "order-1", properties: { n: 1 } });
    await createEvent({ unique_id: "order-1", properties: { n: 2 } });
    // The same unique_id for another profile, or another metric, is another event.
    await createEvent({ unique_id: "order-1", email: "other@example.com", properties: { n: 3 } });
    await createEvent({ unique_id: "order-1", metric: "Refunded Order", properties: { n: 4 } });
    const list = await events();
    expect(list.data.map((e) => (e.attributes.event_properties as { n: number }).n)).toEqual([1, 3, 4]);
    expect(em.state.eventKeys.size).toBe(3);
  });

  it("without a unique_id keeps one event per profile and metric per second, as Klaviyo's default does", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-05-01T10:00:00.100Z"));
    await createEvent({ properties: { n: 1 } });
    vi.setSystemTime(new Date("2026-05-01T10:00:00.900Z"));
    await createEvent({ properties: { n: 2 } });
    vi.setSystemTime(new Date("2026-05-01T10:00:01.000Z"));
    await createEvent({ properties: { n: 3 } });
    const list = await events();
    expect(list.data.map((e) => e.attributes.event_properties)).toEqual([
      { n: 1, $event_id: String(Date.UTC(2026, 4, 1, 10) / 1000) },
      { n: 3, $event_id: String(Date.UTC(2026, 4, 1, 10, 0, 1) / 1000) },
    ]);
  });

  it("finds an existing profile by its identifiers, updates it, and keeps last_event_date at the newest event", async () => {
    await createEvent({
      unique_id: "1",
      time: "2026-06-01T00:00:00Z",
      profile: { email: "sam@example.com" },
    });
    await createEvent({
      unique_id: "2",
      time: "2026-05-01T00:00:00Z",
      profile: {
        email: "sam@example.com",
        first_name: "Sam",
        phone_number: "+15005550006",
        properties: { tier: "gold" },
        meta: { patch_properties: { append: { skus: "92538" } } },
      },
    });
    expect(em.state.profiles.size).toBe(1);
    const [profile] = [...em.state.profiles.values()];
    expect(profile?.attributes).toMatchObject({
      email: "sam@example.com",
      first_name: "Sam",
      phone_number: "+15005550006",
      properties: { tier: "gold", skus: ["92538"] },
      last_event_date: "2026-06-01T00:00:00+00:00",
    });
    // Found by the phone number now, and by external id via data.id.
    await createEvent({ unique_id: "3", profile: { phone_number: "+15005550006" } });
    const byId = {
      data: {
        type: "event",
        attributes: {
          properties: {},
          unique_id: "4",
          metric: { data: { type: "metric", attributes: { name: "Placed Order" } } },
          profile: { data: { type: "profile", id: profile?.id, attributes: {} } },
        },
      },
    };
    expect((await post("/api/events", byId)).status).toBe(202);
    expect(em.state.profiles.size).toBe(1);
    const list = await events(`?filter=${encodeURIComponent(`equals(profile_id,'${profile?.id}')`)}`);
    expect(list.data).toHaveLength(4);
  });
});

describe("GET /api/events and /api/events/{id}", () => {
  async function seed(): Promise<void> {
    await createEvent({ metric: "Placed Order", time: "2025-12-31T23:59:59Z", unique_id: "old" });
    await createEvent({ metric: "Viewed Product", time: "2026-02-01T00:00:00Z", unique_id: "feb" });
    await createEvent({
      metric: "Placed Order",
      time: "2026-01-01T00:00:00Z",
      unique_id: "jan",
      email: "b@example.com",
    });
    await createEvent({ metric: "Placed Order", time: "2026-03-01T00:00:00+02:00", unique_id: "mar" });
  }
  const ids = (c: Collection) =>
    c.data.map((e) => (e.attributes.event_properties as { $event_id: string }).$event_id);

  it("filters by metric_id, datetime, timestamp, profile_id and has(profile)", async () => {
    await seed();
    const placed = [...em.state.metrics.values()].find((m) => m.attributes.name === "Placed Order");
    const q = (f: string) => events(`?filter=${encodeURIComponent(f)}`);
    expect(ids(await q(`equals(metric_id,'${placed?.id}')`))).toEqual(["old", "jan", "mar"]);
    expect(ids(await q("greater-or-equal(datetime,2026-01-01T00:00:00Z)"))).toEqual(["feb", "jan", "mar"]);
    expect(ids(await q("less-than(datetime,2026-01-01T00:00:00Z)"))).toEqual(["old"]);
    expect(ids(await q(`greater-than(timestamp,${Date.UTC(2026, 1, 1) / 1000})`))).toEqual(["mar"]);
    expect(ids(await q("has(profile)"))).toHaveLength(4);
    expect(ids(await q("has(metric)"))).toHaveLength(4);
    const b = [...em.state.profiles.values()].find((p) => p.attributes.email === "b@example.com");
    expect(ids(await q(`equals(profile_id,'${b?.id}')`))).toEqual(["jan"]);
    expect(
      ids(await q(`and(equals(metric_id,'${placed?.id}'),greater-or-equal(datetime,2026-01-01T00:00:00Z))`)),
    ).toEqual(["jan", "mar"]);
  });

  it("refuses a filter the endpoint does not take, naming the parameter", async () => {
    const res = await fetcher(`${em.baseUrl}/api/events?filter=${encodeURIComponent("equals(uuid,'x')")}`, {
      headers: klaviyoHeaders(KEY),
    });
    expect(res.status).toBe(400);
    expect((await errorsOf(res))[0]?.source).toEqual({ parameter: "filter" });
  });

  it("sorts by datetime and timestamp, both directions", async () => {
    await seed();
    expect(ids(await events("?sort=datetime"))).toEqual(["old", "jan", "feb", "mar"]);
    expect(ids(await events("?sort=-datetime"))).toEqual(["mar", "feb", "jan", "old"]);
    expect(ids(await events("?sort=-timestamp"))).toEqual(["mar", "feb", "jan", "old"]);
  });

  it("pages with page[size], following links.next to the end, and refuses sizes out of 1..1000", async () => {
    for (let i = 0; i < 7; i++)
      await createEvent({ unique_id: `e${i}`, time: `2026-01-0${i + 1}T00:00:00Z` });
    const seen: string[] = [];
    let url: string | undefined = `${em.baseUrl}/api/events?sort=-datetime&page[size]=3`;
    const sizes: number[] = [];
    while (url) {
      const res = await fetcher(url, { headers: klaviyoHeaders(KEY) });
      const page = (await res.json()) as Collection;
      sizes.push(page.data.length);
      seen.push(...ids(page));
      url = page.links.next;
    }
    expect(sizes).toEqual([3, 3, 1]);
    expect(seen).toEqual(["e6", "e5", "e4", "e3", "e2", "e1", "e0"]);

    // The connector's own pager walks it too, with the endpoint's maximum page size.
    const client = new KlaviyoClient({
      apiKey: KEY,
      baseUrl: em.baseUrl,
      fetch: fetcher,
      rateLimiter: false,
    });
    const all: string[] = [];
    for await (const page of client.paginate<Resource>({ method: "GET", path: "/api/events", pageSize: 2 })) {
      all.push(...page.data.map((e) => e.id));
    }
    expect(all).toHaveLength(7);
    expect(new Set(all).size).toBe(7);

    for (const size of ["0", "1001"]) {
      const res = await lenient(`${em.baseUrl}/api/events?page[size]=${size}`, {
        headers: klaviyoHeaders(KEY),
      });
      expect(res.status).toBe(400);
      expect((await errorsOf(res))[0]?.source).toEqual({ parameter: "page[size]" });
    }
  });

  it("serves 200 events a page by default", async () => {
    const profiles = Array.from({ length: 201 }, (_, i) => ({ email: `p${i}@example.com` }));
    for (const profile of profiles) await createEvent({ profile, unique_id: "x" });
    const first = await events();
    expect(first.data).toHaveLength(200);
    expect(first.links.next).toBeDefined();
  });

  it("Get Event returns one event with its metric and profile included, and 404 for an unknown id", async () => {
    await createEvent({
      unique_id: "solo",
      time: "2026-07-01T08:30:00Z",
      profile: { email: "solo@example.com" },
    });
    const [row] = [...em.state.events.values()];
    const { status, body } = await getJson<{ data: Resource; included: Resource[]; links: { self: string } }>(
      `/api/events/${row?.id}?include=metric,profile`,
    );
    expect(status).toBe(200);
    expect(body.data.id).toBe(row?.id);
    expect(body.data.attributes.datetime).toBe("2026-07-01T08:30:00+00:00");
    expect(body.included.map((r) => r.type).sort()).toEqual(["metric", "profile"]);
    const profile = body.included.find((r) => r.type === "profile");
    expect(profile?.id).toBe(row?.profileId);
    expect(profile?.attributes.email).toBe("solo@example.com");
    expect(profile?.links.self).toBe(`${em.baseUrl}/api/profiles/${row?.profileId}/`);

    const sparse = await getJson<{ data: Resource; included: Resource[] }>(
      `/api/events/${row?.id}?fields[event]=datetime&include=metric&fields[metric]=name`,
    );
    expect(sparse.body.data.attributes).toEqual({ datetime: "2026-07-01T08:30:00+00:00" });
    expect(sparse.body.included[0]?.attributes).toEqual({ name: "Placed Order" });

    const missing = await fetcher(`${em.baseUrl}/api/events/01NOPE`, { headers: klaviyoHeaders(KEY) });
    expect(missing.status).toBe(404);
    const [error] = await errorsOf(missing);
    expect(error?.code).toBe("not_found");
    expect(error?.detail).toContain("01NOPE");
  });
});

describe("POST /api/events refusals (nothing is recorded)", () => {
  async function refused(
    body: unknown,
    status = 400,
    via: FetchLike = lenient,
  ): Promise<KlaviyoErrorEntry[]> {
    const res = await post("/api/events", body, via);
    expect(res.status).toBe(status);
    const errors = await errorsOf(res);
    expect(em.state.events.size).toBe(0);
    expect(em.state.metrics.size).toBe(0);
    expect(em.state.profiles.size).toBe(0);
    return errors;
  }
  const pointers = (errors: KlaviyoErrorEntry[]) => errors.map((e) => e.source.pointer);
  type Body = { data: { type: string; attributes: Record<string, unknown> } };
  const mutate = (change: (attributes: Record<string, unknown>) => void): Body => {
    const body = eventBody() as Body;
    change(body.data.attributes);
    return body;
  };

  it("requires properties, the metric name and a profile identifier", async () => {
    expect(
      pointers(
        await refused(
          mutate((a) => {
            delete a.properties;
          }),
        ),
      ),
    ).toEqual(["/data/attributes/properties"]);
    expect(
      pointers(
        await refused(mutate((a) => ((a.metric as { data: { attributes: object } }).data.attributes = {}))),
      ),
    ).toEqual(["/data/attributes/metric/data/attributes/name"]);
    const none = await refused(eventBody({ profile: { first_name: "No identifier" } }), 400, fetcher);
    expect(pointers(none)).toEqual(["/data/attributes/profile/data/attributes"]);
    expect(none[0]?.detail).toMatch(/identifier/);
  });

  it("checks phone numbers (E.164), emails, currency codes and datetimes, pointing at each", async () => {
    const errors = await refused(
      eventBody({
        value_currency: "usd",
        time: "yesterday",
        profile: { phone_number: "555-0100", email: "nope" },
      }),
    );
    expect(pointers(errors).sort()).toEqual(
      ["/data/attributes/time", "/data/attributes/value_currency"].sort(),
    );
    const profileErrors = await refused(
      eventBody({ profile: { phone_number: "555-0100", email: "nope" } }),
      400,
      fetcher,
    );
    expect(pointers(profileErrors).sort()).toEqual([
      "/data/attributes/profile/data/attributes/email",
      "/data/attributes/profile/data/attributes/phone_number",
    ]);
  });

  it("refuses unknown members where they are, and meta beside a Create Event profile's attributes", async () => {
    expect(pointers(await refused(mutate((a) => (a.name = "x"))))).toEqual(["/data/attributes/name"]);
    const body = eventBody() as { data: { attributes: { profile: { data: Record<string, unknown> } } } };
    body.data.attributes.profile.data.meta = { patch_properties: {} };
    expect(pointers(await refused(body))).toEqual(["/data/attributes/profile/data/meta"]);
  });

  it("answers 409 for a wrong data.type", async () => {
    const body = eventBody() as { data: { type: string } };
    body.data.type = "profile";
    expect(pointers(await refused(body, 409))).toEqual(["/data/type"]);
  });

  it("enforces the ingestion limits: 400 properties, 100 KB strings, 10 levels, 4000 items, time range", async () => {
    const many = Object.fromEntries(Array.from({ length: 401 }, (_, i) => [`p${i}`, i]));
    expect(pointers(await refused(eventBody({ properties: many }), 400, fetcher))).toEqual([
      "/data/attributes/properties",
    ]);
    const fine = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`p${i}`, i]));
    await createEvent({ properties: fine, unique_id: "fine" });
    em.reset();

    const big = "x".repeat(100_001);
    expect(pointers(await refused(eventBody({ properties: { a: { b: big } } }), 400, fetcher))).toEqual([
      "/data/attributes/properties/a/b",
    ]);
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 10; i++) deep = { [`l${10 - i}`]: deep };
    // properties (1) > l1 (2) > … > l10 (11): one level too many.
    expect(pointers(await refused(eventBody({ properties: deep }), 400, fetcher))).toEqual([
      "/data/attributes/properties/l1/l2/l3/l4/l5/l6/l7/l8/l9/l10",
    ]);
    expect(
      pointers(
        await refused(
          eventBody({ properties: { items: Array.from({ length: 4001 }, () => 1) } }),
          400,
          fetcher,
        ),
      ),
    ).toEqual(["/data/attributes/properties/items"]);
    expect(pointers(await refused(eventBody({ time: "1985-01-01T00:00:00Z" }), 400, fetcher))).toEqual([
      "/data/attributes/time",
    ]);
    const future = new Date(Date.now() + 400 * 24 * 3600 * 1000).toISOString();
    const [tooLate] = await refused(eventBody({ time: future }), 400, fetcher);
    expect(tooLate?.source.pointer).toBe("/data/attributes/time");
    expect(tooLate?.detail).toMatch(/1 year/);
  });
});
