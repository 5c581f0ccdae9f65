/**
 * The emulator delivering system webhooks to a real endpoint (node:http on loopback): what is delivered, signed
 * as Klaviyo signs (checked by an independent HMAC here), batched, retried, and what is not delivered.
 */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  DEV_API_KEY,
  type RunningEmulator,
  SEED_ACCOUNT_ID,
  type StartOptions,
} from "../../src/emulator/index.js";
import { setSendTiming } from "../../src/emulator/resources/campaign-send.js";
import { addMember } from "../../src/emulator/resources/lists-members.js";
import { insertProfile } from "../../src/emulator/resources/profile-model.js";
import { seedList } from "../../src/emulator/seed.js";
import { CONSENT_METRICS, topicOfMetric } from "../../src/klaviyo/webhooks.js";
import { checkedFetch } from "../helpers/contract.js";
import { klaviyoHeaders, servedEmulators } from "./helpers.js";
import { type ReceivedRequest, receivers } from "./webhook-receiver.js";

const JSON_API = "application/vnd.api+json";
const SECRET = "delivery-secret-0123456789";
const ORDERS = "event:api.placed_order";
const VIEWS = "event:api.viewed_product";
const T0 = Date.parse("2026-07-20T12:00:00Z");
const consent = (name: string) => topicOfMetric(name, "klaviyo");

type Json = Record<string, unknown>;
interface Delivery {
  data: Array<{ topic: string; external_id: string; payload: { data: { id: string; attributes: Json } } }>;
  meta: Json;
}

const start = servedEmulators({
  rateLimits: "off",
  webhookRetryDelaysMs: [20, 40],
  webhookBatchWindowMs: 30,
});
const receiver = receivers();

/** An emulator on a clock the test moves. */
async function emulatorAt(options: StartOptions = {}) {
  const clock = { t: T0, now: () => clock.t };
  const r = await start({ clock, ...options });
  return { r, clock };
}

