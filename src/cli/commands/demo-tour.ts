/**
 * The demo's tour: every action, in an order where each step can use what an earlier one made (a list, a
 * profile, a template …), reading, updating, and finally deleting what it created.
 */

import type { ActionInputs, ActionKey } from "../../actions/index.js";

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
  };
}[ActionKey];

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

export function tour(run: string): Step[] {
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
        html: "<html><body><h1>Welcome</h1></body></html>",
      }),
      keep: keepAs("templateId"),
    },
    { action: "get-template", inputs: (s) => ({ templateId: id(s.templateId) }) },
    { action: "update-template", inputs: (s) => ({ templateId: id(s.templateId), text: "Welcome" }) },
    { action: "list-templates", inputs: () => ({}) },
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
    { action: "delete-campaign", inputs: (s) => ({ campaignId: id(s.campaignId) }) },
    { action: "delete-segment", inputs: (s) => ({ segmentId: id(s.segmentId) }) },
    { action: "delete-template", inputs: (s) => ({ templateId: id(s.templateId) }) },
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
