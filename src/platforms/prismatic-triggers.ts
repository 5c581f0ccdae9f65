/**
 * The Prismatic component's polling triggers and data sources, generated from the shared catalogues
 * (`./triggers.ts`, `./pickers.ts`) the Activepieces piece is built from too.
 *
 * A trigger (spectral's `pollingTrigger`, so Prismatic runs it on the flow's schedule) reads the change feed
 * from the checkpoint it keeps through the polling context (`context.polling.getState()/setState()`, which
 * spectral stores in the instance's state), and returns the changes as the items of one payload,
 * `payload.body.data`, one `Change` each (`{ stream, change, at, record, related?, late? }`). It declares
 * batching (`triggerResolverSupport: "valid"`, a default `batchConfig`, and a resolver): a flow that batches gets
 * one execution per batch of changes (one change each by default), a flow that does not gets the poll's changes
 * as one list. A poll stops after `maxChanges`; when more wait it returns the checkpoint as the payload's
 * `paginationState`, so a batching flow polls again at once in the same run (and any flow carries on at its next
 * poll, from the state saved). An empty poll says `polledNoChanges`, which Prismatic records as such.
 *
 * A data source (type picklist) walks every page of its collection through the picker (lists come ten a page),
 * bounded, and offers `{ key: id, label }`; profiles are found by email, never walked. Each is attached to the
 * action and trigger inputs taking its IDs (`dataSource` on the input).
 */

import type {
  Connection,
  Element,
  InputFieldDefinition,
  PollingTriggerDefinition,
  TriggerPayload,
} from "@prismatic-io/spectral";
import spectral from "@prismatic-io/spectral";
import type { KlaviyoClient } from "../core/client.js";
import type { FeedCheckpoint } from "../feed/checkpoint.js";
import type { Change } from "../feed/feed.js";
import { camelKey } from "./common.js";
import { allOptions, getPicker, PICKERS, type PickerDefinition, type PickerKey } from "./pickers.js";
import { pollTrigger, TRIGGERS, type TriggerDefinition, type TriggerInput } from "./triggers.js";

const { pollingTrigger, dataSource, input } = spectral;

/** How the triggers poll; the defaults are the feed's (tests set a clock and no horizon). */
export interface PrismaticTriggerOptions {
  /** Stop a poll at the end of the page where this many changes have been read (default 500). */
  maxChanges?: number;
  /** How far behind now a poll reads, in seconds (default 30: records still being written are read next time). */
  horizonSeconds?: number;
  /** New Event: how far back late and backdated events are looked for, in seconds (default 7 days). */
  lookbackSeconds?: number;
  /** The time (default `Date.now`). */
  now?: () => number;
  /** The default batch size of a flow that batches (default 1: an execution per change). */
  batchSize?: number;
}

export interface PrismaticDataSourceOptions {
  /** The most options a data source returns (default 5,000); past it, the rest are left out and a warning logged. */
  maxOptions?: number;
}

/** Makes the client a step runs on from the connection it was handed. */
export type ClientForConnection = (connection: Connection | undefined) => KlaviyoClient;

/** The data source's key on the component: `selectList`, `selectCampaign`, … */
export function dataSourceKeyOf(picker: PickerKey | PickerDefinition): string {
  const def = typeof picker === "string" ? getPicker(picker) : picker;
  return `select${def.label.replace(/[^A-Za-z0-9]/g, "")}`;
}

/** The trigger's key on the component: `newAndUpdatedProfiles`, `profileAddedToList`, … */
export function triggerKeyOf(trigger: TriggerDefinition): string {
  return camelKey(trigger.key);
}

/** The Connection input every action and trigger of the component starts with. */
export const connectionInput = () => input({ label: "Connection", type: "connection", required: true });

/** A date-time as ISO 8601: a timestamp may come as epoch seconds or milliseconds (below 10¹¹: seconds). */
function cleanDateTime(value: unknown): unknown {
  const epoch =
    typeof value === "number"
      ? value
      : typeof value === "string" && /^\d{9,}$/.test(value.trim())
        ? Number(value)
        : NaN;
  if (!Number.isFinite(epoch)) return value;
  return new Date(epoch < 1e11 ? epoch * 1000 : epoch).toISOString();
}

/** One of a trigger's inputs as a spectral input, with its data source when it takes an ID. */
function triggerInput(def: TriggerInput): InputFieldDefinition {
  const base = { label: def.label, comments: def.comments, required: def.required };
  switch (def.type) {
    case "date":
      return input({ ...base, type: "timestamp", example: "2026-01-01T00:00:00Z", clean: cleanDateTime });
    case "boolean":
      return input({ ...base, type: "boolean", default: String(def.default ?? false) });
    default:
      return input({
        ...base,
        type: "string",
        ...(def.picker ? { dataSource: dataSourceKeyOf(def.picker) } : {}),
      });
  }
}

/** The continuation of a run whose poll stopped with more to read. */
type Continuation = { checkpoint: FeedCheckpoint };

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const s = String(value).trim();
  return s === "" ? undefined : s;
}

/**
 * The saved state, if it was made for what the trigger now watches. A customer who changes the list, segment or
 * metric of a deployed instance keeps the instance's state: the checkpoint of the old one would be refused by the
 * feed on every poll, so the trigger starts again as on a first poll (from Look-back Date, or now).
 */
