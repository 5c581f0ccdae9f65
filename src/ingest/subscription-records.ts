/**
 * The "Profiles" input of Subscribe and Unsubscribe Profiles: a JSON array whose items are either Klaviyo's own
 * profile objects (`{type: "profile", attributes: {email, phone_number, subscriptions: {…}}}`) or a flat,
 * friendlier shape (`{email, phone_number, channels: ["email", "sms"], consented_at}`). Both are checked item by
 * item and normalised to Klaviyo's shape; problems are reported by item position (counted from 0, as the
 * result's `rejected[].index` is).
 */

import * as v from "valibot";
import { formatTests, isObject, isoDateTime } from "../klaviyo/formats.js";
import { type Schema, transformWith } from "../klaviyo/schema.js";

export type SubscriptionMode = "subscribe" | "unsubscribe";

/** One profile of a bulk (un)subscribe job, in Klaviyo's shape. */
export interface JobProfile {
  type: "profile";
  id?: string;
  attributes: {
    email?: string | null;
    phone_number?: string | null;
    subscriptions: Record<string, Record<string, unknown>>;
    age_gated_date_of_birth?: string | null;
  };
}

/** Where a profile carries a `consented_at`, or could: for the checks that need Historical Import. */
export interface ConsentSlot {
  /** `email.marketing`, `sms.transactional`, … */
  path: string;
  consentedAt: string | undefined;
}

/** Klaviyo's limits per request: 1,000 profiles to subscribe, 100 to unsubscribe. */
export const MAX_PROFILES_PER_REQUEST: Record<SubscriptionMode, number> = {
  subscribe: 1000,
  unsubscribe: 100,
};

/** The channels a flat profile can name, and where each goes in Klaviyo's `subscriptions`. */
export const FLAT_CHANNELS = ["email", "sms"] as const;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The sub-channels each channel takes, per mode; `consent: true` for a consent entry (`{consent, consented_at?}`). */
const CHANNELS: Record<SubscriptionMode, Record<string, Record<string, "consent" | "tracking">>> = {
  subscribe: {
    email: { marketing: "consent", open_tracking: "tracking" },
    sms: { marketing: "consent", transactional: "consent" },
    whatsapp: { marketing: "consent", transactional: "consent" },
    push: { marketing: "consent" },
  },
  unsubscribe: {
    email: { marketing: "consent", open_tracking: "tracking" },
    sms: { marketing: "consent", transactional: "consent" },
    whatsapp: { marketing: "consent", transactional: "consent", conversational: "consent" },
    push: { marketing: "consent" },
  },
};

const describe = (value: unknown) =>
  value === null ? "null" : Array.isArray(value) ? "a list" : typeof value;

/** A consent time as Klaviyo takes it (`isoDateTime`: a time without a zone is read as UTC). */
export function normaliseTimestamp(text: string): string | undefined {
  return isoDateTime(text);
}

interface Normalised {
  profile: JobProfile;
  problems: string[];
}

/** Checks the identifiers and what the channels need of them. */
function checkIdentifiers(
  profile: JobProfile,
  problems: string[],
  mode: SubscriptionMode,
  names: { email: string; phone: string },
): void {
  const { email, phone_number: phone, subscriptions } = profile.attributes;
  if (email !== undefined && email !== null) {
    if (typeof email !== "string" || !formatTests.email(email.trim()))
      problems.push(`${names.email} ${JSON.stringify(email)} is not an email address (name@example.com)`);
  }
  if (phone !== undefined && phone !== null) {
    if (typeof phone !== "string" || !formatTests.phone(phone.trim()))
      problems.push(
        `${names.phone} ${JSON.stringify(phone)} is not in E.164 format: + then country code and number, digits only (+15005550006)`,
      );
  }
  const byId = mode === "subscribe" && profile.id !== undefined;
  if (!email && !phone && !byId) {
    problems.push(
      mode === "subscribe"
        ? `needs an email address, a phone number or a profile id`
        : `needs an email address or a phone number`,
    );
    return;
  }
  if (subscriptions.email && !email && !byId)
    problems.push(`email consent needs an email address (${names.email})`);
  if ((subscriptions.sms || subscriptions.whatsapp) && !phone && !byId)
    problems.push(
      `${subscriptions.sms ? "SMS" : "WhatsApp"} consent needs a phone number in E.164 format (${names.phone})`,
    );
}

