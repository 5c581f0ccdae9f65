import * as v from "valibot";
import { InputValidationError } from "../core/errors.js";
import { type FilterNode, parseFilter } from "../klaviyo/filter.js";
import { FIELDSETS, OPERATION_PARAMETERS } from "../klaviyo/operations.js";
import { jsonObject, reading, refined } from "../klaviyo/schema.js";
import {
  type AudiencesGiven,
  audienceSchema,
  type CampaignMessage,
  checked,
  checkSendOptions,
  checkTracking,
  readMessages,
  readSendStrategy,
} from "./campaigns-build.js";
import { defineAction } from "./define.js";
import { fieldsQuery, includeInput, includes } from "./include.js";
import { type InputDefinition, input } from "./inputs.js";
import { listOutput, pagingInputs } from "./list.js";

/** `fields[campaign-message]` names the campaign endpoints accept (the definition.* forms). */
const MESSAGE_FIELDS = (FIELDSETS["campaign-message"] ?? []).filter(
  (name) => name.startsWith("definition") || ["created_at", "id", "send_times", "updated_at"].includes(name),
);

const campaignIdInput = () =>
  input.id({
    key: "campaignId",
    label: "Campaign ID",
    comments: "The Klaviyo ID of the campaign, as Create Campaign or List Campaigns return it.",
    example: "01J9Z7Q4W3E2R1T0Y9U8I7O6P5",
  });

const fieldsInput = () =>
  input.fields(
    {
      key: "fields",
      label: "Fields",
      comments:
        "Which campaign attributes to return (Klaviyo's sparse fieldset fields[campaign]), as a list or comma-separated text, e.g. name,status,send_time; dotted names reach nested ones (send_strategy.method, audiences.included). Leave empty for every attribute.",
      example: "name,status,send_time",
    },
    FIELDSETS.campaign ?? [],
  );

const messageFieldsInput = () =>
  input.fields(
    {
      key: "messageFields",
      label: "Message Fields",
      comments:
        "Which attributes of the campaign's messages to return (fields[campaign-message]), e.g. definition.label,definition.content.subject. Giving any also includes the messages in included[] (include=campaign-messages).",
      example: "definition.channel,definition.content.subject",
    },
    MESSAGE_FIELDS,
  );

const campaignIncludeInput = () =>
  includeInput(
    {
      key: "include",
      label: "Include",
      comments:
        "Related resources to return in included[]: campaign-messages (each message's definition: subject, sender, SMS body…) and tags, as a list or comma-separated text.",
      example: "campaign-messages",
    },
    OPERATION_PARAMETERS.get_campaign?.include ?? ["campaign-messages", "tags"],
  );

function campaignQuery(values: {
  fields?: string[] | undefined;
  messageFields?: string[] | undefined;
  include?: string[] | undefined;
}) {
  return {
    "fields[campaign]": fieldsQuery(values.fields),
    "fields[campaign-message]": fieldsQuery(values.messageFields),
    include: includes(values.include, [["campaign-messages", values.messageFields]]),
  };
}

function audiencesInput<R extends boolean>(
  base: { key: string; label: string; comments: string; example?: string; required?: R },
  allowEmpty: boolean,
) {
  return input.json<string[], R, AudiencesGiven>(base, audienceSchema(allowEmpty));
}

const includedAudiences = <R extends boolean>(required: R) =>
  audiencesInput<R>(
    {
      key: "includedAudiences",
      label: "Included Audiences",
      required,
      comments: `The lists and segments to send to, by ID: a JSON array (["Y6nRLr","UTd5ui"]) or comma-separated text (Y6nRLr,UTd5ui). ${
        required
          ? "At least one is required."
          : "When given, it replaces the campaign's included audiences (at least one)."
      }`,
      example: "Y6nRLr,UTd5ui",
    },
    false,
  );

const excludedAudiences = (update: boolean) =>
  audiencesInput<false>(
    {
      key: "excludedAudiences",
      label: "Excluded Audiences",
      comments: `Lists and segments whose members never receive the campaign, even when also in an included audience: IDs as a JSON array or comma-separated text. ${
        update
          ? "When given, it replaces the campaign's exclusions; [] removes them all."
          : "Leave empty for none."
      }`,
      example: "XyZ123",
    },
    true,
  );

