import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConflictError } from "../../src/core/errors.js";
import { expectNoContractProblems } from "../helpers/contract.js";
import { actionsSetup, bodyOf, refused } from "./helpers.js";

type Json = Record<string, unknown>;
interface Doc {
  data: { type: string; id: string; attributes: Json };
}
interface Upserted extends Doc {
  created: boolean;
}
interface Found {
  found: boolean;
  data: null | { id: string; attributes: Json } | Array<{ id: string; attributes: Json }>;
}
interface Bulk {
  total: number;
  accepted: number;
  rejected: Array<{ index: number; reason: string }>;
  failed: number[];
  unsent: number[];
  complete: boolean;
  requests: Array<{ from: number; to: number; status: string; jobId?: string; jobStatus?: string }>;
}

describe("Create or Update Profile", () => {
  it("creates (201, created: true), then updates the same profile (200, created: false): absent attributes kept, cleared ones emptied", async () => {
    const { run, emulator, sent } = actionsSetup();
    const first = await run<Upserted>("create-or-update-profile", {
      email: "ada@example.com",
      firstName: "Ada",
      title: "Countess",
      properties: { plan: "gold", old: 1 },
    });
    expect(first.created).toBe(true);
    expect(first.data.attributes).toMatchObject({
      email: "ada@example.com",
      first_name: "Ada",
      title: "Countess",
    });
    expect(await bodyOf(sent.at(-1))).toEqual({
      data: {
        type: "profile",
        attributes: {
          email: "ada@example.com",
          first_name: "Ada",
          title: "Countess",
          properties: { plan: "gold", old: 1 },
        },
      },
    });

    const second = await run<Upserted>("create-or-update-profile", {
      email: "ada@example.com",
      lastName: "Lovelace",
      clearFields: "title",
      unsetProperties: "old",
    });
    expect(second.created).toBe(false);
    expect(second.data.id).toBe(first.data.id);
    expect(second.data.attributes).toMatchObject({
      first_name: "Ada",
      last_name: "Lovelace",
      title: null,
      properties: { plan: "gold" },
    });
    expect(await bodyOf(sent.at(-1))).toEqual({
      data: {
        type: "profile",
        attributes: { email: "ada@example.com", last_name: "Lovelace", title: null },
        meta: { patch_properties: { unset: ["old"] } },
      },
    });
    expect(emulator.state.profiles.size).toBe(1);
    expect(emulator.state.profiles.get(first.data.id)?.attributes.title).toBeNull();
  });

  it("updates by Profile ID, changing the email address", async () => {
    const { run, emulator } = actionsSetup();
    const made = await run<Upserted>("create-or-update-profile", { externalId: "crm-7" });
    const out = await run<Upserted>("create-or-update-profile", {
      profileId: made.data.id,
      email: "new@example.com",
    });
    expect(out.created).toBe(false);
    expect(emulator.state.profiles.get(made.data.id)?.attributes).toMatchObject({
      email: "new@example.com",
      external_id: "crm-7",
    });
  });

  it("fails with a ConflictError naming the other profile when the email is one profile's and the phone another's", async () => {
    const { run, emulator } = actionsSetup();
    const byEmail = await run<Upserted>("create-or-update-profile", { email: "one@example.com" });
    const byPhone = await run<Upserted>("create-or-update-profile", { phoneNumber: "+15005550006" });
    const error = await run("create-or-update-profile", {
      email: "one@example.com",
      phoneNumber: "+15005550006",
      firstName: "Clash",
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).status).toBe(409);
    expect((error as ConflictError).duplicateProfileId).toBe(byPhone.data.id);
    // Nothing changed.
    expect(emulator.state.profiles.get(byEmail.data.id)?.attributes.first_name).toBeNull();
    expect(emulator.state.profiles.get(byEmail.data.id)?.attributes.phone_number).toBeNull();
  });

  it("refuses no identifier, and an attribute both given and cleared, before sending", async () => {
    const { run, sent } = actionsSetup();
    const none = await refused(run("create-or-update-profile", { firstName: "Nobody" }));
    expect(none.message).toContain("Individual's email address");
    expect(none.message).toContain("Profile ID");
    const both = await refused(
      run("create-or-update-profile", { email: "a@example.com", title: "X", clearFields: "title" }),
    );
    expect(both.message).toContain("Clear Fields: names title, which Title also sets");
    expect(sent).toHaveLength(0);
  });
});