function normaliseFlat(item: Record<string, unknown>, mode: SubscriptionMode): Normalised {
  const problems: string[] = [];
  const allowed =
    mode === "subscribe"
      ? ["email", "phone_number", "channels", "consented_at", "id", "age_gated_date_of_birth"]
      : ["email", "phone_number", "channels"];
  for (const key of Object.keys(item)) {
    if (!allowed.includes(key)) {
      const hint = key === "consented_at" ? " (consent times only apply when subscribing)" : "";
      problems.push(`unknown member "${key}"${hint}; a flat profile takes ${allowed.join(", ")}`);
    }
  }
  const attributes: JobProfile["attributes"] = { subscriptions: {} };
  for (const key of ["email", "phone_number"] as const) {
    const value = item[key];
    if (value === undefined || value === null || value === "") continue;
    if (typeof value !== "string") problems.push(`${key} must be text, not ${describe(value)}`);
    else attributes[key] = value.trim();
  }
  let channels: string[];
  if (item.channels === undefined || item.channels === null) {
    // Every channel an identifier was given for.
    channels = [...(attributes.email ? ["email"] : []), ...(attributes.phone_number ? ["sms"] : [])];
  } else {
    const raw: unknown[] = Array.isArray(item.channels)
      ? item.channels
      : typeof item.channels === "string"
        ? item.channels.split(",")
        : [item.channels];
    channels = [];
    for (const channel of raw) {
      const name = typeof channel === "string" ? channel.trim().toLowerCase() : channel;
      if (typeof name !== "string" || !(FLAT_CHANNELS as readonly string[]).includes(name))
        problems.push(
          `channels: ${JSON.stringify(channel)} is not a channel; use ${FLAT_CHANNELS.join(" or ")} (Klaviyo's own shape reaches WhatsApp and push)`,
        );
      else if (!channels.includes(name)) channels.push(name);
    }
    if (raw.length === 0) problems.push("channels is empty: name email, sms or both");
  }
  let consentedAt: string | undefined;
  if (item.consented_at !== undefined && item.consented_at !== null && mode === "subscribe") {
    const at = typeof item.consented_at === "string" ? normaliseTimestamp(item.consented_at) : undefined;
    if (at === undefined)
      problems.push(
        `consented_at ${JSON.stringify(item.consented_at)} is not an ISO 8601 date-time such as 2026-07-15T12:00:00Z`,
      );
    else consentedAt = at;
  }
  const consent = mode === "subscribe" ? "SUBSCRIBED" : "UNSUBSCRIBED";
  for (const channel of channels) {
    attributes.subscriptions[channel] = {
      marketing: { consent, ...(consentedAt !== undefined ? { consented_at: consentedAt } : {}) },
    };
  }
  const profile: JobProfile = { type: "profile", attributes };
  if (mode === "subscribe") {
    if (item.id !== undefined && item.id !== null) {
      if (typeof item.id !== "string" || item.id.trim() === "")
        problems.push("id must be a profile ID (non-empty text)");
      else profile.id = item.id.trim();
    }
    checkDateOfBirth(item.age_gated_date_of_birth, attributes, problems);
  }
  if (channels.length === 0 && problems.length === 0)
    problems.push("names no channel: give an email or phone_number (or channels)");
  if (problems.length === 0)
    checkIdentifiers(profile, problems, mode, { email: "email", phone: "phone_number" });
  return { profile, problems };
}

