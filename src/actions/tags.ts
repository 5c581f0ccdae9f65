import { expandPath } from "../core/url.js";
import { idProblem } from "../klaviyo/identifiers.js";
import { getOperation, OPERATION_PARAMETERS } from "../klaviyo/operations.js";
import { type ActionContext, defineAction } from "./define.js";
import { distinctIdList, type InputDefinition, idSchema, input } from "./inputs.js";
import { listOutput, pagingInputs } from "./list.js";

/** The kinds of resources a tag can be put on, by the Resource Type input's value. */
const RESOURCES = {
  list: { path: "lists", type: "list" },
  segment: { path: "segments", type: "segment" },
  campaign: { path: "campaigns", type: "campaign" },
  flow: { path: "flows", type: "flow" },
} as const;
type ResourceType = keyof typeof RESOURCES;
const RESOURCE_TYPES = Object.keys(RESOURCES) as ResourceType[];

const tagId = () =>
  input.id({
    key: "tagId",
    label: "Tag ID",
    comments:
      "The ID Klaviyo gave the tag, such as abcd1234-ef56-gh78-ij90-abcdef123456 (List Tags and Create Tag return it).",
    example: "abcd1234-ef56-gh78-ij90-abcdef123456",
  });

const TAG_SORTS = OPERATION_PARAMETERS.get_tags?.sort ?? [];

/** `GET /api/tags` (3/s, 60/m; at most 50 per page). */
export const listTags = defineAction({
  key: "list-tags",
  label: "List Tags",
  description:
    "Lists the account's tags (labels put on lists, segments, campaigns and flows to organise them), at most 50 per page (Klaviyo's maximum): one page by default, Page Cursor to continue, Limit to gather several pages. A filter narrows them by name; Sort orders them by name or ID; Include Tag Group adds each tag's group. Limited to 3 requests per second, 60 per minute. Needs the tags:read scope.",
  operation: "get_tags",
  inputs: {
    filter: input.filter(
      {
        key: "filter",
        label: "Filter",
        comments:
          "Only return tags matching this Klaviyo filter. Allowed: name with equals, contains, starts-with or ends-with; strings in single quotes. Example: starts-with(name,'Spring').",
        example: "contains(name,'VIP')",
      },
      "get_tags",
    ),
    sort: input.enum(
      {
        key: "sort",
        label: "Sort",
        comments: `The order of the tags: ${TAG_SORTS.join(", ")} (a leading - for descending). Klaviyo's own order when empty.`,
        example: "name",
      },
      TAG_SORTS,
    ),
    includeTagGroup: input.boolean({
      key: "includeTagGroup",
      label: "Include Tag Group",
      comments:
        "Also return each tag's tag group (its name, whether it is the default group and whether it is exclusive) in the result's included array (Klaviyo's include=tag-group). Off (false) by default.",
      example: "true",
    }),
    ...pagingInputs(50),
  },
  async perform(ctx, { filter, sort, includeTagGroup, pageSize, cursor, limit }) {
    return listOutput(
      ctx,
      { query: { filter, sort, include: includeTagGroup ? "tag-group" : undefined } },
      { pageSize, cursor, limit },
    );
  },
});

/** `POST /api/tags` (3/s, 60/m; at most 500 tags per account). */
export const createTag = defineAction({
  key: "create-tag",
  label: "Create Tag",
  description:
    "Creates a tag, a label to put on lists, segments, campaigns and flows (with Tag Resources), and returns it with its new ID. Every tag belongs to one tag group: the account's default group unless Tag Group ID names another. An account can have at most 500 tags. Limited to 3 requests per second, 60 per minute. Needs the tags:read and tags:write scopes.",
  operation: "create_tag",
  inputs: {
    name: input.nonBlank({
      key: "name",
      label: "Tag Name",
      required: true,
      comments: "The tag's name as Klaviyo shows it, such as Spring sale. Must not be blank.",
      example: "Spring sale",
    }),
    tagGroupId: {
      ...input.text({
        key: "tagGroupId",
        label: "Tag Group ID",
        comments:
          "The ID of the tag group to put the tag in, such as zyxw9876-vu54-ts32-rq10-zyxwvu654321. Leave empty for the account's default tag group.",
        example: "zyxw9876-vu54-ts32-rq10-zyxwvu654321",
      }),
      schema: idSchema,
    },
  },
  async perform({ send }, { name, tagGroupId }) {
    const res = await send({
      body: {
        data: {
          type: "tag",
          attributes: { name },
          ...(tagGroupId !== undefined
            ? { relationships: { "tag-group": { data: { type: "tag-group", id: tagGroupId } } } }
            : {}),
        },
      },
    });
    return res.body;
  },
});

