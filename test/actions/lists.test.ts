import { describe, expect, it } from "vitest";
import { NotFoundError } from "../../src/core/errors.js";
import { actionsSetup, bodyOf, refused } from "./helpers.js";

type Json = Record<string, unknown>;
interface Doc {
  data: { type: string; id: string; attributes: Json };
  included?: Array<{ type: string; id: string }>;
}
interface ListResult {
  data: Array<{ id: string; attributes: Json }>;
  nextCursor?: string;
  pages: number;
}

describe("Create List", () => {
  it("creates a list named Newsletter by default, or as given with its opt-in process", async () => {
    const { run, emulator, sent } = actionsSetup();
    const plain = await run<Doc>("create-list");
    expect(plain.data.type).toBe("list");
    expect(plain.data.attributes.name).toBe("Newsletter");
    expect(await bodyOf(sent.at(-1))).toEqual({ data: { type: "list", attributes: { name: "Newsletter" } } });
    const vip = await run<Doc>("create-list", { listName: "VIP", optInProcess: "double_opt_in" });
    expect(vip.data.attributes).toMatchObject({ name: "VIP", opt_in_process: "double_opt_in" });
    expect(emulator.state.lists.get(plain.data.id)?.attributes.name).toBe("Newsletter");
    expect(emulator.state.lists.get(vip.data.id)?.attributes.opt_in_process).toBe("double_opt_in");
  });

  it("refuses a blank name and an unknown opt-in process before sending", async () => {
    const { run, sent } = actionsSetup();
    const error = await refused(run("create-list", { listName: "   ", optInProcess: "triple_opt_in" }));
    expect(error.message).toContain("List Name: must not be blank");
    expect(error.message).toContain("Opt-in Process: must be one of single_opt_in, double_opt_in");
    expect(sent).toHaveLength(0);
  });
});

