/**
 * The polling triggers, one definition each, from which the Prismatic component and the Activepieces piece
 * are generated: what stream each reads, its inputs (labels, comments, defaults), and one poll, which reads the
 * change feed from the state the platform kept and returns the changes with the state to keep. A poll stops
 * after `maxChanges` at a page's end, and the next carries on from there, so a burst of changes is neither lost
 * nor delivered twice however the platform splits it.
 */
import type { KlaviyoClient } from "../core/client.js";
import { InputValidationError } from "../core/errors.js";
import type { FeedCheckpoint } from "../feed/checkpoint.js";
import { type Change, changeFeed, initialCheckpoint } from "../feed/feed.js";
import type { ChangeKind, StreamName } from "../feed/streams.js";
import type { PickerKey } from "./pickers.js";

/** An input of a trigger, as both platforms show it. */
export interface TriggerInput {
  /** The key its value comes under (`lookBackDate`). */
  readonly key: string;
  readonly label: string;
  readonly comments: string;
  readonly type: "date" | "boolean" | "id";
  readonly required: boolean;
  readonly default?: boolean;
  /** The picker offering its values. */
  readonly picker?: PickerKey;
}

export interface TriggerDefinition {
  /** `new-and-updated-profiles`. */
  readonly key: string;
  readonly label: string;
  readonly description: string;
  readonly stream: StreamName;
  /** The kinds of change Show New Records selects (when the trigger has the two toggles). */
  readonly newKinds?: readonly ChangeKind[];
  /** The kinds Show Updated Records selects. */
  readonly updatedKinds?: readonly ChangeKind[];
  /** The scope input: the list or segment whose members it follows, the metric of its events. */
  readonly scope?: { readonly key: "listId" | "segmentId" | "metricId"; readonly required: boolean };
  readonly inputs: readonly TriggerInput[];
}

const lookBackDate: TriggerInput = {
  key: "lookBackDate",
  label: "Look-back Date",
  comments:
    "On the first poll, deliver changes made since this date and time (ISO 8601). Left empty, the trigger starts now and delivers only what changes from then on.",
  type: "date",
  required: false,
};

const toggles = (noun: string): TriggerInput[] => [
  {
    key: "showNewRecords",
    label: "Show New Records",
    comments: `Deliver ${noun} created since the last poll.`,
    type: "boolean",
    required: false,
    default: true,
  },
  {
    key: "showUpdatedRecords",
    label: "Show Updated Records",
    comments: `Deliver ${noun} that existed before and changed since the last poll.`,
    type: "boolean",
    required: false,
    default: true,
  },
];

function newAndUpdated(stream: StreamName, plural: string, extra = ""): TriggerDefinition {
  const label = `New and Updated ${plural}`;
  return {
    key: `new-and-updated-${stream}`,
    label,
    description: `Fires for each ${plural.toLowerCase().replace(/s$/, "")} created or changed in Klaviyo${extra}, exactly once, including several changed in the same second.`,
    stream,
    newKinds: ["created"],
    updatedKinds: ["updated"],
    inputs: [lookBackDate, ...toggles(plural.toLowerCase())],
  };
}

export const TRIGGERS: readonly TriggerDefinition[] = [
  newAndUpdated("profiles", "Profiles"),
  newAndUpdated("lists", "Lists"),
  newAndUpdated("segments", "Segments"),
  newAndUpdated("campaigns", "Campaigns", " (email, SMS and push, archived ones included)"),
  newAndUpdated("templates", "Templates"),
  newAndUpdated("flows", "Flows", " (archived ones included)"),
  {
    key: "new-event",
    label: "New Event",
    description:
      "Fires for each event recorded in Klaviyo, of one metric or of all, with its metric and profile. Events recorded with a past time, or indexed late by Klaviyo, are found by a second reading a week behind and delivered then, once.",
    stream: "events",
    scope: { key: "metricId", required: false },
    inputs: [
      {
        key: "metricId",
        label: "Metric",
        comments: "Only events of this metric (Placed Order, Opened Email, …); empty for every metric.",
        type: "id",
        required: false,
        picker: "metrics",
      },
      lookBackDate,
    ],
  },
  {
    key: "profile-added-to-list",
    label: "Profile Added to List",
    description: "Fires for each profile that joins the list, once, with the time it joined.",
    stream: "list-members",
    scope: { key: "listId", required: true },
    inputs: [
      {
        key: "listId",
        label: "List",
        comments: "The list to watch.",
        type: "id",
        required: true,
        picker: "lists",
      },
      lookBackDate,
    ],
  },
  {
    key: "profile-added-to-segment",
    label: "Profile Added to Segment",
    description: "Fires for each profile that enters the segment, once, with the time it joined.",
    stream: "segment-members",
    scope: { key: "segmentId", required: true },
    inputs: [
      {
        key: "segmentId",
        label: "Segment",
        comments: "The segment to watch.",
        type: "id",
        required: true,
        picker: "segments",
      },
      lookBackDate,
    ],
  },
  {
    key: "profile-unsubscribed-or-suppressed",
    label: "Profile Unsubscribed or Suppressed",
    description:
      "Fires for each profile suppressed from all email (bounced, marked spam, suppressed by hand) or unsubscribed from a list, once each time.",
    stream: "suppressions",
    inputs: [lookBackDate],
  },
];