describe("Find Profile", () => {
  it("finds by email, phone number or external ID; not found is a normal empty result", async () => {
    const { run, sent } = actionsSetup();
    const ada = await run<Upserted>("create-or-update-profile", {
      email: "ada@example.com",
      phoneNumber: "+15005550006",
      externalId: "crm-1",
    });
    await run("create-or-update-profile", { email: "grace@example.com" });
    for (const inputs of [
      { email: "ada@example.com" },
      { phoneNumber: "+15005550006" },
      { externalId: "crm-1" },
    ]) {
      const out = await run<Found>("find-profile", inputs);
      expect(out.found).toBe(true);
      expect((out.data as { id: string }).id).toBe(ada.data.id);
    }
    const url = new URL((sent.at(-1) as Request).url);
    expect(url.searchParams.get("filter")).toBe("equals(external_id,'crm-1')");
    expect(url.searchParams.get("page[size]")).toBe("1");

    expect(await run<Found>("find-profile", { email: "nobody@example.com" })).toEqual({
      found: false,
      data: null,
    });
    expect(await run<Found>("find-profile", { email: "nobody@example.com", match: "all" })).toEqual({
      found: false,
      data: [],
    });
    const all = await run<Found>("find-profile", { email: "grace@example.com", match: "all" });
    expect((all.data as unknown[]).length).toBe(1);
    // An address with a quote in it is one literal, escaped.
    const quoted = await run<Upserted>("create-or-update-profile", { email: "o'brien@example.com" });
    const found = await run<Found>("find-profile", { email: "o'brien@example.com" });
    expect((found.data as { id: string }).id).toBe(quoted.data.id);
    expect(new URL((sent.at(-1) as Request).url).searchParams.get("filter")).toBe(
      "equals(email,'o\\'brien@example.com')",
    );
  });

  it("refuses none or two identifiers, naming the three inputs, before sending", async () => {
    const { run, sent } = actionsSetup();
    const none = await refused(run("find-profile", {}));
    expect(none.message).toContain("one of Email, Phone Number, External ID is required");
    const two = await refused(run("find-profile", { email: "a@example.com", externalId: "x" }));
    expect(two.message).toContain("External ID: give only one of Email, Phone Number, External ID");
    expect(sent).toHaveLength(0);
  });

  it("property: any external ID (quotes, backslashes, unicode, filter injections) finds exactly the profile holding it", async () => {
    const { run, emulator } = actionsSetup();
    const tricky = fc.oneof(
      fc.string({ minLength: 1, maxLength: 30 }),
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }),
      fc.constantFrom(
        "'",
        '"',
        "\\",
        "\\'",
        "a'),or(equals(email,'x",
        "x'),has(email),equals(external_id,'",
        "',",
        "()[],",
        "%27%29",
        "é\u0000ß",
      ),
    );
    const values = fc.uniqueArray(tricky, { minLength: 2, maxLength: 5 });
    await fc.assert(
      fc.asyncProperty(values, async (ids) => {
        emulator.reset();
        const byId = new Map<string, string>();
        for (const externalId of ids) {
          const made = await run<Upserted>("create-or-update-profile", { externalId });
          byId.set(externalId, made.data.id);
        }
        for (const externalId of ids) {
          const out = await run<Found>("find-profile", { externalId, match: "all" });
          const found = out.data as Array<{ id: string; attributes: Json }>;
          expect(found.map((p) => p.id)).toEqual([byId.get(externalId)]);
          expect(found[0]?.attributes.external_id).toBe(externalId);
        }
        const missing = `${ids.join("")}-absent'`;
        expect((await run<Found>("find-profile", { externalId: missing })).data).toBeNull();
      }),
      { numRuns: 40 },
    );
    expectNoContractProblems();
  });
});

