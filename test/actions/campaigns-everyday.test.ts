/**
 * Sending a campaign through the connector's actions, against the emulator (every request and answer held to
 * Klaviyo's OpenAPI document by `actionsSetup`): the audience resolved as Klaviyo does (included lists minus
 * excluded ones, each profile once, without the unsubscribed, the suppressed and those without an address), one
 * Received Email event per recipient, counted by Query Metric Aggregates; the job's statuses, cancel and revert,
 * a second send refused, and the clone.
 */
import { describe, expect, it } from "vitest";
import type { ListOutput } from "../../src/actions/list.js";
import { BadRequestError, NotFoundError } from "../../src/core/errors.js";
import { setSendTiming, settleSendJobs } from "../../src/emulator/resources/campaign-send.js";
import { addMember } from "../../src/emulator/resources/lists-members.js";
import { insertProfile } from "../../src/emulator/resources/profile-model.js";
import { subscribeEmail, unsubscribeEmail } from "../../src/emulator/resources/subscriptions-model.js";
import { seedList } from "../../src/emulator/seed.js";
import type { ProfileRow } from "../../src/emulator/state.js";
import { actionsSetup, refused } from "./helpers.js";

interface Resource {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  relationships?: Record<string, { data?: { id: string } | Array<{ id: string }> }>;
}
interface Doc {
  data: Resource;
}
interface SendOutput {
  campaignId: string;
  sendJobId: string;
  status: string;
  data: Resource;
}
interface Aggregate {
  data: {
    attributes: {
      dates: string[];
      data: Array<{ dimensions: string[]; measurements: Record<string, number[]> }>;
    };
  };
}

const ctx = { stamp: "2026-01-01T00:00:00+00:00", customSource: null };

/**
 * The account: included lists A and B, excluded list X, and profiles that each test one rule. Returns who must
 * receive the campaign.
 */
function audience(t: ReturnType<typeof actionsSetup>) {
  const state = t.emulator.state;
  const a = seedList(state, "Newsletter A");
  const b = seedList(state, "Newsletter B");
  const x = seedList(state, "Do not mail");
  const profile = (email: string | null, extra: Record<string, unknown> = {}): ProfileRow =>
    insertProfile(state, { ...(email ? { email } : {}), ...extra });
  const both = profile("both@example.com"); // subscribed, in A and B: one message
  subscribeEmail(both, ctx, null);
  const never = profile("never@example.com"); // never subscribed, not suppressed: Klaviyo mails it
  const onlyB = profile("onlyb@example.com");
  subscribeEmail(onlyB, ctx, null);
  const unsubscribed = profile("gone@example.com");
  subscribeEmail(unsubscribed, ctx, null);
  unsubscribeEmail(unsubscribed, ctx);
  const suppressed = profile("bounced@example.com");
  subscribeEmail(suppressed, ctx, null);
  const marketing = (suppressed.subscriptions.email as { marketing: Record<string, unknown> }).marketing;
  marketing.suppression = [{ reason: "HARD_BOUNCE", timestamp: ctx.stamp }];
  marketing.can_receive_email_marketing = false;
  const excluded = profile("excluded@example.com");
  subscribeEmail(excluded, ctx, null);
  const phoneOnly = profile(null, { phone_number: "+15005550006" });
  const outside = profile("outside@example.com"); // in no audience
  subscribeEmail(outside, ctx, null);
  for (const p of [both, never, unsubscribed, excluded, phoneOnly]) addMember(state, a, p.id);
  for (const p of [both, onlyB, suppressed]) addMember(state, b, p.id);
  addMember(state, x, excluded.id);
  return { a, b, x, recipients: [both.id, never.id, onlyB.id].sort() };
}

async function draftWithTemplate(
  t: ReturnType<typeof actionsSetup>,
  included: string[],
  excluded: string[] = [],
) {
  const template = await t.run<Doc>("create-template", {
    name: "Spring",
    editorType: "CODE",
    html: "<html><body>Spring sale</body></html>",
  });
  const campaign = await t.run<Doc>("create-campaign", {
    name: "Spring sale",
    messages: [
      { channel: "email", label: "Spring", content: { subject: "20% off", from_email: "shop@example.com" } },
    ],
    includedAudiences: included,
    ...(excluded.length > 0 ? { excludedAudiences: excluded } : {}),
  });
  const assigned = await t.run<Doc>("assign-template-to-campaign-message", {
    campaignId: campaign.data.id,
    templateId: template.data.id,
  });
  return { campaign, template, assigned };
}

function dayRange(): { start: string; end: string } {
  const now = new Date();
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  return { start: start.toISOString(), end: new Date(start.getTime() + 86_400_000).toISOString() };
}

