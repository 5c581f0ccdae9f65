import { describe, expect, it } from "vitest";
import { runAction } from "../../src/actions/index.js";
import { ConflictError, NotFoundError } from "../../src/core/errors.js";
import { actionsSetup, bodyOf, refused } from "./helpers.js";

type Json = Record<string, unknown>;
interface Doc {
  data: { type: string; id: string; attributes: Json; relationships?: Json };
  included?: Array<{ type: string; id: string; attributes: Json }>;
  links?: Json;
}
interface ListResult {
  data: Array<{ id: string; attributes: Json }>;
  nextCursor?: string;
  pages: number;
}

describe("Create Profile", () => {
  it("creates a profile with every attribute, sends only what was given, and can be read back", async () => {
    const { run, emulator, sent } = actionsSetup();
    const out = await run<Doc>("create-profile", {
      email: "sarah.mason@example.com",
      phoneNumber: "+15005550006",
      externalId: "crm-1",
      firstName: "Sarah",
      lastName: "Mason",
      organization: "Example Corporation",
      title: "Regional Manager",
      image: "https://example.com/sarah.jpg",
      location: { city: "Boston", region: "MA", latitude: 42.3601, longitude: "-71.0589" },
      properties: { plan: "gold", pets: ["cat"] },
    });
    expect(out.data.type).toBe("profile");
    expect(out.data.attributes).toMatchObject({
      email: "sarah.mason@example.com",
      phone_number: "+15005550006",
      external_id: "crm-1",
      first_name: "Sarah",
      title: "Regional Manager",
      location: expect.objectContaining({ city: "Boston", region: "MA" }),
      properties: { plan: "gold", pets: ["cat"] },
    });
    const row = emulator.state.profiles.get(out.data.id);
    expect(row?.attributes.email).toBe("sarah.mason@example.com");
    expect(row?.attributes.organization).toBe("Example Corporation");

    const back = await run<Doc>("get-profile", { profileId: out.data.id });
    expect(back.data.attributes.first_name).toBe("Sarah");
    expect(back.data.attributes.location).toMatchObject({ city: "Boston" });

    // A minimal profile: only the email is sent.
    const minimal = await run<Doc>("create-profile", { email: "ada@example.com" });
    const body = await bodyOf(sent.at(-1));
    expect(body).toEqual({ data: { type: "profile", attributes: { email: "ada@example.com" } } });
    expect(emulator.state.profiles.get(minimal.data.id)).toBeDefined();
  });

  it("refuses a profile without email, phone number or external ID before sending, naming the three inputs", async () => {
    const { run, sent } = actionsSetup();
    const error = await refused(run("create-profile", { firstName: "Nobody" }));
    expect(error.message).toContain("Individual's email address");
    expect(error.message).toContain("Phone Number");
    expect(error.message).toContain("External ID");
    expect(sent).toHaveLength(0);
  });

  it("refuses a bad email, phone number, image URL and location by label, sending nothing", async () => {
    const { run, sent } = actionsSetup();
    const error = await refused(
      run("create-profile", {
        email: "not-an-address",
        phoneNumber: "555-0100",
        image: "ftp://example.com/x.png",
        location: { city: "Boston", street: "Main", latitude: 123 },
        properties: "[1,2]",
      }),
    );
    expect(error.message).toContain("Individual's email address: is not an email address");
    expect(error.message).toContain("Phone Number: must be a phone number in E.164 format");
    expect(error.message).toContain("Image: must be an http(s) URL");
    expect(error.message).toMatch(/Location: .*unknown member "street"/);
    expect(error.message).toMatch(/Location: .*latitude: must be between -90 and 90/);
    expect(error.message).toContain("Properties: expected an object, received a string");
    expect(sent).toHaveLength(0);

    const { runText } = actionsSetup();
    const badJson = await refused(
      runText("create-profile", { email: "a@example.com", location: '{"city":' }),
    );
    expect(badJson.message).toMatch(/Location: is not valid JSON: error at position/);
    expect(sent).toHaveLength(0);
  });

  it("surfaces Klaviyo's 409 for a duplicate identifier as a ConflictError naming the existing profile", async () => {
    const { run } = actionsSetup();
    const first = await run<Doc>("create-profile", { email: "dup@example.com" });
    const error = await run("create-profile", { email: "dup@example.com", firstName: "Again" }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).duplicateProfileId).toBe(first.data.id);
    expect((error as ConflictError).status).toBe(409);
  });
});

