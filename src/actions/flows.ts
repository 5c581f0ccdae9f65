/** Flows: List Flows, Get Flow and Update Flow Status (`/api/flows`; 3/s, 60/m). */
import { FIELDSETS, OPERATION_PARAMETERS } from "../klaviyo/operations.js";
import { defineAction } from "./define.js";
import { includeInput } from "./include.js";
import { input } from "./inputs.js";
import { listOutput, pagingInputs } from "./list.js";
import { listParam, sortInput } from "./profiles-inputs.js";

/** The statuses Klaviyo's Update Flow takes. */
export const FLOW_STATUSES = ["draft", "manual", "live"] as const;

const ALL_FLOW_FIELDS = FIELDSETS.flow ?? [];
/** Get Flows' `fields[flow]`: the plain attributes (the definition is for Get Flow only). */
const LIST_FLOW_FIELDS = ALL_FLOW_FIELDS.filter((f) => !f.startsWith("definition"));

const flowId = () =>
  input.id({
    key: "flowId",
    label: "Flow ID",
    comments:
      "The ID Klaviyo gave the flow, six characters such as XVTP5Q (List Flows returns them; in Klaviyo it is the part of the flow's page address after /flow/).",
    example: "XVTP5Q",
  });

const flowFields = (allowed: readonly string[], more: string) =>
  input.fields(
    {
      key: "fields",
      label: "Fields",
      comments: `The flow fields to return (Klaviyo's sparse fieldset fields[flow]), as a list or comma-separated text: ${allowed.join(", ")}.${more} Leave empty for every field.`,
      example: "name,status",
    },
    allowed,
  );

const flowInclude = (operation: "get_flows" | "get_flow") =>
  includeInput(
    {
      key: "include",
      label: "Include",
      comments:
        "Related resources to return in the response's included array, as a list or comma-separated text: flow-actions (the flow's steps: emails, delays, splits, each with its definition) and tags.",
      example: "flow-actions",
    },
    OPERATION_PARAMETERS[operation]?.include ?? [],
  );

/** `GET /api/flows` (3/s, 60/m; at most 50 per page). */
export const listFlows = defineAction({
  key: "list-flows",
  label: "List Flows",
  description:
    "Lists the account's flows (automations such as a welcome series or an abandoned-cart sequence) with their name, status (draft, manual or live), trigger type and times, at most 50 per page: one page by default, Page Cursor to continue, Limit to gather several pages. Archived flows are left out unless the filter holds equals(archived,true). A filter narrows by name, status, trigger type, IDs or creation/update time; Sort orders them. Limited to 3 requests per second, 60 per minute. Needs the flows:read scope.",
  operation: "get_flows",
  inputs: {
    fields: flowFields(LIST_FLOW_FIELDS, ""),
    filter: input.filter(
      {
        key: "filter",
        label: "Filter",
        comments:
          "A Klaviyo filter expression. Fields: name (equals, contains, starts-with, ends-with), status (equals: 'draft', 'manual' or 'live'), archived (equals true or false), trigger_type (equals: 'Added to List', 'Metric', 'Date Based', 'Price Drop', 'Low Inventory' or 'Unconfigured'), id (any, with a list), created and updated (equals, greater-than, greater-or-equal, less-than, less-or-equal; dates unquoted); combine with and(...). Archived flows are only returned when the filter holds equals(archived,true), and then only they. Examples: equals(status,'live'); and(equals(archived,true),contains(name,'Winback')).",
        example: "equals(status,'live')",
      },
      "get_flows",
    ),
    sort: sortInput("get_flows", "flows"),
    include: flowInclude("get_flows"),
    ...pagingInputs(50),
  },
  async perform(ctx, { fields, filter, sort, include, pageSize, cursor, limit }) {
    return listOutput(
      ctx,
      { query: { "fields[flow]": listParam(fields), filter, sort, include: listParam(include) } },
      { pageSize, cursor, limit },
    );
  },
});

/** `GET /api/flows/{id}` (3/s, 60/m). */
export const getFlow = defineAction({
  key: "get-flow",
  label: "Get Flow",
  description:
    "Fetches one flow by its ID: name, status, whether it is archived, trigger type, creation and update times; with Include Definition also its definition (trigger, actions and how they link), and with Include its actions or tags as related resources. Fails with a NotFoundError when no flow has that ID. Limited to 3 requests per second, 60 per minute. Needs the flows:read scope.",
  operation: "get_flow",
  inputs: {
    flowId: flowId(),
    fields: flowFields(ALL_FLOW_FIELDS, " The definition.* names only apply with Include Definition."),
    includeDefinition: input.boolean({
      key: "includeDefinition",
      label: "Include Definition",
      comments:
        "Also return the flow's definition: its trigger, its actions (emails, delays, splits) and which leads to which (Klaviyo's additional-fields[flow]=definition). Off (false) by default.",
      default: false,
      example: "true",
    }),
    include: flowInclude("get_flow"),
  },
  async perform({ send }, { flowId, fields, includeDefinition, include }) {
    const res = await send({
      path: { id: flowId },
      query: {
        "fields[flow]": listParam(fields),
        "additional-fields[flow]": includeDefinition ? "definition" : undefined,
        include: listParam(include),
      },
    });
    return res.body;
  },
});

/** `PATCH /api/flows/{id}` (3/s, 60/m). */
export const updateFlowStatus = defineAction({
  key: "update-flow-status",
  label: "Update Flow Status",
  description:
    "Sets a flow's status, and that of every action in it, and returns the flow as updated: draft (off), manual (running, but each message waits for someone to send it) or live (sending on its own). Only the status can be changed through the API. Fails with a NotFoundError when no flow has that ID. Limited to 3 requests per second, 60 per minute. Needs the flows:write scope.",
  operation: "update_flow",
  inputs: {
    flowId: flowId(),
    status: input.enum(
      {
        key: "status",
        label: "Status",
        required: true,
        comments:
          "The flow's new status: draft (stopped; nobody enters or is sent anything), manual (people enter and messages are queued for review, sent only by hand) or live (messages go out on their own).",
        example: "manual",
      },
      FLOW_STATUSES,
    ),
  },
  async perform({ send }, { flowId, status }) {
    const res = await send({
      path: { id: flowId },
      body: { data: { type: "flow", id: flowId, attributes: { status } } },
    });
    return res.body;
  },
});
