/**
 * Flows: Get Flows (page size at most 50; archived flows only with `equals(archived,true)`), Get Flow
 * (`include=flow-actions,tags`, `additional-fields[flow]=definition`) and Update Flow (the status only). Create
 * and Delete Flow are not emulated (501): the demo seed holds flows to work with.
 */
import { readJson } from "../body.js";
import { archivedAsked, collection } from "../collection.js";
import { Included, single } from "../documents.js";
import type { EmulatorContext, RouteRuntime, RouteTable } from "../env.js";
import { notFound } from "../errors.js";
import { readQuery } from "../query.js";
import { flowField, flowResource, updateFlowStatus } from "../resources/flows-model.js";
import type { EmulatorState } from "../state.js";
import type { ResourceRow } from "../store.js";

function findFlow(c: EmulatorContext, state: EmulatorState): ResourceRow {
  const id = c.get("params").id ?? "";
  const row = state.flows.get(id);
  if (!row) throw notFound(`No flow found with id '${id}'.`);
  return row;
}

/** The flow handlers, over `state`. */
export function flowRoutes(state: EmulatorState, runtime: RouteRuntime): RouteTable {
  return {
    get_flows(c) {
      return collection(c, {
        rows: state.flows.values(),
        field: flowField,
        where: (row, filter) => row.attributes.archived !== true || archivedAsked(filter),
        render: (row, query, included) => flowResource(query, row, included),
      });
    },

    get_flow(c) {
      const query = readQuery(c);
      const included = new Included();
      return single(c.req.url, flowResource(query, findFlow(c, state), included), included);
    },

    async update_flow(c) {
      const query = readQuery(c);
      const row = findFlow(c, state);
      updateFlowStatus(row, await readJson(c), runtime.now());
      return single(c.req.url, flowResource(query, row));
    },
  };
}
