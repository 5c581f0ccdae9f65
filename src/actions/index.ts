/**
 * The registry: every action, each listed once, as a typed object by key, and `runAction`, typed by key (an unknown
 * key, a missing required input or a wrong input type does not compile; the result has the action's output type).
 */
import type { AuthStrategy } from "../core/auth-strategy.js";
import { KlaviyoClient, type KlaviyoClientOptions } from "../core/client.js";
import { InputValidationError } from "../core/errors.js";
import { getAccount, listAccounts } from "./accounts.js";
import { createCampaign, deleteCampaign, getCampaign, listCampaigns, updateCampaign } from "./campaigns.js";
import {
  assignTemplateToCampaignMessage,
  cancelCampaignSend,
  cloneCampaign,
  getCampaignSendJob,
  sendCampaign,
} from "./campaigns-send.js";
import {
  type ActionDefinition,
  type AnyAction,
  actionContext,
  type ListStream,
  validateInputs,
} from "./define.js";
import { bulkCreateEvents, createEvent, getEvent, listEvents } from "./events.js";
import { getFlow, listFlows, updateFlowStatus } from "./flows.js";
import { getImage, listImages, updateImage, uploadImage } from "./images.js";
import type { CallerInputs } from "./inputs.js";
import { createList, deleteList, getList, listListProfiles, listLists, updateList } from "./lists.js";
import { addProfilesToList, listSegmentProfiles, removeProfilesFromList } from "./members.js";
import { getMetric, listMetrics, queryMetricAggregates } from "./metrics.js";
import { bulkImportProfiles } from "./profile-import.js";
import { createProfile, getProfile, listProfile, updateProfile } from "./profiles.js";
import {
  createOrUpdateProfile,
  findProfile,
  mergeProfiles,
  requestProfileDeletion,
  suppressProfiles,
  unsuppressProfiles,
} from "./profiles-everyday.js";
import { rawRequest } from "./raw-request.js";
import { createSegment, deleteSegment, getSegment, listSegments, updateSegment } from "./segments.js";
import { subscribeProfiles, unsubscribeProfiles } from "./subscriptions.js";
import { createTag, listTags, tagResources, untagResources } from "./tags.js";
import { createTemplate, deleteTemplate, getTemplate, listTemplates, updateTemplate } from "./templates.js";
import { cloneTemplate, renderTemplate } from "./templates-everyday.js";
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhooks,
  listWebhookTopics,
  updateWebhook,
} from "./webhooks.js";

/** The actions of the specification (`connector-spec.txt`), each once. */
const specification = [
  bulkCreateEvents,
  createCampaign,
  createEvent,
  createList,
  createProfile,
  createSegment,
  createTemplate,
  deleteCampaign,
  deleteList,
  deleteSegment,
  deleteTemplate,
  getAccount,
  getCampaign,
  getEvent,
  getImage,
  getList,
  getProfile,
  getSegment,
  getTemplate,
  listAccounts,
  listCampaigns,
  listEvents,
  listImages,
  listListProfiles,
  listLists,
  listProfile,
  listSegments,
  listTemplates,
  rawRequest,
  subscribeProfiles,
  unsubscribeProfiles,
  updateCampaign,
  updateImage,
  updateList,
  updateProfile,
  updateSegment,
  updateTemplate,
  uploadImage,
] as const;

/**
 * The everyday actions beyond the specification: what users of the peers' integrations do most (create or update
 * a profile, add it to a list, send a campaign, …), each once.
 */
const everyday = [
  listFlows,
  getFlow,
  updateFlowStatus,
  renderTemplate,
  cloneTemplate,
  addProfilesToList,
  removeProfilesFromList,
  listSegmentProfiles,
  listTags,
  createTag,
  tagResources,
  untagResources,
  assignTemplateToCampaignMessage,
  sendCampaign,
  getCampaignSendJob,
  cancelCampaignSend,
  cloneCampaign,
  listMetrics,
  getMetric,
  queryMetricAggregates,
  createOrUpdateProfile,
  findProfile,
  mergeProfiles,
  requestProfileDeletion,
  suppressProfiles,
  unsuppressProfiles,
  bulkImportProfiles,
  listWebhooks,
  getWebhook,
  createWebhook,
  updateWebhook,
  deleteWebhook,
  listWebhookTopics,
] as const;

