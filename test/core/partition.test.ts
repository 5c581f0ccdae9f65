/**
 * Parallel export by time partitions: every item exactly once — against the emulator in-process (with items
 * sharing timestamps and sitting exactly on the boundaries, under injected faults, with the caller's filter),
 * against a server whose times are finer than a millisecond (where the strict-operator check must catch what
 * `b - 1 ms` would get wrong), and through the CLI's `--all --parallel`. No assertion depends on timing.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runAction } from "../../src/actions/index.js";
import { KlaviyoClient } from "../../src/core/client.js";
import { FakeClock } from "../../src/core/clock.js";
import { inFlightFor } from "../../src/core/latency.js";
import {
  type PartitionOptions,
  partitionBoundaries,
  partitionCount,
  partitionedItems,
  partitionFieldFor,
} from "../../src/core/partition.js";
import { createEmulator, type EmulatorOptions } from "../../src/emulator/index.js";
import { recordEvent } from "../../src/emulator/resources/events-model.js";
import type { EventAttributesInput } from "../../src/emulator/resources/events-schema.js";
import { addMember } from "../../src/emulator/resources/lists-members.js";
import { insertProfile } from "../../src/emulator/resources/profile-model.js";
import { seedList } from "../../src/emulator/seed.js";
import type { EmulatorState } from "../../src/emulator/state.js";
import { requireBuild, runCli, startCliEmulator } from "../helpers/cli.js";
import { checkedFetch } from "../helpers/contract.js";

const KEY = "pk_partition_test_key_0123456789abcdef";
const T0 = Date.UTC(2025, 0, 1);

interface Item {
  id: string;
  attributes: Record<string, unknown>;
}

/**
 * An emulator and a client sending to it in-process. Requests are recorded; unless `checked` is false each one
 * (and its answer) is also held against Klaviyo's OpenAPI document, so the partition filters must be valid.
 */
function setup(options: EmulatorOptions = {}, checked = true) {
  const emulator = createEmulator({ apiKeys: [{ key: KEY }], rateLimits: "off", ...options });
  const sent: URL[] = [];
  const send = checked ? checkedFetch(emulator.fetch) : emulator.fetch;
  const client = new KlaviyoClient({
    apiKey: KEY,
    baseUrl: emulator.baseUrl,
    rateLimiter: false,
    // Quick retries, and enough of them that a 10% fault rate cannot exhaust them by chance.
    retry: { baseDelayMs: 1, maxDelayMs: 4, maxRetries: 12 },
    fetch: (input, init) => {
      sent.push(new URL(input instanceof Request ? input.url : String(input)));
      return send(input, init);
    },
  });
  return { emulator, client, sent };
}

/** Eight partitions, four at once: fixed, where a test counts partitions (by default they follow the latency). */
const EIGHT = { partitions: 8, concurrency: 4 } as const;

async function collect(items: AsyncGenerator<unknown>): Promise<string[]> {
  const ids: string[] = [];
  for await (const item of items) ids.push((item as Item).id);
  return ids;
}

function expectExactlyOnce(ids: readonly string[], expected: Iterable<string>): void {
  const want = new Set(expected);
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  const twice = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
  const missing = [...want].filter((id) => !counts.has(id));
  const extra = [...counts.keys()].filter((id) => !want.has(id));
  expect({ twice, missing, extra }).toEqual({ twice: [], missing: [], extra: [] });
  expect(ids).toHaveLength(want.size);
}

/** The filters of the partitions' walks (their requests, as opposed to the probes, which sort). */
function walkFilters(sent: readonly URL[], pathname: string): Set<string> {
  return new Set(
    sent
      .filter(
        (u) =>
          u.pathname === pathname && u.searchParams.get("page[size]") !== "1" && !u.searchParams.has("sort"),
      )
      .map((u) => u.searchParams.get("filter") ?? ""),
  );
}

function addProfiles(state: EmulatorState, times: readonly number[]): string[] {
  return times.map((ms, i) => insertProfile(state, { email: `p${i}.${ms}@example.com` }, ms).id);
}

