/**
 * Reading a campaign's parts as users hold them and checking them against Klaviyo's document before anything is
 * sent: messages (Klaviyo's `campaign-message` resources or bare `definition`s), audiences (ids as a JSON array
 * or comma-separated text), and the tracking, send options and send strategy objects.
 */

import * as v from "valibot";
import { isObject, isoDateTime } from "../klaviyo/formats.js";
import { TRACKING_DYNAMIC_VALUES } from "../klaviyo/identifiers.js";
import { jsonObject, parse, reading, type Schema } from "../klaviyo/schema.js";
import { idSchema, textFormats } from "./inputs.js";

export type Channel = "email" | "sms" | "mobile_push";
const CHANNELS: readonly Channel[] = ["email", "sms", "mobile_push"];

/** A message as Klaviyo's Create Campaign takes it. */
export interface CampaignMessage {
  type: "campaign-message";
  attributes: { definition: Record<string, unknown> & { channel: Channel } };
  relationships?: { image: { data: { type: "image"; id: string } } };
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
}

function unknownKeys(
  value: Record<string, unknown>,
  allowed: readonly string[],
  what: string,
  problems: string[],
  at: string,
): void {
  const bad = Object.keys(value).filter((k) => !allowed.includes(k));
  if (bad.length > 0) {
    problems.push(
      `${at}unknown ${what} member${bad.length > 1 ? "s" : ""} ${bad.map((k) => `"${k}"`).join(", ")}; allowed: ${allowed.join(", ")}`,
    );
  }
}

function optionalText(value: Record<string, unknown>, key: string, problems: string[], at: string): void {
  const v = value[key];
  if (v !== undefined && v !== null && typeof v !== "string")
    problems.push(`${at}${key} must be text, not ${describe(v)}`);
}

function optionalBoolean(value: Record<string, unknown>, key: string, problems: string[], at: string): void {
  const v = value[key];
  if (v !== undefined && v !== null && typeof v !== "boolean")
    problems.push(`${at}${key} must be true or false`);
}

const EMAIL_CONTENT = [
  "subject",
  "preview_text",
  "from_email",
  "from_label",
  "reply_to_email",
  "cc_email",
  "bcc_email",
];
const EMAIL_ADDRESSES = ["from_email", "reply_to_email", "cc_email", "bcc_email"];
const RENDER_OPTIONS = ["shorten_links", "add_org_prefix", "add_info_link", "add_opt_out_language"];
const PUSH_CONTENT = ["title", "body", "dynamic_image", "action_buttons"];
const PUSH_OPTIONS = ["on_open", "badge", "play_sound"];

/** Checks a message definition by channel; the members Klaviyo's document defines for that channel only. */
function checkDefinition(definition: Record<string, unknown>, problems: string[], at: string): void {
  const channel = definition.channel;
  if (channel === "email") {
    unknownKeys(definition, ["channel", "label", "content"], "email definition", problems, at);
    optionalText(definition, "label", problems, at);
    const content = definition.content;
    if (content === undefined) return;
    if (!isObject(content)) {
      problems.push(`${at}content must be an object of ${EMAIL_CONTENT.join(", ")}`);
      return;
    }
    unknownKeys(content, EMAIL_CONTENT, "email content", problems, at);
    for (const key of EMAIL_CONTENT) optionalText(content, key, problems, `${at}content.`);
    for (const key of EMAIL_ADDRESSES) {
      const v = content[key];
      if (typeof v === "string" && v !== "" && !parse(textFormats.email, v).success)
        problems.push(`${at}content.${key} "${v}" is not an email address (name@example.com)`);
    }
  } else if (channel === "sms") {
    unknownKeys(definition, ["channel", "content", "render_options"], "SMS definition", problems, at);
    if (definition.content !== undefined) {
      if (!isObject(definition.content)) problems.push(`${at}content must be an object: {"body": "…"}`);
      else {
        unknownKeys(definition.content, ["body"], "SMS content", problems, at);
        optionalText(definition.content, "body", problems, `${at}content.`);
      }
    }
    if (definition.render_options !== undefined) {
      if (!isObject(definition.render_options)) problems.push(`${at}render_options must be an object`);
      else {
        unknownKeys(definition.render_options, RENDER_OPTIONS, "render_options", problems, at);
        for (const key of RENDER_OPTIONS)
          optionalBoolean(definition.render_options, key, problems, `${at}render_options.`);
      }
    }
  } else if (channel === "mobile_push") {
    const silent = definition.notification_type === "silent";
    if (definition.notification_type !== undefined && !silent && definition.notification_type !== "standard")
      problems.push(`${at}notification_type must be "standard" or "silent"`);
    if (silent) {
      unknownKeys(
        definition,
        ["channel", "notification_type", "kv_pairs"],
        "silent push definition",
        problems,
        at,
      );
    } else {
      unknownKeys(
        definition,
        ["channel", "notification_type", "content", "kv_pairs", "options"],
        "push definition",
        problems,
        at,
      );
      const content = definition.content;
      if (!isObject(content) || typeof content.body !== "string") {
        problems.push(`${at}a standard push message needs content.body (text)`);
      } else {
        unknownKeys(content, PUSH_CONTENT, "push content", problems, at);
        optionalText(content, "title", problems, `${at}content.`);
        optionalText(content, "dynamic_image", problems, `${at}content.`);
      }
      if (definition.options !== undefined && definition.options !== null) {
        if (!isObject(definition.options)) problems.push(`${at}options must be an object`);
        else unknownKeys(definition.options, PUSH_OPTIONS, "push options", problems, at);
      }
    }
    const kv = definition.kv_pairs;
    if (kv !== undefined && kv !== null && !isObject(kv)) problems.push(`${at}kv_pairs must be an object`);
  } else {
    problems.push(`${at}the channel must be one of ${CHANNELS.join(", ")}, not ${describe(channel)}`);
  }
}

