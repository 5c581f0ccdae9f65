/**
 * The Prismatic component's webhook triggers, run as Prismatic runs them, against the emulator, with both
 * connections: the converted trigger's `webhookCreate` / `webhookDelete` (spectral's `webhookLifecycleHandlers`,
 * which Prismatic calls on deploy and removal; spectral's harness has no method for them, so they are called as
 * the converted component exposes them, with a context shaped like the harness's) and its `perform` through
 * `createHarness`. The state Prismatic keeps between them (`crossFlowState`, `instanceState`) is kept here the
 * way the trigger returns it.
 *
 * Deliveries are real: a node:http receiver on 127.0.0.1 is the flow's webhook URL, the emulator POSTs to it
 * when events are recorded (Create Event, Subscribe Profiles), and the raw bytes and headers it captured are
 * what `perform` is handed, as Prismatic hands them (`payload.rawBody.data`, a Buffer; `payload.headers`).
 */
import { createHmac } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { createConnection, createHarness } from "@prismatic-io/spectral/dist/testing.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runActionByKey } from "../../src/actions/index.js";
import { KlaviyoClient } from "../../src/core/client.js";
import { InputValidationError, NotFoundError } from "../../src/core/errors.js";
import { createEmulator } from "../../src/emulator/index.js";
import { CONSENT_METRICS, signDelivery, topicOfMetric, WEBHOOK_HEADERS } from "../../src/klaviyo/webhooks.js";
import { DEFAULT_SCOPES } from "../../src/platforms/common.js";
import {
  apiKeyConnection,
  type Component,
  createComponent,
  EVENTS_BRANCH,
  oauthConnection,
  REFUSED_BRANCH,
  topicDataSourceKeyOf,
  webhookStateKey,
  webhookTriggerKeyOf,
} from "../../src/platforms/prismatic.js";
import {
  fallbackTriggers,
  getWebhookFamily,
  WEBHOOK_FAMILIES,
  type WebhookTriggerFamily,
  type WebhookTriggerItem,
  webhookTriggerDescription,
  webhookTriggerLabel,
} from "../../src/platforms/webhook-triggers.js";
import { startServer, type TestServer } from "../helpers/servers.js";
import { CLIENT_ID, CLIENT_SECRET, PLATFORM_KEY } from "./forms.js";

/**
 * The polling triggers each family's description and access error name, written out by hand: an oracle apart from
 * `fallbackTriggers`, so an empty or wrong list fails rather than passing a loop over nothing.
 */
const FALLBACK_LABELS: Readonly<Record<string, readonly string[]>> = {
  "email-engagement": ["New Event"],
  "sms-engagement": ["New Event"],
  "consent-changes": ["New Event", "Profile Added to List", "Profile Unsubscribed or Suppressed"],
  push: ["New Event"],
  "custom-metric-events": ["New Event"],
  "any-topics": ["New Event"],
};

/** `family`'s fallback polling labels, checked against the oracle above (so never empty). */
function fallbackLabels(family: WebhookTriggerFamily): string[] {
  const labels = fallbackTriggers(family).map((t) => t.label);
  expect(labels.length, family.key).toBeGreaterThan(0);
  expect(labels, family.key).toEqual(FALLBACK_LABELS[family.key]);
  return labels;
}

/** What the receiver captured of one delivery: the body's bytes exactly, and the headers. */
interface Captured {
  readonly raw: Buffer;
  readonly headers: IncomingHttpHeaders;
}

let receiver: TestServer;
const captured: Captured[] = [];

beforeAll(async () => {
  receiver = await startServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      captured.push({ raw: Buffer.concat(chunks), headers: req.headers });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
});
afterAll(() => receiver.close());