function addEvents(state: EmulatorState, times: readonly number[]): string[] {
  const profile = insertProfile(state, { email: "events@example.com" }, T0);
  return times.map((ms, i) => {
    const event = {
      properties: { n: i },
      metric: { data: { type: "metric", attributes: { name: "Partitioned" } } },
      time: new Date(ms).toISOString(),
      unique_id: `partition-${i}`,
    } as EventAttributesInput;
    const row = recordEvent(state, profile, event, ms);
    if (!row) throw new Error("event not recorded");
    return row.id;
  });
}

/** `times` plus, for every boundary the partitioning will use, items on it and just either side of it. */
function onBoundaries(times: readonly number[], partitions: number, step: number, copies = 1): number[] {
  const lo = Math.min(...times);
  const hi = Math.max(...times) + 1;
  const extra = partitionBoundaries(lo, hi, partitions).flatMap((b) =>
    [b - step, b, b + step].filter((t) => t >= lo && t < hi).flatMap((t) => Array<number>(copies).fill(t)),
  );
  return [...times, ...extra];
}

describe("partitionFieldFor", () => {
  it("names a creation time the endpoint bounds on both sides and sorts by, else nothing", () => {
    expect(partitionFieldFor("get_profiles")).toBe("created");
    expect(partitionFieldFor("get_events")).toBe("datetime");
    expect(partitionFieldFor("get_profiles_for_list")).toBe("joined_group_at");
    expect(partitionFieldFor("get_campaigns")).toBe("created_at");
    expect(partitionFieldFor("get_templates")).toBe("created");
    // greater-than(created) only; updated_at only (it moves); no datetime filter at all.
    for (const op of ["get_lists", "get_segments", "get_images", "get_metrics", "get_accounts"]) {
      expect(partitionFieldFor(op)).toBeUndefined();
    }
  });
});

describe("partitionBoundaries", () => {
  it("cuts [lo, hi) into contiguous intervals, whole seconds when long enough", () => {
    expect(partitionBoundaries(0, 80_001, 8)).toEqual([10, 20, 30, 40, 50, 60, 70].map((s) => s * 1000));
    expect(partitionBoundaries(0, 11, 8)).toEqual([1, 2, 4, 5, 6, 8, 9]);
    expect(partitionBoundaries(0, 3, 8)).toEqual([1, 2]);
    expect(partitionBoundaries(5, 6, 8)).toEqual([]);
    expect(partitionBoundaries(0, 100, 1)).toEqual([]);
  });
});