describe("Get Profile", () => {
  it("returns the profile with fields, additional fields and included lists", async () => {
    const { run, client, sent } = actionsSetup();
    const created = await run<Doc>("create-profile", { email: "reader@example.com", firstName: "Rea" });
    const list = await run<Doc>("create-list", { listName: "Readers" });
    await client.request({
      method: "POST",
      path: `/api/lists/${list.data.id}/relationships/profiles`,
      body: { data: [{ type: "profile", id: created.data.id }] },
    });
    const out = await run<Doc>("get-profile", {
      profileId: created.data.id,
      fields: "email,first_name,subscriptions",
      additionalFields: ["subscriptions"],
      include: "lists",
    });
    expect(out.data.id).toBe(created.data.id);
    expect(out.data.attributes.email).toBe("reader@example.com");
    expect(out.data.attributes).toHaveProperty("subscriptions");
    expect(out.data.attributes).not.toHaveProperty("last_name");
    expect(out.included?.map((i) => [i.type, i.id])).toEqual([["list", list.data.id]]);
    const url = new URL((sent.at(-1) as Request).url);
    expect(url.searchParams.get("additional-fields[profile]")).toBe("subscriptions");
    expect(url.searchParams.get("include")).toBe("lists");
  });

  it("refuses unknown fields and an empty ID before sending; an unknown ID is a NotFoundError", async () => {
    const { run, sent } = actionsSetup();
    const error = await refused(
      run("get-profile", {
        profileId: "   ",
        fields: "email,joined_group_at",
        additionalFields: "subscriptions,nope",
        include: "flows",
      }),
    );
    expect(error.message).toContain("Profile ID: must not be empty");
    expect(error.message).toContain('Fields: unknown field "joined_group_at"');
    expect(error.message).toContain('Additional Profile Fields: unknown field "nope"');
    expect(error.message).toContain('Include: unknown field "flows"');
    expect(sent).toHaveLength(0);

    await expect(run("get-profile", { profileId: "01NOTAPROFILE000000000000X" })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});

describe("Update Profile", () => {
  it("sends only the attributes given, clears fields with null and unsets properties", async () => {
    const { run, emulator, sent } = actionsSetup();
    const created = await run<Doc>("create-profile", {
      email: "up@example.com",
      firstName: "Up",
      title: "Clerk",
      organization: "Old Co",
      location: { city: "Boston", zip: "02110" },
      properties: { plan: "silver", legacy: 1, keep: true },
    });
    const out = await run<Doc>("update-profile", {
      profileId: created.data.id,
      lastName: "Date",
      location: { city: "Cambridge", zip: null },
      properties: { plan: "gold" },
      clearFields: "title,organization",
      unsetProperties: ["legacy"],
    });
    expect(await bodyOf(sent.at(-1))).toEqual({
      data: {
        type: "profile",
        id: created.data.id,
        attributes: {
          last_name: "Date",
          location: { city: "Cambridge", zip: null },
          properties: { plan: "gold" },
          title: null,
          organization: null,
        },
        meta: { patch_properties: { unset: ["legacy"] } },
      },
    });
    expect(out.data.attributes).toMatchObject({
      email: "up@example.com",
      first_name: "Up",
      last_name: "Date",
      title: null,
      organization: null,
    });
    const row = emulator.state.profiles.get(created.data.id);
    expect(row?.attributes.properties).toEqual({ plan: "gold", keep: true });
    expect(row?.attributes.location).toMatchObject({ city: "Cambridge", zip: null });
    expect(row?.attributes.first_name).toBe("Up");
  });

  it("refuses a field both given and cleared, a bad phone and an unknown clear field, sending nothing", async () => {
    const { run, sent } = actionsSetup();
    const error = await refused(
      run("update-profile", {
        profileId: "01GDDKASAP8TKDDA2GRZDSVP4H",
        title: "Boss",
        clearFields: "title",
      }),
    );
    expect(error.message).toContain("Clear Fields: names title, which Title also sets");
    const bad = await refused(
      run("update-profile", {
        profileId: "01GDDKASAP8TKDDA2GRZDSVP4H",
        phoneNumber: "+0123",
        clearFields: "nickname",
      }),
    );
    expect(bad.message).toContain("Phone Number: must be a phone number in E.164 format");
    expect(bad.message).toContain('Clear Fields: unknown field "nickname"');
    expect(sent).toHaveLength(0);
  });

  it("surfaces a duplicate email as a ConflictError naming the other profile", async () => {
    const { run, emulator } = actionsSetup();
    const a = await run<Doc>("create-profile", { email: "a@example.com" });
    const b = await run<Doc>("create-profile", { email: "b@example.com" });
    const error = await run("update-profile", { profileId: b.data.id, email: "a@example.com" }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).duplicateProfileId).toBe(a.data.id);
    expect(emulator.state.profiles.get(b.data.id)?.attributes.email).toBe("b@example.com");
  });
});

describe("List Profile", () => {
  it("lists profiles one page at a time, filtered and sorted, and gathers pages up to Limit", async () => {
    const { run, sent } = actionsSetup();
    for (let i = 0; i < 5; i++)
      await run("create-profile", { email: `p${i}@example.com`, firstName: `P${i}` });
    const page = await run<ListResult>("list-profile", { pageSize: 2, sort: "-email", fields: ["email"] });
    expect(page.data.map((p) => p.attributes.email)).toEqual(["p4@example.com", "p3@example.com"]);
    expect(page.pages).toBe(1);
    expect(page.nextCursor).toBeDefined();
    const next = await run<ListResult>("list-profile", {
      pageSize: 2,
      sort: "-email",
      cursor: page.nextCursor,
    });
    expect(next.data.map((p) => p.attributes.email)).toEqual(["p2@example.com", "p1@example.com"]);

    const all = await run<ListResult>("list-profile", { pageSize: 2, limit: 5 });
    expect(all.data).toHaveLength(5);
    expect(all.pages).toBe(3);

    const one = await run<ListResult>("list-profile", {
      filter: "equals(email,'p3@example.com')",
      additionalFields: "subscriptions",
    });
    expect(one.data).toHaveLength(1);
    expect(one.data[0]?.attributes.first_name).toBe("P3");
    expect(one.data[0]?.attributes).toHaveProperty("subscriptions");
    const url = new URL((sent.at(-1) as Request).url);
    expect(url.searchParams.get("filter")).toBe("equals(email,'p3@example.com')");
    expect(url.searchParams.get("page[size]")).toBe("100");
  });

  it("streamed to a sink, Limit still bounds what is walked: one cursor or time partitions", async () => {
    const { client, sent } = actionsSetup();
    for (let i = 0; i < 7; i++) await runAction("create-profile", { email: `s${i}@example.com` }, { client });
    for (const partitions of [undefined, { concurrency: 2, partitions: 4 }]) {
      const got: unknown[] = [];
      const before = sent.length;
      await runAction(
        "list-profile",
        { pageSize: 2, limit: 3 },
        {
          client,
          stream: { sink: (items) => void got.push(...items), ...(partitions ? { partitions } : {}) },
        },
      );
      expect(got).toHaveLength(3);
      if (!partitions) expect(sent.length - before).toBe(2); // pages of 2, 1: nothing walked past the limit
    }
  });

  it("refuses a filter on a field Klaviyo does not filter by, a bad sort and a page size over 100", async () => {
    const { run, sent } = actionsSetup();
    const error = await refused(
      run("list-profile", { filter: "equals(first_name,'Sarah')", sort: "first_name", pageSize: 500 }),
    );
    expect(error.message).toContain("Filter: is not a valid Klaviyo filter");
    expect(error.message).toContain("Sort: must be one of");
    expect(error.message).toContain("Page Size: must be at most 100");
    const syntax = await refused(run("list-profile", { filter: "equals(email,'x'" }));
    expect(syntax.message).toContain("Filter: is not a valid Klaviyo filter");
    expect(sent).toHaveLength(0);
  });
});
