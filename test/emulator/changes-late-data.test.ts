/**
 * Late data, as a change feed meets it on Klaviyo, reproduced by the emulator through real HTTP: events recorded
 * with a past or a future `time` (accepted within Klaviyo's bounds, listed under their own `datetime`), and events
 * that reads see only some time after they were recorded (Klaviyo's indexing lag): for every event
 * (`eventVisibilityDelayMs`, an option and a setting of `/__emulator/config`) or for one (`/__emulator/events/…`).
 */
import { describe, expect, it } from "vitest";
import { createEmulator } from "../../src/emulator/index.js";
import { changesHarness, type Harness, klaviyoTime, type Page } from "./changes-harness.js";
import { klaviyoHeaders, onlyError } from "./helpers.js";

const start = changesHarness();
const NOW = "2031-06-01T12:00:00.250Z";
const DAY = 86_400_000;

function eventBody(time: string | undefined, uniqueId: string, email = "late@example.com") {
  return {
    data: {
      type: "event",
      attributes: {
        properties: { uniqueId },
        ...(time ? { time } : {}),
        unique_id: uniqueId,
        metric: { data: { type: "metric", attributes: { name: "Placed Order" } } },
        profile: { data: { type: "profile", attributes: { email } } },
      },
    },
  };
}

async function record(h: Harness, time: string | undefined, uniqueId: string): Promise<void> {
  await h.expectStatus(202, "POST", "/api/events", eventBody(time, uniqueId));
}

/** The `unique_id`s of the events Get Events lists now (within `filter`, when given), by datetime. */
async function listed(h: Harness, filter?: string): Promise<string[]> {
  const pages = await h.walk("/api/events", { sort: "datetime", ...(filter ? { filter } : {}) });
  return pages.flatMap((p) =>
    p.data.map((e) => (e.attributes.event_properties as { uniqueId: string }).uniqueId),
  );
}

interface HiddenEvent {
  id: string;
  datetime: string;
  visible_at: string | null;
  visible: boolean;
}

async function hidden(h: Harness): Promise<HiddenEvent[]> {
  return (await h.expectStatus<{ events: HiddenEvent[] }>(200, "GET", "/__emulator/events/hidden")).events;
}

describe("backdated and future-dated events", () => {
  it("are accepted within Klaviyo's bounds and listed under their own datetime", async () => {
    const h = await start(NOW);
    await record(h, "2020-01-01T08:30:00.900Z", "backdated");
    await record(h, new Date(Date.parse(NOW) + 364 * DAY).toISOString(), "next-year");
    await record(h, undefined, "now");
    expect(await listed(h)).toEqual(["backdated", "now", "next-year"]);
    const backdated = `and(greater-or-equal(datetime,2020-01-01T00:00:00Z),less-than(datetime,2020-01-02T00:00:00Z))`;
    const page = await h.expectStatus<Page>(
      200,
      "GET",
      `/api/events?${new URLSearchParams({ filter: backdated })}`,
    );
    expect(page.data.map((e) => e.attributes.datetime)).toEqual(["2020-01-01T08:30:00+00:00"]);
    // A window ending now leaves the future-dated event out.
    const untilNow = `less-than(datetime,${klaviyoTime(NOW)})`;
    expect(await listed(h, untilNow)).toEqual(["backdated"]);

    // Klaviyo's bounds: after 1990, and at most a year ahead of its own time (here, the emulator's clock).
    for (const [time, id] of [
      [new Date(Date.parse(NOW) + 366 * DAY).toISOString(), "too-far"],
      ["1989-12-31T00:00:00Z", "too-old"],
    ] as const) {
      const res = await fetch(`${h.running.url}/api/events`, {
        method: "POST",
        headers: klaviyoHeaders(undefined, { "Content-Type": "application/vnd.api+json" }),
        body: JSON.stringify(eventBody(time, id)),
      });
      expect([res.status, (await onlyError(res)).source]).toEqual([
        400,
        { pointer: "/data/attributes/time" },
      ]);
    }
  });
});

