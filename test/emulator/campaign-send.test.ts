/**
 * The emulator's campaign sends and metric aggregates over raw HTTP (every answer held to Klaviyo's OpenAPI
 * document): the job's statuses over time and the campaign's with it, SMS and segment audiences, a send with no
 * one to reach, Klaviyo's errors; aggregates' required range, time zones and dimensions, and a property: the
 * buckets of any events in any of several time zones are the local days, weeks and months an independent
 * reading (Intl's own formatting) gives them.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createEmulator, DEV_API_KEY, type Emulator } from "../../src/emulator/index.js";
import { setSendTiming, settleSendJobs } from "../../src/emulator/resources/campaign-send.js";
import { recordEvent } from "../../src/emulator/resources/events-model.js";
import { addMember } from "../../src/emulator/resources/lists-members.js";
import { insertProfile } from "../../src/emulator/resources/profile-model.js";
import { subscribeEmail, subscribeSms } from "../../src/emulator/resources/subscriptions-model.js";
import { seedList } from "../../src/emulator/seed.js";
import { checkedFetch } from "../helpers/contract.js";
import { klaviyoHeaders, onlyError } from "./helpers.js";

const ctx = { stamp: "2026-01-01T00:00:00+00:00", customSource: null };

function setup() {
  const emulator = createEmulator({ rateLimits: "off" });
  const fetch = checkedFetch(emulator.fetch);
  // Malformed requests on purpose go through `raw`: only the answers are held to the document.
  const unchecked = checkedFetch(emulator.fetch, { requests: false });
  const request = (f: typeof fetch) => async (method: string, path: string, body?: unknown) => {
    const res = await f(`${emulator.baseUrl}${path}`, {
      method,
      headers: klaviyoHeaders(DEV_API_KEY, { "Content-Type": "application/vnd.api+json" }),
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return res;
  };
  const call = request(fetch);
  const raw = request(unchecked);
  const json = async (method: string, path: string, body?: unknown) => {
    const res = await call(method, path, body);
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    // biome-ignore lint/suspicious/noExplicitAny: JSON answers, read loosely in assertions
    return res.status === 204 ? undefined : ((await res.json()) as { data: any });
  };
  return { emulator, state: emulator.state, call, raw, json };
}

type T = ReturnType<typeof setup>;

async function campaign(t: T, definition: Record<string, unknown>, included: string[]) {
  const doc = await t.json("POST", "/api/campaigns", {
    data: {
      type: "campaign",
      attributes: {
        name: "Weekend",
        audiences: { included },
        "campaign-messages": { data: [{ type: "campaign-message", attributes: { definition } }] },
      },
    },
  });
  return {
    id: doc?.data.id as string,
    messageId: doc?.data.relationships["campaign-messages"].data[0].id as string,
  };
}

async function withTemplate(t: T, included: string[]) {
  const c = await campaign(t, { channel: "email", label: "Weekend", content: { subject: "Hi" } }, included);
  const template = await t.json("POST", "/api/templates", {
    data: { type: "template", attributes: { name: "T", editor_type: "CODE", html: "<p>Hi</p>" } },
  });
  await t.json("POST", "/api/campaign-message-assign-template", {
    data: {
      type: "campaign-message",
      id: c.messageId,
      relationships: { template: { data: { type: "template", id: template?.data.id } } },
    },
  });
  return c;
}

const send = (t: T, id: string) =>
  t.call("POST", "/api/campaign-send-jobs", { data: { type: "campaign-send-job", id } });

describe("campaign send jobs", () => {
  it("moves queued → processing → complete, and the campaign Preparing to send → Sending → Sent", async () => {
    const t = setup();
    setSendTiming(t.state, { queuedMs: 0, processingMs: 60_000 });
    const list = seedList(t.state, "L");
    const p = insertProfile(t.state, { email: "a@example.com" });
    addMember(t.state, list, p.id);
    const c = await withTemplate(t, [list]);
    const res = await send(t, c.id);
    expect(res.status).toBe(202);
    expect(((await res.json()) as { data: unknown }).data).toMatchObject({
      type: "campaign-send-job",
      id: c.id,
      attributes: { status: "queued" },
    });
    expect((await t.json("GET", `/api/campaign-send-jobs/${c.id}`))?.data.attributes.status).toBe(
      "processing",
    );
    expect((await t.json("GET", `/api/campaigns/${c.id}`))?.data.attributes.status).toBe("Sending");
    expect(t.state.events.size).toBe(0);
    settleSendJobs(t.state, Date.now() + 120_000);
    expect((await t.json("GET", `/api/campaign-send-jobs/${c.id}`))?.data.attributes.status).toBe("complete");
    const sent = await t.json("GET", `/api/campaigns/${c.id}?fields[campaign]=status,send_time`);
    expect(sent?.data.attributes.status).toBe("Sent");
    expect(sent?.data.attributes.send_time).toEqual(expect.any(String));
    expect(t.state.events.size).toBe(1);
    // fields[campaign-send-job] is honoured.
    const sparse = await t.json("GET", `/api/campaign-send-jobs/${c.id}?fields[campaign-send-job]=status`);
    expect(sparse?.data.attributes).toEqual({ status: "complete" });
  });

  it("an SMS campaign reaches only profiles with a number and SMS consent, as Received SMS", async () => {
    const t = setup();
    setSendTiming(t.state, { queuedMs: 0, processingMs: 0 });
    const list = seedList(t.state, "Texts");
    const yes = insertProfile(t.state, { phone_number: "+15005550006" });
    subscribeSms(yes, "marketing", ctx, null);
    const emailOnly = insertProfile(t.state, { email: "e@example.com" });
    subscribeEmail(emailOnly, ctx, null);
    const noConsent = insertProfile(t.state, { phone_number: "+15005550007" });
    for (const p of [yes, emailOnly, noConsent]) addMember(t.state, list, p.id);
    const c = await campaign(t, { channel: "sms", content: { body: "Sale today" } }, [list]);
    expect((await send(t, c.id)).status).toBe(202);
    await t.json("GET", `/api/campaign-send-jobs/${c.id}`);
    const events = [...t.state.events.values()];
    expect(events.map((e) => e.profileId)).toEqual([yes.id]);
    expect(t.state.metrics.get(events[0]?.metricId ?? "")?.attributes.name).toBe("Received SMS");
  });

  it("a segment audience: its members now receive the campaign", async () => {
    const t = setup();
    setSendTiming(t.state, { queuedMs: 0, processingMs: 0 });
    const gold = insertProfile(t.state, { email: "gold@example.com", properties: { plan: "gold" } });
    insertProfile(t.state, { email: "free@example.com", properties: { plan: "free" } });
    const segment = await t.json("POST", "/api/segments", {
      data: {
        type: "segment",
        attributes: {
          name: "Gold",
          definition: {
            condition_groups: [
              {
                conditions: [
                  {
                    type: "profile-property",
                    property: "properties['plan']",
                    filter: { type: "string", operator: "equals", value: "gold" },
                  },
                ],
              },
            ],
          },
        },
      },
    });
    const c = await withTemplate(t, [segment?.data.id]);
    await send(t, c.id);
    await t.json("GET", `/api/campaign-send-jobs/${c.id}`);
    expect([...t.state.events.values()].map((e) => e.profileId)).toEqual([gold.id]);
  });

  it("with no one to reach, the campaign ends Cancelled: No Recipients and records nothing", async () => {
    const t = setup();
    setSendTiming(t.state, { queuedMs: 0, processingMs: 0 });
    const c = await withTemplate(t, [seedList(t.state, "Empty")]);
    await send(t, c.id);
    expect((await t.json("GET", `/api/campaigns/${c.id}`))?.data.attributes.status).toBe(
      "Cancelled: No Recipients",
    );
    expect(t.state.events.size).toBe(0);
    expect(t.state.metrics.size).toBe(0);
  });

  it("answers Klaviyo's errors: wrong type 409, a body id that is not the path's 400, an unknown action 400", async () => {
    const t = setup();
    setSendTiming(t.state, { queuedMs: 60_000, processingMs: 0 });
    const wrongType = await t.raw("POST", "/api/campaign-send-jobs", {
      data: { type: "campaign", id: "X" },
    });
    expect(wrongType.status).toBe(409);
    const c = await withTemplate(t, [seedList(t.state, "L")]);
    await send(t, c.id);
    const mismatch = await t.call("PATCH", `/api/campaign-send-jobs/${c.id}`, {
      data: { type: "campaign-send-job", id: "other", attributes: { action: "cancel" } },
    });
    expect((await onlyError(mismatch)).source.pointer).toBe("/data/id");
    const action = await t.raw("PATCH", `/api/campaign-send-jobs/${c.id}`, {
      data: { type: "campaign-send-job", id: c.id, attributes: { action: "pause" } },
    });
    expect(action.status).toBe(400);
    const again = await send(t, c.id);
    const error = await onlyError(again);
    expect(error).toMatchObject({ status: 400, code: "invalid", source: { pointer: "/data/id" } });
    expect(error.detail).toMatch(/only a campaign in Draft can be sent/);
    const assign = await t.call("POST", "/api/campaign-message-assign-template", {
      data: {
        type: "campaign-message",
        id: c.messageId,
        relationships: {
          template: { data: { type: "template", id: [...t.state.templates.values()][0]?.id } },
        },
      },
    });
    expect((await onlyError(assign)).detail).toMatch(/only a Draft campaign's messages can be changed/);
    const cancelled = await t.call("PATCH", `/api/campaign-send-jobs/${c.id}`, {
      data: { type: "campaign-send-job", id: c.id, attributes: { action: "cancel" } },
    });
    expect(cancelled.status).toBe(204);
  });
});

function withMetric(
  emulator: Emulator,
  times: readonly number[],
  values: readonly number[] = [],
  currencies: readonly string[] = [],
) {
  const state = emulator.state;
  const profiles = [
    insertProfile(state, { email: "x@example.com" }),
    insertProfile(state, { email: "y@example.com" }),
  ];
  times.forEach((ms, i) => {
    const profile = profiles[i % 2] as (typeof profiles)[number];
    recordEvent(
      state,
      profile,
      {
        properties: { Source: i % 3 === 0 ? "web" : "app" },
        time: new Date(ms).toISOString(),
        unique_id: `e${i}`,
        ...(values[i] !== undefined ? { value: values[i] } : {}),
        ...(currencies[i] !== undefined ? { value_currency: currencies[i] } : {}),
        metric: { data: { type: "metric", attributes: { name: "Placed Order" } } },
      } as Parameters<typeof recordEvent>[2],
      ms,
    );
  });
  return [...state.metrics.values()][0]?.id ?? "";
}

const aggregateBody = (attributes: Record<string, unknown>) => ({
  data: { type: "metric-aggregate", attributes },
});

/** The local calendar parts of an instant in a zone, as Intl formats them (the oracle). */
function local(zone: string, ms: number) {
  const parts: Record<string, string> = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      weekday: "short",
    })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    time: `${parts.hour}:${parts.minute}`,
    minute: parts.minute,
    weekday: parts.weekday,
    day: parts.day,
  };
}