async function api(r: RunningEmulator, method: string, path: string, body?: unknown) {
  const res = await checkedFetch(fetch)(`${r.url}${path}`, {
    method,
    headers: klaviyoHeaders(DEV_API_KEY, body === undefined ? {} : { "Content-Type": JSON_API }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: (text ? JSON.parse(text) : {}) as Json & { data: Json & { id: string } },
  };
}

/** An event's attributes, without its profile (as a bulk job's events carry them). */
function eventCore(metric: string, uniqueId: string): Json {
  return {
    properties: { OrderId: uniqueId },
    unique_id: uniqueId,
    metric: { data: { type: "metric", attributes: { name: metric } } },
  };
}

const profileOf = (email: string) => ({ data: { type: "profile", attributes: { email } } });

async function createEvent(r: RunningEmulator, metric: string, uniqueId: string, email = "ada@example.com") {
  const answer = await api(r, "POST", "/api/events", {
    data: { type: "event", attributes: { ...eventCore(metric, uniqueId), profile: profileOf(email) } },
  });
  expect(answer.status).toBe(202);
}

async function createWebhook(r: RunningEmulator, url: string, topics: string[], secret = SECRET) {
  const answer = await api(r, "POST", "/api/webhooks", {
    data: {
      type: "webhook",
      attributes: { name: "Test", endpoint_url: url, secret_key: secret },
      relationships: { "webhook-topics": { data: topics.map((id) => ({ type: "webhook-topic", id })) } },
    },
  });
  expect(answer.status).toBe(201);
  return answer.body.data.id;
}

/** The custom metrics as topics: a first event of each makes the metric. */
async function makeMetrics(r: RunningEmulator): Promise<void> {
  await createEvent(r, "Placed Order", "seed-order");
  await createEvent(r, "Viewed Product", "seed-view");
}

/** Checks the request is signed as Klaviyo signs, with an HMAC computed here, and returns its body. */
function verified(request: ReceivedRequest, webhookId: string, secret = SECRET): Delivery {
  expect(request.method).toBe("POST");
  expect(request.headers["content-type"]).toBe("application/json");
  expect(request.headers["klaviyo-webhook-id"]).toBe(webhookId);
  const timestamp = String(request.headers["klaviyo-timestamp"]);
  const expected = createHmac("sha256", secret).update(request.raw).update(timestamp).digest("hex");
  expect(request.headers["klaviyo-signature"]).toBe(expected);
  const body = JSON.parse(request.raw.toString("utf8")) as Delivery;
  expect(body.meta.klaviyo_webhook_id).toBe(webhookId);
  return body;
}

const eventIds = (r: RunningEmulator) => [...r.emulator.state.events.values()].map((e) => e.id);

describe("delivering events to a webhook", () => {
  it("Create Event of a subscribed custom topic: one delivery, signed, the event as Get Event returns it", async () => {
    const { r } = await emulatorAt();
    const hook = await receiver();
    await makeMetrics(r);
    const webhookId = await createWebhook(r, hook.url, [ORDERS]);
    await createEvent(r, "Placed Order", "order-1");
    await r.emulator.settleWebhooks();

    expect(hook.requests).toHaveLength(1);
    const request = hook.requests[0] as ReceivedRequest;
    expect(request.url).toBe("/hooks/endpoint");
    expect(request.headers["klaviyo-timestamp"]).toBe("Mon, 20 Jul 2026 12:00:00 GMT");
    const body = verified(request, webhookId);
    const id = eventIds(r).at(-1) as string;
    const getEvent = await api(r, "GET", `/api/events/${id}/`);
    expect(getEvent.status).toBe(200);
    expect(body).toEqual({
      data: [{ topic: ORDERS, external_id: id, payload: getEvent.body }],
      meta: {
        klaviyo_account_id: SEED_ACCOUNT_ID,
        klaviyo_webhook_id: webhookId,
        timestamp: "2026-07-20T12:00:00.000Z",
        version: "2026-07-15",
      },
    });
    expect(body.data[0]?.payload.data.attributes.event_properties).toMatchObject({ OrderId: "order-1" });

    expect(r.emulator.webhookDeliveries).toEqual([
      {
        id: expect.any(String),
        webhookId,
        url: hook.url.replace(/\/hooks\/endpoint$/, "/*****"),
        attempt: 1,
        at: T0,
        status: 200,
        eventIds: [id],
        topics: [ORDERS],
        outcome: "delivered",
      },
    ]);
    // The admin route shows the same log, and neither shows the secret.
    const admin = (await (await fetch(`${r.url}/__emulator/webhooks/deliveries`)).json()) as {
      data: unknown[];
    };
    expect(admin.data).toEqual(JSON.parse(JSON.stringify(r.emulator.webhookDeliveries)));
    expect(JSON.stringify(admin)).not.toContain(SECRET);
  });

  it("Subscribe Profiles: the consent events, under Klaviyo's integration, in one delivery", async () => {
    const { r } = await emulatorAt();
    const hook = await receiver();
    const list = await api(r, "POST", "/api/lists", {
      data: { type: "list", attributes: { name: "Newsletter" } },
    });
    const listId = list.body.data.id;
    const webhookId = await createWebhook(r, hook.url, [
      consent(CONSENT_METRICS.subscribedEmail),
      consent(CONSENT_METRICS.subscribedSms),
      consent(CONSENT_METRICS.subscribedList),
    ]);
    const subscribe = await api(r, "POST", "/api/profile-subscription-bulk-create-jobs", {
      data: {
        type: "profile-subscription-bulk-create-job",
        attributes: {
          custom_source: "Checkout",
          profiles: {
            data: [
              {
                type: "profile",
                attributes: {
                  email: "grace@example.com",
                  phone_number: "+15005550006",
                  subscriptions: {
                    email: { marketing: { consent: "SUBSCRIBED" } },
                    sms: { marketing: { consent: "SUBSCRIBED" } },
                  },
                },
              },
            ],
          },
        },
        relationships: { list: { data: { type: "list", id: listId } } },
      },
    });
    expect(subscribe.status).toBe(202);
    await r.emulator.settleWebhooks();

    expect(hook.requests).toHaveLength(1);
    const body = verified(hook.requests[0] as ReceivedRequest, webhookId);
    expect(body.data.map((item) => item.topic)).toEqual([
      consent(CONSENT_METRICS.subscribedEmail),
      consent(CONSENT_METRICS.subscribedSms),
      consent(CONSENT_METRICS.subscribedList),
    ]);
    const profile = [...r.emulator.state.profiles.values()][0];
    for (const item of body.data) {
      const event = await api(r, "GET", `/api/events/${item.external_id}/`);
      expect(item.payload).toEqual(event.body);
      const relationships = event.body.data.relationships as Record<string, { data: { id: string } }>;
      expect(relationships.profile?.data.id).toBe(profile?.id);
      const metric = await api(r, "GET", `/api/metrics/${relationships.metric?.data.id}`);
      expect(metric.body.data.attributes).toMatchObject({ integration: { key: "klaviyo", name: "Klaviyo" } });
    }
    expect(body.data[2]?.payload.data.attributes.event_properties).toMatchObject({
      list_id: listId,
      list_name: "Newsletter",
      custom_source: "Checkout",
    });
  });

  it("Unsubscribe Profiles and Bulk Suppress Profiles: their consent events", async () => {
    const { r, clock } = await emulatorAt();
    const hook = await receiver();
    const webhookId = await createWebhook(r, hook.url, [
      consent(CONSENT_METRICS.unsubscribedEmail),
      consent(CONSENT_METRICS.unsubscribedSms),
      consent(CONSENT_METRICS.suppressedEmail),
    ]);
    const unsubscribe = await api(r, "POST", "/api/profile-subscription-bulk-delete-jobs", {
      data: {
        type: "profile-subscription-bulk-delete-job",
        attributes: {
          profiles: {
            data: [
              {
                type: "profile",
                attributes: {
                  email: "linus@example.com",
                  phone_number: "+15005550006",
                  subscriptions: {
                    email: { marketing: { consent: "UNSUBSCRIBED" } },
                    sms: { marketing: { consent: "UNSUBSCRIBED" } },
                  },
                },
              },
            ],
          },
        },
      },
    });
    expect(unsubscribe.status).toBe(202);
    await r.emulator.settleWebhooks();
    clock.t += 1000;
    const suppress = await api(r, "POST", "/api/profile-suppression-bulk-create-jobs", {
      data: {
        type: "profile-suppression-bulk-create-job",
        attributes: { profiles: { data: [{ type: "profile", attributes: { email: "linus@example.com" } }] } },
      },
    });
    expect(suppress.status).toBe(202);
    await r.emulator.settleWebhooks();
    expect(hook.requests.map((q) => verified(q, webhookId).data.map((item) => item.topic))).toEqual([
      [consent(CONSENT_METRICS.unsubscribedEmail), consent(CONSENT_METRICS.unsubscribedSms)],
      [consent(CONSENT_METRICS.suppressedEmail)],
    ]);
  });

  it("a campaign send's Received Email, recorded as the send completes", async () => {
    const { r } = await emulatorAt();
    const hook = await receiver();
    const state = r.emulator.state;
    setSendTiming(state, { queuedMs: 0, processingMs: 0 });
    const list = seedList(state, "Customers");
    const profile = insertProfile(state, { email: "joan@example.com" });
    addMember(state, list, profile.id);
    const webhookId = await createWebhook(r, hook.url, ["event:klaviyo.received_email"]);
    const campaign = await api(r, "POST", "/api/campaigns", {
      data: {
        type: "campaign",
        attributes: {
          name: "Weekend",
          audiences: { included: [list] },
          "campaign-messages": {
            data: [
              {
                type: "campaign-message",
                attributes: {
                  definition: { channel: "email", label: "Weekend", content: { subject: "Hi" } },
                },
              },
            ],
          },
        },
      },
    });
    const messageId = (campaign.body.data.relationships as Json & { "campaign-messages": { data: Json[] } })[
      "campaign-messages"
    ].data[0]?.id;
    const template = await api(r, "POST", "/api/templates", {
      data: { type: "template", attributes: { name: "T", editor_type: "CODE", html: "<p>Hi</p>" } },
    });
    const assigned = await api(r, "POST", "/api/campaign-message-assign-template", {
      data: {
        type: "campaign-message",
        id: messageId,
        relationships: { template: { data: { type: "template", id: template.body.data.id } } },
      },
    });
    expect(assigned.status).toBe(200);
    const sent = await api(r, "POST", "/api/campaign-send-jobs", {
      data: { type: "campaign-send-job", id: campaign.body.data.id },
    });
    expect(sent.status).toBe(202);
    // The job completes as the next request is handled.
    expect((await api(r, "GET", `/api/campaign-send-jobs/${campaign.body.data.id}`)).status).toBe(200);
    await r.emulator.settleWebhooks();
    expect(hook.requests).toHaveLength(1);
    const body = verified(hook.requests[0] as ReceivedRequest, webhookId);
    expect(body.data.map((item) => item.topic)).toEqual(["event:klaviyo.received_email"]);
    expect(body.data[0]?.payload.data.attributes.event_properties).toMatchObject({
      "Campaign Name": "Weekend",
      Subject: "Hi",
    });
  });

  it("several events in one request (Bulk Create Events) go out as one delivery, in order", async () => {
    const { r } = await emulatorAt();
    const hook = await receiver();
    await makeMetrics(r);
    const webhookId = await createWebhook(r, hook.url, [ORDERS, VIEWS]);
    const bulk = await api(r, "POST", "/api/event-bulk-create-jobs", {
      data: {
        type: "event-bulk-create-job",
        attributes: {
          "events-bulk-create": {
            data: [
              {
                type: "event-bulk-create",
                attributes: {
                  profile: profileOf("ada@example.com"),
                  events: {
                    data: ["a", "b", "c"].map((id, i) => ({
                      type: "event",
                      attributes: eventCore(i === 1 ? "Viewed Product" : "Placed Order", id),
                    })),
                  },
                },
              },
            ],
          },
        },
      },
    });
    expect(bulk.status).toBe(202);
    await r.emulator.settleWebhooks();
    expect(hook.requests).toHaveLength(1);
    const body = verified(hook.requests[0] as ReceivedRequest, webhookId);
    expect(body.data.map((item) => item.topic)).toEqual([ORDERS, VIEWS, ORDERS]);
    expect(body.data.map((item) => item.external_id)).toEqual(eventIds(r).slice(-3));
  });

  it("batches of at most 1,000 events: 1,001 events recorded together make two deliveries", async () => {
    const { r } = await emulatorAt();
    const hook = await receiver();
    await makeMetrics(r);
    const webhookId = await createWebhook(r, hook.url, [ORDERS]);
    const events = Array.from({ length: 1000 }, (_, i) => ({
      type: "event",
      attributes: eventCore("Placed Order", `bulk-${i}`),
    }));
    const bulk = await api(r, "POST", "/api/event-bulk-create-jobs", {
      data: {
        type: "event-bulk-create-job",
        attributes: {
          "events-bulk-create": {
            data: [
              {
                type: "event-bulk-create",
                attributes: {
                  profile: profileOf("ada@example.com"),
                  events: { data: events },
                },
              },
            ],
          },
        },
      },
    });
    expect(bulk.status).toBe(202);
    await createEvent(r, "Placed Order", "one-more");
    await r.emulator.settleWebhooks();
    // A full batch goes at once, the last event once the window closes: the order of arrival is not promised.
    const batches = hook.requests
      .map((q) => verified(q, webhookId).data.map((item) => item.external_id))
      .sort((a, b) => b.length - a.length);
    expect(batches.map((ids) => ids.length)).toEqual([1000, 1]);
    expect(batches.flat()).toEqual(eventIds(r).slice(-1001));
  });

  it("an endpoint failing twice then answering 200: three attempts, each freshly signed, delivered once", async () => {
    const { r, clock } = await emulatorAt();
    const hook = await receiver();
    hook.answers = [500, 503];
    // Each attempt is made a second after the last, by the emulator's clock.
    hook.onRequest = () => {
      clock.t += 1000;
    };
    await makeMetrics(r);
    const webhookId = await createWebhook(r, hook.url, [ORDERS]);
    await createEvent(r, "Placed Order", "order-1");
    await r.emulator.settleWebhooks();

    expect(hook.requests).toHaveLength(3);
    const bodies = hook.requests.map((q) => verified(q, webhookId));
    expect(hook.requests.map((q) => q.headers["klaviyo-timestamp"])).toEqual([
      "Mon, 20 Jul 2026 12:00:00 GMT",
      "Mon, 20 Jul 2026 12:00:01 GMT",
      "Mon, 20 Jul 2026 12:00:02 GMT",
    ]);
    expect(new Set(hook.requests.map((q) => q.headers["klaviyo-signature"])).size).toBe(3);
    // The same events each time; only the meta's timestamp moves.
    for (const body of bodies) expect(body.data).toEqual(bodies[0]?.data);
    expect(bodies.map((b) => b.meta.timestamp)).toEqual([
      "2026-07-20T12:00:00.000Z",
      "2026-07-20T12:00:01.000Z",
      "2026-07-20T12:00:02.000Z",
    ]);
    expect(r.emulator.webhookDeliveries.map((a) => [a.attempt, a.status, a.outcome])).toEqual([
      [1, 500, "retrying"],
      [2, 503, "retrying"],
      [3, 200, "delivered"],
    ]);
  });

  it("gives up after the last retry; a refused connection and a timeout count as failures", async () => {
    const { r } = await emulatorAt({ webhookTimeoutMs: 100 });
    const failing = await receiver("failing");
    failing.fallback = 500;
    const hanging = await receiver("hanging");
    hanging.hang = true;
    await makeMetrics(r);
    const failingId = await createWebhook(r, failing.url, [ORDERS]);
    const hangingId = await createWebhook(r, hanging.url, [ORDERS]);
    // Port 9 (discard) on loopback: nothing listens there in the test environment.
    const refusedId = await createWebhook(r, "http://127.0.0.1:9/hook", [ORDERS]);
    await createEvent(r, "Placed Order", "order-1");
    await r.emulator.settleWebhooks();

    const log = r.emulator.webhookDeliveries;
    const of = (id: string) => log.filter((a) => a.webhookId === id);
    expect(of(failingId).map((a) => [a.attempt, a.status, a.outcome])).toEqual([
      [1, 500, "retrying"],
      [2, 500, "retrying"],
      [3, 500, "failed"],
    ]);
    expect(failing.requests).toHaveLength(3);
    expect(of(hangingId).map((a) => [a.status, a.outcome, a.error])).toEqual([
      [null, "retrying", "no answer within 100 ms"],
      [null, "retrying", "no answer within 100 ms"],
      [null, "failed", "no answer within 100 ms"],
    ]);
    expect(of(refusedId).map((a) => a.outcome)).toEqual(["retrying", "retrying", "failed"]);
    expect(of(refusedId)[0]?.error).toMatch(/fetch failed/);
    expect(JSON.stringify(log)).not.toContain(SECRET);
  });
});

describe("what is not delivered", () => {
  it("a disabled webhook receives nothing, and receives again once enabled", async () => {
    const { r } = await emulatorAt();
    const hook = await receiver();
    await makeMetrics(r);
    const webhookId = await createWebhook(r, hook.url, [ORDERS]);
    const patch = (enabled: boolean) =>
      api(r, "PATCH", `/api/webhooks/${webhookId}`, {
        data: { type: "webhook", id: webhookId, attributes: { enabled } },
      });
    expect((await patch(false)).status).toBe(200);
    await createEvent(r, "Placed Order", "while-disabled");
    await r.emulator.settleWebhooks();
    expect(hook.requests).toHaveLength(0);
    expect(r.emulator.webhookDeliveries).toHaveLength(0);
    expect((await patch(true)).status).toBe(200);
    await createEvent(r, "Placed Order", "once-enabled");
    await r.emulator.settleWebhooks();
    expect(hook.requests).toHaveLength(1);
    expect(
      verified(hook.requests[0] as ReceivedRequest, webhookId).data[0]?.payload.data.attributes,
    ).toMatchObject({
      event_properties: { OrderId: "once-enabled" },
    });
  });

  it("a webhook disabled while its delivery waits for a retry gets nothing more", async () => {
    // The PATCH starts from the receiver, as the first attempt arrives (before it is answered 500), so it only
    // has to land within the 1 s retry delay, not race a poll's interval.
    const { r } = await emulatorAt({ webhookRetryDelaysMs: [1000] });
    const hook = await receiver();
    hook.fallback = 500;
    await makeMetrics(r);
    const webhookId = await createWebhook(r, hook.url, [ORDERS]);
    let disabling: ReturnType<typeof api> | undefined;
    hook.onRequest = () => {
      disabling ??= api(r, "PATCH", `/api/webhooks/${webhookId}`, {
        data: { type: "webhook", id: webhookId, attributes: { enabled: false } },
      });
    };
    await createEvent(r, "Placed Order", "order-1");
    await expect.poll(() => disabling !== undefined).toBe(true);
    const patch = await (disabling as ReturnType<typeof api>);
    expect(patch.status).toBe(200);
    expect(patch.body.data.attributes).toMatchObject({ enabled: false });
    await r.emulator.settleWebhooks();
    expect(hook.requests).toHaveLength(1);
    expect(r.emulator.webhookDeliveries.map((a) => a.outcome)).toEqual(["retrying"]);
  });

  it("a deleted webhook receives nothing (even what was batched before) and is 404", async () => {
    // A 2 s window, so that the DELETE surely lands while the first event is still batched, however loaded the
    // machine (settle waits the window out).
    const { r } = await emulatorAt({ webhookBatchWindowMs: 2000 });
    const hook = await receiver();
    await makeMetrics(r);
    const webhookId = await createWebhook(r, hook.url, [ORDERS]);
    await createEvent(r, "Placed Order", "batched-then-deleted");
    expect(r.emulator.webhookDeliveries).toHaveLength(0);
    expect((await api(r, "DELETE", `/api/webhooks/${webhookId}`)).status).toBe(204);
    await createEvent(r, "Placed Order", "after-delete");
    await r.emulator.settleWebhooks();
    expect(hook.requests).toHaveLength(0);
    expect(r.emulator.webhookDeliveries).toHaveLength(0);
    expect((await api(r, "GET", `/api/webhooks/${webhookId}`)).status).toBe(404);
  });

  it("events of topics the webhook does not subscribe to", async () => {
    const { r } = await emulatorAt();
    const orders = await receiver("orders");
    const views = await receiver("views");
    await makeMetrics(r);
    const ordersId = await createWebhook(r, orders.url, [ORDERS]);
    const viewsId = await createWebhook(r, views.url, [VIEWS], "another-secret-456");
    await createEvent(r, "Viewed Product", "view-1");
    await createEvent(r, "Some Other Metric", "other-1");
    await r.emulator.settleWebhooks();
    expect(orders.requests).toHaveLength(0);
    expect(views.requests).toHaveLength(1);
    const body = verified(views.requests[0] as ReceivedRequest, viewsId, "another-secret-456");
    expect(body.data.map((item) => item.topic)).toEqual([VIEWS]);
    expect(r.emulator.webhookDeliveries.every((a) => a.webhookId !== ordersId)).toBe(true);
  });

  it("reset drops what is batched and empties the delivery log; settle via the admin route", async () => {
    // A 2 s window, so that the reset surely lands while order-2 is still batched (settle waits order-1's out).
    const { r } = await emulatorAt({ webhookBatchWindowMs: 2000 });
    const hook = await receiver();
    await makeMetrics(r);
    await createWebhook(r, hook.url, [ORDERS]);
    await createEvent(r, "Placed Order", "order-1");
    await r.emulator.settleWebhooks();
    expect(r.emulator.webhookDeliveries).toHaveLength(1);
    await createEvent(r, "Placed Order", "order-2");
    expect((await fetch(`${r.url}/__emulator/reset`, { method: "POST" })).status).toBe(204);
    const settle = await fetch(`${r.url}/__emulator/webhooks/settle`, { method: "POST" });
    expect(settle.status).toBe(204);
    expect(hook.requests).toHaveLength(1);
    expect(r.emulator.webhookDeliveries).toEqual([]);
  });
});
