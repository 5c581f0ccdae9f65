import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createEmulator, type Emulator } from "../../src/emulator/index.js";
import { checkedFetch, expectNoContractProblems, type FetchLike } from "../helpers/contract.js";
import { type KlaviyoErrorEntry, klaviyoHeaders } from "./helpers.js";

const KEY = "pk_bulk_events_test_key";
const ENTRIES = "/data/attributes/events-bulk-create/data";

let em: Emulator;
let fetcher: FetchLike;

beforeEach(() => {
  em = createEmulator({ apiKeys: [{ key: KEY }], rateLimits: "off" });
  fetcher = checkedFetch(em.fetch);
});

afterEach(() => {
  expectNoContractProblems();
});

interface BulkEvent {
  metric?: string;
  unique_id?: string;
  time?: string;
  properties?: Record<string, unknown>;
  value?: number;
}

function event(spec: BulkEvent = {}): unknown {
  return {
    type: "event",
    attributes: {
      properties: spec.properties ?? { ProductID: 1111 },
      ...(spec.time ? { time: spec.time } : {}),
      ...(spec.unique_id ? { unique_id: spec.unique_id } : {}),
      ...(spec.value !== undefined ? { value: spec.value } : {}),
      metric: { data: { type: "metric", attributes: { name: spec.metric ?? "Viewed Product" } } },
    },
  };
}

function entry(
  profile: Record<string, unknown>,
  events: unknown[],
  extra: Record<string, unknown> = {},
): unknown {
  return {
    type: "event-bulk-create",
    attributes: {
      profile: { data: { type: "profile", attributes: profile, ...extra } },
      events: { data: events },
    },
  };
}

function job(entries: unknown[]): unknown {
  return { data: { type: "event-bulk-create-job", attributes: { "events-bulk-create": { data: entries } } } };
}

function post(body: unknown, via: FetchLike = fetcher): Promise<Response> {
  return via(`${em.baseUrl}/api/event-bulk-create-jobs`, {
    method: "POST",
    headers: klaviyoHeaders(KEY, { "Content-Type": "application/vnd.api+json" }),
    body: JSON.stringify(body),
  });
}

async function accepted(body: unknown): Promise<void> {
  const res = await post(body);
  expect(res.status).toBe(202);
  expect(await res.text()).toBe("");
}

async function refused(body: unknown, via: FetchLike = fetcher): Promise<KlaviyoErrorEntry[]> {
  const before = {
    events: em.state.events.size,
    metrics: em.state.metrics.size,
    profiles: em.state.profiles.size,
  };
  const res = await post(body, via);
  expect(res.status).toBe(400);
  expect(res.headers.get("content-type")).toBe("application/vnd.api+json");
  const { errors } = (await res.json()) as { errors: KlaviyoErrorEntry[] };
  // Refused as a whole: nothing of the request was recorded.
  expect({
    events: em.state.events.size,
    metrics: em.state.metrics.size,
    profiles: em.state.profiles.size,
  }).toEqual(before);
  return errors;
}

interface Collection {
  data: Array<{
    id: string;
    attributes: Record<string, unknown>;
    relationships: Record<string, { data: { id: string } }>;
  }>;
  links: { next?: string };
}

async function allEvents(): Promise<Collection["data"]> {
  const res = await fetcher(`${em.baseUrl}/api/events?page[size]=1000`, { headers: klaviyoHeaders(KEY) });
  expect(res.status).toBe(200);
  return ((await res.json()) as Collection).data;
}