type ConvertedInput = { key: string; label: string; type: string; collection?: string; dataSource?: string };
type LifecycleFn = (
  context: unknown,
  params: Record<string, unknown>,
) => Promise<Record<string, unknown> | undefined>;
type ConvertedTrigger = {
  key: string;
  display: { label: string; description: string };
  inputs: ConvertedInput[];
  allowsBranching?: boolean;
  staticBranchNames?: string[];
  scheduleSupport: string;
  triggerResolverSupport: string;
  triggerResolverDefaultBatchSize?: number;
  hasWebhookCreateFunction?: boolean;
  hasWebhookDeleteFunction?: boolean;
  webhookCreate: LifecycleFn;
  webhookDelete: LifecycleFn;
  resolveTriggerItems: (context: unknown, result: unknown) => unknown[];
};
type TriggerRun = {
  branch?: string;
  payload: { body: { data: unknown } };
  response?: { statusCode: number; contentType: string; body?: string };
  instanceState?: Record<string, unknown>;
};
type Webhook = {
  data: {
    id: string;
    attributes: { name: string; endpoint_url: string; enabled: boolean; secret_key?: unknown };
    relationships: { "webhook-topics": { data: { id: string }[] } };
  };
};

const triggersOf = (c: Component) => c.triggers as unknown as Record<string, ConvertedTrigger>;
const family = (key: string) => getWebhookFamily(key) as WebhookTriggerFamily;

type ConnectionKind = "apiKey" | "oauth2";
let flowSerial = 0;

/** An emulator delivering within milliseconds, the component on it, a library client, and one deployed flow's state. */
function setup(kind: ConnectionKind, emulatorOptions: { webhookAccess?: boolean } = {}) {
  const emulator = createEmulator({
    rateLimits: "off",
    apiKeys: [{ key: PLATFORM_KEY }],
    oauthClients: [
      { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: ["https://app.example/cb"] },
    ],
    webhookBatchWindowMs: 10,
    webhookRetryDelaysMs: [20, 40],
    ...emulatorOptions,
  });
  const sent: string[] = [];
  const transport = {
    baseUrl: emulator.baseUrl,
    rateLimiter: false as const,
    fetch: (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : input);
      sent.push(`${init?.method ?? "GET"} ${url.pathname}`);
      return emulator.fetch(input, init);
    },
  };
  const component = createComponent({ client: transport });
  const harness = createHarness(component);
  const connection =
    kind === "apiKey"
      ? createConnection(apiKeyConnection, { apiKey: PLATFORM_KEY })
      : createConnection(
          oauthConnection,
          { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, scopes: DEFAULT_SCOPES },
          {
            access_token: emulator.oauth.issueTokens(CLIENT_ID, DEFAULT_SCOPES.split(" ")).access_token,
            refresh_token: "unused",
            expires_in: 3600,
            token_type: "Bearer",
          },
        );
  const lib = new KlaviyoClient({
    apiKey: PLATFORM_KEY,
    baseUrl: emulator.baseUrl,
    rateLimiter: false,
    fetch: emulator.fetch,
  });
  const act = async <T = { data: { id: string } }>(key: string, inputs: Record<string, unknown>) =>
    (await runActionByKey(key, inputs, { client: lib })) as T;

  /** One flow of one instance: what Prismatic keeps for it, and its trigger run as Prismatic runs it. */
  function flow(triggerKey: string, params: Record<string, unknown> = {}, path = "/hooks/a") {
    const trigger = triggersOf(component)[triggerKey] as ConvertedTrigger;
    const n = ++flowSerial;
    const flowAttributes = { id: `flow-${n}`, name: `Flow ${n}`, stableId: `stable-${n}` };
    const kept = {
      crossFlowState: {} as Record<string, unknown>,
      instanceState: {} as Record<string, unknown>,
      url: `${receiver.url}${path}`,
    };
    const warnings: string[] = [];
    const logger = {
      warn: (m: string) => warnings.push(m),
      info() {},
      debug() {},
      error() {},
      log() {},
      metric() {},
    };
    const context = () => ({
      logger,
      crossFlowState: kept.crossFlowState,
      instanceState: kept.instanceState,
      executionState: {},
      integrationState: {},
      configVars: {},
      webhookUrls: { [flowAttributes.name]: kept.url },
      webhookApiKeys: {},
      flow: flowAttributes,
      instance: { id: "instance-1", name: "Acme" },
      customer: { id: "customer-1", name: "Acme", externalId: "acme" },
      executionId: `execution-${n}`,
      globalDebug: false,
    });
    const values = { connection, topics: "", ...params };
    return {
      trigger,
      kept,
      warnings,
      /** What Prismatic runs on deploy; the state it returns is kept. */
      async deploy() {
        const result = await trigger.webhookCreate(context(), values);
        if (result?.crossFlowState) kept.crossFlowState = result.crossFlowState as Record<string, unknown>;
        return result;
      },
      /** What Prismatic runs when the instance is removed. */
      async remove() {
        const result = await trigger.webhookDelete(context(), values);
        if (result?.crossFlowState) kept.crossFlowState = result.crossFlowState as Record<string, unknown>;
        return result;
      },
      /** The webhook kept for this flow. */
      state: () =>
        kept.crossFlowState[webhookStateKey(flowAttributes)] as { webhookId: string; secret: string } | null,
      /** One request to the flow's URL: the trigger's result and the items a batching flow would run on. */
      async deliver(raw: Buffer, headers: IncomingHttpHeaders) {
        const flat: Record<string, string> = {};
        for (const [k, v] of Object.entries(headers))
          if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(", ") : v;
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw.toString("utf8"));
        } catch {
          parsed = undefined;
        }
        const result = (await harness.trigger(
          triggerKey,
          {
            headers: flat,
            rawBody: { data: raw, contentType: "application/json" },
            body: { data: parsed, contentType: "application/json" },
          },
          values,
          {
            logger,
            crossFlowState: kept.crossFlowState,
            instanceState: kept.instanceState,
            flow: flowAttributes,
          } as never,
        )) as unknown as TriggerRun;
        if (result.instanceState) kept.instanceState = result.instanceState;
        const items = trigger.resolveTriggerItems({}, result) as WebhookTriggerItem[];
        return { result, items };
      },
    };
  }

  return { emulator, component, harness, connection, lib, act, sent, flow };
}
type Setup = ReturnType<typeof setup>;

