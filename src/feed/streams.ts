/**
 * The change streams: for each, the collection it reads, the datetime that moves when something changes, the
 * partitions Klaviyo forces (campaigns are asked for one channel at a time; archived flows and campaigns only
 * when asked), and how a record's kind of change is told. The filter operators and sorts each stream may use
 * are not written here: they are read from the OpenAPI document's rules (`timeFieldSupport`), so a query the
 * document does not allow cannot be built.
 */
import { timeFieldSupport } from "../core/partition.js";
import { type FilterNode, filter } from "../klaviyo/filter.js";

export const STREAM_NAMES = [
  "profiles",
  "lists",
  "segments",
  "templates",
  "flows",
  "campaigns",
  "events",
  "list-members",
  "segment-members",
  "suppressions",
] as const;

export type StreamName = (typeof STREAM_NAMES)[number];

/**
 * The kind of a change: a record `created` or `updated` (profiles, lists, segments, templates, flows, campaigns),
 * an event `recorded`, a profile that `joined` a list or segment, a profile `suppressed` (from all email) or
 * `unsubscribed` from one list.
 */
export type ChangeKind = "created" | "updated" | "recorded" | "joined" | "suppressed" | "unsubscribed";

/** What a stream is scoped to: the list or segment whose members it reads, the one metric of its events. */
export interface StreamScope {
  readonly listId?: string;
  readonly segmentId?: string;
  readonly metricId?: string;
}

export interface Partition {
  /** Its key in a checkpoint (`all`, `email/archived`). */
  readonly key: string;
  /** Conditions beside the time bounds (a campaign's channel, `archived`). */
  readonly where: readonly FilterNode[];
  /** The datetime field filtered and sorted on. */
  readonly field: string;
  /** The kind of change every record of this partition is, when it is not told by its creation time. */
  readonly kind?: ChangeKind;
}

export interface StreamDefinition {
  readonly name: StreamName;
  /** The collection read (an operation of the OpenAPI document). */
  readonly operation: string;
  /** Its path, with `{id}` for the list or segment. */
  readonly path: string;
  /** The scope member naming the path's `{id}`, when the stream reads a list or segment. */
  readonly pathScope?: "listId" | "segmentId";
  /** The record's creation time, telling `created` from `updated`; absent when every change is of one kind. */
  readonly createdField?: string;
  /** Query parameters every request carries (`additional-fields`, `include`). */
  readonly query?: Readonly<Record<string, string>>;
  /** The partitions, each walked with its own checkpoint. */
  partitions(scope: StreamScope): Partition[];
}

const one = (field: string, kind?: ChangeKind): Partition[] => [
  { key: "all", where: [], field, ...(kind ? { kind } : {}) },
];

/** Klaviyo's campaign channels; `filter` on List Campaigns must name exactly one. */
export const CAMPAIGN_CHANNELS = ["email", "sms", "mobile_push"] as const;

const SUPPRESSION = "subscriptions.email.marketing.suppression.timestamp";
const LIST_SUPPRESSION = "subscriptions.email.marketing.list_suppressions.timestamp";