describe("Send Campaign, end to end", () => {
  it("records one Received Email per consenting, unsuppressed, not excluded member, and the aggregates count them", async () => {
    const t = actionsSetup();
    setSendTiming(t.emulator.state, { queuedMs: 0, processingMs: 0 });
    const { a, b, x, recipients } = audience(t);
    const { campaign, template, assigned } = await draftWithTemplate(t, [a, b], [x]);
    // Klaviyo assigns a non-reusable copy of the template, not the template itself.
    const messageTemplate = assigned.data.relationships?.template?.data as { id: string };
    expect(messageTemplate.id).not.toBe(template.data.id);
    expect(t.emulator.state.templates.get(messageTemplate.id)?.attributes.html).toBe(
      "<html><body>Spring sale</body></html>",
    );
    expect(assigned.data.attributes).toMatchObject({ channel: "email", label: "Spring" });

    const sent = await t.run<SendOutput>("send-campaign", { campaignId: campaign.data.id });
    expect(sent.campaignId).toBe(campaign.data.id);
    expect(sent.sendJobId).toBe(sent.data.id);
    expect(sent.status).toBe("queued");
    expect(sent.data.type).toBe("campaign-send-job");

    const job = await t.run<Doc>("get-campaign-send-job", { sendJobId: sent.sendJobId });
    expect(job.data.attributes.status).toBe("complete");
    const after = await t.run<Doc>("get-campaign", { campaignId: campaign.data.id });
    expect(after.data.attributes.status).toBe("Sent");

    const metrics = await t.run<ListOutput<Resource>>("list-metrics", {});
    const received = metrics.data.find((m) => m.attributes.name === "Received Email");
    expect(received).toBeDefined();
    const metricId = received?.id ?? "";
    const metric = await t.run<Doc>("get-metric", { metricId });
    expect(metric.data.attributes.integration).toMatchObject({ key: "klaviyo", name: "Klaviyo" });

    const events = await t.run<
      ListOutput<Resource & { relationships: { profile: { data: { id: string } } } }>
    >("list-events", { filter: `equals(metric_id,'${metricId}')`, pageSize: 100 });
    const profiles = events.data.map((e) => e.relationships.profile.data.id).sort();
    expect(profiles).toEqual(recipients);
    const messageId = (campaign.data.relationships?.["campaign-messages"]?.data as Array<{ id: string }>)?.[0]
      ?.id;
    for (const event of events.data) {
      expect(event.attributes.event_properties).toMatchObject({
        $message: messageId,
        "Campaign Name": "Spring sale",
        Subject: "20% off",
      });
    }

    const { start, end } = dayRange();
    const totals = await t.run<Aggregate>("query-metric-aggregates", {
      metricId,
      start,
      end,
      measurements: ["count", "unique", "sum_value"],
      interval: "day",
    });
    expect(totals.data.attributes.dates).toEqual([start.replace(".000Z", "+00:00")]);
    expect(totals.data.attributes.data).toEqual([
      { dimensions: [], measurements: { count: [3], unique: [3], sum_value: [0] } },
    ]);
    const byMessage = await t.run<Aggregate>("query-metric-aggregates", {
      metricId,
      start,
      end,
      by: "$message",
      filter: `equals($message,'${messageId}')`,
    });
    expect(byMessage.data.attributes.data).toEqual([
      { dimensions: [messageId], measurements: { count: [3] } },
    ]);
    const otherMessage = await t.run<Aggregate>("query-metric-aggregates", {
      metricId,
      start,
      end,
      by: ["$message"],
      filter: ["equals($message,'no-such-message')"],
    });
    expect(otherMessage.data.attributes.data).toEqual([]);

    // Sent is not Draft: a second send is refused and records nothing more.
    await expect(t.run("send-campaign", { campaignId: campaign.data.id })).rejects.toBeInstanceOf(
      BadRequestError,
    );
    expect([...t.emulator.state.events.values()]).toHaveLength(3);
    // A complete job can no longer be cancelled.
    await expect(t.run("cancel-campaign-send", { sendJobId: sent.sendJobId })).rejects.toBeInstanceOf(
      BadRequestError,
    );
  });

  it("refuses to send an email campaign whose message has no template", async () => {
    const t = actionsSetup();
    const { a } = audience(t);
    const campaign = await t.run<Doc>("create-campaign", {
      name: "No content",
      messages: [{ channel: "email", content: { subject: "Hi" } }],
      includedAudiences: [a],
    });
    const error = await t.run("send-campaign", { campaignId: campaign.data.id }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(String((error as Error).message)).toMatch(/has no template/);
    expect(t.emulator.state.campaignSendJobs.size).toBe(0);
  });

  it("cancels a send before it completes: nothing is sent, the campaign is Cancelled and cannot be sent again", async () => {
    const t = actionsSetup();
    setSendTiming(t.emulator.state, { queuedMs: 60_000, processingMs: 60_000 });
    const { a, b } = audience(t);
    const { campaign } = await draftWithTemplate(t, [a, b]);
    const sent = await t.run<SendOutput>("send-campaign", { campaignId: campaign.data.id });
    expect((await t.run<Doc>("get-campaign", { campaignId: campaign.data.id })).data.attributes.status).toBe(
      "Preparing to send",
    );
    // Sending twice while the first send is under way is refused.
    await expect(t.run("send-campaign", { campaignId: campaign.data.id })).rejects.toBeInstanceOf(
      BadRequestError,
    );

    const cancelled = await t.run<{ sendJobId: string; action: string }>("cancel-campaign-send", {
      sendJobId: sent.sendJobId,
    });
    expect(cancelled).toMatchObject({
      sendJobId: sent.sendJobId,
      action: "cancel",
      data: { attributes: { status: "cancelled" } },
    });
    expect(
      (await t.run<Doc>("get-campaign-send-job", { sendJobId: sent.sendJobId })).data.attributes.status,
    ).toBe("cancelled");
    expect((await t.run<Doc>("get-campaign", { campaignId: campaign.data.id })).data.attributes.status).toBe(
      "Cancelled",
    );
    // Even once its time has come, a cancelled job sends nothing.
    settleSendJobs(t.emulator.state, Date.now() + 600_000);
    expect(t.emulator.state.campaignSendJobs.get(sent.sendJobId)?.attributes.status).toBe("cancelled");
    expect(t.emulator.state.events.size).toBe(0);
    await expect(t.run("send-campaign", { campaignId: campaign.data.id })).rejects.toBeInstanceOf(
      BadRequestError,
    );
  });

  it("reverts a send to Draft, after which it can be sent again", async () => {
    const t = actionsSetup();
    setSendTiming(t.emulator.state, { queuedMs: 60_000, processingMs: 60_000 });
    const { a, b, recipients } = audience(t);
    const { campaign } = await draftWithTemplate(t, [a, b]);
    const first = await t.run<SendOutput>("send-campaign", { campaignId: campaign.data.id });
    await t.runText("cancel-campaign-send", { sendJobId: first.sendJobId, action: "revert" });
    expect((await t.run<Doc>("get-campaign", { campaignId: campaign.data.id })).data.attributes.status).toBe(
      "Draft",
    );
    setSendTiming(t.emulator.state, { queuedMs: 0, processingMs: 0 });
    const second = await t.run<SendOutput>("send-campaign", { campaignId: campaign.data.id });
    expect(
      (await t.run<Doc>("get-campaign-send-job", { sendJobId: second.sendJobId })).data.attributes.status,
    ).toBe("complete");
    // The audience had 3 who may receive email; with no exclusion list given, the excluded profile is in A too.
    expect(t.emulator.state.events.size).toBe(recipients.length + 1);
  });

  it("refuses bad input by label before sending anything", async () => {
    const t = actionsSetup();
    const both = await refused(t.run("assign-template-to-campaign-message", { templateId: "RipRmi" }));
    expect(both.message).toMatch(/Campaign Message ID: give the message's ID, or Campaign ID/);
    const action = await refused(t.run("cancel-campaign-send", { sendJobId: "01J9", action: "stop" }));
    expect(action.message).toMatch(/Cancel Action: must be one of cancel, revert/);
    const id = await refused(t.run("get-campaign-send-job", { sendJobId: "../campaigns" }));
    expect(id.message).toMatch(/Send Job ID/);
    expect(t.sent).toHaveLength(0);
  });

  it("an unknown job or campaign is Klaviyo's 404", async () => {
    const t = actionsSetup();
    await expect(t.run("get-campaign-send-job", { sendJobId: "01NOPE" })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(t.run("send-campaign", { campaignId: "01NOPE" })).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("Clone Campaign", () => {
  it("copies a sent campaign into a new Draft with its messages and template copies", async () => {
    const t = actionsSetup();
    setSendTiming(t.emulator.state, { queuedMs: 0, processingMs: 0 });
    const { a } = audience(t);
    const { campaign, assigned } = await draftWithTemplate(t, [a]);
    await t.run("send-campaign", { campaignId: campaign.data.id });
    await t.run("get-campaign-send-job", { sendJobId: campaign.data.id });

    const clone = await t.run<Doc>("clone-campaign", { campaignId: campaign.data.id });
    expect(clone.data.id).not.toBe(campaign.data.id);
    expect(clone.data.attributes).toMatchObject({
      name: "Spring sale (Clone)",
      status: "Draft",
      audiences: { included: [a], excluded: [] },
    });
    const messages = clone.data.relationships?.["campaign-messages"]?.data as Array<{ id: string }>;
    expect(messages).toHaveLength(1);
    const copy = t.emulator.state.campaignMessages.get(messages[0]?.id ?? "");
    const original = (assigned.data.relationships?.template?.data as { id: string } | undefined)?.id;
    expect(copy?.templateId).toBeTruthy();
    expect(copy?.templateId).not.toBe(original);
    expect(copy?.attributes.send_times).toEqual([]);

    const named = await t.run<Doc>("clone-campaign", {
      campaignId: campaign.data.id,
      newName: "Spring sale (second wave)",
      fields: "name,status",
    });
    expect(named.data.attributes).toEqual({ name: "Spring sale (second wave)", status: "Draft" });
    // The clone is a Draft with content: it can be sent.
    const sent = await t.run<SendOutput>("send-campaign", { campaignId: named.data.id });
    expect(sent.campaignId).toBe(named.data.id);
  });
});
