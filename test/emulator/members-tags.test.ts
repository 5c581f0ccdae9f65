import { describe, expect, it } from "vitest";
import { KlaviyoClient } from "../../src/core/client.js";
import { createEmulator } from "../../src/emulator/index.js";
import { insertList } from "../../src/emulator/resources/lists-model.js";
import { insertProfile } from "../../src/emulator/resources/profile-model.js";
import { segmentMembers } from "../../src/emulator/resources/segments-members.js";
import { MAX_TAGS, MAX_TAGS_PER_RESOURCE } from "../../src/emulator/resources/tags-model.js";
import { deserialize, serialize } from "../../src/emulator/snapshot.js";
import { isoNow } from "../../src/emulator/store.js";
import type { HttpMethod } from "../../src/klaviyo/operations.js";
import { checkedFetch, expectNoContractProblems } from "../helpers/contract.js";
import type { KlaviyoErrorEntry } from "./helpers.js";

const KEY = "pk_members_tags_test_0000000000000000";

type Json = Record<string, unknown>;
interface Resource {
  type: string;
  id: string;
  attributes: Json;
  relationships?: Record<string, { data?: unknown; links?: { self: string; related: string } }>;
}

function setup() {
  const emulator = createEmulator({ apiKeys: [{ key: KEY }], rateLimits: "off" });
  const make = (requests: boolean) =>
    new KlaviyoClient({
      apiKey: KEY,
      baseUrl: emulator.baseUrl,
      fetch: checkedFetch(emulator.fetch, { requests }),
      rateLimiter: false,
      retry: { maxRetries: 0 },
    });
  const client = make(true);
  const loose = make(false);
  /** The answer, thrown or not: status and body. */
  const call = async (method: HttpMethod, path: string, body?: unknown, strict = true) => {
    const res = await (strict ? client : loose).request<Json>({
      method,
      path,
      ...(body !== undefined ? { body } : {}),
      throwOnError: false,
    });
    return { status: res.status, body: res.body as Json };
  };
  const tag = async (name: string) =>
    ((await call("POST", "/api/tags", { data: { type: "tag", attributes: { name } } })).body.data as Resource)
      .id;
  return { emulator, call, tag };
}

const errorOf = (body: Json) => (body.errors as KlaviyoErrorEntry[])[0] as KlaviyoErrorEntry;

