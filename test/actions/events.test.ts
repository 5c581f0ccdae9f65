import { describe, expect, it } from "vitest";
import type { ListOutput } from "../../src/actions/list.js";
import type { BulkResult } from "../../src/ingest/bulk.js";
import { actionsSetup, refused } from "./helpers.js";

interface EventDoc {
  data: { type: string; id: string; attributes: Record<string, unknown> };
  included?: Array<{ type: string; id: string; attributes: Record<string, unknown> }>;
}

function metricName(t: ReturnType<typeof actionsSetup>, metricId: string): unknown {
  return t.emulator.state.metrics.get(metricId)?.attributes.name;
}

function flat(i: number, extra: Record<string, unknown> = {}) {
  return {
    metric: "Placed Order",
    profile: { email: `buyer${i % 7}@example.com` },
    properties: { OrderId: `o-${i}` },
    time: "2026-07-01T12:00:00Z",
    value: 9.5,
    value_currency: "USD",
    unique_id: `order-${i}`,
    ...extra,
  };
}

describe("create-event", () => {
  it("records the event under its metric for the profile, and answers what was accepted", async () => {
    const t = actionsSetup();
    const out = await t.run("create-event", {
      name: "Placed Order",
      profile: { email: "sarah@example.com", first_name: "Sarah" },
      properties: { OrderId: "1234", Items: ["A", "B"] },
      time: "2026-07-01T12:00",
      value: 29.98,
      valueCurrency: "USD",
      uniqueId: "order-1234",
    });
    expect(out).toEqual({ accepted: true, metric: "Placed Order", unique_id: "order-1234" });

    const body = (await t.sent[0]?.clone().json()) as { data: { attributes: Record<string, unknown> } };
    expect(body.data.attributes).toMatchObject({
      time: "2026-07-01T12:00:00Z",
      value: 29.98,
      value_currency: "USD",
      unique_id: "order-1234",
      metric: { data: { type: "metric", attributes: { name: "Placed Order" } } },
      profile: { data: { type: "profile", attributes: { email: "sarah@example.com", first_name: "Sarah" } } },
    });

    const events = [...t.emulator.state.events.values()];
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(metricName(t, event?.metricId ?? "")).toBe("Placed Order");
    expect(event?.attributes.event_properties).toMatchObject({ OrderId: "1234", $value: 29.98 });
    const profile = t.emulator.state.profiles.get(event?.profileId ?? "");
    expect(profile?.attributes).toMatchObject({ email: "sarah@example.com", first_name: "Sarah" });

    // Read back through the other actions.
    const listed = await t.run<ListOutput<{ id: string }>>("list-events", {});
    expect(listed.data.map((e) => e.id)).toEqual([event?.id]);
  });

  it("sends {} properties when none are given, reads a bare email as the profile, and omits absent members", async () => {
    const t = actionsSetup();
    await t.run("create-event", { name: "Viewed Product", profile: "sam@example.com" });
    const body = (await t.sent[0]?.clone().json()) as { data: { attributes: Record<string, unknown> } };
    expect(Object.keys(body.data.attributes).sort()).toEqual(["metric", "profile", "properties"]);
    expect(body.data.attributes.properties).toEqual({});
    expect(body.data.attributes.profile).toEqual({
      data: { type: "profile", attributes: { email: "sam@example.com" } },
    });
    expect(t.emulator.state.events.size).toBe(1);
  });

  it("a request with a unique_id is retried after a server error; one without is not", async () => {
    const draws = [0.1, 0.9, 0.1];
    const t = actionsSetup({
      faults: [{ kind: "500", probability: 0.5, operation: "create_event" }],
      random: () => draws.shift() ?? 0.9,
    });
    await t.run("create-event", { name: "Paid", profile: { email: "a@example.com" }, uniqueId: "p-1" });
    expect(t.sent).toHaveLength(2);
    expect(t.emulator.state.events.size).toBe(1);
    await expect(
      t.run("create-event", { name: "Paid", profile: { email: "a@example.com" } }),
    ).rejects.toThrow(/500/);
    expect(t.sent).toHaveLength(3);
  });

  it("refuses bad input by label before sending anything", async () => {
    const t = actionsSetup();
    const noId = await refused(t.run("create-event", { name: "Paid", profile: { first_name: "Sam" } }));
    expect(noId.message).toMatch(/Event Profile: .*at least one identifier/);

    const phone = await refused(
      t.run("create-event", { name: "Paid", profile: { phone_number: "555-1234" } }),
    );
    expect(phone.message).toMatch(/Event Profile: .*E\.164/);

    const custom = await refused(
      t.run("create-event", { name: "Paid", profile: { email: "a@example.com", Plan: "Gold" } }),
    );
    expect(custom.message).toMatch(/Event Profile: unknown profile attribute "Plan"/);

    const many = await refused(
      t.run("create-event", {
        name: "",
        profile: { email: "a@example.com" },
        valueCurrency: "usd",
        time: "yesterday",
        value: "ten",
      }),
    );
    expect(many.message).toMatch(/Event Name: is required/);
    expect(many.message).toMatch(/Event Value Currency: must be an ISO 4217/);
    expect(many.message).toMatch(/Event Time: "yesterday" is not an ISO 8601/);
    expect(many.message).toMatch(/Event Value: must be a number/);

    const future = await refused(
      t.run("create-event", {
        name: "Paid",
        profile: { email: "a@example.com" },
        time: "2099-01-01T00:00:00Z",
      }),
    );
    expect(future.message).toMatch(/Event Time: .*more than a year ahead/);

    const props = await refused(
      t.run("create-event", { name: "Paid", profile: { email: "a@example.com" }, properties: [1, 2] }),
    );
    expect(props.message).toMatch(/Event Properties: expected an object, received an array/);
    expect(t.sent).toHaveLength(0);
    expect(t.emulator.state.events.size).toBe(0);
  });
});

