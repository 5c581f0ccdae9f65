import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { KlaviyoClient } from "../../src/core/client.js";
import { FakeClock } from "../../src/core/clock.js";
import { createEmulator, type EmulatorOptions } from "../../src/emulator/index.js";
import { canonicalJson } from "../../src/ingest/event-records.js";
import { eventUniqueId, ingestEvents, ingestSubscriptions } from "../../src/ingest/index.js";
import { JsonArrayScanner, NdjsonSplitter, readRecords, UnreadableRecord } from "../../src/ingest/ndjson.js";
import { seededRandom } from "../helpers/random.js";
import { ACTION_KEY } from "./helpers.js";

/** An emulator and a client (no client-side limiting, quick backoff), recording the bodies sent. */
function setup(options: EmulatorOptions = {}) {
  const emulator = createEmulator({ apiKeys: [{ key: ACTION_KEY }], rateLimits: "off", ...options });
  const bodies: unknown[] = [];
  const client = new KlaviyoClient({
    apiKey: ACTION_KEY,
    baseUrl: emulator.baseUrl,
    rateLimiter: false,
    retry: { maxRetries: 10, baseDelayMs: 1, maxDelayMs: 4 },
    fetch: async (input, init) => {
      if (typeof init?.body === "string") bodies.push(JSON.parse(init.body));
      return emulator.fetch(input, init);
    },
  });
  return { emulator, client, bodies };
}

function event(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    metric: i % 3 === 0 ? "Viewed Product" : "Placed Order",
    profile: { email: `buyer${i % 97}@example.com` },
    properties: { n: i, sku: `sku-${i % 13}` },
    time: "2026-03-01T12:00:00Z",
    value: (i % 50) + 0.5,
    value_currency: "USD",
    ...extra,
  };
}

type Body = {
  data: {
    attributes: {
      "events-bulk-create": {
        data: Array<{ attributes: { events: { data: Array<{ attributes: Record<string, unknown> }> } } }>;
      };
    };
  };
};

/** The event attributes of every bulk request sent, in order. */
function sentEvents(bodies: unknown[]): Array<Record<string, unknown>> {
  return (bodies as Body[]).flatMap((b) =>
    b.data.attributes["events-bulk-create"].data.flatMap((entry) =>
      entry.attributes.events.data.map((e) => e.attributes),
    ),
  );
}

async function* chunked(text: string, sizes: readonly number[]): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text, "utf8");
  let at = 0;
  let i = 0;
  while (at < bytes.length) {
    const size = sizes.length > 0 ? (sizes[i++ % sizes.length] as number) : bytes.length;
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

async function collect(iterable: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}

const dirs: string[] = [];
function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "ingest-test-"));
  dirs.push(dir);
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