describe("tags in the emulator", () => {
  it("every account has one default tag group; a tag's group answers from both sides", async () => {
    const { call, tag } = setup();
    const groups = await call("GET", "/api/tag-groups");
    const [group] = groups.body.data as Resource[];
    expect(group?.attributes).toEqual({ name: "Default Tag Group", exclusive: false, default: true });
    const id = await tag("Autumn");
    const got = await call("GET", `/api/tags/${id}?include=tag-group`);
    expect((got.body.data as Resource).relationships?.["tag-group"]?.data).toEqual({
      type: "tag-group",
      id: group?.id,
    });
    expect((got.body.included as Resource[]).map((r) => r.id)).toEqual([group?.id]);
    expect(((await call("GET", `/api/tags/${id}/tag-group`)).body.data as Resource).id).toBe(group?.id);
    expect((await call("GET", `/api/tag-groups/${group?.id}`)).status).toBe(200);
    expectNoContractProblems();
  });

  it("links and unlinks lists, segments and campaigns, read from the tag and from the resource", async () => {
    const { emulator, call, tag } = setup();
    const id = await tag("Linked");
    const list = insertList(emulator.state, "L");
    const other = insertList(emulator.state, "M");
    expect(
      (
        await call("POST", `/api/tags/${id}/relationships/lists`, {
          data: [
            { type: "list", id: list.id },
            { type: "list", id: other.id },
          ],
        })
      ).status,
    ).toBe(204);
    // Twice changes nothing.
    await call("POST", `/api/tags/${id}/relationships/lists`, { data: [{ type: "list", id: list.id }] });
    expect((await call("GET", `/api/tags/${id}/relationships/lists`)).body.data).toEqual([
      { type: "list", id: list.id },
      { type: "list", id: other.id },
    ]);
    expect((await call("GET", `/api/lists/${list.id}/relationships/tags`)).body.data).toEqual([
      { type: "tag", id },
    ]);
    const tags = (await call("GET", `/api/lists/${list.id}/tags`)).body.data as Resource[];
    expect(tags.map((t) => [t.id, t.attributes.name])).toEqual([[id, "Linked"]]);
    expect(
      (await call("DELETE", `/api/tags/${id}/relationships/lists`, { data: [{ type: "list", id: list.id }] }))
        .status,
    ).toBe(204);
    expect((await call("GET", `/api/tags/${id}/relationships/lists`)).body.data).toEqual([
      { type: "list", id: other.id },
    ]);
    // A deleted list is no longer reported.
    expect((await call("DELETE", `/api/lists/${other.id}`)).status).toBe(204);
    expect((await call("GET", `/api/tags/${id}/relationships/lists`)).body.data).toEqual([]);
    expectNoContractProblems();
  });

  it("shows a segment's tags with include=tags, and a list's in get_lists", async () => {
    const { emulator, call, tag } = setup();
    const id = await tag("Seg");
    const list = insertList(emulator.state, "Base");
    const created = await call("POST", "/api/segments", {
      data: {
        type: "segment",
        attributes: {
          name: "S",
          definition: {
            condition_groups: [
              { conditions: [{ type: "profile-group-membership", is_member: true, group_ids: [list.id] }] },
            ],
          },
        },
      },
    });
    const segmentId = (created.body.data as Resource).id;
    await call("POST", `/api/tags/${id}/relationships/segments`, {
      data: [{ type: "segment", id: segmentId }],
    });
    await call("POST", `/api/tags/${id}/relationships/lists`, { data: [{ type: "list", id: list.id }] });
    const segment = await call("GET", `/api/segments/${segmentId}?include=tags`);
    expect((segment.body.data as Resource).relationships?.tags?.data).toEqual([{ type: "tag", id }]);
    expect((segment.body.included as Resource[]).map((r) => r.id)).toEqual([id]);
    const plain = await call("GET", `/api/segments/${segmentId}`);
    expect((plain.body.data as Resource).relationships?.tags).not.toHaveProperty("data");
    const lists = await call("GET", "/api/lists?include=tags");
    expect((lists.body.data as Resource[])[0]?.relationships?.tags?.data).toEqual([{ type: "tag", id }]);
    expect((lists.body.included as Resource[]).map((r) => r.id)).toEqual([id]);
    expectNoContractProblems();
  });

  it("answers Klaviyo's errors: unknown tag or resource (404 at its pointer), wrong type (409), blank name, duplicates", async () => {
    const { emulator, call, tag } = setup();
    const id = await tag("Errors");
    const list = insertList(emulator.state, "Real");
    const unknownTag = await call("POST", "/api/tags/nope/relationships/lists", {
      data: [{ type: "list", id: list.id }],
    });
    expect(unknownTag.status).toBe(404);
    const unknownList = await call("POST", `/api/tags/${id}/relationships/lists`, {
      data: [
        { type: "list", id: list.id },
        { type: "list", id: "Nope12" },
      ],
    });
    expect(unknownList.status).toBe(404);
    expect(errorOf(unknownList.body).source.pointer).toBe("/data/1/id");
    expect(emulator.state.tags.get(id)?.lists).toEqual([]);
    const wrongType = await call(
      "POST",
      `/api/tags/${id}/relationships/lists`,
      { data: [{ type: "segment", id: list.id }] },
      false,
    );
    expect(wrongType.status).toBe(409);
    expect(errorOf(wrongType.body).source.pointer).toBe("/data/0/type");
    const blank = await call("POST", "/api/tags", { data: { type: "tag", attributes: { name: " " } } });
    expect(blank.status).toBe(400);
    const duplicate = await call("POST", "/api/tags", {
      data: { type: "tag", attributes: { name: "Errors" } },
    });
    expect(duplicate.status).toBe(409);
    expect(errorOf(duplicate.body).code).toBe("duplicate");
    expectNoContractProblems();
  });

  it("holds Klaviyo's limits: 500 tags an account, 100 tags a resource", async () => {
    const { emulator, call, tag } = setup();
    const list = insertList(emulator.state, "Crowded");
    const ids: string[] = [];
    for (let i = 0; i < MAX_TAGS_PER_RESOURCE + 1; i++) ids.push(await tag(`T${i}`));
    for (const id of ids.slice(0, MAX_TAGS_PER_RESOURCE)) {
      expect(
        (await call("POST", `/api/tags/${id}/relationships/lists`, { data: [{ type: "list", id: list.id }] }))
          .status,
      ).toBe(204);
    }
    const over = await call("POST", `/api/tags/${ids.at(-1)}/relationships/lists`, {
      data: [{ type: "list", id: list.id }],
    });
    expect(over.status).toBe(400);
    expect(errorOf(over.body).detail).toContain("100 tags");
    for (let i = ids.length; i < MAX_TAGS; i++) await tag(`T${i}`);
    const tooMany = await call("POST", "/api/tags", {
      data: { type: "tag", attributes: { name: "One more" } },
    });
    expect(tooMany.status).toBe(400);
    expect(errorOf(tooMany.body).detail).toContain("500");
    expectNoContractProblems();
  }, 30_000);

  it("deleting a tag removes its links; tags, their groups and links survive a snapshot", async () => {
    const { emulator, call, tag } = setup();
    const keep = await tag("Keep");
    const drop = await tag("Drop");
    const list = insertList(emulator.state, "Snap");
    for (const id of [keep, drop])
      await call("POST", `/api/tags/${id}/relationships/lists`, { data: [{ type: "list", id: list.id }] });
    expect((await call("DELETE", `/api/tags/${drop}`)).status).toBe(204);
    expect((await call("GET", `/api/lists/${list.id}/relationships/tags`)).body.data).toEqual([
      { type: "tag", id: keep },
    ]);
    const restored = deserialize(JSON.parse(JSON.stringify(serialize(emulator.state))));
    expect(restored.tags.get(keep)?.lists).toEqual([list.id]);
    expect([...restored.tagGroups.values()].map((g) => g.attributes.default)).toEqual([true]);
    expect(restored.tags.get(drop)).toBeUndefined();
    expectNoContractProblems();
  });
});

