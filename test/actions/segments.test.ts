import { beforeEach, describe, expect, it } from "vitest";
import { getAction } from "../../src/actions/index.js";
import type { ListOutput } from "../../src/actions/list.js";
import { ApiError, InputValidationError } from "../../src/core/errors.js";
import { actionsSetup } from "./helpers.js";

interface SegmentDoc {
  data: { type: string; id: string; attributes: Record<string, unknown>; links?: Record<string, string> };
  links: Record<string, string>;
}

let t: ReturnType<typeof actionsSetup>;
/** The demo seed's lists, by name (VIP Customers holds 6 of the 24 profiles). */
let lists: Record<string, string>;

beforeEach(() => {
  t = actionsSetup({ seed: "demo" });
  lists = Object.fromEntries(
    [...t.emulator.state.lists.values()].map((row) => [String(row.attributes.name), row.id]),
  );
});

const inList = (...ids: string[]) => [
  { conditions: [{ type: "profile-group-membership", is_member: true, group_ids: ids }] },
];

async function refused(key: string, inputs: Record<string, unknown>): Promise<InputValidationError> {
  const error = await t.run(key, inputs).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputValidationError);
  expect(t.sent).toHaveLength(0);
  return error as InputValidationError;
}

async function createOne(name: string, extra: Record<string, unknown> = {}): Promise<SegmentDoc> {
  return t.run<SegmentDoc>("create-segment", {
    name,
    conditionGroups: inList(lists["VIP Customers"] as string),
    ...extra,
  });
}

