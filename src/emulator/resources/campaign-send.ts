/**
 * Sending a campaign, as the emulated account does it: a send job (whose ID is the campaign's own ID, as Klaviyo's
 * document says of `campaign-send-job`: "The ID of the campaign to send") moves `queued` → `processing` →
 * `complete`, and the campaign with it, `Preparing to send` → `Sending` → `Sent`. On completion the audience is
 * resolved (the members of its included lists and segments, minus the members of its excluded ones), profiles
 * that may not receive the channel are dropped, and one `Received Email` (or `Received SMS`) event is recorded per
 * recipient, so Get Events, Get Metrics and Query Metric Aggregates see them. Until then Cancel Campaign Send
 * stops it (`cancel`: the campaign is `Cancelled`; `revert`: back to `Draft`) and nothing is sent.
 *
 * The job advances with time (Klaviyo processes it in the background): every request first settles the jobs
 * whose moment has come (`settleSendJobs`), so all operations see the same account. How long each stage takes is
 * not Klaviyo's to document; the emulator's default is a few seconds each (`setSendTiming` changes it).
 */
import type { CampaignRow, CampaignSendJobRow, EmulatorState, ProfileRow } from "../state.js";
import { isoNow } from "../store.js";
import type { Channel } from "./campaigns-model.js";
import { recordEvent } from "./events-model.js";
import { listMembers } from "./lists-members.js";
import { ensureKlaviyoMetric, isoSeconds } from "./metrics-model.js";
import { segmentMembers } from "./segments-members.js";

export type { CampaignSendJobRow };

export type SendJobStatus = "queued" | "processing" | "complete" | "cancelled";

/** How long a send job stays in each stage. */
export interface SendTiming {
  readonly queuedMs: number;
  readonly processingMs: number;
}

/** The emulator's default: long enough to watch (and cancel) a send, short enough to wait for. */
export const DEFAULT_SEND_TIMING: SendTiming = { queuedMs: 5_000, processingMs: 5_000 };

const timings = new WeakMap<EmulatorState, SendTiming>();

/** Changes how long send jobs of this state take from now on (tests: `{queuedMs: 0, processingMs: 0}`). */
export function setSendTiming(state: EmulatorState, timing: SendTiming): void {
  timings.set(state, timing);
}

/** The metric a send of this channel records, per recipient. Push is not modelled (no push tokens are held). */
export const RECEIVED_METRIC: Readonly<Record<Channel, string | undefined>> = {
  email: "Received Email",
  sms: "Received SMS",
  mobile_push: undefined,
};

