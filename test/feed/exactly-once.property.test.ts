/**
 * Property: whatever the interleaving of writes, clock moves, runs and crashes, the profiles feed never delivers a
 * change twice, delivers each profile first as `created`, and, once the writes stop, has delivered every
 * profile's latest version. Against the emulator through real HTTP, on a fake clock (the feed's 1.5 s ahead, so
 * runs read seconds still being written and ties land at the checkpoint).
 */
import fc from "fast-check";
import { expect, it } from "vitest";
import type { FeedCheckpoint } from "../../src/feed/index.js";
import { feedSetup } from "./helpers.js";

type Step =
  | { kind: "create" }
  | { kind: "update"; which: number }
  | { kind: "advance"; ms: number }
  | { kind: "run"; stopAfter: number | undefined; pageSize: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Step>({ kind: "create" }) },
  { weight: 2, arbitrary: fc.nat(50).map<Step>((which) => ({ kind: "update", which })) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 2500 }).map<Step>((ms) => ({ kind: "advance", ms })) },
  {
    weight: 2,
    arbitrary: fc
      .record({
        stopAfter: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined }),
        pageSize: fc.integer({ min: 1, max: 4 }),
      })
      .map<Step>((r) => ({ kind: "run", ...r })),
  },
);

it("property: no change delivered twice, each profile first as created, every latest version delivered", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 40 }), async (steps) => {
      const s = feedSetup({ skewMs: 1500 });
      let checkpoint: FeedCheckpoint | undefined = (
        await s.run({ stream: "profiles", since: new Date(s.clock.now() - 100) })
      ).checkpoint;
      const ids: string[] = [];
      const delivered = new Set<string>();
      const firstKind = new Map<string, string>();
      let n = 0;
      const read = async (stopAfter: number | undefined, pageSize: number) => {
        const run = await s.run({ stream: "profiles", checkpoint, pageSize }, stopAfter);
        for (const c of run.changes) {
          const key = `${c.record.id} ${c.at}`;
          expect(delivered.has(key), `delivered twice: ${key}`).toBe(false);
          delivered.add(key);
          if (!firstKind.has(c.record.id)) firstKind.set(c.record.id, c.change);
        }
        checkpoint = run.checkpoint ?? checkpoint;
      };
      for (const st of steps) {
        if (st.kind === "create") {
          const res = await s.client.request<{ data: { id: string } }>({
            method: "POST",
            path: "/api/profiles",
            body: { data: { type: "profile", attributes: { email: `prop-${++n}@example.com` } } },
          });
          ids.push(res.body.data.id);
        } else if (st.kind === "update" && ids.length > 0) {
          const id = ids[st.which % ids.length] as string;
          await s.client.request({
            method: "PATCH",
            path: `/api/profiles/${id}`,
            body: { data: { type: "profile", id, attributes: { first_name: `v${++n}` } } },
          });
        } else if (st.kind === "advance") s.clock.advance(st.ms);
        else if (st.kind === "run") await read(st.stopAfter, st.pageSize);
      }
      s.clock.advance(3000);
      await read(undefined, 3);
      for (const id of ids) {
        const got = await s.client.request<{ data: { attributes: { updated: string } } }>({
          method: "GET",
          path: `/api/profiles/${id}`,
        });
        const at = new Date(Date.parse(got.body.data.attributes.updated)).toISOString().replace(".000Z", "Z");
        expect(delivered.has(`${id} ${at}`), `latest version of ${id} not delivered`).toBe(true);
        expect(firstKind.get(id)).toBe("created");
      }
    }),
    { numRuns: 25 },
  );
});