/** Every action's definition, each once. */
const definitions = [...specification, ...everyday] as const;

/** The keys of the actions beyond the specification. */
export const EVERYDAY_ACTION_KEYS: readonly string[] = everyday.map((a: AnyAction) => a.key);

type Definitions = (typeof definitions)[number];

/** Every action by its key, typed: `registry["get-list"].inputs.listId`. */
export type Registry = { readonly [A in Definitions as A["key"]]: A };

/** The key of an action: `get-list`, `create-profile`, … */
export type ActionKey = keyof Registry;

/** What an action takes, by input key, as a caller gives it (each value's JSON form, or bytes). */
export type ActionInputs<K extends ActionKey> = CallerInputs<Registry[K]["inputs"]>;

/** What an action returns. */
export type ActionOutput<K extends ActionKey> = Awaited<ReturnType<Registry[K]["perform"]>>;

/** Every action, by key. */
export const registry = Object.fromEntries(definitions.map((a) => [a.key, a])) as unknown as Registry;

/** Every action, in the specification's order (by label). */
export const actions: readonly AnyAction[] = [...definitions].sort((a, b) =>
  a.label < b.label ? -1 : a.label > b.label ? 1 : 0,
);

const byKey = new Map<string, AnyAction>(actions.map((a) => [a.key, a]));

/** The action with this key, when there is one (for keys known only at run time: the CLI, the platforms). */
export function getAction(key: string): AnyAction | undefined {
  return byKey.get(key);
}

export interface RunOptions extends Omit<KlaviyoClientOptions, "auth"> {
  /** An existing client to run on (its credentials and transport). */
  client?: KlaviyoClient;
  /** The connection's auth strategy (`apiKey(…)`, OAuth). */
  connection?: AuthStrategy;
  signal?: AbortSignal;
  /**
   * For list actions: every item of every page to `stream.sink`, as the pages arrive, instead of one page
   * gathered; the result then carries only the page count.
   */
  stream?: ListStream;
}

/**
 * Runs an action by key: validates the inputs (throwing `InputValidationError`, naming each input by its label,
 * before any request), then performs it and returns its output. Typed by key: an unknown key, a missing required
 * input or a wrong input type does not compile, and the result has the action's output type.
 */
export async function runAction<K extends ActionKey>(
  key: K,
  inputs: ActionInputs<K>,
  options: RunOptions = {},
): Promise<ActionOutput<K>> {
  return (await runActionByKey(key, inputs, options)) as ActionOutput<K>;
}

/**
 * `runAction` for a key known only at run time (a command line, a platform's step, a stored job): the same
 * validation, by label, before anything is sent; the key and the inputs are checked then, not at compile time.
 */
export async function runActionByKey(
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
  const { client: given, connection, signal, stream, ...clientOptions } = options;
  const client =
    given ?? new KlaviyoClient({ ...clientOptions, ...(connection ? { auth: connection } : {}) });
  return action.perform(actionContext(action, client, { signal, stream }), values);
}

export * from "./accounts.js";
export * from "./campaigns.js";
export * from "./campaigns-send.js";
export * from "./events.js";
export * from "./flows.js";
export * from "./images.js";
export * from "./lists.js";
export * from "./members.js";
export * from "./metrics.js";
export * from "./profile-import.js";
export * from "./profiles.js";
export * from "./profiles-everyday.js";
export * from "./raw-request.js";
export * from "./segments.js";
export * from "./subscriptions.js";
export * from "./tags.js";
export * from "./templates.js";
export * from "./templates-everyday.js";
export * from "./webhooks.js";
export type { ActionDefinition };
