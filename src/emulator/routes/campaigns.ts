/**
 * Campaigns: Create (201, with its messages), Get (`include=campaign-messages,tags`), List (the `filter` must
 * name exactly one channel with `equals(messages.channel,…)`; 100 per page), Update (PATCH; messages cannot
 * change here), Delete (204, messages too), and Get Campaign Message.
 */
import type { FilterNode } from "../../klaviyo/filter.js";
import { FIELDSETS } from "../../klaviyo/operations.js";
import { archivedAsked, collection } from "../collection.js";
import { empty, Included, single } from "../documents.js";
import type { EmulatorContext, RouteRuntime, RouteTable } from "../env.js";
import { invalidParameter, notFound } from "../errors.js";
import { parseFieldset } from "../fields.js";
import { type QueryContext, readFilter, readQuery } from "../query.js";
import { invalidMembers, readResourceBody } from "../request-documents.js";
import {
  audienceProblems,
  type Channel,
  campaignChannel,
  deleteCampaign,
  includeForMessage,
  insertMessage,
  type MessageRow,
  newCampaign,
  renderCampaign,
  renderMessage,
  strategy,
  trackingOptions,
  trackingProblems,
} from "../resources/campaigns-model.js";
import { createCampaignBody, updateCampaignBody } from "../resources/campaigns-schema.js";
import type { CampaignRow, EmulatorState } from "../state.js";
import { isoNow } from "../store.js";

const MESSAGES = "/data/attributes/campaign-messages/data";

function findCampaign(state: EmulatorState, c: EmulatorContext): CampaignRow {
  const id = c.get("params").id ?? "";
  const row = state.campaigns.get(id);
  if (!row) throw notFound(`A campaign with id '${id}' does not exist.`);
  return row;
}

/** The channels a filter asks for with `equals(messages.channel,…)`, at its top level or inside `and(…)`. */
function channelsOf(node: FilterNode | undefined): unknown[] {
  if (!node) return [];
  if (node.kind === "and") return node.args.flatMap(channelsOf);
  if (node.kind === "condition" && node.field === "messages.channel") return [node.value];
  return [];
}

/**
 * The query of Get Campaign Message, read here because the generated operation table does not describe this
 * operation's parameters: fieldsets for the message and what it includes, and `include=campaign,image,template`.
 */
function messageQuery(c: EmulatorContext): QueryContext {
  const url = new URL(c.req.url);
  const fields = new Map<string, readonly string[]>();
  const include = new Set<string>();
  const types = ["campaign-message", "campaign", "image", "template"];
  const relations = ["campaign", "image", "template"];
  for (const [name, value] of url.searchParams) {
    const type = /^fields\[(.+)\]$/.exec(name)?.[1];
    if (type !== undefined) {
      if (!types.includes(type))
        throw invalidParameter(name, `'${type}' is not a resource type this endpoint can return.`);
      const parsed = parseFieldset(value, type, FIELDSETS[type] ?? []);
      if (parsed) fields.set(type, [...(fields.get(type) ?? []), ...parsed]);
    } else if (name === "include") {
      for (const relation of value
        .split(",")
        .map((v) => v.trim())
        .filter(Boolean)) {
        if (!relations.includes(relation)) {
          throw invalidParameter(
            "include",
            `'${relation}' is not a valid include for this endpoint. Valid: ${relations.join(", ")}.`,
          );
        }
        include.add(relation);
      }
    }
  }
  return {
    operation: c.get("operation"),
    params: {},
    fields,
    include,
    additional: new Map(),
    origin: url.origin,
  };
}

