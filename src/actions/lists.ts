import { FIELDSETS, OPERATION_PARAMETERS } from "../klaviyo/operations.js";
import { defineAction } from "./define.js";
import { type InputDefinition, input } from "./inputs.js";
import { listOutput, pagingInputs } from "./list.js";
import { additionalProfileFieldsInput, listParam, profileFieldsInput, sortInput } from "./profiles-inputs.js";

const OPT_IN_PROCESSES = ["single_opt_in", "double_opt_in"] as const;

const listId = () =>
  input.id({
    key: "listId",
    label: "List ID",
    comments:
      "The ID Klaviyo gave the list: six characters such as Y6nRLr (List Lists returns them; in Klaviyo it is the last part of the list's page address).",
    example: "Y6nRLr",
  });

/** List Name: text that is not blank (Klaviyo refuses a blank name), defaulting to the specification's `Newsletter`. */
const listName = (comments: string): InputDefinition<string, false> =>
  input.nonBlank({
    key: "listName",
    label: "List Name",
    comments,
    default: "Newsletter",
    example: "VIP customers",
  });

const optInProcess = (comments: string) =>
  input.enum(
    { key: "optInProcess", label: "Opt-in Process", comments, example: "double_opt_in" },
    OPT_IN_PROCESSES,
  );

const listFields = (withProfileCount: boolean) =>
  input.fields(
    {
      key: "fields",
      label: "Fields",
      comments: `The list fields to return (Klaviyo's sparse fieldset fields[list]), as a list or comma-separated text: ${(
        FIELDSETS.list ?? []
      )
        .filter((f) => withProfileCount || f !== "profile_count")
        .join(", ")}. Leave empty for every field.`,
      example: "name,created",
    },
    (FIELDSETS.list ?? []).filter((f) => withProfileCount || f !== "profile_count"),
  );

const listInclude = () =>
  input.fields(
    {
      key: "include",
      label: "Include",
      comments:
        "Related resources to return in the response's included array, as a list or comma-separated text: tags (the list's tags) and flow-triggers (the flows this list starts).",
      example: "tags",
    },
    OPERATION_PARAMETERS.get_lists?.include ?? [],
  );

/** `POST /api/lists` (10/s, 150/m, 150 per day). */
export const createList = defineAction({
  key: "create-list",
  label: "Create List",
  description:
    "Creates a new, empty list (a static group of profiles that people join by subscribing or being added) and returns it with its new ID. Klaviyo allows names to repeat, so running it twice makes two lists. Limited to 10 requests per second, 150 per minute and 150 lists per day per account.",
  operation: "create_list",
  inputs: {
    listName: listName(
      "The name to show for the list in Klaviyo, such as VIP customers. Names need not be unique. Defaults to Newsletter.",
    ),
    optInProcess: optInProcess(
      "How people join through sign-up forms and Subscribe Profiles: single_opt_in (at once) or double_opt_in (after confirming by email). Leave empty for the account's default.",
    ),
  },
  async perform({ send }, { listName, optInProcess }) {
    const res = await send({
      body: {
        data: {
          type: "list",
          attributes: {
            name: listName,
            ...(optInProcess !== undefined ? { opt_in_process: optInProcess } : {}),
          },
        },
      },
    });
    return res.body;
  },
});

/** `GET /api/lists/{id}` (75/s, 750/m; 1/s, 15/m with profile_count). */
export const getList = defineAction({
  key: "get-list",
  label: "Get List",
  description:
    "Fetches one list by its ID: name, opt-in process, creation and update times, and on request how many profiles it holds (Include Profile Count) and its tags or flow triggers. Fails with a NotFoundError when no list has that ID. Limited to 75 requests per second, 750 per minute; counting profiles lowers that to 1 per second, 15 per minute.",
  operation: "get_list",
  inputs: {
    listId: listId(),
    fields: listFields(true),
    includeProfileCount: input.boolean({
      key: "includeProfileCount",
      label: "Include Profile Count",
      comments:
        "Also return profile_count, the number of profiles in the list (Klaviyo's additional-fields[list]=profile_count). Klaviyo then allows only 1 such request per second, 15 per minute, so leave it off in loops.",
      example: "true",
    }),
    include: listInclude(),
  },
  async perform({ send }, { listId, fields, includeProfileCount, include }) {
    const res = await send({
      path: { id: listId },
      query: {
        "fields[list]": listParam(fields),
        "additional-fields[list]": includeProfileCount ? "profile_count" : undefined,
        include: listParam(include),
      },
    });
    return res.body;
  },
});