function obj(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function marketing(profile: ProfileRow, channel: "email" | "sms"): Record<string, unknown> {
  return obj(obj(obj(profile.subscriptions)[channel]).marketing);
}

/**
 * Whether a profile may receive an email campaign. Klaviyo's document says of `can_receive_email_marketing`:
 * "implicit consent to receive email marketing. True if [the] profile does not have any global suppressions", and
 * Klaviyo sends email campaigns to profiles that are subscribed or never subscribed. So: an email address, no
 * global suppression (unsubscribe, bounce, spam complaint, invalid address, suppressed by the user) and consent not
 * `UNSUBSCRIBED`. The stored `can_receive_email_marketing` flag is not read: the emulator's blank profiles carry
 * `false` there even when nothing suppresses them.
 */
export function canReceiveEmail(profile: ProfileRow): boolean {
  const email = profile.attributes.email;
  if (typeof email !== "string" || email === "") return false;
  const m = marketing(profile, "email");
  if (m.consent === "UNSUBSCRIBED") return false;
  const suppression = Array.isArray(m.suppression) ? m.suppression : [];
  return suppression.length === 0;
}

/** Whether a profile is suppressed from one list (it left the list's email with an unsubscribe from it). */
function listSuppressed(profile: ProfileRow, listId: string): boolean {
  const suppressions = marketing(profile, "email").list_suppressions;
  return Array.isArray(suppressions) && suppressions.some((s) => obj(s).list_id === listId);
}

/** SMS marketing needs explicit consent (`can_receive_sms_marketing`: "subscribed to receive SMS marketing"). */
export function canReceiveSms(profile: ProfileRow): boolean {
  const phone = profile.attributes.phone_number;
  if (typeof phone !== "string" || phone === "") return false;
  return marketing(profile, "sms").consent === "SUBSCRIBED";
}

/** The members of audiences (lists and segments) now, each profile once, in the order first met. */
function members(state: EmulatorState, ids: readonly string[], channel: Channel, now: number): ProfileRow[] {
  const out = new Map<string, ProfileRow>();
  for (const id of ids) {
    if (state.lists.get(id)) {
      for (const member of listMembers(state, id)) {
        // An email list suppression keeps the profile from this list's email, not from the other audiences.
        if (channel === "email" && listSuppressed(member.profile, id)) continue;
        if (!out.has(member.id)) out.set(member.id, member.profile);
      }
      continue;
    }
    const segment = state.segments.get(id);
    if (!segment) continue; // an audience deleted since: no one
    for (const profile of segmentMembers(state, segment, now).keys())
      if (!out.has(profile.id)) out.set(profile.id, profile);
  }
  return [...out.values()];
}

/**
 * The recipients of a campaign now: its included audiences' members minus its excluded audiences' members, each
 * once (a profile in two included lists receives one message), without those the channel may not reach.
 */
export function campaignRecipients(
  state: EmulatorState,
  campaign: CampaignRow,
  channel: Channel,
  now: number,
): ProfileRow[] {
  const audiences = obj(campaign.attributes.audiences);
  const included = Array.isArray(audiences.included) ? audiences.included.map(String) : [];
  const excludedIds = Array.isArray(audiences.excluded) ? audiences.excluded.map(String) : [];
  // Exclusion is by membership, whatever the channel's consent (the excluded list's suppressions included).
  const excluded = new Set(members(state, excludedIds, "mobile_push", now).map((p) => p.id));
  const reachable =
    channel === "email" ? canReceiveEmail : channel === "sms" ? canReceiveSms : (_: ProfileRow) => false;
  return members(state, included, channel, now).filter((p) => !excluded.has(p.id) && reachable(p));
}

/** The channel of a campaign and its messages' definitions. */
function messagesOf(state: EmulatorState, campaign: CampaignRow) {
  return campaign.messageIds.flatMap((id) => {
    const row = state.campaignMessages.get(id);
    return row ? [row] : [];
  });
}

function setCampaign(campaign: CampaignRow, changes: Record<string, unknown>, now: number): void {
  campaign.attributes = { ...campaign.attributes, ...changes, updated_at: isoNow(now) };
}

/**
 * Records the send: one event per recipient, at the job's completion time. The event properties follow what
 * Klaviyo's own message events carry, as far as its supported-attributes list names them (`$message` the message
 * ID, `Campaign Name`, `Subject`, `Message Name`, `Email Domain`, `$campaign_channel`); the exact set on real
 * events is not documented, so this is a plausible reading. `$event_id` is `<message id>:<profile id>`, so one
 * message reaches one profile once.
 */
function deliver(
  state: EmulatorState,
  job: CampaignSendJobRow,
  campaign: CampaignRow,
  channel: Channel,
): number {
  const metricName = RECEIVED_METRIC[channel];
  const recipients = campaignRecipients(state, campaign, channel, job.completeAt);
  const message = messagesOf(state, campaign)[0];
  if (!metricName || !message || recipients.length === 0) return 0;
  ensureKlaviyoMetric(state, metricName, job.completeAt);
  const definition = obj(message.attributes.definition);
  const content = obj(definition.content);
  const time = new Date(job.completeAt).toISOString();
  let recorded = 0;
  for (const profile of recipients) {
    const properties: Record<string, unknown> = {
      $message: message.id,
      "Campaign Name": campaign.attributes.name,
      "Message Name": definition.label ?? campaign.attributes.name,
      $campaign_channel: channel,
      $flow: "",
    };
    if (channel === "email") {
      properties.Subject = content.subject ?? null;
      properties["Email Domain"] = String(profile.attributes.email).split("@")[1] ?? "";
    } else {
      properties["To Number"] = profile.attributes.phone_number;
    }
    const event = recordEvent(
      state,
      profile,
      {
        properties,
        time,
        unique_id: `${message.id}:${profile.id}`,
        metric: { data: { type: "metric", attributes: { name: metricName } } },
      } as Parameters<typeof recordEvent>[2],
      job.completeAt,
    );
    if (event) recorded++;
  }
  return recorded;
}

/** Moves every job whose stage has ended, and its campaign, on: completing a job sends the campaign. */
export function settleSendJobs(state: EmulatorState, now: number): void {
  for (const job of state.campaignSendJobs.values()) {
    const status = job.attributes.status as SendJobStatus;
    if (status === "complete" || status === "cancelled") continue;
    const campaign = state.campaigns.get(job.campaignId);
    if (!campaign) {
      // The campaign was deleted while it was being sent: nothing goes out.
      job.attributes = { status: "cancelled" };
      continue;
    }
    if (now >= job.completeAt) {
      const channel = channelOf(state, campaign);
      job.recipients = deliver(state, job, campaign, channel);
      job.attributes = { status: "complete" };
      // With no one to send to, Klaviyo ends the campaign as `Cancelled: No Recipients` (one of its documented
      // statuses); the job itself has run to its end.
      setCampaign(
        campaign,
        { status: job.recipients > 0 ? "Sent" : "Cancelled: No Recipients" },
        job.completeAt,
      );
    } else if (now >= job.processingAt && status === "queued") {
      job.attributes = { status: "processing" };
      setCampaign(campaign, { status: "Sending" }, job.processingAt);
    }
  }
}

/** The channel of a campaign (its messages'). */
export function channelOf(state: EmulatorState, campaign: CampaignRow): Channel {
  const definition = obj(messagesOf(state, campaign)[0]?.attributes.definition);
  const channel = definition.channel;
  return channel === "sms" || channel === "mobile_push" ? channel : "email";
}

/**
 * What keeps a campaign from being sent now, as Klaviyo would say it, or `undefined`: it must be a draft, and each
 * message must have its content (an email its template; an SMS its body).
 */
export function sendProblem(state: EmulatorState, campaign: CampaignRow): string | undefined {
  const status = campaign.attributes.status;
  if (status !== "Draft") {
    return `The campaign '${campaign.id}' cannot be sent: its status is '${String(status)}'; only a campaign in Draft can be sent.`;
  }
  for (const message of messagesOf(state, campaign)) {
    const definition = obj(message.attributes.definition);
    if (definition.channel === "email" && !(message.templateId && state.templates.get(message.templateId))) {
      return `The campaign message '${message.id}' has no template: assign one (Assign Template to Campaign Message) before sending.`;
    }
    if (definition.channel === "sms" && !obj(definition.content).body) {
      return `The campaign message '${message.id}' has no SMS body; give it one before sending.`;
    }
  }
  return undefined;
}

/** Makes the send job of a campaign (replacing a cancelled or reverted one) and queues the campaign. */
export function startSend(state: EmulatorState, campaign: CampaignRow, now = Date.now()): CampaignSendJobRow {
  const timing = timings.get(state) ?? DEFAULT_SEND_TIMING;
  state.campaignSendJobs.delete(campaign.id);
  const job = state.campaignSendJobs.insert({
    id: campaign.id,
    seq: state.campaignSendJobs.seq(),
    campaignId: campaign.id,
    queuedAt: now,
    processingAt: now + timing.queuedMs,
    completeAt: now + timing.queuedMs + timing.processingMs,
    attributes: { status: "queued" },
  });
  const stamp = isoNow(now);
  const method = obj(campaign.attributes.send_strategy).method;
  setCampaign(
    campaign,
    {
      status: "Preparing to send",
      scheduled_at: stamp,
      ...(method === "immediate" || method === undefined ? { send_time: stamp } : {}),
    },
    now,
  );
  for (const message of messagesOf(state, campaign)) {
    message.attributes = {
      ...message.attributes,
      send_times: [{ datetime: isoSeconds(now), is_local: false }],
    };
  }
  return job;
}

/**
 * Cancel Campaign Send: `cancel` ends the campaign for good (`Cancelled`), `revert` puts it back to `Draft` (its
 * messages' send times cleared) so it can be changed and sent again. Either stops the job; nothing is sent.
 */
export function stopSend(
  state: EmulatorState,
  job: CampaignSendJobRow,
  action: "cancel" | "revert",
  now = Date.now(),
): void {
  job.attributes = { status: "cancelled" };
  const campaign = state.campaigns.get(job.campaignId);
  if (!campaign) return;
  if (action === "cancel") {
    setCampaign(campaign, { status: "Cancelled" }, now);
    return;
  }
  setCampaign(campaign, { status: "Draft", scheduled_at: null }, now);
  for (const message of messagesOf(state, campaign))
    message.attributes = { ...message.attributes, send_times: [] };
}