let eventSerial = 0;

/**
 * Records an event through Create Event, with a unique ID of its own: Klaviyo keeps one event per profile, metric
 * and unique ID (by default the event's second), so events of one second would otherwise be one.
 */
async function record(s: Setup, name: string, email: string, properties: Record<string, unknown> = {}) {
  await s.act("create-event", { name, profile: { email }, properties, uniqueId: `${name}-${++eventSerial}` });
}

/** The deliveries the receiver got since `from`, once the emulator has nothing left to send. */
async function deliveriesSince(s: Setup, from: number): Promise<Captured[]> {
  await s.emulator.settleWebhooks();
  return captured.slice(from);
}

/** The deliveries meant for `webhookId` (the receiver is shared by every test). */
const forWebhook = (deliveries: Captured[], webhookId: string) =>
  deliveries.filter((d) => d.headers[WEBHOOK_HEADERS.id.toLowerCase()] === webhookId);

/** The IDs of the events of the metric named `metricName`, in any order. */
async function eventIds(s: Setup, metricName: string): Promise<string[]> {
  const metrics = await s.lib.request<{ data: { id: string; attributes: { name: string } }[] }>({
    method: "GET",
    path: "/api/metrics",
  });
  const metricId = metrics.body.data.find((m) => m.attributes.name === metricName)?.id;
  if (!metricId) return [];
  const res = await s.lib.request<{ data: { id: string }[] }>({
    method: "GET",
    path: "/api/events",
    query: { filter: `equals(metric_id,"${metricId}")`, "page[size]": "200" },
  });
  return res.body.data.map((e) => e.id);
}

