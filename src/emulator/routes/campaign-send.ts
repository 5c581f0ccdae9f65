/**
 * Sending campaigns: Assign Template to Campaign Message (a non-reusable copy of the template becomes the
 * message's), Send Campaign (202, a `queued` send job whose ID is the campaign's), Get Campaign Send Job, Cancel
 * Campaign Send (PATCH with `cancel` or `revert`, 204) and Create Campaign Clone (201, a Draft copy with its
 * messages). What a send does to the account is in `resources/campaign-send.ts`.
 */
import * as v from "valibot";
import { FIELDSETS } from "../../klaviyo/operations.js";
import { empty, relationshipLinks, resource, single } from "../documents.js";
import type { EmulatorContext, RouteRuntime, RouteTable } from "../env.js";
import { EmulatorProblem, invalidBody, invalidParameter, notFound } from "../errors.js";
import { parseFieldset } from "../fields.js";
import type { QueryContext } from "../query.js";
import { readResourceBody } from "../request-documents.js";
import { type CampaignSendJobRow, sendProblem, startSend, stopSend } from "../resources/campaign-send.js";
import { MESSAGE_PATH, type MessageRow, newCampaign, renderCampaign } from "../resources/campaigns-model.js";
import type { CampaignRow, EmulatorState } from "../state.js";
import { isoNow, type ResourceRow, shortId, ulid } from "../store.js";

const required = "This field is required.";
const id = v.pipe(v.string(required), v.minLength(1, "This field may not be blank."));

const sendBody = v.strictObject({
  data: v.strictObject({ type: v.literal("campaign-send-job"), id }),
});

const cancelBody = v.strictObject({
  data: v.strictObject({
    type: v.literal("campaign-send-job"),
    id,
    attributes: v.strictObject({
      action: v.picklist(["cancel", "revert"], "The action must be 'cancel' or 'revert'."),
    }),
  }),
});

const assignBody = v.strictObject({
  data: v.strictObject({
    type: v.literal("campaign-message"),
    id,
    relationships: v.strictObject({
      template: v.strictObject({ data: v.strictObject({ type: v.literal("template"), id }) }),
    }),
  }),
});

const cloneBody = v.strictObject({
  data: v.strictObject({
    type: v.literal("campaign"),
    id,
    attributes: v.strictObject({ new_name: v.optional(v.nullable(v.string())) }),
  }),
});

/** Sparse fieldsets of the types an endpoint returns (the generated parameter table does not list these). */
const FIELDS: Readonly<Record<string, readonly string[]>> = {
  "campaign-send-job": ["id", "status"],
  "campaign-message": [
    "channel",
    "content",
    "content.bcc_email",
    "content.body",
    "content.cc_email",
    "content.from_email",
    "content.from_label",
    "content.media_url",
    "content.preview_text",
    "content.reply_to_email",
    "content.subject",
    "created_at",
    "id",
    "label",
    "render_options",
    "render_options.add_info_link",
    "render_options.add_opt_out_language",
    "render_options.add_org_prefix",
    "render_options.shorten_links",
    "send_times",
    "updated_at",
  ],
};

/** The query of these endpoints: `fields[<type>]` for the one type each returns, nothing else. */
function sparseQuery(c: EmulatorContext, type: string, allowed: readonly string[]): QueryContext {
  const url = new URL(c.req.url);
  const fields = new Map<string, readonly string[]>();
  for (const [name, value] of url.searchParams) {
    const asked = /^fields\[(.+)\]$/.exec(name)?.[1];
    if (asked === undefined) continue;
    if (asked !== type)
      throw invalidParameter(name, `'${asked}' is not a resource type this endpoint can return.`);
    const parsed = parseFieldset(value, type, allowed);
    if (parsed) fields.set(type, [...(fields.get(type) ?? []), ...parsed]);
  }
  return {
    operation: c.get("operation"),
    params: {},
    fields,
    include: new Set(),
    additional: new Map(),
    origin: url.origin,
  };
}

function findJob(state: EmulatorState, jobId: string): CampaignSendJobRow {
  const job = state.campaignSendJobs.get(jobId);
  if (!job) throw notFound(`A campaign send job with id '${jobId}' does not exist.`);
  return job;
}

function jobDocument(
  c: EmulatorContext,
  query: QueryContext,
  job: CampaignSendJobRow,
  status = 200,
): Response {
  return single(
    c.req.url,
    resource(query, "campaign-send-job", "campaign-send-jobs", job.id, job.attributes),
    undefined,
    status,
  );
}

function invalid(pointer: string, detail: string): EmulatorProblem {
  return new EmulatorProblem(invalidBody(pointer, detail));
}

/** A non-reusable copy of a template, as Assign Template makes one for the message (marked `reusable: false`). */
function templateCopy(state: EmulatorState, template: ResourceRow, now: number): ResourceRow {
  let copyId = shortId();
  while (state.templates.get(copyId)) copyId = shortId();
  const stamp = isoNow(now);
  const row = {
    id: copyId,
    seq: state.templates.seq(),
    attributes: { ...structuredClone(template.attributes), created: stamp, updated: stamp },
    // Not on the wire: Klaviyo keeps such copies out of the reusable templates (its document: "Creates a
    // non-reusable version of the template and assigns it to the message").
    reusable: false,
  };
  return state.templates.insert(row);
}

