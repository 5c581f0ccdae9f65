import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_SCOPES } from "../../src/actions/connections.js";
import { runActionByKey } from "../../src/actions/index.js";
import {
  chunk,
  MAX_PROFILES_PER_MEMBERSHIP_REQUEST,
  type MembershipResult,
} from "../../src/actions/members.js";
import { KlaviyoClient } from "../../src/core/client.js";
import { NotFoundError } from "../../src/core/errors.js";
import { insertList } from "../../src/emulator/resources/lists-model.js";
import { insertProfile } from "../../src/emulator/resources/profile-model.js";
import { isoNow } from "../../src/emulator/store.js";
import { expectNoContractProblems } from "../helpers/contract.js";
import { ACTION_KEY, actionsSetup, bodyOf, refused } from "./helpers.js";

type Added = MembershipResult & { added: number };
type Removed = MembershipResult & { removed: number };
interface Doc {
  data: { id: string; attributes: Record<string, unknown> };
}
interface ListResult {
  data: Array<{ id: string; attributes: Record<string, unknown> }>;
  nextCursor?: string;
  pages: number;
}

describe("chunking (property)", () => {
  it("any number of IDs goes in runs of at most 1,000, each ID exactly once, in order", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 4 }), { maxLength: 3500 }),
        fc.integer({ min: 1, max: 1500 }),
        (ids, size) => {
          for (const limit of [MAX_PROFILES_PER_MEMBERSHIP_REQUEST, size]) {
            const parts = chunk(ids, limit);
            expect(parts.flat()).toEqual(ids);
            for (const part of parts) {
              expect(part.length).toBeGreaterThan(0);
              expect(part.length).toBeLessThanOrEqual(limit);
            }
            // As few requests as the limit allows: only the last run is short.
            expect(parts.length).toBe(Math.ceil(ids.length / limit));
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

/** A list and `n` profiles in the emulator, made directly (fast), with their ids and emails. */
function withProfiles(n: number) {
  const setup = actionsSetup();
  const { state } = setup.emulator;
  const ids: string[] = [];
  const emails: string[] = [];
  const now = Date.now();
  for (let i = 0; i < n; i++) {
    const email = `member${i}@example.com`;
    ids.push(insertProfile(state, { email }, now - (n - i) * 1000).id);
    emails.push(email);
  }
  return { ...setup, ids, emails };
}

describe("Add Profiles to List", () => {
  it("adds by ID and by email (looked up), reports emails no profile has, and sends each profile once", async () => {
    const { run, sent, emulator, ids, emails } = withProfiles(3);
    const list = await run<Doc>("create-list", { listName: "Members" });
    const before = sent.length;
    const result = await run<Added>("add-profiles-to-list", {
      listId: list.data.id,
      profileIds: [ids[0], ids[0]],
      emails: [emails[0]?.toUpperCase(), emails[1], "nobody@example.com"],
    });
    expect(result.added).toBe(2);
    expect(result.profileIds).toEqual([ids[0], ids[1]]);
    expect(result.notFound).toEqual({ profileIds: [], emails: ["nobody@example.com"] });
    expect(result.complete).toBe(false);
    expect(result.requests).toEqual([
      { from: 0, to: 2, status: "done", sent: 2, notFound: [], httpStatus: 204 },
    ]);
    // One lookup (Get Profiles, any(email,…)), then one POST of the two IDs.
    const lookup = sent[before] as Request;
    expect(new URL(lookup.url).pathname).toBe("/api/profiles");
    expect(new URL(lookup.url).searchParams.get("filter")).toBe(
      `any(email,['${emails[0]?.toUpperCase()}','${emails[0]}','${emails[1]}','nobody@example.com'])`,
    );
    const post = sent.at(-1) as Request;
    expect(post.method).toBe("POST");
    expect(await bodyOf(post)).toEqual({
      data: [
        { type: "profile", id: ids[0] },
        { type: "profile", id: ids[1] },
      ],
    });
    const members = emulator.state.memberships.get(list.data.id);
    expect([...(members?.keys() ?? [])]).toEqual([ids[0], ids[1]]);
    expectNoContractProblems();
  });

  it("sends 2,500 profiles in requests of 1,000, 1,000 and 500", async () => {
    const { run, sent, emulator, ids } = withProfiles(2500);
    const list = await run<Doc>("create-list", { listName: "Big" });
    const before = sent.length;
    const result = await run<Added>("add-profiles-to-list", { listId: list.data.id, profileIds: ids });
    expect(result.added).toBe(2500);
    expect(result.complete).toBe(true);
    expect(result.requests.map((r) => [r.from, r.to, r.sent])).toEqual([
      [0, 1000, 1000],
      [1000, 2000, 1000],
      [2000, 2500, 500],
    ]);
    const posts = sent.slice(before);
    expect(posts).toHaveLength(3);
    const sizes = await Promise.all(posts.map(async (p) => ((await bodyOf(p)).data as unknown[]).length));
    expect(sizes).toEqual([1000, 1000, 500]);
    expect(emulator.state.memberships.get(list.data.id)?.size).toBe(2500);
  });

  it("reports IDs no profile has and still adds the others of their request", async () => {
    const { run, emulator, ids } = withProfiles(4);
    const list = await run<Doc>("create-list", { listName: "Partly" });
    const result = await run<Added>("add-profiles-to-list", {
      listId: list.data.id,
      profileIds: [ids[0], "01NOPROFILE000000000000000", ids[1], "01NOPROFILE000000000000001", ids[2]],
    });
    expect(result.added).toBe(3);
    expect(result.notFound.profileIds.sort()).toEqual([
      "01NOPROFILE000000000000000",
      "01NOPROFILE000000000000001",
    ]);
    expect(result.complete).toBe(false);
    expect(result.requests[0]).toMatchObject({ status: "done", sent: 3 });
    expect([...(emulator.state.memberships.get(list.data.id)?.keys() ?? [])]).toEqual(ids.slice(0, 3));
  });

  it("reports the request that failed part-way and leaves the later ones unsent (the list deleted meanwhile)", async () => {
    const { emulator, ids } = withProfiles(2500);
    const listId = insertList(emulator.state, "Doomed").id;
    let posts = 0;
    const client = new KlaviyoClient({
      apiKey: ACTION_KEY,
      baseUrl: emulator.baseUrl,
      rateLimiter: false,
      retry: { maxRetries: 0 },
      fetch: async (input, init) => {
        const request = new Request(input, init);
        if (request.method === "POST" && ++posts === 2) emulator.state.lists.delete(listId);
        return emulator.fetch(request);
      },
    });
    const result = (await runActionByKey(
      "add-profiles-to-list",
      { listId, profileIds: ids },
      { client },
    )) as Added;
    expect(result.added).toBe(1000);
    expect(result.requests.map((r) => r.status)).toEqual(["done", "failed", "unsent"]);
    expect(result.requests[1]?.httpStatus).toBe(404);
    expect(result.failed).toEqual(ids.slice(1000, 2000));
    expect(result.unsent).toEqual(ids.slice(2000));
    expect(result.complete).toBe(false);
    expect(posts).toBe(2);
  });

  it("an unknown list fails with a NotFoundError; no input, or a bad one, is refused before sending", async () => {
    const { run, sent, ids } = withProfiles(1);
    await expect(run("add-profiles-to-list", { listId: "Nope12", profileIds: ids })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    const count = sent.length;
    const nothing = await refused(run("add-profiles-to-list", { listId: "Y6nRLr" }));
    expect(nothing.message).toContain("give Profile IDs, Emails or both");
    const bad = await refused(
      run("add-profiles-to-list", { listId: "Y6nRLr", profileIds: ["ok", "a b"], emails: "not-an-email" }),
    );
    expect(bad.message).toContain('Profile IDs: item 1 ("a b") must not contain spaces');
    expect(bad.message).toContain('Emails: item 0 ("not-an-email") is not an email address');
    expect(sent).toHaveLength(count);
  });

  it("takes comma-separated text, as the CLI gives it", async () => {
    const { runText, emulator, ids } = withProfiles(2);
    const list = await runText<Doc>("create-list", { listName: "Text" });
    const result = await runText<Added>("add-profiles-to-list", {
      listId: list.data.id,
      profileIds: `${ids[0]}, ${ids[1]}`,
    });
    expect(result.added).toBe(2);
    expect(emulator.state.memberships.get(list.data.id)?.size).toBe(2);
  });
});

describe("Remove Profiles from List", () => {
  it("removes by ID and by email; profiles stay, and one not in the list is left as it is", async () => {
    const { run, sent, emulator, ids, emails } = withProfiles(3);
    const list = await run<Doc>("create-list", { listName: "Leaving" });
    await run("add-profiles-to-list", { listId: list.data.id, profileIds: ids.slice(0, 2) });
    const result = await run<Removed>("remove-profiles-from-list", {
      listId: list.data.id,
      profileIds: [ids[0]],
      emails: [emails[2], "ghost@example.com"],
    });
    expect(result.removed).toBe(2);
    expect(result.notFound.emails).toEqual(["ghost@example.com"]);
    const last = sent.at(-1) as Request;
    expect(last.method).toBe("DELETE");
    expect(await bodyOf(last)).toEqual({
      data: [
        { type: "profile", id: ids[0] },
        { type: "profile", id: ids[2] },
      ],
    });
    expect([...(emulator.state.memberships.get(list.data.id)?.keys() ?? [])]).toEqual([ids[1]]);
    expect(emulator.state.profiles.get(ids[0] as string)).toBeDefined();
    expectNoContractProblems();
  });
});

describe("List Segment Profiles", () => {
  /**
   * A segment of a list's members, the profiles joining the list one second apart after the segment was made:
   * each joined the segment when it joined the list.
   */
  async function segmentOf(n: number) {
    const setup = withProfiles(n);
    const list = await setup.run<Doc>("create-list", { listName: "Source" });
    const segment = await setup.run<Doc>("create-segment", {
      name: "In the list",
      conditionGroups: [
        { conditions: [{ type: "profile-group-membership", is_member: true, group_ids: [list.data.id] }] },
      ],
    });
    const created = Date.parse(String(segment.data.attributes.created));
    const joined = setup.ids.map((_, i) => isoNow(created + (i + 1) * 1000));
    const members = setup.emulator.state.memberships.get(list.data.id);
    setup.ids.forEach((id, i) => {
      members?.set(id, joined[i] as string);
    });
    return { ...setup, segmentId: segment.data.id, listId: list.data.id, joined };
  }

  it("lists the segment's members with joined_group_at (when they joined), filtered and sorted by it", async () => {
    const { run, sent, segmentId, ids, joined } = await segmentOf(5);
    const page = await run<ListResult>("list-segment-profiles", {
      segmentId,
      pageSize: 2,
      fields: "email,joined_group_at",
    });
    expect(page.data.map((p) => p.attributes)).toEqual([
      { email: "member0@example.com", joined_group_at: joined[0] },
      { email: "member1@example.com", joined_group_at: joined[1] },
    ]);
    expect(page.nextCursor).toBeDefined();
    const url = new URL((sent.at(-1) as Request).url);
    expect(url.pathname).toBe(`/api/segments/${segmentId}/profiles`);
    expect(url.searchParams.get("fields[profile]")).toBe("email,joined_group_at");
    const next = await run<ListResult>("list-segment-profiles", {
      segmentId,
      pageSize: 2,
      cursor: page.nextCursor,
    });
    expect(next.data.map((p) => p.id)).toEqual(ids.slice(2, 4));
    const sorted = await run<ListResult>("list-segment-profiles", { segmentId, sort: "-joined_group_at" });
    expect(sorted.data.map((p) => p.id)).toEqual([...ids].reverse());
    const late = await run<ListResult>("list-segment-profiles", {
      segmentId,
      filter: `greater-or-equal(joined_group_at,${joined[3]?.replace("+00:00", "Z")})`,
    });
    expect(late.data.map((p) => p.id)).toEqual(ids.slice(3));
    const one = await run<ListResult>("list-segment-profiles", {
      segmentId,
      filter: `any(profile_id,['${ids[2]}'])`,
    });
    expect(one.data.map((p) => p.id)).toEqual([ids[2]]);
    expectNoContractProblems();
  });

  it("streams every member once, in time partitions of joined_group_at (--all)", async () => {
    const { client, sent, segmentId, ids } = await segmentOf(250);
    const seen: string[] = [];
    const result = (await runActionByKey(
      "list-segment-profiles",
      { segmentId },
      {
        client,
        stream: {
          sink: (items) => {
            for (const item of items) seen.push((item as { id: string }).id);
          },
          partitions: { partitions: 4, concurrency: 2 },
        },
      },
    )) as ListResult;
    expect(result.pages).toBeGreaterThanOrEqual(3);
    expect(seen).toHaveLength(ids.length);
    expect(new Set(seen)).toEqual(new Set(ids));
    const filters = sent.map((r) => new URL(r.url).searchParams.get("filter") ?? "");
    expect(filters.some((f) => f.includes("less-than(joined_group_at,"))).toBe(true);
  });

  it("refuses a filter on a field segments do not allow, before sending", async () => {
    const { run, sent } = actionsSetup();
    const error = await refused(
      run("list-segment-profiles", {
        segmentId: "Y6nRLr",
        filter: "greater-than(created,2026-01-01T00:00:00Z)",
      }),
    );
    expect(error.message).toContain("Filter");
    expect(sent).toHaveLength(0);
  });
});

describe("the everyday member actions are registered with their scopes", () => {
  it("the connection's default scopes include what they call, Get Profiles' profiles:read too", () => {
    for (const scope of ["lists:write", "profiles:write", "profiles:read", "segments:read"])
      expect(DEFAULT_SCOPES).toContain(scope);
  });
});
