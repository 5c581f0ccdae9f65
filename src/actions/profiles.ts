import { InputValidationError } from "../core/errors.js";
import { OPERATION_PARAMETERS } from "../klaviyo/operations.js";
import { defineAction } from "./define.js";
import { type InputDefinition, input } from "./inputs.js";
import { listOutput, pagingInputs } from "./list.js";
import {
  additionalProfileFieldsInput,
  listParam,
  nameListInput,
  PROFILE_ATTRIBUTE_NAMES,
  type ProfileAttributeKey,
  profileAttributeInputs,
  profileAttributes,
  profileFieldsInput,
  sortInput,
} from "./profiles-inputs.js";

const CLEARABLE = Object.values(PROFILE_ATTRIBUTE_NAMES);

/** Create and Update Profile: "The maximum allowed payload size is 100KB" (read as the smaller 100,000 bytes). */
const PROFILE_PAYLOAD_BYTES = 100_000;

/** Refuses a profile request body over Klaviyo's 100 KB, naming the input that weighs the most in it. */
function checkPayloadSize(
  body: unknown,
  values: Readonly<Record<string, unknown>>,
  inputs: Readonly<Record<string, InputDefinition>>,
  action: string,
): void {
  const size = Buffer.byteLength(JSON.stringify(body));
  if (size <= PROFILE_PAYLOAD_BYTES) return;
  let heaviest: { def: InputDefinition; bytes: number } | undefined;
  for (const [key, value] of Object.entries(values)) {
    const def = inputs[key];
    if (value === undefined || !def) continue;
    const bytes = Buffer.byteLength(JSON.stringify(value) ?? "");
    if (!heaviest || bytes > heaviest.bytes) heaviest = { def, bytes };
  }
  const issue = heaviest ? { label: heaviest.def.label, key: heaviest.def.key } : { label: "", key: "" };
  throw new InputValidationError(
    [
      {
        ...issue,
        message: `makes the request ${size} bytes, over Klaviyo's limit of 100 KB for a profile${heaviest ? ` (${heaviest.bytes} bytes of it are this input)` : ""}`,
      },
    ],
    action,
  );
}

/** `POST /api/profiles` (75/s, 750/m). */
export const createProfile = defineAction({
  key: "create-profile",
  label: "Create Profile",
  description:
    "Creates a new profile (a person) in Klaviyo from the attributes given, and returns it as Klaviyo stored it, with its new ID. At least one identifier is needed: an email address, a phone number (E.164) or an external ID; this is checked before sending. If another profile already holds one of those identifiers, Klaviyo answers 409 and the action fails with a ConflictError whose duplicateProfileId names that profile (update it with Update Profile instead). Only the inputs given are sent. Limited to 75 requests per second, 750 per minute.",
  operation: "create_profile",
  inputs: profileAttributeInputs(),
  async perform({ send }, values) {
    if (values.email === undefined && values.phoneNumber === undefined && values.externalId === undefined) {
      throw new InputValidationError(
        [
          {
            label: "Individual's email address",
            key: "email",
            message:
              "is required unless Phone Number or External ID is given: Klaviyo needs at least one of Individual's email address, Phone Number and External ID to create a profile",
          },
        ],
        "Create Profile",
      );
    }
    const body = { data: { type: "profile", attributes: profileAttributes(values) } };
    checkPayloadSize(body, values, createProfile.inputs, "Create Profile");
    const res = await send({
      body,
    });
    return res.body;
  },
});

const profileId = () =>
  input.id({
    key: "profileId",
    label: "Profile ID",
    comments:
      "The ID Klaviyo gave the profile (26 characters, such as 01GDDKASAP8TKDDA2GRZDSVP4H): Create Profile and List Profile return it.",
    example: "01GDDKASAP8TKDDA2GRZDSVP4H",
  });

/** `GET /api/profiles/{id}` (75/s, 750/m; 1/s, 15/m when including lists or segments). */
export const getProfile = defineAction({
  key: "get-profile",
  label: "Get Profile",
  description:
    "Fetches one profile by its ID: identifiers, name, location, custom properties and timestamps; on request also its consent state per channel (Additional Profile Fields: subscriptions), predictive analytics, and the lists, segments, conversations or push tokens it belongs to (Include). Fails with a NotFoundError when no profile has that ID. Limited to 75 requests per second, 750 per minute; including lists or segments lowers that to 1 per second, 15 per minute.",
  operation: "get_profile",
  inputs: {
    profileId: profileId(),
    fields: profileFieldsInput(),
    additionalFields: additionalProfileFieldsInput("get_profile"),
    include: input.fields(
      {
        key: "include",
        label: "Include",
        comments:
          "Related resources to return in the response's included array, as a list or comma-separated text: lists, segments (the ones the profile belongs to), conversations, push-tokens. Including lists or segments lowers the rate limit to 1 request per second, 15 per minute.",
        example: "lists,segments",
      },
      OPERATION_PARAMETERS.get_profile?.include ?? [],
    ),
  },
  async perform({ send }, { profileId, fields, additionalFields, include }) {
    const res = await send({
      path: { id: profileId },
      query: {
        "fields[profile]": listParam(fields),
        "additional-fields[profile]": listParam(additionalFields),
        include: listParam(include),
      },
    });
    return res.body;
  },
});