function checkDateOfBirth(value: unknown, attributes: JobProfile["attributes"], problems: string[]): void {
  if (value === undefined) return;
  if (value === null) attributes.age_gated_date_of_birth = null;
  else if (typeof value !== "string" || !DATE.test(value) || Number.isNaN(Date.parse(value)))
    problems.push(`age_gated_date_of_birth ${JSON.stringify(value)} is not a date such as 1990-04-21`);
  else attributes.age_gated_date_of_birth = value;
}

/** One consent entry (`{consent, consented_at?}`), with the literal the mode takes filled in when absent. */
function consentEntry(
  where: string,
  value: unknown,
  kind: "consent" | "tracking",
  mode: SubscriptionMode,
  problems: string[],
): Record<string, unknown> | undefined {
  const literal = mode === "subscribe" ? "SUBSCRIBED" : "UNSUBSCRIBED";
  if (!isObject(value)) {
    problems.push(`${where} must be an object such as {"consent":"${literal}"}, not ${describe(value)}`);
    return undefined;
  }
  const allowed = kind === "consent" && mode === "subscribe" ? ["consent", "consented_at"] : ["consent"];
  const out: Record<string, unknown> = { consent: literal };
  for (const [key, member] of Object.entries(value)) {
    if (!allowed.includes(key)) {
      problems.push(`${where}: unknown member "${key}"; it takes ${allowed.join(", ")}`);
    } else if (key === "consent") {
      if (member !== literal)
        problems.push(
          `${where}.consent must be "${literal}" to ${mode}, not ${JSON.stringify(member)} (${mode === "subscribe" ? "use Unsubscribe Profiles to withdraw consent" : "use Subscribe Profiles to give consent"})`,
        );
    } else if (member !== null && member !== undefined) {
      const at = typeof member === "string" ? normaliseTimestamp(member) : undefined;
      if (at === undefined)
        problems.push(
          `${where}.consented_at ${JSON.stringify(member)} is not an ISO 8601 date-time such as 2026-07-15T12:00:00Z`,
        );
      else out.consented_at = at;
    }
  }
  return out;
}

