/**
 * What the hostile-input tests of the emulator (emulator-hostile.test.ts) start from: the routes the emulator
 * implements, read from its own route table, the resources they address, and for every route that takes a body
 * one valid body, so that each hostile case differs from an accepted request by exactly what it breaks.
 */

import type { Emulator } from "../../src/emulator/index.js";
import {
  sendProblem,
  setSendTiming,
  startSend,
  stopSend,
} from "../../src/emulator/resources/campaign-send.js";
import { KLAVIYO_INTEGRATION } from "../../src/emulator/resources/metrics-model.js";
import { insertProfile } from "../../src/emulator/resources/profile-model.js";
import { topicOfEvent } from "../../src/emulator/resources/webhooks-model.js";
import { implementedRoutes } from "../../src/emulator/routes/index.js";
import { seedFlows } from "../../src/emulator/seed-flows.js";
import { type CampaignRow, createState, type EventRow, seedAccount } from "../../src/emulator/state.js";
import { allOperations, type Operation } from "../../src/klaviyo/operations.js";
import { CONSENT_METRICS, topicOfMetric } from "../../src/klaviyo/webhooks.js";
import { klaviyoHeaders } from "../emulator/helpers.js";
import type { FetchLike } from "../helpers/contract.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every operation the emulator implements, from its route table (so a new route is covered without edits here). */
export const IMPLEMENTED: readonly Operation[] = (() => {
  const table = implementedRoutes(createState([seedAccount()]));
  return [...allOperations()].filter((op) => table[op.id] !== undefined);
})();

export const WRITE_OPERATIONS = IMPLEMENTED.filter((op) => op.method !== "GET");
export const READ_OPERATIONS = IMPLEMENTED.filter((op) => op.method === "GET");

/** Ids of resources that exist in the emulator under test, by the collection a path names (`lists`, `profiles`). */
export type Seeds = Readonly<Record<string, string>>;

export interface BodyFixture {
  /** A body the operation accepts, built afresh each call (unique names and identifiers). */
  readonly body: (seeds: Seeds) => Json;
  /** The status of success. */
  readonly status: number;
  /** Pointers of objects that take any member (custom properties and the like). */
  readonly freeForm?: readonly string[];
  /** Pointers of members that take values of several JSON types (a coordinate as string or number). */
  readonly anyType?: readonly string[];
}

let counter = 0;

/** By an emulator's seeded profile: makes a new profile in that emulator to merge into it (see `seedResources`). */
const mergeSources = new Map<string, () => string>();
/** A value no other call returns, so creates never collide (409 `duplicate_profile`). */
export const unique = (prefix: string): string => `${prefix}${++counter}`;

const emailMessage = (): Json => ({
  type: "campaign-message",
  attributes: {
    definition: {
      channel: "email",
      label: "Launch",
      content: { subject: "Hello", preview_text: "Hi", from_email: "shop@example.com", from_label: "Shop" },
    },
  },
});

const eventAttributes = (): { [key: string]: Json } => ({
  properties: { OrderId: unique("o-"), Items: ["A", "B"], Nested: { sku: "X1", price: 9.5 } },
  time: "2026-01-15T12:00:00Z",
  value: 19.98,
  value_currency: "USD",
  unique_id: unique("evt-"),
  metric: { data: { type: "metric", attributes: { name: "Placed Order" } } },
});

const eventProfile = (): { [key: string]: Json } => ({
  email: `${unique("buyer")}@example.com`,
  first_name: "Ada",
  location: { city: "Boston", latitude: "42.36", longitude: -71.06 },
  properties: { tier: "gold" },
});

/**
 * Where the fixtures' webhooks deliver: a loopback port nothing listens on (a privileged one, which fetch does not
 * bar as it bars port 1), so that every delivery an accepted hostile request sets off really connects and is
 * refused at once, never waiting on a network. The emulator under test makes no retries (see hostile-harness.ts).
 */
