/**
 * The ways the peers' triggers and syncs lose or repeat data (../shared/reference/beyond-the-spec.md §2), each a
 * test named after it, against the emulator through real HTTP; and late events (backdated, indexed late,
 * future-dated) through the events lookback.
 */
import { describe, expect, it } from "vitest";
import { InputValidationError } from "../../src/core/errors.js";
import { changeFeed, parseCheckpoint } from "../../src/feed/index.js";
import { type FeedSetup, feedSetup, summary } from "./helpers.js";

let unique = 0;

async function recordEvent(s: FeedSetup, options: { metric?: string; time?: number; email?: string } = {}) {
  const tag = `evt-${++unique}`;
  const attributes: Record<string, unknown> = {
    properties: { tag },
    unique_id: tag,
    metric: { data: { type: "metric", attributes: { name: options.metric ?? "Placed Order" } } },
    profile: { data: { type: "profile", attributes: { email: options.email ?? `${tag}@example.com` } } },
  };
  if (options.time !== undefined) attributes.time = new Date(options.time).toISOString();
  const res = await s.client.request({
    method: "POST",
    path: "/api/events",
    body: { data: { type: "event", attributes } },
  });
  expect(res.status).toBe(202);
  return tag;
}

/** The tags (`properties.tag`) of event changes. */
const tags = (changes: { record: { attributes?: Record<string, unknown> } }[]) =>
  changes.map((c) => (c.record.attributes?.event_properties as { tag?: string } | undefined)?.tag ?? "?");

async function createProfile(s: FeedSetup): Promise<string> {
  const res = await s.client.request<{ data: { id: string } }>({
    method: "POST",
    path: "/api/profiles",
    body: { data: { type: "profile", attributes: { email: `p-${++unique}@example.com` } } },
  });
  return res.body.data.id;
}