describe("partitionedItems against the emulator", () => {
  it("sizes the walks by the latency when not told: many at once far from the server, few near it", async () => {
    for (const [latencyMs, expected] of [
      [600, 77],
      [0, 2],
    ] as const) {
      // The client's clock stands still, so every answer takes 0 ms of it; a client that has seen 600 ms answers
      // before (its latency window) sizes for those.
      const clock = new FakeClock(Date.now());
      const emulator = createEmulator({ apiKeys: [{ key: KEY }], rateLimits: "off", seedProfiles: 20_000 });
      let inFlight = 0;
      let most = 0;
      const client = new KlaviyoClient({
        apiKey: KEY,
        baseUrl: emulator.baseUrl,
        rateLimiter: false,
        clock,
        fetch: async (input, init) => {
          inFlight++;
          most = Math.max(most, inFlight);
          try {
            const answer = await emulator.fetch(input, init);
            await new Promise((r) => setTimeout(r, 2));
            return answer;
          } finally {
            inFlight--;
          }
        },
      });
      if (latencyMs > 0) client.latency.add(latencyMs);
      const ids = await collect(
        partitionedItems(client, { method: "GET", path: "/api/profiles", operation: "get_profiles" }),
      );
      expect(new Set(ids).size).toBe(20_000);
      // Get Profiles allows 75 a second: from half a second, a slot brings back one useful answer a window, so the
      // whole burst (and two for the late ones) at once; at 0 ms, the fewest.
      expect(inFlightFor({ name: "get_profiles", burst: 75, steady: 750, daily: 0 }, latencyMs, 96)).toBe(
        expected,
      );
      expect(most).toBe(expected);
    }
  }, 60_000);

  it("yields every profile of a 5,000-profile account exactly once with 8 partitions", async () => {
    const { emulator, client, sent } = setup({ seedProfiles: 5000 });
    const ids = await collect(
      partitionedItems(client, { ...EIGHT, method: "GET", path: "/api/profiles", operation: "get_profiles" }),
    );
    expectExactlyOnce(
      ids,
      [...emulator.state.profiles.values()].map((p) => p.id),
    );
    expect(walkFilters(sent, "/api/profiles").size).toBe(8);
  });

  it("yields every event exactly once", async () => {
    const { emulator, client, sent } = setup({ seedProfiles: 50, seedEvents: 3000 });
    const ids = await collect(
      partitionedItems(client, {
        method: "GET",
        path: "/api/events",
        operation: "get_events",
        partitions: 6,
        concurrency: 3,
        sizeToData: false,
      }),
    );
    expectExactlyOnce(
      ids,
      [...emulator.state.events.values()].map((e) => e.id),
    );
    expect(walkFilters(sent, "/api/events").size).toBe(6);
    // Inclusive lower bounds: greater-or-equal where the endpoint has it, no probing of boundaries.
    expect([...walkFilters(sent, "/api/events")].join(" ")).toContain("greater-or-equal(datetime,");
  });

  it("keeps profiles sharing timestamps on, and a millisecond either side of, every boundary exactly once", async () => {
    const { emulator, client, sent } = setup();
    const times = onBoundaries(
      [...Array<number>(100).fill(T0), ...Array<number>(100).fill(T0 + 80_000)],
      8,
      1,
      40,
    );
    // Whole seconds just below the boundaries too (they are whole seconds here).
    times.push(...partitionBoundaries(T0, T0 + 80_001, 8).flatMap((b) => Array<number>(40).fill(b - 1000)));
    const expected = addProfiles(emulator.state, times);
    const ids = await collect(
      partitionedItems(client, { ...EIGHT, method: "GET", path: "/api/profiles", operation: "get_profiles" }),
    );
    expectExactlyOnce(ids, expected);
    const filters = walkFilters(sent, "/api/profiles");
    expect(filters.size).toBe(8); // every boundary proven, none merged
    // Strict operators only: the item on a boundary is selected by greater-than(b - 1 ms), and the items just
    // below it that this also selects are dropped by their reported value.
    expect(filters).toContain(
      "and(greater-than(created,2025-01-01T00:00:09.999Z),less-than(created,2025-01-01T00:00:20Z))",
    );
  });

  it("keeps profiles exactly once when every second of the range holds several", async () => {
    const { emulator, client, sent } = setup();
    // Whole seconds: Klaviyo's (and the emulator's) `created` has no finer resolution.
    const times = Array.from({ length: 11 }, (_, s) => Array<number>(20).fill(T0 + s * 1000)).flat();
    const expected = addProfiles(emulator.state, times);
    const ids = await collect(
      partitionedItems(client, {
        ...EIGHT,
        method: "GET",
        path: "/api/profiles",
        operation: "get_profiles",
        pageSize: 7,
      }),
    );
    expectExactlyOnce(ids, expected);
    expect(walkFilters(sent, "/api/profiles").size).toBe(8);
  });

  it("keeps events sharing timestamps on, and a second either side of, every boundary exactly once", async () => {
    const { emulator, client } = setup();
    const ends = [...Array<number>(30).fill(T0), ...Array<number>(30).fill(T0 + 800_000)];
    const expected = addEvents(emulator.state, onBoundaries(ends, 8, 1000, 25));
    const ids = await collect(
      partitionedItems(client, { method: "GET", path: "/api/events", operation: "get_events", pageSize: 13 }),
    );
    expectExactlyOnce(ids, expected);
  });

  it("keeps list members joining on the boundaries exactly once (joined_group_at)", async () => {
    const { emulator, client, sent } = setup();
    const listId = seedList(emulator.state, "Partitioned", T0);
    const joins = onBoundaries([T0, T0, T0 + 40_000, T0 + 40_000], 4, 1, 10);
    const profiles = addProfiles(
      emulator.state,
      joins.map(() => T0),
    );
    profiles.forEach((id, i) => {
      addMember(emulator.state, listId, id, joins[i] as number);
    });
    const path = `/api/lists/${listId}/profiles`;
    const ids = await collect(
      partitionedItems(client, {
        method: "GET",
        path,
        operation: "get_profiles_for_list",
        partitions: 4,
        sizeToData: false,
      }),
    );
    expectExactlyOnce(ids, profiles);
    expect(walkFilters(sent, path).size).toBe(4);
  });

  it("still yields every profile exactly once under resets and 500s (GETs are retried)", async () => {
    const { emulator, client, sent } = setup({ seedProfiles: 2000 }, false);
    const expected = [...emulator.state.profiles.values()].map((p) => p.id);
    emulator.setFaults([
      { kind: "reset", probability: 0.05 },
      { kind: "500", probability: 0.05 },
    ]);
    const ids = await collect(
      partitionedItems(client, {
        method: "GET",
        path: "/api/profiles",
        operation: "get_profiles",
        pageSize: 20,
      }),
    );
    expectExactlyOnce(ids, expected);
    // Faults did fire (over 100 requests at 10%): some requests were sent more than once.
    expect(new Set(sent.map(String)).size).toBeLessThan(sent.length);
  });

  it("keeps the caller's filter: the same items as one sequential walk with it", async () => {
    const { emulator, client, sent } = setup({ seedProfiles: 1200 });
    const times = [...emulator.state.profiles.values()].map((p) => Date.parse(String(p.attributes.created)));
    const cut = new Date(times[300] as number).toISOString();
    const query = { filter: `greater-than(created,${cut})`, "fields[profile]": "email" };
    const sequential = await collect(
      client.paginateItems({ method: "GET", path: "/api/profiles", operation: "get_profiles", query }),
    );
    expect(sequential.length).toBe(899);
    const ids = await collect(
      partitionedItems(client, { method: "GET", path: "/api/profiles", operation: "get_profiles", query }),
    );
    expectExactlyOnce(ids, sequential);
    const filters = [...walkFilters(sent, "/api/profiles")].filter((f) => f.includes("less-than"));
    expect(filters.length).toBeGreaterThan(1);
    for (const f of filters) expect(f.startsWith(`and(greater-than(created,${cut}),`)).toBe(true);
  });

  it("keeps a caller's filter on another field, and from / to", async () => {
    const { emulator, client } = setup({ seedProfiles: 20, seedEvents: 900 });
    const metric = [...emulator.state.metrics.values()][0];
    if (!metric) throw new Error("no metric");
    const from = new Date(Date.parse(String([...emulator.state.events.values()][100]?.attributes.datetime)));
    const to = new Date(Date.parse(String([...emulator.state.events.values()][700]?.attributes.datetime)));
    const expected = [...emulator.state.events.values()]
      .filter((e) => e.metricId === metric.id)
      .filter((e) => {
        const t = Date.parse(String(e.attributes.datetime));
        return t >= from.getTime() && t < to.getTime();
      })
      .map((e) => e.id);
    expect(expected.length).toBe(200);
    const ids = await collect(
      partitionedItems(client, {
        method: "GET",
        path: "/api/events",
        operation: "get_events",
        query: { filter: `equals(metric_id,'${metric.id}')` },
        from,
        to,
      }),
    );
    expectExactlyOnce(ids, expected);

    const profiles = setup();
    // Seconds apart: `created` is reported in whole seconds.
    const seconds = [T0, T0 + 1000, T0 + 2000, T0 + 2000, T0 + 3000, T0 + 5000];
    const created = addProfiles(profiles.emulator.state, seconds);
    const bounded = await collect(
      partitionedItems(profiles.client, {
        method: "GET",
        path: "/api/profiles",
        operation: "get_profiles",
        from: new Date(T0 + 2000),
        to: new Date(T0 + 5000),
        partitions: 3,
      }),
    );
    expectExactlyOnce(bounded, created.slice(2, 5));
  });

  it("falls back to one sequential walk where the endpoint has no partition field", async () => {
    const { emulator, client, sent } = setup();
    for (let i = 0; i < 25; i++) seedList(emulator.state, `List ${i}`, T0 + i * 1000);
    const ids = await collect(
      partitionedItems(client, { method: "GET", path: "/api/lists", operation: "get_lists", pageSize: 10 }),
    );
    expectExactlyOnce(
      ids,
      [...emulator.state.lists.values()].map((l) => l.id),
    );
    // One walk in the endpoint's order: three pages, no probe, no filter.
    expect(sent.map((u) => u.searchParams.get("page[size]"))).toEqual(["10", "10", "10"]);
    expect(sent.every((u) => !u.searchParams.has("filter") && !u.searchParams.has("sort"))).toBe(true);
    await expect(
      collect(
        partitionedItems(client, {
          method: "GET",
          path: "/api/lists",
          operation: "get_lists",
          from: new Date(T0),
        }),
      ),
    ).rejects.toThrow(/no field/);
  });

  it("stops at limit, without walking the rest", async () => {
    const { emulator, client, sent } = setup({ seedProfiles: 5000 });
    const all = new Set([...emulator.state.profiles.values()].map((p) => p.id));
    const ids = await collect(
      partitionedItems(client, {
        method: "GET",
        path: "/api/profiles",
        operation: "get_profiles",
        limit: 250,
      }),
    );
    expect(ids).toHaveLength(250);
    expect(new Set(ids).size).toBe(250);
    for (const id of ids) expect(all.has(id)).toBe(true);
    // Pages of at most `limit`, a few per partition at most: far from the 5,000 profiles.
    const walked = sent.filter((u) => u.searchParams.get("page[size]") !== "1");
    expect(walked.length).toBeLessThanOrEqual(8 * 2 + 4);
  });

  it("buffers at most two pages per running partition while the consumer waits", async () => {
    const { client, sent } = setup({ seedProfiles: 3000 });
    const items = partitionedItems(client, {
      method: "GET",
      path: "/api/profiles",
      operation: "get_profiles",
      pageSize: 20,
      concurrency: 3,
    });
    await items.next();
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    const walked = sent.filter((u) => u.searchParams.get("page[size]") !== "1");
    // Three partitions running: their first pages, and one more for the partition being consumed.
    expect(walked.length).toBeLessThanOrEqual(3 * 2);
    await items.return(undefined);
  });

  it("property: over random timestamps (with duplicates) and partition counts, each profile exactly once", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 60 }),
        fc.constantFrom(1, 7, 250, 1000),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 5 }),
        fc.boolean(),
        async (offsets, unit, partitions, concurrency, atBoundaries) => {
          const { emulator, client } = setup({}, false);
          const base = offsets.map((o) => T0 + o * unit);
          const times = atBoundaries ? onBoundaries(base, partitions, 1) : base;
          const expected = addProfiles(emulator.state, times);
          const ids = await collect(
            partitionedItems(client, {
              method: "GET",
              path: "/api/profiles",
              operation: "get_profiles",
              partitions,
              concurrency,
              pageSize: 3,
            }),
          );
          expectExactlyOnce(ids, expected);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("property: the same for events (inclusive lower bounds)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 50 }),
        fc.constantFrom(1000, 60_000),
        fc.integer({ min: 1, max: 12 }),
        async (offsets, unit, partitions) => {
          const { emulator, client } = setup({}, false);
          const base = offsets.map((o) => T0 + o * unit);
          // Events keep whole seconds: items on a boundary are those on its second.
          const times = onBoundaries(base, partitions, 1000).map((t) => Math.floor(t / 1000) * 1000);
          const expected = addEvents(emulator.state, times);
          const ids = await collect(
            partitionedItems(client, {
              method: "GET",
              path: "/api/events",
              operation: "get_events",
              partitions,
              pageSize: 4,
            }),
          );
          expectExactlyOnce(ids, expected);
        },
      ),
      { numRuns: 30 },
    );
  });
});

