/**
 * The Activepieces side of the triggers and pickers (`./triggers.ts`, `./pickers.ts`): one polling trigger per
 * trigger definition, its change-feed checkpoint kept in the step's `context.store`, and one dynamic dropdown per
 * picker, offered on the trigger inputs and the action inputs that take those IDs. Loaded only through
 * `./activepieces.ts`, the piece's entry point.
 *
 * State. `onEnable` keeps the checkpoint the trigger starts from (the Look-back Date, or now) without reading
 * Klaviyo; each `run` reads the feed from the kept checkpoint, returns the changes and then keeps the checkpoint
 * after them, so a run that fails keeps the old one and the next delivers the same changes (none are lost, and
 * none delivered twice by runs that succeed). `onDisable` forgets it. `test` reads a few recent changes on a
 * checkpoint of its own and never touches the store.
 */
import {
  createTrigger,
  type DropdownState,
  type PieceAuthProperty,
  Property,
  type Trigger,
  TriggerStrategy,
} from "@activepieces/pieces-framework";
import { connections as ourConnections } from "../actions/connections.js";
import type { AuthStrategy } from "../core/auth-strategy.js";
import { KlaviyoClient } from "../core/client.js";
import type { Change } from "../feed/feed.js";
import type { StreamName } from "../feed/streams.js";
import { type AdapterOptions, authOf, snakeKey } from "./common.js";
import { allOptions, getPicker, type PickerDefinition } from "./pickers.js";
import { pollTrigger, startState, TRIGGERS, type TriggerDefinition, type TriggerInput } from "./triggers.js";

const [apiKeySpec, oauthSpec] = ourConnections;

/** The auth a step was handed, as our strategy: an OAuth access token when it has one, else the API key. */
export function authOfValue(auth: unknown): AuthStrategy {
  const value = (auth ?? {}) as { access_token?: unknown; secret_text?: unknown };
  if (typeof auth === "string") return authOf({ apiKey: auth }, apiKeySpec.label);
  if (value.access_token !== undefined || value.secret_text === undefined)
    return authOf({ accessToken: value.access_token }, oauthSpec.label);
  return authOf({ apiKey: value.secret_text }, apiKeySpec.label);
}

/** Settings of the triggers, mostly for tests: the feed's clock, horizon and lookback, and the size of a run. */
export interface TriggerOptions {
  /** The time (epoch ms); default `Date.now`. Share it with the emulator's `clock` to test without waiting. */
  readonly now?: () => number;
  /** How far behind now a run reads (the feed's horizon); default 30 s. */
  readonly horizonSeconds?: number;
  /** How far back New Event re-reads for late events; default 7 days. */
  readonly lookbackSeconds?: number;
  /** A run stops at the end of the page where it has read this many changes (default 500); the next goes on. */
  readonly maxChanges?: number;
}

export interface DropdownOptions {
  /** At most this many choices in a dropdown (default 5,000); beyond it, the placeholder asks for a search. */
  readonly max?: number;
}

export interface ActivepiecesExtrasOptions extends AdapterOptions {
  readonly triggers?: TriggerOptions;
  readonly dropdowns?: DropdownOptions;
}

/** A client on the connection a piece's step or dropdown was handed. */
export function clientFor(auth: unknown, options: AdapterOptions): KlaviyoClient {
  return new KlaviyoClient({ ...options.client, auth: authOfValue(auth) });
}

const NO_AUTH = "Connect a Klaviyo account first";

/** The state of a dropdown before a connection is chosen (disabled, saying so); undefined once one is. */
export function withoutConnection(auth: unknown): DropdownState<string> | undefined {
  return auth === undefined || auth === null || auth === ""
    ? { disabled: true, placeholder: NO_AUTH, options: [] }
    : undefined;
}

/**
 * The choices of one picker, every page of them (bounded by `max`), searched with what the user typed where
 * Klaviyo can (`refreshOnSearch`: the builder asks again with `searchValue`). Without a connection, or when
 * Klaviyo refuses, the dropdown is disabled and its placeholder says why.
 */
export async function dropdownOptions(
  picker: PickerDefinition,
  auth: unknown,
  search: string | undefined,
  options: ActivepiecesExtrasOptions,
): Promise<DropdownState<string>> {
  const unconnected = withoutConnection(auth);
  if (unconnected) return unconnected;
  try {
    const max = options.dropdowns?.max ?? 5000;
    const found = await allOptions(picker, clientFor(auth, options), {
      max,
      ...(search?.trim() ? { search: search.trim() } : {}),
    });
    const noun = picker.label.toLowerCase();
    return {
      disabled: false,
      options: found.options,
      ...(found.truncated
        ? { placeholder: `The first ${max} of more: type to search, or give the ${noun}'s ID` }
        : found.options.length === 0
          ? { placeholder: search?.trim() ? `No ${noun} matches` : `No ${noun} in this account` }
          : {}),
    };
  } catch (error) {
    return {
      disabled: true,
      placeholder: `Could not read the ${picker.label.toLowerCase()}s: ${(error as Error).message}`,
      options: [],
    };
  }
}

