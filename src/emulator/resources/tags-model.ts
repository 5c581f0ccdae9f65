/**
 * Tags and tag groups as Klaviyo keeps them: every tag belongs to one tag group (the account's default group when
 * the request names none), an account has at most 500 tags, and a tag is linked to lists, segments, campaigns and
 * flows. A tag row holds the ids it is linked to; a linked resource that is later deleted is simply no longer
 * reported (as Klaviyo drops the association with the resource).
 */
import {
  type Included,
  type JsonApiResource,
  type Relationship,
  relationshipLinks,
  resource,
} from "../documents.js";
import { EmulatorProblem, notFound } from "../errors.js";
import type { QueryContext } from "../query.js";
import type { EmulatorState, TagRow } from "../state.js";
import type { ResourceRow, Table } from "../store.js";

/** Klaviyo: "An account cannot have more than 500 unique tags." */
export const MAX_TAGS = 500;
/** Klaviyo: a list (segment, campaign, flow) "cannot be associated with more than 100 tags". */
export const MAX_TAGS_PER_RESOURCE = 100;

/** The resources a tag links to: the relationship name, the resource type, where the emulator keeps them. */
export const TAGGABLE = {
  lists: { type: "list", table: "lists" },
  segments: { type: "segment", table: "segments" },
  campaigns: { type: "campaign", table: "campaigns" },
  flows: { type: "flow", table: "flows" },
} as const;
export type Taggable = keyof typeof TAGGABLE;

const TAG_PATH = "tags";
const GROUP_PATH = "tag-groups";

/**
 * The name of the default tag group. Klaviyo's document says only that every account has one; the emulator's
 * name for it is a plausible reading, not Klaviyo's documented value.
 */
export const DEFAULT_TAG_GROUP_NAME = "Default Tag Group";

function resourceTable(state: EmulatorState, kind: Taggable): Table<ResourceRow> {
  return state[TAGGABLE[kind].table] as unknown as Table<ResourceRow>;
}

/** The account's default tag group, made the first time anything needs it. */
export function defaultTagGroup(state: EmulatorState): ResourceRow {
  for (const group of state.tagGroups.values()) if (group.attributes.default === true) return group;
  return state.tagGroups.insert({
    id: crypto.randomUUID(),
    seq: state.tagGroups.seq(),
    attributes: { name: DEFAULT_TAG_GROUP_NAME, exclusive: false, default: true },
  });
}

export function requireTag(state: EmulatorState, id: string): TagRow {
  const row = state.tags.get(id);
  if (!row) throw notFound(`A tag with id '${id}' does not exist.`);
  return row;
}

export function requireTagGroup(state: EmulatorState, id: string): ResourceRow {
  defaultTagGroup(state);
  const row = state.tagGroups.get(id);
  if (!row) throw notFound(`A tag group with id '${id}' does not exist.`);
  return row;
}

/**
 * Creates a tag in `groupId` (or the default group). A second tag of the same name in the same group is refused
 * with 409 `duplicate`: Klaviyo's document does not say what it answers, and a conflict is the plausible reading of
 * "unique tags"; the 501st tag is refused with 400.
 */
export function insertTag(state: EmulatorState, name: string, groupId: string | undefined): TagRow {
  const group =
    groupId === undefined
      ? defaultTagGroup(state)
      : requireTagGroupAt(state, groupId, "/data/relationships/tag-group/data/id");
  for (const tag of state.tags.values()) {
    if (tag.groupId === group.id && tag.attributes.name === name) {
      throw new EmulatorProblem({
        status: 409,
        code: "duplicate",
        title: "Conflict.",
        detail: `A tag named '${name}' already exists in the tag group '${String(group.attributes.name)}'.`,
        source: { pointer: "/data/attributes/name" },
      });
    }
  }
  if (state.tags.size >= MAX_TAGS) {
    throw new EmulatorProblem({
      status: 400,
      code: "invalid",
      title: "Invalid input.",
      detail: `An account cannot have more than ${MAX_TAGS} unique tags.`,
      source: { pointer: "/data/attributes/name" },
    });
  }
  return state.tags.insert({
    id: crypto.randomUUID(),
    seq: state.tags.seq(),
    attributes: { name },
    groupId: group.id,
    lists: [],
    segments: [],
    campaigns: [],
    flows: [],
  });
}