/**
 * A `/api/profiles` with times in microseconds, finer than the filter's `b - 1 ms` step, reported in full
 * (`exact`), truncated to the millisecond (`truncate`: a server that reports less than it compares, as Klaviyo
 * reports whole seconds), or rounded to the nearest millisecond (`round`: reports can exceed the true value).
 * It honours `fields[profile]`.
 */
function microServer(micros: readonly number[], report: "exact" | "truncate" | "round") {
  const rows = micros.map((us, i) => ({ id: `p${String(i).padStart(4, "0")}`, us }));
  const text = (us: number) => {
    const ms = report === "round" ? Math.round(us / 1000) : Math.floor(us / 1000);
    const iso = new Date(ms).toISOString().slice(0, -1);
    return report === "exact" ? `${iso}${String(us % 1000).padStart(3, "0")}+00:00` : `${iso}+00:00`;
  };
  const parse = (value: string) => {
    const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(value);
    if (!m) throw new Error(`bad datetime ${value}`);
    return Date.parse(`${m[1]}${m[3]}`) * 1000 + Number((m[2] ?? "").padEnd(6, "0").slice(0, 6));
  };
  const requests: URL[] = [];
  const fetch = async (input: string | URL | Request): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    requests.push(url);
    const params = url.searchParams;
    let matching = rows.filter((row) =>
      [...(params.get("filter") ?? "").matchAll(/(greater-than|less-than)\(created,([^,()]+)\)/g)].every(
        ([, op, value]) =>
          op === "greater-than" ? row.us > parse(value ?? "") : row.us < parse(value ?? ""),
      ),
    );
    const sort = params.get("sort");
    if (sort) {
      const sign = sort.startsWith("-") ? -1 : 1;
      matching = [...matching].sort((a, b) => sign * (a.us - b.us) || a.id.localeCompare(b.id));
    }
    const size = Number(params.get("page[size]") ?? 20);
    const start = Number(params.get("page[cursor]") ?? 0);
    const page = matching.slice(start, start + size);
    const next = new URL(url);
    next.searchParams.set("page[cursor]", String(start + size));
    const fields = params.get("fields[profile]")?.split(",");
    const body = {
      data: page.map((row) => ({
        type: "profile",
        id: row.id,
        attributes: fields && !fields.includes("created") ? {} : { created: text(row.us) },
      })),
      links: { self: url.toString(), next: start + size < matching.length ? next.toString() : null },
    };
    return new Response(JSON.stringify(body), { headers: { "content-type": "application/vnd.api+json" } });
  };
  const client = new KlaviyoClient({ apiKey: KEY, baseUrl: "http://micro.test", fetch, rateLimiter: false });
  return { rows, client, requests };
}