const topicIdsOf = (webhook: Webhook) =>
  webhook.data.relationships["webhook-topics"].data.map((t) => t.id).sort();

describe("the Prismatic component: its webhook triggers, as defined", () => {
  const component = createComponent();

  it("has one webhook trigger per topic family, branching, batching, with spectral's webhook lifecycle", () => {
    const triggers = triggersOf(component);
    expect(WEBHOOK_FAMILIES.map((f) => f.key)).toEqual(Object.keys(FALLBACK_LABELS)); // every family, none missed
    for (const f of WEBHOOK_FAMILIES) {
      const trigger = triggers[webhookTriggerKeyOf(f)] as ConvertedTrigger;
      expect(trigger, f.key).toBeDefined();
      expect(trigger.display).toEqual({
        label: webhookTriggerLabel(f),
        description: webhookTriggerDescription(f),
      });
      expect(trigger).toMatchObject({
        allowsBranching: true,
        staticBranchNames: [EVENTS_BRANCH, REFUSED_BRANCH],
        scheduleSupport: "invalid",
        triggerResolverSupport: "valid",
        triggerResolverDefaultBatchSize: 1,
        hasWebhookCreateFunction: true,
        hasWebhookDeleteFunction: true,
      });
      expect(trigger.inputs[0]).toMatchObject({ key: "connection", type: "connection" });
      const topics = trigger.inputs.find((i) => i.key === "topics");
      if (f.topicsInput) {
        expect(topics).toMatchObject({
          label: "Topics",
          collection: "valuelist",
          dataSource: topicDataSourceKeyOf(f),
        });
        expect(component.dataSources?.[topicDataSourceKeyOf(f) as string]).toBeDefined();
      } else expect(topics).toBeUndefined();
      // Without webhook access, the description says which polling triggers serve instead.
      for (const label of fallbackLabels(f)) expect(trigger.display.description).toContain(label);
    }
    expect(Object.keys(triggers)).toEqual(
      expect.arrayContaining([
        "webhookEmailEngagement",
        "webhookSmsEngagement",
        "webhookConsentChanges",
        "webhookPush",
        "webhookCustomMetricEvents",
        "webhookAnyTopics",
      ]),
    );
  });

  it("picks each family's topics from the account's by its rule, never one family's topic in another", async () => {
    const s = setup("apiKey");
    await record(s, "Placed Order", "rule@example.com", {});
    const topics = (await s.act<{ data: { id: string }[] }>("list-webhook-topics", {})).data.map((t) => t.id);
    const consent = Object.values(CONSENT_METRICS).map((m) => topicOfMetric(m, "klaviyo"));
    const picked = (key: string) => topics.filter((t) => family(key).takes(t));
    expect(picked("consent-changes").sort()).toEqual(consent.filter((t) => topics.includes(t)).sort());
    expect(picked("consent-changes")).toContain("event:klaviyo.subscribed_to_email_marketing");
    expect(picked("email-engagement")).toEqual(
      expect.arrayContaining([
        "event:klaviyo.received_email",
        "event:klaviyo.opened_email",
        "event:klaviyo.clicked_email",
      ]),
    );
    expect(picked("sms-engagement")).toContain("event:klaviyo.received_sms");
    expect(picked("push")).toContain("event:klaviyo.opened_push");
    expect(picked("custom-metric-events")).toEqual(["event:api.placed_order"]);
    expect(picked("any-topics").sort()).toEqual([...topics].sort());
    // The engagement families and consent do not overlap.
    const groups = [
      "email-engagement",
      "sms-engagement",
      "push",
      "consent-changes",
      "custom-metric-events",
    ].map(picked);
    const all = groups.flat();
    expect(new Set(all).size).toBe(all.length);
  });
});

const CONNECTIONS: ConnectionKind[] = ["apiKey", "oauth2"];

