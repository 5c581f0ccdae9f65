/**
 * The example of every action, as `klaviyo run <action> --help` and `klaviyo describe <action>` print it: shell
 * lines that run as pasted (in a POSIX shell) against `klaviyo emulator --seed demo` with `KLAVIYO_BASE_URL` and
 * `KLAVIYO_API_KEY` pointing at it, and against a real account alike. Values come from the inputs' own `example`,
 * quoted for the shell; an input that needs an ID gets it from a line before, which reads the first one the
 * account holds (`--format id`) or, for what an example changes or deletes and for what the demo account holds
 * none of, makes one first with the creating action's own example. `test/cli/examples.test.ts` runs them all.
 */
import type { AnyAction } from "../actions/define.js";
import { getAction } from "../actions/index.js";
import { flagOf, type InputDefinition, secretVariable } from "../actions/inputs.js";

/** Shell lines run in order (a later one uses what an earlier one set), and what they need said beside them. */
export interface Example {
  readonly lines: readonly string[];
  readonly note?: string;
}

type IdName =
  | "account"
  | "list"
  | "profile"
  | "event"
  | "newList"
  | "newTemplate"
  | "newSegment"
  | "newCampaign"
  | "newImage"
  | "flow"
  | "tag"
  | "metric"
  | "assignedMessage"
  | "sentCampaign"
  | "newProfile"
  | "newWebhook";

/** Where an ID input gets its value: the first of the account's (`read`), or one made first (`make`). */
type IdSource =
  | { readonly variable: string; readonly read: string }
  | { readonly variable: string; readonly make: string; readonly needs?: readonly IdName[] };

const ID_SOURCES: Readonly<Record<IdName, IdSource>> = {
  account: { variable: "ACCOUNT_ID", read: "list-accounts" },
  list: { variable: "LIST_ID", read: "list-lists" },
  profile: { variable: "PROFILE_ID", read: "list-profile" },
  event: { variable: "EVENT_ID", read: "list-events" },
  newList: { variable: "LIST_ID", make: "create-list" },
  newTemplate: { variable: "TEMPLATE_ID", make: "create-template" },
  newSegment: { variable: "SEGMENT_ID", make: "create-segment" },
  newCampaign: { variable: "CAMPAIGN_ID", make: "create-campaign", needs: ["list"] },
  newImage: { variable: "IMAGE_ID", make: "upload-image" },
  flow: { variable: "FLOW_ID", read: "list-flows" },
  tag: { variable: "TAG_ID", read: "list-tags" },
  metric: { variable: "METRIC_ID", read: "list-metrics" },
  assignedMessage: {
    variable: "MESSAGE_ID",
    make: "assign-template-to-campaign-message",
    needs: ["newCampaign", "newTemplate"],
  },
  sentCampaign: { variable: "SEND_JOB_ID", make: "send-campaign", needs: ["assignedMessage"] },
  newProfile: { variable: "OTHER_PROFILE_ID", make: "create-or-update-profile" },
  newWebhook: { variable: "WEBHOOK_ID", make: "create-webhook" },
};

interface Spec {
  /** Optional inputs the example gives too (required ones always are), in this order. */
  readonly show?: readonly string[];
  /** Inputs whose value is an ID from a line before. */
  readonly ids?: Readonly<Record<string, IdName>>;
  /** Values other than the input's own example (where the example would repeat a name made the line before). */
  readonly values?: Readonly<Record<string, string>>;
  readonly note?: string;
  /** What must be made before the example's own line, though no input of it names it. */
  readonly needs?: readonly IdName[];
}

