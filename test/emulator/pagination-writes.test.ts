/**
 * Cursors stay valid while data changes underneath a walk: whatever is created, updated or deleted between
 * pages, every profile that exists for the whole walk is served exactly once. (A profile whose sort key itself
 * changes mid-walk moves in the order, so it may be met again after the cursor: keyset pagination, Klaviyo's
 * included, cannot promise otherwise.)
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KlaviyoClient } from "../../src/core/client.js";
import { createEmulator } from "../../src/emulator/index.js";
import { insertProfile } from "../../src/emulator/resources/profile-model.js";
import { checkedFetch } from "../helpers/contract.js";

const KEY = "pk_pagination_writes_key_0123456789";

type Op =
  | { kind: "create"; n: number }
  | { kind: "rename"; index: number; n: number }
  | { kind: "drop"; index: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("create" as const), n: fc.nat(10_000) }),
  fc.record({ kind: fc.constant("rename" as const), index: fc.nat(200), n: fc.nat(10_000) }),
  fc.record({ kind: fc.constant("drop" as const), index: fc.nat(200) }),
);

describe("pagination under concurrent writes", () => {
  it("every profile present for the whole walk appears exactly once, for any interleaving of writes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 7 }),
        fc.constantFrom(undefined, "email", "-email", "created", "-id"),
        fc.array(fc.array(op, { maxLength: 4 }), { maxLength: 20 }),
        async (initial, pageSize, sort, writesBetweenPages) => {
          const emulator = createEmulator({
            apiKeys: [{ key: KEY }],
            rateLimits: "off",
            seedProfiles: initial,
          });
          const client = new KlaviyoClient({
            apiKey: KEY,
            baseUrl: emulator.baseUrl,
            fetch: checkedFetch(emulator.fetch),
            rateLimiter: false,
          });
          const state = emulator.state;
          const everPresent = new Set([...state.profiles.values()].map((p) => p.id));
          const removed = new Set<string>();
          const moved = new Set<string>();
          const seen: string[] = [];
          let page = 0;
          for await (const p of client.paginate<{ id: string }>({
            method: "GET",
            path: "/api/profiles",
            pageSize,
            ...(sort ? { query: { sort } } : {}),
          })) {
            seen.push(...p.data.map((d) => d.id));
            // Writes between this page and the next: through the state, as another client's calls would leave it.
            for (const w of writesBetweenPages[page++] ?? []) {
              const rows = [...state.profiles.values()];
              if (w.kind === "create") {
                const row = insertProfile(state, {
                  email: `new${w.n}-${rows.length}@example.com`,
                });
                removed.add(row.id); // not present for the whole walk: may or may not be seen
              } else if (rows.length > 0) {
                const row = rows[w.index % rows.length];
                if (!row) continue;
                if (w.kind === "drop") {
                  state.profiles.delete(row.id);
                  removed.add(row.id);
                } else {
                  // A changed sort key moves the row: it is no longer "the same place" for the walk.
                  row.attributes = { ...row.attributes, email: `renamed${w.n}@example.com` };
                  if (sort?.includes("email")) moved.add(row.id);
                }
              }
            }
          }
          const counts = new Map<string, number>();
          for (const id of seen) counts.set(id, (counts.get(id) ?? 0) + 1);
          // Only a row whose sort key changed mid-walk may be met twice (it moved past the cursor), as on Klaviyo.
          for (const [id, n] of counts) if (!moved.has(id)) expect(n, id).toBe(1);
          for (const id of everPresent)
            if (!removed.has(id) && !moved.has(id)) expect(counts.get(id), id).toBe(1);
        },
      ),
      { numRuns: 60 },
    );
  });
});
