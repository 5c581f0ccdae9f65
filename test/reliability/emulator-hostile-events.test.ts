/**
 * Klaviyo's event ingestion limits, enforced by the emulator's Create Event and Bulk Create Events over HTTP:
 * each just at the limit (accepted, 202) and just over it (400 pointing at the member), in-process and on a real
 * port. Limits, from Klaviyo's OpenAPI document and ingestion docs (src/emulator/resources/events-limits.ts):
 * 400 properties (the document; the older docs table says 300), 100 KB per string (read as 100,000 UTF-8 bytes),
 * 10 levels of nesting, 4,000 items per array, a time after 1990 and at most a year ahead, 1,000 events per
 * bulk job, 5 MB per request.
 */
import { describe, expect, it } from "vitest";
import { MAX_JSON_BYTES } from "../../src/emulator/body.js";
import { MAX_BULK_EVENTS } from "../../src/emulator/routes/events.js";
import { EVENT_LIMITS } from "../../src/klaviyo/event-limits.js";
import { type Json, unique } from "./hostile-fixtures.js";
import { counted, eachTarget, probes, reportCounts } from "./hostile-harness.js";

type Attrs = Record<string, Json>;

const METRIC: Json = { data: { type: "metric", attributes: { name: "Limits" } } };
const event = (attributes: Attrs = {}): Json => ({
  type: "event",
  attributes: { properties: {}, metric: METRIC, ...attributes },
});
const createEvent = (attributes: Attrs, profile: Attrs = {}): Json => ({
  data: {
    type: "event",
    attributes: {
      properties: {},
      metric: METRIC,
      ...attributes,
      profile: { data: { type: "profile", attributes: { email: "limits@example.com", ...profile } } },
    },
  },
});
const entry = (email: string, events: Json[], profile: Attrs = {}): Json => ({
  type: "event-bulk-create",
  attributes: {
    profile: { data: { type: "profile", attributes: { email, ...profile } } },
    events: { data: events },
  },
});
const job = (entries: Json[]): Json => ({
  data: { type: "event-bulk-create-job", attributes: { "events-bulk-create": { data: entries } } },
});
/** A job of two profiles with three events each; the second profile's third event carries `attributes`. */
const bulk = (attributes: Attrs, profile: Attrs = {}): Json =>
  job([
    entry("bulk0@example.com", [event(), event(), event()]),
    entry("bulk1@example.com", [event(), event(), event(attributes)], profile),
  ]);

const EVENT = "/data/attributes";
const EVENT_PROFILE = `${EVENT}/profile/data/attributes`;
const BULK_EVENT = "/data/attributes/events-bulk-create/data/1/attributes/events/data/2/attributes";
const BULK_PROFILE = "/data/attributes/events-bulk-create/data/1/attributes/profile/data/attributes";

const props = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, i]));

/** Properties whose innermost object sits at `levels` (`properties` itself being level 1), and its path. */
function nested(levels: number): { value: Json; path: string[] } {
  const path = Array.from({ length: levels - 1 }, (_, i) => `l${i + 2}`);
  let value: Json = { leaf: 1 };
  for (const key of path.slice(1).reverse()) value = { [key]: value };
  return { value: { [path[0] as string]: value }, path };
}

const DAY = 24 * 3600 * 1000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

interface LimitCase {
  readonly label: string;
  /** Event attributes (and profile attributes) just at the limit, then just over it. */
  readonly at: [Attrs, Attrs?];
  readonly over: [Attrs, Attrs?];
  /** Where the refusal points, below the event's attributes, or below the profile's with `profile`. */
  readonly pointer: string;
  readonly profile?: boolean;
}

