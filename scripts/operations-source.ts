/**
 * Builds `src/klaviyo/operations.generated.ts` from Klaviyo's OpenAPI document: for every operation, its method,
 * path, rate limits (`x-klaviyo-ratelimit`), scopes (`x-klaviyo-scopes`) and page-size bounds. The connector
 * needs these at run time, where the 3 MB document is not available, so we keep this small derived table and a
 * contract test checks it still matches the document.
 */

interface SpecParameter {
  name?: string;
  in?: string;
  schema?: { default?: unknown; maximum?: unknown; items?: { enum?: unknown[] } };
}

/** The resource types whose sparse fieldsets the connector's actions and the emulator use. */
export const FIELDSET_TYPES = [
  "account",
  "campaign",
  "campaign-message",
  "conversation",
  "event",
  "flow",
  "flow-action",
  "image",
  "list",
  "metric",
  "profile",
  "push-token",
  "segment",
  "tag",
  "tag-group",
  "template",
  "webhook",
  "webhook-topic",
] as const;
interface SpecOperation {
  operationId?: string;
  "x-klaviyo-filters"?: Record<string, unknown>;
  parameters?: SpecParameter[];
  "x-klaviyo-ratelimit"?: { burst?: string; steady?: string; daily?: string };
  "x-klaviyo-scopes"?: string[];
}
/**
 * The operations the connector's actions call (and the emulator implements), whose query parameters are
 * kept in full: filters (`x-klaviyo-filters`), sorts, includes, additional fields.
 */
export const CONNECTOR_OPERATIONS = [
  "add_profiles_to_list",
  "bulk_create_events",
  "bulk_import_profiles",
  "bulk_subscribe_profiles",
  "bulk_unsubscribe_profiles",
  "clone_template",
  "create_campaign",
  "create_event",
  "create_list",
  "create_profile",
  "create_segment",
  "create_tag",
  "create_template",
  "delete_campaign",
  "delete_list",
  "delete_segment",
  "delete_tag",
  "delete_template",
  "get_account",
  "get_accounts",
  "get_bulk_import_profiles_job",
  "get_bulk_import_profiles_jobs",
  "get_campaign",
  "get_campaign_message",
  "get_campaigns",
  "get_errors_for_bulk_import_profiles_job",
  "get_event",
  "get_events",
  "get_flow",
  "get_flows",
  "get_image",
  "get_images",
  "get_list",
  "get_list_for_bulk_import_profiles_job",
  "get_list_ids_for_bulk_import_profiles_job",
  "get_list_ids_for_profile",
  "get_lists",
  "get_lists_for_profile",
  "get_messages_for_campaign",
  "get_metric",
  "get_metrics",
  "get_profile",
  "get_profile_ids_for_bulk_import_profiles_job",
  "get_profile_ids_for_list",
  "get_profiles",
  "get_profiles_for_bulk_import_profiles_job",
  "get_profiles_for_list",
  "get_profiles_for_segment",
  "get_segment",
  "get_segments",
  "get_tag",
  "get_tag_group",
  "get_tag_group_for_tag",
  "get_tag_groups",
  "get_tags",
  "get_tags_for_campaign",
  "get_tags_for_flow",
  "get_tags_for_list",
  "get_tags_for_segment",
  "get_template",
  "get_templates",
  "remove_profiles_from_list",
  "render_template",
  "remove_tag_from_campaigns",
  "remove_tag_from_flows",
  "remove_tag_from_lists",
  "remove_tag_from_segments",
  "tag_campaigns",
  "tag_flows",
  "tag_lists",
  "tag_segments",
  "update_campaign",
  "update_flow",
  "update_image",
  "update_list",
  "update_profile",
  "update_segment",
  "update_template",
  "upload_image_from_file",
  "upload_image_from_url",
  // Everyday profile actions (#19).
  "create_or_update_profile",
  "get_bulk_suppress_profiles_job",
  "get_bulk_suppress_profiles_jobs",
  "get_bulk_unsuppress_profiles_job",
  "get_bulk_unsuppress_profiles_jobs",
  // System webhooks (#21).
  "create_webhook",
  "delete_webhook",
  "get_webhook",
  "get_webhook_topic",
  "get_webhook_topics",
  "get_webhooks",
  "update_webhook",
] as const;

export interface SpecDocument {
  info?: { version?: string };
  paths: Record<string, Record<string, SpecOperation | unknown>>;
}

const METHODS = ["get", "post", "patch", "put", "delete"] as const;

function perUnit(text: string | undefined, unit: string): number {
  if (!text) return 0;
  const match = /^(\d+)\/([smd])$/.exec(text.trim());
  if (!match || match[2] !== unit) throw new Error(`unexpected rate limit "${text}" (wanted N/${unit})`);
  return Number(match[1]);
}

function enumOf(param: SpecParameter | undefined): string[] | undefined {
  const schema = param?.schema as { enum?: unknown[]; items?: { enum?: unknown[] } } | undefined;
  const values = schema?.items?.enum ?? schema?.enum;
  return values?.filter((v): v is string => typeof v === "string");
}

