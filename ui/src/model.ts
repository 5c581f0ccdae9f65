/**
 * The playground's data shapes (the server's contract) and the pure logic of the page: grouping actions, turning
 * form values into action inputs, checking JSON as it is typed, reading run results. No DOM here, so that the
 * repository's unit tests can run it under Node.
 */

export type InputType = "text" | "number" | "boolean" | "enum" | "json" | "fields" | "key-value" | "binary";

export interface ManifestInput {
  key: string;
  label: string;
  comments: string;
  default: unknown;
  required: boolean;
  type: InputType | string;
  schema: JsonSchema;
  /** The values of an enum input, the names of a fields input. */
  options?: string[];
  /** A key/value input whose values are files. */
  files?: boolean;
  /** A text input's hint when it has no default (a trigger's date). */
  placeholder?: string;
  /** Values to suggest for a text input (a picker's: a list's ID, shown with its name). */
  choices?: Array<{ label: string; value: string }>;
}

export interface JsonSchema {
  type?: string;
  enum?: unknown[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  contentEncoding?: string;
  minimum?: number;
  maximum?: number;
  format?: string;
  [key: string]: unknown;
}

export interface ManifestAction {
  key: string;
  label: string;
  description: string;
  inputs: ManifestInput[];
}

export interface Manifest {
  name: string;
  version: string;
  revision: string;
  actions: ManifestAction[];
}

import type {
  EmulatorState,
  Exchange,
  Info,
  InputIssue,
  PickerChoices,
  RateLimitState,
  RateSecond,
  Rates,
  RequestEntry,
  Resource,
  Run,
  RunError,
  TierRates,
  TriggerCatalogue,
  TriggerChange,
  TriggerInfo,
  TriggerInputInfo,
  TriggerPoll,
  TriggerRecord,
} from "../../src/playground/contract.js";

export type {
  EmulatorState,
  Exchange,
  Info,
  InputIssue,
  PickerChoices,
  RateLimitState,
  RateSecond,
  Rates,
  RequestEntry,
  Resource,
  Run,
  RunError,
  TierRates,
  TriggerCatalogue,
  TriggerChange,
  TriggerInfo,
  TriggerInputInfo,
  TriggerPoll,
  TriggerRecord,
};

// ---------------------------------------------------------------------------------------------------------------
// Grouping and searching actions

const VERBS = new Set([
  "add",
  "create",
  "delete",
  "get",
  "list",
  "query",
  "remove",
  "update",
  "upload",
  "merge",
  "suppress",
  "unsuppress",
  "render",
  "send",
  "cancel",
  "clone",
  "find",
  "request",
]);

function plural(noun: string): string {
  if (noun.endsWith("s")) return noun;
  if (/[^aeiou]y$/i.test(noun)) return `${noun.slice(0, -1)}ies`;
  return `${noun}s`;
}

/**
 * The resource an action belongs to, from its label: the noun after the verb, in the plural ("Create Profile" →
 * Profiles, "List List Profiles" → Lists, "Bulk Create Events" → Events); subscribing is Subscriptions, tagging and
 * untagging Tags; anything else (such as Raw Request) is Other.
 */
export function groupOf(label: string): string {
  const words = label.trim().split(/\s+/);
  if (words[0]?.toLowerCase() === "bulk") words.shift();
  // "Create or Update Profile": the second verb joins the first.
  if (words[1]?.toLowerCase() === "or") words.splice(1, 2);
  const verb = words[0]?.toLowerCase() ?? "";
  if (verb === "subscribe" || verb === "unsubscribe") return "Subscriptions";
  if (verb === "tag" || verb === "untag") return "Tags";
  // "Assign Template to Campaign Message" belongs to what is assigned to: Campaigns.
  const to = words.findIndex((w) => w.toLowerCase() === "to");
  const noun = verb === "assign" && to > 0 ? words[to + 1] : words[1];
  if ((!VERBS.has(verb) && verb !== "assign") || !noun) return "Other";
  const name = plural(noun);
  return name.charAt(0).toUpperCase() + name.slice(1);
}

export interface ActionGroup {
  name: string;
  actions: ManifestAction[];
}

/**
 * Whether every word of `query` appears in the action's label, key or group (`inDescription`: or in its
 * description).
 */
export function matches(action: ManifestAction, query: string, inDescription = false): boolean {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const haystack = `${action.label} ${action.key} ${groupOf(action.label)}${inDescription ? ` ${action.description}` : ""}`;
  const lower = haystack.toLowerCase();
  return words.every((w) => lower.includes(w));
}

/**
 * The actions whose name matches `query` (or, when none does, whose description does), grouped by resource:
 * groups in alphabetical order with Other last, actions by label.
 */
export function groupActions(actions: readonly ManifestAction[], query = ""): ActionGroup[] {
  let found = actions.filter((a) => matches(a, query));
  if (found.length === 0) found = actions.filter((a) => matches(a, query, true));
  const groups = new Map<string, ManifestAction[]>();
  for (const action of found) {
    const name = groupOf(action.label);
    const list = groups.get(name) ?? [];
    list.push(action);
    groups.set(name, list);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a === "Other" ? 1 : b === "Other" ? -1 : a.localeCompare(b)))
    .map(([name, list]) => ({ name, actions: list.sort((a, b) => a.label.localeCompare(b.label)) }));
}