export const REFUSING_ENDPOINT = "http://127.0.0.1:2/klaviyo/hooks?token=t0k3n";

/** A topic every account lists whatever it has recorded: Subscribed to Email Marketing, which subscribe jobs record. */
const CONSENT_TOPIC = topicOfMetric(CONSENT_METRICS.subscribedEmail, KLAVIYO_INTEGRATION.key);

/**
 * The topics of the fixtures' webhooks: the seeded event's (`event:api.placed_order`, so that every event Create
 * Event and Bulk Create Events accept from the hostile cases is delivered) and the consent topic (so that those of
 * the subscribe jobs are too).
 */
const webhookTopics = (s: Seeds): Json => ({
  data: [s["webhook-topics"] as string, CONSENT_TOPIC].map((id) => ({ type: "webhook-topic", id })),
});

/** What a tag is linked to, by the relationship's name: its resource type and the collection seeding it. */
const TAGGED = { campaigns: "campaign", flows: "flow", lists: "list", segments: "segment" } as const;

/** Tag and Remove Tag from each kind: `{ data: [{ type, id }] }`, 204 (TagCampaignOp, TagFlowOp, …). */
function tagRelationshipBodies(): Record<string, BodyFixture> {
  const out: Record<string, BodyFixture> = {};
  for (const [collection, type] of Object.entries(TAGGED)) {
    const body = (s: Seeds): Json => ({ data: [{ type, id: s[collection] as string }] });
    out[`tag_${collection}`] = { status: 204, body };
    out[`remove_tag_from_${collection}`] = { status: 204, body };
  }
  return out;
}

/**
 * By an emulator's seeded send job (whose ID is its campaign's): puts the campaign back to Draft before a Send
 * Campaign case (reverting its live send, as Cancel Campaign Send does), and queues it again before a Cancel
 * Campaign Send case (as Send Campaign does), so that each case starts from a state where its fixture succeeds.
 */
const sendHooks = new Map<string, { toDraft(): void; toQueued(): void }>();

/**
 * A valid body for every implemented write operation that reads one, by operation id. Operations absent here
 * take no body (the deletes of a resource). A new write route that reads a body makes a test fail until it
 * has its entry, so no route escapes the hostile cases.
 */