/** Every action's example, by key (a test checks that every action has one). */
const SPECS: Readonly<Record<string, Spec>> = {
  "bulk-create-events": {},
  "create-campaign": { ids: { includedAudiences: "list" } },
  "create-event": { show: ["properties", "value", "valueCurrency"] },
  "create-list": { show: ["listName"] },
  "create-profile": {
    show: ["email", "firstName", "lastName"],
    values: { email: "ada.lovelace@example.com", firstName: "Ada", lastName: "Lovelace" },
    note: "run again, it fails with Klaviyo's 409: a profile with that email exists",
  },
  "create-segment": {},
  "create-template": { show: ["html"] },
  "delete-campaign": { ids: { campaignId: "newCampaign" }, note: "makes a campaign, then deletes it" },
  "delete-list": { ids: { listId: "newList" }, note: "makes a list, then deletes it" },
  "delete-segment": { ids: { segmentId: "newSegment" }, note: "makes a segment, then deletes it" },
  "delete-template": { ids: { templateId: "newTemplate" }, note: "makes a template, then deletes it" },
  "get-account": { ids: { accountId: "account" }, show: ["fields"] },
  "get-campaign": { ids: { campaignId: "newCampaign" } },
  "get-event": { ids: { eventId: "event" }, show: ["include"] },
  "get-image": { ids: { imageId: "newImage" } },
  "get-list": { ids: { listId: "list" }, show: ["includeProfileCount"] },
  "get-profile": { ids: { profileId: "profile" }, show: ["additionalFields"] },
  "get-segment": { ids: { segmentId: "newSegment" } },
  "get-template": { ids: { templateId: "newTemplate" } },
  "list-accounts": {},
  "list-campaigns": { show: ["filter"] },
  "list-events": { show: ["sort", "pageSize"], values: { pageSize: "5" } },
  "list-images": { show: ["pageSize"], values: { pageSize: "5" } },
  "list-list-profiles": { ids: { listId: "list" }, show: ["pageSize"], values: { pageSize: "5" } },
  "list-lists": { show: ["fields"] },
  "list-profile": { show: ["filter"] },
  "list-segments": {},
  "list-templates": {},
  "raw-request": { show: ["queryParameter"] },
  "subscribe-profiles": { ids: { listId: "list" }, show: ["listId"] },
  "unsubscribe-profiles": { ids: { listId: "list" }, show: ["listId"] },
  "update-campaign": {
    ids: { campaignId: "newCampaign" },
    show: ["name"],
    values: { name: "Spring sale (final)" },
  },
  "update-image": { ids: { imageId: "newImage" }, show: ["imageHidden"] },
  "update-list": {
    ids: { listId: "newList" },
    show: ["listName"],
    values: { listName: "Weekly newsletter" },
    note: "makes a list, then renames it",
  },
  "update-profile": { ids: { profileId: "profile" }, show: ["properties"] },
  "update-segment": { ids: { segmentId: "newSegment" }, show: ["isStarred"] },
  "update-template": {
    ids: { templateId: "newTemplate" },
    show: ["name"],
    values: { name: "Monthly newsletter (v2)" },
  },
  "upload-image": { show: ["imageUrl", "imageName"] },
  "list-flows": { show: ["filter"] },
  "get-flow": { ids: { flowId: "flow" }, show: ["include"] },
  "update-flow-status": {
    ids: { flowId: "flow" },
    show: ["status"],
    note: "sets the first flow to manual: its messages then wait to be sent by hand",
  },
  "render-template": { ids: { templateId: "newTemplate" }, show: ["context"] },
  "clone-template": { ids: { templateId: "newTemplate" }, show: ["name"] },
  "add-profiles-to-list": { ids: { listId: "list", profileIds: "profile" }, show: ["profileIds"] },
  "remove-profiles-from-list": { ids: { listId: "list", profileIds: "profile" }, show: ["profileIds"] },
  "list-segment-profiles": {
    ids: { segmentId: "newSegment" },
    show: ["pageSize"],
    values: { pageSize: "5" },
    note: "makes a segment, then lists its profiles",
  },
  "list-tags": { show: ["filter"] },
  "create-tag": { note: "run again, it fails with a 409: the tag group has a tag of that name" },
  "tag-resources": { ids: { tagId: "tag", resourceIds: "list" }, show: ["resourceType"] },
  "untag-resources": { ids: { tagId: "tag", resourceIds: "list" }, show: ["resourceType"] },
  "assign-template-to-campaign-message": {
    ids: { templateId: "newTemplate", campaignId: "newCampaign" },
    show: ["campaignId"],
    note: "makes a campaign and a template, then gives the campaign's message the template",
  },
  "send-campaign": {
    ids: { campaignId: "newCampaign" },
    needs: ["assignedMessage"],
    note: "makes a campaign and a template, assigns it, then sends the campaign",
  },
  "get-campaign-send-job": {
    ids: { sendJobId: "sentCampaign" },
    note: "sends a new campaign, then reads its job",
  },
  "cancel-campaign-send": {
    ids: { sendJobId: "sentCampaign" },
    show: ["action"],
    note: "sends a new campaign, then puts it back to Draft",
  },
  "clone-campaign": { ids: { campaignId: "newCampaign" }, show: ["newName"] },
  "list-metrics": {},
  "get-metric": { ids: { metricId: "metric" }, show: ["fields"] },
  "query-metric-aggregates": {
    ids: { metricId: "metric" },
    show: ["measurements", "interval", "timezone"],
  },
  // Everyday profile actions.
  "create-or-update-profile": {
    show: ["email", "firstName", "lastName"],
    note: "run again, it updates the same profile: created is then false",
  },
  "find-profile": { show: ["email", "match"] },
  "merge-profiles": {
    ids: { profileId: "profile", sourceProfileIds: "newProfile" },
    note: "makes (or updates) a profile, then merges it into the account's first profile",
  },
  "request-profile-deletion": {
    ids: { profileId: "newProfile" },
    show: ["profileId"],
    note: "makes (or updates) a profile, then asks for its deletion",
  },
  "suppress-profiles": { show: ["emails"] },
  "unsuppress-profiles": { show: ["emails"] },
  // Webhooks (a secret input's value is made by a line before: see `commandLine`).
  "list-webhooks": {},
  "list-webhook-topics": {},
  "create-webhook": {
    note: "a new random Secret Key in SECRET_KEY: keep it, your receiver verifies the deliveries with it",
  },
  "get-webhook": { ids: { webhookId: "newWebhook" }, note: "makes a webhook, then reads it" },
  "update-webhook": {
    ids: { webhookId: "newWebhook" },
    show: ["enabled"],
    note: "makes a webhook, then disables it",
  },
  "delete-webhook": { ids: { webhookId: "newWebhook" }, note: "makes a webhook, then deletes it" },
};

