/**
 * Inputs shared by the profile actions (Create / Update / Get / List Profile) and by List List Profiles: the
 * profile attributes Klaviyo takes, with their checks, and the read options (fields, additional fields, sort).
 */

import * as v from "valibot";
import { PROFILE_LOCATION_KEYS } from "../klaviyo/identifiers.js";
import { FIELDSETS, OPERATION_PARAMETERS } from "../klaviyo/operations.js";
import { jsonObject, objectOnly, type Schema } from "../klaviyo/schema.js";
import { type InputDefinition, input } from "./inputs.js";

/** Klaviyo's `ProfileLocation` members, as Create and Update Profile take them. */
export const LOCATION_KEYS = PROFILE_LOCATION_KEYS;

export type ProfileLocation = Partial<
  Record<Exclude<(typeof LOCATION_KEYS)[number], "latitude" | "longitude">, string | null> & {
    latitude: string | number | null;
    longitude: string | number | null;
  }
>;

function coordinateProblem(key: "latitude" | "longitude", value: unknown): string {
  const bound = key === "latitude" ? 90 : 180;
  const n = typeof value === "number" ? value : typeof value === "string" ? Number(value.trim()) : Number.NaN;
  if ((typeof value !== "number" && typeof value !== "string") || value === "" || !Number.isFinite(n))
    return `${key} must be a number (or decimal text), such as ${key === "latitude" ? "42.3601" : "-71.0589"}`;
  return `${key} must be between -${bound} and ${bound}`;
}

/** A coordinate: a number within ±`bound`, decimal text of one, or null (which clears it on update). */
function coordinate(key: "latitude" | "longitude", text: RegExp) {
  const bound = key === "latitude" ? 90 : 180;
  const within = `must be between -${bound} and ${bound}`;
  return v.optional(
    v.union(
      [
        v.pipe(v.number(), v.minValue(-bound, within), v.maxValue(bound, within)),
        v.pipe(v.string(), v.regex(text)),
        v.null_(),
      ],
      (issue) => coordinateProblem(key, issue.input),
    ),
  );
}

const textOrNull = v.optional(v.nullable(v.string()));

/** A location object, member by member; `null` members are kept (they clear that part on update). */
const locationSchema: Schema<ProfileLocation, unknown> = objectOnly(
  v.strictObject(
    {
      address1: textOrNull,
      address2: textOrNull,
      city: textOrNull,
      country: textOrNull,
      region: textOrNull,
      zip: textOrNull,
      timezone: textOrNull,
      ip: textOrNull,
      latitude: coordinate("latitude", /^\s*[-+]?(?:90(?:\.0+)?|[0-8]?\d(?:\.\d+)?)\s*$/),
      longitude: coordinate("longitude", /^\s*[-+]?(?:180(?:\.0+)?|(?:1[0-7]\d|\d?\d)(?:\.\d+)?)\s*$/),
    },
    (issue) =>
      issue.type === "strict_object" && issue.expected === "never"
        ? `unknown member "${issue.input}"; a location takes ${LOCATION_KEYS.join(", ")}`
        : "must be a JSON object",
  ),
);

/** The profile attribute inputs, in the specification's order (plus Locale, which Klaviyo also takes). */
export function profileAttributeInputs() {
  return {
    email: input.text(
      {
        key: "email",
        label: "Individual's email address",
        comments:
          "The person's email address, such as sarah.mason@example.com. One of the three identifiers Klaviyo matches profiles by (with Phone Number and External ID); its syntax is checked before sending, and Klaviyo refuses an address that another profile already holds.",
        example: "sarah.mason@example.com",
      },
      "email",
    ),
    phoneNumber: input.text(
      {
        key: "phoneNumber",
        label: "Phone Number",
        comments:
          "The person's phone number in E.164 format: a +, the country code, then the number, digits only (such as +15005550006). An identifier like the email address: no two profiles may share it.",
        example: "+15005550006",
      },
      "phone",
    ),
    externalId: input.text({
      key: "externalId",
      label: "External ID",
      comments:
        "Your own identifier for this person, as another system (a store, a point-of-sale system, a CRM) knows them, so the Klaviyo profile can be matched to that record. Any text; Klaviyo keeps it unique across profiles.",
      example: "crm-63f64a2b",
    }),
    firstName: input.text({
      key: "firstName",
      label: "First Name",
      comments: "The person's given name.",
      example: "Sarah",
    }),
    lastName: input.text({
      key: "lastName",
      label: "Last Name",
      comments: "The person's family name.",
      example: "Mason",
    }),
    organization: input.text({
      key: "organization",
      label: "Organization",
      comments: "The company (or the part of it) the person works for.",
      example: "Example Corporation",
    }),
    title: input.text({
      key: "title",
      label: "Title",
      comments: "The person's job title, such as Regional Manager.",
      example: "Regional Manager",
    }),
    image: input.text(
      {
        key: "image",
        label: "Image",
        comments:
          "The address (an http or https URL) of a picture of the person, shown on the profile in Klaviyo.",
        example: "https://example.com/photos/sarah.jpg",
      },
      "url",
    ),
    location: input.json<ProfileLocation>(
      {
        key: "location",
        label: "Location",
        comments: `Where the person is, as a JSON object with any of: ${LOCATION_KEYS.join(", ")}. All are text except latitude and longitude (a number or numeric text; four decimal places are plenty); timezone is an IANA name such as America/New_York. Unknown members are refused.`,
        example: '{"city":"Boston","region":"MA","country":"United States","zip":"02110"}',
      },
      locationSchema,
    ),
    properties: input.json<Record<string, unknown>>(
      {
        key: "properties",
        label: "Properties",
        comments:
          'Custom properties of the profile, as a JSON object of names and values (such as {"plan":"gold","pets":["cat"]}). Values may be text, numbers, booleans, lists or objects; the names are yours to choose.',
        example: '{"plan":"gold"}',
      },
      jsonObject,
    ),
    locale: input.text({
      key: "locale",
      label: "Locale",
      comments:
        "The person's language and region as an IETF BCP 47 tag: a language code, a hyphen, a country code (such as en-US or fr-CA).",
      example: "en-US",
    }),
  };
}