const trackingInput = () =>
  input.json<Record<string, unknown>>(
    {
      key: "trackingOptions",
      label: "Tracking Options",
      comments:
        'How links and opens are tracked, as a JSON object: is_tracking_opens and is_tracking_clicks (true/false; email only), add_tracking_params (true adds UTM-style parameters to links) and custom_tracking_params, a list of {"type":"dynamic","value":"campaign_name","name":"utm_campaign"} or {"type":"static","value":"spring","name":"utm_source"}. Klaviyo tracks opens and clicks of email by default.',
      example: '{"is_tracking_opens":true,"is_tracking_clicks":true,"add_tracking_params":false}',
    },
    checked((value, problems) => {
      checkTracking(value, problems);
      return value;
    }),
    "each member checked as Klaviyo's tracking options (names, types, custom_tracking_params entries)",
  );

const sendOptionsInput = () =>
  input.json<Record<string, unknown>>(
    {
      key: "sendOptions",
      label: "Send Options",
      comments:
        'Sending options as a JSON object: {"use_smart_sending": true} skips recipients who received a message recently (Klaviyo\'s default is true).',
      example: '{"use_smart_sending":true}',
    },
    checked((value, problems) => {
      checkSendOptions(value, problems);
      return value;
    }),
    "each member checked as Klaviyo's send options (use_smart_sending: true or false)",
  );

const sendStrategyInput = () =>
  input.json<Record<string, unknown>>(
    {
      key: "sendStrategy",
      label: "Send Strategy",
      comments:
        'When the campaign goes out once sent or scheduled, as a JSON object by "method": {"method":"immediate"} (Klaviyo\'s default); {"method":"static","datetime":"2026-08-01T15:00:00Z","options":{"is_local":true}} for a set time (is_local: in each recipient\'s time zone); {"method":"throttled","datetime":…,"throttle_percentage":10} (1, 2, 5, 10, 11, 13, 14, 17, 20, 25, 33 or 50 percent an hour); {"method":"smart_send_time","date":"2026-08-01"}. Times are ISO 8601.',
      example: '{"method":"static","datetime":"2026-08-01T15:00:00Z"}',
    },
    checked(readSendStrategy),
    "checked as one of Klaviyo's send strategies, by method (its members, times and percentages)",
  );

/** A campaign's name: not blank, kept as given. */
const campaignNameSchema = v.pipe(v.string("must be text"), v.regex(/\S/, "must not be empty"));

/** `POST /api/campaigns` (tier 10/s, 150/m): 201 with the campaign. */
export const createCampaign = defineAction({
  key: "create-campaign",
  label: "Create Campaign",
  description:
    "Creates a draft campaign with its message(s), audiences and sending settings, and returns it as Klaviyo stored it (status Draft, Klaviyo's defaults filled in; the messages' IDs are in relationships). It does not send or schedule anything: that is a separate send job, and the message content (template) is assigned to each message afterwards. A campaign has one channel: email, SMS or mobile push, shared by all its messages.",
  operation: "create_campaign",
  inputs: {
    name: {
      ...input.text<true>({
        key: "name",
        label: "Campaign Name",
        required: true,
        comments: "The campaign's name, as shown in Klaviyo's campaign list (not seen by recipients).",
        example: "Spring sale",
      }),
      schema: campaignNameSchema,
    },
    messages: input.json<CampaignMessage[], true>(
      {
        key: "messages",
        label: "Campaign Messages",
        required: true,
        comments:
          'The campaign\'s message(s), as a JSON array (one message alone may be given as an object). Each either Klaviyo\'s {"type":"campaign-message","attributes":{"definition":{…}}} or just the definition: email {"channel":"email","label":"Spring","content":{"subject":"…","preview_text":"…","from_email":"shop@example.com","from_label":"Shop","reply_to_email":…,"cc_email":…,"bcc_email":…}}; SMS {"channel":"sms","content":{"body":"…"},"render_options":{"shorten_links":true,…}}; push {"channel":"mobile_push","content":{"title":"…","body":"…"}} (body required). All messages use the same channel. Messages cannot be changed later with Update Campaign.',
        example:
          '[{"channel":"email","label":"Spring sale","content":{"subject":"20% off","from_email":"shop@example.com","from_label":"Shop"}}]',
      },
      reading(v.union([v.array(jsonObject), jsonObject]), readMessages),
      "each message checked as Klaviyo's campaign-message definition of its channel (content, sender, options), all of one channel",
    ),
    includedAudiences: includedAudiences(true),
    excludedAudiences: excludedAudiences(false),
    trackingOptions: trackingInput(),
    sendOptions: sendOptionsInput(),
    sendStrategy: sendStrategyInput(),
  },
  async perform({ send }, values) {
    const channel = values.messages[0]?.attributes.definition.channel;
    const tracking = values.trackingOptions;
    if (channel !== "email" && tracking) {
      const emailOnly = ["is_tracking_opens", "is_tracking_clicks"].filter(
        (k) => tracking[k] !== undefined && tracking[k] !== null,
      );
      if (emailOnly.length > 0) {
        throw new InputValidationError(
          [
            {
              label: "Tracking Options",
              key: "trackingOptions",
              message: `${emailOnly.join(" and ")} apply to email campaigns only; this is a ${channel} campaign`,
            },
          ],
          "Create Campaign",
        );
      }
    }
    const attributes = {
      name: values.name,
      audiences: {
        included: values.includedAudiences,
        ...(values.excludedAudiences !== undefined ? { excluded: values.excludedAudiences } : {}),
      },
      ...(values.sendStrategy !== undefined ? { send_strategy: values.sendStrategy } : {}),
      ...(values.sendOptions !== undefined ? { send_options: values.sendOptions } : {}),
      ...(tracking !== undefined ? { tracking_options: tracking } : {}),
      "campaign-messages": { data: values.messages },
    };
    const res = await send({
      body: { data: { type: "campaign", attributes } },
    });
    return res.body;
  },
});

