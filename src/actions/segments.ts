import { type InputIssue, InputValidationError } from "../core/errors.js";
import { FIELDSETS, OPERATION_PARAMETERS } from "../klaviyo/operations.js";
import { defineAction } from "./define.js";
import { input } from "./inputs.js";
import { listOutput, pagingInputs } from "./list.js";
import { conditionGroupsInput } from "./segments-definition.js";

/** `profile_count` is only a field of Get Segment (with `additional-fields[segment]=profile_count`). */
const SEGMENT_FIELDS = (FIELDSETS.segment ?? []).filter((f) => f !== "profile_count");
const GET_SEGMENT_FIELDS = FIELDSETS.segment ?? [];

const segmentFields = (allowed: readonly string[] = SEGMENT_FIELDS) =>
  input.fields(
    {
      key: "fields",
      label: "Fields",
      comments: `The segment attributes to return (Klaviyo's sparse fieldset fields[segment]), as a list or comma-separated text: ${allowed.join(", ")}. Leave empty for all of them.`,
      example: "name,is_active,updated",
    },
    allowed,
  );

const segmentId = () =>
  input.id({
    key: "segmentId",
    label: "Segment ID",
    comments:
      "The segment's ID, as Klaviyo generated it (List Segments shows it, and so does the segment's page address in Klaviyo), e.g. Y6nRLr.",
    example: "Y6nRLr",
  });

const segmentName = <R extends boolean>(required: R, comments: string) =>
  input.nonBlank<R>({
    key: "name",
    label: "Segment Name",
    required,
    comments,
    example: "US customers",
  });

const fieldsQuery = (fields: string[] | undefined) => ({
  "fields[segment]": fields?.length ? fields : undefined,
});

/** `POST /api/segments` (1/s, 15/m, 100/day). */
export const createSegment = defineAction({
  key: "create-segment",
  label: "Create Segment",
  description:
    "Creates a new segment: a named, continuously updated group of profiles defined by conditions (membership of lists or other segments, profile properties, metric activity, consent, location, predictions). Klaviyo answers with the new segment (201), active and possibly still processing its members. Creating and updating segments share a tight limit: 1 request per second, 15 per minute and 100 per day.",
  operation: "create_segment",
  inputs: {
    name: segmentName(
      true,
      "The name the segment shows under in Klaviyo; it does not have to be unique, but must not be blank.",
    ),
    conditionGroups: conditionGroupsInput(true),
    isStarred: input.boolean({
      key: "isStarred",
      label: "Is Starred Segment",
      comments:
        "Whether to mark the segment as starred (a favourite, easy to find among Klaviyo's Lists & Segments). Off (false) unless turned on.",
      default: false,
    }),
    fields: segmentFields(),
  },
  async perform({ send }, { name, conditionGroups, isStarred, fields }) {
    const res = await send({
      query: fieldsQuery(fields),
      body: {
        data: {
          type: "segment",
          attributes: {
            name,
            definition: { condition_groups: conditionGroups },
            ...(isStarred !== undefined ? { is_starred: isStarred } : {}),
          },
        },
      },
    });
    return res.body;
  },
});

/** `GET /api/segments/{id}` (75/s, 750/m; 1/s, 15/m with the profile count). */
export const getSegment = defineAction({
  key: "get-segment",
  label: "Get Segment",
  description:
    "Fetches one segment by its ID: its name, its definition (condition groups), whether it is active, starred or still processing, and when it was created and last updated. Optionally adds how many profiles are in it, which Klaviyo only allows at 1 request per second, 15 per minute (otherwise 75/s, 750/m). An unknown ID fails with 404.",
  operation: "get_segment",
  inputs: {
    segmentId: segmentId(),
    fields: segmentFields(GET_SEGMENT_FIELDS),
    includeProfileCount: input.boolean({
      key: "includeProfileCount",
      label: "Include Profile Count",
      comments:
        "Also return the number of profiles currently in the segment (attributes.profile_count; Klaviyo's additional-fields[segment]=profile_count). Asking for it lowers this call's rate limit to 1 per second, 15 per minute. Off (false) by default.",
      default: false,
    }),
  },
  async perform({ send }, { segmentId, fields, includeProfileCount }) {
    const res = await send({
      path: { id: segmentId },
      query: {
        ...fieldsQuery(fields),
        "additional-fields[segment]": includeProfileCount ? "profile_count" : undefined,
      },
    });
    return res.body;
  },
});

const SEGMENT_SORTS = OPERATION_PARAMETERS.get_segments?.sort ?? [];