describe("strict operators over finer-than-millisecond times", () => {
  const options: PartitionOptions = {
    method: "GET",
    path: "/api/profiles",
    operation: "get_profiles",
    pageSize: 5,
    sizeToData: false,
  };
  // Boundaries at T0 + 10 s, 20 s, 30 s; items on them, 1 ms and half a millisecond below, 1 µs above.
  const micros = [0, 40_000_000].flatMap((s) => [T0 * 1000 + s]);
  for (const b of partitionBoundaries(T0, T0 + 40_001, 4)) {
    micros.push(...[-1000, -500, -1, 0, 1].map((d) => b * 1000 + d));
  }

  /** The one-item requests: probes of the range and checks of boundaries. */
  const probes = (requests: readonly URL[]) =>
    requests.filter((u) => u.searchParams.get("page[size]") === "1");

  for (const report of ["exact", "truncate"] as const) {
    it(`keeps every boundary with no request but the range's two probes, dropping by reported value (${report})`, async () => {
      const { rows, client, requests } = microServer(micros, report);
      const ids = await collect(partitionedItems(client, { ...options, partitions: 4 }));
      expectExactlyOnce(
        ids,
        rows.map((r) => r.id),
      );
      const filters = walkFilters(requests, "/api/profiles");
      expect(filters.size).toBe(4);
      expect([...filters].join(" ")).toContain("greater-than(created,2025-01-01T00:00:09.999Z)");
      // Only the oldest and the newest item were probed: the boundaries cost nothing.
      expect(probes(requests).map((u) => u.searchParams.get("sort"))).toEqual(["created", "-created"]);
    });
  }

  it("with the field hidden by a sparse fieldset: finds the item b - 1 ms would double-count, probes the latest value below b, and keeps the boundary", async () => {
    const { rows, client, requests } = microServer(micros, "exact");
    const ids = await collect(
      partitionedItems(client, { ...options, partitions: 4, query: { "fields[profile]": "email" } }),
    );
    expectExactlyOnce(
      ids,
      rows.map((r) => r.id),
    );
    expect(walkFilters(requests, "/api/profiles").size).toBe(4);
    // The probe for the latest value below the first boundary, and the bound it gave.
    expect(
      requests.some((u) => u.searchParams.get("sort") === "-created" && u.searchParams.has("filter")),
    ).toBe(true);
    expect([...walkFilters(requests, "/api/profiles")].join(" ")).toContain(
      "greater-than(created,2025-01-01T00:00:09.999999+00:00)",
    );
  });

  it("with the field hidden: merges partitions rather than risk an item when the server reports less than it compares", async () => {
    const { rows, client, requests } = microServer(micros, "truncate");
    const ids = await collect(
      partitionedItems(client, { ...options, partitions: 4, query: { "fields[profile]": "email" } }),
    );
    expectExactlyOnce(
      ids,
      rows.map((r) => r.id),
    );
    // No boundary can be proven (the reported value hides the item just below each): one partition.
    expect(walkFilters(requests, "/api/profiles").size).toBe(1);
  });

  it("stops with an error, never a silent duplicate, when the server rounds its reported times up", async () => {
    const { client } = microServer(micros, "round");
    await expect(collect(partitionedItems(client, { ...options, partitions: 4 }))).rejects.toThrow(
      /does not report times as it compares them/,
    );
  });
});

