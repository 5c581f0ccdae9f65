/**
 * Sending campaigns: assign a template to a message, send, watch and cancel the send job, clone a campaign. A
 * campaign's send job is named by the campaign's own ID (Klaviyo's document: the job's `id` is "The ID of the
 * campaign to send"); Send Campaign still returns the two separately, so that no caller has to know that.
 */
import { InputValidationError } from "../core/errors.js";
import { FIELDSETS } from "../klaviyo/operations.js";
import { defineAction } from "./define.js";
import { fieldsQuery } from "./include.js";
import { idSchema, input } from "./inputs.js";

const campaignIdInput = (comments: string) =>
  input.id({ key: "campaignId", label: "Campaign ID", comments, example: "01J9Z7Q4W3E2R1T0Y9U8I7O6P5" });

const sendJobIdInput = () =>
  input.id({
    key: "sendJobId",
    label: "Send Job ID",
    comments:
      "The ID of the send job, as Send Campaign returns it in sendJobId. Klaviyo names a campaign's send job by the campaign's own ID, so the campaign's ID works here too.",
    example: "01J9Z7Q4W3E2R1T0Y9U8I7O6P5",
  });

const campaignFieldsInput = () =>
  input.fields(
    {
      key: "fields",
      label: "Fields",
      comments:
        "Which attributes of the new campaign to return (fields[campaign]), as a list or comma-separated text, e.g. name,status. Leave empty for every attribute.",
      example: "name,status",
    },
    FIELDSETS.campaign ?? [],
  );

interface CampaignDoc {
  data?: { relationships?: { "campaign-messages"?: { data?: Array<{ id: string }> } } };
}

/** `POST /api/campaign-message-assign-template` (tier 10/s, 150/m): 200 with the message. */
export const assignTemplateToCampaignMessage = defineAction({
  key: "assign-template-to-campaign-message",
  label: "Assign Template to Campaign Message",
  description:
    "Gives a campaign message its content: Klaviyo makes a non-reusable copy of the template and assigns the copy to the message (so the message's template ID afterwards is the copy's, not the one given; later edits of the original do not reach the campaign). Name the message by its ID, or give the campaign's ID when it has a single message. Only a Draft campaign's messages can be changed; an email campaign cannot be sent before its message has a template. Returns the message with its template relationship. Limited to 10 requests per second, 150 per minute. Needs the campaigns:write scope (and campaigns:read when the campaign's ID is given).",
  operation: "assign_template_to_campaign_message",
  alsoCalls: ["get_campaign"],
  inputs: {
    templateId: input.id({
      key: "templateId",
      label: "Template ID",
      comments:
        "The ID of the template to copy into the message, as Create Template or List Templates return it.",
      example: "RipRmi",
    }),
    messageId: {
      ...input.text({
        key: "messageId",
        label: "Campaign Message ID",
        comments:
          "The ID of the campaign message, as Create Campaign returns it in relationships.campaign-messages. Give this or Campaign ID.",
        example: "01J9Z7Q4W3E2R1T0Y9U8I7O6P6",
      }),
      schema: idSchema,
    },
    campaignId: {
      ...input.text({
        key: "campaignId",
        label: "Campaign ID",
        comments:
          "Instead of Campaign Message ID: the campaign whose message gets the template (it must have exactly one message). Costs one more request to read the campaign.",
        example: "01J9Z7Q4W3E2R1T0Y9U8I7O6P5",
      }),
      schema: idSchema,
    },
  },
  async perform({ client, send, signal }, { templateId, messageId, campaignId }) {
    if ((messageId === undefined) === (campaignId === undefined)) {
      throw new InputValidationError(
        [
          {
            label: "Campaign Message ID",
            key: "messageId",
            message:
              messageId === undefined
                ? "give the message's ID, or Campaign ID for a campaign with one message"
                : "give Campaign Message ID or Campaign ID, not both",
          },
        ],
        "Assign Template to Campaign Message",
      );
    }
    let message = messageId;
    if (message === undefined && campaignId !== undefined) {
      const res = await client.call("get_campaign", {
        path: { id: campaignId },
        ...(signal ? { signal } : {}),
      });
      const ids = ((res.body as CampaignDoc).data?.relationships?.["campaign-messages"]?.data ?? []).map(
        (m) => m.id,
      );
      if (ids.length !== 1) {
        throw new InputValidationError(
          [
            {
              label: "Campaign ID",
              key: "campaignId",
              message: `the campaign has ${ids.length} messages (${ids.join(", ") || "none"}); give Campaign Message ID to say which`,
            },
          ],
          "Assign Template to Campaign Message",
        );
      }
      message = ids[0];
    }
    const res = await send({
      body: {
        data: {
          type: "campaign-message",
          id: message,
          relationships: { template: { data: { type: "template", id: templateId } } },
        },
      },
    });
    return res.body;
  },
});

/** What Send Campaign returns: the campaign's ID and its send job's, apart, with the job as Klaviyo gave it. */
export interface SendCampaignOutput {
  campaignId: string;
  sendJobId: string;
  /** The job's status: queued, processing, complete or cancelled. */
  status: string;
  data: unknown;
  links?: unknown;
}