const resourceIdsSchema = distinctIdList({ singular: "ID", plural: "IDs" }, idProblem);

const resourceInputs = (verb: "tag" | "untag") => ({
  tagId: tagId(),
  resourceType: input.enum(
    {
      key: "resourceType",
      label: "Resource Type",
      comments: `What kind of resources to ${verb}: list, segment, campaign or flow. Defaults to list.`,
      default: "list",
      example: "list",
    },
    RESOURCE_TYPES,
  ),
  resourceIds: input.json<string[], true>(
    {
      key: "resourceIds",
      label: "Resource IDs",
      required: true,
      comments: `The IDs of the ${verb === "tag" ? "resources to put the tag on" : "resources to take the tag off"}, all of the Resource Type, as a JSON array or as text separated by commas (list and segment IDs such as Y6nRLr, campaign and flow IDs such as 01GDDKASAP8TKDDA2GRZDSVP4H). An ID given twice is sent once.`,
      example: "Y6nRLr",
    },
    resourceIdsSchema,
    "each item checked as an ID: not blank, no spaces, slashes, ? or #",
  ) as InputDefinition<string[], true>,
});

/**
 * Sends the tag's relationship request for `resourceType`: the action's own operation for lists, the sibling
 * operation (same path shape and body) for the other kinds.
 */
async function relink(
  ctx: Pick<ActionContext, "client" | "signal">,
  prefix: "tag" | "remove_tag_from",
  tag: string,
  resourceType: ResourceType,
  ids: readonly string[],
) {
  const { path, type } = RESOURCES[resourceType];
  const operation = getOperation(`${prefix}_${path}`);
  await ctx.client.request({
    method: operation.method,
    path: expandPath(operation.path, { id: tag }),
    operation,
    body: { data: ids.map((id) => ({ type, id })) },
    // Linking or unlinking twice leaves the same links: safe to retry after a dropped answer.
    idempotent: true,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  return { tagId: tag, resourceType, resourceIds: [...ids] };
}

/** `POST /api/tags/{id}/relationships/{lists|segments|campaigns|flows}` (3/s, 60/m; 204). */
export const tagResources = defineAction({
  key: "tag-resources",
  label: "Tag Resources",
  description:
    "Puts a tag, found by its ID, on lists, segments, campaigns or flows (one kind per call, by Resource Type). A resource that already has the tag keeps it; a resource can carry at most 100 tags. Fails with a NotFoundError when the tag or one of the resources does not exist, and then nothing is tagged. Returns { tagId, resourceType, resourceIds }. Limited to 3 requests per second, 60 per minute. Needs the tags:write scope and the resource's write scope (lists:write, segments:write, campaigns:write or flows:write).",
  operation: "tag_lists",
  alsoCalls: ["tag_segments", "tag_campaigns", "tag_flows"],
  inputs: resourceInputs("tag"),
  async perform(ctx, { tagId, resourceType, resourceIds }) {
    return {
      tagged: true as const,
      ...(await relink(ctx, "tag", tagId, resourceType ?? "list", resourceIds)),
    };
  },
});

/** `DELETE /api/tags/{id}/relationships/{lists|segments|campaigns|flows}` (3/s, 60/m; 204). */
export const untagResources = defineAction({
  key: "untag-resources",
  label: "Untag Resources",
  description:
    "Takes a tag, found by its ID, off lists, segments, campaigns or flows (one kind per call, by Resource Type). The tag itself and the resources stay; a resource that does not have the tag is left as it is. Fails with a NotFoundError when the tag or one of the resources does not exist. Returns { tagId, resourceType, resourceIds }. Limited to 3 requests per second, 60 per minute. Needs the tags:write scope and the resource's write scope (lists:write, segments:write, campaigns:write or flows:write).",
  operation: "remove_tag_from_lists",
  alsoCalls: ["remove_tag_from_segments", "remove_tag_from_campaigns", "remove_tag_from_flows"],
  inputs: resourceInputs("untag"),
  async perform(ctx, { tagId, resourceType, resourceIds }) {
    return {
      untagged: true as const,
      ...(await relink(ctx, "remove_tag_from", tagId, resourceType ?? "list", resourceIds)),
    };
  },
});
