/**
 * The demo's tour: every action, in an order where each step can use what an earlier one made (a list, a
 * profile, a template …), reading, updating, and finally deleting what it created.
 */

import type { ActionInputs, ActionKey } from "../../actions/index.js";
import { builtins } from "../../core/builtins.js";

/** 1x1 PNG, for the image uploads. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);

export interface TourState {
  [name: string]: string | undefined;
}

/** One step: an action and its inputs, typed by the action's key (a wrong input does not compile). */
export type Step = {
  [K in ActionKey]: {
    action: K;
    /** What makes this step differ from another of the same action (shown in the row). */
    note?: string;
    inputs(state: TourState): ActionInputs<K>;
    /** Remembers ids for later steps (state.listId = …). */
    keep?(output: unknown, state: TourState): void;
    /**
     * A bulk step that sends this many items made to be refused (to show a refusal): it succeeds when exactly
     * these are rejected and every other item is accepted.
     */
    rejects?: number;
    /**
     * Runs only when an earlier step kept `has` (an ID of something the account must already hold: flows cannot be
     * made through the API); otherwise the step is skipped, saying `otherwise`, and is no failure.
     */
    when?: { has: string; otherwise: string };
    /**
     * The account may not offer what the step uses (webhooks need Advanced KDP): when Klaviyo refuses it with 403,
     * the step is skipped, saying `otherwise`, and is no failure (the steps that need what it keeps then skip too).
     */
    unavailable?: { otherwise: string };
  };
}[ActionKey];

/** Where the tour's webhook points, and the key it is signed with. */
export interface TourOptions {
  /** Default: an https URL on example.com (no event is recorded while the webhook is enabled). */
  readonly webhookUrl?: string;
  /** Default: 32 random bytes, base64url. */
  readonly webhookSecret?: string;
}

/** The tour's webhook endpoint when the demo hosts no receiver Klaviyo can reach (RFC 2606's example.com). */
export const DEMO_WEBHOOK_URL = "https://example.com/klaviyo-demo-webhook";

type Doc = { data?: unknown };
/** The id of a document's resource, or of the first item of a list result. */
export function firstId(output: unknown): string | undefined {
  const data = (output as Doc | undefined)?.data;
  const item = (Array.isArray(data) ? data[0] : data) as { id?: string } | undefined;
  return item?.id;
}

/** An id an earlier step kept; empty when that step failed, which this step's validation then reports. */
const id = (kept: string | undefined): string => kept ?? "";

const keepAs = (name: string) => (output: unknown, state: TourState) => {
  state[name] = firstId(output);
};

/** The webhook steps need the account's webhook access (Advanced KDP), which List Webhook Topics finds out. */
const NO_WEBHOOK_ACCESS = "the account has no webhook access (Klaviyo offers webhooks with Advanced KDP)";
const WITH_WEBHOOKS = {
  has: "webhookTopic",
  otherwise: "no webhook topic to subscribe to (see List Webhook Topics)",
};
const WITH_WEBHOOK = { has: "webhookId", otherwise: "no webhook was made (see Create Webhook)" };

/** The topic the tour's webhook subscribes to: the email consent topic when the account offers it, else the first. */
function keepTopic(output: unknown, state: TourState): void {
  const topics = ((output as Doc | undefined)?.data ?? []) as Array<{ id?: string }>;
  state.webhookTopic =
    topics.find((t) => t.id === "event:klaviyo.subscribed_to_email_marketing")?.id ?? topics[0]?.id;
}

/**
 * The webhook steps, one after another with nothing recorded in between, so the webhook receives no delivery
 * while it lives: topics, create (it starts enabled), read, disable, list, delete.
 */