/** `GET /api/campaigns/{id}` (tier 10/s, 150/m). */
export const getCampaign = defineAction({
  key: "get-campaign",
  label: "Get Campaign",
  description:
    "Fetches one campaign by its ID: name, status (Draft, Scheduled, Sent, …), audiences, send strategy, tracking and send options, and its times. Its messages (subject, sender, SMS body…) come back in included[] only when asked for, with Include or Message Fields.",
  operation: "get_campaign",
  inputs: {
    campaignId: campaignIdInput(),
    fields: fieldsInput(),
    messageFields: messageFieldsInput(),
    include: campaignIncludeInput(),
  },
  async perform({ send }, { campaignId, ...values }) {
    const res = await send({
      path: { id: campaignId },
      query: campaignQuery(values),
    });
    return res.body;
  },
});

/** The channels a filter names with `equals(messages.channel,…)`, at its top level or inside a top-level `and(…)`. */
function channelsOf(node: FilterNode): unknown[] {
  if (node.kind === "and") return node.args.flatMap(channelsOf);
  if (node.kind === "condition" && node.field === "messages.channel") return [node.value];
  return [];
}

function campaignFilterInput(): InputDefinition<string, false> {
  const definition = input.filter(
    {
      key: "filter",
      label: "Filter Campaigns",
      default: "equals(messages.channel,'sms')",
      comments:
        "Which campaigns to list, as a Klaviyo filter. Klaviyo lists one channel at a time, so it must contain exactly one equals(messages.channel,'email'), …'sms') or …'mobile_push'), alone or inside and(…) with other conditions: equals(status,'Draft'), any(status,['Sent','Scheduled']), contains(name,'Sale'), equals(archived,true), any(id,[…]), and greater-than / less-than (or -or-equal) on created_at, updated_at or scheduled_at with unquoted ISO 8601 times. Checked before sending. Defaults to SMS campaigns.",
      example: "and(equals(messages.channel,'email'),equals(status,'Draft'))",
    },
    "get_campaigns",
  );
  const schema = refined(definition.schema, (text, ctx) => {
    let node: FilterNode;
    try {
      node = parseFilter(text);
    } catch {
      return; // the filter's own schema has reported it
    }
    const channels = channelsOf(node);
    if (channels.length !== 1) {
      ctx.addIssue({
        message:
          channels.length === 0
            ? "must name a channel: Klaviyo lists one channel at a time, so include equals(messages.channel,'email'), equals(messages.channel,'sms') or equals(messages.channel,'mobile_push'), alone or inside and(…)"
            : "must name one channel only: Klaviyo lists one channel at a time (give equals(messages.channel,…) once, not inside or(…))",
      });
    }
  });
  return { ...definition, schema };
}

