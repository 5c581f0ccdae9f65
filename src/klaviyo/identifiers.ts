/**
 * What identifies a Klaviyo profile, and the formats Klaviyo checks, in one place: the actions validate input
 * with them before sending, and the emulator refuses with them what Klaviyo refuses.
 */

/** Attributes that identify a profile, in the order Klaviyo matches them (it also accepts the profile's `id`). */
export const PROFILE_IDENTIFIERS = ["email", "phone_number", "external_id", "anonymous_id", "_kx"] as const;

/** E.164: a plus, a country code not starting with 0, up to 15 digits in all. */
export const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * An email address as Klaviyo accepts it: a local part of letters, digits and the symbols an address may hold
 * unquoted (`!#$%&'*+/=?^_\`{|}~-`, dots only between them), one `@`, and a domain of dot-separated labels ending
 * in a top-level domain of letters (or `xn--` punycode). No quotes, commas, brackets or spaces: JSON text, a list
 * of addresses or `"a"@example.com` is not one address. Written without nested ambiguity, so a hostile 100 KB text
 * is judged in linear time.
 */
export const EMAIL =
  /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*@(?:[\p{L}\p{N}-]+\.)+(?:\p{L}{2,}|xn--[\p{L}\p{N}-]+)$/u;

/** The dynamic values a campaign's custom tracking parameter may take (`custom_tracking_params[].value`). */
export const TRACKING_DYNAMIC_VALUES = [
  "campaign_id",
  "campaign_name",
  "campaign_name_id",
  "campaign_name_send_day",
  "email_subject",
  "group_id",
  "group_name",
  "group_name_id",
  "link_alt_text",
  "message_type",
  "profile_external_id",
  "profile_id",
] as const;

/**
 * Why `value` cannot be sent as one segment of a request path, whatever the encoding, or `undefined`: an empty
 * segment, and the dot segments `.` and `..`, which a URL resolves away (`DELETE /api/lists/..` would address
 * `/api/`). Anything else is kept in its segment by percent-encoding (a slash becomes `%2F`).
 */
export function pathSegmentProblem(value: string): string | undefined {
  if (value === "") return "must not be empty";
  if (value === "." || value === "..") return `must not be "${value}"`;
  return undefined;
}

/**
 * Why `value` cannot be a Klaviyo ID, or `undefined`. Klaviyo's IDs are opaque, but always one path segment, and
 * never hold whitespace, slashes, `?` or `#`.
 */
export function idProblem(value: string): string | undefined {
  return (
    pathSegmentProblem(value) ??
    (/[\s/?#\\]/.test(value) ? "must not contain spaces, slashes, ? or #" : undefined)
  );
}

/** Klaviyo's `ProfileLocation` members, wherever a profile is written (Create and Update Profile, events' profiles,
 * profile imports). */
export const PROFILE_LOCATION_KEYS = [
  "address1",
  "address2",
  "city",
  "country",
  "region",
  "zip",
  "timezone",
  "latitude",
  "longitude",
  "ip",
] as const;