export const BODIES: Readonly<Record<string, BodyFixture>> = {
  create_list: {
    status: 201,
    body: () => ({
      data: { type: "list", attributes: { name: unique("List "), opt_in_process: "single_opt_in" } },
    }),
  },
  update_list: {
    status: 200,
    body: (s) => ({
      data: {
        type: "list",
        id: s.lists as string,
        attributes: { name: unique("Renamed "), opt_in_process: "double_opt_in" },
      },
    }),
  },
  add_profiles_to_list: {
    status: 204,
    body: (s) => ({ data: [{ type: "profile", id: s.profiles as string }] }),
  },
  remove_profiles_from_list: {
    status: 204,
    body: (s) => ({ data: [{ type: "profile", id: s.profiles as string }] }),
  },
  create_profile: {
    status: 201,
    body: () => ({
      data: {
        type: "profile",
        attributes: {
          email: `${unique("p")}@example.com`,
          external_id: unique("ext-"),
          first_name: "Grace",
          location: { city: "Lyon", latitude: 45.76, longitude: "4.83" },
          properties: { plan: "pro", seats: 3 },
        },
      },
    }),
    freeForm: ["/data/attributes/properties"],
    anyType: ["/data/attributes/location/latitude", "/data/attributes/location/longitude"],
  },
  update_profile: {
    status: 200,
    body: (s) => ({
      data: {
        type: "profile",
        id: s.profiles as string,
        attributes: { first_name: "Grace", location: { city: "Paris" }, properties: { plan: "team" } },
        meta: { patch_properties: { append: { tags: "vip" }, unset: "old" } },
      },
    }),
    freeForm: ["/data/attributes/properties", "/data/meta/patch_properties/append"],
    anyType: ["/data/meta/patch_properties/unset"],
  },
  create_event: {
    status: 202,
    body: () => ({
      data: {
        type: "event",
        attributes: {
          ...eventAttributes(),
          profile: { data: { type: "profile", attributes: eventProfile() } },
        },
      },
    }),
    freeForm: ["/data/attributes/properties", "/data/attributes/profile/data/attributes/properties"],
    anyType: [
      "/data/attributes/profile/data/attributes/location/latitude",
      "/data/attributes/profile/data/attributes/location/longitude",
    ],
  },
  bulk_create_events: {
    status: 202,
    body: () => ({
      data: {
        type: "event-bulk-create-job",
        attributes: {
          "events-bulk-create": {
            data: [
              {
                type: "event-bulk-create",
                attributes: {
                  profile: { data: { type: "profile", attributes: eventProfile() } },
                  events: { data: [{ type: "event", attributes: eventAttributes() }] },
                },
              },
            ],
          },
        },
      },
    }),
    freeForm: [
      "/data/attributes/events-bulk-create/data/0/attributes/profile/data/attributes/properties",
      "/data/attributes/events-bulk-create/data/0/attributes/events/data/0/attributes/properties",
    ],
    anyType: [
      "/data/attributes/events-bulk-create/data/0/attributes/profile/data/attributes/location/latitude",
      "/data/attributes/events-bulk-create/data/0/attributes/profile/data/attributes/location/longitude",
    ],
  },
  bulk_import_profiles: {
    status: 202,
    body: (s) => ({
      data: {
        type: "profile-bulk-import-job",
        attributes: {
          profiles: {
            data: [
              {
                type: "profile",
                attributes: {
                  email: `${unique("import")}@example.com`,
                  first_name: "Ada",
                  location: { city: "Boston", latitude: 42.36, longitude: -71.06 },
                  properties: { plan: "gold" },
                },
              },
            ],
          },
        },
        relationships: { lists: { data: [{ type: "list", id: s.lists as string }] } },
      },
    }),
    freeForm: ["/data/attributes/profiles/data/0/attributes/properties"],
    anyType: [
      "/data/attributes/profiles/data/0/attributes/location/latitude",
      "/data/attributes/profiles/data/0/attributes/location/longitude",
    ],
  },
  bulk_subscribe_profiles: {
    status: 202,
    body: (s) => ({
      data: {
        type: "profile-subscription-bulk-create-job",
        attributes: {
          custom_source: "Checkout",
          profiles: {
            data: [
              {
                type: "profile",
                attributes: {
                  email: `${unique("sub")}@example.com`,
                  subscriptions: { email: { marketing: { consent: "SUBSCRIBED" } } },
                },
              },
            ],
          },
          historical_import: false,
        },
        relationships: { list: { data: { type: "list", id: s.lists as string } } },
      },
    }),
  },
  bulk_unsubscribe_profiles: {
    status: 202,
    body: (s) => ({
      data: {
        type: "profile-subscription-bulk-delete-job",
        attributes: {
          profiles: {
            data: [
              {
                type: "profile",
                attributes: {
                  email: `${unique("unsub")}@example.com`,
                  subscriptions: { email: { marketing: { consent: "UNSUBSCRIBED" } } },
                },
              },
            ],
          },
        },
        relationships: { list: { data: { type: "list", id: s.lists as string } } },
      },
    }),
  },
  create_segment: {
    status: 201,
    body: (s) => ({
      data: {
        type: "segment",
        attributes: {
          name: unique("Segment "),
          definition: {
            condition_groups: [
              {
                conditions: [
                  { type: "profile-group-membership", is_member: true, group_ids: [s.lists as string] },
                ],
              },
            ],
          },
          is_starred: false,
        },
      },
    }),
  },
  update_segment: {
    status: 200,
    body: (s) => ({
      data: { type: "segment", id: s.segments as string, attributes: { name: unique("Seg ") } },
    }),
  },
  create_template: {
    status: 201,
    body: () => ({
      data: {
        type: "template",
        attributes: { name: unique("Template "), editor_type: "CODE", html: "<p>Hi</p>", text: "Hi" },
      },
    }),
  },
  update_template: {
    status: 200,
    body: (s) => ({
      data: {
        type: "template",
        id: s.templates as string,
        attributes: { name: unique("Tpl "), html: "<p>Yo</p>" },
      },
    }),
  },
  create_campaign: {
    status: 201,
    body: (s) => ({
      data: {
        type: "campaign",
        attributes: {
          name: unique("Campaign "),
          audiences: { included: [s.lists as string] },
          send_options: { use_smart_sending: true },
          "campaign-messages": { data: [emailMessage()] },
        },
      },
    }),
  },
  update_campaign: {
    status: 200,
    body: (s) => ({
      data: {
        type: "campaign",
        id: s.campaigns as string,
        attributes: { name: unique("Camp "), send_options: { use_smart_sending: false } },
      },
    }),
  },
  upload_image_from_url: {
    status: 201,
    body: () => ({
      data: {
        type: "image",
        attributes: {
          import_from_url: "https://cdn.example.com/banner.png",
          name: unique("img-"),
          hidden: false,
        },
      },
    }),
  },
  update_image: {
    status: 200,
    body: (s) => ({
      data: { type: "image", id: s.images as string, attributes: { name: unique("pic-"), hidden: true } },
    }),
  },
  // Everyday profile operations (#19).
  create_or_update_profile: {
    status: 201,
    body: () => ({
      data: {
        type: "profile",
        attributes: {
          email: `${unique("up")}@example.com`,
          external_id: unique("up-ext-"),
          first_name: "Lin",
          location: { city: "Oslo", latitude: 59.91, longitude: "10.75" },
          properties: { plan: "pro" },
        },
        meta: { patch_properties: { append: { tags: "new" } } },
      },
    }),
    freeForm: ["/data/attributes/properties", "/data/meta/patch_properties/append"],
    anyType: ["/data/attributes/location/latitude", "/data/attributes/location/longitude"],
  },
  merge_profiles: {
    status: 201,
    body: (s) => ({
      data: {
        type: "profile-merge",
        id: s.profiles as string,
        relationships: {
          profiles: { data: [{ type: "profile", id: mergeSources.get(s.profiles as string)?.() ?? "none" }] },
        },
      },
    }),
  },
  request_profile_deletion: {
    status: 202,
    body: () => ({
      data: {
        type: "data-privacy-deletion-job",
        attributes: {
          profile: { data: { type: "profile", attributes: { email: `${unique("gone")}@example.com` } } },
        },
      },
    }),
  },
  bulk_suppress_profiles: {
    status: 202,
    body: () => ({
      data: {
        type: "profile-suppression-bulk-create-job",
        attributes: {
          profiles: { data: [{ type: "profile", attributes: { email: `${unique("sup")}@example.com` } }] },
        },
      },
    }),
  },
  bulk_unsuppress_profiles: {
    status: 202,
    body: (s) => ({
      data: {
        type: "profile-suppression-bulk-delete-job",
        attributes: {},
        relationships: { list: { data: { type: "list", id: s.lists as string } } },
      },
    }),
  },
  // Everyday campaign, flow, tag, template and metric operations (#19): the bodies as Klaviyo's document defines
  // them (CampaignCloneQuery, CampaignMessageAssignTemplateQuery, CampaignSendJobCreateQuery,
  // CampaignSendJobPartialUpdateQuery, FlowUpdateQuery, TagCreateQuery, the tag relationship bodies,
  // TemplateCloneQuery, TemplateRenderQuery, MetricAggregateQuery).
  create_campaign_clone: {
    status: 201,
    body: (s) => ({
      data: { type: "campaign", id: s.campaigns as string, attributes: { new_name: unique("Clone ") } },
    }),
  },
  assign_template_to_campaign_message: {
    status: 200,
    body: (s) => ({
      data: {
        type: "campaign-message",
        id: s["campaign-messages"] as string,
        relationships: { template: { data: { type: "template", id: s.templates as string } } },
      },
    }),
  },
  send_campaign: {
    status: 202,
    body: (s) => {
      sendHooks.get(s["campaign-send-jobs"] as string)?.toDraft();
      return { data: { type: "campaign-send-job", id: s["campaign-send-jobs"] as string } };
    },
  },
  cancel_campaign_send: {
    status: 204,
    body: (s) => {
      sendHooks.get(s["campaign-send-jobs"] as string)?.toQueued();
      return {
        data: {
          type: "campaign-send-job",
          id: s["campaign-send-jobs"] as string,
          // `revert` (not `cancel`) leaves the campaign a Draft, so it can be queued again for the next case.
          attributes: { action: "revert" },
        },
      };
    },
  },
  update_flow: {
    status: 200,
    body: (s) => ({ data: { type: "flow", id: s.flows as string, attributes: { status: "manual" } } }),
  },
  create_tag: {
    status: 201,
    body: (s) => ({
      data: {
        type: "tag",
        attributes: { name: unique("Tag ") },
        relationships: { "tag-group": { data: { type: "tag-group", id: s["tag-groups"] as string } } },
      },
    }),
  },
  ...tagRelationshipBodies(),
  clone_template: {
    status: 201,
    body: (s) => ({
      data: { type: "template", id: s.templates as string, attributes: { name: unique("Copy ") } },
    }),
  },
  render_template: {
    status: 201,
    body: (s) => ({
      data: {
        type: "template",
        id: s.templates as string,
        attributes: { context: { first_name: "Ada", items: ["A", "B"], order: { total: 9.5, paid: true } } },
      },
    }),
    // TemplateRenderQueryResourceObjectAttributes.context: `type: object` with no properties: any members.
    freeForm: ["/data/attributes/context"],
  },
  // The Webhooks API (WebhookCreateQuery, WebhookPartialUpdateQuery): every member the document defines.
  create_webhook: {
    status: 201,
    body: (s) => ({
      data: {
        type: "webhook",
        attributes: {
          name: unique("Webhook "),
          description: "Hostile input",
          endpoint_url: REFUSING_ENDPOINT,
          secret_key: unique("whsec-hostile-"),
        },
        relationships: { "webhook-topics": webhookTopics(s) },
      },
    }),
  },
  update_webhook: {
    status: 200,
    body: (s) => ({
      data: {
        type: "webhook",
        id: s.webhooks as string,
        attributes: {
          name: unique("Hook "),
          description: "Renamed",
          endpoint_url: REFUSING_ENDPOINT,
          secret_key: unique("whsec-rotated-"),
          enabled: true,
        },
        relationships: { "webhook-topics": webhookTopics(s) },
      },
    }),
  },
  query_metric_aggregates: {
    status: 200,
    body: (s) => ({
      data: {
        type: "metric-aggregate",
        attributes: {
          metric_id: s.metrics as string,
          measurements: ["count", "sum_value"],
          interval: "day",
          page_size: 500,
          by: ["$value_currency"],
          return_fields: ["count"],
          // An array of strings in the document (not of several types): each a condition on `datetime` or a
          // dimension.
          filter: [
            "greater-or-equal(datetime,2026-01-01T00:00:00)",
            "less-than(datetime,2026-02-01T00:00:00)",
          ],
          timezone: "UTC",
          sort: "-count",
        },
      },
    }),
  },
};

