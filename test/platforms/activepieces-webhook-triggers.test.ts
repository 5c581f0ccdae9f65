/**
 * The Activepieces piece's webhook triggers, run as the engine runs them, against the emulator, with both kinds
 * of auth: each hook (`onEnable`, `run`, `onDisable`) with a context made the way the engine makes it (the
 * framework's mock context, the connection's value as `auth`, the flow's `webhookUrl`, an in-memory `store` that
 * keeps values as JSON as the engine's does) and, for `run`, the payload the engine hands a webhook trigger: the
 * parsed `body`, the `rawBody` as text (it reaches the engine through JSON), the headers in lower case.
 *
 * Deliveries are real: a node:http receiver on 127.0.0.1 is the flow's webhook URL, the emulator POSTs to it
 * when events are recorded (Create Event, Subscribe Profiles), and what it captured is what `run` is handed.
 */
import type { IncomingHttpHeaders } from "node:http";
import {
  createMockActionContext,
  type DropdownState,
  type Trigger,
  TriggerStrategy,
} from "@activepieces/pieces-framework";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runActionByKey } from "../../src/actions/index.js";
import { KlaviyoClient } from "../../src/core/client.js";
import { InputValidationError, NotFoundError } from "../../src/core/errors.js";
import { createEmulator } from "../../src/emulator/index.js";
import { CONSENT_METRICS, topicOfMetric, WEBHOOK_HEADERS } from "../../src/klaviyo/webhooks.js";
import {
  createKlaviyoPiece,
  klaviyo,
  type RefusedDelivery,
  SEEN_EVENTS_STORE_KEY,
  WEBHOOK_STORE_KEY,
  webhookTriggerNameOf,
} from "../../src/platforms/activepieces.js";
import { DEFAULT_SCOPES } from "../../src/platforms/common.js";
import {
  fallbackTriggers,
  getWebhookFamily,
  WEBHOOK_FAMILIES,
  type WebhookTriggerFamily,
  type WebhookTriggerItem,
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

const secretText = (key: string) => ({ type: "SECRET_TEXT", secret_text: key });
const oauthValue = (token: string) => ({
  type: "OAUTH2",
  access_token: token,
  refresh_token: "unused",
  token_type: "Bearer",
  expires_in: 3600,
  claimed_at: Math.floor(Date.now() / 1000),
  client_id: CLIENT_ID,
  scope: DEFAULT_SCOPES,
  token_url: "https://a.klaviyo.com/oauth/token",
  data: {},
});

/** The engine's store, in memory: values kept as JSON (what is put must survive the round trip). */
function memoryStore() {
  const map = new Map<string, string>();
  return {
    map,
    async get<T>(key: string): Promise<T | null> {
      const text = map.get(key);
      return text === undefined ? null : (JSON.parse(text) as T);
    },
    async put<T>(key: string, value: T): Promise<T> {
      map.set(key, JSON.stringify(value));
      return value;
    },
    async delete(key: string): Promise<void> {
      map.delete(key);
    },
  };
}

type Webhook = {
  data: {
    id: string;
    attributes: { endpoint_url: string; enabled: boolean };
    relationships: { "webhook-topics": { data: { id: string }[] } };
  };
};
const topicIdsOf = (webhook: Webhook) =>
  webhook.data.relationships["webhook-topics"].data.map((t) => t.id).sort();
const family = (key: string) => getWebhookFamily(key) as WebhookTriggerFamily;

type Kind = "api key" | "oauth";
let flowSerial = 0;

function setup(kind: Kind, emulatorOptions: { webhookAccess?: boolean } = {}) {
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
  const refused: RefusedDelivery[] = [];
  const piece = createKlaviyoPiece({
    client: transport,
    webhookTriggers: { onRefused: (r) => refused.push(r) },
  });
  const auth =
    kind === "api key"
      ? secretText(PLATFORM_KEY)
      : oauthValue(emulator.oauth.issueTokens(CLIENT_ID, DEFAULT_SCOPES.split(" ")).access_token);
  const client = new KlaviyoClient({ ...transport, apiKey: PLATFORM_KEY });
  const act = <T = { data: { id: string } }>(key: string, inputs: Record<string, unknown>) =>
    runActionByKey(key, inputs, { client }) as Promise<T>;

  /** One flow with one webhook trigger: its store and URL, and its hooks run as the engine runs them. */
  function flow(familyKey: string, props: Record<string, unknown> = {}) {
    const trigger = piece.getTrigger(webhookTriggerNameOf(family(familyKey))) as Trigger;
    const store = memoryStore();
    const n = ++flowSerial;
    const site = { url: `${receiver.url}/webhooks/flow-${n}` };
    const ctx = (payload?: unknown) =>
      ({
        ...createMockActionContext({ propsValue: props }),
        auth,
        store,
        webhookUrl: site.url,
        payload: payload ?? { body: {}, headers: {}, queryParams: {} },
      }) as never;
    return {
      trigger,
      store,
      site,
      enable: () => trigger.onEnable(ctx()),
      disable: () => trigger.onDisable(ctx()),
      state: () => store.get<{ webhookId: string; secret: string; topics: string[] }>(WEBHOOK_STORE_KEY),
      /** A request to the flow's URL, as the engine hands it to `run`; the items must survive its JSON round trip. */
      async run(raw: Buffer | undefined, headers: IncomingHttpHeaders) {
        const flat: Record<string, string> = {};
        for (const [k, v] of Object.entries(headers))
          if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(", ") : v;
        let body: unknown = {};
        try {
          body = raw ? JSON.parse(raw.toString("utf8")) : {};
        } catch {
          body = raw?.toString("utf8");
        }
        const payload = JSON.parse(
          JSON.stringify({
            body,
            ...(raw ? { rawBody: raw.toString("utf8") } : {}),
            headers: flat,
            queryParams: {},
          }),
        );
        const items = (await trigger.run(ctx(payload))) as WebhookTriggerItem[];
        expect(JSON.parse(JSON.stringify(items))).toEqual(items);
        return items;
      },
    };
  }
  return { emulator, piece, auth, client, act, sent, refused, flow };
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

async function deliveriesFor(s: Setup, from: number, webhookId: string): Promise<Captured[]> {
  await s.emulator.settleWebhooks();
  return captured.slice(from).filter((d) => d.headers[WEBHOOK_HEADERS.id.toLowerCase()] === webhookId);
}

describe("the Activepieces piece: its webhook triggers, as defined", () => {
  it("has one webhook trigger per topic family, beside the polling triggers", () => {
    expect(WEBHOOK_FAMILIES.map((f) => f.key)).toEqual(Object.keys(FALLBACK_LABELS)); // every family, none missed
    for (const f of WEBHOOK_FAMILIES) {
      const trigger = klaviyo.getTrigger(webhookTriggerNameOf(f)) as Trigger;
      expect(trigger, f.key).toBeDefined();
      expect(trigger.type).toBe(TriggerStrategy.WEBHOOK);
      expect(trigger.displayName).toBe(webhookTriggerLabel(f));
      // Tested by simulation: the sample a flow is built on is a real, verified delivery.
      expect(trigger.testStrategy).toBe("SIMULATION");
      expect(trigger.sampleData).toMatchObject({
        topic: expect.any(String),
        external_id: expect.any(String),
        meta: {},
      });
      expect(trigger.description).toContain("raw body");
      for (const label of fallbackLabels(f)) expect(trigger.description).toContain(label);
      const props = trigger.props as Record<string, { type: string; required: boolean }>;
      if (f.topicsInput)
        expect(props.topics).toMatchObject({
          type: "MULTI_SELECT_DROPDOWN",
          required: f.topicsInput.required,
        });
      else expect(Object.keys(props)).toEqual([]);
    }
  });
});

const KINDS: Kind[] = ["api key", "oauth"];

describe.each(KINDS)("the webhook triggers as the engine runs them, with the %s auth", (kind) => {
  it("Custom Metric Events: enable creates the webhook, deliveries become one item per event, disable deletes it", async () => {
    const s = setup(kind);
    await record(s, "Placed Order", "ada@example.com", {});
    const f = s.flow("custom-metric-events");
    await f.enable();
    const kept = await f.state();
    expect(kept?.secret).toMatch(/^[0-9a-f]{64}$/);
    const webhook = await s.act<Webhook>("get-webhook", { webhookId: kept?.webhookId });
    expect(topicIdsOf(webhook)).toEqual(["event:api.placed_order"]);
    expect(webhook.data.attributes.endpoint_url).toBe(`${receiver.url}/*****`);

    const from = captured.length;
    for (const n of [1, 2]) await record(s, "Placed Order", "ada@example.com", { n });
    const deliveries = await deliveriesFor(s, from, kept?.webhookId as string);
    const items: WebhookTriggerItem[] = [];
    for (const d of deliveries) items.push(...(await f.run(d.raw, d.headers)));
    expect(items).toHaveLength(2);
    expect(items.map((i) => i.topic)).toEqual(["event:api.placed_order", "event:api.placed_order"]);
    expect(items.map((i) => (i.payload.data.attributes.event_properties as { n: number }).n).sort()).toEqual([
      1, 2,
    ]);
    for (const item of items) expect(item.meta.klaviyo_webhook_id).toBe(kept?.webhookId);
    expect(s.refused).toEqual([]);

    // A repeated delivery yields nothing new.
    expect(await f.run(deliveries[0]?.raw, deliveries[0]?.headers as IncomingHttpHeaders)).toEqual([]);

    await f.disable();
    await expect(s.act("get-webhook", { webhookId: kept?.webhookId })).rejects.toBeInstanceOf(NotFoundError);
    expect(await f.state()).toBeNull();
    expect(await f.store.get(SEEN_EVENTS_STORE_KEY)).toBeNull();
  });

  it("a forged delivery, or one without its raw body, yields no item and is reported as refused", async () => {
    const s = setup(kind);
    await record(s, "Started Checkout", "eve@example.com", {});
    const f = s.flow("any-topics", { topics: ["event:api.started_checkout"] });
    await f.enable();
    const kept = (await f.state()) as { webhookId: string; secret: string };
    const from = captured.length;
    await record(s, "Started Checkout", "eve@example.com", { n: 1 });
    const [genuine] = await deliveriesFor(s, from, kept.webhookId);
    expect(genuine).toBeDefined();
    const { raw, headers } = genuine as Captured;

    const changed = JSON.parse(raw.toString("utf8"));
    changed.data[0].payload.data.attributes.event_properties.n = 2;
    expect(await f.run(Buffer.from(JSON.stringify(changed)), headers)).toEqual([]);
    expect(
      await f.run(raw, { ...headers, [WEBHOOK_HEADERS.signature.toLowerCase()]: "0".repeat(64) }),
    ).toEqual([]);
    // Only the parsed body, as older Activepieces versions give: not verifiable, so refused.
    expect(await f.run(undefined, headers)).toEqual([]);
    expect(s.refused.map((r) => [r.reason, r.status])).toEqual([
      ["bad_signature", 401],
      ["bad_signature", 401],
      ["missing_raw_body", 401],
    ]);
    for (const r of s.refused) {
      expect(r.trigger).toBe("webhook_any_topics");
      expect(r.message).not.toContain(kept.secret);
    }
    // The genuine delivery still gives its event.
    expect(await f.run(raw, headers)).toHaveLength(1);
    await f.disable();
  });

  it("Consent Changes: a profile subscribed through Subscribe Profiles arrives as its consent events", async () => {
    const s = setup(kind);
    const f = s.flow("consent-changes");
    await f.enable();
    const kept = (await f.state()) as { webhookId: string; topics: string[] };
    const topics = (await s.act<{ data: { id: string }[] }>("list-webhook-topics", {})).data.map((t) => t.id);
    const consent = Object.values(CONSENT_METRICS)
      .map((m) => topicOfMetric(m, "klaviyo"))
      .filter((t) => topics.includes(t));
    expect(topicIdsOf(await s.act<Webhook>("get-webhook", { webhookId: kept.webhookId }))).toEqual(
      [...consent].sort(),
    );
    const from = captured.length;
    await s.act("subscribe-profiles", { profiles: [{ email: "grace@example.com" }] });
    const items: WebhookTriggerItem[] = [];
    for (const d of await deliveriesFor(s, from, kept.webhookId))
      items.push(...(await f.run(d.raw, d.headers)));
    expect(items.map((i) => i.topic)).toEqual(["event:klaviyo.subscribed_to_email_marketing"]);
    await f.disable();
    await expect(s.act("get-webhook", { webhookId: kept.webhookId })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("offers the account's topics of the family in its dropdown", async () => {
    const s = setup(kind);
    await record(s, "Placed Order", "dd@example.com", {});
    const trigger = s.piece.getTrigger(webhookTriggerNameOf(family("custom-metric-events"))) as Trigger;
    const prop = (
      trigger.props as Record<string, { options: (v: unknown, c: unknown) => Promise<DropdownState<string>> }>
    ).topics;
    const state = await prop?.options({ auth: s.auth }, {});
    expect(state?.options.map((o) => o.value)).toEqual(["event:api.placed_order"]);
    const none = await prop?.options({ auth: undefined }, {});
    expect(none).toMatchObject({ disabled: true, options: [] });
  });

  it("refuses a Topics choice outside the family by label, before creating anything", async () => {
    const s = setup(kind);
    const f = s.flow("custom-metric-events", { topics: ["event:klaviyo.received_sms"] });
    const before = s.sent.length;
    const error = await f.enable().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputValidationError);
    expect((error as Error).message).toContain("Topics");
    expect(s.sent.length).toBe(before);
    expect(await f.state()).toBeNull();
  });

  it("an account without webhook access fails enabling, naming the polling triggers that serve instead", async () => {
    const s = setup(kind, { webhookAccess: false });
    const f = s.flow("consent-changes");
    const error = (await f.enable().catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toContain("Advanced KDP");
    expect(error.message).toContain("403 permission_denied");
    for (const label of fallbackLabels(family("consent-changes"))) expect(error.message).toContain(label);
    expect(await f.state()).toBeNull();
    s.emulator.setWebhookAccess(true);
    expect((await s.act<{ data: unknown[] }>("list-webhooks", {})).data).toEqual([]);
  });
});