function queryOf(op: SpecOperation): Record<string, unknown> {
  const params = (op.parameters ?? []).filter((p) => p.in === "query");
  const out: Record<string, unknown> = {};
  if (op["x-klaviyo-filters"]) out.filters = op["x-klaviyo-filters"];
  const filter = params.find((p) => p.name === "filter") as
    | (SpecParameter & { required?: boolean })
    | undefined;
  if (filter?.required) out.filterRequired = true;
  const sort = enumOf(params.find((p) => p.name === "sort"));
  if (sort) out.sort = sort;
  const include = enumOf(params.find((p) => p.name === "include"));
  if (include) out.include = include;
  const additional: Record<string, string[]> = {};
  const fieldsets: string[] = [];
  for (const p of params) {
    const extra = /^additional-fields\[(.+)\]$/.exec(p.name ?? "")?.[1];
    if (extra) additional[extra] = enumOf(p) ?? [];
    const type = /^fields\[(.+)\]$/.exec(p.name ?? "")?.[1];
    if (type) fieldsets.push(type);
  }
  if (Object.keys(additional).length > 0) out.additionalFields = additional;
  if (fieldsets.length > 0) out.fieldsets = fieldsets;
  return out;
}

export function buildOperationsSource(spec: SpecDocument): string {
  const rows: string[] = [];
  const fieldsets = new Map<string, Set<string>>(FIELDSET_TYPES.map((t) => [t, new Set<string>()]));
  const parameters: string[] = [];
  const wanted = new Set<string>(CONNECTOR_OPERATIONS);
  for (const path of Object.keys(spec.paths).sort()) {
    const item = spec.paths[path] ?? {};
    for (const method of METHODS) {
      const op = item[method] as SpecOperation | undefined;
      if (!op?.operationId) continue;
      const limit = op["x-klaviyo-ratelimit"] ?? {};
      for (const param of op.parameters ?? []) {
        const type = /^fields\[(.+)\]$/.exec(param.name ?? "")?.[1];
        const set = type ? fieldsets.get(type) : undefined;
        for (const name of param.schema?.items?.enum ?? [])
          if (set && typeof name === "string") set.add(name);
      }
      if (wanted.has(op.operationId)) parameters.push(`  ${op.operationId}: ${JSON.stringify(queryOf(op))},`);
      const pageSize = op.parameters?.find((p) => p.in === "query" && p.name === "page[size]")?.schema;
      const row = [
        JSON.stringify(op.operationId),
        JSON.stringify(method.toUpperCase()),
        JSON.stringify(path),
        perUnit(limit.burst, "s"),
        perUnit(limit.steady, "m"),
        perUnit(limit.daily, "d"),
        JSON.stringify((op["x-klaviyo-scopes"] ?? []).join(" ")),
        typeof pageSize?.default === "number" ? pageSize.default : 0,
        typeof pageSize?.maximum === "number" ? pageSize.maximum : 0,
      ];
      rows.push(`  [${row.join(", ")}],`);
    }
  }
  return [
    "// Generated by `npm run gen:operations` from Klaviyo's OpenAPI document; do not edit by hand.",
    `// Revision ${spec.info?.version ?? "unknown"}: ${rows.length} operations.`,
    "// Columns: operationId, method, path, burst per second, steady per minute, daily (0 = none),",
    "// scopes (space separated), default page size, maximum page size (0 = not paginated).",
    "",
    `export const SPEC_REVISION = ${JSON.stringify(spec.info?.version ?? "")};`,
    "",
    "export type OperationRow = readonly [string, string, string, number, number, number, string, number, number];",
    "",
    "export interface FilterRule {",
    "  /** Operators by value shape: `single` value, `list` value, `none` (`has(field)`). */",
    "  readonly operators: { readonly single?: readonly string[]; readonly list?: readonly string[]; readonly none?: readonly string[] };",
    "  readonly value?: { readonly type?: string; readonly format?: string; readonly enum?: readonly unknown[] };",
    "}",
    "",
    "export interface OperationParameters {",
    "  readonly filters?: Readonly<Record<string, FilterRule>>;",
    "  /** Whether `filter` is required (List Campaigns). */",
    "  readonly filterRequired?: boolean;",
    "  readonly sort?: readonly string[];",
    "  readonly include?: readonly string[];",
    "  /** `additional-fields[<type>]` names, per type. */",
    "  readonly additionalFields?: Readonly<Record<string, readonly string[]>>;",
    "  /** The types whose `fields[<type>]` the operation accepts. */",
    "  readonly fieldsets?: readonly string[];",
    "}",
    "",
    "export const OPERATION_ROWS: readonly OperationRow[] = [",
    ...rows,
    "];",
    "",
    "/** Query parameters of the operations the connector calls, as the document declares them. */",
    "export const OPERATION_PARAMETERS: Readonly<Record<string, OperationParameters>> = {",
    ...parameters.sort(),
    "};",
    "",
    "/** The names `fields[<type>]` accepts, per resource type (dotted paths reach nested attributes). */",
    "export const FIELDSETS: Readonly<Record<string, readonly string[]>> = {",
    ...[...fieldsets].map(
      ([type, names]) => `  ${JSON.stringify(type)}: ${JSON.stringify([...names].sort())},`,
    ),
    "};",
    "",
  ].join("\n");
}