describe("bulk-create-events", () => {
  it("sends 2,500 events in 3 requests of at most 1,000 and records them all", async () => {
    const t = actionsSetup();
    const events = Array.from({ length: 2500 }, (_, i) => flat(i));
    const out = await t.run<BulkResult>("bulk-create-events", { events });
    expect(out).toMatchObject({
      total: 2500,
      accepted: 2500,
      rejected: [],
      failed: [],
      unsent: [],
      complete: true,
    });
    expect(out.requests.map((r) => [r.from, r.to, r.status])).toEqual([
      [0, 1000, "accepted"],
      [1000, 2000, "accepted"],
      [2000, 2500, "accepted"],
    ]);
    expect(t.sent).toHaveLength(3);
    expect(t.emulator.state.events.size).toBe(2500);
    // Seven distinct buyers: one profile each.
    expect(t.emulator.state.profiles.size).toBe(7);
  });

  it("groups events by profile into Klaviyo's per-profile entries, in input order", async () => {
    const t = actionsSetup();
    const events = [
      flat(0, { profile: { email: "a@example.com" } }),
      flat(1, { profile: { email: "b@example.com" } }),
      flat(2, { profile: { email: "a@example.com" }, metric: "Viewed Product" }),
      // Klaviyo's own entry shape: two more events for b.
      {
        type: "event-bulk-create",
        attributes: {
          profile: { data: { type: "profile", attributes: { email: "b@example.com" } } },
          events: {
            data: [
              {
                type: "event",
                attributes: {
                  properties: { n: 3 },
                  metric: { data: { type: "metric", attributes: { name: "Paid" } } },
                },
              },
              {
                type: "event",
                attributes: {
                  properties: { n: 4 },
                  metric: { data: { type: "metric", attributes: { name: "Paid" } } },
                  unique_id: "x",
                },
              },
            ],
          },
        },
      },
    ];
    const out = await t.run<BulkResult>("bulk-create-events", { events });
    expect(out).toMatchObject({ total: 5, accepted: 5, complete: true });
    expect(t.sent).toHaveLength(1);
    const body = (await t.sent[0]?.clone().json()) as {
      data: {
        type: string;
        attributes: {
          "events-bulk-create": {
            data: Array<{
              attributes: {
                profile: { data: { attributes: Record<string, unknown> } };
                events: { data: Array<{ attributes: { properties: Record<string, unknown> } }> };
              };
            }>;
          };
        };
      };
    };
    expect(body.data.type).toBe("event-bulk-create-job");
    const entries = body.data.attributes["events-bulk-create"].data;
    expect(entries.map((e) => e.attributes.profile.data.attributes.email)).toEqual([
      "a@example.com",
      "b@example.com",
    ]);
    expect(entries.map((e) => e.attributes.events.data.length)).toEqual([2, 3]);
    expect(entries[1]?.attributes.events.data.map((e) => e.attributes.properties)).toEqual([
      { OrderId: "o-1" },
      { n: 3 },
      { n: 4 },
    ]);
    expect(t.emulator.state.profiles.size).toBe(2);
    expect(t.emulator.state.events.size).toBe(5);
  });

  it("a unique_id repeated within one request: that request is rejected with the positions, the others accepted", async () => {
    const t = actionsSetup();
    const events = Array.from({ length: 1200 }, (_, i) => flat(i));
    // Same profile (i % 7), metric and unique_id twice in the second request.
    events[1107] = flat(1107, { unique_id: "dup" });
    events[1114] = flat(1114, { unique_id: "dup" });
    const out = await t.run<BulkResult>("bulk-create-events", { events });
    expect(out.accepted).toBe(1000);
    expect(out.complete).toBe(false);
    expect(out.requests.map((r) => r.status)).toEqual(["accepted", "rejected"]);
    expect(out.requests[1]?.httpStatus).toBe(400);
    expect(out.rejected.map((r) => r.index)).toEqual(Array.from({ length: 200 }, (_, i) => 1000 + i));
    const dup = out.rejected.find((r) => r.index === 1114);
    expect(dup?.reason).toMatch(/unique_id 'dup' is repeated/);
    expect(dup?.reason).toMatch(/\/events\/data\/\d+\/attributes\/unique_id\]/);
    // An event of the rejected request with nothing wrong carries the request's message.
    expect(out.rejected.find((r) => r.index === 1001)?.reason).toMatch(/Klaviyo API 400/);
    expect(t.emulator.state.events.size).toBe(1000);
  });

  it("refuses the whole array, naming each bad event by position, before sending anything", async () => {
    const t = actionsSetup();
    const events = [
      flat(0),
      flat(1, { metric: "" }),
      flat(2, { profile: { first_name: "No id" } }),
      flat(3, { value_currency: "dollars", time: "tomorrow" }),
      flat(4, { profile: undefined }),
      flat(5, { colour: "red" }),
    ];
    const error = await refused(t.run("bulk-create-events", { events }));
    expect(error.message).toMatch(/^Bulk Create Events: Events Array: /);
    expect(error.message).toMatch(/item 1: the metric \(event\) name is required/);
    expect(error.message).toMatch(/item 2: the profile needs at least one identifier/);
    expect(error.message).toMatch(/item 3: value_currency .* ISO 4217/);
    expect(error.message).toMatch(/item 3: the time "tomorrow" is not an ISO 8601/);
    expect(error.message).toMatch(/item 4: the profile is required/);
    expect(error.message).toMatch(/item 5: unknown member "colour"/);
    expect(error.message).not.toMatch(/item 0/);

    const empty = await refused(t.run("bulk-create-events", { events: [] }));
    expect(empty.message).toMatch(/Events Array: must hold at least one event/);
    const text = await refused(t.runText("bulk-create-events", { events: "[{" }));
    expect(text.message).toMatch(/Events Array: is not valid JSON/);
    const notArray = await refused(t.run("bulk-create-events", { events: "[]" }));
    expect(notArray.message).toMatch(/Events Array: expected an array, received a string/);
    expect(t.sent).toHaveLength(0);
    expect(t.emulator.state.events.size).toBe(0);
  });

  it("caps the listed problems of a large array", async () => {
    const t = actionsSetup();
    const events = Array.from({ length: 50 }, (_, i) => flat(i, { metric: "" }));
    const error = await refused(t.run("bulk-create-events", { events }));
    expect(error.message).toMatch(/and 30 more problems/);
    expect(t.sent).toHaveLength(0);
  });
});