/** `PATCH /api/profiles/{id}` (75/s, 750/m). */
export const updateProfile = defineAction({
  key: "update-profile",
  label: "Update Profile",
  description:
    "Changes a profile, found by its ID, and returns it as updated. Only the attributes given are sent; the others keep their values. Location and Properties are merged into what the profile has, member by member (a member set to null inside them clears that member). To empty an attribute, name it in Clear Fields (Klaviyo receives null for it); to delete custom properties, name them in Unset Properties. A new email, phone number or external ID that another profile already holds is refused by Klaviyo with a 409 ConflictError naming that profile. Limited to 75 requests per second, 750 per minute.",
  operation: "update_profile",
  inputs: {
    profileId: profileId(),
    ...profileAttributeInputs(),
    clearFields: input.fields(
      {
        key: "clearFields",
        label: "Clear Fields",
        comments: `Attributes to empty (sent to Klaviyo as null), as a list or comma-separated text: ${CLEARABLE.join(", ")}. Clearing location removes the whole address, clearing properties every custom property. A profile must keep at least one identifier (email, phone_number or external_id). An attribute cannot be both given and cleared.`,
        example: "title,organization",
      },
      CLEARABLE,
    ),
    unsetProperties: nameListInput({
      key: "unsetProperties",
      label: "Unset Properties",
      comments:
        "Names of custom properties to delete from the profile, as a list or comma-separated text (Klaviyo's meta.patch_properties.unset). The other custom properties are kept.",
      example: "old_plan,legacy_id",
    }),
  },
  async perform({ send }, values) {
    const { profileId, clearFields, unsetProperties } = values;
    const attributes = profileAttributes(values);
    const both = (clearFields ?? []).filter((name) => attributes[name] !== undefined);
    if (both.length > 0) {
      const labels = Object.fromEntries(
        Object.entries(PROFILE_ATTRIBUTE_NAMES).map(([key, name]) => [name, key as ProfileAttributeKey]),
      );
      const inputs = updateProfile.inputs;
      throw new InputValidationError(
        both.map((name) => {
          const key = labels[name] as ProfileAttributeKey;
          return {
            label: "Clear Fields",
            key: "clearFields",
            message: `names ${name}, which ${inputs[key].label} also sets: give a value or clear it, not both`,
          };
        }),
        "Update Profile",
      );
    }
    for (const name of clearFields ?? []) attributes[name] = null;
    const body = {
      data: {
        type: "profile",
        id: profileId,
        attributes,
        ...(unsetProperties?.length ? { meta: { patch_properties: { unset: unsetProperties } } } : {}),
      },
    };
    checkPayloadSize(body, values, updateProfile.inputs, "Update Profile");
    const res = await send({
      path: { id: profileId },
      body,
    });
    return res.body;
  },
});

/** `GET /api/profiles` (75/s, 750/m; at most 100 per page). */
export const listProfile = defineAction({
  key: "list-profile",
  label: "List Profile",
  description:
    "Lists the profiles of the account, at most 100 per page (one page by default; Page Cursor continues, Limit gathers several pages). A filter narrows the list, for example to one email address or to profiles created after a date, and Sort orders it. Each profile carries its identifiers, name, location and custom properties; Additional Profile Fields adds consent state or predictive analytics. Limited to 75 requests per second, 750 per minute (10 per second with predictive_analytics).",
  operation: "get_profiles",
  inputs: {
    fields: profileFieldsInput(),
    additionalFields: additionalProfileFieldsInput("get_profiles"),
    filter: input.filter(
      {
        key: "filter",
        label: "Filter",
        comments:
          "A Klaviyo filter expression. Fields: id, email, phone_number, external_id (equals, or any with a list), _kx (equals), created and updated (greater-than, less-than; dates unquoted), and the email suppression fields under subscriptions.email.marketing. Combine conditions with and(…). Examples: equals(email,'sarah@example.com'); any(email,['a@example.com','b@example.com']); greater-than(created,2026-01-01T00:00:00Z).",
        example: "equals(email,'sarah.mason@example.com')",
      },
      "get_profiles",
    ),
    sort: sortInput("get_profiles", "profiles"),
    ...pagingInputs(100),
  },
  async perform(ctx, { fields, additionalFields, filter, sort, pageSize, cursor, limit }) {
    return listOutput(
      ctx,
      {
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