/** The message as Assign Template answers it: the definition's members flattened into `attributes`. */
function assignedMessage(
  query: QueryContext,
  message: MessageRow,
  campaign: CampaignRow | undefined,
): ReturnType<typeof resource> {
  const definition = (message.attributes.definition ?? {}) as Record<string, unknown>;
  const { channel, label, content, render_options } = definition;
  const attributes: Record<string, unknown> = {
    // An SMS or push message has no label of its own: Klaviyo's answer requires one, and the campaign's name is
    // the emulator's reading of what it shows.
    label: label ?? campaign?.attributes.name ?? "",
    channel,
    content: content ?? {},
    send_times: message.attributes.send_times ?? [],
    ...(render_options !== undefined ? { render_options } : {}),
    created_at: message.attributes.created_at,
    updated_at: message.attributes.updated_at,
  };
  const link = (relation: string) => relationshipLinks(query, MESSAGE_PATH, message.id, relation);
  return resource(query, "campaign-message", MESSAGE_PATH, message.id, attributes, {
    campaign: { data: { type: "campaign", id: message.campaignId }, links: link("campaign") },
    template: {
      ...(message.templateId ? { data: { type: "template", id: message.templateId } } : {}),
      links: link("template"),
    },
  });
}

/** The send handlers, over `state`. */
export function campaignSendRoutes(state: EmulatorState, runtime: RouteRuntime): RouteTable {
  return {
    async assign_template_to_campaign_message(c) {
      const query = sparseQuery(c, "campaign-message", FIELDS["campaign-message"] ?? []);
      const { data } = await readResourceBody(c, assignBody, { type: "campaign-message" });
      const message = state.campaignMessages.get(data.id) as MessageRow | undefined;
      if (!message) throw notFound(`A campaign message with id '${data.id}' does not exist.`);
      const templateId = data.relationships.template.data.id;
      const template = state.templates.get(templateId);
      if (!template) throw notFound(`A template with id '${templateId}' does not exist.`);
      const campaign = state.campaigns.get(message.campaignId);
      if (campaign && campaign.attributes.status !== "Draft") {
        throw invalid(
          "/data/id",
          `The campaign of message '${message.id}' is '${String(campaign.attributes.status)}'; only a Draft campaign's messages can be changed.`,
        );
      }
      const now = runtime.now();
      const copy = templateCopy(state, template, now);
      message.templateId = copy.id;
      message.attributes = { ...message.attributes, updated_at: isoNow(now) };
      return single(c.req.url, assignedMessage(query, message, campaign));
    },

    async send_campaign(c) {
      const query = sparseQuery(c, "campaign-send-job", FIELDS["campaign-send-job"] ?? []);
      const { data } = await readResourceBody(c, sendBody, { type: "campaign-send-job" });
      const campaign = state.campaigns.get(data.id);
      if (!campaign) throw notFound(`A campaign with id '${data.id}' does not exist.`);
      const problem = sendProblem(state, campaign);
      if (problem) throw invalid("/data/id", problem);
      return jobDocument(c, query, startSend(state, campaign, runtime.now()), 202);
    },

    get_campaign_send_job(c) {
      const query = sparseQuery(c, "campaign-send-job", FIELDS["campaign-send-job"] ?? []);
      return jobDocument(c, query, findJob(state, c.get("params").id ?? ""));
    },

    async cancel_campaign_send(c) {
      const jobId = c.get("params").id ?? "";
      const { data } = await readResourceBody(c, cancelBody, { type: "campaign-send-job", id: jobId });
      const job = findJob(state, jobId);
      const status = String(job.attributes.status);
      if (status === "complete" || status === "cancelled") {
        throw invalid(
          "/data/attributes/action",
          `The send job '${job.id}' is ${status}; only a queued or processing send can be cancelled or reverted.`,
        );
      }
      stopSend(state, job, data.attributes.action, runtime.now());
      return empty(204);
    },

    async create_campaign_clone(c) {
      const query = sparseQuery(c, "campaign", FIELDSETS.campaign ?? []);
      const { data } = await readResourceBody(c, cloneBody, { type: "campaign" });
      const source = state.campaigns.get(data.id);
      if (!source) throw notFound(`A campaign with id '${data.id}' does not exist.`);
      const name = data.attributes.new_name?.trim()
        ? data.attributes.new_name
        : `${String(source.attributes.name)} (Clone)`;
      const now = runtime.now();
      const {
        status: _s,
        created_at: _c,
        updated_at: _u,
        scheduled_at: _a,
        archived: _r,
        ...kept
      } = source.attributes;
      const clone = newCampaign(state, { ...structuredClone(kept), name }, now);
      // Klaviyo's clone is a new Draft: the send time of the original does not carry over unless its strategy
      // names one (static or throttled), which `send_strategy` keeps.
      const method = (kept.send_strategy as { method?: unknown } | undefined)?.method;
      if (method !== "static" && method !== "throttled") clone.attributes.send_time = null;
      for (const messageId of source.messageIds) {
        const original = state.campaignMessages.get(messageId) as MessageRow | undefined;
        if (!original) continue;
        const stamp = isoNow(now);
        const template = original.templateId ? state.templates.get(original.templateId) : undefined;
        const copy: MessageRow = {
          id: ulid(now),
          seq: state.campaignMessages.seq(),
          campaignId: clone.id,
          templateId: template ? templateCopy(state, template, now).id : null,
          imageId: original.imageId ?? null,
          attributes: {
            ...structuredClone(original.attributes),
            send_times: [],
            created_at: stamp,
            updated_at: stamp,
          },
        };
        state.campaignMessages.insert(copy);
        clone.messageIds.push(copy.id);
      }
      return single(c.req.url, renderCampaign(state, clone, query), undefined, 201);
    },
  };
}