describe("get-event and list-events", () => {
  async function seeded() {
    const t = actionsSetup();
    await t.run("bulk-create-events", {
      events: [
        flat(0, { profile: { email: "a@example.com", first_name: "Ann" }, time: "2026-07-01T10:00:00Z" }),
        flat(1, {
          profile: { email: "b@example.com" },
          metric: "Viewed Product",
          time: "2026-07-02T10:00:00Z",
        }),
        flat(2, { profile: { email: "a@example.com", first_name: "Ann" }, time: "2026-07-03T10:00:00Z" }),
      ],
    });
    t.sent.length = 0;
    return t;
  }

  it("get-event returns the event; metric and profile fields include their resources", async () => {
    const t = await seeded();
    const [row] = [...t.emulator.state.events.values()];
    const doc = await t.run<EventDoc>("get-event", {
      eventId: row?.id,
      eventFields: "datetime,event_properties",
      metricFields: ["name"],
      profileFields: "email,first_name",
    });
    expect(doc.data).toMatchObject({ type: "event", id: row?.id });
    expect(Object.keys(doc.data.attributes).sort()).toEqual(["datetime", "event_properties"]);
    const url = new URL(t.sent[0]?.url ?? "");
    expect(url.searchParams.get("include")?.split(",").sort()).toEqual(["metric", "profile"]);
    const metric = doc.included?.find((r) => r.type === "metric");
    expect(metric?.attributes).toEqual({ name: "Placed Order" });
    const profile = doc.included?.find((r) => r.type === "profile");
    expect(profile?.attributes).toEqual({ email: "a@example.com", first_name: "Ann" });
  });

  it("get-event refuses an empty ID and unknown field names before sending", async () => {
    const t = await seeded();
    const noId = await refused(t.run("get-event", { eventId: "  " }));
    expect(noId.message).toMatch(/Event ID: must not be empty/);
    const badFields = await refused(t.run("get-event", { eventId: "abc", profileFields: "subscriptions" }));
    expect(badFields.message).toMatch(/Profile Fields: unknown field "subscriptions"/);
    const badInclude = await refused(t.run("get-event", { eventId: "abc", include: "lists" }));
    expect(badInclude.message).toMatch(/Include: cannot include "lists"/);
    expect(t.sent).toHaveLength(0);
  });

  it("list-events filters, sorts and pages", async () => {
    const t = await seeded();
    const [viewed] = [...t.emulator.state.metrics.values()].filter(
      (m) => m.attributes.name === "Viewed Product",
    );
    const only = await t.run<ListOutput<EventDoc["data"]>>("list-events", {
      filter: `equals(metric_id,'${viewed?.id}')`,
    });
    expect(only.data).toHaveLength(1);

    const newest = await t.run<ListOutput<EventDoc["data"]>>("list-events", {
      sort: "-datetime",
      pageSize: 2,
      eventFields: "datetime",
    });
    expect(newest.data.map((e) => e.attributes.datetime)).toEqual([
      "2026-07-03T10:00:00+00:00",
      "2026-07-02T10:00:00+00:00",
    ]);
    expect(newest.nextCursor).toBeDefined();
    const rest = await t.run<ListOutput<EventDoc["data"]>>("list-events", {
      sort: "-datetime",
      pageSize: 2,
      cursor: newest.nextCursor,
    });
    expect(rest.data).toHaveLength(1);

    const all = await t.run<ListOutput<EventDoc["data"]>>("list-events", {
      limit: 10,
      pageSize: 1,
      profileFields: "email",
    });
    expect(all.data).toHaveLength(3);
    expect(all.pages).toBe(3);
    expect(all.included?.filter((r) => (r as { type: string }).type === "profile")).toHaveLength(2);
  });

  it("list-events refuses a bad filter or sort before sending", async () => {
    const t = await seeded();
    const filter = await refused(t.run("list-events", { filter: "equals(email,'a@example.com')" }));
    expect(filter.message).toMatch(/Filter: is not a valid Klaviyo filter/);
    const sort = await refused(t.run("list-events", { sort: "name" }));
    expect(sort.message).toMatch(/Sort: must be one of/);
    const size = await refused(t.run("list-events", { pageSize: 1001 }));
    expect(size.message).toMatch(/Page Size: must be at most 1000/);
    expect(t.sent).toHaveLength(0);
  });
});