describe("POST /api/event-bulk-create-jobs", () => {
  it("records every event of every profile, creating profiles and metrics as Create Event does", async () => {
    await accepted(
      job([
        entry({ email: "sarah@example.com", first_name: "Sarah" }, [
          event({ unique_id: "s1", time: "2026-07-20T12:00:00Z", value: 9.99 }),
          event({ unique_id: "s2", metric: "Added to Cart", time: "2026-07-20T12:05:00Z" }),
        ]),
        entry({ phone_number: "+15005550006" }, [event({ unique_id: "p1", time: "2026-07-21T08:00:00Z" })]),
      ]),
    );
    const events = await allEvents();
    expect(events.map((e) => (e.attributes.event_properties as { $event_id: string }).$event_id)).toEqual([
      "s1",
      "s2",
      "p1",
    ]);
    expect(events[0]?.attributes.event_properties).toEqual({
      ProductID: 1111,
      $event_id: "s1",
      $value: 9.99,
    });
    const profiles = [...em.state.profiles.values()];
    expect(
      profiles.map((p) => [p.attributes.email, p.attributes.phone_number, p.attributes.first_name]),
    ).toEqual([
      ["sarah@example.com", null, "Sarah"],
      [null, "+15005550006", null],
    ]);
    expect(profiles[0]?.attributes.last_event_date).toBe("2026-07-20T12:05:00+00:00");
    expect(events.map((e) => e.relationships.profile?.data.id)).toEqual([
      profiles[0]?.id,
      profiles[0]?.id,
      profiles[1]?.id,
    ]);
    expect([...em.state.metrics.values()].map((m) => m.attributes.name)).toEqual([
      "Viewed Product",
      "Added to Cart",
    ]);
  });

  it("accepts profile meta beside the attributes (not inside, unlike Create Event)", async () => {
    await accepted(
      job([
        entry({ email: "m@example.com", properties: { skus: ["1"] } }, [event({ unique_id: "m" })], {
          meta: { patch_properties: { append: { skus: "2" } } },
        }),
      ]),
    );
    expect([...em.state.profiles.values()][0]?.attributes.properties).toEqual({ skus: ["1", "2"] });
    const inside = job([entry({ email: "n@example.com", meta: {} }, [event({ unique_id: "n" })])]);
    const errors = await refused(inside, checkedFetch(em.fetch, { requests: false }));
    expect(errors.map((e) => e.source.pointer)).toEqual([
      `${ENTRIES}/0/attributes/profile/data/attributes/meta`,
    ]);
  });

  it("refuses the whole request when a unique_id repeats for the same profile and metric, pointing at the repeat", async () => {
    const errors = await refused(
      job([
        entry({ email: "a@example.com" }, [event({ unique_id: "u1" }), event({ unique_id: "u2" })]),
        entry({ email: "b@example.com" }, [event({ unique_id: "u1" })]),
        // The same new profile again (emails match case-insensitively), so u2 repeats for it.
        entry({ email: "A@example.com" }, [event({ unique_id: "u3" }), event({ unique_id: "u2" })]),
      ]),
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]?.code).toBe("invalid");
    expect(errors[0]?.source.pointer).toBe(`${ENTRIES}/2/attributes/events/data/1/attributes/unique_id`);
    expect(errors[0]?.detail).toContain("u2");
    expect(em.state.eventKeys.size).toBe(0);
  });

  it("lets a unique_id repeat across metrics or profiles, and skips ones an earlier request recorded", async () => {
    const body = job([
      entry({ email: "a@example.com" }, [
        event({ unique_id: "x" }),
        event({ unique_id: "x", metric: "Started Checkout" }),
      ]),
      entry({ email: "b@example.com" }, [event({ unique_id: "x" })]),
    ]);
    await accepted(body);
    expect(em.state.events.size).toBe(3);
    // A retried request does not duplicate anything, and a new event in it is still recorded.
    await accepted(body);
    expect(em.state.events.size).toBe(3);
    await accepted(
      job([entry({ email: "a@example.com" }, [event({ unique_id: "x" }), event({ unique_id: "y" })])]),
    );
    expect(em.state.events.size).toBe(4);
    expect(em.state.profiles.size).toBe(2);
  });

  it("takes 1000 events in one request and refuses 1001, pointing at the array", async () => {
    const events = (n: number, prefix: string) =>
      Array.from({ length: n }, (_, i) => event({ unique_id: `${prefix}${i}` }));
    await accepted(
      job([
        entry({ email: "a@example.com" }, events(600, "a")),
        entry({ email: "b@example.com" }, events(400, "b")),
      ]),
    );
    expect(em.state.events.size).toBe(1000);
    const errors = await refused(
      job([
        entry({ email: "c@example.com" }, events(600, "c")),
        entry({ email: "d@example.com" }, events(401, "d")),
      ]),
    );
    expect(errors.map((e) => e.source.pointer)).toEqual([ENTRIES]);
    expect(errors[0]?.detail).toMatch(/1000/);
    expect(em.state.events.size).toBe(1000);
  });

  it("points validation errors at the exact entry and event", async () => {
    const noName = event({ unique_id: "n" }) as { attributes: { metric: { data: { attributes: object } } } };
    noName.attributes.metric.data.attributes = {};
    const errors = await refused(
      job([
        entry({ first_name: "No identifier" }, [event({ unique_id: "ok" })]),
        entry({ email: "fine@example.com" }, [event({ unique_id: "ok" }), noName]),
      ]),
      checkedFetch(em.fetch, { requests: false }),
    );
    expect(errors.map((e) => e.source.pointer)).toEqual([
      `${ENTRIES}/1/attributes/events/data/1/attributes/metric/data/attributes/name`,
    ]);

    const limits = await refused(
      job([
        entry({ first_name: "No identifier" }, [event({ unique_id: "ok" })]),
        entry({ email: "fine@example.com", phone_number: "12345" }, [
          event({ unique_id: "ok" }),
          event({ unique_id: "old", time: "1980-01-01T00:00:00Z" }),
          event({ properties: { items: Array.from({ length: 4001 }, (_, i) => i) } }),
        ]),
      ]),
    );
    expect(limits.map((e) => e.source.pointer)).toEqual([
      `${ENTRIES}/0/attributes/profile/data/attributes`,
      `${ENTRIES}/1/attributes/profile/data/attributes/phone_number`,
      `${ENTRIES}/1/attributes/events/data/1/attributes/time`,
      `${ENTRIES}/1/attributes/events/data/2/attributes/properties/items`,
    ]);
  });

  it("answers 409 for a wrong data.type and 400 for a wrong entry type", async () => {
    const wrong = { data: { type: "event", attributes: { "events-bulk-create": { data: [] } } } };
    const res = await post(wrong, checkedFetch(em.fetch, { requests: false }));
    expect(res.status).toBe(409);
    const body = (await res.json()) as { errors: KlaviyoErrorEntry[] };
    expect(body.errors[0]?.source.pointer).toBe("/data/type");
    const entryType = job([{ ...(entry({ email: "a@example.com" }, [event()]) as object), type: "event" }]);
    const errors = await refused(entryType, checkedFetch(em.fetch, { requests: false }));
    expect(errors.map((e) => e.source.pointer)).toEqual([`${ENTRIES}/0/type`]);
  });
});