describe("sizing the partitions to the collection", () => {
  it("partitionCount: one partition when the sample holds everything; whole pages per partition; never more than asked", () => {
    const T = Date.UTC(2026, 0, 1);
    // 37 items came in a 100-item page: the collection is one page.
    expect(
      partitionCount(32, 100, { time: T, sample: { count: 37, lastTime: T + 36_000 } }, T, T + 37_000),
    ).toBe(1);
    // One item a second over 20,000 s: 20,000 items, 7 pages for each of 32 walks, so 30 partitions of 7 pages.
    const even = { time: T, sample: { count: 100, lastTime: T + 99_000 } };
    expect(partitionCount(32, 100, even, T, T + 20_000_000)).toBe(30);
    // 1,000 items: 1 page each, 11 partitions rather than 32 nearly empty ones.
    expect(partitionCount(32, 100, even, T, T + 1_000_000)).toBe(11);
    // Without a sample, or a sample spread over no time, as asked.
    expect(partitionCount(8, 100, { time: T }, T, T + 1000)).toBe(8);
    expect(partitionCount(8, 100, { time: T, sample: { count: 100, lastTime: T } }, T, T + 1000)).toBe(8);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 1e9 }),
        fc.integer({ min: 0, max: 1e9 }),
        (requested, pageSize, count, spread, span) => {
          const n = partitionCount(
            requested,
            pageSize,
            { time: 0, sample: { count: Math.min(count, pageSize), lastTime: spread } },
            0,
            span,
          );
          expect(Number.isInteger(n) && n >= 1 && n <= Math.max(1, requested)).toBe(true);
        },
      ),
    );
  });

  it("a collection that fits in one page costs the two probes and one walk, and yields every item once", async () => {
    const { emulator, client, sent } = setup({ seedProfiles: 40 });
    const ids = await collect(
      partitionedItems(client, {
        method: "GET",
        path: "/api/profiles",
        operation: "get_profiles",
        partitions: 32,
        concurrency: 32,
      }),
    );
    expectExactlyOnce(
      ids,
      [...emulator.state.profiles.values()].map((p) => p.id),
    );
    expect(sent.filter((u) => u.pathname === "/api/profiles")).toHaveLength(3);
  });

  it("an even 3,000-profile account: partitions of whole pages, about one part-filled page each", async () => {
    const { emulator, client, sent } = setup({ seedProfiles: 3000 });
    const ids = await collect(
      partitionedItems(client, {
        method: "GET",
        path: "/api/profiles",
        operation: "get_profiles",
        partitions: 8,
        concurrency: 8,
      }),
    );
    expectExactlyOnce(
      ids,
      [...emulator.state.profiles.values()].map((p) => p.id),
    );
    const walks = sent.filter((u) => u.pathname === "/api/profiles" && !u.searchParams.has("sort"));
    // 30 pages of data; cut to whole pages, at most one page more than the data for every partition.
    expect(walks.length).toBeGreaterThanOrEqual(30);
    expect(walks.length).toBeLessThanOrEqual(30 + walkFilters(sent, "/api/profiles").size);
  });
});