/** `GET /api/campaigns` (tier 10/s, 150/m; 100 per page). */
export const listCampaigns = defineAction({
  key: "list-campaigns",
  label: "List Campaigns",
  description:
    "Lists the account's campaigns of one channel (email, SMS or mobile push), narrowed by a filter on status, name, archived, IDs or dates. Klaviyo requires the channel in the filter and returns at most 100 campaigns a page; one page by default, with a cursor to continue, or Limit to walk pages until that many.",
  operation: "get_campaigns",
  inputs: {
    filter: campaignFilterInput(),
    fields: fieldsInput(),
    messageFields: messageFieldsInput(),
    include: campaignIncludeInput(),
    sort: input.enum(
      {
        key: "sort",
        label: "Sort",
        comments:
          "The order: created_at, updated_at, scheduled_at, name or id, ascending; prefix with - for descending (-created_at: newest first). Leave empty for Klaviyo's default.",
        example: "-created_at",
      },
      OPERATION_PARAMETERS.get_campaigns?.sort ?? ["created_at", "-created_at"],
    ),
    ...pagingInputs(100),
  },
  async perform(ctx, { filter, sort, pageSize, cursor, limit, ...values }) {
    return listOutput(
      ctx,
      {
        query: { filter, sort, ...campaignQuery(values) },
      },
      { pageSize, cursor, limit },
    );
  },
});

/** `PATCH /api/campaigns/{id}` (tier 10/s, 150/m): 200 with the campaign. */
export const updateCampaign = defineAction({
  key: "update-campaign",
  label: "Update Campaign",
  description:
    "Changes a campaign's name, audiences, tracking options, send options or send strategy; only the inputs given are sent, everything else stays as it is. An audience list given replaces the current one. Messages cannot be changed here (Klaviyo updates them through the campaign-messages endpoint), and a campaign already sent cannot be changed. Returns the campaign as Klaviyo now holds it.",
  operation: "update_campaign",
  inputs: {
    campaignId: campaignIdInput(),
    name: {
      ...input.text({
        key: "name",
        label: "Campaign Name",
        comments: "A new name for the campaign. Leave empty to keep the current one.",
        example: "Spring sale (final)",
      }),
      schema: campaignNameSchema,
    },
    includedAudiences: includedAudiences(false),
    excludedAudiences: excludedAudiences(true),
    trackingOptions: trackingInput(),
    sendOptions: sendOptionsInput(),
    sendStrategy: sendStrategyInput(),
  },
  async perform({ send }, { campaignId, ...values }) {
    const audiences = {
      ...(values.includedAudiences !== undefined ? { included: values.includedAudiences } : {}),
      ...(values.excludedAudiences !== undefined ? { excluded: values.excludedAudiences } : {}),
    };
    const attributes = {
      ...(values.name !== undefined ? { name: values.name } : {}),
      ...(Object.keys(audiences).length > 0 ? { audiences } : {}),
      ...(values.trackingOptions !== undefined ? { tracking_options: values.trackingOptions } : {}),
      ...(values.sendOptions !== undefined ? { send_options: values.sendOptions } : {}),
      ...(values.sendStrategy !== undefined ? { send_strategy: values.sendStrategy } : {}),
    };
    if (Object.keys(attributes).length === 0) {
      throw new InputValidationError(
        [
          {
            label: "",
            key: "",
            message:
              "nothing to update: give at least one of Campaign Name, Included Audiences, Excluded Audiences, Tracking Options, Send Options or Send Strategy",
          },
        ],
        "Update Campaign",
      );
    }
    const res = await send({
      path: { id: campaignId },
      body: { data: { type: "campaign", id: campaignId, attributes } },
    });
    return res.body;
  },
});

/** `DELETE /api/campaigns/{id}` (tier 10/s, 150/m): 204. */
export const deleteCampaign = defineAction({
  key: "delete-campaign",
  label: "Delete Campaign",
  description:
    "Deletes a campaign and its messages for good, by its ID. Klaviyo answers with no content; the result confirms which campaign was deleted. A campaign that does not exist gives a not-found error.",
  operation: "delete_campaign",
  inputs: { campaignId: campaignIdInput() },
  async perform({ send }, { campaignId }) {
    await send({
      path: { id: campaignId },
    });
    return { deleted: true as const, id: campaignId };
  },
});

/** The campaign actions. */