describe("the indexing lag", () => {
  it("eventVisibilityDelayMs keeps a new event out of Get Events and Get Event until the clock passes it", async () => {
    const h = await start(NOW, { eventVisibilityDelayMs: 60_000 });
    await record(h, "2031-06-01T11:59:00Z", "lagging");
    expect(await listed(h)).toEqual([]);
    const [event] = await hidden(h);
    expect(event).toMatchObject({
      datetime: "2031-06-01T11:59:00+00:00",
      visible_at: "2031-06-01T12:01:00.250Z",
      visible: false,
    });
    const id = event?.id as string;
    await h.expectStatus(404, "GET", `/api/events/${id}`);

    h.clock.advance(59_999);
    expect(await listed(h)).toEqual([]);
    h.clock.advance(1);
    // Found by a read that looks back over its datetime, which is its own time, not when it became visible.
    expect(await listed(h, `greater-or-equal(datetime,2031-06-01T11:59:00Z)`)).toEqual(["lagging"]);
    const read = await h.expectStatus<{ data: { attributes: { datetime: string } } }>(
      200,
      "GET",
      `/api/events/${id}`,
    );
    expect(read.data.attributes.datetime).toBe("2031-06-01T11:59:00+00:00");
    expect(await hidden(h)).toEqual([]);
  });

  it("is set while running through /__emulator/config, for events recorded from then on", async () => {
    const h = await start(NOW);
    await record(h, undefined, "before");
    const config = await h.expectStatus<{ eventVisibilityDelayMs: number }>(
      200,
      "PUT",
      "/__emulator/config",
      {
        eventVisibilityDelayMs: 5_000,
      },
    );
    expect(config.eventVisibilityDelayMs).toBe(5_000);
    expect(
      (await h.expectStatus<{ eventVisibilityDelayMs: number }>(200, "GET", "/__emulator/config"))
        .eventVisibilityDelayMs,
    ).toBe(5_000);
    h.clock.advance(1_000);
    await record(h, undefined, "after");
    expect(await listed(h)).toEqual(["before"]);
    h.clock.advance(5_000);
    expect(await listed(h)).toEqual(["before", "after"]);

    // A bad value is refused and changes nothing.
    for (const bad of [-1, "10", 400 * DAY]) {
      const res = await h.call("PUT", "/__emulator/config", { eventVisibilityDelayMs: bad, latencyMs: 5 });
      expect(res.status).toBe(400);
    }
    expect(await h.expectStatus(200, "GET", "/__emulator/config")).toMatchObject({
      eventVisibilityDelayMs: 5_000,
      latencyMs: 0,
    });
  });

  it("one event made late by hand: held back, listed as hidden, shown again", async () => {
    const h = await start(NOW);
    await record(h, undefined, "first");
    await record(h, "2031-06-01T11:00:00Z", "second");
    // By datetime, the event recorded first comes second.
    const [, recordedFirst] = (await h.walk("/api/events", { sort: "datetime" })).flatMap((p) => p.data);
    if (!recordedFirst) throw new Error("two events expected");
    const id = recordedFirst.id;
    expect((recordedFirst.attributes.event_properties as { uniqueId: string }).uniqueId).toBe("first");

    const held = await h.expectStatus<HiddenEvent>(200, "PUT", `/__emulator/events/${id}/visibility`, {
      delayMs: 30_000,
    });
    expect(held).toMatchObject({ id, visible: false, visible_at: "2031-06-01T12:00:30.250Z" });
    expect(await listed(h)).toEqual(["second"]);
    expect((await hidden(h)).map((e) => e.id)).toEqual([id]);
    h.clock.advance(30_000);
    expect(await listed(h)).toEqual(["second", "first"]);

    await h.expectStatus(200, "PUT", `/__emulator/events/${id}/visibility`, {
      visibleAt: "2031-06-02T00:00:00Z",
    });
    expect(await listed(h)).toEqual(["second"]);
    const shown = await h.expectStatus<HiddenEvent>(200, "PUT", `/__emulator/events/${id}/visibility`, {
      visibleAt: null,
    });
    expect(shown).toMatchObject({ visible: true, visible_at: null });
    expect(await listed(h)).toEqual(["second", "first"]);

    await h.expectStatus(400, "PUT", `/__emulator/events/${id}/visibility`, { visibleAt: null, delayMs: 5 });
    await h.expectStatus(400, "PUT", `/__emulator/events/${id}/visibility`, { visibleAt: "yesterday" });
    await h.expectStatus(404, "PUT", "/__emulator/events/01NOPE/visibility", { delayMs: 5 });
  });

  it("in-process: the option, setEventVisibilityDelay, setEventVisibleAt and archiveCampaign", async () => {
    let now = Date.parse(NOW);
    const em = createEmulator({
      rateLimits: "off",
      clock: { now: () => now },
      eventVisibilityDelayMs: 1_000,
    });
    const post = (body: unknown) =>
      em.fetch(`${em.baseUrl}/api/events`, {
        method: "POST",
        headers: klaviyoHeaders(undefined, { "Content-Type": "application/vnd.api+json" }),
        body: JSON.stringify(body),
      });
    const count = async () =>
      ((await (await em.fetch(`${em.baseUrl}/api/events`, { headers: klaviyoHeaders() })).json()) as Page)
        .data.length;
    expect((await post(eventBody(undefined, "a"))).status).toBe(202);
    expect(await count()).toBe(0);
    now += 1_000;
    expect(await count()).toBe(1);
    em.setEventVisibilityDelay(0);
    expect(em.eventVisibilityDelayMs).toBe(0);
    expect((await post(eventBody(undefined, "b"))).status).toBe(202);
    expect(await count()).toBe(2);
    const [first] = [...em.state.events.values()];
    em.setEventVisibleAt(first?.id as string, new Date(now + 10_000));
    expect(await count()).toBe(1);
    em.setEventVisibleAt(first?.id as string, undefined);
    expect(await count()).toBe(2);
    expect(() => em.setEventVisibleAt("nope", undefined)).toThrow(/No event/);
    expect(() => em.setEventVisibilityDelay(-5)).toThrow(/eventVisibilityDelayMs/);
    expect(() => em.archiveCampaign("nope")).toThrow(/does not exist/);
  });
});