function webhookSteps(run: string, options: TourOptions): Step[] {
  const secret = options.webhookSecret ?? builtins.crypto.randomBytes(32).toString("base64url");
  return [
    {
      action: "list-webhook-topics",
      inputs: () => ({}),
      keep: keepTopic,
      unavailable: { otherwise: NO_WEBHOOK_ACCESS },
    },
    {
      action: "create-webhook",
      inputs: (s) => ({
        name: `Demo webhook ${run}`,
        endpointUrl: options.webhookUrl ?? DEMO_WEBHOOK_URL,
        secretKey: secret,
        topics: [id(s.webhookTopic)],
        description: "Made by klaviyo demo; deleted at the end of the tour",
      }),
      keep: keepAs("webhookId"),
      when: WITH_WEBHOOKS,
    },
    {
      action: "get-webhook",
      inputs: (s) => ({ webhookId: id(s.webhookId), includeTopics: true }),
      when: WITH_WEBHOOK,
    },
    {
      action: "update-webhook",
      note: "disable",
      inputs: (s) => ({ webhookId: id(s.webhookId), enabled: false }),
      when: WITH_WEBHOOK,
    },
    { action: "list-webhooks", inputs: () => ({}), when: WITH_WEBHOOKS },
    { action: "delete-webhook", inputs: (s) => ({ webhookId: id(s.webhookId) }), when: WITH_WEBHOOK },
  ];
}

/** The flow steps need a draft flow of the account's own (Klaviyo's API cannot create one). */
const NO_DRAFT_FLOW = {
  has: "flowId",
  otherwise: "the account has no draft flow (flows cannot be created through the API)",
};