/** A dynamic dropdown offering a picker's choices, for an input (`required`, label, description). */
export function pickerDropdown(
  picker: PickerDefinition,
  auth: PieceAuthProperty[],
  base: { displayName: string; description?: string; required: boolean },
  options: ActivepiecesExtrasOptions,
) {
  return Property.Dropdown<string, boolean, PieceAuthProperty[]>({
    ...base,
    auth,
    refreshers: [],
    refreshOnSearch: true,
    options: async ({ auth: value }, ctx) =>
      dropdownOptions(picker, value, (ctx as { searchValue?: string } | undefined)?.searchValue, options),
  });
}

function triggerProperty(input: TriggerInput, auth: PieceAuthProperty[], options: ActivepiecesExtrasOptions) {
  const base = { displayName: input.label, description: input.comments, required: input.required };
  switch (input.type) {
    case "date":
      return Property.DateTime(base);
    case "boolean":
      return Property.Checkbox({ ...base, defaultValue: input.default ?? true });
    default:
      return input.picker
        ? pickerDropdown(getPicker(input.picker), auth, base, options)
        : Property.ShortText(base);
  }
}

/** Where a trigger keeps its checkpoint in the flow's store: one key per trigger and list, segment or metric. */
export function storeKey(trigger: TriggerDefinition, inputs: Readonly<Record<string, unknown>>): string {
  const scope = trigger.scope ? inputs[trigger.scope.key] : undefined;
  const suffix = typeof scope === "string" && scope.trim() !== "" ? `:${scope.trim()}` : "";
  return `klaviyo-feed:${trigger.key}${suffix}`;
}

/** How many changes Test shows. */
const SAMPLE_SIZE = 5;
const DAY_MS = 86_400_000;

/**
 * A few recent changes, newest first, on a checkpoint of their own: from the Look-back Date when given, else over
 * the last day, then 30 days, then a year, until some are found. Each walk stops after a bounded number of
 * changes, and reads up to now (no horizon: nothing is kept, so nothing read early can be skipped later).
 */
async function recentChanges(
  trigger: TriggerDefinition,
  client: KlaviyoClient,
  inputs: Readonly<Record<string, unknown>>,
  options: TriggerOptions,
): Promise<Change[]> {
  const now = options.now ?? Date.now;
  const given = inputs.lookBackDate;
  const windows =
    typeof given === "string" && given.trim() !== ""
      ? [given]
      : [DAY_MS, 30 * DAY_MS, 365 * DAY_MS].map((ms) => new Date(now() - ms).toISOString());
  let found: Change[] = [];
  for (const since of windows) {
    const { changes } = await pollTrigger(trigger, client, {
      inputs: { ...inputs, lookBackDate: since },
      maxChanges: 500,
      horizonSeconds: 0,
      lookbackSeconds: 0,
      now,
    });
    found = changes;
    if (found.length >= SAMPLE_SIZE) break;
  }
  return found.slice(-SAMPLE_SIZE).reverse();
}