// ---------------------------------------------------------------------------------------------------------------
// Form values

export interface KeyValueRow {
  key: string;
  value: string;
}

export interface FileValue {
  name: string;
  size: number;
  type: string;
  /** The file's bytes as base64 (no data: prefix). */
  base64: string;
}

/**
 * What a control holds: text (text, number, enum, json, a boolean select, fields without a list of names), a
 * boolean (a checkbox), chosen names (fields), rows (key-value), a file (binary) or null (no file).
 */
export type FormValue = string | boolean | string[] | KeyValueRow[] | FileValue | null;

export type FormValues = Record<string, FormValue>;

/** The names a fields input may take, when the manifest lists them. */
export function fieldOptions(input: ManifestInput): string[] | undefined {
  return input.type === "fields" ? input.options : undefined;
}

/** The options of an enum input. */
export function enumOptions(input: ManifestInput): string[] {
  return input.options ?? [];
}

const hasDefault = (input: ManifestInput) => input.default !== null && input.default !== undefined;

/** Whether a boolean input is a plain checkbox (it has a default) or a true/false choice that can stay empty. */
export function booleanIsCheckbox(input: ManifestInput): boolean {
  return typeof input.default === "boolean";
}

/** The value a control starts with: the input's default, or empty. */
export function initialValue(input: ManifestInput): FormValue {
  const d = input.default;
  switch (input.type) {
    case "boolean":
      return typeof d === "boolean" ? d : "";
    case "json":
      return hasDefault(input) ? JSON.stringify(d, null, 2) : "";
    case "fields": {
      const list = Array.isArray(d) ? d.map(String) : typeof d === "string" && d ? splitNames(d) : [];
      return fieldOptions(input) ? list : list.join(", ");
    }
    case "key-value":
      if (d && typeof d === "object" && !Array.isArray(d))
        return Object.entries(d).map(([key, value]) => ({ key, value: String(value) }));
      return [];
    case "binary":
      return null;
    default:
      return hasDefault(input) ? String(d) : "";
  }
}

export function initialValues(action: ManifestAction): FormValues {
  return Object.fromEntries(action.inputs.map((input) => [input.key, initialValue(input)]));
}

