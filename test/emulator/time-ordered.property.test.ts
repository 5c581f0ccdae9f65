/**
 * The emulator answers a filter on profiles' `created` by skipping to the first row inside its bounds (rows are kept
 * in creation order, and `created` never decreases along it). A shortcut only: for any bounds, page size and walk,
 * the profiles answered are exactly those a test of every row would give, in the same order.
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { createEmulator } from "../../src/emulator/index.js";
import { Table } from "../../src/emulator/store.js";

const KEY = "pk_time_ordered_test_0000000000000000";
const emulator = createEmulator({ apiKeys: [{ key: KEY }], rateLimits: "off", seedProfiles: 240 });
const headers = {
  Authorization: `Klaviyo-API-Key ${KEY}`,
  revision: "2026-07-15",
  Accept: "application/vnd.api+json",
};

interface Profile {
  id: string;
  attributes: { created: string; updated: string };
}

async function walk(query: string): Promise<Profile[]> {
  const items: Profile[] = [];
  let next: string | undefined = `${emulator.baseUrl}/api/profiles?${query}`;
  while (next) {
    const res = await emulator.fetch(new Request(next, { headers }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: Profile[]; links: { next?: string } };
    items.push(...body.data);
    next = body.links.next;
  }
  return items;
}

// Get Profiles allows only these on `created` (and `updated`).
const OPERATORS = {
  "greater-than": (t: number, b: number) => t > b,
  "less-than": (t: number, b: number) => t < b,
} as const;
type Operator = keyof typeof OPERATORS;

/** Profiles made in two groups of `n / 2`, each group in one second (Klaviyo's resolution): `created` has long ties. */
async function makeTied(n: number): Promise<void> {
  const at = Date.now();
  const now = vi.spyOn(Date, "now");
  for (let i = 0; i < n; i++) {
    now.mockReturnValue(at + (i < n / 2 ? 0 : 1000));
    const res = await emulator.fetch(
      new Request(`${emulator.baseUrl}/api/profiles`, {
        method: "POST",
        headers: { ...headers, "Content-Type": "application/vnd.api+json" },
        body: JSON.stringify({ data: { type: "profile", attributes: { email: `tied${i}@example.com` } } }),
      }),
    );
    expect(res.status).toBe(201);
  }
  now.mockRestore();
}

describe("a filter on created, answered from the first row inside its bounds", () => {
  it("property: the same profiles, in the same order, as testing every row", async () => {
    await makeTied(40);
    const all = await walk("page%5Bsize%5D=100");
    expect(all).toHaveLength(280);
    const created = all.map((p) => p.attributes.created);
    expect(new Set(created).size, "two groups of 20 share a created time").toBe(created.length - 38);
    const times = all.map((p) => Date.parse(p.attributes.created));
    const lo = times[0] as number;
    const hi = times.at(-1) as number;
    const bound = fc.integer({ min: lo - 2000, max: hi + 2000 });
    const condition = fc.tuple(fc.constantFrom(...(Object.keys(OPERATORS) as Operator[])), bound);
    await fc.assert(
      fc.asyncProperty(
        fc.array(condition, { minLength: 1, maxLength: 3 }),
        fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 100 })),
        fc.option(bound, { nil: undefined }),
        fc.constantFrom(undefined, "created", "-created"),
        async (conditions, size, updatedBefore, sort) => {
          const text = conditions.map(([op, b]) => `${op}(created,${new Date(b).toISOString()})`);
          // A condition on another field beside the bounds, which the shortcut must leave to the row test.
          if (updatedBefore !== undefined)
            text.push(`less-than(updated,${new Date(updatedBefore).toISOString()})`);
          const filter = text.length === 1 ? (text[0] as string) : `and(${text.join(",")})`;
          const sorted = sort ? `&sort=${sort}` : "";
          const got = await walk(`filter=${encodeURIComponent(filter)}&page%5Bsize%5D=${size}${sorted}`);
          const matched = all.filter(
            (p, i) =>
              conditions.every(([op, b]) => OPERATORS[op](times[i] as number, b)) &&
              (updatedBefore === undefined || Date.parse(p.attributes.updated) < updatedBefore),
          );
          // Sorted by created, ties in creation order (the unsorted walk's), whichever the direction.
          const place = new Map(all.map((p, i) => [p.id, i]));
          const want = sort
            ? [...matched].sort((a, b) => {
                const byTime = Date.parse(a.attributes.created) - Date.parse(b.attributes.created);
                const direction = sort === "-created" ? -1 : 1;
                return byTime !== 0
                  ? byTime * direction
                  : (place.get(a.id) as number) - (place.get(b.id) as number);
              })
            : matched;
          expect(got.map((p) => p.id)).toEqual(want.map((p) => p.id));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("Table: rows in order, and whether a time never decreases along them", () => {
  const row = (id: string, seq: number, created: number) => ({ id, seq, attributes: { created } });
  const time = (r: { attributes: { created: number } }) => r.attributes.created;

  it("is checked once per set of rows, and again after an insert or a delete", () => {
    const table = new Table([row("a", 1, 10), row("b", 2, 20)]);
    expect(table.ordered().map((r) => r.id)).toEqual(["a", "b"]);
    expect(table.nonDecreasing("created", time)).toBe(true);
    table.insert(row("c", 3, 5)); // a clock set back
    expect(table.ordered().map((r) => r.id)).toEqual(["a", "b", "c"]);
    expect(table.nonDecreasing("created", time)).toBe(false);
    table.delete("c");
    expect(table.nonDecreasing("created", time)).toBe(true);
    table.insert(row("d", 4, 30));
    expect(table.nonDecreasing("created", () => undefined)).toBe(false);
  });
});