/** `GET /api/lists` (75/s, 750/m; at most 10 per page). */
export const listLists = defineAction({
  key: "list-lists",
  label: "List Lists",
  description:
    "Lists the lists of the account, at most 10 per page (Klaviyo's maximum): one page by default, Page Cursor to continue, Limit to gather several pages. A filter narrows them by name, ID or creation/update time; Sort orders them. The number of profiles is not available here (use Get List with Include Profile Count). Limited to 75 requests per second, 750 per minute.",
  operation: "get_lists",
  inputs: {
    fields: listFields(false),
    filter: input.filter(
      {
        key: "filter",
        label: "Filter",
        comments:
          "A Klaviyo filter expression. Fields: name (equals or any, always with a list of names in brackets), id (equals one ID, or equals/any with a list), created and updated (greater-than, dates unquoted). Examples: equals(name,['Newsletter']); any(id,['Y6nRLr','Xa1b2C']); greater-than(created,2026-01-01T00:00:00Z).",
        example: "equals(name,['Newsletter'])",
      },
      "get_lists",
    ),
    sort: sortInput("get_lists", "lists"),
    include: listInclude(),
    ...pagingInputs(10),
  },
  async perform(ctx, { fields, filter, sort, include, pageSize, cursor, limit }) {
    return listOutput(
      ctx,
      {
        query: { "fields[list]": listParam(fields), filter, sort, include: listParam(include) },
      },
      { pageSize, cursor, limit },
    );
  },
});

/** `PATCH /api/lists/{id}` (10/s, 150/m). */
export const updateList = defineAction({
  key: "update-list",
  label: "Update List",
  description:
    "Renames a list, found by its ID, and returns it as updated; its members are untouched. List Name is always sent and defaults to Newsletter, so give the name you want. Opt-in Process can be changed at the same time. Limited to 10 requests per second, 150 per minute.",
  operation: "update_list",
  inputs: {
    listId: listId(),
    listName: listName(
      "The list's new name, such as VIP customers. Defaults to Newsletter: leaving it empty renames the list Newsletter.",
    ),
    optInProcess: optInProcess(
      "Change how people join the list: single_opt_in (at once) or double_opt_in (after confirming by email). Leave empty to keep it.",
    ),
  },
  async perform({ send }, { listId, listName, optInProcess }) {
    const res = await send({
      path: { id: listId },
      body: {
        data: {
          type: "list",
          id: listId,
          attributes: {
            name: listName,
            ...(optInProcess !== undefined ? { opt_in_process: optInProcess } : {}),
          },
        },
      },
    });
    return res.body;
  },
});

/** `DELETE /api/lists/{id}` (10/s, 150/m; 204). */
export const deleteList = defineAction({
  key: "delete-list",
  label: "Delete List",
  description:
    "Deletes a list, found by its ID, for good. Its profiles are not deleted and keep their consent; they only stop being members. Returns { deleted: true, id }. Fails with a NotFoundError when no list has that ID (for example when it was already deleted). Limited to 10 requests per second, 150 per minute.",
  operation: "delete_list",
  inputs: { listId: listId() },
  async perform({ send }, { listId }) {
    await send({
      path: { id: listId },
    });
    return { deleted: true as const, id: listId };
  },
});

/** `GET /api/lists/{id}/profiles` (75/s, 750/m; at most 100 per page). */
export const listListProfiles = defineAction({
  key: "list-list-profiles",
  label: "List List Profiles",
  description:
    "Lists the profiles that are members of a list, found by its ID, at most 100 per page: one page by default, Page Cursor to continue, Limit to gather several pages. Each profile can carry joined_group_at (when it joined); a filter picks members by email, phone number or joining time, and Sort orders them by joining time. Additional Profile Fields adds consent state or predictive analytics. Limited to 75 requests per second, 750 per minute (10 per second with predictive_analytics).",
  operation: "get_profiles_for_list",
  inputs: {
    listId: listId(),
    additionalFields: additionalProfileFieldsInput("get_profiles_for_list"),
    fields: profileFieldsInput(true),
    filter: input.filter(
      {
        key: "filter",
        label: "Filter",
        comments:
          "A Klaviyo filter expression. Fields: email, phone_number, push_token (equals or any, with a list of values), _kx (equals), joined_group_at (greater-than, greater-or-equal, less-than, less-or-equal; dates unquoted). Examples: any(email,['a@example.com','b@example.com']); greater-or-equal(joined_group_at,2026-01-01T00:00:00Z).",
        example: "greater-or-equal(joined_group_at,2026-01-01T00:00:00Z)",
      },
      "get_profiles_for_list",
    ),
    sort: sortInput("get_profiles_for_list", "members"),
    ...pagingInputs(100),
  },
  async perform(ctx, { listId, additionalFields, fields, filter, sort, pageSize, cursor, limit }) {
    return listOutput(
      ctx,
      {
        path: { id: listId },
        query: {
          "fields[profile]": listParam(fields),
          "additional-fields[profile]": listParam(additionalFields),
          filter,
          sort,
        },
      },
      { pageSize, cursor, limit },
    );
  },
});