/**
 * Reads Campaign Messages: an array (or one message) of Klaviyo's `{type:"campaign-message", attributes:
 * {definition}, relationships?}`, of `{definition, relationships?}`, or of bare definitions (`{channel, …}`).
 * Every message must use the same channel, as a Klaviyo campaign has one.
 */
export function readMessages(raw: unknown, problems: string[]): CampaignMessage[] {
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) {
    problems.push("must hold at least one message");
    return [];
  }
  const out: CampaignMessage[] = [];
  list.forEach((item, i) => {
    const at = list.length > 1 || Array.isArray(raw) ? `message ${i}: ` : "";
    if (!isObject(item)) {
      problems.push(`${at}must be a message object, not ${describe(item)}`);
      return;
    }
    let definition: unknown;
    let relationships: unknown;
    if (isObject(item.attributes)) {
      if (item.type !== undefined && item.type !== "campaign-message")
        problems.push(`${at}type must be "campaign-message", not ${describe(item.type)}`);
      unknownKeys(item, ["type", "attributes", "relationships"], "message", problems, at);
      unknownKeys(item.attributes, ["definition"], "message attributes", problems, at);
      definition = item.attributes.definition;
      relationships = item.relationships;
    } else if (item.definition !== undefined) {
      unknownKeys(item, ["definition", "relationships"], "message", problems, at);
      definition = item.definition;
      relationships = item.relationships;
    } else {
      definition = item;
    }
    if (!isObject(definition)) {
      problems.push(`${at}the message needs a definition object with a channel (email, sms or mobile_push)`);
      return;
    }
    const before = problems.length;
    checkDefinition(definition, problems, at);
    let image: CampaignMessage["relationships"];
    if (relationships !== undefined && relationships !== null) {
      const data =
        isObject(relationships) && isObject(relationships.image) ? relationships.image.data : undefined;
      if (
        !isObject(relationships) ||
        Object.keys(relationships).some((k) => k !== "image") ||
        !isObject(data) ||
        (data.type !== undefined && data.type !== "image") ||
        !parse(idSchema, data.id).success
      ) {
        problems.push(`${at}relationships must be {"image":{"data":{"type":"image","id":"<image id>"}}}`);
      } else {
        image = { image: { data: { type: "image", id: String(data.id).trim() } } };
      }
    }
    if (problems.length > before) return;
    out.push({
      type: "campaign-message",
      attributes: { definition: definition as CampaignMessage["attributes"]["definition"] },
      ...(image ? { relationships: image } : {}),
    });
  });
  const channels = [...new Set(out.map((m) => m.attributes.definition.channel))];
  if (channels.length > 1) {
    problems.push(
      `every message of a campaign must use the same channel; these use ${channels.join(" and ")}`,
    );
  }
  return out;
}

/** One list or segment ID of comma / space separated text (not `.` or `..`, which `idSchema` refuses too). */
const AUDIENCE_ID = "(?!\\.\\.?(?:[\\s,]|$))[^\\s,/?#\\\\]+";

/** What a caller may give as audiences: IDs (or `{id}` objects) in a JSON array, or comma / space separated. */
export type AudiencesGiven = string | Array<string | { id: string }>;

/**
 * Audience ids: a JSON array (of ids, or of `{id}` objects, as Klaviyo returns them) or comma / space separated
 * text; at least one unless `allowEmpty`.
 */
export function audienceSchema(allowEmpty: boolean): Schema<string[], AudiencesGiven> {
  const item = v.union([idSchema, v.object({ id: idSchema })]);
  const list = v.array(item);
  const text = new RegExp(
    `^[\\s,]*(?:${AUDIENCE_ID}(?:[\\s,]+${AUDIENCE_ID})*)${allowEmpty ? "?" : ""}[\\s,]*$`,
  );
  const problem = (raw: unknown): string => {
    const items = typeof raw === "string" ? raw.split(/[\s,]+/).filter((s) => s.length > 0) : raw;
    if (!Array.isArray(items))
      return "must be list or segment IDs: a JSON array or comma-separated text (Y6nRLr,UTd5ui)";
    if (!allowEmpty && items.length === 0) return "must name at least one list or segment";
    const bad = items.findIndex((it) => !parse(idSchema, isObject(it) ? it.id : it).success);
    return bad < 0
      ? "must be list or segment IDs: a JSON array or comma-separated text (Y6nRLr,UTd5ui)"
      : `item ${bad} is not a list or segment ID (${describe(isObject(items[bad]) ? items[bad].id : items[bad])})`;
  };
  return v.pipe(
    v.union(
      [
        allowEmpty ? list : v.pipe(list, v.minLength(1, "must name at least one list or segment")),
        v.pipe(
          v.string(),
          v.regex(text, (issue) => problem(issue.input)),
        ),
      ],
      (issue) => problem(issue.input),
    ),
    v.transform((given): string[] =>
      typeof given === "string"
        ? given.split(/[\s,]+/).filter((s) => s.length > 0)
        : given.map((it) => (typeof it === "string" ? it : it.id)),
    ),
  );
}