function splitNames(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The value an input sends, or undefined to leave it out (empty, or the same as its default, which the library
 * applies itself): text as text, numbers as numbers (text that is not a number is sent as typed, for the server
 * to refuse), booleans as booleans, JSON as the text typed, fields as a list of names, key-value as
 * `[{key, value}]`, a file as base64.
 */
export function inputValue(input: ManifestInput, value: FormValue | undefined): unknown {
  const out = convert(input, value);
  if (out === undefined) return undefined;
  if (hasDefault(input)) {
    if (input.type === "json" && typeof out === "string") {
      try {
        if (sameValue(JSON.parse(out), input.default)) return undefined;
      } catch {
        return out;
      }
    } else if (input.type === "key-value" && Array.isArray(out)) {
      const asObject = Object.fromEntries((out as KeyValueRow[]).map((r) => [r.key, r.value]));
      if (sameValue(asObject, input.default)) return undefined;
    } else if (sameValue(out, input.default)) return undefined;
  }
  return out;
}

function convert(input: ManifestInput, value: FormValue | undefined): unknown {
  if (value === undefined || value === null) return undefined;
  switch (input.type) {
    case "number": {
      const text = String(value).trim();
      if (text === "") return undefined;
      const n = Number(text);
      return Number.isFinite(n) ? n : text;
    }
    case "boolean":
      if (typeof value === "boolean") return value;
      if (value === "true") return true;
      if (value === "false") return false;
      return undefined;
    case "json": {
      const text = String(value);
      return text.trim() === "" ? undefined : text;
    }
    case "fields": {
      const list = Array.isArray(value) ? (value as string[]) : splitNames(String(value));
      return list.length > 0 ? list : undefined;
    }
    case "key-value": {
      if (!Array.isArray(value)) return undefined;
      const rows = (value as KeyValueRow[]).filter((r) => r.key.trim() !== "" || r.value !== "");
      return rows.length > 0 ? rows.map((r) => ({ key: r.key.trim(), value: r.value })) : undefined;
    }
    case "binary":
      return typeof value === "object" && !Array.isArray(value) && value.base64 ? value.base64 : undefined;
    default: {
      if (typeof value !== "string") return undefined;
      return value === "" ? undefined : value;
    }
  }
}

/** The inputs a run sends: every input that has a value, as `inputValue` gives it. */
export function toInputs(action: ManifestAction, values: FormValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const input of action.inputs) {
    const v = inputValue(input, values[input.key]);
    if (v !== undefined) out[input.key] = v;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// JSON as it is typed

export interface JsonProblem {
  message: string;
  line: number;
  column: number;
}

/** Line and column (from 1) of a character offset. */
export function lineColumn(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(position, text.length)));
  const line = before.split("\n").length;
  return { line, column: position - before.lastIndexOf("\n") };
}

/**
 * Where V8's "Unexpected token 'X', …" message points: it quotes the text around the token (from 10 characters
 * before it, marked with a leading "..." when cut) but gives no position.
 */
function unexpectedTokenPosition(text: string, raw: string): number | undefined {
  const m = /^Unexpected token '(.)', (\.\.\.)?"([\s\S]*?)"(?:\.\.\.)? is not valid JSON$/.exec(raw);
  if (!m) return undefined;
  const [, token = "", cut, context = ""] = m;
  if (cut) {
    const at = text.indexOf(context);
    if (at >= 0) return at + 10;
  }
  const at = text.indexOf(token);
  return at >= 0 ? at : undefined;
}

/**
 * What is wrong with `text` as JSON, with the line and column where the parser stopped; undefined when it
 * parses or is empty. Reads the place out of the engine's message (V8: "at position N", lately with "(line L
 * column C)", or the quoted context of an unexpected token; Firefox: "at line L column C"); "unexpected end"
 * points at the end of the text.
 */
