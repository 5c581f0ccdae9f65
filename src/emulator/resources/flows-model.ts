/**
 * Flows as Klaviyo keeps them: a flow row in wire form (name, status, archived, created, updated, trigger_type)
 * whose `definition` (triggers, actions, entry action) is returned only with `additional-fields[flow]=definition`
 * and whose actions are the `flow-action` resources `include=flow-actions` returns. Update Flow changes only the
 * status, of the flow and of every action in it that has one, as Klaviyo's document says.
 *
 * Not modelled: Create and Delete Flow (a flow is seeded, or put in a snapshot), flow messages, tags (the `tags`
 * relationship is always empty here), and what a status change does to the people in the flow.
 */
import * as v from "valibot";
import { validate } from "../body.js";
import {
  type Included,
  type JsonApiResource,
  type Relationship,
  relationshipLinks,
  resource,
} from "../documents.js";
import { EmulatorProblem, invalidBody } from "../errors.js";
import type { QueryContext } from "../query.js";
import type { EmulatorState } from "../state.js";
import { isoNow, type ResourceRow, shortId } from "../store.js";
import { checkWriteDocument } from "./templates-document.js";

/** The statuses Update Flow accepts (the document: "['draft', 'manual', or 'live']"). */
export const FLOW_STATUSES = ["draft", "manual", "live"] as const;
export type FlowStatus = (typeof FLOW_STATUSES)[number];

/** `trigger_type` as the document enumerates it. */
export const FLOW_TRIGGER_TYPES = [
  "Added to List",
  "Date Based",
  "Low Inventory",
  "Metric",
  "Price Drop",
  "Unconfigured",
] as const;
export type FlowTriggerType = (typeof FLOW_TRIGGER_TYPES)[number];

/** An action of a flow definition, encoded as the document's `*Action` schemas (`send-email`, `time-delay`, …). */
export interface FlowActionDefinition {
  id: string;
  type: string;
  links: { next: string | null };
  data: Record<string, unknown>;
}

export interface FlowDefinition {
  triggers: Array<Record<string, unknown>>;
  profile_filter: null;
  actions: FlowActionDefinition[];
  entry_action_id: string | null;
}

export interface FlowSeed {
  name: string;
  status: FlowStatus;
  archived?: boolean;
  triggerType: FlowTriggerType;
  /** The trigger, `{ type: "list", id }` or `{ type: "metric", id }`; none for Unconfigured. */
  trigger?: Record<string, unknown>;
  /** The actions in order; each links to the next. Ids are given here. */
  actions?: Array<{ type: string; data: Record<string, unknown> }>;
  created?: number;
}

const PATH = "flows";
const RELATIONSHIPS = ["flow-actions", "tags"] as const;

function uniqueId(state: EmulatorState): string {
  let id = shortId();
  while (state.flows.get(id)) id = shortId();
  return id;
}

/** Adds a flow (the demo seed's, a test's): there is no Create Flow in the emulator. */
export function insertFlow(state: EmulatorState, seed: FlowSeed, now: number): ResourceRow {
  const stamp = isoNow(seed.created ?? now);
  const actionIds = (seed.actions ?? []).map(() => String(100_000 + Math.floor(Math.random() * 900_000)));
  const actions: FlowActionDefinition[] = (seed.actions ?? []).map((action, i) => ({
    id: actionIds[i] as string,
    type: action.type,
    links: { next: actionIds[i + 1] ?? null },
    data: structuredClone(action.data),
  }));
  const definition: FlowDefinition = {
    triggers: seed.trigger ? [structuredClone(seed.trigger)] : [],
    profile_filter: null,
    actions,
    entry_action_id: actionIds[0] ?? null,
  };
  return state.flows.insert({
    id: uniqueId(state),
    seq: state.flows.seq(),
    attributes: {
      name: seed.name,
      status: seed.status,
      archived: seed.archived ?? false,
      created: stamp,
      updated: stamp,
      trigger_type: seed.triggerType,
      definition,
    },
  });
}

