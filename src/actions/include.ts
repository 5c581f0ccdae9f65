/**
 * Pieces the event and campaign actions share: ISO 8601 times written the way Klaviyo's document types them
 * (`date-time`: seconds and a zone), an `include` input, and a cap on how many problems one message lists.
 */
import { type InputDefinition, input } from "./inputs.js";

/**
 * Klaviyo's `include` parameter: related resources to return in `included[]`, as a list or comma-separated
 * text, each checked against the relationships the endpoint offers.
 */
export function includeInput(
  base: { key: string; label: string; comments: string; example?: string },
  allowed: readonly string[],
): InputDefinition<string[], false, string | string[]> {
  return input.fields(
    base,
    allowed,
    (unknown) =>
      `cannot include ${unknown.map((u) => `"${u}"`).join(", ")}; this endpoint can include: ${allowed.join(", ")}`,
  );
}

/** The union of what the caller asked to include and what the fieldsets given imply, in a stable order. */
export function includes(
  asked: readonly string[] | undefined,
  implied: ReadonlyArray<[string, readonly string[] | undefined]>,
): string[] | undefined {
  const out = new Set(asked ?? []);
  for (const [relation, fields] of implied) if (fields && fields.length > 0) out.add(relation);
  return out.size > 0 ? [...out] : undefined;
}

/** A sparse fieldset for the query: the names, or nothing when none were given. */
export function fieldsQuery(fields: readonly string[] | undefined): readonly string[] | undefined {
  return fields && fields.length > 0 ? fields : undefined;
}
