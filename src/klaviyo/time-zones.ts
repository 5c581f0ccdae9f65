/** The time zones Klaviyo takes where it asks for one (Query Metric Aggregates' `timezone`). */

/** Time zones Klaviyo's document names as refused although IANA has them. */
const REFUSED_ZONES = new Set(["Factory", "Europe/Kyiv", "Pacific/Kanton"]);

/**
 * Whether Klaviyo takes this time zone: a name of the IANA database (links such as `US/Eastern` included) that is
 * not one of the document's exceptions, written in its own case ("This field is case-sensitive"; Intl reads any
 * case, so each `/` part must start as IANA writes it, with a capital letter).
 */
export function isKnownTimeZone(zone: string): boolean {
  if (REFUSED_ZONES.has(zone)) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
  } catch {
    return false;
  }
  return zone.split("/").every((part) => /^[A-Z]/.test(part));
}