describe("the peers' defects, which the feed never has", () => {
  it("same-second ties dropped: a record made later in the second of the last one delivered is still delivered", async () => {
    const s = feedSetup({ skewMs: 1500 });
    let { checkpoint } = await s.run({ stream: "profiles", since: new Date(s.clock.now()) });
    const a = await createProfile(s);
    let run = await s.run({ stream: "profiles", checkpoint });
    expect(summary(run.changes)).toEqual([`created ${a}`]);
    checkpoint = run.checkpoint;
    // Klaviyo reports the same whole second for b; a client-side `>` on that second would drop it.
    const b = await createProfile(s);
    run = await s.run({ stream: "profiles", checkpoint });
    expect(summary(run.changes)).toEqual([`created ${b}`]);
    expect(run.changes[0]?.at).toBe(
      new Date(Math.floor(s.clock.now() / 1000) * 1000).toISOString().replace(".000Z", "Z"),
    );
  });

  it("no overlap: an event visible only after a poll, with a time before the poll's start, is delivered by the next poll", async () => {
    const s = feedSetup({ eventVisibilityDelayMs: 0 });
    let { checkpoint } = await s.run({
      stream: "events",
      since: new Date(s.clock.now() - 100),
      lookbackSeconds: 0,
    });
    const seen = await recordEvent(s);
    s.emulator.setEventVisibilityDelay(5000);
    const hidden = await recordEvent(s, { time: s.clock.now() });
    s.clock.advance(1500);
    let run = await s.run({ stream: "events", checkpoint, lookbackSeconds: 0 });
    expect(tags(run.changes)).toEqual([seen]);
    checkpoint = run.checkpoint;
    // A watermark taken when that poll began (PR's `lastPolledAt`) is past `hidden`'s second: it would be lost.
    s.clock.advance(6000);
    run = await s.run({ stream: "events", checkpoint, lookbackSeconds: 0 });
    expect(tags(run.changes)).toEqual([hidden]);
  });

  it("future-dated events poison the cursor: an event dated months ahead moves no checkpoint past now", async () => {
    const s = feedSetup();
    let { checkpoint } = await s.run({ stream: "events", since: new Date(s.clock.now() - 100) });
    const future = await recordEvent(s, { time: s.clock.now() + 300 * 86_400_000 });
    s.clock.advance(2000);
    let run = await s.run({ stream: "events", checkpoint });
    expect(run.changes).toEqual([]);
    for (const mark of Object.values(run.checkpoint?.partitions ?? {})) {
      expect(Date.parse(mark.at)).toBeLessThanOrEqual(s.now());
    }
    checkpoint = run.checkpoint ?? checkpoint;
    const today = await recordEvent(s);
    s.clock.advance(2000);
    run = await s.run({ stream: "events", checkpoint });
    expect(tags(run.changes)).toEqual([today]);
    expect(tags(run.changes)).not.toContain(future);
  });

  it("state saved only at the end: a walk that fails on its third page keeps the first two, and a restart repeats none", async () => {
    const s = feedSetup({ skewMs: 1500 });
    const { checkpoint: start } = await s.run({ stream: "profiles", since: new Date(s.clock.now() - 100) });
    const made: string[] = [];
    for (let i = 0; i < 6; i++) made.push(await createProfile(s));
    const delivered: string[] = [];
    let saved = start;
    let pages = 0;
    await expect(
      (async () => {
        for await (const page of changeFeed(s.client, {
          stream: "profiles",
          checkpoint: saved,
          pageSize: 2,
          horizonSeconds: 0,
          now: s.now,
        })) {
          if (++pages === 3) throw new Error("the worker died");
          delivered.push(...page.changes.map((c) => c.record.id));
          saved = page.checkpoint;
        }
      })(),
    ).rejects.toThrow("the worker died");
    expect(delivered).toEqual(made.slice(0, 4));
    const rest = await s.run({ stream: "profiles", checkpoint: saved, pageSize: 2 });
    expect(rest.changes.map((c) => c.record.id)).toEqual(made.slice(4));
  });

  it("campaigns of one channel: email, SMS and push campaigns, archived ones too, are all delivered", async () => {
    const s = feedSetup({ skewMs: 1500 });
    const { checkpoint } = await s.run({ stream: "campaigns", since: new Date(s.clock.now() - 100) });
    const list = (await s.action<{ data: { id: string } }>("create-list", { listName: "Audience" })).data.id;
    const contents = {
      email: { subject: "Hi", from_email: "hello@example.com", from_label: "Feed" },
      sms: { body: "Hi" },
      mobile_push: { title: "Hi", body: "Hi" },
    } as const;
    const ids: Record<string, string> = {};
    for (const channel of ["email", "sms", "mobile_push"] as const) {
      const made = await s.action<{ data: { id: string } }>("create-campaign", {
        name: `Launch ${channel}`,
        includedAudiences: [list],
        messages: [{ channel, content: contents[channel] }],
      });
      ids[channel] = made.data.id;
    }
    s.emulator.archiveCampaign(ids.sms as string);
    const run = await s.run({ stream: "campaigns", checkpoint });
    expect(run.changes.map((c) => c.record.id).sort()).toEqual(Object.values(ids).sort());
    const archived = run.changes.find((c) => c.record.id === ids.sms);
    expect(archived?.record.attributes?.archived).toBe(true);
  });
});