describe("list members through /relationships/profiles", () => {
  it("refuses more than 1,000 profiles a call, and names the first unknown profile", async () => {
    const { emulator, call } = setup();
    const list = insertList(emulator.state, "Capped");
    const profile = insertProfile(emulator.state, { email: "one@example.com" });
    const tooMany = await call("POST", `/api/lists/${list.id}/relationships/profiles`, {
      data: Array.from({ length: 1001 }, () => ({ type: "profile", id: profile.id })),
    });
    expect(tooMany.status).toBe(400);
    const unknown = await call("POST", `/api/lists/${list.id}/relationships/profiles`, {
      data: [
        { type: "profile", id: profile.id },
        { type: "profile", id: "01NOPE00000000000000000000" },
      ],
    });
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown.body).source.pointer).toBe("/data/1/id");
    expect(emulator.state.memberships.get(list.id)?.size).toBe(0);
    expectNoContractProblems();
  });
});

describe("segment members' joined_group_at", () => {
  it("is the latest of the segment's creation, the profile's and when it joined a list or segment the definition names", () => {
    const emulator = createEmulator({ apiKeys: [{ key: KEY }], rateLimits: "off" });
    const { state } = emulator;
    const t0 = Date.parse("2026-01-01T00:00:00Z");
    const early = insertProfile(state, { email: "early@example.com" }, t0);
    const late = insertProfile(state, { email: "late@example.com", properties: { vip: true } }, t0 + 5000);
    const list = insertList(state, "Source", "single_opt_in", t0);
    state.memberships.get(list.id)?.set(early.id, isoNow(t0 + 60_000));
    state.memberships.get(list.id)?.set(late.id, isoNow(t0 + 1000));
    const segment = (id: string, created: number, conditions: unknown[]) =>
      state.segments.insert({
        id,
        seq: state.segments.seq(),
        attributes: {
          name: id,
          created: isoNow(created),
          definition: { condition_groups: [{ conditions }] },
        },
      });
    const inList = segment("SegA", t0 + 2000, [
      { type: "profile-group-membership", is_member: true, group_ids: [list.id] },
    ]);
    const members = new Map([...segmentMembers(state, inList)].map(([p, at]) => [p.id, at]));
    // early joined the list after the segment existed; late was in the list before, but created after the segment.
    expect(members.get(early.id)).toBe(isoNow(t0 + 60_000));
    expect(members.get(late.id)).toBe(isoNow(t0 + 5000));
    // A segment of that segment's members: they join it when they joined the first (or at its own creation).
    const nested = segment("SegB", t0 + 10_000, [
      { type: "profile-group-membership", is_member: true, group_ids: ["SegA"] },
    ]);
    const nestedMembers = new Map([...segmentMembers(state, nested)].map(([p, at]) => [p.id, at]));
    expect(nestedMembers.get(early.id)).toBe(isoNow(t0 + 60_000));
    expect(nestedMembers.get(late.id)).toBe(isoNow(t0 + 10_000));
    // A condition the state keeps no history of holds since the beginning: another condition of the group that
    // holds earlier wins.
    const either = segment("SegC", t0 + 2000, [
      { type: "profile-group-membership", is_member: true, group_ids: [list.id] },
      {
        type: "profile-property",
        property: "properties['vip']",
        filter: { type: "boolean", operator: "equals", value: true },
      },
    ]);
    const eitherMembers = new Map([...segmentMembers(state, either)].map(([p, at]) => [p.id, at]));
    expect(eitherMembers.get(late.id)).toBe(isoNow(t0 + 5000));
    expect(eitherMembers.get(early.id)).toBe(isoNow(t0 + 60_000));
  });
});