describe("Query Metric Aggregates", () => {
  it("refuses a query without its datetime range, a bad time zone, a dimension it cannot compute", async () => {
    const t = setup();
    const metricId = withMetric(t.emulator, [Date.parse("2026-03-01T12:00:00Z")]);
    const base = { metric_id: metricId, measurements: ["count"] };
    const noRange = await t.call("POST", "/api/metric-aggregates", aggregateBody({ ...base, filter: [] }));
    expect((await onlyError(noRange)).source.pointer).toBe("/data/attributes/filter");
    const range = [
      "greater-or-equal(datetime,2026-03-01T00:00:00)",
      "less-than(datetime,2026-03-02T00:00:00)",
    ];
    for (const timezone of ["america/new_york", "Europe/Kyiv", "Mars/Olympus"]) {
      const res = await t.call(
        "POST",
        "/api/metric-aggregates",
        aggregateBody({ ...base, filter: range, timezone }),
      );
      expect((await onlyError(res)).source.pointer).toBe("/data/attributes/timezone");
    }
    const by = await t.call(
      "POST",
      "/api/metric-aggregates",
      aggregateBody({ ...base, filter: range, by: ["Client Name"] }),
    );
    expect((await onlyError(by)).source.pointer).toBe("/data/attributes/by/0");
    const unknown = await t.call(
      "POST",
      "/api/metric-aggregates",
      aggregateBody({ ...base, metric_id: "NoSuch", filter: range }),
    );
    expect(unknown.status).toBe(404);
    const ok = await t.json(
      "POST",
      "/api/metric-aggregates",
      aggregateBody({ ...base, filter: range, timezone: "US/Eastern" }),
    );
    // Bounds without an offset are New York's wall-clock times: one day, from 05:00 UTC, holding the event.
    expect(ok?.data.attributes.dates).toEqual(["2026-03-01T05:00:00+00:00"]);
    expect(ok?.data.attributes.data).toEqual([{ dimensions: [], measurements: { count: [1] } }]);
    const utc = await t.json(
      "POST",
      "/api/metric-aggregates",
      aggregateBody({
        ...base,
        timezone: "America/New_York",
        filter: [
          "greater-or-equal(datetime,2026-03-01T00:00:00+00:00)",
          "less-than(datetime,2026-03-02T00:00:00Z)",
        ],
      }),
    );
    // With offsets, the range starts at 00:00 UTC, inside New York's 28 February (from 05:00 UTC that day).
    expect(utc?.data.attributes.dates).toEqual(["2026-02-28T05:00:00+00:00", "2026-03-01T05:00:00+00:00"]);
    expect(utc?.data.attributes.data).toEqual([{ dimensions: [], measurements: { count: [0, 1] } }]);
  });

  it("sums values, counts unique profiles, groups and sorts by a dimension, filters on one", async () => {
    const t = setup();
    const day = Date.parse("2026-03-01T10:00:00Z");
    const metricId = withMetric(
      t.emulator,
      [day, day + 1000, day + 2000, day + 3000],
      [10, 2.5, 1, 4],
      ["USD", "USD", "USD"],
    );
    const range = [
      "greater-or-equal(datetime,2026-03-01T00:00:00Z)",
      "less-than(datetime,2026-03-02T00:00:00Z)",
    ];
    const query = (extra: Record<string, unknown>) =>
      t.json(
        "POST",
        "/api/metric-aggregates",
        aggregateBody({
          metric_id: metricId,
          measurements: ["count", "sum_value", "unique"],
          filter: range,
          ...extra,
        }),
      );
    const grouped = await query({ by: ["$value_currency"], sort: "-count" });
    expect(grouped?.data.attributes.data).toEqual([
      { dimensions: ["USD"], measurements: { count: [3], sum_value: [13.5], unique: [2] } },
      { dimensions: [""], measurements: { count: [1], sum_value: [4], unique: [1] } },
    ]);
    const ascending = await query({ by: ["$value_currency"], sort: "sum_value" });
    expect(ascending?.data.attributes.data.map((r: { dimensions: string[] }) => r.dimensions)).toEqual([
      [""],
      ["USD"],
    ]);
    const filtered = await query({ filter: [...range, "any($value_currency,['EUR','USD'])"] });
    expect(filtered?.data.attributes.data).toEqual([
      { dimensions: [], measurements: { count: [3], sum_value: [13.5], unique: [2] } },
    ]);
    const none = await query({ filter: [...range, "equals($value_currency,'EUR')"] });
    expect(none?.data.attributes.data).toEqual([
      { dimensions: [], measurements: { count: [0], sum_value: [0], unique: [0] } },
    ]);
  });

  it("buckets any events into the local hours, days, weeks (from Monday) and months of the time zone", async () => {
    const zones = [
      "UTC",
      "America/New_York",
      "Asia/Kolkata",
      "Australia/Lord_Howe",
      "Pacific/Chatham",
      "Europe/London",
    ];
    const from = Date.parse("2026-03-01T00:00:00Z"); // around the spring DST changes
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...zones),
        fc.constantFrom("hour", "day", "week", "month"),
        fc.array(fc.integer({ min: 0, max: 70 * 86_400_000 }), { minLength: 1, maxLength: 25 }),
        async (zone, interval, offsets) => {
          const t = setup();
          const times = offsets.map((o) => from + o);
          const metricId = withMetric(t.emulator, times);
          const span = interval === "hour" ? 3 * 86_400_000 : 70 * 86_400_000;
          const start = new Date(from).toISOString();
          const end = new Date(from + span).toISOString();
          const doc = await t.json(
            "POST",
            "/api/metric-aggregates",
            aggregateBody({
              metric_id: metricId,
              measurements: ["count"],
              interval,
              timezone: zone,
              filter: [`greater-or-equal(datetime,${start})`, `less-than(datetime,${end})`],
            }),
          );
          const dates: number[] = doc?.data.attributes.dates.map((d: string) => Date.parse(d));
          const counts: number[] = doc?.data.attributes.data[0].measurements.count;
          // Each bucket starts at a local boundary.
          for (const d of dates) {
            const l = local(zone, d);
            if (interval !== "hour") expect(l.time).toBe("00:00");
            else expect(l.minute).toBe("00");
            if (interval === "week") expect(l.weekday).toBe("Mon");
            if (interval === "month") expect(l.day).toBe("01");
          }
          // Each event inside the range is counted once, in the last bucket starting at or before it.
          const inside = times.filter((ms) => ms >= from && ms < from + span);
          const expected = dates.map(() => 0);
          for (const ms of inside) {
            let i = dates.length - 1;
            while (i >= 0 && (dates[i] as number) > ms) i--;
            expected[i] = (expected[i] ?? 0) + 1;
          }
          expect(counts).toEqual(expected);
          // And the bucket is the event's own local day / month (the oracle).
          if (interval === "day" || interval === "month") {
            for (const ms of inside) {
              let i = dates.length - 1;
              while (i >= 0 && (dates[i] as number) > ms) i--;
              const bucket = local(zone, dates[i] as number);
              const event = local(zone, ms);
              expect(interval === "day" ? bucket.date : bucket.date.slice(0, 7)).toBe(
                interval === "day" ? event.date : event.date.slice(0, 7),
              );
            }
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
