/**
 * The text formats Klaviyo's API takes, each one regular expression: the library checks input with them before
 * sending, the manifest publishes them as JSON Schema patterns, and the emulator refuses with them what Klaviyo
 * refuses. And ISO 8601 times normalised one way, to what Klaviyo's `date-time` members take.
 */
import { E164, EMAIL } from "./identifiers.js";

export { E164, EMAIL };

/** ISO 4217: three capital letters. */
export const CURRENCY = /^[A-Z]{3}$/;

/** A calendar date: months of their length, February 29 in leap years only (1900 is not one, 2000 is). */
const DATE =
  "(?:(?:\\d\\d[2468][048]|\\d\\d[13579][26]|\\d\\d0[48]|[02468][048]00|[13579][26]00)-02-29|\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|02-(?:0[1-9]|1\\d|2[0-8])))";
const TIME = "(?:[01]\\d|2[0-3]):[0-5]\\d(?::[0-5]\\d(?:\\.\\d{1,9})?)?";
const ZONE = "(?:[Zz]|[+-](?:[01]\\d|2[0-3]):?[0-5]\\d)";

/**
 * ISO 8601 as the connector takes it: a date alone (midnight UTC), or a date and a time (`T`), seconds and
 * fractions optional, with `Z`, an offset, or no zone (read as UTC).
 */
export const ISO_DATETIME = new RegExp(`^${DATE}(?:T${TIME}${ZONE}?)?$`);

/** The formats as plain tests of trimmed text, for checks that run on every record of an ingestion. */
export const formatTests = {
  email: (text: string): boolean => EMAIL.test(text),
  phone: (text: string): boolean => E164.test(text),
  currency: (text: string): boolean => CURRENCY.test(text),
  datetime: (text: string): boolean => ISO_DATETIME.test(text),
} as const;

const PARTS = new RegExp(`^(${DATE})(?:T(\\d{2}:\\d{2})(:\\d{2}(?:\\.\\d{1,9})?)?(${ZONE})?)?$`);

/**
 * An ISO 8601 time as Klaviyo's `date-time` wants it, the zone given kept: a date alone becomes midnight UTC,
 * missing seconds become `:00`, a time without a zone is read as UTC (`Z`), a zone without a colon gets one
 * (`2026-07-15T12:00+02:00` → `2026-07-15T12:00:00+02:00`). `undefined` when the text is not one.
 */
export function isoDateTime(text: string): string | undefined {
  const m = PARTS.exec(text.trim());
  if (!m) return undefined;
  if (m[2] === undefined) return `${m[1]}T00:00:00Z`;
  const zone = m[4] === undefined || m[4] === "z" ? "Z" : m[4].replace(/^([+-]\d{2})(\d{2})$/, "$1:$2");
  return `${m[1]}T${m[2]}${m[3] ?? ":00"}${zone}`;
}

/** A JSON object (not an array, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** RFC 3339 as Klaviyo's `date-time` members are written: a date, `T`, a time (seconds optional), and a zone. */
export const RFC3339_DATETIME = new RegExp(`^${DATE}T${TIME}(?:[Zz]|[+-](?:[01]\\d|2[0-3]):[0-5]\\d)$`);
/** The same, the zone optional (a local time). */
export const RFC3339_DATETIME_OR_LOCAL = new RegExp(
  `^${DATE}T${TIME}(?:[Zz]|[+-](?:[01]\\d|2[0-3]):[0-5]\\d)?$`,
);