function normaliseKlaviyo(item: Record<string, unknown>, mode: SubscriptionMode): Normalised {
  const problems: string[] = [];
  const top = mode === "subscribe" ? ["type", "id", "attributes"] : ["type", "attributes"];
  for (const key of Object.keys(item)) {
    if (!top.includes(key))
      problems.push(
        `unknown member "${key}"${key === "id" ? " (Klaviyo identifies profiles to unsubscribe by email or phone number only)" : ""}; a Klaviyo profile object takes ${top.join(", ")}`,
      );
  }
  if (item.type !== undefined && item.type !== "profile")
    problems.push(`type must be "profile", not ${JSON.stringify(item.type)}`);
  const profile: JobProfile = { type: "profile", attributes: { subscriptions: {} } };
  if (mode === "subscribe" && item.id !== undefined && item.id !== null) {
    if (typeof item.id !== "string" || item.id.trim() === "")
      problems.push("id must be a profile ID (non-empty text)");
    else profile.id = item.id.trim();
  }
  const attributes = item.attributes;
  if (!isObject(attributes)) {
    problems.push(
      `attributes must be an object with email/phone_number and subscriptions, not ${describe(attributes)}`,
    );
    return { profile, problems };
  }
  const allowed =
    mode === "subscribe"
      ? ["email", "phone_number", "subscriptions", "age_gated_date_of_birth"]
      : ["email", "phone_number", "subscriptions"];
  for (const key of Object.keys(attributes)) {
    if (!allowed.includes(key))
      problems.push(`attributes: unknown member "${key}"; attributes take ${allowed.join(", ")}`);
  }
  for (const key of ["email", "phone_number"] as const) {
    const value = attributes[key];
    if (value === undefined || value === "") continue;
    if (value === null) profile.attributes[key] = null;
    else if (typeof value !== "string")
      problems.push(`attributes.${key} must be text, not ${describe(value)}`);
    else profile.attributes[key] = value.trim();
  }
  if (mode === "subscribe")
    checkDateOfBirth(attributes.age_gated_date_of_birth, profile.attributes, problems);
  const subscriptions = attributes.subscriptions;
  if (!isObject(subscriptions)) {
    problems.push(
      `attributes.subscriptions must be an object of channels, such as {"email":{"marketing":{"consent":"${mode === "subscribe" ? "SUBSCRIBED" : "UNSUBSCRIBED"}"}}}, not ${describe(subscriptions)}`,
    );
    return { profile, problems };
  }
  const table = CHANNELS[mode];
  for (const [channel, value] of Object.entries(subscriptions)) {
    const where = `subscriptions.${channel}`;
    const subs = table[channel];
    if (!subs) {
      problems.push(`${where}: unknown channel; use ${Object.keys(table).join(", ")}`);
      continue;
    }
    if (!isObject(value)) {
      problems.push(`${where} must be an object, not ${describe(value)}`);
      continue;
    }
    const out: Record<string, unknown> = {};
    const extra =
      channel === "push"
        ? mode === "subscribe"
          ? ["tokens", "anonymous_id"]
          : ["tokens"]
        : ([] as string[]);
    for (const [sub, member] of Object.entries(value)) {
      const kind = subs[sub];
      if (kind) {
        const entry = consentEntry(`${where}.${sub}`, member, kind, mode, problems);
        if (entry) out[sub] = entry;
      } else if (extra.includes(sub)) {
        if (sub === "tokens" && member !== null && !Array.isArray(member))
          problems.push(`${where}.tokens must be a list of push tokens`);
        out[sub] = member;
      } else {
        problems.push(
          `${where}: unknown member "${sub}"; use ${[...Object.keys(subs), ...extra].join(", ")}`,
        );
      }
    }
    if (channel === "push") {
      if (!("marketing" in value)) problems.push(`${where}.marketing is required`);
      if (mode === "unsubscribe" && !Array.isArray(value.tokens))
        problems.push(`${where}.tokens is required to unsubscribe push: the tokens to unsubscribe`);
    }
    if (Object.keys(value).length === 0) problems.push(`${where} is empty: name marketing (or another kind)`);
    profile.attributes.subscriptions[channel] = out;
  }
  if (Object.keys(subscriptions).length === 0)
    problems.push(`attributes.subscriptions names no channel (email, sms, whatsapp or push)`);
  if (problems.length === 0)
    checkIdentifiers(profile, problems, mode, {
      email: "attributes.email",
      phone: "attributes.phone_number",
    });
  return { profile, problems };
}

/** Normalises one item of the Profiles input, collecting its problems. */
export function normaliseProfile(item: unknown, mode: SubscriptionMode): Normalised {
  if (!isObject(item)) {
    return {
      profile: { type: "profile", attributes: { subscriptions: {} } },
      problems: [
        `must be a profile object, such as {"email":"sarah@example.com"}, not ${describe(item)}${typeof item === "string" ? ' (write {"email": …} for an address)' : ""}`,
      ],
    };
  }
  return "attributes" in item || "type" in item ? normaliseKlaviyo(item, mode) : normaliseFlat(item, mode);
}

/** At most this many item problems are listed; the rest are counted. */
const MAX_LISTED = 20;

/** Formats problems by item: `item 3: …; item 7: …`, the tail counted. */
export function itemProblems(problems: ReadonlyArray<{ index: number; problem: string }>): string[] {
  const listed = problems.slice(0, MAX_LISTED).map(({ index, problem }) => `item ${index}: ${problem}`);
  if (problems.length > MAX_LISTED) {
    const items = new Set(problems.slice(MAX_LISTED).map((p) => p.index)).size;
    listed.push(
      `and ${problems.length - MAX_LISTED} more problems in ${items} more item${items === 1 ? "" : "s"}`,
    );
  }
  return listed;
}

