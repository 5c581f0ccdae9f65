/**
 * Templates: Create, Get, List (page size at most 10), Update and Delete Template. A SYSTEM_DRAGGABLE template's
 * `definition` is only sent when `additional-fields[template]=definition` asks for it, as Klaviyo does.
 */
import { readJson } from "../body.js";
import { collection } from "../collection.js";
import { empty, type JsonApiResource, resource, single } from "../documents.js";
import type { EmulatorContext, RouteRuntime, RouteTable } from "../env.js";
import { notFound } from "../errors.js";
import { type QueryContext, readQuery } from "../query.js";
import { createTemplate, templateAttributes, updateTemplate } from "../resources/templates-model.js";
import type { EmulatorState } from "../state.js";
import type { ResourceRow } from "../store.js";

function render(row: ResourceRow, query: QueryContext): JsonApiResource {
  const withDefinition = query.additional.get("template")?.has("definition") ?? false;
  return resource(query, "template", "templates", row.id, templateAttributes(row, withDefinition));
}

function findTemplate(c: EmulatorContext, state: EmulatorState): ResourceRow {
  const id = c.get("params").id ?? "";
  const row = state.templates.get(id);
  if (!row) throw notFound(`No template found with id '${id}'.`);
  return row;
}

/** The template handlers, over `state`. */
export function templateRoutes(state: EmulatorState, runtime: RouteRuntime): RouteTable {
  return {
    async create_template(c) {
      const query = readQuery(c);
      const row = createTemplate(state, await readJson(c), runtime.now());
      return single(c.req.url, render(row, query), undefined, 201);
    },

    get_template(c) {
      const query = readQuery(c);
      return single(c.req.url, render(findTemplate(c, state), query));
    },

    get_templates(c) {
      return collection(c, {
        rows: state.templates.values(),
        field: (row, name) => (name === "id" ? row.id : row.attributes[name]),
        render: (row, query) => render(row, query),
      });
    },

    async update_template(c) {
      const query = readQuery(c);
      const row = findTemplate(c, state);
      updateTemplate(row, await readJson(c), runtime.now());
      return single(c.req.url, render(row, query));
    },

    delete_template(c) {
      state.templates.delete(findTemplate(c, state).id);
      return empty(204);
    },
  };
}
