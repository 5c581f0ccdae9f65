import { describe, expect, it } from "vitest";
import { DEFAULT_SCOPES } from "../../src/actions/connections.js";
import { ConflictError, NotFoundError } from "../../src/core/errors.js";
import { expectNoContractProblems } from "../helpers/contract.js";
import { actionsSetup, bodyOf, refused } from "./helpers.js";

interface Resource {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  relationships?: Record<string, { data?: unknown }>;
}
interface Doc {
  data: Resource;
  included?: Resource[];
}
interface ListResult {
  data: Resource[];
  included?: Resource[];
  nextCursor?: string;
  pages: number;
}

describe("Create Tag", () => {
  it("creates a tag in the default tag group; a second of the same name there is a ConflictError", async () => {
    const { run, sent, emulator } = actionsSetup();
    const tag = await run<Doc>("create-tag", { name: "Spring sale" });
    expect(tag.data.type).toBe("tag");
    expect(tag.data.attributes).toEqual({ name: "Spring sale" });
    expect(await bodyOf(sent.at(-1))).toEqual({ data: { type: "tag", attributes: { name: "Spring sale" } } });
    const groupId = (tag.data.relationships?.["tag-group"]?.data as { id: string } | undefined)?.id ?? "";
    expect(emulator.state.tagGroups.get(groupId)?.attributes).toMatchObject({ default: true });
    await expect(run("create-tag", { name: "Spring sale" })).rejects.toBeInstanceOf(ConflictError);
    expectNoContractProblems();
  });

  it("puts the tag in the tag group named; an unknown group is a NotFoundError; a blank name is refused", async () => {
    const { run, sent, client } = actionsSetup();
    const groups = await client.request<{ data: Array<{ id: string }> }>({
      method: "GET",
      path: "/api/tag-groups",
    });
    const groupId = groups.body.data[0]?.id as string;
    const tag = await run<Doc>("create-tag", { name: "Grouped", tagGroupId: groupId });
    expect(await bodyOf(sent.at(-1))).toEqual({
      data: {
        type: "tag",
        attributes: { name: "Grouped" },
        relationships: { "tag-group": { data: { type: "tag-group", id: groupId } } },
      },
    });
    expect(tag.data.relationships?.["tag-group"]?.data).toEqual({ type: "tag-group", id: groupId });
    await expect(run("create-tag", { name: "Lost", tagGroupId: "no-such-group" })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    const count = sent.length;
    const error = await refused(run("create-tag", { name: "  ", tagGroupId: "a/b" }));
    expect(error.message).toContain("Tag Name: must not be blank");
    expect(error.message).toContain("Tag Group ID: must not contain spaces, slashes");
    expect(sent).toHaveLength(count);
  });
});

describe("List Tags", () => {
  it("lists 50 per page, follows the cursor, filters by name, sorts and includes the tag group", async () => {
    const { run, emulator } = actionsSetup();
    for (let i = 0; i < 53; i++) await run("create-tag", { name: `Tag ${String(i).padStart(2, "0")}` });
    const first = await run<ListResult>("list-tags");
    expect(first.data).toHaveLength(50);
    expect(first.nextCursor).toBeDefined();
    const rest = await run<ListResult>("list-tags", { cursor: first.nextCursor });
    expect(rest.data.map((t) => t.attributes.name)).toEqual(["Tag 50", "Tag 51", "Tag 52"]);
    const named = await run<ListResult>("list-tags", { filter: "starts-with(name,'Tag 4')", sort: "-name" });
    expect(named.data.map((t) => t.attributes.name)).toEqual(
      Array.from({ length: 10 }, (_, i) => `Tag 4${9 - i}`),
    );
    const withGroup = await run<ListResult>("list-tags", { pageSize: 2, includeTagGroup: true });
    expect(withGroup.data).toHaveLength(2);
    const [group] = emulator.state.tagGroups.values();
    expect(withGroup.included).toEqual([
      expect.objectContaining({
        type: "tag-group",
        id: group?.id,
        attributes: { name: "Default Tag Group", exclusive: false, default: true },
      }),
    ]);
    expectNoContractProblems();
  });

  it("refuses a filter on anything but the name, and a page size above 50, before sending", async () => {
    const { run, sent } = actionsSetup();
    const error = await refused(run("list-tags", { filter: "equals(id,'x')", pageSize: 51 }));
    expect(error.message).toContain("Filter");
    expect(error.message).toContain("Page Size: must be at most 50");
    expect(sent).toHaveLength(0);
  });
});

describe("Tag Resources and Untag Resources", () => {
  async function world() {
    const setup = actionsSetup();
    const { run } = setup;
    const tag = await run<Doc>("create-tag", { name: "Q3" });
    const list = await run<Doc>("create-list", { listName: "Tagged list" });
    const segment = await run<Doc>("create-segment", {
      name: "Tagged segment",
      conditionGroups: [
        { conditions: [{ type: "profile-group-membership", is_member: true, group_ids: [list.data.id] }] },
      ],
    });
    const campaign = await run<Doc>("create-campaign", {
      name: "Tagged campaign",
      includedAudiences: [list.data.id],
      messages: [
        {
          channel: "email",
          label: "Email",
          content: { subject: "Hi", from_email: "hello@example.com", from_label: "Shop" },
        },
      ],
    });
    return {
      ...setup,
      tagId: tag.data.id,
      listId: list.data.id,
      segmentId: segment.data.id,
      campaignId: campaign.data.id,
    };
  }

  it("tags a list, a segment and a campaign (each with its own operation), which then show the tag", async () => {
    const { run, sent, tagId, listId, segmentId, campaignId } = await world();
    const tagged = await run("tag-resources", { tagId, resourceIds: [listId, listId] });
    expect(tagged).toEqual({ tagged: true, tagId, resourceType: "list", resourceIds: [listId] });
    const post = sent.at(-1) as Request;
    expect([post.method, new URL(post.url).pathname]).toEqual([
      "POST",
      `/api/tags/${tagId}/relationships/lists`,
    ]);
    expect(await bodyOf(post)).toEqual({ data: [{ type: "list", id: listId }] });
    await run("tag-resources", { tagId, resourceType: "segment", resourceIds: segmentId });
    expect(new URL((sent.at(-1) as Request).url).pathname).toBe(`/api/tags/${tagId}/relationships/segments`);
    await run("tag-resources", { tagId, resourceType: "campaign", resourceIds: [campaignId] });
    expect(await bodyOf(sent.at(-1))).toEqual({ data: [{ type: "campaign", id: campaignId }] });

    const list = await run<Doc>("get-list", { listId, include: "tags" });
    expect(list.data.relationships?.tags?.data).toEqual([{ type: "tag", id: tagId }]);
    expect(list.included?.map((r) => [r.type, r.id, r.attributes.name])).toEqual([["tag", tagId, "Q3"]]);
    const campaign = await run<Doc>("get-campaign", { campaignId });
    expect(campaign.data.relationships?.tags?.data).toEqual([{ type: "tag", id: tagId }]);
    expectNoContractProblems();
  });

  it("untags; the tag and the resources stay; untagging what has no tag changes nothing", async () => {
    const { run, sent, emulator, tagId, listId, campaignId } = await world();
    await run("tag-resources", { tagId, resourceIds: [listId] });
    await run("tag-resources", { tagId, resourceType: "campaign", resourceIds: [campaignId] });
    const result = await run("untag-resources", { tagId, resourceIds: [listId] });
    expect(result).toEqual({ untagged: true, tagId, resourceType: "list", resourceIds: [listId] });
    const request = sent.at(-1) as Request;
    expect([request.method, new URL(request.url).pathname]).toEqual([
      "DELETE",
      `/api/tags/${tagId}/relationships/lists`,
    ]);
    await run("untag-resources", { tagId, resourceIds: [listId] });
    const tag = emulator.state.tags.get(tagId);
    expect(tag?.lists).toEqual([]);
    expect(tag?.campaigns).toEqual([campaignId]);
    expect(emulator.state.lists.get(listId)).toBeDefined();
    expectNoContractProblems();
  });

  it("an unknown tag or resource is a NotFoundError and tags nothing; bad input is refused before sending", async () => {
    const { run, sent, emulator, tagId, listId } = await world();
    await expect(
      run("tag-resources", { tagId: "no-such-tag", resourceIds: [listId] }),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(run("tag-resources", { tagId, resourceIds: [listId, "Nope12"] })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect(emulator.state.tags.get(tagId)?.lists).toEqual([]);
    await expect(
      run("tag-resources", { tagId, resourceType: "flow", resourceIds: ["01FLOW0000000000000000000"] }),
    ).rejects.toBeInstanceOf(NotFoundError);
    const count = sent.length;
    const error = await refused(run("tag-resources", { tagId, resourceType: "profile", resourceIds: [] }));
    expect(error.message).toContain("Resource Type: must be one of list, segment, campaign, flow");
    expect(error.message).toContain("Resource IDs: must hold at least one ID");
    expect(sent).toHaveLength(count);
  });

  it("the connection's default scopes cover every kind it can tag", () => {
    for (const scope of [
      "tags:read",
      "tags:write",
      "lists:write",
      "segments:write",
      "campaigns:write",
      "flows:write",
    ])
      expect(DEFAULT_SCOPES).toContain(scope);
  });
});
