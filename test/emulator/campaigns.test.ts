import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KlaviyoClient } from "../../src/core/client.js";
import { createEmulator } from "../../src/emulator/index.js";
import type { ResourceRow } from "../../src/emulator/store.js";
import { checkedFetch, expectNoContractProblems, type FetchLike } from "../helpers/contract.js";
import { klaviyoHeaders, onlyError } from "./helpers.js";

const KEY = "pk_campaigns_test_000000000000000";
const em = createEmulator({ apiKeys: [{ key: KEY }], rateLimits: "off" });
const checked = checkedFetch(em.fetch);
/** Checks responses only: for requests that break the document on purpose. */
const unchecked = checkedFetch(em.fetch, { requests: false });

interface Resource {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  relationships?: Record<string, { data?: unknown; links?: Record<string, string> }>;
  links: { self: string };
}
interface Doc {
  data: Resource;
  links: Record<string, string>;
  included?: Resource[];
}
interface ListDoc {
  data: Resource[];
  links: { self: string; next?: string; prev?: string };
  included?: Resource[];
}

function call(method: string, path: string, body?: unknown, fetcher: FetchLike = checked) {
  const url = path.startsWith("http") ? path : `${em.baseUrl}${path}`;
  return fetcher(url, {
    method,
    headers: klaviyoHeaders(KEY, body === undefined ? {} : { "Content-Type": "application/vnd.api+json" }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

const emailMessage = (subject = "Spring is here") => ({
  type: "campaign-message",
  attributes: {
    definition: {
      channel: "email",
      label: "Spring email",
      content: { subject, preview_text: "20% off", from_email: "shop@example.com", from_label: "Shop" },
    },
  },
});
const smsMessage = {
  type: "campaign-message",
  attributes: { definition: { channel: "sms", content: { body: "Sale!" } } },
};
const pushMessage = {
  type: "campaign-message",
  attributes: { definition: { channel: "mobile_push", content: { title: "Sale", body: "Open the app" } } },
};

function campaignBody(
  name: string,
  included: string[],
  messages: unknown[],
  extra: Record<string, unknown> = {},
) {
  return {
    data: {
      type: "campaign",
      attributes: { name, audiences: { included }, "campaign-messages": { data: messages }, ...extra },
    },
  };
}

let list: ResourceRow;

function addList(id: string, name: string): ResourceRow {
  const now = "2026-01-01T00:00:00.000+00:00";
  return em.state.lists.insert({
    id,
    seq: em.state.lists.seq(),
    attributes: { name, created: now, updated: now, opt_in_process: "single_opt_in" },
  });
}

async function create(
  name: string,
  messages: unknown[] = [emailMessage()],
  extra: Record<string, unknown> = {},
) {
  const res = await call("POST", "/api/campaigns", campaignBody(name, [list.id], messages, extra));
  expect(res.status).toBe(201);
  return ((await res.json()) as Doc).data;
}

const EMAIL = `filter=${encodeURIComponent("equals(messages.channel,'email')")}`;

beforeEach(() => {
  em.reset();
  list = addList("LstA01", "Newsletter");
});

afterEach(() => {
  expectNoContractProblems();
});

describe("POST /api/campaigns", () => {
  it("creates a Draft with Klaviyo's defaults and stores its message", async () => {
    const campaign = await create("Spring sale");
    expect(campaign.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(campaign.attributes).toMatchObject({
      name: "Spring sale",
      status: "Draft",
      archived: false,
      audiences: { included: [list.id], excluded: [] },
      send_options: { use_smart_sending: true },
      tracking_options: { add_tracking_params: false, is_tracking_clicks: true, is_tracking_opens: true },
      send_strategy: { method: "immediate" },
      scheduled_at: null,
      send_time: null,
    });
    expect(campaign.attributes.created_at).toBe(campaign.attributes.updated_at);
    const rel = campaign.relationships?.["campaign-messages"];
    const [messageRef] = (rel?.data ?? []) as Array<{ type: string; id: string }>;
    expect(messageRef?.type).toBe("campaign-message");
    const stored = em.state.campaignMessages.get(messageRef?.id ?? "");
    expect(stored?.campaignId).toBe(campaign.id);
    expect(em.state.campaigns.get(campaign.id)?.messageIds).toEqual([messageRef?.id]);
  });

  it("reads back with include=campaign-messages: every member of the email definition", async () => {
    const campaign = await create("Spring sale", [emailMessage("Hello")]);
    const res = await call("GET", `/api/campaigns/${campaign.id}?include=campaign-messages,tags`);
    const body = (await res.json()) as Doc;
    expect(body.data.attributes).toEqual(campaign.attributes);
    expect(body.data.relationships?.tags?.data).toEqual([]);
    expect(body.included).toHaveLength(1);
    const [message] = body.included ?? [];
    expect(message?.type).toBe("campaign-message");
    expect(message?.attributes.definition).toEqual({
      channel: "email",
      label: "Spring email",
      content: {
        subject: "Hello",
        preview_text: "20% off",
        from_email: "shop@example.com",
        from_label: "Shop",
        reply_to_email: null,
        cc_email: null,
        bcc_email: null,
      },
    });
    expect(message?.relationships?.campaign?.data).toEqual({ type: "campaign", id: campaign.id });

    const direct = (await (
      await call("GET", `/api/campaign-messages/${message?.id}?include=campaign`)
    ).json()) as Doc;
    expect(direct.data.attributes.definition).toEqual(message?.attributes.definition);
    expect(direct.included?.[0]).toMatchObject({ type: "campaign", id: campaign.id });
    const plain = (await (await call("GET", `/api/campaigns/${campaign.id}`)).json()) as Doc;
    expect(plain).not.toHaveProperty("included");
  });

  it("applies sparse fieldsets to the campaign and its included messages", async () => {
    const campaign = await create("Sparse");
    const res = await call(
      "GET",
      `/api/campaigns/${campaign.id}?include=campaign-messages&fields[campaign]=name,send_options.use_smart_sending&fields[campaign-message]=definition.channel`,
    );
    const body = (await res.json()) as Doc;
    expect(body.data.attributes).toEqual({ name: "Sparse", send_options: { use_smart_sending: true } });
    expect(body.included?.[0]?.attributes).toEqual({ definition: { channel: "email" } });
    const bad = await call(
      "GET",
      `/api/campaigns/${campaign.id}?fields[campaign]=subject`,
      undefined,
      unchecked,
    );
    expect((await onlyError(bad)).source.parameter).toBe("fields[campaign]");
  });

  it("fills SMS and push definitions with their documented defaults", async () => {
    const sms = await create("Text", [smsMessage], { tracking_options: { add_tracking_params: true } });
    expect(sms.attributes.tracking_options).toEqual({
      add_tracking_params: true,
      custom_tracking_params: null,
    });
    const smsDoc = (await (
      await call("GET", `/api/campaigns/${sms.id}?include=campaign-messages`)
    ).json()) as Doc;
    expect(smsDoc.included?.[0]?.attributes.definition).toEqual({
      channel: "sms",
      content: { body: "Sale!", media_url: null },
      render_options: {
        shorten_links: true,
        add_org_prefix: true,
        add_info_link: true,
        add_opt_out_language: false,
      },
    });
    const push = await create("Push", [pushMessage]);
    expect(push.attributes.tracking_options).toBeNull();
    const pushDoc = (await (
      await call("GET", `/api/campaigns/${push.id}?include=campaign-messages`)
    ).json()) as Doc;
    expect(pushDoc.included?.[0]?.attributes.definition).toMatchObject({
      channel: "mobile_push",
      notification_type: "standard",
      content: { title: "Sale", body: "Open the app", dynamic_image: null, action_buttons: null },
      options: { on_open: null, badge: null, play_sound: false },
    });
  });

  it.each([
    [
      {
        method: "static",
        datetime: "2026-12-01T15:00:00+00:00",
        options: { is_local: true, send_past_recipients_immediately: true },
      },
      "2026-12-01T15:00:00+00:00",
    ],
    [
      { method: "throttled", datetime: "2026-12-01T15:00:00+00:00", throttle_percentage: 20 },
      "2026-12-01T15:00:00+00:00",
    ],
    [{ method: "smart_send_time", date: "2026-12-01" }, null],
  ])("stores the send strategy %j", async (send_strategy, sendTime) => {
    const campaign = await create("Scheduled", [emailMessage()], {
      send_strategy,
      send_options: { use_smart_sending: false },
    });
    expect(campaign.attributes.send_strategy).toEqual(send_strategy);
    expect(campaign.attributes.send_time).toBe(sendTime);
    expect(campaign.attributes.send_options).toEqual({ use_smart_sending: false });
  });

  it.each([
    ["no messages", campaignBody("x", ["LstA01"], []), "/data/attributes/campaign-messages/data"],
    [
      "an unknown channel",
      campaignBody(
        "x",
        ["LstA01"],
        [{ type: "campaign-message", attributes: { definition: { channel: "fax" } } }],
      ),
      "/data/attributes/campaign-messages/data/0/attributes/definition/channel",
    ],
    [
      "a push message without a body",
      campaignBody(
        "x",
        ["LstA01"],
        [
          {
            type: "campaign-message",
            attributes: { definition: { channel: "mobile_push", content: { title: "t" } } },
          },
        ],
      ),
      "/data/attributes/campaign-messages/data/0/attributes/definition/content/body",
    ],
    [
      "an unknown send strategy method",
      campaignBody("x", ["LstA01"], [emailMessage()], { send_strategy: { method: "later" } }),
      "/data/attributes/send_strategy/method",
    ],
    [
      "a throttle percentage outside its enum",
      campaignBody("x", ["LstA01"], [emailMessage()], {
        send_strategy: {
          method: "throttled",
          datetime: "2026-12-01T15:00:00+00:00",
          throttle_percentage: 30,
        },
      }),
      "/data/attributes/send_strategy/throttle_percentage",
    ],
    [
      "a static strategy without its datetime",
      campaignBody("x", ["LstA01"], [emailMessage()], { send_strategy: { method: "static" } }),
      "/data/attributes/send_strategy/datetime",
    ],
    [
      "a missing audience",
      {
        data: {
          type: "campaign",
          attributes: { name: "x", "campaign-messages": { data: [emailMessage()] } },
        },
      },
      "/data/attributes/audiences",
    ],
    [
      "open tracking on an SMS campaign",
      campaignBody("x", ["LstA01"], [smsMessage], { tracking_options: { is_tracking_opens: true } }),
      "/data/attributes/tracking_options/is_tracking_opens",
    ],
    [
      "messages on two channels",
      campaignBody("x", ["LstA01"], [emailMessage(), smsMessage]),
      "/data/attributes/campaign-messages/data/1/attributes/definition/channel",
    ],
    [
      "an audience id that names nothing",
      campaignBody("x", ["LstA01", "Nope99"], [emailMessage()]),
      "/data/attributes/audiences/included/1",
    ],
  ])("refuses %s with a pointer at the member", async (_what, body, pointer) => {
    const res = await call("POST", "/api/campaigns", body, unchecked);
    expect(res.status).toBe(400);
    const error = await onlyError(res);
    expect(error.code).toBe("invalid");
    expect(error.source.pointer).toBe(pointer);
    expect(em.state.campaigns.size).toBe(0);
    expect(em.state.campaignMessages.size).toBe(0);
  });

  it("takes segments as audiences too, and excluded ones", async () => {
    const segment = em.state.segments.insert({
      id: "SegA01",
      seq: em.state.segments.seq(),
      attributes: { name: "VIP" },
    });
    const res = await call("POST", "/api/campaigns", {
      data: {
        type: "campaign",
        attributes: {
          name: "VIP only",
          audiences: { included: [segment.id], excluded: [list.id] },
          "campaign-messages": { data: [emailMessage()] },
        },
      },
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as Doc).data.attributes.audiences).toEqual({
      included: [segment.id],
      excluded: [list.id],
    });
  });
});

describe("GET /api/campaigns", () => {
  it("requires the filter parameter, naming it", async () => {
    const res = await call("GET", "/api/campaigns", undefined, unchecked);
    expect(res.status).toBe(400);
    expect((await onlyError(res)).source.parameter).toBe("filter");
    const noChannel = await call(
      "GET",
      `/api/campaigns?filter=${encodeURIComponent("equals(status,'Draft')")}`,
    );
    expect(noChannel.status).toBe(400);
    const error = await onlyError(noChannel);
    expect(error.source.parameter).toBe("filter");
    expect(error.detail).toContain("messages.channel");
    const twice = await call(
      "GET",
      `/api/campaigns?filter=${encodeURIComponent("and(equals(messages.channel,'email'),equals(messages.channel,'sms'))")}`,
    );
    expect(twice.status).toBe(400);
    const badChannel = await call(
      "GET",
      `/api/campaigns?filter=${encodeURIComponent("equals(messages.channel,'fax')")}`,
    );
    expect(badChannel.status).toBe(400);
  });

  it("lists only the campaigns of the channel asked for", async () => {
    const email = await create("Email one");
    const sms = await create("SMS one", [smsMessage]);
    const push = await create("Push one", [pushMessage]);
    const byChannel = async (channel: string) => {
      const filter = encodeURIComponent(`equals(messages.channel,'${channel}')`);
      return ((await (await call("GET", `/api/campaigns?filter=${filter}`)).json()) as ListDoc).data.map(
        (c) => c.id,
      );
    };
    expect(await byChannel("email")).toEqual([email.id]);
    expect(await byChannel("sms")).toEqual([sms.id]);
    expect(await byChannel("mobile_push")).toEqual([push.id]);
  });

  it("combines the channel with name, status, archived, id and date filters", async () => {
    const a = await create("Spring sale");
    const b = await create("Summer sale");
    await create("Newsletter");
    const q = async (filter: string) =>
      (
        (await (
          await call("GET", `/api/campaigns?filter=${encodeURIComponent(filter)}&sort=name`)
        ).json()) as ListDoc
      ).data.map((c) => c.attributes.name);
    expect(await q("and(equals(messages.channel,'email'),contains(name,'sale'))")).toEqual([
      "Spring sale",
      "Summer sale",
    ]);
    expect(
      await q("and(equals(messages.channel,'email'),equals(status,'Draft'),equals(archived,false))"),
    ).toHaveLength(3);
    expect(await q("and(equals(messages.channel,'email'),equals(status,'Sent'))")).toEqual([]);
    expect(await q(`and(equals(messages.channel,'email'),any(id,['${a.id}','${b.id}']))`)).toEqual([
      "Spring sale",
      "Summer sale",
    ]);
    expect(
      await q("and(equals(messages.channel,'email'),greater-or-equal(created_at,2020-01-01T00:00:00Z))"),
    ).toHaveLength(3);
    expect(
      await q("and(equals(messages.channel,'email'),less-than(created_at,2020-01-01T00:00:00Z))"),
    ).toEqual([]);
  });

  it("sorts and pages with page[size], following links.next, and includes messages", async () => {
    const names = ["Delta", "Alpha", "Echo", "Charlie", "Bravo"];
    for (const name of names) await create(name);
    const seen: string[] = [];
    let next: string | undefined =
      `/api/campaigns?${EMAIL}&sort=-name&page[size]=2&include=campaign-messages`;
    let pages = 0;
    while (next) {
      const page = (await (await call("GET", next)).json()) as ListDoc;
      seen.push(...page.data.map((c) => String(c.attributes.name)));
      expect(page.included?.map((m) => m.type)).toEqual(page.data.map(() => "campaign-message"));
      next = page.links.next;
      pages += 1;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(["Echo", "Delta", "Charlie", "Bravo", "Alpha"]);
    const tooBig = await call("GET", `/api/campaigns?${EMAIL}&page[size]=101`, undefined, unchecked);
    expect(tooBig.status).toBe(400);
  });

  it("pages through a real client, 100 per page by default", async () => {
    for (let i = 0; i < 105; i++) await create(`Campaign ${i}`);
    const client = new KlaviyoClient({
      apiKey: KEY,
      baseUrl: em.baseUrl,
      fetch: checked,
      rateLimiter: false,
    });
    const first = await client.request<ListDoc>({
      method: "GET",
      path: "/api/campaigns",
      query: { filter: "equals(messages.channel,'email')" },
    });
    expect(first.body.data).toHaveLength(100);
    expect(first.body.links.next).toBeDefined();
    const second = (await (await call("GET", first.body.links.next ?? "")).json()) as ListDoc;
    expect(second.data).toHaveLength(5);
    expect(second.links.next).toBeUndefined();
  });
});

describe("PATCH /api/campaigns/{id}", () => {
  it("updates name, audiences, options and strategy; absent attributes keep their value", async () => {
    const other = addList("LstB02", "Other");
    const campaign = await create("Draft one");
    const res = await call("PATCH", `/api/campaigns/${campaign.id}`, {
      data: {
        type: "campaign",
        id: campaign.id,
        attributes: {
          name: "Renamed",
          audiences: { included: [other.id] },
          send_options: { use_smart_sending: false },
          tracking_options: { is_tracking_opens: false },
          send_strategy: { method: "static", datetime: "2026-12-24T09:00:00+00:00" },
        },
      },
    });
    expect(res.status).toBe(200);
    const updated = ((await res.json()) as Doc).data;
    expect(updated.attributes).toMatchObject({
      name: "Renamed",
      audiences: { included: [other.id], excluded: [] },
      send_options: { use_smart_sending: false },
      tracking_options: { is_tracking_opens: false, is_tracking_clicks: true },
      send_strategy: { method: "static", datetime: "2026-12-24T09:00:00+00:00" },
      send_time: "2026-12-24T09:00:00+00:00",
      created_at: campaign.attributes.created_at,
    });
    const read = ((await (await call("GET", `/api/campaigns/${campaign.id}`)).json()) as Doc).data;
    expect(read.attributes).toEqual(updated.attributes);
    expect(read.relationships?.["campaign-messages"]?.data).toEqual(
      campaign.relationships?.["campaign-messages"]?.data,
    );
  });

  it("refuses campaign-messages, a mismatched id, unknown audiences and a wrong type", async () => {
    const campaign = await create("Locked");
    const messages = await call(
      "PATCH",
      `/api/campaigns/${campaign.id}`,
      {
        data: {
          type: "campaign",
          id: campaign.id,
          attributes: { "campaign-messages": { data: [smsMessage] } },
        },
      },
      unchecked,
    );
    expect(messages.status).toBe(400);
    expect((await onlyError(messages)).source.pointer).toBe("/data/attributes/campaign-messages");
    const mismatch = await call("PATCH", `/api/campaigns/${campaign.id}`, {
      data: { type: "campaign", id: "01XYZ", attributes: { name: "x" } },
    });
    expect((await onlyError(mismatch)).source.pointer).toBe("/data/id");
    const audience = await call("PATCH", `/api/campaigns/${campaign.id}`, {
      data: { type: "campaign", id: campaign.id, attributes: { audiences: { excluded: ["Gone00"] } } },
    });
    expect((await onlyError(audience)).source.pointer).toBe("/data/attributes/audiences/excluded/0");
    const wrongType = await call(
      "PATCH",
      `/api/campaigns/${campaign.id}`,
      { data: { type: "segment", id: campaign.id, attributes: {} } },
      unchecked,
    );
    expect(wrongType.status).toBe(409);
    expect(em.state.campaigns.get(campaign.id)?.attributes.name).toBe("Locked");
    const missing = await call("PATCH", "/api/campaigns/01NOPE", {
      data: { type: "campaign", id: "01NOPE", attributes: { name: "x" } },
    });
    expect(missing.status).toBe(404);
  });
});

describe("DELETE /api/campaigns/{id}", () => {
  it("deletes the campaign and its messages: 204, then 404", async () => {
    const campaign = await create("Doomed");
    const [ref] = (campaign.relationships?.["campaign-messages"]?.data ?? []) as Array<{ id: string }>;
    const res = await call("DELETE", `/api/campaigns/${campaign.id}`);
    expect(res.status).toBe(204);
    expect(em.state.campaigns.get(campaign.id)).toBeUndefined();
    expect(em.state.campaignMessages.size).toBe(0);
    expect((await call("GET", `/api/campaigns/${campaign.id}`)).status).toBe(404);
    expect((await call("GET", `/api/campaign-messages/${ref?.id}`)).status).toBe(404);
    expect((await call("DELETE", `/api/campaigns/${campaign.id}`)).status).toBe(404);
    const list = (await (await call("GET", `/api/campaigns?${EMAIL}`)).json()) as ListDoc;
    expect(list.data).toEqual([]);
  });
});