describe("Create Segment", () => {
  it("creates the segment, unstarred by default, and leaves it in the account", async () => {
    const vip = lists["VIP Customers"] as string;
    const doc = await createOne("VIP");
    expect(doc.data.type).toBe("segment");
    expect(doc.data.attributes).toMatchObject({
      name: "VIP",
      is_starred: false,
      is_active: true,
      definition: { condition_groups: inList(vip) },
    });
    const row = t.emulator.state.segments.get(doc.data.id);
    expect(row?.attributes.name).toBe("VIP");
    const body = (await t.sent[0]?.json()) as { data: { attributes: Record<string, unknown> } };
    expect(body.data.attributes).toEqual({
      name: "VIP",
      definition: { condition_groups: inList(vip) },
      is_starred: false,
    });
  });

  it("accepts JSON text (as the CLI gives it), a whole definition object, and a starred segment", async () => {
    const vip = lists["VIP Customers"] as string;
    const fromText = await t.runText<SegmentDoc>("create-segment", {
      name: "text",
      conditionGroups: JSON.stringify(inList(vip)),
      isStarred: "true",
    });
    expect(fromText.data.attributes.is_starred).toBe(true);
    const fromDefinition = await createOne("definition", {
      conditionGroups: { condition_groups: inList(vip) },
    });
    expect(fromDefinition.data.attributes.definition).toEqual({ condition_groups: inList(vip) });
    expect(t.emulator.state.segments.size).toBe(2);
  });

  it("refuses a missing name, an empty array and a group without conditions before sending", async () => {
    const error = await refused("create-segment", { conditionGroups: [] });
    expect(error.message).toContain("Segment Name: is required");
    expect(error.message).toContain(
      "Segment Condition Groups: A segment definition needs at least one condition group",
    );

    const blank = await refused("create-segment", { name: "   ", conditionGroups: inList("x") });
    expect(blank.message).toContain("Segment Name: must not be blank");

    const noConditions = await refused("create-segment", {
      name: "x",
      conditionGroups: [{ conditions: [] }, "oops", { conditions: [{ is_member: true }] }],
    });
    expect(noConditions.message).toContain("Segment Condition Groups");
    expect(noConditions.message).toContain('condition_groups[0] needs a non-empty "conditions" array');
    expect(noConditions.message).toContain("condition_groups[1] must be an object");
    expect(noConditions.message).toContain(
      'condition_groups[2].conditions[0] must be an object with a "type"',
    );

    const badJson = await t
      .runText("create-segment", { name: "x", conditionGroups: "[{" })
      .catch((e: unknown) => e);
    expect((badJson as Error).message).toMatch(
      /Segment Condition Groups: is not valid JSON: error at position \d+/,
    );
    const text = await refused("create-segment", { name: "x", conditionGroups: JSON.stringify(inList("x")) });
    expect(text.message).toContain("Segment Condition Groups: must be a JSON array of condition groups");

    const notBoolean = await refused("create-segment", {
      name: "x",
      conditionGroups: inList("x"),
      isStarred: "maybe",
    });
    expect(notBoolean.message).toContain("Is Starred Segment: must be true or false");
    expect(t.emulator.state.segments.size).toBe(0);
  });

  it("reports Klaviyo's refusal with the pointer of the condition it refused", async () => {
    const error = await createOne("ghost", { conditionGroups: inList("NoSuch") }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    expect((error as Error).message).toContain("/data/attributes/definition/condition_groups/0/conditions/0");
    expect(t.emulator.state.segments.size).toBe(0);
  });
});

describe("Get Segment", () => {
  it("returns the segment, with the profile count and sparse fields when asked", async () => {
    const created = await createOne("VIP");
    const plain = await t.run<SegmentDoc>("get-segment", { segmentId: created.data.id });
    expect(plain.data.id).toBe(created.data.id);
    expect(plain.data.attributes.name).toBe("VIP");
    expect(plain.data.attributes).not.toHaveProperty("profile_count");

    const counted = await t.run<SegmentDoc>("get-segment", {
      segmentId: created.data.id,
      includeProfileCount: true,
      fields: "name,profile_count",
    });
    expect(counted.data.attributes).toEqual({ name: "VIP", profile_count: 6 });
    const url = new URL(t.sent.at(-1)?.url ?? "");
    expect(url.searchParams.get("additional-fields[segment]")).toBe("profile_count");
    expect(url.searchParams.get("fields[segment]")).toBe("name,profile_count");
  });

  it("refuses an empty ID and unknown fields before sending", async () => {
    const error = await refused("get-segment", { segmentId: " ", fields: ["name", "size"] });
    expect(error.message).toContain("Segment ID: must not be empty");
    expect(error.message).toContain('Fields: unknown field "size"');
  });

  it("fails with 404 for a segment that does not exist", async () => {
    await expect(t.run("get-segment", { segmentId: "NoSuch" })).rejects.toMatchObject({ status: 404 });
  });
});

describe("List Segments", () => {
  it("returns one page of at most 10, and every page up to Limit", async () => {
    for (let i = 0; i < 12; i++)
      await createOne(`S${String(i).padStart(2, "0")}`, { isStarred: i % 3 === 0 });
    t.sent.length = 0;

    const first = await t.run<ListOutput<SegmentDoc["data"]>>("list-segments", { sort: "name" });
    expect(first.data).toHaveLength(10);
    expect(first.data[0]?.attributes.name).toBe("S00");
    expect(first.nextCursor).toBeTruthy();
    expect(first.pages).toBe(1);
    const next = await t.run<ListOutput<SegmentDoc["data"]>>("list-segments", {
      sort: "name",
      cursor: first.nextCursor,
    });
    expect(next.data.map((s) => s.attributes.name)).toEqual(["S10", "S11"]);
    expect(next.nextCursor).toBeUndefined();

    const all = await t.run<ListOutput<SegmentDoc["data"]>>("list-segments", {
      limit: 100,
      fields: ["name"],
    });
    expect(all.data).toHaveLength(12);
    expect(all.pages).toBe(2);
    expect(all.data.every((s) => Object.keys(s.attributes).join() === "name")).toBe(true);

    const starred = await t.run<ListOutput<SegmentDoc["data"]>>("list-segments", {
      filter: "equals(is_starred,true)",
      sort: "-name",
    });
    expect(starred.data.map((s) => s.attributes.name)).toEqual(["S09", "S06", "S03", "S00"]);
  });

  it("refuses a filter on a field Klaviyo does not filter segments by, a bad sort and a page size over 10", async () => {
    const error = await refused("list-segments", {
      filter: "equals(definition,'x')",
      sort: "size",
      pageSize: 11,
    });
    expect(error.message).toContain("Filter: is not a valid Klaviyo filter");
    expect(error.message).toContain("Sort: must be one of");
    expect(error.message).toContain("Page Size: must be at most 10");
  });
});

describe("Update Segment", () => {
  it("sends only the attributes given and changes only those", async () => {
    const created = await createOne("VIP");
    t.sent.length = 0;
    const doc = await t.run<SegmentDoc>("update-segment", { segmentId: created.data.id, isStarred: true });
    expect(doc.data.attributes).toMatchObject({ name: "VIP", is_starred: true });
    const body = (await t.sent[0]?.json()) as { data: Record<string, unknown> };
    expect(body.data).toEqual({ type: "segment", id: created.data.id, attributes: { is_starred: true } });

    const both = lists.Newsletter as string;
    await t.run("update-segment", {
      segmentId: created.data.id,
      name: "Everyone",
      conditionGroups: inList(both),
    });
    const row = t.emulator.state.segments.get(created.data.id);
    expect(row?.attributes).toMatchObject({
      name: "Everyone",
      is_starred: true,
      definition: { condition_groups: inList(both) },
    });
  });

  it("deactivates a segment when Is Active false comes alone, and reactivates it", async () => {
    const created = await createOne("VIP");
    await t.run("update-segment", { segmentId: created.data.id, isActive: false });
    expect(t.emulator.state.segments.get(created.data.id)?.attributes.is_active).toBe(false);
    await t.run("update-segment", { segmentId: created.data.id, isActive: true, name: "VIP again" });
    expect(t.emulator.state.segments.get(created.data.id)?.attributes).toMatchObject({
      is_active: true,
      name: "VIP again",
    });
  });

  it("refuses deactivation with other changes, and an update with nothing to change, before sending", async () => {
    const created = await createOne("VIP");
    t.sent.length = 0;
    const error = await refused("update-segment", { segmentId: created.data.id, isActive: false, name: "x" });
    expect(error.message).toContain("Is Active: false (deactivating) must be the only change");
    const nothing = await refused("update-segment", { segmentId: created.data.id });
    expect(nothing.message).toContain("nothing to change");
    expect(nothing.message).toContain("Segment Name");
    const badGroups = await refused("update-segment", { segmentId: created.data.id, conditionGroups: {} });
    expect(badGroups.message).toContain("Segment Condition Groups: must be a JSON array");
    expect(t.emulator.state.segments.get(created.data.id)?.attributes.name).toBe("VIP");
  });

  it("keeps the specification's inputs without a default for Is Starred Segment", () => {
    const action = getAction("update-segment");
    const starred = Object.values(action?.inputs ?? {}).find((i) => i.label === "Is Starred Segment");
    expect(starred?.default).toBeUndefined();
    const create = getAction("create-segment");
    expect(Object.values(create?.inputs ?? {}).find((i) => i.label === "Is Starred Segment")?.default).toBe(
      false,
    );
  });
});

describe("Delete Segment", () => {
  it("deletes the segment and says so", async () => {
    const created = await createOne("VIP");
    const result = await t.run("delete-segment", { segmentId: created.data.id });
    expect(result).toEqual({ deleted: true, id: created.data.id });
    expect(t.emulator.state.segments.get(created.data.id)).toBeUndefined();
    await expect(t.run("get-segment", { segmentId: created.data.id })).rejects.toMatchObject({ status: 404 });
  });

  it("refuses an ID with a slash before sending", async () => {
    const error = await refused("delete-segment", { segmentId: "a/b" });
    expect(error.message).toContain("Segment ID: must not contain spaces, slashes");
  });
});