/** `GET /api/segments` (75/s, 750/m; at most 10 per page). */
export const listSegments = defineAction({
  key: "list-segments",
  label: "List Segments",
  description:
    "Lists the account's segments with their names, definitions and flags. Klaviyo returns at most 10 segments per page: by default one page is returned with a nextCursor to continue from; set Limit to gather several pages at once. Can be narrowed with a filter (by name, id, active or starred state, creation or update time) and sorted. 75 requests per second, 750 per minute.",
  operation: "get_segments",
  inputs: {
    fields: segmentFields(),
    filter: input.filter(
      {
        key: "filter",
        label: "Filter",
        comments:
          "Only return segments matching this Klaviyo filter. Allowed: name and id with equals or any (a list in brackets), is_active with equals or any, is_starred with equals, created and updated with greater-than (unquoted ISO 8601 times); combine with and(...). Strings take single quotes.",
        example: "equals(is_starred,true)",
      },
      "get_segments",
    ),
    sort: input.enum(
      {
        key: "sort",
        label: "Sort",
        comments: `The order of the segments: ${SEGMENT_SORTS.join(", ")} (a leading - for descending). Klaviyo's own order when empty.`,
        example: "-updated",
      },
      SEGMENT_SORTS,
    ),
    ...pagingInputs(10),
  },
  async perform(ctx, { fields, filter, sort, pageSize, cursor, limit }) {
    return listOutput(
      ctx,
      {
        query: { ...fieldsQuery(fields), filter, sort },
      },
      { pageSize, cursor, limit },
    );
  },
});

/** `PATCH /api/segments/{id}` (1/s, 15/m, 100/day). */
export const updateSegment = defineAction({
  key: "update-segment",
  label: "Update Segment",
  description:
    "Changes a segment: its name, its conditions (the new condition groups replace the whole definition), whether it is starred, or whether it is active. Only the inputs given are sent; the rest stay as they are. Deactivating (Is Active false) affects every campaign, flow, form and sync that uses the segment, and Klaviyo requires it to be the only change in its request, so it is refused here together with other inputs. Shares Create Segment's tight limit: 1 request per second, 15 per minute and 100 per day.",
  operation: "update_segment",
  inputs: {
    segmentId: segmentId(),
    name: segmentName(false, "A new name for the segment; leave empty to keep the current one."),
    conditionGroups: conditionGroupsInput(false),
    isStarred: input.boolean({
      key: "isStarred",
      label: "Is Starred Segment",
      comments:
        "true to star the segment (mark it as a favourite in Lists & Segments), false to unstar it; leave empty to leave it as it is.",
      example: "true",
    }),
    isActive: input.boolean({
      key: "isActive",
      label: "Is Active",
      comments:
        "false deactivates the segment, which affects the campaigns, flows, forms, ad syncs and help-desk routing that use it, and must then be the only change given; true reactivates a deactivated segment. Leave empty to leave it as it is.",
    }),
    fields: segmentFields(),
  },
  async perform({ send }, { segmentId, name, conditionGroups, isStarred, isActive, fields }) {
    const attributes: Record<string, unknown> = {};
    if (name !== undefined) attributes.name = name;
    if (conditionGroups !== undefined) attributes.definition = { condition_groups: conditionGroups };
    if (isStarred !== undefined) attributes.is_starred = isStarred;
    const issues: InputIssue[] = [];
    if (isActive === false && Object.keys(attributes).length > 0) {
      issues.push({
        label: "Is Active",
        key: "isActive",
        message:
          "false (deactivating) must be the only change: Klaviyo refuses it together with Segment Name, Segment Condition Groups or Is Starred Segment; deactivate in a call of its own",
      });
    }
    const self = (conditionGroups ?? []).some((group) =>
      group.conditions.some(
        (c) => Array.isArray(c.group_ids) && c.group_ids.some((id) => String(id).trim() === segmentId),
      ),
    );
    if (self) {
      issues.push({
        label: "Segment Condition Groups",
        key: "conditionGroups",
        message: `names the segment itself (${segmentId}) in group_ids: a segment cannot be defined by its own membership`,
      });
    }
    if (isActive !== undefined) attributes.is_active = isActive;
    if (Object.keys(attributes).length === 0) {
      issues.push({
        label: "",
        key: "",
        message:
          "nothing to change: give at least one of Segment Name, Segment Condition Groups, Is Starred Segment or Is Active",
      });
    }
    if (issues.length > 0) throw new InputValidationError(issues, "Update Segment");
    const res = await send({
      path: { id: segmentId },
      query: fieldsQuery(fields),
      body: { data: { type: "segment", id: segmentId, attributes } },
    });
    return res.body;
  },
});

/** `DELETE /api/segments/{id}` (3/s, 60/m). */
export const deleteSegment = defineAction({
  key: "delete-segment",
  label: "Delete Segment",
  description:
    "Deletes a segment by its ID, for good (the profiles in it are not touched). Klaviyo answers 204 with no body; the result is { deleted: true, id }. An unknown ID fails with 404. Limited to 3 requests per second, 60 per minute.",
  operation: "delete_segment",
  inputs: { segmentId: segmentId() },
  async perform({ send }, { segmentId }) {
    await send({
      path: { id: segmentId },
    });
    return { deleted: true as const, id: segmentId };
  },
});

/** The segments actions. */
