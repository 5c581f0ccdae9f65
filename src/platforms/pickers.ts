/**
 * The pickers (Prismatic's data sources, Activepieces' dropdowns): the choices for an input taking a Klaviyo ID,
 * a page at a time. Each pages through the whole collection (lists come ten to a page), searches where Klaviyo's
 * filters can (`contains(name,…)` on campaigns, templates, flows, tags and images; an exact email on profiles)
 * and narrows the page it read where they cannot, and never walks an account's every profile: profiles are found
 * by email, or the most recent shown.
 */
import type { KlaviyoClient } from "../core/client.js";
import { cursorOf } from "../core/pagination.js";
import { CAMPAIGN_CHANNELS } from "../feed/streams.js";
import { filter, formatFilter } from "../klaviyo/filter.js";

export const PICKER_KEYS = [
  "accounts",
  "lists",
  "segments",
  "campaigns",
  "templates",
  "metrics",
  "flows",
  "tags",
  "images",
  "profiles",
] as const;

export type PickerKey = (typeof PICKER_KEYS)[number];

export interface PickerOption {
  readonly label: string;
  readonly value: string;
}

export interface PickerPage {
  readonly options: PickerOption[];
  /** Pass back as `cursor` for the next page; absent after the last. */
  readonly cursor?: string;
}

export interface PickerQuery {
  /** Text the user typed. */
  readonly search?: string;
  /** From the previous page. */
  readonly cursor?: string;
  readonly signal?: AbortSignal;
}

export interface PickerDefinition {
  readonly key: PickerKey;
  readonly label: string;
  /** The input keys of our actions (and triggers) whose values it offers. */
  readonly inputKeys: readonly string[];
  page(client: KlaviyoClient, query: PickerQuery): Promise<PickerPage>;
}

type Resource = { id: string; attributes?: Record<string, unknown> };

const str = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined;

/** A collection page; `where` filters server-side, `match` narrows what came back where Klaviyo cannot search. */
async function collectionPage(
  client: KlaviyoClient,
  path: string,
  query: PickerQuery,
  options: {
    readonly label: (r: Resource) => string;
    readonly searchField?: string;
    readonly base?: Record<string, string>;
    readonly where?: string;
  },
): Promise<PickerPage> {
  const q: Record<string, string> = { ...options.base };
  const search = query.search?.trim();
  const conditions = [
    options.where,
    search && options.searchField ? formatFilter(filter.contains(options.searchField, search)) : undefined,
  ].filter((c): c is string => c !== undefined);
  if (conditions.length === 1) q.filter = conditions[0] as string;
  else if (conditions.length > 1) q.filter = `and(${conditions.join(",")})`;
  if (query.cursor) q["page[cursor]"] = query.cursor;
  const res = await client.request<{ data?: Resource[]; links?: { next?: string | null } }>({
    method: "GET",
    path,
    query: q,
    ...(query.signal ? { signal: query.signal } : {}),
  });
  const data = Array.isArray(res.body?.data) ? res.body.data : [];
  let options_ = data.map((r) => ({ label: options.label(r), value: r.id }));
  if (search && !options.searchField) {
    const needle = search.toLowerCase();
    options_ = options_.filter((o) => o.label.toLowerCase().includes(needle) || o.value === search);
  }
  const next = cursorOf(res.body?.links?.next);
  return next ? { options: options_, cursor: next } : { options: options_ };
}

const named = (r: Resource) => str(r.attributes?.name) ?? r.id;

/** A collection Klaviyo searches by `contains(name,…)` and sorts by name. */
const byName =
  (path: string): PickerDefinition["page"] =>
  (client, query) =>
    collectionPage(client, path, query, { label: named, searchField: "name", base: { sort: "name" } });