describe("Merge Profiles", () => {
  it("merges each profile into the kept one, one request each, reporting each; unknown ones are rejected", async () => {
    const { run, emulator, sent } = actionsSetup();
    const keep = await run<Upserted>("create-or-update-profile", { email: "keep@example.com" });
    const a = await run<Upserted>("create-or-update-profile", {
      email: "a@example.com",
      phoneNumber: "+15005550006",
    });
    const b = await run<Upserted>("create-or-update-profile", { externalId: "crm-b", firstName: "Bea" });
    const before = sent.length;
    const out = await run<Bulk & { profileId: string }>("merge-profiles", {
      profileId: keep.data.id,
      sourceProfileIds: [a.data.id, "01JAFS0VVWGJFE7QE4EJQBA5AS", b.data.id],
    });
    expect(sent.length - before).toBe(3);
    expect(await bodyOf(sent[before])).toEqual({
      data: {
        type: "profile-merge",
        id: keep.data.id,
        relationships: { profiles: { data: [{ type: "profile", id: a.data.id }] } },
      },
    });
    expect(out).toMatchObject({ profileId: keep.data.id, total: 3, accepted: 2, complete: false });
    expect(out.rejected).toHaveLength(1);
    expect(out.rejected[0]?.index).toBe(1);
    expect(out.requests.map((r) => r.status)).toEqual(["accepted", "rejected", "accepted"]);
    expect(emulator.state.profiles.get(a.data.id)).toBeUndefined();
    expect(emulator.state.profiles.get(b.data.id)).toBeUndefined();
    expect(emulator.state.profiles.get(keep.data.id)?.attributes).toMatchObject({
      email: "keep@example.com",
      phone_number: "+15005550006",
      external_id: "crm-b",
      first_name: "Bea",
    });
  });

  it("refuses the kept profile among those merged, and a profile named twice, before sending", async () => {
    const { run, sent } = actionsSetup();
    const id = "01GDDKASAP8TKDDA2GRZDSVP4H";
    const error = await refused(
      run("merge-profiles", {
        profileId: id,
        sourceProfileIds: `${id},01GDDKASAP8TKDDA2GRZDSVP4I,01GDDKASAP8TKDDA2GRZDSVP4I`,
      }),
    );
    expect(error.message).toContain("item 0 is the Profile ID itself");
    expect(error.message).toContain("item 2 (01GDDKASAP8TKDDA2GRZDSVP4I) is named twice");
    await refused(run("merge-profiles", { profileId: id, sourceProfileIds: " , " }));
    expect(sent).toHaveLength(0);
  });
});

describe("Request Profile Deletion", () => {
  it("sends one identifier per job (email, phone number or ID) and the profile is gone", async () => {
    const { run, emulator, sent } = actionsSetup();
    const byEmail = await run<Upserted>("create-or-update-profile", { email: "gone@example.com" });
    const byPhone = await run<Upserted>("create-or-update-profile", { phoneNumber: "+15005550007" });
    const byId = await run<Upserted>("create-or-update-profile", { externalId: "crm-x" });
    const out = await run("request-profile-deletion", { email: "gone@example.com" });
    expect(out).toEqual({ requested: true, httpStatus: 202, identifier: { email: "gone@example.com" } });
    expect(await bodyOf(sent.at(-1))).toEqual({
      data: {
        type: "data-privacy-deletion-job",
        attributes: { profile: { data: { type: "profile", attributes: { email: "gone@example.com" } } } },
      },
    });
    await run("request-profile-deletion", { phoneNumber: "+15005550007" });
    await run("request-profile-deletion", { profileId: byId.data.id });
    expect(await bodyOf(sent.at(-1))).toEqual({
      data: {
        type: "data-privacy-deletion-job",
        attributes: { profile: { data: { type: "profile", id: byId.data.id, attributes: {} } } },
      },
    });
    for (const p of [byEmail, byPhone, byId]) expect(emulator.state.profiles.get(p.data.id)).toBeUndefined();
  });

  it("refuses none or several identifiers before sending", async () => {
    const { run, sent } = actionsSetup();
    expect((await refused(run("request-profile-deletion", {}))).message).toContain(
      "one of Email, Phone Number, Profile ID is required",
    );
    expect(
      (
        await refused(
          run("request-profile-deletion", { email: "a@example.com", phoneNumber: "+15005550006" }),
        )
      ).message,
    ).toContain("give only one of Email, Phone Number, Profile ID");
    expect(sent).toHaveLength(0);
  });
});

