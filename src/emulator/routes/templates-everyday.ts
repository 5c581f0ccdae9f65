/** Render Template and Clone Template (201 each, the template as `PostTemplateResponse` has it). */
import { readJson } from "../body.js";
import { resource, single } from "../documents.js";
import type { RouteRuntime, RouteTable } from "../env.js";
import { readQuery } from "../query.js";
import { cloneTemplate, renderTemplate } from "../resources/templates-everyday.js";
import { templateAttributes } from "../resources/templates-model.js";
import type { EmulatorState } from "../state.js";

/** The render and clone handlers, over `state`. */
export function templateEverydayRoutes(state: EmulatorState, runtime: RouteRuntime): RouteTable {
  return {
    async render_template(c) {
      const query = readQuery(c);
      const row = renderTemplate(state, await readJson(c));
      return single(
        c.req.url,
        resource(query, "template", "templates", row.id, row.attributes),
        undefined,
        201,
      );
    },

    async clone_template(c) {
      const query = readQuery(c);
      const row = cloneTemplate(state, await readJson(c), runtime.now());
      const data = resource(query, "template", "templates", row.id, templateAttributes(row, false));
      return single(c.req.url, data, undefined, 201);
    },
  };
}