export const PICKERS: readonly PickerDefinition[] = [
  {
    key: "accounts",
    label: "Account",
    inputKeys: ["accountId"],
    page: (client, query) =>
      collectionPage(client, "/api/accounts", query, {
        label: (r) => {
          const info = r.attributes?.contact_information as Record<string, unknown> | undefined;
          return str(info?.organization_name) ?? r.id;
        },
      }),
  },
  {
    key: "lists",
    label: "List",
    inputKeys: ["listId"],
    // Lists' names can be matched only whole (`equals`/`any`): a search narrows each page read.
    page: (client, query) =>
      collectionPage(client, "/api/lists", query, { label: named, base: { sort: "name" } }),
  },
  {
    key: "segments",
    label: "Segment",
    inputKeys: ["segmentId"],
    page: (client, query) =>
      collectionPage(client, "/api/segments", query, { label: named, base: { sort: "name" } }),
  },
  {
    key: "campaigns",
    label: "Campaign",
    inputKeys: ["campaignId"],
    // Klaviyo answers one channel a request, and archived campaigns only when asked: the cursor carries the
    // channel and archive being walked.
    async page(client, query) {
      const walks = CAMPAIGN_CHANNELS.flatMap((channel) => [`${channel}`, `${channel}/archived`]);
      const [walk, inner] = splitCursor(query.cursor, walks[0] as string);
      const index = walks.indexOf(walk);
      const [channel, archived] = walk.split("/") as [string, string | undefined];
      const got = await collectionPage(
        client,
        "/api/campaigns",
        { ...query, ...(inner ? { cursor: inner } : { cursor: undefined }) },
        {
          label: (r) =>
            `${named(r)} (${channel === "mobile_push" ? "push" : channel}${archived ? ", archived" : ""})`,
          searchField: "name",
          where: formatFilter(
            filter.and(
              filter.equals("messages.channel", channel),
              filter.equals("archived", archived !== undefined),
            ),
          ),
        },
      );
      const next = walks[index + 1];
      const cursor = got.cursor ? `${walk}|${got.cursor}` : next ? `${next}|` : undefined;
      return cursor ? { options: got.options, cursor } : { options: got.options };
    },
  },
  {
    key: "templates",
    label: "Template",
    inputKeys: ["templateId"],
    page: byName("/api/templates"),
  },
  {
    key: "metrics",
    label: "Metric",
    inputKeys: ["metricId"],
    page: (client, query) =>
      collectionPage(client, "/api/metrics", query, {
        label: (r) => {
          const integration = str((r.attributes?.integration as Record<string, unknown> | undefined)?.name);
          return integration ? `${named(r)} (${integration})` : named(r);
        },
      }),
  },
  {
    key: "flows",
    label: "Flow",
    inputKeys: ["flowId"],
    page: byName("/api/flows"),
  },
  {
    key: "tags",
    label: "Tag",
    inputKeys: ["tagId"],
    page: byName("/api/tags"),
  },
  {
    key: "images",
    label: "Image",
    inputKeys: ["imageId"],
    page: byName("/api/images"),
  },
  {
    key: "profiles",
    label: "Profile",
    inputKeys: ["profileId"],
    // Never the whole account: an email finds its profile; without one, the latest profiles, one page.
    async page(client, query) {
      const search = query.search?.trim();
      const label = (r: Resource) =>
        str(r.attributes?.email) ?? str(r.attributes?.phone_number) ?? str(r.attributes?.external_id) ?? r.id;
      const res = await client.request<{ data?: Resource[] }>({
        method: "GET",
        path: "/api/profiles",
        query: search
          ? { filter: formatFilter(filter.equals("email", search)), "page[size]": "20" }
          : { sort: "-created", "page[size]": "50" },
        ...(query.signal ? { signal: query.signal } : {}),
      });
      const data = Array.isArray(res.body?.data) ? res.body.data : [];
      return { options: data.map((r) => ({ label: label(r), value: r.id })) };
    },
  },
];

function splitCursor(cursor: string | undefined, first: string): [string, string | undefined] {
  if (!cursor) return [first, undefined];
  const i = cursor.indexOf("|");
  if (i < 0) return [first, cursor];
  const inner = cursor.slice(i + 1);
  return [cursor.slice(0, i), inner === "" ? undefined : inner];
}

export function getPicker(key: PickerKey): PickerDefinition {
  return PICKERS.find((p) => p.key === key) as PickerDefinition;
}

/** The picker offering an input's values, by the input's key (`listId` → lists). */
export function pickerForInput(inputKey: string): PickerDefinition | undefined {
  return PICKERS.find((p) => p.inputKeys.includes(inputKey));
}

/** Every option, page after page, up to `max` (default 5,000) — for platforms whose dropdowns take one list. */
export async function allOptions(
  picker: PickerDefinition,
  client: KlaviyoClient,
  query: Omit<PickerQuery, "cursor"> & { readonly max?: number } = {},
): Promise<{ options: PickerOption[]; truncated: boolean }> {
  const max = query.max ?? 5000;
  const options: PickerOption[] = [];
  let cursor: string | undefined;
  do {
    const page = await picker.page(client, { ...query, ...(cursor ? { cursor } : {}) });
    options.push(...page.options);
    cursor = page.cursor;
    if (options.length >= max)
      return { options: options.slice(0, max), truncated: cursor !== undefined || options.length > max };
  } while (cursor);
  return { options, truncated: false };
}