describe("Suppress and Unsuppress Profiles", () => {
  const suppressionOf = (emulator: ReturnType<typeof actionsSetup>["emulator"], id: string) =>
    (
      (emulator.state.profiles.get(id)?.subscriptions.email as Json | undefined)?.marketing as
        | Json
        | undefined
    )?.suppression;

  it("suppresses any number of emails 100 a job, reporting each job; Get Profile shows USER_SUPPRESSED; unsuppress lifts it", async () => {
    const { run, emulator, sent } = actionsSetup();
    const ada = await run<Upserted>("create-or-update-profile", { email: "ada@example.com" });
    const emails = ["ada@example.com", ...Array.from({ length: 229 }, (_, i) => `p${i}@example.com`)];
    const before = sent.length;
    const out = await run<Bulk>("suppress-profiles", { emails });
    expect(sent.length - before).toBe(3);
    expect(out).toMatchObject({ total: 230, accepted: 230, complete: true, rejected: [], unsent: [] });
    expect(out.requests.map((r) => [r.from, r.to, r.jobStatus])).toEqual([
      [0, 100, "queued"],
      [100, 200, "queued"],
      [200, 230, "queued"],
    ]);
    expect(out.requests.every((r) => typeof r.jobId === "string")).toBe(true);
    const doc = await run<Doc>("get-profile", { profileId: ada.data.id, additionalFields: "subscriptions" });
    const marketing = ((doc.data.attributes.subscriptions as Json).email as Json).marketing as Json;
    expect(marketing.suppression).toEqual([{ reason: "USER_SUPPRESSED", timestamp: expect.any(String) }]);
    expect(marketing.can_receive_email_marketing).toBe(false);

    const lifted = await run<Bulk>("unsuppress-profiles", { emails: "ada@example.com" });
    expect(lifted).toMatchObject({ total: 1, accepted: 1, complete: true });
    expect(suppressionOf(emulator, ada.data.id)).toEqual([]);
  });

  it("unsuppress lifts only USER_SUPPRESSED: an unsubscribed profile stays suppressed", async () => {
    const { run, emulator } = actionsSetup();
    const out = await run<Upserted>("create-or-update-profile", { email: "left@example.com" });
    await run("unsubscribe-profiles", { profiles: [{ email: "left@example.com" }] });
    await run("suppress-profiles", { emails: "left@example.com" });
    expect(suppressionOf(emulator, out.data.id)).toEqual([
      expect.objectContaining({ reason: "UNSUBSCRIBE" }),
      expect.objectContaining({ reason: "USER_SUPPRESSED" }),
    ]);
    await run("unsuppress-profiles", { emails: "left@example.com" });
    expect(suppressionOf(emulator, out.data.id)).toEqual([
      expect.objectContaining({ reason: "UNSUBSCRIBE" }),
    ]);
  });

  it("suppresses a whole list's members in one job", async () => {
    const { run, emulator, sent } = actionsSetup();
    const list = await run<Doc>("create-list", { listName: "Winback" });
    await run("subscribe-profiles", {
      profiles: [{ email: "m1@example.com" }, { email: "m2@example.com" }],
      listId: list.data.id,
    });
    const out = await run<Bulk>("suppress-profiles", { listId: list.data.id });
    expect(out).toMatchObject({ total: 1, accepted: 1, complete: true });
    expect(await bodyOf(sent.at(-1))).toEqual({
      data: {
        type: "profile-suppression-bulk-create-job",
        attributes: {},
        relationships: { list: { data: { type: "list", id: list.data.id } } },
      },
    });
    const suppressed = [...emulator.state.profiles.values()].filter((p) =>
      JSON.stringify(p.subscriptions).includes("USER_SUPPRESSED"),
    );
    expect(suppressed.map((p) => p.attributes.email).sort()).toEqual(["m1@example.com", "m2@example.com"]);
  });

  it("refuses a bad address, and emails with a list, before sending", async () => {
    const { run, sent } = actionsSetup();
    const bad = await refused(run("suppress-profiles", { emails: "ok@example.com,not-an-address" }));
    expect(bad.message).toContain("Emails");
    const two = await refused(run("unsuppress-profiles", { emails: "ok@example.com", listId: "Y6nRLr" }));
    expect(two.message).toContain("give only one of Emails, List ID, Segment ID");
    expect(sent).toHaveLength(0);
  });

  it("property: any number of emails is sent in jobs of at most 100, every address exactly once, in order", async () => {
    const { run, sent } = actionsSetup();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 350 }), async (n) => {
        const emails = Array.from({ length: n }, (_, i) => `u${i}@example.com`);
        const before = sent.length;
        const out = await run<Bulk>("suppress-profiles", { emails });
        const bodies = await Promise.all(sent.slice(before).map((r) => bodyOf(r)));
        const sentEmails = bodies.flatMap((b) =>
          (
            (b.data as Json).attributes as { profiles: { data: Array<{ attributes: { email: string } }> } }
          ).profiles.data.map((p) => p.attributes.email),
        );
        expect(bodies.length).toBe(Math.ceil(n / 100));
        expect(sentEmails).toEqual(emails);
        expect(out).toMatchObject({ total: n, accepted: n, complete: true });
      }),
      { numRuns: 12 },
    );
  });
});