function requireTagGroupAt(state: EmulatorState, id: string, pointer: string): ResourceRow {
  defaultTagGroup(state);
  const row = state.tagGroups.get(id);
  if (!row) {
    throw new EmulatorProblem({
      status: 404,
      code: "not_found",
      title: "Not found.",
      detail: `A tag group with id '${id}' does not exist.`,
      source: { pointer },
    });
  }
  return row;
}

/** The ids a tag is linked to that still exist, in tagging order. */
export function linkedIds(state: EmulatorState, tag: TagRow, kind: Taggable): string[] {
  const table = resourceTable(state, kind);
  return tag[kind].filter((id) => table.get(id) !== undefined);
}

/** The tags on a resource, in tag creation order. */
export function tagsOn(state: EmulatorState, kind: Taggable, resourceId: string): TagRow[] {
  return [...state.tags.values()].filter((tag) => tag[kind].includes(resourceId));
}

/**
 * Links (or unlinks) a tag and resources, each id checked to exist first (404 pointing at the first that does
 * not; nothing is changed then). Linking twice, or unlinking what is not linked, changes nothing.
 */
export function relinkTag(
  state: EmulatorState,
  tag: TagRow,
  kind: Taggable,
  ids: readonly string[],
  link: boolean,
): void {
  const table = resourceTable(state, kind);
  ids.forEach((id, i) => {
    if (!table.get(id)) {
      throw new EmulatorProblem({
        status: 404,
        code: "not_found",
        title: "Not found.",
        detail: `A ${TAGGABLE[kind].type} with id '${id}' does not exist.`,
        source: { pointer: `/data/${i}/id` },
      });
    }
  });
  if (!link) {
    const gone = new Set(ids);
    tag[kind] = tag[kind].filter((id) => !gone.has(id));
    return;
  }
  ids.forEach((id, i) => {
    if (tag[kind].includes(id)) return;
    if (tagsOn(state, kind, id).length >= MAX_TAGS_PER_RESOURCE) {
      throw new EmulatorProblem({
        status: 400,
        code: "invalid",
        title: "Invalid input.",
        detail: `A ${TAGGABLE[kind].type} cannot be associated with more than ${MAX_TAGS_PER_RESOURCE} tags ('${id}').`,
        source: { pointer: `/data/${i}/id` },
      });
    }
  });
  for (const id of ids) if (!tag[kind].includes(id)) tag[kind].push(id);
}

/** The tag-group resource object. */
export function renderTagGroup(query: QueryContext, group: ResourceRow): JsonApiResource {
  const { name = null, exclusive = false, default: isDefault = false } = group.attributes;
  return resource(
    query,
    "tag-group",
    GROUP_PATH,
    group.id,
    { name, exclusive, default: isDefault },
    { tags: { links: relationshipLinks(query, GROUP_PATH, group.id, "tags") } },
  );
}

/** The tag resource object: its name, its tag group (with `include=tag-group` added to `included`). */
export function renderTag(
  state: EmulatorState,
  query: QueryContext,
  tag: TagRow,
  included?: Included,
): JsonApiResource {
  const link = (relation: string) => relationshipLinks(query, TAG_PATH, tag.id, relation);
  if (included && query.include.has("tag-group")) {
    const group = state.tagGroups.get(tag.groupId);
    if (group) included.add(renderTagGroup(query, group));
  }
  const relationships: Record<string, Relationship> = {
    "tag-group": { data: { type: "tag-group", id: tag.groupId }, links: link("tag-group") },
  };
  for (const kind of Object.keys(TAGGABLE)) relationships[kind] = { links: link(kind) };
  return resource(query, "tag", TAG_PATH, tag.id, { name: tag.attributes.name ?? null }, relationships);
}

/**
 * A resource's `tags` relationship: its links, and with `include=tags` the tags' identifiers as data and the tags
 * themselves in `included` (when the endpoint gives an `included` to fill).
 */
export function tagsRelationship(
  state: EmulatorState,
  kind: Taggable,
  resourceId: string,
  query: QueryContext,
  links: Relationship["links"],
  included?: Included,
  alwaysData = false,
): Relationship {
  const asked = query.include.has("tags");
  if (!asked && !alwaysData) return { links };
  const tags = tagsOn(state, kind, resourceId);
  if (asked && included) for (const tag of tags) included.add(renderTag(state, query, tag));
  return { data: tags.map((tag) => ({ type: "tag", id: tag.id })), links };
}