function definitionOf(row: ResourceRow): FlowDefinition | null {
  return (row.attributes.definition as FlowDefinition | null | undefined) ?? null;
}

/** A flow-action resource, as `include=flow-actions` returns it. */
function flowActionResource(
  query: QueryContext,
  flow: ResourceRow,
  action: FlowActionDefinition,
): JsonApiResource {
  const stamp = flow.attributes.updated;
  return resource(
    query,
    "flow-action",
    "flow-actions",
    action.id,
    { created: flow.attributes.created, updated: stamp, definition: structuredClone(action) },
    {
      flow: {
        data: { type: "flow", id: flow.id },
        links: relationshipLinks(query, "flow-actions", action.id, "flow"),
      },
    },
  );
}

/**
 * A flow resource object: `definition` only when `additional-fields[flow]=definition` asks for it; relationship
 * data for what `include` names, the actions added to `included`. Tags are not modelled: always empty.
 */
export function flowResource(query: QueryContext, row: ResourceRow, included?: Included): JsonApiResource {
  const { definition, ...attributes } = row.attributes;
  const withDefinition = query.additional.get("flow")?.has("definition") ?? false;
  const actions = definitionOf(row)?.actions ?? [];
  const relationships: Record<string, Relationship> = {};
  for (const name of RELATIONSHIPS) {
    const asked = included !== undefined && query.include.has(name);
    relationships[name] = {
      ...(asked
        ? { data: name === "flow-actions" ? actions.map((a) => ({ type: "flow-action", id: a.id })) : [] }
        : {}),
      links: relationshipLinks(query, PATH, row.id, name),
    };
  }
  if (included && query.include.has("flow-actions")) {
    for (const action of actions) included.add(flowActionResource(query, row, action));
  }
  return resource(
    query,
    "flow",
    PATH,
    row.id,
    withDefinition ? { ...attributes, definition: structuredClone(definition ?? null) } : attributes,
    relationships,
  );
}

/** A field's value for Get Flows' filters and sorts. */
export function flowField(row: ResourceRow, name: string): unknown {
  return name === "id" ? row.id : row.attributes[name];
}

const updateBody = v.strictObject({
  data: v.strictObject({
    type: v.literal("flow"),
    id: v.string(),
    attributes: v.strictObject({ status: v.string() }),
  }),
});

const READ_ONLY: Record<string, string> = {
  name: "'name' cannot be changed through Update Flow; only 'status' can.",
  archived: "'archived' cannot be changed through Update Flow; only 'status' can.",
  trigger_type: "'trigger_type' is read-only.",
  created: "'created' is read-only.",
  updated: "'updated' is read-only.",
  definition: "'definition' cannot be changed through Update Flow; only 'status' can.",
};

function isStatus(value: string): value is FlowStatus {
  return (FLOW_STATUSES as readonly string[]).includes(value);
}

/**
 * Applies an Update Flow body: the status of the flow and of each of its actions that carries one (send-email,
 * send-sms, …; delays have none), and `updated`. Any status but draft, manual or live is a 400 at
 * `/data/attributes/status`.
 *
 * Undocumented, and chosen: an archived flow's status can be changed like any other (the document names no
 * restriction), and it stays archived.
 */
export function updateFlowStatus(row: ResourceRow, body: unknown, now: number): ResourceRow {
  checkWriteDocument(body, { type: "flow", id: row.id, attributes: ["status"], readOnly: READ_ONLY });
  const { status } = validate(updateBody, body).data.attributes;
  if (!isStatus(status)) {
    throw new EmulatorProblem(
      invalidBody(
        "/data/attributes/status",
        `'${status}' is not a valid flow status. Valid: ${FLOW_STATUSES.join(", ")}.`,
      ),
    );
  }
  const definition = definitionOf(row);
  for (const action of definition?.actions ?? []) {
    if (typeof action.data.status === "string") action.data.status = status;
  }
  row.attributes = { ...row.attributes, status, updated: isoNow(now) };
  return row;
}