/** The Profiles input's schema: a JSON array of profiles, each checked and normalised to Klaviyo's shape. */
export function profilesSchema(mode: SubscriptionMode): Schema<JobProfile[]> {
  return v.pipe(
    v.array(v.unknown()),
    transformWith((items, ctx) => {
      if (items.length === 0) {
        ctx.addIssue({ message: "must hold at least one profile" });
        return undefined as never;
      }
      const out: JobProfile[] = [];
      const problems: Array<{ index: number; problem: string }> = [];
      items.forEach((item, index) => {
        const normalised = normaliseProfile(item, mode);
        for (const problem of normalised.problems) problems.push({ index, problem });
        out.push(normalised.profile);
      });
      if (problems.length > 0) {
        for (const message of itemProblems(problems)) ctx.addIssue({ message });
        return undefined as never;
      }
      return out;
    }),
  );
}

/** Every consent entry that takes a `consented_at` (all but open tracking), with the time it carries. */
export function consentSlots(profile: JobProfile): ConsentSlot[] {
  const slots: ConsentSlot[] = [];
  for (const [channel, subs] of Object.entries(profile.attributes.subscriptions)) {
    for (const [sub, entry] of Object.entries(subs)) {
      if (sub === "open_tracking" || sub === "tokens" || sub === "anonymous_id" || !isObject(entry)) continue;
      const at = entry.consented_at;
      slots.push({ path: `${channel}.${sub}`, consentedAt: typeof at === "string" ? at : undefined });
    }
  }
  return slots;
}

/**
 * Klaviyo's rule on consent times: `consented_at` only with a historical import, and then on every consent,
 * in the past. Returns the problems by item.
 */
export function historicalImportProblems(
  profiles: readonly JobProfile[],
  historicalImport: boolean,
  now: number,
): Array<{ index: number; problem: string }> {
  const problems: Array<{ index: number; problem: string }> = [];
  profiles.forEach((profile, index) => {
    for (const slot of consentSlots(profile)) {
      if (!historicalImport && slot.consentedAt !== undefined)
        problems.push({
          index,
          problem: `${slot.path} has consented_at, which Klaviyo only accepts when Historical Import is true`,
        });
      else if (historicalImport && slot.consentedAt === undefined)
        problems.push({
          index,
          problem: `${slot.path} needs consented_at (when the person consented): Historical Import requires one on every consent`,
        });
      else if (historicalImport && slot.consentedAt !== undefined && Date.parse(slot.consentedAt) > now)
        problems.push({ index, problem: `${slot.path}.consented_at ${slot.consentedAt} is in the future` });
    }
  });
  return problems;
}

/** The item position a Klaviyo error pointer names (`/data/attributes/profiles/data/3/…` → 3). */
export function profileIndexOf(pointer: string): number | undefined {
  const match = /^\/data\/attributes\/profiles\/data\/(\d+)(?:\/|$)/.exec(pointer);
  return match ? Number(match[1]) : undefined;
}

/**
 * The reasons Klaviyo gave for refusing a request of profiles, by the position of each profile its errors point
 * at (`/data/attributes/profiles/data/3/…`), several joined with "; "; errors pointing elsewhere are left out.
 */
export function reasonsByProfile(
  errors: ReadonlyArray<{ detail?: string; title?: string; code?: string; source?: { pointer?: string } }>,
  members: ReadonlyArray<{ position: number }>,
): Map<number, string> {
  const out = new Map<number, string>();
  for (const entry of errors) {
    const pointer = entry.source?.pointer;
    const at = pointer ? profileIndexOf(pointer) : undefined;
    const member = at === undefined ? undefined : members[at];
    if (!member) continue;
    const reason = `${entry.detail ?? entry.title ?? entry.code ?? "refused"} [${pointer}]`;
    const before = out.get(member.position);
    out.set(member.position, before === undefined ? reason : `${before}; ${reason}`);
  }
  return out;
}