describe("Get List", () => {
  it("returns the list, with its profile count when asked", async () => {
    const { run, client, sent } = actionsSetup();
    const list = await run<Doc>("create-list", { listName: "Counted" });
    const profile = await run<Doc>("create-profile", { email: "member@example.com" });
    await client.request({
      method: "POST",
      path: `/api/lists/${list.data.id}/relationships/profiles`,
      body: { data: [{ type: "profile", id: profile.data.id }] },
    });
    const plain = await run<Doc>("get-list", { listId: list.data.id });
    expect(plain.data.attributes.name).toBe("Counted");
    expect(plain.data.attributes).not.toHaveProperty("profile_count");
    const counted = await run<Doc>("get-list", {
      listId: list.data.id,
      includeProfileCount: true,
      fields: "name,profile_count",
    });
    expect(counted.data.attributes).toEqual({ name: "Counted", profile_count: 1 });
    const url = new URL((sent.at(-1) as Request).url);
    expect(url.searchParams.get("additional-fields[list]")).toBe("profile_count");
  });

  it("refuses an empty ID and unknown fields; an unknown list is a NotFoundError", async () => {
    const { run, sent } = actionsSetup();
    const error = await refused(
      run("get-list", { listId: "a/b", fields: "title", includeProfileCount: "maybe" }),
    );
    expect(error.message).toContain("List ID: must not contain spaces, slashes");
    expect(error.message).toContain('Fields: unknown field "title"');
    expect(error.message).toContain("Include Profile Count: must be true or false");
    expect(sent).toHaveLength(0);
    await expect(run("get-list", { listId: "Nope12" })).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("List Lists", () => {
  it("lists 10 per page by default, follows the cursor, filters and sorts", async () => {
    const { run } = actionsSetup();
    for (let i = 0; i < 12; i++) await run("create-list", { listName: `List ${String(i).padStart(2, "0")}` });
    const first = await run<ListResult>("list-lists");
    expect(first.data).toHaveLength(10);
    expect(first.nextCursor).toBeDefined();
    const rest = await run<ListResult>("list-lists", { cursor: first.nextCursor });
    expect(rest.data).toHaveLength(2);
    expect(rest.nextCursor).toBeUndefined();
    const all = await run<ListResult>("list-lists", { limit: 50 });
    expect(all.data).toHaveLength(12);
    expect(all.pages).toBe(2);
    const sorted = await run<ListResult>("list-lists", { sort: "-name", pageSize: 3, fields: ["name"] });
    expect(sorted.data.map((l) => l.attributes.name)).toEqual(["List 11", "List 10", "List 09"]);
    const one = await run<ListResult>("list-lists", { filter: "any(name,['List 05','List 07'])" });
    expect(one.data.map((l) => l.attributes.name)).toEqual(["List 05", "List 07"]);
  });

  it("refuses a page size over 10, a filter on an unfilterable field and profile_count", async () => {
    const { run, sent } = actionsSetup();
    const error = await refused(
      run("list-lists", {
        pageSize: 11,
        filter: "equals(opt_in_process,'double_opt_in')",
        fields: "profile_count",
      }),
    );
    expect(error.message).toContain("Page Size: must be at most 10");
    expect(error.message).toContain("Filter: is not a valid Klaviyo filter");
    expect(error.message).toContain('Fields: unknown field "profile_count"');
    expect(sent).toHaveLength(0);
  });
});

describe("Update List", () => {
  it("renames the list, and uses the default name Newsletter when none is given", async () => {
    const { run, emulator, sent } = actionsSetup();
    const list = await run<Doc>("create-list", { listName: "Old" });
    const out = await run<Doc>("update-list", {
      listId: list.data.id,
      listName: "New",
      optInProcess: "double_opt_in",
    });
    expect(out.data.attributes).toMatchObject({ name: "New", opt_in_process: "double_opt_in" });
    expect(emulator.state.lists.get(list.data.id)?.attributes.name).toBe("New");
    await run<Doc>("update-list", { listId: list.data.id });
    expect(await bodyOf(sent.at(-1))).toEqual({
      data: { type: "list", id: list.data.id, attributes: { name: "Newsletter" } },
    });
    expect(emulator.state.lists.get(list.data.id)?.attributes).toMatchObject({
      name: "Newsletter",
      opt_in_process: "double_opt_in",
    });
  });

  it("refuses a missing ID and a blank name before sending", async () => {
    const { run, sent } = actionsSetup();
    const error = await refused(run("update-list", { listName: " " }));
    expect(error.message).toContain("List ID: is required");
    expect(error.message).toContain("List Name: must not be blank");
    expect(sent).toHaveLength(0);
  });
});

describe("Delete List", () => {
  it("deletes the list and says so; the list is gone afterwards", async () => {
    const { run, emulator } = actionsSetup();
    const list = await run<Doc>("create-list", { listName: "Doomed" });
    expect(await run("delete-list", { listId: list.data.id })).toEqual({ deleted: true, id: list.data.id });
    expect(emulator.state.lists.get(list.data.id)).toBeUndefined();
    await expect(run("get-list", { listId: list.data.id })).rejects.toBeInstanceOf(NotFoundError);
    await expect(run("delete-list", { listId: list.data.id })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("refuses an empty ID before sending", async () => {
    const { run, sent } = actionsSetup();
    const error = await refused(run("delete-list", { listId: "" }));
    expect(error.message).toContain("List ID: is required");
    expect(sent).toHaveLength(0);
  });
});

describe("List List Profiles", () => {
  it("lists a list's members with joined_group_at, filtered by email", async () => {
    const { run, client, sent } = actionsSetup();
    const list = await run<Doc>("create-list", { listName: "Members" });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await run<Doc>("create-profile", { email: `m${i}@example.com` })).data.id);
    await run("create-profile", { email: "outsider@example.com" });
    await client.request({
      method: "POST",
      path: `/api/lists/${list.data.id}/relationships/profiles`,
      body: { data: ids.map((id) => ({ type: "profile", id })) },
    });
    const out = await run<ListResult>("list-list-profiles", {
      listId: list.data.id,
      fields: "email,joined_group_at",
      sort: "joined_group_at",
    });
    expect(out.data.map((p) => p.id).sort()).toEqual([...ids].sort());
    expect(out.data[0]?.attributes).toHaveProperty("joined_group_at");
    const one = await run<ListResult>("list-list-profiles", {
      listId: list.data.id,
      filter: "any(email,['m1@example.com','outsider@example.com'])",
      additionalFields: "subscriptions",
    });
    expect(one.data.map((p) => p.attributes.email)).toEqual(["m1@example.com"]);
    expect(one.data[0]?.attributes).toHaveProperty("subscriptions");
    const url = new URL((sent.at(-1) as Request).url);
    expect(url.pathname).toBe(`/api/lists/${list.data.id}/profiles`);
    expect(url.searchParams.get("additional-fields[profile]")).toBe("subscriptions");
  });

  it("refuses a missing list ID, a filter on created and a bad additional field before sending", async () => {
    const { run, sent } = actionsSetup();
    const error = await refused(
      run("list-list-profiles", {
        filter: "greater-than(created,2026-01-01T00:00:00Z)",
        additionalFields: "lists",
      }),
    );
    expect(error.message).toContain("List ID: is required");
    expect(error.message).toContain("Filter: is not a valid Klaviyo filter");
    expect(error.message).toContain('Additional Profile Fields: unknown field "lists"');
    expect(sent).toHaveLength(0);
  });
});