export function getTrigger(key: string): TriggerDefinition | undefined {
  return TRIGGERS.find((t) => t.key === key);
}

export interface PollOptions {
  /** The trigger's input values, by key (text forms allowed: `"false"`, an ISO date). */
  readonly inputs: Readonly<Record<string, unknown>>;
  /** What the previous poll returned as `state`; absent on the first. */
  readonly state?: unknown;
  /** Stop at the end of the page where this many changes have been read (default 500); the next poll goes on. */
  readonly maxChanges?: number;
  readonly now?: () => number;
  readonly horizonSeconds?: number;
  readonly lookbackSeconds?: number;
  readonly signal?: AbortSignal;
}

export interface PollResult {
  /** The changes to deliver, in order, after Show New / Show Updated Records. */
  readonly changes: Change[];
  /** What to keep for the next poll. */
  readonly state: { readonly checkpoint: FeedCheckpoint };
  /** More changes wait: poll again soon rather than after the interval. */
  readonly more: boolean;
}

function flag(value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null || value === "") return fallback;
  if (typeof value === "boolean") return value;
  if (value === "true") return true;
  if (value === "false") return false;
  return Boolean(value);
}

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const s = String(value).trim();
  return s === "" ? undefined : s;
}

type TriggerScope = { listId?: string; segmentId?: string; metricId?: string };

/** The list, segment or metric a trigger follows, from its inputs; a required one missing is refused by label. */
function scopeOf(trigger: TriggerDefinition, inputs: Readonly<Record<string, unknown>>): TriggerScope {
  const scope: TriggerScope = {};
  if (trigger.scope) {
    const value = text(inputs[trigger.scope.key]);
    const input = trigger.inputs.find((i) => i.key === trigger.scope?.key);
    if (value === undefined && trigger.scope.required) {
      throw new InputValidationError([
        { key: trigger.scope.key, label: input?.label ?? trigger.scope.key, message: "is required." },
      ]);
    }
    if (value !== undefined) scope[trigger.scope.key] = value;
  }
  return scope;
}

/** The Look-back Date, checked; absent when empty. */
function sinceOf(inputs: Readonly<Record<string, unknown>>): string | undefined {
  const since = text(inputs.lookBackDate);
  if (since !== undefined && Number.isNaN(Date.parse(since))) {
    throw new InputValidationError([
      {
        key: "lookBackDate",
        label: "Look-back Date",
        message: `${JSON.stringify(since)} is not a date-time.`,
      },
    ]);
  }
  return since;
}

/**
 * The state a trigger starts from before its first poll, without reading Klaviyo: the checkpoint at the
 * Look-back Date, or at now. A platform that has a hook for enabling a trigger keeps this, so the first poll
 * delivers what changed since then, however long after it runs.
 */
export function startState(
  trigger: TriggerDefinition,
  options: Pick<PollOptions, "inputs" | "now" | "lookbackSeconds">,
): { readonly checkpoint: FeedCheckpoint } {
  const since = sinceOf(options.inputs);
  return {
    checkpoint: initialCheckpoint({
      stream: trigger.stream,
      ...scopeOf(trigger, options.inputs),
      ...(since !== undefined ? { since } : {}),
      ...(options.now ? { now: options.now } : {}),
      ...(options.lookbackSeconds !== undefined ? { lookbackSeconds: options.lookbackSeconds } : {}),
    }),
  };
}

/** One poll of `trigger`: the changes since the state, and the state to keep. */
export async function pollTrigger(
  trigger: TriggerDefinition,
  client: KlaviyoClient,
  options: PollOptions,
): Promise<PollResult> {
  const { inputs } = options;
  const scope = scopeOf(trigger, inputs);
  const kept = (options.state as { checkpoint?: unknown } | undefined)?.checkpoint;
  const since = sinceOf(inputs);
  const showNew = flag(inputs.showNewRecords, true);
  const showUpdated = flag(inputs.showUpdatedRecords, true);
  const wanted = (c: Change) =>
    (trigger.newKinds?.includes(c.change) ? showNew : true) &&
    (trigger.updatedKinds?.includes(c.change) ? showUpdated : true);
  const maxChanges = options.maxChanges ?? 500;
  const changes: Change[] = [];
  let checkpoint: FeedCheckpoint | undefined;
  let read = 0;
  let more = false;
  const feed = changeFeed(client, {
    stream: trigger.stream,
    ...scope,
    ...(kept !== undefined ? { checkpoint: kept as FeedCheckpoint } : since !== undefined ? { since } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.horizonSeconds !== undefined ? { horizonSeconds: options.horizonSeconds } : {}),
    ...(options.lookbackSeconds !== undefined ? { lookbackSeconds: options.lookbackSeconds } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  for await (const page of feed) {
    checkpoint = page.checkpoint;
    read += page.changes.length;
    for (const c of page.changes) if (wanted(c)) changes.push(c);
    if (read >= maxChanges) {
      more = true;
      break;
    }
  }
  // The feed yields at least one page, its checkpoint included, even when nothing can have changed yet.
  if (!checkpoint) throw new Error("the change feed yielded no page");
  return { changes, state: { checkpoint }, more };
}
