/**
 * The query parameters every Klaviyo read shares — `fields[type]`, `include`, `additional-fields[type]`,
 * `sort`, `filter`, `page[size]`, `page[cursor]` — checked against what the operation declares in Klaviyo's
 * OpenAPI document (via the generated operation table), with Klaviyo's 400s naming the parameter.
 */
import {
  checkFilter,
  type FilterNode,
  FilterRuleError,
  FilterSyntaxError,
  parseFilter,
} from "../klaviyo/filter.js";
import {
  FIELDSETS,
  OPERATION_PARAMETERS,
  type Operation,
  type OperationParameters,
} from "../klaviyo/operations.js";
import type { EmulatorContext } from "./env.js";
import { invalidParameter } from "./errors.js";
import { parseFieldset } from "./fields.js";

export interface QueryContext {
  readonly operation: Operation;
  readonly params: OperationParameters;
  /** Requested sparse fieldsets by resource type; a type absent here gets every field. */
  readonly fields: ReadonlyMap<string, readonly string[]>;
  readonly include: ReadonlySet<string>;
  /** `additional-fields[type]` by type. */
  readonly additional: ReadonlyMap<string, ReadonlySet<string>>;
  readonly origin: string;
}

function list(value: string): string[] {
  return value
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

/** Reads and checks the fieldset, include and additional-field parameters of the current request. */
export function readQuery(c: EmulatorContext): QueryContext {
  const operation = c.get("operation");
  const params = OPERATION_PARAMETERS[operation.id] ?? {};
  const url = new URL(c.req.url);
  const fields = new Map<string, readonly string[]>();
  const include = new Set<string>();
  const additional = new Map<string, Set<string>>();
  for (const [name, value] of url.searchParams) {
    const fieldType = /^fields\[(.+)\]$/.exec(name)?.[1];
    if (fieldType !== undefined) {
      if (!params.fieldsets?.includes(fieldType)) {
        throw invalidParameter(name, `'${fieldType}' is not a resource type this endpoint can return.`);
      }
      const parsed = parseFieldset(value, fieldType, FIELDSETS[fieldType] ?? []);
      if (parsed) fields.set(fieldType, [...(fields.get(fieldType) ?? []), ...parsed]);
      continue;
    }
    if (name === "include") {
      for (const relation of list(value)) {
        if (!params.include?.includes(relation)) {
          const allowed = params.include?.join(", ") || "none";
          throw invalidParameter(
            "include",
            `'${relation}' is not a valid include for this endpoint. Valid: ${allowed}.`,
          );
        }
        include.add(relation);
      }
      continue;
    }
    const extraType = /^additional-fields\[(.+)\]$/.exec(name)?.[1];
    if (extraType !== undefined) {
      const allowed = params.additionalFields?.[extraType];
      if (!allowed) throw invalidParameter(name, `'${extraType}' has no additional fields on this endpoint.`);
      const set = additional.get(extraType) ?? new Set<string>();
      for (const field of list(value)) {
        if (!allowed.includes(field)) {
          throw invalidParameter(
            name,
            `'${field}' is not a valid additional field. Valid: ${allowed.join(", ")}.`,
          );
        }
        set.add(field);
      }
      additional.set(extraType, set);
    }
  }
  return { operation, params, fields, include, additional, origin: url.origin };
}

/** The request's `filter`, parsed and checked against the endpoint's filterable fields; 400 when it is wrong. */
export function readFilter(c: EmulatorContext, params: OperationParameters): FilterNode | undefined {
  const text = new URL(c.req.url).searchParams.get("filter");
  if (text === null || text.trim() === "") {
    if (params.filterRequired) throw invalidParameter("filter", "A filter is required for this endpoint.");
    return undefined;
  }
  if (!params.filters) throw invalidParameter("filter", "This endpoint does not support filtering.");
  try {
    const node = parseFilter(text);
    checkFilter(node, params.filters);
    return node;
  } catch (error) {
    if (error instanceof FilterSyntaxError || error instanceof FilterRuleError) {
      throw invalidParameter("filter", `Invalid filter provided: ${error.message}`);
    }
    throw error;
  }
}

/** The request's `sort` (`name` or `-name`), checked against the endpoint's allowed values. */
export function readSort(
  c: EmulatorContext,
  params: OperationParameters,
): { field: string; descending: boolean } | undefined {
  const text = new URL(c.req.url).searchParams.get("sort");
  if (text === null || text === "") return undefined;
  if (!params.sort?.includes(text)) {
    const allowed = params.sort?.join(", ") || "none";
    throw invalidParameter("sort", `'${text}' is not a valid sort for this endpoint. Valid: ${allowed}.`);
  }
  return text.startsWith("-")
    ? { field: text.slice(1), descending: true }
    : { field: text, descending: false };
}