export function tour(run: string, options: TourOptions = {}): Step[] {
  const email = (who: string) => `${who}.${run}@example.com`;
  return [
    { action: "list-accounts", inputs: () => ({}), keep: keepAs("accountId") },
    {
      action: "get-account",
      inputs: (s) => ({
        accountId: id(s.accountId),
        fields: "contact_information.organization_name,timezone",
      }),
    },
    { action: "create-list", inputs: () => ({ listName: `Demo Newsletter ${run}` }), keep: keepAs("listId") },
    { action: "get-list", inputs: (s) => ({ listId: id(s.listId) }) },
    { action: "update-list", inputs: (s) => ({ listId: id(s.listId), listName: `Demo Weekly ${run}` }) },
    { action: "list-lists", inputs: () => ({ pageSize: 10 }) },
    {
      action: "create-profile",
      inputs: () => ({
        // Identifiers unique to the run (no fixed phone number): a second tour on the same account makes its own.
        email: email("ada"),
        firstName: "Ada",
        location: { city: "London", country: "United Kingdom" },
        properties: { plan: "gold" },
      }),
      keep: keepAs("profileId"),
    },
    {
      action: "get-profile",
      inputs: (s) => ({ profileId: id(s.profileId), additionalFields: "subscriptions" }),
    },
    { action: "update-profile", inputs: (s) => ({ profileId: id(s.profileId), lastName: "Lovelace" }) },
    { action: "list-profile", inputs: () => ({ filter: `equals(email,'${email("ada")}')` }) },
    {
      action: "create-or-update-profile",
      note: "created",
      inputs: () => ({ email: email("lin"), firstName: "Lin", title: "Buyer" }),
      keep: keepAs("upsertedId"),
    },
    {
      action: "create-or-update-profile",
      note: "updated",
      inputs: () => ({ email: email("lin"), lastName: "Wei", clearFields: "title" }),
    },
    { action: "find-profile", inputs: () => ({ email: email("lin") }) },
    { action: "suppress-profiles", inputs: () => ({ emails: [email("lin")] }) },
    { action: "unsuppress-profiles", inputs: () => ({ emails: [email("lin")] }) },
    {
      action: "create-or-update-profile",
      note: "second, to merge",
      inputs: () => ({ externalId: `demo-${run}-lin`, properties: { source: "pos" } }),
      keep: keepAs("mergedId"),
    },
    {
      action: "merge-profiles",
      inputs: (s) => ({ profileId: id(s.upsertedId), sourceProfileIds: [id(s.mergedId)] }),
    },
    {
      action: "create-or-update-profile",
      note: "third, to delete",
      inputs: () => ({ email: email("temp") }),
    },
    { action: "request-profile-deletion", inputs: () => ({ email: email("temp") }) },
    {
      action: "subscribe-profiles",
      inputs: (s) => ({
        profiles: [{ email: email("ada") }, { email: email("grace") }],
        listId: id(s.listId),
      }),
    },
    { action: "list-list-profiles", inputs: (s) => ({ listId: id(s.listId) }) },
    {
      action: "unsubscribe-profiles",
      inputs: (s) => ({ profiles: [{ email: email("grace") }], listId: id(s.listId) }),
    },
    {
      action: "add-profiles-to-list",
      inputs: (s) => ({ listId: id(s.listId), profileIds: [id(s.profileId)], emails: [email("grace")] }),
    },
    {
      action: "remove-profiles-from-list",
      inputs: (s) => ({ listId: id(s.listId), emails: [email("grace")] }),
    },
    {
      action: "bulk-import-profiles",
      note: "one refused",
      inputs: (s) => ({
        profiles: [
          { email: email("grace"), external_id: `demo-${run}-grace`, first_name: "Grace" },
          { email: email("linus"), first_name: "Linus", properties: { plan: "silver" } },
          // Ada's email with the external ID just given to Grace: two profiles in one, an import error.
          { email: email("ada"), external_id: `demo-${run}-grace` },
        ],
        listId: id(s.listId),
      }),
      rejects: 1,
    },
    {
      action: "create-event",
      inputs: () => ({
        name: "Viewed Product",
        profile: { email: email("ada") },
        properties: { product: "Trail Jacket" },
        value: 129,
        valueCurrency: "USD",
        uniqueId: `demo-${run}-view`,
      }),
    },
    {
      action: "bulk-create-events",
      inputs: () => ({
        events: Array.from({ length: 20 }, (_, i) => ({
          metric: "Placed Order",
          profile: { email: email(i % 2 ? "ada" : "grace") },
          properties: { order: i },
          value: 10 + i,
          value_currency: "USD",
          unique_id: `demo-${run}-order-${i}`,
        })),
      }),
    },
    { action: "list-events", inputs: () => ({ sort: "-datetime", pageSize: 5 }), keep: keepAs("eventId") },
    { action: "get-event", inputs: (s) => ({ eventId: id(s.eventId), include: "metric" }) },
    {
      action: "create-template",
      inputs: () => ({
        name: `Demo welcome ${run}`,
        editorType: "CODE",
        html: "<html><body><h1>Welcome, {{ first_name|default:'friend' }}</h1></body></html>",
      }),
      keep: keepAs("templateId"),
    },
    { action: "get-template", inputs: (s) => ({ templateId: id(s.templateId) }) },
    { action: "update-template", inputs: (s) => ({ templateId: id(s.templateId), text: "Welcome" }) },
    { action: "list-templates", inputs: () => ({}) },
    {
      action: "render-template",
      inputs: (s) => ({ templateId: id(s.templateId), context: { first_name: "Ada" } }),
    },
    {
      action: "clone-template",
      inputs: (s) => ({ templateId: id(s.templateId), name: `Demo welcome copy ${run}` }),
      keep: keepAs("templateCloneId"),
    },
    {
      action: "create-segment",
      inputs: () => ({
        name: `Demo gold members ${run}`,
        conditionGroups: [
          {
            conditions: [
              {
                type: "profile-property",
                property: "properties['plan']",
                filter: { type: "string", operator: "equals", value: "gold" },
              },
            ],
          },
        ],
      }),
      keep: keepAs("segmentId"),
    },
    { action: "get-segment", inputs: (s) => ({ segmentId: id(s.segmentId) }) },
    {
      action: "list-segment-profiles",
      inputs: (s) => ({ segmentId: id(s.segmentId), fields: "email,joined_group_at" }),
    },
    { action: "update-segment", inputs: (s) => ({ segmentId: id(s.segmentId), isStarred: true }) },
    { action: "list-segments", inputs: () => ({}) },
    {
      action: "create-campaign",
      inputs: (s) => ({
        name: `Demo launch ${run}`,
        includedAudiences: [id(s.listId)],
        messages: [
          {
            channel: "email",
            label: "Launch email",
            content: { subject: "We are live", from_email: "hello@example.com", from_label: "Demo" },
          },
        ],
      }),
      keep: keepAs("campaignId"),
    },
    { action: "get-campaign", inputs: (s) => ({ campaignId: id(s.campaignId) }) },
    {
      action: "update-campaign",
      inputs: (s) => ({ campaignId: id(s.campaignId), name: `Demo relaunch ${run}` }),
    },
    { action: "list-campaigns", inputs: () => ({ filter: "equals(messages.channel,'email')" }) },
    { action: "create-tag", inputs: () => ({ name: `Demo ${run}` }), keep: keepAs("tagId") },
    { action: "list-tags", inputs: () => ({ filter: `starts-with(name,'Demo')`, includeTagGroup: true }) },
    {
      action: "tag-resources",
      note: "list",
      inputs: (s) => ({ tagId: id(s.tagId), resourceIds: [id(s.listId)] }),
    },
    {
      action: "tag-resources",
      note: "campaign",
      inputs: (s) => ({ tagId: id(s.tagId), resourceType: "campaign", resourceIds: [id(s.campaignId)] }),
    },
    {
      action: "untag-resources",
      note: "list",
      inputs: (s) => ({ tagId: id(s.tagId), resourceIds: [id(s.listId)] }),
    },
    {
      action: "untag-resources",
      note: "campaign",
      inputs: (s) => ({ tagId: id(s.tagId), resourceType: "campaign", resourceIds: [id(s.campaignId)] }),
    },
    {
      // A draft flow, so that a tour on a real account never holds back a live one's messages.
      action: "list-flows",
      inputs: () => ({ filter: "equals(status,'draft')", pageSize: 5 }),
      keep: keepAs("flowId"),
    },
    {
      action: "get-flow",
      inputs: (s) => ({ flowId: id(s.flowId), include: "flow-actions" }),
      when: NO_DRAFT_FLOW,
    },
    {
      action: "update-flow-status",
      note: "to manual",
      inputs: (s) => ({ flowId: id(s.flowId), status: "manual" }),
      when: NO_DRAFT_FLOW,
    },
    {
      action: "update-flow-status",
      note: "back to draft",
      inputs: (s) => ({ flowId: id(s.flowId), status: "draft" }),
      when: NO_DRAFT_FLOW,
    },
    {
      action: "assign-template-to-campaign-message",
      inputs: (s) => ({ campaignId: id(s.campaignId), templateId: id(s.templateId) }),
    },
    {
      action: "send-campaign",
      inputs: (s) => ({ campaignId: id(s.campaignId) }),
      keep: (output, state) => {
        state.sendJobId = (output as { sendJobId?: string } | undefined)?.sendJobId;
      },
    },
    { action: "get-campaign-send-job", inputs: (s) => ({ sendJobId: id(s.sendJobId) }) },
    {
      action: "clone-campaign",
      inputs: (s) => ({ campaignId: id(s.campaignId), newName: `Demo relaunch copy ${run}` }),
      keep: keepAs("cloneId"),
    },
    { action: "send-campaign", note: "the copy", inputs: (s) => ({ campaignId: id(s.cloneId) }) },
    {
      action: "cancel-campaign-send",
      note: "back to Draft",
      inputs: (s) => ({ sendJobId: id(s.cloneId), action: "revert" }),
    },
    { action: "list-metrics", inputs: () => ({}), keep: keepAs("metricId") },
    { action: "get-metric", inputs: (s) => ({ metricId: id(s.metricId) }) },
    {
      action: "query-metric-aggregates",
      inputs: (s) => ({
        metricId: id(s.metricId),
        start: new Date(Date.now() - 30 * 86_400_000).toISOString(),
        end: new Date(Date.now() + 86_400_000).toISOString(),
        measurements: ["count", "unique"],
        interval: "week",
      }),
    },
    {
      action: "upload-image",
      note: "from file",
      inputs: () => ({ fileData: new Uint8Array(PNG), imageName: `demo-dot-${run}` }),
      keep: keepAs("imageId"),
    },
    {
      action: "upload-image",
      note: "from data: URI",
      inputs: () => ({
        imageUrl: `data:image/png;base64,${PNG.toString("base64")}`,
        imageName: `demo-uri-${run}`,
      }),
    },
    { action: "get-image", inputs: (s) => ({ imageId: id(s.imageId) }) },
    { action: "update-image", inputs: (s) => ({ imageId: id(s.imageId), imageHidden: true }) },
    { action: "list-images", inputs: () => ({ pageSize: 5 }) },
    {
      action: "raw-request",
      inputs: () => ({ url: "/api/metrics", method: "GET", queryParameter: { "fields[metric]": "name" } }),
    },
    ...webhookSteps(run, options),
    { action: "delete-campaign", inputs: (s) => ({ campaignId: id(s.campaignId) }) },
    { action: "delete-campaign", note: "the copy", inputs: (s) => ({ campaignId: id(s.cloneId) }) },
    { action: "delete-segment", inputs: (s) => ({ segmentId: id(s.segmentId) }) },
    { action: "delete-template", inputs: (s) => ({ templateId: id(s.templateId) }) },
    {
      action: "delete-template",
      note: "the clone",
      inputs: (s) => ({ templateId: id(s.templateCloneId) }),
    },
    { action: "delete-list", inputs: (s) => ({ listId: id(s.listId) }) },
  ];
}