afterEach(() => {
  vi.restoreAllMocks();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("ingestEvents and Node's warnings", () => {
  it("20 requests waiting on the caller's one signal raise no MaxListenersExceededWarning", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on("warning", onWarning);
    try {
      const clock = new FakeClock(Date.parse("2026-03-01T12:00:00.000Z"));
      const emulator = createEmulator({ apiKeys: [{ key: ACTION_KEY }], rateLimits: "real", clock });
      const client = new KlaviyoClient({
        apiKey: ACTION_KEY,
        baseUrl: emulator.baseUrl,
        fetch: emulator.fetch,
        clock,
      });
      const controller = new AbortController();
      const out = await ingestEvents(
        client,
        Array.from({ length: 25_000 }, (_, i) => event(i)),
        {
          signal: controller.signal,
          concurrency: 20,
        },
      );
      expect(out.complete).toBe(true);
      // The limiter made most of them wait (Bulk Create Events: 10 a second), each listening for an abort.
      expect(clock.sleeps.length).toBeGreaterThan(10);
      await new Promise((r) => setImmediate(r)); // a warning is emitted on the next tick
      expect(warnings).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });
});

describe("ingestEvents under faults", () => {
  it("20,000 events through 500-after-commit (p=0.1) and reset (p=0.05) end as exactly 20,000; a re-run adds none", async () => {
    const t = setup({ random: seededRandom(7) });
    t.emulator.setFaults([
      { kind: "500-after-commit", probability: 0.1 },
      { kind: "reset", probability: 0.05 },
    ]);
    // A third of the events with the caller's unique_id, a third without a time (stamped by the fixed clock).
    const input = function* () {
      for (let i = 0; i < 20_000; i++) {
        if (i % 3 === 0) yield event(i, { unique_id: `order-${i}` });
        else if (i % 3 === 1) yield event(i, { time: undefined });
        else yield event(i);
      }
    };
    const now = () => Date.UTC(2026, 2, 2, 9, 30);
    const first = await ingestEvents(t.client, input(), { now, batchSize: 500 });
    expect(first).toMatchObject({ total: 20_000, accepted: 20_000, rejected: [], failed: [], unsent: [] });
    expect(first.complete).toBe(true);
    expect(first.requests).toHaveLength(40);
    expect(t.emulator.state.events.size).toBe(20_000);
    // The faults did fire, after commit too: without unique_ids the retries would have duplicated.
    const faults = t.emulator.requests.map((r) => r.fault).filter((f) => f !== undefined);
    expect(faults).toContain("500-after-commit");
    expect(faults).toContain("reset");

    const again = await ingestEvents(t.client, input(), { now });
    expect(again).toMatchObject({ total: 20_000, accepted: 20_000, complete: true });
    expect(again.requests).toHaveLength(20);
    expect(t.emulator.state.events.size).toBe(20_000);
  });
});

describe("unique_ids and times", () => {
  it("an event without unique_id gets one from its content and time: same content, same id; another time, another id", async () => {
    const t = setup();
    const bare = { metric: "Clicked", profile: { email: "a@example.com" }, properties: { x: 1 } };
    const at = (ms: number) => () => ms;
    await ingestEvents(t.client, [bare], { now: at(Date.UTC(2026, 0, 1)) });
    await ingestEvents(t.client, [{ ...bare, properties: { x: 1 } }], { now: at(Date.UTC(2026, 0, 1)) });
    await ingestEvents(t.client, [bare], { now: at(Date.UTC(2026, 0, 1, 0, 0, 1)) });
    const [a, b, c] = sentEvents(t.bodies);
    expect(a?.time).toBe("2026-01-01T00:00:00.000Z");
    expect(a?.unique_id).toMatch(/^[0-9a-f]{64}$/);
    expect(b?.unique_id).toBe(a?.unique_id);
    expect(c?.time).toBe("2026-01-01T00:00:01.000Z");
    expect(c?.unique_id).not.toBe(a?.unique_id);
    // Klaviyo (the emulator) kept one event for the repeat.
    expect(t.emulator.state.events.size).toBe(2);

    // The id reads the time as an instant, and only the profile's identifiers.
    const base = {
      profile: { type: "profile" as const, attributes: { email: "a@example.com", first_name: "A" } },
      event: {
        properties: { x: 1 },
        time: "2026-01-01T02:00:00+02:00",
        metric: { data: { type: "metric" as const, attributes: { name: "Clicked" } } },
      },
    };
    const utc = { ...base, event: { ...base.event, time: "2026-01-01T00:00:00Z" } };
    const renamed = {
      ...base,
      profile: { type: "profile" as const, attributes: { email: "a@example.com" } },
    };
    expect(eventUniqueId(base)).toBe(eventUniqueId(utc));
    expect(eventUniqueId(base)).toBe(eventUniqueId(renamed));
    expect(eventUniqueId({ ...base, event: { ...base.event, value: 1 } })).not.toBe(eventUniqueId(base));
  });

  it("keeps the caller's unique_id and time; an exact repeat in one request is sent once and counted", async () => {
    const t = setup();
    const mine = event(1, { unique_id: "mine" });
    const out = await ingestEvents(t.client, [mine, event(2), { ...mine }, event(2)]);
    expect(out).toMatchObject({ total: 4, accepted: 4, duplicates: 2, complete: true });
    const sent = sentEvents(t.bodies);
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatchObject({ unique_id: "mine", time: "2026-03-01T12:00:00Z" });
    expect(t.emulator.state.events.size).toBe(2);
  });

  it("a unique_id repeated with other content goes in a later request, sent once the first is answered", async () => {
    const t = setup();
    const events = [
      event(1, { unique_id: "u" }),
      event(98, { unique_id: "u", properties: { other: true } }),
      event(5),
    ];
    const out = await ingestEvents(t.client, events);
    expect(out).toMatchObject({ total: 3, accepted: 3, duplicates: 0, complete: true });
    expect(out.requests.map((r) => [r.items, r.status])).toEqual([
      [2, "accepted"],
      [1, "accepted"],
    ]);
    // Klaviyo keeps the first event of a unique_id for the profile and metric.
    expect(t.emulator.state.events.size).toBe(2);
  });
});

describe("readRecords and the ingestion of files", () => {
  it("a bad line in the middle of an NDJSON file is rejected with its position; the rest is accepted", async () => {
    const t = setup();
    const lines = Array.from({ length: 1000 }, (_, i) => JSON.stringify(event(i, { unique_id: `e-${i}` })));
    lines[499] = '{"metric": "Placed Order", "profile": {';
    lines[699] = JSON.stringify(event(699, { profile: undefined }));
    const path = tempFile("events.ndjson", `${lines.join("\n")}\n`);
    const out = await ingestEvents(t.client, readRecords(path));
    expect(out).toMatchObject({ total: 1000, accepted: 998, failed: [], unsent: [], complete: false });
    expect(out.rejected.map((r) => r.index)).toEqual([499, 699]);
    expect(out.rejected[0]?.reason).toMatch(/^line 500: not valid JSON/);
    expect(out.rejected[1]?.reason).toMatch(/the profile is required/);
    expect(t.emulator.state.events.size).toBe(998);
  });

  it("onRejected gets every refused item with its reason: as read, and as sent when Klaviyo refuses a request", async () => {
    const t = setup();
    const refusedOnce = { done: false };
    // Klaviyo refuses the first bulk request whole, pointing at its second entry's event (a stand-in server answer:
    // what the emulator validates, the client checks before sending).
    const client = new KlaviyoClient({
      apiKey: ACTION_KEY,
      baseUrl: t.emulator.baseUrl,
      rateLimiter: false,
      fetch: async (input, init) => {
        if (refusedOnce.done) return t.emulator.fetch(input, init);
        refusedOnce.done = true;
        const pointer =
          "/data/attributes/events-bulk-create/data/1/attributes/events/data/0/attributes/properties";
        const error = {
          id: "x",
          status: 400,
          code: "invalid",
          title: "Invalid input.",
          detail: "Too many properties.",
          source: { pointer },
        };
        return new Response(JSON.stringify({ errors: [error] }), {
          status: 400,
          headers: { "content-type": "application/vnd.api+json" },
        });
      },
    });
    const items = [
      event(0, { unique_id: "a", profile: { email: "a@example.com" } }),
      '{"metric": broken',
      event(1, { unique_id: "b", profile: { email: "b@example.com" } }),
    ];
    const lines = `${items.map((i) => (typeof i === "string" ? i : JSON.stringify(i))).join("\n")}\n`;
    const got: Array<{ item: unknown; position: number; reason: string }> = [];
    const out = await ingestEvents(client, readRecords(tempFile("events.ndjson", lines)), {
      onRejected: (item, position, reason) => got.push({ item, position, reason }),
    });
    expect(out.rejected.map((r) => r.index)).toEqual([0, 1, 2]);
    expect(got.map((g) => g.position).sort()).toEqual([0, 1, 2]);
    const asRead = got.find((g) => g.position === 1);
    expect(asRead?.item).toBeInstanceOf(UnreadableRecord);
    expect((asRead?.item as UnreadableRecord | undefined)?.text).toBe('{"metric": broken');
    const pointed = got.find((g) => g.position === 2);
    expect(pointed?.reason).toMatch(/Too many properties/);
    expect(pointed?.item).toMatchObject({
      metric: "Placed Order",
      unique_id: "b",
      profile: { type: "profile", attributes: { email: "b@example.com" } },
    });
    expect(got.find((g) => g.position === 0)?.item).toMatchObject({
      unique_id: "a",
      time: "2026-03-01T12:00:00Z",
    });
    // What onRejected got, sent again, is accepted.
    const sentItems = got.filter((g) => g.position !== 1).map((g) => g.item);
    const again = await ingestEvents(client, sentItems);
    expect(again).toMatchObject({ accepted: 2, complete: true });
  });

  it("a JSON array file is read element by element, before the file is read to its end", async () => {
    const t = setup();
    const events = Array.from({ length: 3000 }, (_, i) => event(i));
    const text = JSON.stringify(events, null, 1);
    let pulled = 0;
    let pulledAtFirst = -1;
    const chunks = chunked(text, [4096]);
    const counting = (async function* () {
      for await (const chunk of chunks) {
        pulled++;
        yield chunk;
      }
    })();
    const records = readRecords(Readable.from(counting));
    const source = (async function* () {
      for await (const record of records) {
        if (pulledAtFirst < 0) pulledAtFirst = pulled;
        yield record;
      }
    })();
    const out = await ingestEvents(t.client, source);
    expect(out).toMatchObject({ total: 3000, accepted: 3000, complete: true });
    expect(pulledAtFirst).toBeGreaterThan(0);
    expect(pulledAtFirst).toBeLessThan(pulled / 10);
    expect(t.emulator.state.events.size).toBe(3000);
  });

  it("the array scanner: brackets and quotes inside strings, escapes, nesting, scalars, a broken element", async () => {
    const text = String.raw` [ {"a": "]}[{,\"", "b": [1, {"c": "\\"}], "d": {}}, "x\\\"]", 12.5e3 , true,null,
      [], {}, "é ünï ✓ 😀", {"bad": tru}, -0, {"last": "\u005d"} ] `;
    const expected = [
      { a: ']}[{,"', b: [1, { c: "\\" }], d: {} },
      'x\\"]',
      12500,
      true,
      null,
      [],
      {},
      "é ünï ✓ 😀",
      "unreadable",
      -0,
      { last: "]" },
    ];
    for (const sizes of [[], [1], [2], [3], [7], [1, 5, 2]]) {
      const records = await collect(readRecords(Readable.from(chunked(text, sizes))));
      const normalised = records.map((r) => (r instanceof UnreadableRecord ? "unreadable" : r));
      expect(normalised).toEqual(expected);
      expect(String(records[8])).toMatch(/^line 2: not valid JSON/);
    }
    const truncated = new JsonArrayScanner();
    expect(truncated.push('[1, {"a": ')).toEqual([1]);
    expect(String(truncated.end()[0])).toMatch(/ends inside an element/);
    const trailing = new JsonArrayScanner();
    expect(String(trailing.push("[1,]").at(-1))).toMatch(/before the array's closing/);
  });

  it("NDJSON: blank lines and CRLF are skipped, a last line without newline is read", () => {
    const splitter = new NdjsonSplitter();
    const out = [...splitter.push('{"a":1}\r\n\n  \n[2]\n"th'), ...splitter.push('ree"'), ...splitter.end()];
    expect(out).toEqual([{ a: 1 }, [2], "three"]);
  });

  it("property: any JSON array (or NDJSON), cut into chunks of any sizes, reads as JSON.parse reads it", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.jsonValue(), { maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }),
        fc.constantFrom(undefined, 0, 2, "\t"),
        async (values, sizes, indent) => {
          const array = JSON.stringify(values, null, indent);
          const fromArray = await collect(readRecords(Readable.from(chunked(array, sizes))));
          expect(fromArray).toEqual(JSON.parse(array));
          const ndjson = values.map((v) => JSON.stringify(v)).join("\n");
          const fromLines = await collect(readRecords(Readable.from(chunked(ndjson, sizes))));
          // An NDJSON file starting with an array is read as a JSON array file: compare only the unambiguous case.
          if (!ndjson.trimStart().startsWith("["))
            expect(fromLines).toEqual(values.map((v) => JSON.parse(JSON.stringify(v))));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("rate limits", () => {
  it("with Klaviyo's limits and one clock, no window of bulk_create_events goes over 10/s or 150/m, and no 429", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    // The request log stamps `at` with Date.now: let it read the shared clock.
    vi.spyOn(Date, "now").mockImplementation(() => clock.now());
    const emulator = createEmulator({ apiKeys: [{ key: ACTION_KEY }], rateLimits: "real", clock });
    const client = new KlaviyoClient({
      apiKey: ACTION_KEY,
      baseUrl: emulator.baseUrl,
      clock,
      fetch: emulator.fetch,
    });
    const events = Array.from({ length: 400 }, (_, i) => event(i, { unique_id: `r-${i}` }));
    const out = await ingestEvents(client, events, { batchSize: 1, concurrency: 10 });
    expect(out).toMatchObject({ total: 400, accepted: 400, complete: true });
    expect(emulator.state.events.size).toBe(400);
    const log = emulator.requests.filter((r) => r.operationId === "bulk_create_events");
    expect(log).toHaveLength(400);
    expect(log.filter((r) => r.status === 429)).toEqual([]);
    const perWindow = (ms: number) => {
      const counts = new Map<number, number>();
      for (const r of log) counts.set(Math.floor(r.at / ms), (counts.get(Math.floor(r.at / ms)) ?? 0) + 1);
      return Math.max(...counts.values());
    };
    expect(perWindow(1000)).toBeLessThanOrEqual(10);
    expect(perWindow(60_000)).toBeLessThanOrEqual(150);
    // 400 requests at 150 a minute take the fourth minute.
    const minutes = new Set(log.map((r) => Math.floor(r.at / 60_000)));
    expect(minutes.size).toBe(3);
  });
});

describe("abort", () => {
  it("an abort part-way reports the rest unsent; a re-run of what onUnsent got completes the job, no duplicates", async () => {
    const t = setup();
    const controller = new AbortController();
    const events = Array.from({ length: 5000 }, (_, i) => (i % 2 ? event(i, { time: undefined }) : event(i)));
    const unsent: Array<{ item: unknown; position: number }> = [];
    const out = await ingestEvents(t.client, events, {
      batchSize: 100,
      concurrency: 3,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.accepted >= 1000) controller.abort(new Error("enough"));
      },
      onUnsent: (item, position) => unsent.push({ item, position }),
    });
    expect(out.complete).toBe(false);
    expect(out.total).toBe(5000);
    expect(out.accepted).toBeGreaterThanOrEqual(1000);
    expect(out.accepted + out.unsent.length + out.failed.length).toBe(5000);
    expect(out.unsent.at(-1)).toBe(4999);
    expect(out.requests.some((r) => r.status === "unsent" && /aborted \(enough\)/.test(r.error ?? ""))).toBe(
      true,
    );
    expect(unsent.map((u) => u.position).sort((a, b) => a - b)).toEqual(
      [...out.unsent, ...out.failed].sort((a, b) => a - b),
    );

    // The unsent events carry their stamped time and derived unique_id (those sent before the abort as well).
    const rerun = await ingestEvents(
      t.client,
      unsent.map((u) => u.item),
    );
    expect(rerun).toMatchObject({ total: unsent.length, accepted: unsent.length, complete: true });
    expect(t.emulator.state.events.size).toBe(5000);
  });
});

describe("ingestSubscriptions", () => {
  it("subscribes 2,500 profiles in jobs of 1,000 and unsubscribes them in jobs of 100; a bad one is rejected", async () => {
    const t = setup();
    const profiles = function* () {
      for (let i = 0; i < 2500; i++)
        yield i === 1234 ? { email: "not-an-email" } : { email: `p${i}@example.com` };
    };
    const subscribed = await ingestSubscriptions(t.client, "subscribe", profiles());
    expect(subscribed).toMatchObject({ total: 2500, accepted: 2499, failed: [], unsent: [] });
    expect(subscribed.rejected).toEqual([
      { index: 1234, reason: expect.stringMatching(/not an email address/) },
    ]);
    expect(subscribed.requests.map((r) => r.items)).toEqual([1000, 1000, 499]);
    const consent = () =>
      [...t.emulator.state.profiles.values()].map(
        (p) =>
          (p.subscriptions as { email?: { marketing?: { consent?: string } } } | undefined)?.email?.marketing
            ?.consent,
      );
    expect(consent().filter((c) => c === "SUBSCRIBED")).toHaveLength(2499);

    const unsubscribed = await ingestSubscriptions(t.client, "unsubscribe", profiles(), { concurrency: 4 });
    expect(unsubscribed).toMatchObject({ total: 2500, accepted: 2499 });
    expect(unsubscribed.requests).toHaveLength(25);
    expect(unsubscribed.requests.every((r) => r.items <= 100 && r.status === "accepted")).toBe(true);
    expect(consent().filter((c) => c === "UNSUBSCRIBED")).toHaveLength(2499);
    const ops = t.emulator.requests.map((r) => r.operationId);
    expect(ops.filter((o) => o === "bulk_subscribe_profiles")).toHaveLength(3);
    expect(ops.filter((o) => o === "bulk_unsubscribe_profiles")).toHaveLength(25);
  });
});

describe("canonicalJson (the text unique_ids and grouping are derived from)", () => {
  /** The same value with every object's keys in another order. */
  function shuffled(value: unknown, flip: boolean): unknown {
    if (Array.isArray(value)) return value.map((v) => shuffled(v, flip));
    if (typeof value !== "object" || value === null) return value;
    const keys = Object.keys(value);
    if (flip) keys.reverse();
    return Object.fromEntries(keys.map((k) => [k, shuffled((value as Record<string, unknown>)[k], !flip)]));
  }

  it("property: parses back to the value, and is the same text whatever the key order", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(canonicalJson(shuffled(value, true))).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it("sorts keys as strings, leaves out undefined members and honours toJSON, as JSON.stringify would", () => {
    expect(canonicalJson({ b: 1, 10: 2, 2: 3, a: undefined })).toBe('{"10":2,"2":3,"b":1}');
    expect(canonicalJson({ at: new Date(Date.UTC(2026, 0, 2)) })).toBe('{"at":"2026-01-02T00:00:00.000Z"}');
    expect(canonicalJson([undefined, 1])).toBe("[null,1]");
  });

  it("two events that differ only by a Date property get different unique_ids", () => {
    const base = {
      profile: { type: "profile" as const, attributes: { email: "d@example.com" } },
      event: {
        properties: { at: new Date(Date.UTC(2026, 0, 1)) },
        metric: { data: { type: "metric" as const, attributes: { name: "Dated" } } },
        time: "2026-01-01T00:00:00Z",
      },
    };
    const later = { ...base, event: { ...base.event, properties: { at: new Date(Date.UTC(2026, 0, 2)) } } };
    expect(eventUniqueId(base as never)).not.toBe(eventUniqueId(later as never));
  });
});
