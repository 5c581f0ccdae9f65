/**
 * Lists as Klaviyo returns them: `name`, `created`, `updated`, `opt_in_process` (plus `profile_count` when
 * `additional-fields[list]` asks), with `profiles`, `tags` and `flow-triggers` relationship links.
 */
import {
  type Included,
  type JsonApiResource,
  type Relationship,
  relationshipLinks,
  resource,
} from "../documents.js";
import { notFound } from "../errors.js";
import type { QueryContext } from "../query.js";
import type { EmulatorState } from "../state.js";
import { isoNow, type ResourceRow, shortId } from "../store.js";
import { memberCount } from "./lists-members.js";
import { tagsRelationship } from "./tags-model.js";

export const OPT_IN_PROCESSES = ["single_opt_in", "double_opt_in"] as const;
export type OptInProcess = (typeof OPT_IN_PROCESSES)[number];

/** What a new list gets when the request names no opt-in process (the account default of a new account). */
export const DEFAULT_OPT_IN: OptInProcess = "single_opt_in";

/** The relationships a list resource links to. */
const LIST_RELATIONSHIPS = ["profiles", "tags", "flow-triggers"] as const;

/** Creates a list row. */
export function insertList(
  state: EmulatorState,
  name: string,
  optIn: OptInProcess = DEFAULT_OPT_IN,
  now = Date.now(),
): ResourceRow {
  const stamp = isoNow(now);
  const row = state.lists.insert({
    id: shortId(),
    seq: state.lists.seq(),
    attributes: { name, created: stamp, updated: stamp, opt_in_process: optIn },
  });
  state.memberships.set(row.id, new Map());
  return row;
}

/** The list with this id, or 404 naming it. */
export function requireList(state: EmulatorState, id: string): ResourceRow {
  const row = state.lists.get(id);
  if (!row) throw notFound(`A list with id '${id}' does not exist.`);
  return row;
}

/** The list's attributes in wire order, `profile_count` added when asked for. */
export function listAttributes(
  state: EmulatorState,
  row: ResourceRow,
  withCount = false,
): Record<string, unknown> {
  const { name = null, created = null, updated = null, opt_in_process = null } = row.attributes;
  return {
    name,
    created,
    updated,
    opt_in_process,
    ...(withCount ? { profile_count: memberCount(state, row.id) } : {}),
  };
}

/**
 * A list resource object. `included` is given on the endpoints that can include `tags` / `flow-triggers`: tags
 * are kept (their identifiers as data, the tags in `included`); flows do not trigger from lists here, so an
 * included `flow-triggers` has empty data.
 */
export function listResource(
  state: EmulatorState,
  query: QueryContext,
  row: ResourceRow,
  included?: Included,
): JsonApiResource {
  const relationships: Record<string, Relationship> = {};
  for (const name of LIST_RELATIONSHIPS) {
    if (name === "tags") {
      const links = relationshipLinks(query, "lists", row.id, name);
      relationships[name] = included
        ? tagsRelationship(state, "lists", row.id, query, links, included)
        : { links };
      continue;
    }
    relationships[name] = {
      ...(included && query.include.has(name) ? { data: [] } : {}),
      links: relationshipLinks(query, "lists", row.id, name),
    };
  }
  const withCount = query.additional.get("list")?.has("profile_count") ?? false;
  return resource(query, "list", "lists", row.id, listAttributes(state, row, withCount), relationships);
}
