/**
 * The pickers both platforms offer, against the emulator: every item of a collection longer than a page, the
 * campaigns of every channel, searches Klaviyo can answer, and profiles found without walking the account.
 */
import { describe, expect, it } from "vitest";
import { allOptions, getPicker, PICKER_KEYS, pickerForInput } from "../../src/platforms/pickers.js";
import { actionsSetup } from "../actions/helpers.js";

describe("pickers", () => {
  it("dropdowns that show the first page: all 27 lists are offered, ten to a request", async () => {
    const s = actionsSetup();
    const made: string[] = [];
    for (let i = 0; i < 27; i++) {
      const res = await s.run<{ data: { id: string } }>("create-list", {
        listName: `List ${String(i).padStart(2, "0")}`,
      });
      made.push(res.data.id);
    }
    const before = s.sent.length;
    const { options, truncated } = await allOptions(getPicker("lists"), s.client);
    expect(truncated).toBe(false);
    expect(options.map((o) => o.value).sort()).toEqual([...made].sort());
    expect(options.find((o) => o.value === made[3])?.label).toBe("List 03");
    expect(s.sent.length - before).toBe(3);
    // Lists' names match only whole in Klaviyo's filter: a search narrows each page read.
    const found = await allOptions(getPicker("lists"), s.client, { search: "list 2" });
    expect(found.options.map((o) => o.label).sort()).toEqual([
      "List 20",
      "List 21",
      "List 22",
      "List 23",
      "List 24",
      "List 25",
      "List 26",
    ]);
  });

  it("campaigns of one channel: email, SMS and push campaigns, archived ones too, are all offered", async () => {
    const s = actionsSetup();
    const list = (await s.run<{ data: { id: string } }>("create-list", { listName: "Audience" })).data.id;
    const contents = {
      email: { subject: "Hi", from_email: "hello@example.com", from_label: "Feed" },
      sms: { body: "Hi" },
      mobile_push: { title: "Hi", body: "Hi" },
    } as const;
    for (const channel of ["email", "sms", "mobile_push"] as const) {
      await s.run("create-campaign", {
        name: `Launch ${channel}`,
        includedAudiences: [list],
        messages: [{ channel, content: contents[channel] }],
      });
    }
    const archived = await s.run<{ data: { id: string } }>("create-campaign", {
      name: "Old launch",
      includedAudiences: [list],
      messages: [{ channel: "email", content: contents.email }],
    });
    s.emulator.archiveCampaign(archived.data.id);
    const { options } = await allOptions(getPicker("campaigns"), s.client);
    expect(options.map((o) => o.label).sort()).toEqual([
      "Launch email (email)",
      "Launch mobile_push (push)",
      "Launch sms (sms)",
      "Old launch (email, archived)",
    ]);
    const searched = await allOptions(getPicker("campaigns"), s.client, { search: "sms" });
    expect(searched.options.map((o) => o.label)).toEqual(["Launch sms (sms)"]);
  });

  it("pickers that walk the whole account: profiles are found by email in one request, or the latest shown", async () => {
    const s = actionsSetup({ seedProfiles: 400 });
    const target = await s.run<{ data: { id: string } }>("create-profile", { email: "needle@example.com" });
    const before = s.sent.length;
    const page = await getPicker("profiles").page(s.client, { search: "needle@example.com" });
    expect(page.options).toEqual([{ label: "needle@example.com", value: target.data.id }]);
    const latest = await allOptions(getPicker("profiles"), s.client);
    expect(latest.options.length).toBeLessThanOrEqual(50);
    expect(latest.options[0]?.value).toBe(target.data.id);
    expect(s.sent.length - before).toBe(2);
  });

  it("every picker answers against the emulator, and each is attached to the inputs taking its IDs", async () => {
    const s = actionsSetup({ seed: "demo" });
    for (const key of PICKER_KEYS) {
      const page = await getPicker(key).page(s.client, {});
      expect(Array.isArray(page.options), key).toBe(true);
      for (const option of page.options) expect(option.value, key).toMatch(/\S/);
    }
    expect(pickerForInput("listId")?.key).toBe("lists");
    expect(pickerForInput("metricId")?.key).toBe("metrics");
    expect(pickerForInput("profileId")?.key).toBe("profiles");
  });
});
