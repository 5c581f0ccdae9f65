/**
 * The values Get Profiles filters and sorts on. Suppression fields reach into the `subscriptions` block; a
 * profile has at most one global suppression in practice, and for list suppressions the first one stands for
 * the profile (the filter grammar compares one value per field).
 */
import type { ProfileRow } from "../state.js";
import { renderSubscriptions } from "./profiles-render.js";

const SUPPRESSION = "subscriptions.email.marketing.suppression.";
const LIST_SUPPRESSION = "subscriptions.email.marketing.list_suppressions.";

function firstEntry(
  row: ProfileRow,
  member: "suppression" | "list_suppressions",
): Record<string, unknown> | undefined {
  const email = renderSubscriptions(row).email as Record<string, Record<string, unknown>> | undefined;
  const entries = email?.marketing?.[member];
  const first: unknown = Array.isArray(entries) ? entries[0] : undefined;
  return typeof first === "object" && first !== null ? (first as Record<string, unknown>) : undefined;
}

/** A profile's value for a filter or sort field (`email`, `created`, `subscriptions.email.marketing.…`). */
export function profileField(row: ProfileRow, name: string): unknown {
  if (name === "id") return row.id;
  if (name.startsWith(SUPPRESSION)) return firstEntry(row, "suppression")?.[name.slice(SUPPRESSION.length)];
  if (name.startsWith(LIST_SUPPRESSION)) {
    return firstEntry(row, "list_suppressions")?.[name.slice(LIST_SUPPRESSION.length)];
  }
  return row.attributes[name];
}
