/**
 * Pieces the event and campaign actions share: ISO 8601 times written the way Klaviyo's document types them
 * (`date-time`: seconds and a zone), an `include` input, and a cap on how many problems one message lists.
 */
import { z } from "../core/schema.js";
import { formatTests, type InputDefinition, input } from "./inputs.js";

const DATE_ONLY = /^(\d{4}-\d{2}-\d{2})$/;
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2})(:\d{2}(?:\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?$/;

/**
 * An ISO 8601 time as Klaviyo's `date-time` wants it: a date alone becomes midnight UTC, missing seconds become
 * `:00`, a time without a zone is read as UTC (`Z`), a zone without a colon gets one. `undefined` when the text is
 * not an ISO 8601 date or date-time.
 */
export function isoDateTime(text: string): string | undefined {
  const value = text.trim();
  if (!formatTests.datetime(value)) return undefined;
  const date = DATE_ONLY.exec(value);
  if (date) return `${date[1]}T00:00:00Z`;
  const m = DATE_TIME.exec(value);
  if (!m) return undefined;
  const zone = m[4] === undefined || m[4] === "z" ? "Z" : m[4].replace(/^([+-]\d{2})(\d{2})$/, "$1:$2");
  const result = `${m[1]}T${m[2]}${m[3] ?? ":00"}${zone}`;
  return Number.isNaN(Date.parse(result)) ? undefined : result;
}

/** How many problems one validation message lists before it says how many more there are. */
export const MAX_LISTED_PROBLEMS = 20;

/** Adds `problems` to a schema's refinement context, the first few in full and a count of the rest. */
export function reportProblems(ctx: z.RefinementCtx, problems: readonly string[]): void {
  for (const message of problems.slice(0, MAX_LISTED_PROBLEMS)) ctx.addIssue({ code: "custom", message });
  if (problems.length > MAX_LISTED_PROBLEMS) {
    ctx.addIssue({
      code: "custom",
      message: `and ${problems.length - MAX_LISTED_PROBLEMS} more problem${problems.length - MAX_LISTED_PROBLEMS > 1 ? "s" : ""}`,
    });
  }
}

/**
 * Klaviyo's `include` parameter: related resources to return in `included[]`, as a list or comma-separated
 * text, each checked against the relationships the endpoint offers.
 */
export function includeInput(
  base: { key: string; label: string; comments: string; example?: string },
  allowed: readonly string[],
): InputDefinition<string[], false> {
  const schema = z
    .union([z.string(), z.array(z.string())], {
      error: "must be a list of relationship names or comma-separated text",
    })
    .transform((v) => (Array.isArray(v) ? v : v.split(",")).map((s) => s.trim()).filter((s) => s.length > 0))
    .superRefine((list, ctx) => {
      const unknown = list.filter((name) => !allowed.includes(name));
      if (unknown.length > 0) {
        ctx.addIssue({
          code: "custom",
          message: `cannot include ${unknown.map((u) => `"${u}"`).join(", ")}; this endpoint can include: ${allowed.join(", ")}`,
        });
      }
    });
  const definition = input.fields(base, allowed);
  return { ...definition, schema };
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

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
