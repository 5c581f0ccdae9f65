/**
 * The playground's triggers: the platforms' polling triggers (`src/platforms/triggers.ts`, one definition for
 * Prismatic, Activepieces and this page), each poll run on the playground's connection with the wire recorded,
 * and the pickers that offer an ID input's values. The page keeps the state between polls, as a platform does.
 *
 * On the embedded emulator a poll reads up to now (`horizonSeconds: 0`): Klaviyo's times are whole seconds, so a
 * change shows at the first poll of a later second. Against Klaviyo the feed's default horizon holds, so a record
 * still being written is read whole at a later poll instead of being skipped.
 */
import { DEFAULT_HORIZON_SECONDS } from "../feed/index.js";
import { allOptions, getPicker, PICKER_KEYS, type PickerKey } from "../platforms/pickers.js";
import { getTrigger, pollTrigger, TRIGGERS } from "../platforms/triggers.js";
import type { PickerChoices, TriggerCatalogue, TriggerChange, TriggerPoll } from "./contract.js";
import type { Recorded } from "./record.js";
import { describeError, type Runner } from "./runs.js";

/** A poll stops at the end of the page where this many changes have been read; the next one goes on. */
export const POLL_MAX_CHANGES = 200;

/** The most choices a picker gives the page. */
export const PICKER_MAX = 200;

export class UnknownTriggerError extends Error {}

export function horizonFor(emulator: boolean): number {
  return emulator ? 0 : DEFAULT_HORIZON_SECONDS;
}

/** `GET /api/triggers`. */
export function triggerCatalogue(emulator: boolean): TriggerCatalogue {
  return {
    horizonSeconds: horizonFor(emulator),
    triggers: TRIGGERS.map((t) => ({
      key: t.key,
      label: t.label,
      description: t.description,
      stream: t.stream,
      inputs: t.inputs.map((i) => ({
        key: i.key,
        label: i.label,
        comments: i.comments,
        type: i.type,
        required: i.required,
        ...(i.default !== undefined ? { default: i.default } : {}),
        ...(i.picker !== undefined ? { picker: i.picker } : {}),
      })),
    })),
  };
}

/**
 * One poll of a trigger: its changes since `state` and the state to keep, or the error (by input label where it
 * names one) with the state that was sent, so that the page may poll again from it.
 */
export async function pollForPage(
  runner: Runner,
  emulator: boolean,
  request: { key: string; inputs: Record<string, unknown>; state: unknown },
): Promise<TriggerPoll> {
  const trigger = getTrigger(request.key);
  if (!trigger) throw new UnknownTriggerError(`unknown trigger "${request.key}"`);
  const at = new Date().toISOString();
  const started = performance.now();
  const recorded: Recorded[] = [];
  const state = request.state === null ? undefined : request.state;
  let answer: Pick<TriggerPoll, "ok" | "changes" | "state" | "more" | "error">;
  try {
    const result = await pollTrigger(trigger, runner.client(recorded), {
      inputs: request.inputs,
      ...(state !== undefined ? { state } : {}),
      maxChanges: POLL_MAX_CHANGES,
      horizonSeconds: horizonFor(emulator),
    });
    answer = {
      ok: true,
      changes: result.changes as TriggerChange[],
      state: result.state,
      more: result.more,
    };
  } catch (error) {
    answer = {
      ok: false,
      changes: [],
      state: state ?? null,
      more: false,
      error: describeError(error, runner.secrets()),
    };
  }
  return {
    ...answer,
    trigger: trigger.key,
    at,
    ms: Math.round((performance.now() - started) * 10) / 10,
    exchanges: recorded.map((r) => r.exchange),
  };
}

export function isPickerKey(key: string): key is PickerKey {
  return (PICKER_KEYS as readonly string[]).includes(key);
}

/** `GET /api/pickers/:picker`: the first `PICKER_MAX` choices, searched where Klaviyo can. */
export async function pickerChoices(runner: Runner, key: PickerKey, search?: string): Promise<PickerChoices> {
  const { options, truncated } = await allOptions(getPicker(key), runner.client([]), {
    max: PICKER_MAX,
    ...(search ? { search } : {}),
  });
  return { options: options.map((o) => ({ label: o.label, value: o.value })), truncated };
}
