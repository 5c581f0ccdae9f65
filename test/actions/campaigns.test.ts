import { describe, expect, it } from "vitest";
import type { ListOutput } from "../../src/actions/list.js";
import { NotFoundError } from "../../src/core/errors.js";
import { actionsSetup, refused } from "./helpers.js";

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

function setup() {
  const t = actionsSetup();
  const now = "2026-01-01T00:00:00.000+00:00";
  for (const [id, name] of [
    ["LstA01", "Newsletter"],
    ["LstB02", "VIP"],
    ["LstC03", "Unsubscribed"],
  ]) {
    t.emulator.state.lists.insert({
      id: id as string,
      seq: t.emulator.state.lists.seq(),
      attributes: { name, created: now, updated: now, opt_in_process: "single_opt_in" },
    });
  }
  return t;
}

const emailDefinition = {
  channel: "email",
  label: "Spring email",
  content: {
    subject: "20% off",
    preview_text: "This week only",
    from_email: "shop@example.com",
    from_label: "Shop",
  },
};

async function body(
  t: ReturnType<typeof actionsSetup>,
  index: number,
): Promise<{ data: Record<string, unknown> }> {
  return (await t.sent[index]?.clone().json()) as { data: Record<string, unknown> };
}

describe("create-campaign", () => {
  it("creates a draft with its messages nested in attributes, and it reads back", async () => {
    const t = setup();
    // Audiences and options in the forms people type them (the CLI, a platform's text field).
    const doc = await t.runText<Doc>("create-campaign", {
      name: "Spring sale",
      messages: [emailDefinition],
      includedAudiences: "LstA01, LstB02",
      excludedAudiences: '["LstC03"]',
      trackingOptions: { is_tracking_opens: true, is_tracking_clicks: false },
      sendOptions: '{"use_smart_sending":false}',
      sendStrategy: { method: "static", datetime: "2026-08-01T15:00", options: { is_local: false } },
    });
    expect(doc.data.type).toBe("campaign");
    expect(doc.data.attributes).toMatchObject({
      name: "Spring sale",
      status: "Draft",
      audiences: { included: ["LstA01", "LstB02"], excluded: ["LstC03"] },
      send_options: { use_smart_sending: false },
      tracking_options: { is_tracking_opens: true, is_tracking_clicks: false },
      send_strategy: { method: "static", datetime: "2026-08-01T15:00:00Z", options: { is_local: false } },
    });
    const sent = await body(t, 0);
    const attributes = sent.data.attributes as Record<string, unknown>;
    expect(attributes["campaign-messages"]).toEqual({
      data: [{ type: "campaign-message", attributes: { definition: emailDefinition } }],
    });

    const row = t.emulator.state.campaigns.get(doc.data.id);
    expect(row?.messageIds).toHaveLength(1);
    const back = await t.run<Doc>("get-campaign", { campaignId: doc.data.id, include: "campaign-messages" });
    expect(back.data.attributes.name).toBe("Spring sale");
    const [message] = back.included ?? [];
    expect(message?.type).toBe("campaign-message");
    expect(message?.attributes.definition).toMatchObject(emailDefinition);
  });

  it("accepts Klaviyo's message resources and a single message object; sends only what was given", async () => {
    const t = setup();
    const doc = await t.run<Doc>("create-campaign", {
      name: "Text blast",
      messages: {
        type: "campaign-message",
        attributes: { definition: { channel: "sms", content: { body: "Sale!" } } },
      },
      includedAudiences: ["LstA01"],
    });
    expect(doc.data.attributes.tracking_options).toMatchObject({ add_tracking_params: false });
    const attributes = (await body(t, 0)).data.attributes as Record<string, unknown>;
    expect(Object.keys(attributes).sort()).toEqual(["audiences", "campaign-messages", "name"]);
    expect(attributes.audiences).toEqual({ included: ["LstA01"] });
    const [messageId] = t.emulator.state.campaigns.get(doc.data.id)?.messageIds ?? [];
    expect(t.emulator.state.campaignMessages.get(messageId ?? "")?.attributes.definition).toMatchObject({
      channel: "sms",
      content: { body: "Sale!" },
    });
  });

  it("refuses bad input by label before sending anything", async () => {
    const t = setup();
    const missing = await refused(t.run("create-campaign", { name: "X", includedAudiences: "LstA01" }));
    expect(missing.message).toMatch(/Campaign Messages: is required/);

    const mixed = await refused(
      t.run("create-campaign", {
        name: "X",
        messages: [emailDefinition, { channel: "sms", content: { body: "Hi" } }],
        includedAudiences: "LstA01",
      }),
    );
    expect(mixed.message).toMatch(/Campaign Messages: every message of a campaign must use the same channel/);

    const bad = await refused(
      t.run("create-campaign", {
        name: "  ",
        messages: [{ channel: "fax" }, { channel: "email", content: { from_email: "not-an-address" } }],
        includedAudiences: [],
        sendStrategy: { method: "throttled", datetime: "soon", throttle_percentage: 7 },
        sendOptions: { smart: true },
        trackingOptions: { custom_tracking_params: [{ type: "dynamic", value: "weather", name: "utm" }] },
      }),
    );
    expect(bad.message).toMatch(/Campaign Name: must not be empty/);
    expect(bad.message).toMatch(
      /Campaign Messages: message 0: the channel must be one of email, sms, mobile_push/,
    );
    expect(bad.message).toMatch(/message 1: content\.from_email "not-an-address" is not an email address/);
    expect(bad.message).toMatch(/Included Audiences: must name at least one list or segment/);
    expect(bad.message).toMatch(/Send Strategy: a throttled send strategy needs datetime/);
    expect(bad.message).toMatch(/throttle_percentage must be one of/);
    expect(bad.message).toMatch(/Send Options: unknown send option member "smart"/);
    expect(bad.message).toMatch(
      /Tracking Options: custom_tracking_params\[0\]: a dynamic value must be one of/,
    );

    const smsTracking = await refused(
      t.run("create-campaign", {
        name: "X",
        messages: [{ channel: "sms", content: { body: "Hi" } }],
        includedAudiences: "LstA01",
        trackingOptions: { is_tracking_opens: true },
      }),
    );
    expect(smsTracking.message).toMatch(/Tracking Options: is_tracking_opens apply to email campaigns only/);
    expect(t.sent).toHaveLength(0);
    expect(t.emulator.state.campaigns.size).toBe(0);
  });
});

