/**
 * The values Get Profiles filters and sorts on. Suppression fields reach into the `subscriptions` block, where a
 * profile holds its global suppressions (`suppression`: `{reason, timestamp}`, one per reason) and its list
 * suppressions (`list_suppressions`: `{list_id, reason, timestamp}`, one per list), as Klaviyo's document shapes
 * them (`EmailMarketingSuppression`, `EmailMarketingListSuppression`).
 *
 * How Klaviyo filters and sorts on members of these arrays is not documented. The emulator's reading: the global
 * suppression is one per profile in practice (the document calls it "the global email marketing suppression for
 * this profile"), so its first entry, the one that suppressed the profile, stands for it (a later `USER_SUPPRESSED`
 * on a profile already unsubscribed does not make it match `equals(…suppression.reason,'USER_SUPPRESSED')`). List
 * suppressions are one per list, so each is judged on its own, as a search index does an array of objects: a
 * profile matches when one of them satisfies the conditions on list suppressions (together: `list_id` and
 * `timestamp` of one list), and sorts by the earliest matching one ascending, the latest descending
 * (`profileReadings`). A profile with no entry never matches a condition on one.
 */
import { isObject } from "../../klaviyo/formats.js";
import type { ProfileRow } from "../state.js";

const SUPPRESSION = "subscriptions.email.marketing.suppression.";
const LIST_SUPPRESSION = "subscriptions.email.marketing.list_suppressions.";

type Entry = Record<string, unknown>;

/** The profile's stored entries of `suppression` or `list_suppressions` (email marketing), objects only. */
function entries(row: ProfileRow, member: "suppression" | "list_suppressions"): Entry[] {
  const email = row.subscriptions.email;
  const marketing = isObject(email) ? email.marketing : undefined;
  const list = isObject(marketing) ? marketing[member] : undefined;
  return Array.isArray(list) ? list.filter(isObject) : [];
}

/** A field's value with the profile's suppression and one chosen list suppression (absent: it has none). */
function fieldWith(row: ProfileRow, name: string, suppression?: Entry, listSuppression?: Entry): unknown {
  if (name === "id") return row.id;
  if (name.startsWith(SUPPRESSION)) return suppression?.[name.slice(SUPPRESSION.length)];
  if (name.startsWith(LIST_SUPPRESSION)) return listSuppression?.[name.slice(LIST_SUPPRESSION.length)];
  return row.attributes[name];
}

/**
 * A profile's value for a filter or sort field (`email`, `created`, `subscriptions.email.marketing.…`); for a
 * suppression member, that of its first entry (`profileReadings` gives every list suppression its turn).
 */
export function profileField(row: ProfileRow, name: string): unknown {
  return fieldWith(row, name, entries(row, "suppression")[0], entries(row, "list_suppressions")[0]);
}

/** Whether a query's filter or sort text names a suppression member (so `profileReadings` is needed). */
export function namesSuppression(text: string): boolean {
  return text.includes(SUPPRESSION) || text.includes(LIST_SUPPRESSION);
}

/**
 * Every reading of a profile for a collection's filter and sort: one per list suppression, each with the profile's
 * suppression (a profile without list suppressions has one reading, where they are absent).
 */
export function profileReadings(row: ProfileRow): Array<(name: string) => unknown> {
  const suppression = entries(row, "suppression")[0];
  const lists = entries(row, "list_suppressions");
  return (lists.length > 0 ? lists : [undefined]).map(
    (listSuppression) => (name: string) => fieldWith(row, name, suppression, listSuppression),
  );
}
