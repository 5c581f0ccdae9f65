import type { AuthStrategy } from "../core/auth-strategy.js";
import { KlaviyoClient, type KlaviyoClientOptions } from "../core/client.js";
import { InputValidationError } from "../core/errors.js";
import { getAccount, listAccounts } from "./accounts.js";
import { campaignsActions } from "./campaigns.js";
import { type AnyAction, validateInputs } from "./define.js";
import { eventsActions } from "./events.js";
import { imagesActions } from "./images.js";
import { listsActions } from "./lists.js";
import { profilesActions } from "./profiles.js";
import { rawRequestActions } from "./raw-request.js";
import { segmentsActions } from "./segments.js";
import { subscriptionsActions } from "./subscriptions.js";
import { templatesActions } from "./templates.js";

/** Every action, in the specification's order (by label). */
export const actions: readonly AnyAction[] = [
  getAccount,
  listAccounts,
  ...campaignsActions,
  ...eventsActions,
  ...imagesActions,
  ...listsActions,
  ...profilesActions,
  ...rawRequestActions,
  ...segmentsActions,
  ...subscriptionsActions,
  ...templatesActions,
].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));

const byKey = new Map(actions.map((a) => [a.key, a]));

export function getAction(key: string): AnyAction | undefined {
  return byKey.get(key);
}

export interface RunOptions extends Omit<KlaviyoClientOptions, "auth"> {
  /** An existing client to run on (its credentials and transport). */
  client?: KlaviyoClient;
  /** The connection's auth strategy (`apiKey(…)`, OAuth). */
  connection?: AuthStrategy;
  signal?: AbortSignal;
}

/**
 * Runs an action by key: validates the inputs (throwing `InputValidationError` before any request), then
 * performs it and returns its output.
 */
export async function runAction(
  key: string,
  inputs: Readonly<Record<string, unknown>>,
  options: RunOptions = {},
): Promise<unknown> {
  const action = byKey.get(key);
  if (!action) {
    throw new InputValidationError([
      {
        label: "Action",
        key: "action",
        message: `unknown action "${key}"; known: ${actions.map((a) => a.key).join(", ")}`,
      },
    ]);
  }
  const values = validateInputs(action, inputs);
  const { client: given, connection, signal, ...clientOptions } = options;
  const client =
    given ?? new KlaviyoClient({ ...clientOptions, ...(connection ? { auth: connection } : {}) });
  return action.perform({ client, ...(signal ? { signal } : {}) }, values);
}

export { getAccount, listAccounts };