const TRACKING = ["add_tracking_params", "custom_tracking_params", "is_tracking_clicks", "is_tracking_opens"];
const DYNAMIC_VALUES: readonly string[] = TRACKING_DYNAMIC_VALUES;

/** Tracking Options: `add_tracking_params`, `custom_tracking_params[]`, `is_tracking_clicks`, `is_tracking_opens`. */
export function checkTracking(value: Record<string, unknown>, problems: string[]): void {
  unknownKeys(value, TRACKING, "tracking option", problems, "");
  for (const key of ["add_tracking_params", "is_tracking_clicks", "is_tracking_opens"])
    optionalBoolean(value, key, problems, "");
  const params = value.custom_tracking_params;
  if (params === undefined || params === null) return;
  if (!Array.isArray(params)) {
    problems.push("custom_tracking_params must be an array");
    return;
  }
  params.forEach((p, i) => {
    const at = `custom_tracking_params[${i}]: `;
    if (!isObject(p) || typeof p.name !== "string" || typeof p.value !== "string") {
      problems.push(`${at}must be {"type":"dynamic"|"static","value":…,"name":…}`);
      return;
    }
    unknownKeys(p, ["type", "value", "name"], "tracking parameter", problems, at);
    if (p.type === "dynamic") {
      if (!DYNAMIC_VALUES.includes(p.value))
        problems.push(`${at}a dynamic value must be one of ${DYNAMIC_VALUES.join(", ")}`);
    } else if (p.type !== "static") problems.push(`${at}type must be "dynamic" or "static"`);
  });
}

/** Send Options: `{ "use_smart_sending": true|false }`. */
export function checkSendOptions(value: Record<string, unknown>, problems: string[]): void {
  unknownKeys(value, ["use_smart_sending"], "send option", problems, "");
  optionalBoolean(value, "use_smart_sending", problems, "");
}

const THROTTLE = [1, 2, 5, 10, 11, 13, 14, 17, 20, 25, 33, 50];
const STRATEGY_KEYS: Record<string, readonly string[]> = {
  immediate: ["method"],
  static: ["method", "datetime", "options"],
  throttled: ["method", "datetime", "throttle_percentage"],
  smart_send_time: ["method", "date"],
};

/** Send Strategy, checked by method; its datetime normalised to ISO 8601 with seconds and a zone. */
export function readSendStrategy(
  value: Record<string, unknown>,
  problems: string[],
): Record<string, unknown> {
  const method = value.method;
  const keys = typeof method === "string" ? STRATEGY_KEYS[method] : undefined;
  if (!keys) {
    problems.push(`method must be one of ${Object.keys(STRATEGY_KEYS).join(", ")}, not ${describe(method)}`);
    return value;
  }
  unknownKeys(value, keys, `${method} send strategy`, problems, "");
  const out = { ...value };
  if (method === "static" || method === "throttled") {
    const time = typeof value.datetime === "string" ? isoDateTime(value.datetime) : undefined;
    if (time === undefined)
      problems.push(`a ${method} send strategy needs datetime, ISO 8601 such as 2026-08-01T15:00:00Z`);
    else out.datetime = time;
  }
  if (method === "throttled" && !THROTTLE.includes(value.throttle_percentage as number)) {
    problems.push(`throttle_percentage must be one of ${THROTTLE.join(", ")}`);
  }
  if (method === "static" && value.options !== undefined && value.options !== null) {
    const options = value.options;
    if (!isObject(options) || typeof options.is_local !== "boolean") {
      problems.push(
        'options must be {"is_local": true|false} (and, when local, "send_past_recipients_immediately")',
      );
    } else {
      unknownKeys(
        options,
        options.is_local ? ["is_local", "send_past_recipients_immediately"] : ["is_local"],
        "static send option",
        problems,
        "",
      );
      optionalBoolean(options, "send_past_recipients_immediately", problems, "");
    }
  }
  if (method === "smart_send_time") {
    if (
      typeof value.date !== "string" ||
      !/^\d{4}-\d{2}-\d{2}$/.test(value.date) ||
      Number.isNaN(Date.parse(value.date))
    )
      problems.push("a smart_send_time send strategy needs date, as YYYY-MM-DD");
  }
  return out;
}

/** A JSON object checked by `check`, which reports its problems (see `reading`). */
export function checked(
  check: (value: Record<string, unknown>, problems: string[]) => Record<string, unknown>,
): Schema<Record<string, unknown>> {
  return reading(jsonObject, check);
}