describe("--all --parallel", () => {
  it("streams a list action's items exactly once, in partitions, to the stream it is given", async () => {
    const { emulator, client, sent } = setup({ seedProfiles: 700 });
    const ids: string[] = [];
    const sink = (items: readonly unknown[]) => {
      for (const item of items) ids.push((item as Item).id);
    };
    const output = await runAction(
      "list-profile",
      { pageSize: 40 },
      { client, stream: { sink, partitions: { partitions: 5, concurrency: 2 } } },
    );
    expectExactlyOnce(
      ids,
      [...emulator.state.profiles.values()].map((p) => p.id),
    );
    expect(output).toMatchObject({ data: [] });
    expect(walkFilters(sent, "/api/profiles").size).toBe(5);
  });

  it("the CLI: the same items as --all, sequential where the endpoint cannot be partitioned", async () => {
    requireBuild();
    const emulator = await startCliEmulator([
      "--api-key",
      KEY,
      "--rate-limits",
      "off",
      "--seed-profiles",
      "300",
      "--seed",
      "demo",
    ]);
    try {
      const env = { KLAVIYO_API_KEY: KEY, KLAVIYO_BASE_URL: emulator.url };
      const lines = (stdout: string) =>
        stdout
          .trim()
          .split("\n")
          .map((l) => (JSON.parse(l) as { id: string }).id);
      const all = await runCli(["run", "list-profile", "--all", "--page-size", "30"], env);
      const parallel = await runCli(
        ["run", "list-profile", "--all", "--parallel", "3", "--page-size", "30"],
        env,
      );
      expect([parallel.code, parallel.stderr]).toEqual([0, ""]);
      expectExactlyOnce(lines(parallel.stdout), lines(all.stdout));
      const lists = await runCli(["run", "list-lists", "--all", "--parallel"], env);
      const listsAll = await runCli(["run", "list-lists", "--all"], env);
      expect(lines(lists.stdout)).toEqual(lines(listsAll.stdout));
      const alone = await runCli(["run", "list-profile", "--parallel", "2"], env);
      expect(alone.code).toBe(2);
      expect(alone.stderr).toMatch(/--parallel.*needs --all/);
      const zero = await runCli(["run", "list-profile", "--all", "--parallel", "0"], env);
      expect(zero.code).toBe(2);
    } finally {
      await emulator.stop();
    }
  });
});