describe("late events: the lookback", () => {
  it("a backdated event within the lookback is delivered by the next run, once, marked late", async () => {
    const s = feedSetup();
    const lookbackSeconds = 3600;
    let { checkpoint } = await s.run({
      stream: "events",
      since: new Date(s.clock.now() - 100),
      lookbackSeconds,
    });
    const onTime = await recordEvent(s);
    s.clock.advance(20 * 60_000);
    const later = await recordEvent(s);
    s.clock.advance(2000);
    let run = await s.run({ stream: "events", checkpoint, lookbackSeconds });
    expect(tags(run.changes)).toEqual([onTime, later]);
    checkpoint = run.checkpoint;
    // Sent now, dated nineteen minutes ago: behind the first reader's watermark, inside the lookback.
    const backdated = await recordEvent(s, { time: s.clock.now() - 19 * 60_000 });
    s.clock.advance(2000);
    run = await s.run({ stream: "events", checkpoint, lookbackSeconds });
    expect(tags(run.changes)).toEqual([backdated]);
    expect(run.changes[0]?.late).toBe(true);
    checkpoint = run.checkpoint;
    // The lookback reads its window again on every run, and repeats nothing it has delivered.
    for (let i = 0; i < 3; i++) {
      s.clock.advance(10 * 60_000);
      run = await s.run({ stream: "events", checkpoint, lookbackSeconds });
      expect(run.changes).toEqual([]);
      checkpoint = run.checkpoint;
    }
    // Dated before the lookback's window: out of reach (the lookback is the bound of how late data may be).
    await recordEvent(s, { time: s.clock.now() - 2 * 3600_000 });
    s.clock.advance(2000);
    run = await s.run({ stream: "events", checkpoint, lookbackSeconds });
    expect(run.changes).toEqual([]);
    // The digests of hours the lookback has left behind are forgotten: the checkpoint does not grow for ever.
    s.clock.advance(3 * 3600_000);
    run = await s.run({ stream: "events", checkpoint: run.checkpoint, lookbackSeconds });
    expect(Object.keys(run.checkpoint?.delivered ?? {})).toEqual([]);
  });

  it("an event Klaviyo indexes late (after the horizon) is delivered once by the lookback", async () => {
    const s = feedSetup();
    const lookbackSeconds = 600;
    let { checkpoint } = await s.run({
      stream: "events",
      since: new Date(s.clock.now() - 100),
      lookbackSeconds,
    });
    s.emulator.setEventVisibilityDelay(120_000);
    const slow = await recordEvent(s);
    s.emulator.setEventVisibilityDelay(0);
    const delivered: string[] = [];
    let lateAt = -1;
    for (let minute = 0; minute < 6; minute++) {
      // Other events keep arriving, so the first reader's watermark moves on past the slow one's second.
      s.clock.advance(60_000);
      await recordEvent(s);
      s.clock.advance(1000);
      const run = await s.run({ stream: "events", checkpoint, lookbackSeconds });
      checkpoint = run.checkpoint ?? checkpoint;
      for (const change of run.changes) {
        const tag = tags([change])[0] as string;
        delivered.push(tag);
        if (tag === slow) {
          expect(change.late).toBe(true);
          lateAt = minute;
        }
      }
    }
    expect(delivered.filter((t) => t === slow)).toEqual([slow]);
    expect(new Set(delivered).size).toBe(delivered.length);
    expect(delivered.length).toBe(7);
    // Visible two minutes after it was recorded, and delivered by the first run after that.
    expect(lateAt).toBe(1);
  });

  it("New Event of one metric delivers only that metric's events, each with its metric and profile", async () => {
    const s = feedSetup();
    await recordEvent(s, { metric: "Viewed Product" });
    const metrics = await s.client.request<{ data: { id: string; attributes: { name: string } }[] }>({
      method: "GET",
      path: "/api/metrics",
    });
    const viewed = metrics.body.data.find((m) => m.attributes.name === "Viewed Product")?.id as string;
    let { checkpoint } = await s.run({
      stream: "events",
      metricId: viewed,
      since: new Date(s.clock.now() + 900),
    });
    s.clock.advance(1000);
    const wanted = await recordEvent(s, { metric: "Viewed Product" });
    await recordEvent(s, { metric: "Placed Order" });
    s.clock.advance(2000);
    const run = await s.run({ stream: "events", metricId: viewed, checkpoint });
    expect(tags(run.changes)).toEqual([wanted]);
    expect(run.changes[0]?.related?.map((r) => r.type).sort()).toEqual(["metric", "profile"]);
    checkpoint = run.checkpoint;
    expect(checkpoint?.scope.metricId).toBe(viewed);
  });
});

describe("checkpoints and inputs", () => {
  it("refuses bad input by label before sending anything", async () => {
    const s = feedSetup();
    const attempt = (options: Parameters<typeof changeFeed>[1]) => changeFeed(s.client, options).next();
    await expect(attempt({ stream: "list-members" })).rejects.toThrow(/List ID: is required/);
    await expect(attempt({ stream: "profiles", metricId: "abc" })).rejects.toThrow(/Metric ID/);
    await expect(attempt({ stream: "events", since: "yesterday-ish" })).rejects.toBeInstanceOf(
      InputValidationError,
    );
    await expect(attempt({ stream: "nope" as never })).rejects.toThrow(/Stream/);
    expect(s.requests).toEqual([]);
  });

  it("refuses a checkpoint of another stream or scope, and one that is not a checkpoint", async () => {
    const s = feedSetup();
    const { checkpoint } = await s.run({ stream: "lists", since: new Date(s.clock.now() - 100_000) });
    await expect(
      changeFeed(s.client, { stream: "profiles", checkpoint: checkpoint as never }).next(),
    ).rejects.toThrow(/lists stream, not profiles/);
    expect(() => parseCheckpoint("{")).toThrow(/not JSON/);
    expect(() => parseCheckpoint({ v: 1, stream: "lists" })).toThrow(/checkpoint/);
  });
});