export function jsonProblem(text: string): JsonProblem | undefined {
  if (text.trim() === "") return undefined;
  try {
    JSON.parse(text);
    return undefined;
  } catch (error) {
    const raw = error instanceof Error ? error.message : String(error);
    const message = raw
      .replace(/^JSON\.parse: /, "")
      .replace(/ of the JSON data$/, "")
      .replace(/^(Unexpected token '.'), [\s\S]* is not valid JSON$/, "$1")
      .replace(/ in JSON at position \d+[\s\S]*$/, "")
      .replace(/ at position \d+[\s\S]*$/, "")
      .replace(/ at line \d+ column \d+$/, "");
    const lc = /line (\d+),? column (\d+)/.exec(raw);
    if (lc) return { message, line: Number(lc[1]), column: Number(lc[2]) };
    const position = /position (\d+)/.exec(raw);
    const at = position ? Number(position[1]) : unexpectedTokenPosition(text, raw);
    return { message, ...lineColumn(text, at ?? text.length) };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Runs

/** What the status badge of a run says: the HTTP status of its last exchange, or "invalid" for refused inputs. */
export function runStatus(run: Run): string {
  if (run.error?.name === "InputValidationError" || (run.error?.issues?.length ?? 0) > 0) return "invalid";
  const last = run.exchanges[run.exchanges.length - 1];
  if (last?.response) return String(last.response.status);
  if (last) return "no response";
  return run.ok ? "ok" : "error";
}

/** A tone for a status: ok (2xx), warn (4xx, invalid), bad (5xx, errors). */
export function statusTone(status: string): "ok" | "warn" | "bad" | "none" {
  const n = Number(status);
  if (Number.isFinite(n)) return n < 300 ? "ok" : n < 500 ? "warn" : "bad";
  if (status === "ok") return "ok";
  if (status === "invalid") return "warn";
  return "bad";
}

/** Issues by input key, for the fields; issues naming no input of the action go in `other`. */
export function issuesByKey(
  action: ManifestAction | undefined,
  issues: readonly InputIssue[] | undefined,
): { byKey: Map<string, string[]>; other: InputIssue[] } {
  const keys = new Set(action?.inputs.map((i) => i.key));
  const byKey = new Map<string, string[]>();
  const other: InputIssue[] = [];
  for (const issue of issues ?? []) {
    if (keys.has(issue.key)) byKey.set(issue.key, [...(byKey.get(issue.key) ?? []), issue.message]);
    else other.push(issue);
  }
  return { byKey, other };
}

/** A body as it is best read: JSON pretty-printed, anything else as it came. */
export function prettyBody(body: string | undefined): string {
  if (body === undefined) return "";
  const text = body.trim();
  if (!(text.startsWith("{") || text.startsWith("["))) return body;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return body;
  }
}

/** A value as pretty JSON (undefined as empty text). */
export function prettyValue(value: unknown): string {
  if (value === undefined) return "";
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

export function formatMs(ms: number): string {
  if (ms < 1) return "<1 ms";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** The rate-limit state in a few words: "7/10 left, resets in 1 s", "retry after 2.0 s". */
export function describeRateLimit(rate: RateLimitState | undefined): string {
  if (!rate) return "no rate-limit headers";
  const parts: string[] = [];
  if (rate.remaining !== undefined && rate.limit !== undefined)
    parts.push(`${rate.remaining}/${rate.limit} left`);
  else if (rate.remaining !== undefined) parts.push(`${rate.remaining} left`);
  else if (rate.limit !== undefined) parts.push(`limit ${rate.limit}`);
  if (rate.resetSeconds !== undefined) parts.push(`resets in ${rate.resetSeconds} s`);
  if (rate.retryAfterMs !== undefined) parts.push(`retry after ${formatMs(rate.retryAfterMs)}`);
  return parts.length > 0 ? parts.join(", ") : "no rate-limit headers";
}

/** Runs newest first, without duplicates (a run fetched with the history and returned by /api/run). */
export function mergeRuns(current: readonly Run[], incoming: readonly Run[], max = 100): Run[] {
  const byId = new Map<number, Run>();
  for (const run of [...incoming, ...current]) if (!byId.has(run.id)) byId.set(run.id, run);
  return [...byId.values()].sort((a, b) => b.id - a.id).slice(0, max);
}

// ---------------------------------------------------------------------------------------------------------------
// The emulator inspector

/** The id a resource's relationship points at (`relationships.profile.data.id`). */
export function relatedId(resource: Resource, name: string): string | undefined {
  const data = resource.relationships?.[name]?.data;
  const one = Array.isArray(data) ? data[0] : data;
  return one?.id || undefined;
}

/** When an event happened, as epoch ms: its `datetime`, else its `timestamp` (seconds). */
export function eventTime(event: Resource): number | undefined {
  const { datetime, timestamp } = event.attributes;
  if (typeof datetime === "string") {
    const t = Date.parse(datetime);
    if (Number.isFinite(t)) return t;
  }
  if (typeof timestamp === "number") return timestamp * 1000;
  if (typeof timestamp === "string" && Number.isFinite(Date.parse(timestamp))) return Date.parse(timestamp);
  return undefined;
}

/** The local calendar day of an epoch time, as YYYY-MM-DD (offset in minutes east of UTC, for tests). */
export function dayKey(t: number, offsetMinutes = -new Date(t).getTimezoneOffset()): string {
  return new Date(t + offsetMinutes * 60_000).toISOString().slice(0, 10);
}

export interface DayGroup<T> {
  day: string;
  items: T[];
}

/** Items newest first, grouped by day (newest day first); items without a time go last, under "unknown". */
export function groupByDay<T>(
  items: readonly T[],
  timeOf: (item: T) => number | undefined,
  offsetMinutes?: number,
): DayGroup<T>[] {
  const timed = items
    .map((item, index) => ({ item, index, t: timeOf(item) }))
    .sort((a, b) => (b.t ?? -Infinity) - (a.t ?? -Infinity) || a.index - b.index);
  const groups: DayGroup<T>[] = [];
  for (const { item, t } of timed) {
    const day = t === undefined ? "unknown" : dayKey(t, offsetMinutes ?? -new Date(t).getTimezoneOffset());
    const last = groups[groups.length - 1];
    if (last && last.day === day) last.items.push(item);
    else groups.push({ day, items: [item] });
  }
  return groups;
}

/** A short text for a value in a table cell. */
export function cellText(value: unknown, max = 80): string {
  if (value === undefined || value === null) return "";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// ---------------------------------------------------------------------------------------------------------------
// Triggers

/** A date-time input's hint: an ISO 8601 instant an hour before `now`. */
export function datePlaceholder(now = Date.now()): string {
  return `e.g. ${new Date(now - 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z")}`;
}

/** A trigger's inputs as the form's fields take them: a date as text, an ID as text (with its picker's choices). */
export function triggerFormInput(
  input: TriggerInputInfo,
  choices?: ReadonlyArray<{ label: string; value: string }>,
  now?: number,
): ManifestInput {
  return {
    key: input.key,
    label: input.label,
    comments: input.comments,
    default: input.default ?? null,
    required: input.required,
    type: input.type,
    schema: input.type === "boolean" ? { type: "boolean" } : { type: "string" },
    ...(input.type === "date" ? { placeholder: datePlaceholder(now) } : {}),
    ...(choices && choices.length > 0 ? { choices: [...choices] } : {}),
  };
}

/** A change as the page lists it, with where it came from (which poll, its place in it) for a stable key. */
export interface TriggerItem {
  key: string;
  poll: number;
  change: TriggerChange;
}

/**
 * The items after a poll: its changes newest first, ahead of those already shown; at most `max` kept (the
 * oldest dropped).
 */
export function addTriggerItems(
  current: readonly TriggerItem[],
  changes: readonly TriggerChange[],
  poll: number,
  max = 500,
): TriggerItem[] {
  const fresh = changes.map((change, i) => ({ key: `${poll}.${i}`, poll, change })).reverse();
  return [...fresh, ...current].slice(0, max);
}

function text(value: unknown): string | undefined {
  if (typeof value === "string" && value.trim() !== "") return value.trim();
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

/** Whom a profile is: its email, phone number, external ID or name. */
function profileName(attributes: Record<string, unknown> | undefined): string | undefined {
  const a = attributes ?? {};
  const name = [text(a.first_name), text(a.last_name)].filter(Boolean).join(" ");
  return text(a.email) ?? text(a.phone_number) ?? text(a.external_id) ?? (name || undefined);
}

/**
 * One line about a change's record: a profile's email (or phone, external ID, name), an event's metric, profile
 * and value, anything else's name (with its status or channel where it has one).
 */
export function changeSummary(change: TriggerChange): string {
  const { record } = change;
  const a = record.attributes ?? {};
  if (record.type === "profile") return profileName(a) ?? "(a profile without email or phone)";
  if (record.type === "event") {
    const metric = change.related?.find((r) => r.type === "metric");
    const profile = change.related?.find((r) => r.type === "profile");
    // Klaviyo reads an event's value back among its properties, as `$value` (and `$value_currency`).
    const props = (a.event_properties ?? {}) as Record<string, unknown>;
    const value = text(props.$value);
    const currency = text(props.$value_currency);
    const parts = [
      text(metric?.attributes?.name) ?? "an event",
      profileName(profile?.attributes),
      value !== undefined ? `value ${value}${currency ? ` ${currency}` : ""}` : undefined,
    ];
    return parts.filter(Boolean).join(" · ");
  }
  const name = text(a.name) ?? text(a.label) ?? text(a.title) ?? profileName(a);
  const detail = text(a.status) ?? text(a.channel) ?? (a.archived === true ? "archived" : undefined);
  if (name) return detail ? `${name} (${detail})` : name;
  const keys = Object.keys(a).slice(0, 4);
  return keys.length > 0 ? keys.join(", ") : "";
}

/** A change's time as the list shows it: the local time, with the day when it is not today. */
export function changeTime(at: string, now = Date.now()): string {
  const t = Date.parse(at);
  if (!Number.isFinite(t)) return at;
  const date = new Date(t);
  return date.toDateString() === new Date(now).toDateString()
    ? date.toLocaleTimeString()
    : date.toLocaleString();
}

/** The poll interval typed, in seconds: a number from 1 to 3600, else 5. */
export function pollSeconds(typed: string): number {
  const n = Number(typed.trim());
  if (!Number.isFinite(n) || typed.trim() === "") return 5;
  return Math.min(3600, Math.max(1, n));
}