/** One line about an action's output: what it made, found or sent. */
export function summarize(output: unknown): string {
  if (output === null || output === undefined) return "done";
  const o = output as Record<string, unknown>;
  if (typeof o.total === "number" && typeof o.accepted === "number") {
    const rejected = (o.rejected as unknown[] | undefined)?.length ?? 0;
    return `accepted ${o.accepted}/${o.total}${rejected ? `, rejected ${rejected}` : ""} in ${(o.requests as unknown[] | undefined)?.length ?? 0} request(s)`;
  }
  if (Array.isArray(o.profileIds) && typeof o.listId === "string") {
    const done = typeof o.added === "number" ? `added ${o.added}` : `removed ${String(o.removed)}`;
    const missing = o.notFound as { profileIds: unknown[]; emails: unknown[] } | undefined;
    const notFound = (missing?.profileIds.length ?? 0) + (missing?.emails.length ?? 0);
    return `${done}/${o.profileIds.length}${notFound ? `, ${notFound} not found` : ""} in ${(o.requests as unknown[] | undefined)?.length ?? 0} request(s)`;
  }
  if ((o.tagged === true || o.untagged === true) && Array.isArray(o.resourceIds))
    return `${o.tagged ? "tagged" : "untagged"} ${o.resourceIds.length} ${String(o.resourceType)}(s)`;
  if (o.deleted === true) return `deleted ${String(o.id)}`;
  if (o.accepted === true) return `accepted (metric ${String(o.metric ?? "?")})`;
  if (typeof o.status === "number" && "data" in o && !Array.isArray(o.data)) {
    const items = (o.data as { data?: unknown[] } | undefined)?.data;
    return `HTTP ${o.status}${Array.isArray(items) ? `, ${items.length} item(s)` : ""}`;
  }
  if (Array.isArray(o.data)) {
    const more = o.nextCursor ? ", more pages" : "";
    return `${o.data.length} item(s)${more}`;
  }
  const data = o.data as { type?: string; id?: string; attributes?: Record<string, unknown> } | undefined;
  if (data?.type) {
    const a = data.attributes ?? {};
    const name =
      a.name ??
      a.email ??
      (a.contact_information as { organization_name?: string } | undefined)?.organization_name;
    return `${data.type} ${data.id}${name ? ` (${String(name)})` : ""}`;
  }
  return JSON.stringify(output).slice(0, 80);
}