/** `POST /api/campaign-send-jobs` (tier 10/s, 150/m): 202 with the queued send job. */
export const sendCampaign = defineAction({
  key: "send-campaign",
  label: "Send Campaign",
  description:
    "Sends a Draft campaign now (or at the time its send strategy names): Klaviyo queues a send job and sends in the background to its audiences' members who may receive the channel (not the unsubscribed or suppressed, and each profile once). Its messages must have their content: an email message needs a template (Assign Template to Campaign Message). Returns the campaign's ID and the send job's ID, each in its own field (Klaviyo names the job by the campaign's ID), and the job's status; follow it with Get Campaign Send Job, stop it with Cancel Campaign Send. A campaign that is not a Draft (already sent or sending) is refused. Limited to 10 requests per second, 150 per minute. Needs the campaigns:write scope.",
  operation: "send_campaign",
  inputs: {
    campaignId: campaignIdInput(
      "The ID of the Draft campaign to send, as Create Campaign or List Campaigns return it.",
    ),
  },
  async perform({ send }, { campaignId }): Promise<SendCampaignOutput> {
    const res = await send({ body: { data: { type: "campaign-send-job", id: campaignId } } });
    const body = res.body as { data: { id: string; attributes: { status: string } }; links?: unknown };
    return {
      campaignId,
      sendJobId: body.data.id,
      status: body.data.attributes.status,
      data: body.data,
      ...(body.links ? { links: body.links } : {}),
    };
  },
});

/** `GET /api/campaign-send-jobs/{id}` (tier 10/s, 150/m). */
export const getCampaignSendJob = defineAction({
  key: "get-campaign-send-job",
  label: "Get Campaign Send Job",
  description:
    "Reads a campaign's send job: its status, queued, processing, complete (sent) or cancelled. Poll it after Send Campaign to know when the campaign has gone out. Limited to 10 requests per second, 150 per minute. Needs the campaigns:read scope.",
  operation: "get_campaign_send_job",
  inputs: { sendJobId: sendJobIdInput() },
  async perform({ send }, { sendJobId }) {
    const res = await send({ path: { id: sendJobId } });
    return res.body;
  },
});

/** `PATCH /api/campaign-send-jobs/{id}` (tier 10/s, 150/m): 204. */
export const cancelCampaignSend = defineAction({
  key: "cancel-campaign-send",
  label: "Cancel Campaign Send",
  description:
    "Stops a campaign that is still queued or sending. Cancel ends the campaign for good (its status becomes Cancelled); Revert puts it back to Draft, to be changed and sent again. A send job that is complete cannot be stopped. Klaviyo answers with no content, so the job is read back afterwards: the result is the job as Klaviyo now holds it (status cancelled), with the campaign's ID and the action taken beside it. Limited to 10 requests per second, 150 per minute. Needs the campaigns:write scope (and campaigns:read to read the job back).",
  operation: "cancel_campaign_send",
  alsoCalls: ["get_campaign_send_job"],
  inputs: {
    sendJobId: sendJobIdInput(),
    action: input.enum(
      {
        key: "action",
        label: "Cancel Action",
        comments:
          "cancel: stop the send and end the campaign (status Cancelled, for good); revert: stop it and put the campaign back to Draft. Defaults to cancel.",
        default: "cancel",
        example: "revert",
      },
      ["cancel", "revert"] as const,
    ),
  },
  async perform({ client, send, signal }, { sendJobId, action }) {
    await send({
      path: { id: sendJobId },
      body: { data: { type: "campaign-send-job", id: sendJobId, attributes: { action } } },
    });
    const job = await client.call("get_campaign_send_job", {
      path: { id: sendJobId },
      ...(signal ? { signal } : {}),
    });
    const body = job.body as { data: unknown; links?: unknown };
    // Klaviyo names a campaign's send job by the campaign's ID.
    return { ...body, sendJobId, campaignId: sendJobId, action };
  },
});

/** `POST /api/campaign-clone` (tier 10/s, 150/m): 201 with the new campaign. */
export const cloneCampaign = defineAction({
  key: "clone-campaign",
  label: "Clone Campaign",
  description:
    "Copies a campaign, sent or not, into a new Draft: same audiences, settings and messages (with copies of their templates), a new ID and a new name. Returns the new campaign (its messages' IDs in relationships). Limited to 10 requests per second, 150 per minute. Needs the campaigns:write scope.",
  operation: "create_campaign_clone",
  inputs: {
    campaignId: campaignIdInput(
      "The ID of the campaign to copy, as Create Campaign or List Campaigns return it.",
    ),
    newName: {
      ...input.text({
        key: "newName",
        label: "New Campaign Name",
        comments:
          "The name of the copy. Leave empty for Klaviyo to name it after the original (the emulator: the original's name followed by (Clone)).",
        example: "Spring sale (second wave)",
      }),
    },
    fields: campaignFieldsInput(),
  },
  async perform({ send }, { campaignId, newName, fields }) {
    const res = await send({
      query: { "fields[campaign]": fieldsQuery(fields) },
      body: {
        data: {
          type: "campaign",
          id: campaignId,
          attributes: newName !== undefined ? { new_name: newName } : {},
        },
      },
    });
    return res.body;
  },
});