function usableState(
  trigger: TriggerDefinition,
  saved: Record<string, unknown>,
  inputs: Record<string, unknown>,
): { state?: { checkpoint: unknown }; dropped: boolean } {
  const checkpoint = saved.checkpoint as Partial<FeedCheckpoint> | undefined;
  if (checkpoint === undefined || checkpoint === null) return { dropped: false };
  if (typeof checkpoint !== "object") return { state: { checkpoint }, dropped: false };
  const scope = (checkpoint.scope ?? {}) as Record<string, unknown>;
  const key = trigger.scope?.key;
  const same =
    checkpoint.stream === trigger.stream &&
    (["listId", "segmentId", "metricId"] as const).every(
      (k) => (scope[k] ?? undefined) === (k === key ? text(inputs[k]) : undefined),
    );
  return same ? { state: { checkpoint }, dropped: false } : { dropped: true };
}

function prismaticTrigger(
  trigger: TriggerDefinition,
  clientFor: ClientForConnection,
  options: PrismaticTriggerOptions,
) {
  const inputs: Record<string, InputFieldDefinition> = { connection: connectionInput() };
  for (const def of trigger.inputs) inputs[def.key] = triggerInput(def);
  const definition: PollingTriggerDefinition = {
    display: { label: trigger.label, description: trigger.description },
    inputs,
    triggerResolverSupport: "valid",
    batchConfig: { batchSize: options.batchSize ?? 1 },
    triggerResolver: {
      // The changes of the poll, one item each.
      resolveItems: (_context, result) => {
        const data = result.payload.body?.data;
        return Array.isArray(data) ? data : [];
      },
      // More changes wait: poll again in this run, from where this poll stopped.
      getNextPaginationState: (_context, result) => result.payload.paginationState ?? null,
    },
    perform: async (context, payload, params) => {
      const { connection, ...values } = params as Record<string, unknown> & { connection?: Connection };
      const continuation = (payload as TriggerPayload<Continuation>).paginationState;
      let state: { checkpoint: unknown } | undefined;
      if (continuation?.checkpoint) state = { checkpoint: continuation.checkpoint };
      else {
        const usable = usableState(trigger, context.polling.getState(), values);
        if (usable.dropped)
          context.logger.warn(
            `${trigger.label}: the saved state was made for another ${trigger.scope ? "list, segment or metric" : "trigger"}; starting again.`,
          );
        state = usable.state;
      }
      const result = await pollTrigger(trigger, clientFor(connection), {
        inputs: values,
        ...(state ? { state } : {}),
        ...(options.maxChanges !== undefined ? { maxChanges: options.maxChanges } : {}),
        ...(options.now ? { now: options.now } : {}),
        ...(options.horizonSeconds !== undefined ? { horizonSeconds: options.horizonSeconds } : {}),
        ...(options.lookbackSeconds !== undefined ? { lookbackSeconds: options.lookbackSeconds } : {}),
      });
      // Saved after every poll, before the changes are handed on: Prismatic queues what a poll returns.
      context.polling.setState({ ...result.state });
      const next: Continuation | undefined = result.more
        ? { checkpoint: result.state.checkpoint }
        : undefined;
      const changes: Change[] = result.changes;
      return {
        payload: {
          ...payload,
          body: { data: changes, contentType: "application/json" },
          paginationState: next,
        },
        // Read by Prismatic from a run's first poll only.
        ...(continuation ? {} : { polledNoChanges: changes.length === 0 && !result.more }),
      };
    },
  };
  return pollingTrigger(definition);
}

/** One polling trigger per entry of the catalogue, by `triggerKeyOf`. */
export function prismaticTriggers(
  clientFor: ClientForConnection,
  options: PrismaticTriggerOptions = {},
): Record<string, PollingTriggerDefinition> {
  const out: Record<string, PollingTriggerDefinition> = {};
  for (const trigger of TRIGGERS) out[triggerKeyOf(trigger)] = prismaticTrigger(trigger, clientFor, options);
  return out;
}

function prismaticDataSource(
  picker: PickerDefinition,
  clientFor: ClientForConnection,
  options: PrismaticDataSourceOptions,
) {
  const profiles = picker.key === "profiles";
  const max = options.maxOptions ?? 5000;
  return dataSource({
    display: {
      label: `Select ${picker.label}`,
      description: profiles
        ? "Profiles found by email address; without one, the 50 most recently created."
        : `Every ${picker.label.toLowerCase()} of the account, page after page (up to ${max}).`,
    },
    dataSourceType: "picklist",
    inputs: {
      connection: connectionInput(),
      search: input({
        label: profiles ? "Email" : "Search",
        comments: profiles
          ? "The email address of the profile to find (exactly)."
          : `Only ${picker.label.toLowerCase()}s whose name contains this text; empty for all.`,
        type: "string",
        required: false,
      }),
    },
    perform: async (context, params) => {
      const { connection, search } = params as { connection?: Connection; search?: unknown };
      const query = text(search);
      const got = await allOptions(picker, clientFor(connection), {
        max,
        ...(query ? { search: query } : {}),
      });
      if (got.truncated)
        context.logger.warn(`${picker.label}: only the first ${max} are offered; search to narrow them.`);
      const result: Element[] = got.options.map((o) => ({ key: o.value, label: o.label }));
      return { result };
    },
  });
}

/** A data source of the component: a picklist of `{ key: id, label }`. */
export type PrismaticDataSource = ReturnType<typeof prismaticDataSource>;

/** A picklist data source per picker, by `dataSourceKeyOf`. */
export function prismaticDataSources(
  clientFor: ClientForConnection,
  options: PrismaticDataSourceOptions = {},
): Record<string, PrismaticDataSource> {
  const out: Record<string, PrismaticDataSource> = {};
  for (const picker of PICKERS)
    out[dataSourceKeyOf(picker)] = prismaticDataSource(picker, clientFor, options);
  return out;
}