/** The campaign handlers, over `state`. */
export function campaignRoutes(state: EmulatorState, runtime: RouteRuntime): RouteTable {
  return {
    get_campaigns(c) {
      const query = readQuery(c);
      const channels = channelsOf(readFilter(c, query.params));
      if (channels.length !== 1) {
        throw invalidParameter(
          "filter",
          channels.length === 0
            ? "A channel filter is required: equals(messages.channel,'email'), equals(messages.channel,'sms') or equals(messages.channel,'mobile_push')."
            : "Filter on one channel only: give equals(messages.channel,…) once.",
        );
      }
      return collection<CampaignRow>(c, {
        rows: state.campaigns.values(),
        field: (row, name) =>
          name === "messages.channel"
            ? campaignChannel(state, row)
            : name === "id"
              ? row.id
              : row.attributes[name],
        // Archived campaigns only when the filter asks for them with `equals(archived,true)`, as flows.
        where: (row, filter) => row.attributes.archived !== true || archivedAsked(filter),
        render: (row, q, included) => renderCampaign(state, row, q, included),
      });
    },

    get_campaign(c) {
      const query = readQuery(c);
      const row = findCampaign(state, c);
      const included = new Included();
      return single(c.req.url, renderCampaign(state, row, query, included), included);
    },

    async create_campaign(c) {
      const query = readQuery(c);
      const { attributes } = (await readResourceBody(c, createCampaignBody, { type: "campaign" })).data;
      const messages = attributes["campaign-messages"].data;
      const channel = messages[0]?.attributes.definition.channel as Channel;
      const problems = [
        ...messages.flatMap((m, i) => {
          const at = `${MESSAGES}/${i}`;
          const image = m.relationships?.image?.data?.id;
          return [
            ...(m.attributes.definition.channel === channel
              ? []
              : [
                  {
                    pointer: `${at}/attributes/definition/channel`,
                    detail: `Every message of a campaign must use one channel ('${channel}').`,
                  },
                ]),
            ...(image === undefined || state.images.get(image)
              ? []
              : [
                  {
                    pointer: `${at}/relationships/image/data/id`,
                    detail: `There is no image with id '${image}'.`,
                  },
                ]),
          ];
        }),
        ...audienceProblems(state, attributes.audiences.included, "/data/attributes/audiences/included"),
        ...audienceProblems(state, attributes.audiences.excluded, "/data/attributes/audiences/excluded"),
        ...trackingProblems(channel, attributes.tracking_options),
      ];
      const problem = invalidMembers(problems);
      if (problem) throw problem;

      const now = runtime.now();
      const row = newCampaign(
        state,
        {
          name: attributes.name,
          audiences: {
            included: attributes.audiences.included,
            excluded: attributes.audiences.excluded ?? [],
          },
          send_options: { use_smart_sending: attributes.send_options?.use_smart_sending ?? true },
          tracking_options: trackingOptions(channel, attributes.tracking_options),
          ...strategy(attributes.send_strategy),
        },
        now,
      );
      for (const message of messages)
        row.messageIds.push(insertMessage(state, { id: row.id, name: attributes.name }, message, now).id);
      return single(c.req.url, renderCampaign(state, row, query), undefined, 201);
    },

    async update_campaign(c) {
      const query = readQuery(c);
      const row = findCampaign(state, c);
      const { attributes } = (await readResourceBody(c, updateCampaignBody, { type: "campaign", id: row.id }))
        .data;
      const channel = campaignChannel(state, row) ?? "email";
      const problem = invalidMembers([
        ...audienceProblems(state, attributes.audiences?.included, "/data/attributes/audiences/included"),
        ...audienceProblems(state, attributes.audiences?.excluded, "/data/attributes/audiences/excluded"),
        ...trackingProblems(channel, attributes.tracking_options),
      ]);
      if (problem) throw problem;

      const next = { ...row.attributes };
      if (attributes.name != null) next.name = attributes.name;
      if (attributes.audiences) {
        const current = next.audiences as { included: string[]; excluded: string[] };
        // Each list given replaces the stored one; null empties `excluded`, which may be empty, but not `included`.
        next.audiences = {
          included: attributes.audiences.included ?? current.included,
          excluded:
            attributes.audiences.excluded === undefined
              ? current.excluded
              : (attributes.audiences.excluded ?? []),
        };
      }
      if (attributes.send_options !== undefined) {
        next.send_options = { use_smart_sending: attributes.send_options?.use_smart_sending ?? true };
      }
      if (attributes.tracking_options !== undefined) {
        next.tracking_options =
          attributes.tracking_options === null
            ? null
            : trackingOptions(channel, attributes.tracking_options, next.tracking_options);
      }
      if (attributes.send_strategy !== undefined) Object.assign(next, strategy(attributes.send_strategy));
      next.updated_at = isoNow(runtime.now());
      row.attributes = next;
      return single(c.req.url, renderCampaign(state, row, query));
    },

    delete_campaign(c) {
      deleteCampaign(state, findCampaign(state, c));
      return empty(204);
    },

    get_campaign_message(c) {
      const query = messageQuery(c);
      const id = c.get("params").id ?? "";
      const row = state.campaignMessages.get(id) as MessageRow | undefined;
      if (!row) throw notFound(`A campaign message with id '${id}' does not exist.`);
      const included = new Included();
      includeForMessage(state, row, query, included);
      return single(c.req.url, renderMessage(state, row, query), included);
    },
  };
}