describe("get-campaign, list-campaigns", () => {
  async function seeded() {
    const t = setup();
    const ids: string[] = [];
    for (const [name, definition] of [
      ["Email one", emailDefinition],
      ["Email two", { ...emailDefinition, label: "Second" }],
      ["SMS one", { channel: "sms", content: { body: "Hi" } }],
    ] as const) {
      const doc = await t.run<Doc>("create-campaign", {
        name,
        messages: [definition],
        includedAudiences: "LstA01",
      });
      ids.push(doc.data.id);
    }
    t.sent.length = 0;
    return { t, ids };
  }

  it("get-campaign applies fields and message fields (which include the messages)", async () => {
    const { t, ids } = await seeded();
    const doc = await t.run<Doc>("get-campaign", {
      campaignId: ids[0],
      fields: "name,status",
      messageFields: "definition.content.subject",
    });
    expect(doc.data.attributes).toEqual({ name: "Email one", status: "Draft" });
    expect(new URL(t.sent[0]?.url ?? "").searchParams.get("include")).toBe("campaign-messages");
    expect(doc.included?.[0]?.attributes).toEqual({ definition: { content: { subject: "20% off" } } });
  });

  it("get-campaign refuses an empty id or unknown fields before sending, and reports a missing campaign", async () => {
    const { t } = await seeded();
    expect((await refused(t.run("get-campaign", { campaignId: "" }))).message).toMatch(
      /Campaign ID: is required/,
    );
    expect((await refused(t.run("get-campaign", { campaignId: "a/b" }))).message).toMatch(
      /Campaign ID: must not contain/,
    );
    expect((await refused(t.run("get-campaign", { campaignId: "abc", fields: "subject" }))).message).toMatch(
      /Fields: unknown field "subject"/,
    );
    expect(t.sent).toHaveLength(0);
    await expect(t.run("get-campaign", { campaignId: "NOPE" })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("list-campaigns defaults to SMS campaigns, and filters, sorts and pages by channel", async () => {
    const { t } = await seeded();
    const sms = await t.run<ListOutput<Resource>>("list-campaigns", {});
    expect(sms.data.map((c) => c.attributes.name)).toEqual(["SMS one"]);
    expect(new URL(t.sent[0]?.url ?? "").searchParams.get("filter")).toBe("equals(messages.channel,'sms')");

    const email = await t.run<ListOutput<Resource>>("list-campaigns", {
      filter: "and(equals(messages.channel,'email'),equals(status,'Draft'))",
      sort: "-name",
      fields: "name",
      pageSize: 1,
    });
    expect(email.data.map((c) => c.attributes)).toEqual([{ name: "Email two" }]);
    expect(email.nextCursor).toBeDefined();
    const all = await t.run<ListOutput<Resource>>("list-campaigns", {
      filter: "equals(messages.channel,'email')",
      include: "campaign-messages",
      limit: 5,
      pageSize: 1,
    });
    expect(all.data).toHaveLength(2);
    expect(all.pages).toBe(2);
    expect(all.included).toHaveLength(2);
  });

  it("list-campaigns refuses a filter without exactly one channel, or a bad filter, before sending", async () => {
    const { t } = await seeded();
    const none = await refused(t.run("list-campaigns", { filter: "equals(status,'Draft')" }));
    expect(none.message).toMatch(/Filter Campaigns: must name a channel/);
    const two = await refused(
      t.run("list-campaigns", {
        filter: "and(equals(messages.channel,'email'),equals(messages.channel,'sms'))",
      }),
    );
    expect(two.message).toMatch(/Filter Campaigns: must name one channel only/);
    const badValue = await refused(t.run("list-campaigns", { filter: "equals(messages.channel,'fax')" }));
    expect(badValue.message).toMatch(/Filter Campaigns: is not a valid Klaviyo filter/);
    expect(t.sent).toHaveLength(0);
  });
});

describe("update-campaign and delete-campaign", () => {
  it("update-campaign sends only what was given and returns the campaign as changed", async () => {
    const t = setup();
    const created = await t.run<Doc>("create-campaign", {
      name: "Spring sale",
      messages: [emailDefinition],
      includedAudiences: "LstA01",
      excludedAudiences: "LstC03",
    });
    t.sent.length = 0;
    const doc = await t.run<Doc>("update-campaign", {
      campaignId: created.data.id,
      name: "Spring sale (final)",
      excludedAudiences: [],
      sendStrategy: { method: "smart_send_time", date: "2026-09-01" },
    });
    expect(await body(t, 0)).toEqual({
      data: {
        type: "campaign",
        id: created.data.id,
        attributes: {
          name: "Spring sale (final)",
          audiences: { excluded: [] },
          send_strategy: { method: "smart_send_time", date: "2026-09-01" },
        },
      },
    });
    expect(doc.data.attributes).toMatchObject({
      name: "Spring sale (final)",
      audiences: { included: ["LstA01"], excluded: [] },
      send_strategy: { method: "smart_send_time", date: "2026-09-01" },
    });
    expect(t.emulator.state.campaigns.get(created.data.id)?.attributes.name).toBe("Spring sale (final)");
  });

  it("update-campaign refuses no changes, messages and bad input before sending", async () => {
    const t = setup();
    const nothing = await refused(t.run("update-campaign", { campaignId: "abc" }));
    expect(nothing.message).toMatch(/nothing to update/);
    const messages = await refused(
      t.run("update-campaign", { campaignId: "abc", messages: [emailDefinition] }),
    );
    expect(messages.message).toMatch(/messages: is not an input of Update Campaign/);
    const bad = await refused(
      t.run("update-campaign", {
        campaignId: "abc",
        includedAudiences: [],
        sendStrategy: { method: "later" },
      }),
    );
    expect(bad.message).toMatch(/Included Audiences: must name at least one list or segment/);
    expect(bad.message).toMatch(
      /Send Strategy: method must be one of immediate, static, throttled, smart_send_time/,
    );
    expect(t.sent).toHaveLength(0);
  });

  it("delete-campaign removes the campaign and its messages", async () => {
    const t = setup();
    const created = await t.run<Doc>("create-campaign", {
      name: "Doomed",
      messages: [emailDefinition],
      includedAudiences: "LstA01",
    });
    const out = await t.run("delete-campaign", { campaignId: created.data.id });
    expect(out).toEqual({ deleted: true, id: created.data.id });
    expect(t.emulator.state.campaigns.get(created.data.id)).toBeUndefined();
    expect(t.emulator.state.campaignMessages.size).toBe(0);
    await expect(t.run("get-campaign", { campaignId: created.data.id })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it("delete-campaign refuses an empty ID before sending", async () => {
    const t = setup();
    const error = await refused(t.run("delete-campaign", { campaignId: " " }));
    expect(error.message).toMatch(/Campaign ID: must not be empty/);
    expect(t.sent).toHaveLength(0);
  });
});