/** The operation that takes a multipart body rather than JSON. */
export const MULTIPART_OPERATION = "upload_image_from_file";

/** A minimal GIF89a (1×1, one colour): the emulator recognises images by their magic number. */
export const TINY_GIF = Uint8Array.from([
  ...Buffer.from("GIF89a", "ascii"),
  1,
  0,
  1,
  0,
  0x80,
  0,
  0,
  0,
  0,
  0,
  0xff,
  0xff,
  0xff,
  0x2c,
  0,
  0,
  0,
  0,
  1,
  0,
  1,
  0,
  0,
  2,
  2,
  0x4c,
  1,
  0,
  0x3b,
]);

/** A valid Upload Image From File form. */
export function imageForm(): FormData {
  const form = new FormData();
  form.append("file", new Blob([TINY_GIF], { type: "image/gif" }), `${unique("logo-")}.gif`);
  form.append("name", unique("Logo "));
  return form;
}

/** `/api/lists/{id}/profiles` → `/api/lists/<a list that exists>/profiles`; throws when no seed names the collection. */
export function concretePath(op: Operation, seeds: Seeds): string {
  const parts = op.path.split("/");
  return parts
    .map((part, i) => {
      if (!part.startsWith("{")) return part;
      const collection = parts[i - 1] ?? "";
      const id = seeds[collection];
      if (id === undefined)
        throw new Error(`No seeded resource for ${collection} (${op.id}): add one to seedResources`);
      return encodeURIComponent(id);
    })
    .join("/");
}