function limitCases(): LimitCase[] {
  const { properties, stringBytes, depth, arrayItems } = EVENT_LIMITS;
  const deep = nested(depth);
  const tooDeep = nested(depth + 1);
  const items = (n: number) => ({ properties: { items: Array(n).fill(1) } });
  return [
    {
      label: `${properties} properties`,
      at: [{ properties: props(properties) }],
      over: [{ properties: props(properties + 1) }],
      pointer: "/properties",
    },
    {
      label: "a 100 KB string in properties",
      at: [{ properties: { s: "x".repeat(stringBytes) } }],
      over: [{ properties: { s: "x".repeat(stringBytes + 1) } }],
      pointer: "/properties/s",
    },
    {
      label: "100 KB counted in UTF-8 bytes",
      at: [{ properties: { s: "é".repeat(stringBytes / 2) } }],
      over: [{ properties: { s: `${"é".repeat(stringBytes / 2)}x` } }],
      pointer: "/properties/s",
    },
    {
      label: "a 100 KB string deep in an array",
      at: [{ properties: { a: [1, { s: "y".repeat(stringBytes) }] } }],
      over: [{ properties: { a: [1, { s: "y".repeat(stringBytes + 1) }] } }],
      pointer: "/properties/a/1/s",
    },
    {
      label: "a 100 KB unique_id",
      at: [{ unique_id: "u".repeat(stringBytes) }],
      over: [{ unique_id: "u".repeat(stringBytes + 1) }],
      pointer: "/unique_id",
    },
    {
      label: "a 100 KB profile attribute",
      at: [{}, { first_name: "f".repeat(stringBytes) }],
      over: [{}, { first_name: "f".repeat(stringBytes + 1) }],
      pointer: "/first_name",
      profile: true,
    },
    {
      label: `${depth} levels of nesting`,
      at: [{ properties: deep.value }],
      over: [{ properties: tooDeep.value }],
      pointer: `/properties/${tooDeep.path.join("/")}`,
    },
    {
      label: `${arrayItems} items in an array`,
      at: [items(arrayItems)],
      over: [items(arrayItems + 1)],
      pointer: "/properties/items",
    },
    {
      label: "a time in 1991, not 1990",
      at: [{ time: "1991-01-01T00:00:00Z" }],
      over: [{ time: "1990-12-31T23:59:59Z" }],
      pointer: "/time",
    },
    {
      label: "a time up to a year ahead",
      at: [{ time: iso(Date.now() + 364 * DAY) }],
      over: [{ time: iso(Date.now() + 367 * DAY) }],
      pointer: "/time",
    },
  ];
}

reportCounts("emulator-hostile-events");