/** The keys of the actions that have an example (every action should). */
export const EXAMPLE_KEYS: readonly string[] = Object.keys(SPECS);

/** Text the shell passes through as it is, unquoted. */
const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * `value` as one shell word: bare when plain; else single-quoted, or double-quoted when it holds a `'` but nothing
 * a double-quoted word would expand (`"`, `$`, a backquote, `\`, `!`); else single-quoted with `'\''` for each `'`.
 */
export function shellQuote(value: string): string {
  if (PLAIN.test(value)) return value;
  if (!value.includes("'")) return `'${value}'`;
  if (!/["$`\\!]/.test(value)) return `"${value}"`;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function inputValue(action: AnyAction, def: InputDefinition, spec: Spec): string {
  const value = spec.values?.[def.key] ?? def.example;
  if (value === undefined) throw new Error(`internal: ${action.key}'s input ${def.key} has no example`);
  return value;
}

/**
 * The command of an action's example, `ID` inputs as `"$VARIABLE"`. A secret is never written out: its value is
 * `"$VARIABLE"` too, set to a new random one by a line added to `into` (before the command's own line).
 */
function commandLine(action: AnyAction, spec: Spec, into: string[]): string {
  const parts = [`klaviyo run ${action.key}`];
  const shown = new Set(spec.show ?? []);
  for (const def of Object.values(action.inputs)) {
    if (!def.required && !shown.has(def.key)) continue;
    const id = spec.ids?.[def.key];
    let value: string;
    if (id) value = `"$${ID_SOURCES[id].variable}"`;
    else if (def.secret) {
      const made = `${secretVariable(def.key)}=$(openssl rand -hex 32)`;
      if (!into.includes(made)) into.push(made);
      value = `"$${secretVariable(def.key)}"`;
    } else value = shellQuote(inputValue(action, def, spec));
    parts.push(`--${flagOf(def.key)} ${value}`);
  }
  return parts.join(" ");
}

/** The lines that set an ID's variable (and those it needs first), in order. */
function idLines(name: IdName, into: string[]): void {
  const source: IdSource = ID_SOURCES[name];
  if ("needs" in source) for (const need of source.needs ?? []) idLines(need, into);
  let command: string;
  if ("read" in source) {
    // The first one: a list action takes --limit 1 (one item of the first page); List Accounts has one item.
    const paged = Object.values(actionOf(source.read).inputs).some((d) => d.key === "limit");
    command = `klaviyo run ${source.read}${paged ? " --limit 1" : ""} --format id`;
  } else command = `${commandLine(actionOf(source.make), SPECS[source.make] ?? {}, into)} --format id`;
  const line = `${source.variable}=$(${command})`;
  if (!into.includes(line)) into.push(line);
}

function actionOf(key: string): AnyAction {
  const action = getAction(key);
  if (!action) throw new Error(`internal: no action ${key}`);
  return action;
}

/** The example of an action: its lines, and what it does beyond its name when that needs saying. */
export function exampleFor(action: AnyAction): Example {
  const spec = SPECS[action.key];
  const lines: string[] = [];
  if (!spec) {
    lines.push(commandLine(action, {}, lines));
    return { lines };
  }
  for (const name of [...Object.values(spec.ids ?? {}), ...(spec.needs ?? [])]) idLines(name, lines);
  lines.push(commandLine(action, spec, lines));
  const variables = [...new Set(lines.slice(0, -1).map((line) => line.slice(0, line.indexOf("="))))];
  const from =
    variables.length === 0
      ? undefined
      : `${variables.join(" and ")} from the line${lines.length > 2 ? "s" : ""} before`;
  const note = spec.note ?? from;
  return { lines, ...(note ? { note } : {}) };
}

/** An example as help text prints it: a heading, then each line after `$ `. */
export function formatExample(example: Example, heading = "Example"): string {
  const title = example.note ? `${heading} (${example.note}):` : `${heading}:`;
  return `${title}\n${example.lines.map((line) => `  $ ${line}`).join("\n")}\n`;
}