export const STREAMS: Readonly<Record<StreamName, StreamDefinition>> = {
  profiles: {
    name: "profiles",
    operation: "get_profiles",
    path: "/api/profiles",
    createdField: "created",
    partitions: () => one("updated"),
  },
  lists: {
    name: "lists",
    operation: "get_lists",
    path: "/api/lists",
    createdField: "created",
    partitions: () => one("updated"),
  },
  segments: {
    name: "segments",
    operation: "get_segments",
    path: "/api/segments",
    createdField: "created",
    partitions: () => one("updated"),
  },
  templates: {
    name: "templates",
    operation: "get_templates",
    path: "/api/templates",
    createdField: "created",
    partitions: () => one("updated"),
  },
  flows: {
    name: "flows",
    operation: "get_flows",
    path: "/api/flows",
    createdField: "created",
    // Archived flows are answered only when asked for.
    partitions: () =>
      [false, true].map((archived) => ({
        key: archived ? "archived" : "active",
        where: [filter.equals("archived", archived)],
        field: "updated",
      })),
  },
  campaigns: {
    name: "campaigns",
    operation: "get_campaigns",
    path: "/api/campaigns",
    createdField: "created_at",
    // Every channel, archived ones included: List Campaigns answers one channel per request, and archived
    // campaigns only when asked for.
    partitions: () =>
      CAMPAIGN_CHANNELS.flatMap((channel) =>
        [false, true].map((archived) => ({
          key: `${channel}${archived ? "/archived" : ""}`,
          where: [filter.equals("messages.channel", channel), filter.equals("archived", archived)],
          field: "updated_at",
        })),
      ),
  },
  events: {
    name: "events",
    operation: "get_events",
    path: "/api/events",
    query: { include: "metric,profile" },
    partitions: (scope) =>
      one("datetime", "recorded").map((p) => ({
        ...p,
        where: scope.metricId ? [filter.equals("metric_id", scope.metricId)] : [],
      })),
  },
  "list-members": {
    name: "list-members",
    operation: "get_profiles_for_list",
    path: "/api/lists/{id}/profiles",
    pathScope: "listId",
    partitions: () => one("joined_group_at", "joined"),
  },
  "segment-members": {
    name: "segment-members",
    operation: "get_profiles_for_segment",
    path: "/api/segments/{id}/profiles",
    pathScope: "segmentId",
    partitions: () => one("joined_group_at", "joined"),
  },
  suppressions: {
    name: "suppressions",
    operation: "get_profiles",
    path: "/api/profiles",
    query: { "additional-fields[profile]": "subscriptions" },
    partitions: () => [
      { key: "suppression", where: [], field: SUPPRESSION, kind: "suppressed" },
      { key: "list-suppressions", where: [], field: LIST_SUPPRESSION, kind: "unsubscribed" },
    ],
  },
};

/** How a stream's partition bounds its time field, as the document allows it. */
export interface TimeQuery {
  /** `greater-or-equal(field, T)` is allowed; otherwise `greater-than(field, T - 1 s)`, Klaviyo's times being whole seconds. */
  readonly inclusive: boolean;
  /** `less-than(field, U)` is allowed; otherwise the walk stops at the first record at or past U (it is sorted). */
  readonly upper: boolean;
}

/** The time query a partition may use, or an error naming what the document lacks. */
export function timeQuery(stream: StreamDefinition, partition: Partition): TimeQuery {
  const s = timeFieldSupport(stream.operation, partition.field);
  if (!s?.sortAscending || !(s.inclusive || s.strict)) {
    throw new Error(
      `${stream.operation} cannot be read as a change stream on ${partition.field}: it needs a lower bound and an ascending sort`,
    );
  }
  return { inclusive: s.inclusive, upper: s.upper };
}

/**
 * When a record changed, by a partition's field: its attribute (`updated`, `datetime`, `joined_group_at`), or,
 * for a suppression field (an array of `{ timestamp }` in Klaviyo's subscriptions), the latest timestamp below
 * `below` (the walk's upper bound), since a profile unsubscribed from several lists is one record. Epoch ms.
 */
export function changedAt(
  record: unknown,
  field: string,
  below = Number.POSITIVE_INFINITY,
): number | undefined {
  const attributes = (record as { attributes?: Record<string, unknown> } | null)?.attributes;
  if (!attributes) return undefined;
  const path = field.split(".");
  const last = path.pop() as string;
  let node: unknown = attributes;
  for (const step of path) node = (node as Record<string, unknown> | null | undefined)?.[step];
  const values = (Array.isArray(node) ? node : [node]).map((n) =>
    n && typeof n === "object" ? (n as Record<string, unknown>)[last] : undefined,
  );
  let best: number | undefined;
  for (const value of values) {
    if (typeof value !== "string") continue;
    const ms = Date.parse(value);
    if (Number.isNaN(ms) || ms >= below) continue;
    if (best === undefined || ms > best) best = ms;
  }
  return best;
}