async function created(fetch: FetchLike, base: string, path: string, body: Json): Promise<string> {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: klaviyoHeaders(undefined, { "Content-Type": "application/vnd.api+json" }),
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`seeding ${path}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { data: { id: string } }).data.id;
}

/** Makers of fresh resources by collection, for deletes (each hostile delete consumes one). */
export function makers(fetch: FetchLike, base: string, seeds: () => Seeds) {
  const make = (op: string, path: string) => () =>
    created(fetch, base, path, (BODIES[op] as BodyFixture).body(seeds()));
  return {
    lists: make("create_list", "/api/lists"),
    segments: make("create_segment", "/api/segments"),
    templates: make("create_template", "/api/templates"),
    campaigns: make("create_campaign", "/api/campaigns"),
    tags: make("create_tag", "/api/tags"),
    webhooks: make("create_webhook", "/api/webhooks"),
  };
}

async function post(fetch: FetchLike, base: string, path: string, body: Json): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: "POST",
    headers: klaviyoHeaders(undefined, { "Content-Type": "application/vnd.api+json" }),
    body: JSON.stringify(body),
  });
}

/**
 * A campaign of its own, given a template and sent through the API: its send job (whose ID is the campaign's).
 * Its stages are made to last hours here, so that the job is still live whenever a case cancels it.
 */
async function seedSendJob(em: Emulator, fetch: FetchLike, base: string, seeds: Seeds): Promise<string> {
  setSendTiming(em.state, { queuedMs: 3_600_000, processingMs: 3_600_000 });
  const campaignId = await makers(fetch, base, () => seeds).campaigns();
  const campaign = em.state.campaigns.get(campaignId) as CampaignRow;
  const assigned = await post(fetch, base, "/api/campaign-message-assign-template", {
    data: {
      type: "campaign-message",
      id: campaign.messageIds[0] as string,
      relationships: { template: { data: { type: "template", id: seeds.templates as string } } },
    },
  });
  if (assigned.status !== 200) throw new Error(`assigning a template: ${assigned.status}`);
  const sent = await post(fetch, base, "/api/campaign-send-jobs", {
    data: { type: "campaign-send-job", id: campaignId },
  });
  if (sent.status !== 202) throw new Error(`sending a campaign: ${sent.status} ${await sent.text()}`);
  const jobId = ((await sent.json()) as { data: { id: string } }).data.id;
  const live = () => {
    const status = em.state.campaignSendJobs.get(jobId)?.attributes.status;
    return status === "queued" || status === "processing";
  };
  sendHooks.set(jobId, {
    toDraft() {
      const job = em.state.campaignSendJobs.get(jobId);
      if (job && live()) stopSend(em.state, job, "revert");
    },
    toQueued() {
      if (live()) return;
      const problem = sendProblem(em.state, campaign);
      if (problem) throw new Error(`the seeded send job cannot be queued again: ${problem}`);
      startSend(em.state, campaign);
    },
  });
  return jobId;
}

/** One resource of every kind a route addresses, created through the API (so the ids are the emulator's own). */
export async function seedResources(em: Emulator, fetch: FetchLike, base: string): Promise<Seeds> {
  const seeds: Record<string, string> = { accounts: em.account.id };
  const make = makers(fetch, base, () => seeds);
  seeds.lists = await make.lists();
  seeds.profiles = await created(
    fetch,
    base,
    "/api/profiles",
    (BODIES.create_profile as BodyFixture).body(seeds),
  );
  seeds.segments = await make.segments();
  seeds.templates = await make.templates();
  seeds.campaigns = await make.campaigns();
  seeds.images = await created(
    fetch,
    base,
    "/api/images",
    (BODIES.upload_image_from_url as BodyFixture).body(seeds),
  );
  const event = await fetch(`${base}/api/events`, {
    method: "POST",
    headers: klaviyoHeaders(undefined, { "Content-Type": "application/vnd.api+json" }),
    body: JSON.stringify((BODIES.create_event as BodyFixture).body(seeds)),
  });
  if (event.status !== 202) throw new Error(`seeding an event: ${event.status}`);
  const last = (rows: Iterable<{ id: string }>) => [...rows].at(-1)?.id as string;
  seeds.events = last(em.state.events.values());
  seeds.metrics = last(em.state.metrics.values());
  // The seeded event's topic (its ID holds `:` and `.`, percent-encoded in paths), and a webhook subscribed to it.
  seeds["webhook-topics"] = topicOfEvent(em.state, em.state.events.get(seeds.events) as EventRow) as string;
  seeds.webhooks = await make.webhooks();
  seeds["campaign-messages"] = em.state.campaigns.get(seeds.campaigns)?.messageIds[0] as string;
  // There is no Create Flow in the emulator (501): its flows are the demo seed's (a live welcome series first).
  seeds.flows = seedFlows(em.state, seeds.lists)[0] as string;
  const groups = await fetch(`${base}/api/tag-groups`, { headers: klaviyoHeaders() });
  if (groups.status !== 200) throw new Error(`reading tag groups: ${groups.status}`);
  seeds["tag-groups"] = ((await groups.json()) as { data: Array<{ id: string }> }).data[0]?.id as string;
  seeds.tags = await make.tags();
  seeds["campaign-send-jobs"] = await seedSendJob(em, fetch, base, seeds);
  for (const [collection, type] of [
    ["profile-suppression-bulk-create-jobs", "profile-suppression-bulk-create-job"],
    ["profile-suppression-bulk-delete-jobs", "profile-suppression-bulk-delete-job"],
  ] as const) {
    const job = await fetch(`${base}/api/${collection}`, {
      method: "POST",
      headers: klaviyoHeaders(undefined, { "Content-Type": "application/vnd.api+json" }),
      body: JSON.stringify({
        data: { type, attributes: {}, relationships: { list: { data: { type: "list", id: seeds.lists } } } },
      }),
    });
    if (job.status !== 202) throw new Error(`seeding a ${type}: ${job.status}`);
    seeds[collection] = ((await job.json()) as { data: { id: string } }).data.id;
  }
  // Profiles to merge into this emulator's seeded profile, made afresh for each body (a merge deletes its source),
  // outside the API so that a fixture is still built synchronously.
  mergeSources.set(
    seeds.profiles,
    () => insertProfile(em.state, { email: `${unique("merged")}@example.com` }).id,
  );
  const job = await fetch(`${base}/api/profile-bulk-import-jobs`, {
    method: "POST",
    headers: klaviyoHeaders(undefined, { "Content-Type": "application/vnd.api+json" }),
    body: JSON.stringify((BODIES.bulk_import_profiles as BodyFixture).body(seeds)),
  });
  if (job.status !== 202) throw new Error(`seeding an import job: ${job.status}`);
  seeds["profile-bulk-import-jobs"] = ((await job.json()) as { data: { id: string } }).data.id;
  return seeds;
}