describe.each(CONNECTIONS)(
  "the webhook triggers through spectral, against the emulator, with the %s connection",
  (kind) => {
    it("Custom Metric Events: deploy creates the webhook, each delivery becomes one item per event, removal deletes it", async () => {
      const s = setup(kind);
      await record(s, "Placed Order", "ada@example.com", { n: 0 });
      await record(s, "Refund Issued", "ada@example.com", { n: 0 });
      const f = s.flow("webhookCustomMetricEvents");
      await f.deploy();
      const kept = f.state();
      expect(kept?.webhookId).toEqual(expect.any(String));
      expect(kept?.secret).toMatch(/^[0-9a-f]{64}$/);

      // The webhook in Klaviyo: the family's topics, the flow's URL (answered truncated), the secret never answered.
      const webhook = await s.act<Webhook>("get-webhook", { webhookId: kept?.webhookId });
      expect(topicIdsOf(webhook)).toEqual(["event:api.placed_order", "event:api.refund_issued"]);
      expect(webhook.data.attributes.endpoint_url).toBe(`${receiver.url}/*****`);
      expect(webhook.data.attributes.enabled).toBe(true);
      expect(JSON.stringify(webhook)).not.toContain(kept?.secret as string);

      const earlier = [...(await eventIds(s, "Placed Order")), ...(await eventIds(s, "Refund Issued"))];
      const from = captured.length;
      for (const n of [1, 2, 3]) await record(s, "Placed Order", "ada@example.com", { n });
      await record(s, "Refund Issued", "ada@example.com", { n: 4 });
      const deliveries = forWebhook(await deliveriesSince(s, from), kept?.webhookId as string);
      expect(deliveries.length).toBeGreaterThan(0);

      // Each delivery's signature is what an independent HMAC over the raw body and the timestamp gives.
      for (const d of deliveries) {
        const timestamp = d.headers[WEBHOOK_HEADERS.timestamp.toLowerCase()] as string;
        const expected = createHmac("sha256", kept?.secret as string)
          .update(d.raw)
          .update(timestamp)
          .digest("hex");
        expect(d.headers[WEBHOOK_HEADERS.signature.toLowerCase()]).toBe(expected);
      }

      const items: WebhookTriggerItem[] = [];
      for (const d of deliveries) {
        const { result, items: got } = await f.deliver(d.raw, d.headers);
        expect(result.branch).toBe(EVENTS_BRANCH);
        expect(result.response?.statusCode).toBe(200);
        items.push(...got);
      }
      // One item per event recorded after the deployment (the first of each metric came before it).
      const recorded = [
        ...(await eventIds(s, "Placed Order")),
        ...(await eventIds(s, "Refund Issued")),
      ].filter((id) => !earlier.includes(id));
      expect(recorded).toHaveLength(4);
      expect(items.map((i) => i.external_id).sort()).toEqual([...recorded].sort());
      expect(items.filter((i) => i.topic === "event:api.placed_order")).toHaveLength(3);
      expect(items.filter((i) => i.topic === "event:api.refund_issued")).toHaveLength(1);
      for (const item of items) {
        expect(item.payload.data).toMatchObject({ type: "event", id: item.external_id });
        expect(item.meta.klaviyo_webhook_id).toBe(kept?.webhookId);
      }
      // The same delivery again (Klaviyo repeats deliveries): nothing new.
      const again = await f.deliver(
        deliveries[0]?.raw as Buffer,
        deliveries[0]?.headers as IncomingHttpHeaders,
      );
      expect(again.result.branch).toBe(EVENTS_BRANCH);
      expect(again.items).toEqual([]);

      // Removal deletes the webhook by the ID kept.
      await f.remove();
      await expect(s.act("get-webhook", { webhookId: kept?.webhookId })).rejects.toBeInstanceOf(
        NotFoundError,
      );
      expect(f.state()).toBeNull();
      // Removing again finds nothing kept, and sends nothing.
      const before = s.sent.length;
      await f.remove();
      expect(s.sent.length).toBe(before);
    });

    it("refuses a forged delivery: 401, the Refused branch, no item", async () => {
      const s = setup(kind);
      await record(s, "Viewed Product", "eve@example.com", {});
      const f = s.flow("webhookCustomMetricEvents", { topics: ["event:api.viewed_product"] });
      await f.deploy();
      const kept = f.state() as { webhookId: string; secret: string };
      const from = captured.length;
      await record(s, "Viewed Product", "eve@example.com", { n: 1 });
      const [genuine] = forWebhook(await deliveriesSince(s, from), kept.webhookId);
      expect(genuine).toBeDefined();
      const raw = (genuine as Captured).raw;
      const headers = (genuine as Captured).headers;

      const forgeries: [string, Buffer, IncomingHttpHeaders][] = [];
      // The body changed after signing (one event's ID altered).
      const body = JSON.parse(raw.toString("utf8"));
      body.data[0].external_id = "forged";
      forgeries.push(["changed body", Buffer.from(JSON.stringify(body)), headers]);
      // The same events, re-serialised with other spacing: not the bytes signed.
      forgeries.push([
        "re-serialised body",
        Buffer.from(JSON.stringify(JSON.parse(raw.toString("utf8")), null, 2)),
        headers,
      ]);
      // Signed with another secret, with every header right.
      const other = signDelivery(JSON.parse(raw.toString("utf8")), "not-the-secret", Date.now());
      forgeries.push([
        "wrong secret",
        Buffer.from(other.body),
        Object.fromEntries(Object.entries(other.headers).map(([k, v]) => [k.toLowerCase(), v])),
      ]);
      // No signature at all.
      const { [WEBHOOK_HEADERS.signature.toLowerCase()]: _dropped, ...unsigned } = headers;
      forgeries.push(["no signature", raw, unsigned]);

      for (const [what, forgedBody, forgedHeaders] of forgeries) {
        const { result, items } = await f.deliver(forgedBody, forgedHeaders);
        expect(result.branch, what).toBe(REFUSED_BRANCH);
        expect(result.response?.statusCode, what).toBe(401);
        expect(items, what).toEqual([]);
        expect(result.response?.body).not.toContain(kept.secret);
      }
      expect(f.warnings.filter((w) => w.includes("refused"))).toHaveLength(forgeries.length);
      // The genuine one still passes afterwards (the forgeries marked nothing as seen).
      const { items } = await f.deliver(raw, headers);
      expect(items).toHaveLength(1);
      await f.remove();
    });

    it("Consent Changes: Subscribe Profiles' consent events reach the flow, one item each", async () => {
      const s = setup(kind);
      const f = s.flow("webhookConsentChanges");
      await f.deploy();
      const kept = f.state() as { webhookId: string };
      const topics = (await s.act<{ data: { id: string }[] }>("list-webhook-topics", {})).data.map(
        (t) => t.id,
      );
      const consent = Object.values(CONSENT_METRICS)
        .map((m) => topicOfMetric(m, "klaviyo"))
        .filter((t) => topics.includes(t));
      expect(topicIdsOf(await s.act<Webhook>("get-webhook", { webhookId: kept.webhookId }))).toEqual(
        [...consent].sort(),
      );

      const list = (await s.act("create-list", { listName: "Newsletter" })).data.id;
      const from = captured.length;
      await s.act("subscribe-profiles", { profiles: [{ email: "grace@example.com" }], listId: list });
      const deliveries = forWebhook(await deliveriesSince(s, from), kept.webhookId);
      const items: WebhookTriggerItem[] = [];
      for (const d of deliveries) items.push(...(await f.deliver(d.raw, d.headers)).items);
      expect(items.map((i) => i.topic).sort()).toEqual([
        "event:klaviyo.subscribed_to_email_marketing",
        "event:klaviyo.subscribed_to_list",
      ]);
      await f.remove();
      await expect(s.act("get-webhook", { webhookId: kept.webhookId })).rejects.toBeInstanceOf(NotFoundError);
    });

    it("deploying again keeps the webhook when nothing changed, and replaces it when the URL did", async () => {
      const s = setup(kind);
      const f = s.flow("webhookEmailEngagement");
      await f.deploy();
      const first = f.state() as { webhookId: string; secret: string };
      await f.deploy();
      expect(f.state()).toEqual(first);
      // Disabled in Klaviyo meanwhile: enabled again.
      await s.act("update-webhook", { webhookId: first.webhookId, enabled: false });
      await f.deploy();
      expect(
        (await s.act<Webhook>("get-webhook", { webhookId: first.webhookId })).data.attributes.enabled,
      ).toBe(true);
      // A new URL: a new webhook (and secret), the old one deleted.
      f.kept.url = `${receiver.url}/hooks/moved`;
      await f.deploy();
      const second = f.state() as { webhookId: string; secret: string };
      expect(second.webhookId).not.toBe(first.webhookId);
      expect(second.secret).not.toBe(first.secret);
      await expect(s.act("get-webhook", { webhookId: first.webhookId })).rejects.toBeInstanceOf(
        NotFoundError,
      );
      const listed = await s.act<{ data: { id: string }[] }>("list-webhooks", {});
      expect(listed.data.map((w) => w.id)).toEqual([second.webhookId]);
      await f.remove();
    });

    it("refuses Topics that are not the family's or not the account's by label, before creating anything", async () => {
      const s = setup(kind);
      const wrongFamily = s.flow("webhookCustomMetricEvents", { topics: ["event:klaviyo.opened_email"] });
      const before = s.sent.length;
      const error = await wrongFamily.deploy().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InputValidationError);
      expect((error as Error).message).toContain("Topics");
      expect(s.sent.length).toBe(before);
      const unknown = s.flow("webhookAnyTopics", { topics: ["event:api.never_recorded"] });
      await expect(unknown.deploy()).rejects.toThrow(
        /Topics.*event:api\.never_recorded.*not a topic of this account/s,
      );
      const none = s.flow("webhookAnyTopics");
      await expect(none.deploy()).rejects.toThrow(/Topics.*required/s);
      expect((await s.act<{ data: unknown[] }>("list-webhooks", {})).data).toEqual([]);
    });

    it("an account without webhook access fails the deployment, naming the polling triggers that serve instead", async () => {
      const s = setup(kind, { webhookAccess: false });
      for (const key of ["consent-changes", "email-engagement"]) {
        const f = s.flow(webhookTriggerKeyOf(family(key)));
        const error = (await f.deploy().catch((e: unknown) => e)) as Error;
        expect(error).toBeInstanceOf(Error);
        expect(error.message).toContain("Advanced KDP");
        expect(error.message).toContain("403 permission_denied");
        for (const label of fallbackLabels(family(key))) expect(error.message).toContain(label);
        expect(f.state()).toBeUndefined();
      }
      s.emulator.setWebhookAccess(true);
      expect((await s.act<{ data: unknown[] }>("list-webhooks", {})).data).toEqual([]);
    });

    it("offers the account's topics of the family in its data source", async () => {
      const s = setup(kind);
      await record(s, "Placed Order", "ds@example.com", {});
      const custom = (await s.harness.dataSource(
        topicDataSourceKeyOf(family("custom-metric-events")) as string,
        {
          connection: s.connection,
        },
      )) as { result: { key: string; label: string }[] };
      expect(custom.result.map((o) => o.key)).toEqual(["event:api.placed_order"]);
      const any = (await s.harness.dataSource(topicDataSourceKeyOf(family("any-topics")) as string, {
        connection: s.connection,
        search: "opened",
      })) as { result: { key: string }[] };
      expect(any.result.map((o) => o.key)).toEqual(expect.arrayContaining(["event:klaviyo.opened_email"]));
      expect(any.result.every((o) => o.key.includes("opened"))).toBe(true);
    });
  },
);