const SAMPLE_RECORD: Record<StreamName, { type: string; attributes: Record<string, unknown> }> = {
  profiles: {
    type: "profile",
    attributes: {
      email: "sarah.mason@klaviyo-demo.com",
      first_name: "Sarah",
      last_name: "Mason",
      created: "2025-01-15T09:30:00+00:00",
      updated: "2025-01-15T09:30:00+00:00",
    },
  },
  lists: {
    type: "list",
    attributes: {
      name: "Newsletter",
      opt_in_process: "double_opt_in",
      created: "2025-01-15T09:30:00+00:00",
      updated: "2025-01-15T09:30:00+00:00",
    },
  },
  segments: {
    type: "segment",
    attributes: {
      name: "Engaged, last 30 days",
      is_active: true,
      created: "2025-01-15T09:30:00+00:00",
      updated: "2025-01-15T09:30:00+00:00",
    },
  },
  templates: {
    type: "template",
    attributes: {
      name: "Welcome",
      editor_type: "CODE",
      created: "2025-01-15T09:30:00+00:00",
      updated: "2025-01-15T09:30:00+00:00",
    },
  },
  flows: {
    type: "flow",
    attributes: {
      name: "Welcome Series",
      status: "draft",
      archived: false,
      created: "2025-01-15T09:30:00+00:00",
      updated: "2025-01-15T09:30:00+00:00",
    },
  },
  campaigns: {
    type: "campaign",
    attributes: {
      name: "Spring Sale",
      status: "Draft",
      archived: false,
      created_at: "2025-01-15T09:30:00+00:00",
      updated_at: "2025-01-15T09:30:00+00:00",
    },
  },
  events: {
    type: "event",
    attributes: {
      datetime: "2025-01-15T09:30:00+00:00",
      timestamp: 1736933400,
      event_properties: { value: 42.5 },
    },
  },
  "list-members": {
    type: "profile",
    attributes: { email: "sarah.mason@klaviyo-demo.com", joined_group_at: "2025-01-15T09:30:00+00:00" },
  },
  "segment-members": {
    type: "profile",
    attributes: { email: "sarah.mason@klaviyo-demo.com", joined_group_at: "2025-01-15T09:30:00+00:00" },
  },
  suppressions: {
    type: "profile",
    attributes: {
      email: "sarah.mason@klaviyo-demo.com",
      subscriptions: {
        email: {
          marketing: {
            suppression: [{ reason: "USER_SUPPRESSED", timestamp: "2025-01-15T09:30:00+00:00" }],
            list_suppressions: [],
          },
        },
      },
    },
  },
};

const SAMPLE_KIND: Record<StreamName, Change["change"]> = {
  profiles: "created",
  lists: "created",
  segments: "created",
  templates: "created",
  flows: "created",
  campaigns: "created",
  events: "recorded",
  "list-members": "joined",
  "segment-members": "joined",
  suppressions: "suppressed",
};

/** What one item of a trigger looks like: a change object, as `run` returns them. */
export function sampleChange(trigger: TriggerDefinition): Change {
  const { type, attributes } = SAMPLE_RECORD[trigger.stream];
  return {
    stream: trigger.stream,
    change: SAMPLE_KIND[trigger.stream],
    at: "2025-01-15T09:30:00Z",
    record: { type, id: type === "profile" ? "01JHGX3ZQ8S7V9XKQ5N2D4W6PB" : "Y6nRLr", attributes },
    ...(trigger.stream === "events"
      ? {
          related: [
            { type: "metric", id: "UMTLbD", attributes: { name: "Placed Order" } },
            { type: "profile", id: "01JHGX3ZQ8S7V9XKQ5N2D4W6PB", attributes: {} },
          ],
        }
      : {}),
  };
}

/** One trigger definition as an Activepieces polling trigger. */
export function pieceTrigger(
  trigger: TriggerDefinition,
  auth: PieceAuthProperty[],
  options: ActivepiecesExtrasOptions,
): Trigger {
  const props = Object.fromEntries(
    trigger.inputs.map((input) => [input.key, triggerProperty(input, auth, options)]),
  );
  const settings = options.triggers ?? {};
  const inputsOf = (ctx: { propsValue: unknown }) => (ctx.propsValue ?? {}) as Record<string, unknown>;
  return createTrigger({
    name: snakeKey(trigger.key),
    displayName: trigger.label,
    description: trigger.description,
    auth,
    props,
    type: TriggerStrategy.POLLING,
    sampleData: sampleChange(trigger),
    async onEnable(ctx) {
      const inputs = inputsOf(ctx);
      await ctx.store.put(
        storeKey(trigger, inputs),
        startState(trigger, {
          inputs,
          ...(settings.now ? { now: settings.now } : {}),
          ...(settings.lookbackSeconds !== undefined ? { lookbackSeconds: settings.lookbackSeconds } : {}),
        }),
      );
    },
    async onDisable(ctx) {
      await ctx.store.delete(storeKey(trigger, inputsOf(ctx)));
    },
    async run(ctx) {
      const inputs = inputsOf(ctx);
      const key = storeKey(trigger, inputs);
      const state = await ctx.store.get<unknown>(key);
      const result = await pollTrigger(trigger, clientFor(ctx.auth, options), {
        inputs,
        ...(state !== null && state !== undefined ? { state } : {}),
        ...settings,
      });
      await ctx.store.put(key, result.state);
      return result.changes;
    },
    async test(ctx) {
      return recentChanges(trigger, clientFor(ctx.auth, options), inputsOf(ctx), settings);
    },
  }) as Trigger;
}

/** Every trigger of the catalogue. */
export function pieceTriggers(auth: PieceAuthProperty[], options: ActivepiecesExtrasOptions): Trigger[] {
  return TRIGGERS.map((t) => pieceTrigger(t, auth, options));
}