eachTarget("event ingestion limits, just at and just over each", (target) => {
  it("Create Event: each limit's edge is accepted (202); one past it is 400 pointing at the member", async () => {
    counted("event ingestion limits");
    const t = target();
    const p = probes(t);
    const post = (doc: Json) => ({ method: "POST", path: "/api/events", body: JSON.stringify(doc) });
    for (const c of limitCases()) {
      await p.check(`${c.label}, at`, post(createEvent(...c.at)), { status: 202 });
      const pointer = `${c.profile ? EVENT_PROFILE : EVENT}${c.pointer}`;
      await p.check(`${c.label}, over`, post(createEvent(...c.over)), { status: 400, pointer });
    }
    p.done();
  });

  it("Bulk Create Events: the same limits in any entry, pointing into it; a refused job records nothing", async () => {
    counted("event ingestion limits");
    const t = target();
    const p = probes(t);
    const post = (doc: Json) => ({
      method: "POST",
      path: "/api/event-bulk-create-jobs",
      body: JSON.stringify(doc),
    });
    for (const c of limitCases()) {
      await p.check(`bulk ${c.label}, at`, post(bulk(...c.at)), { status: 202 });
      const before = t.em.state.events.size;
      const pointer = `${c.profile ? BULK_PROFILE : BULK_EVENT}${c.pointer}`;
      await p.check(`bulk ${c.label}, over`, post(bulk(...c.over)), { status: 400, pointer });
      if (t.em.state.events.size !== before) p.note(`bulk ${c.label}: a refused job recorded events`);
    }
    p.done();
  });

  it(`Bulk Create Events: ${MAX_BULK_EVENTS} events in a job are accepted, one more is 400`, async () => {
    counted("event ingestion limits");
    const t = target();
    const p = probes(t);
    const events = (n: number, from: number) =>
      Array.from({ length: n }, (_, i) => event({ properties: { i: from + i } }));
    const of = (n: number) => {
      const half = Math.floor(n / 2);
      const doc = job([
        entry("many0@example.com", events(half, 0)),
        entry("many1@example.com", events(n - half, half)),
      ]);
      return { method: "POST", path: "/api/event-bulk-create-jobs", body: JSON.stringify(doc) };
    };
    await p.check("at", of(MAX_BULK_EVENTS), { status: 202 });
    await p.check("over", of(MAX_BULK_EVENTS + 1), {
      status: 400,
      pointer: "/data/attributes/events-bulk-create/data",
    });
    p.done();
  });

  it("a 5 MB job of real events (no padding) is accepted; one byte more is 413", async () => {
    counted("event ingestion limits");
    const t = target();
    const p = probes(t);
    const events: Json[] = [];
    const doc = job([entry("big@example.com", events)]);
    const size = (v: unknown) => Buffer.byteLength(JSON.stringify(v));
    const big = "z".repeat(EVENT_LIMITS.stringBytes - 2000);
    const next = () => event({ properties: { big, n: events.length }, unique_id: unique("big-") });
    while (size(doc) + size(next()) + 1000 < MAX_JSON_BYTES) events.push(next());
    // A last event whose string fills the document to exactly the limit (each string stays under 100 KB).
    const properties: { f: string } = { f: "" };
    events.push(event({ properties }));
    properties.f = "f".repeat(MAX_JSON_BYTES - size(doc));
    const exact = JSON.stringify(doc);
    expect(Buffer.byteLength(exact)).toBe(MAX_JSON_BYTES);
    const post = (body: string) => ({ method: "POST", path: "/api/event-bulk-create-jobs", body });
    await p.check("exactly 5 MB", post(exact), { status: 202 });
    await p.check("5 MB + 1", post(`${exact} `), { status: 413, code: "request_too_large" });
    p.done();
  });

  it("refuses what no event can carry: bad times, non-finite values, bad currencies, bad names and identifiers", async () => {
    counted("event ingestion limits");
    const t = target();
    const p = probes(t);
    const post = (body: string) => ({ method: "POST", path: "/api/events", body });
    const refused: Array<[string, string, Attrs, Attrs?]> = [
      ["time not a date", `${EVENT}/time`, { time: "2026-13-45T99:00:00Z" }],
      ["time in year 0", `${EVENT}/time`, { time: "0000-01-01T00:00:00Z" }],
      ["time in year 9999", `${EVENT}/time`, { time: "9999-12-31T23:59:59Z" }],
      ["time with a lone surrogate", `${EVENT}/time`, { time: "2026-01-01T00:00:00Z\ud800" }],
      ["currency in lower case", `${EVENT}/value_currency`, { value_currency: "usd" }],
      [
        "metric name empty",
        `${EVENT}/metric/data/attributes/name`,
        { metric: { data: { type: "metric", attributes: { name: "" } } } },
      ],
      [
        "metric name of 128 characters",
        `${EVENT}/metric/data/attributes/name`,
        { metric: { data: { type: "metric", attributes: { name: "m".repeat(128) } } } },
      ],
      ["email without a top-level domain", `${EVENT_PROFILE}/email`, {}, { email: "almost@example" }],
      [
        "phone with spaces",
        `${EVENT_PROFILE}/phone_number`,
        {},
        { email: null, phone_number: "+1 555 0100" },
      ],
      ["no identifier", EVENT_PROFILE, {}, { email: null }],
    ];
    for (const [label, pointer, attributes, profile] of refused) {
      await p.check(label, post(JSON.stringify(createEvent(attributes, profile))), { status: 400, pointer });
    }
    // JSON.parse reads 1e400 as Infinity: a number no event can have.
    const infinite = JSON.stringify(createEvent({ value: 0 })).replace('"value":0', '"value":1e400');
    await p.check("value 1e400", post(infinite), { status: 400, pointer: `${EVENT}/value` });
    p.done();
  });
});

describe("the limits the emulator enforces", () => {
  it("are Klaviyo's documented ones", () => {
    expect(EVENT_LIMITS).toMatchObject({
      properties: 400,
      stringBytes: 100_000,
      arrayItems: 4000,
      depth: 10,
    });
    expect(new Date(EVENT_LIMITS.earliest).toISOString()).toBe("1991-01-01T00:00:00.000Z");
    expect(MAX_BULK_EVENTS).toBe(1000);
    expect(MAX_JSON_BYTES).toBe(5 * 1024 * 1024);
  });
});