/** Input key → Klaviyo attribute name, for the profile attribute inputs. */
export const PROFILE_ATTRIBUTE_NAMES = {
  email: "email",
  phoneNumber: "phone_number",
  externalId: "external_id",
  firstName: "first_name",
  lastName: "last_name",
  organization: "organization",
  title: "title",
  image: "image",
  location: "location",
  properties: "properties",
  locale: "locale",
} as const;

export type ProfileAttributeKey = keyof typeof PROFILE_ATTRIBUTE_NAMES;

/** The Klaviyo attributes for the values given, and only those (absent inputs stay absent). */
export function profileAttributes(
  values: Partial<Record<ProfileAttributeKey, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(PROFILE_ATTRIBUTE_NAMES)) {
    const value = values[key as ProfileAttributeKey];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

const ALL_PROFILE_FIELDS = FIELDSETS.profile ?? [];

/**
 * The `fields[profile]` input. `joined_group_at` exists only for a list's members (List List Profiles), so the
 * other operations do not offer it.
 */
export function profileFieldsInput(forListMembers = false): InputDefinition<string[], false> {
  const allowed = forListMembers
    ? ALL_PROFILE_FIELDS
    : ALL_PROFILE_FIELDS.filter((name) => name !== "joined_group_at");
  return input.fields(
    {
      key: "fields",
      label: "Fields",
      comments: `The profile fields to return (Klaviyo's sparse fieldset fields[profile]), as a list or comma-separated text; dotted names reach nested members, such as location.city or subscriptions.email.marketing.consent.${forListMembers ? " joined_group_at says when the profile joined the list." : ""} Leave empty for every default field.`,
      example: forListMembers ? "email,first_name,joined_group_at" : "email,first_name,location.city",
    },
    allowed,
  );
}

/** The `additional-fields[profile]` input of an operation (`subscriptions`, `predictive_analytics`). */
export function additionalProfileFieldsInput(operation: string): InputDefinition<string[], false> {
  return input.fields(
    {
      key: "additionalFields",
      label: "Additional Profile Fields",
      comments:
        "Attributes Klaviyo leaves out unless asked (additional-fields[profile]), as a list or comma-separated text: subscriptions (the consent state of every channel: email, SMS, WhatsApp, push) and predictive_analytics (predicted lifetime value, churn probability, next order date…). Asking for predictive_analytics lowers the rate limit of profile reads to 10 per second, 150 per minute.",
      example: "subscriptions",
    },
    OPERATION_PARAMETERS[operation]?.additionalFields?.profile ?? [],
  );
}

/** A `sort` input over the values an operation allows. */
export function sortInput(operation: string, what: string) {
  const options = OPERATION_PARAMETERS[operation]?.sort ?? [];
  return input.enum(
    {
      key: "sort",
      label: "Sort",
      comments: `The order of the ${what}: a field name for ascending order, the same name after a minus sign for descending. One of: ${options.join(", ")}. Leave empty for Klaviyo's default order.`,
      ...(options[0] ? { example: options[1] ?? options[0] } : {}),
    },
    options,
  );
}

/** Comma-joined list for a query parameter, or nothing when the list is empty or absent. */
export function listParam(values: readonly string[] | undefined): readonly string[] | undefined {
  return values?.length ? values : undefined;
}

/** Free names (any non-empty text, such as custom property names), as a list or comma-separated text. */
export function nameListInput(base: {
  key: string;
  label: string;
  comments: string;
  example?: string;
}): InputDefinition<string[], false, string | string[]> {
  const schema = v.pipe(
    v.union([v.string(), v.array(v.string())], "must be a list of names or comma-separated text"),
    v.transform((v: string | string[]) =>
      (Array.isArray(v) ? v : v.split(",")).map((s) => s.trim()).filter((s) => s.length > 0),
    ),
  );
  return { ...base, type: "fields", required: false, schema };
}
