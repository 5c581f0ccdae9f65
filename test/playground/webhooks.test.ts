/**
 * The playground's webhooks over real HTTP, on the embedded emulator: listening registers a webhook whose
 * endpoint is the playground's own receiver; an event recorded through the playground arrives as a delivery the
 * receiver verified; a forged one (its body changed after signing) is listed refused; Stop deletes the webhook
 * and nothing more is listed. The routes keep the page's token and Host checks; the receiver admits only its
 * path's token; the secret never reaches an answer. Against a remote server the routes say where to go instead.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_API_KEY, type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { topicOfMetric } from "../../src/klaviyo/webhooks.js";
import { type Playground, startPlayground } from "../../src/playground/server.js";
import type {
  ReceivedDelivery,
  WebhookDeliveries,
  WebhookListening,
  WebhookTopics,
} from "../../src/playground/webhooks-contract.js";

interface Answer {
  status: number;
  body: string;
  json: <T = unknown>() => T;
}

/** Every answer, to search for secrets. */
const answers: Answer[] = [];

function call(
  pg: Playground,
  path: string,
  options: { method?: string; body?: unknown; token?: string | null; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== null) headers["x-playground-token"] = options.token ?? pg.token;
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  if (body !== undefined) headers["content-type"] ??= "application/json";
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port: pg.port, path, method: options.method ?? "GET", headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const answer = { status: res.statusCode ?? 0, body: text, json: <T>() => JSON.parse(text) as T };
          answers.push(answer);
          resolve(answer);
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const METRIC = "Playground Hook";
const TOPIC = topicOfMetric(METRIC, "api");

async function recordEvent(pg: Playground, value: number): Promise<string> {
  const answer = await call(pg, "/api/run", {
    method: "POST",
    body: {
      action: "create-event",
      inputs: {
        name: METRIC,
        profile: "hooked@example.com",
        properties: JSON.stringify({ value }),
        // Two events of one profile and metric in one second are one, unless their unique IDs differ.
        uniqueId: `hook-${value}`,
      },
    },
  });
  expect(answer.status).toBe(200);
  expect(answer.json<{ ok: boolean }>().ok).toBe(true);
  const events = [...(pg.emulator?.state.events.values() ?? [])];
  return (events.at(-1) as { id: string }).id;
}

/** A delivery's body, as far as these tests read it. */
type Body = {
  data: Array<{ external_id: string; payload: { data: { attributes: { event_properties: unknown } } } }>;
};

const deliveries = async (pg: Playground) =>
  (await call(pg, "/api/webhooks/deliveries")).json<WebhookDeliveries>();

describe("webhooks in the playground, on the embedded emulator", () => {
  let pg: Playground;

  beforeAll(async () => {
    pg = await startPlayground({ port: 0, emulator: true });
  });
  afterAll(() => pg.close());

  it("listens, lists a delivery verified, a forged one refused, and Stop deletes the webhook", async () => {
    const emulator = pg.emulator;
    if (!emulator) throw new Error("no emulator");
    // The metric first: its topic exists from then on.
    await recordEvent(pg, 0);
    const topics = (await call(pg, "/api/webhooks/topics")).json<WebhookTopics>().topics;
    expect(topics).toContainEqual({ id: TOPIC, name: expect.any(String) });

    const started = await call(pg, "/api/webhooks/listen", { method: "POST", body: { topics: [TOPIC] } });
    expect(started.status).toBe(200);
    const { listening } = started.json<{ listening: WebhookListening }>();
    expect(listening.topics).toEqual([TOPIC]);
    expect(listening.endpoint).toBe(`http://127.0.0.1:${pg.port}/*****`);
    const [webhook] = [...emulator.state.webhooks.values()];
    expect(webhook?.id).toBe(listening.webhookId);
    expect(webhook?.endpointUrl).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:${pg.port}/hooks/klaviyo/[\\w-]{43}$`),
    );
    const secret = webhook?.secretKey as string;
    expect(secret).toMatch(/^[0-9a-f]{64}$/);

    const eventId = await recordEvent(pg, 42);
    await emulator.settleWebhooks();
    const after = await deliveries(pg);
    expect(after.listening).toEqual(listening);
    expect(after.deliveries).toHaveLength(1);
    const [genuine] = after.deliveries as [ReceivedDelivery];
    expect(genuine).toMatchObject({
      forged: false,
      verification: { ok: true },
      status: 200,
      eventCount: 1,
      topics: [TOPIC],
    });
    expect(genuine.headers["klaviyo-webhook-id"]).toBe(webhook?.id);
    expect(genuine.headers["klaviyo-signature"]).toMatch(/^[0-9a-f]{64}$/);
    expect(genuine.headers["content-type"]).toBe("application/json");
    const body = genuine.body as Body;
    expect(body.data[0]?.external_id).toBe(eventId);
    expect(body.data[0]?.payload.data.attributes.event_properties).toMatchObject({ value: 42 });
    expect(emulator.webhookDeliveries.map((a) => [a.status, a.outcome])).toEqual([[200, "delivered"]]);

    // A forged delivery: signed with the secret, its body changed afterwards; refused, listed newest first.
    const forged = await call(pg, "/api/webhooks/forge", { method: "POST", body: {} });
    expect(forged.status).toBe(200);
    const refused = forged.json<ReceivedDelivery>();
    expect(refused).toMatchObject({
      forged: true,
      status: 401,
      verification: { ok: false, reason: "bad_signature" },
      eventCount: 1,
    });
    const listed = await deliveries(pg);
    expect(listed.deliveries.map((d) => [d.forged, d.verification.ok])).toEqual([
      [true, false],
      [false, true],
    ]);
    const forgedBody = listed.deliveries[0]?.body as Body;
    expect(forgedBody.data[0]?.payload.data.attributes.event_properties).toMatchObject({
      value: 42,
      forged: "changed after signing",
    });

    // Stop: the webhook is deleted, and an event recorded then is delivered to no one.
    const stopped = await call(pg, "/api/webhooks/listen", { method: "DELETE" });
    expect(stopped.status).toBe(200);
    expect(stopped.json()).toEqual({ listening: null, deleted: listening.webhookId });
    expect(emulator.state.webhooks.size).toBe(0);
    const attemptsBefore = emulator.webhookDeliveries.length;
    await recordEvent(pg, 7);
    await emulator.settleWebhooks();
    const final = await deliveries(pg);
    expect(final.listening).toBeNull();
    expect(final.deliveries).toHaveLength(2);
    // Nor attempted: a late delivery would meet a 404 and never be listed, so the emulator's log must not grow.
    expect(emulator.webhookDeliveries).toHaveLength(attemptsBefore);
    expect(emulator.webhookDeliveries.map((a) => [a.status, a.outcome])).toEqual([[200, "delivered"]]);
    // The receiver's old path admits nothing now.
    const late = await call(pg, new URL(webhook?.endpointUrl as string).pathname, {
      method: "POST",
      token: null,
      body: {},
    });
    expect(late.status).toBe(404);

    for (const answer of answers) {
      expect(answer.body).not.toContain(secret);
      expect(answer.body).not.toContain(DEV_API_KEY);
    }
  });

  it("keeps the token check for /api/webhooks; the receiver admits its path's token only, and verifies", async () => {
    expect((await call(pg, "/api/webhooks/deliveries", { token: null })).status).toBe(403);
    expect(
      (await call(pg, "/api/webhooks/listen", { method: "POST", body: {}, token: "wrong" })).status,
    ).toBe(403);
    expect((await call(pg, "/api/webhooks/listen", { method: "DELETE", token: null })).status).toBe(403);

    // Every topic of the account when none are chosen.
    const started = await call(pg, "/api/webhooks/listen", { method: "POST", body: {} });
    expect(started.status).toBe(200);
    const all = (await call(pg, "/api/webhooks/topics")).json<WebhookTopics>().topics.map((t) => t.id);
    expect(new Set(started.json<{ listening: WebhookListening }>().listening.topics)).toEqual(new Set(all));
    const [webhook] = [...(pg.emulator?.state.webhooks.values() ?? [])];
    const path = new URL(webhook?.endpointUrl as string).pathname;
    const before = (await deliveries(pg)).deliveries.length;

    // Another token is not the receiver: nothing listed.
    expect(
      (await call(pg, `${path.slice(0, -4)}AAAA`, { method: "POST", token: null, body: {} })).status,
    ).toBe(404);
    expect((await deliveries(pg)).deliveries).toHaveLength(before);
    // Its token without a signature: listed, refused (401), as anyone posting there would be.
    const unsigned = await call(pg, path, { method: "POST", token: null, body: { data: [], meta: {} } });
    expect(unsigned.status).toBe(401);
    const [newest] = (await deliveries(pg)).deliveries;
    expect(newest).toMatchObject({
      forged: false,
      status: 401,
      verification: { ok: false, reason: "missing_header" },
    });

    // Bad bodies are refused before anything is made.
    const bad = await call(pg, "/api/webhooks/listen", { method: "POST", body: { topics: "event:api.x" } });
    expect(bad.status).toBe(400);
    expect((await call(pg, "/api/webhooks/listen", { method: "DELETE" })).status).toBe(200);
    // Forging needs a webhook to forge for.
    const noWebhook = await call(pg, "/api/webhooks/forge", { method: "POST", body: {} });
    expect(noWebhook.status).toBe(400);
    expect(noWebhook.json<{ error: string }>().error).toContain("start listening");
  });
});

describe("webhooks in the playground against a remote server", () => {
  let running: RunningEmulator;
  let pg: Playground;

  beforeAll(async () => {
    running = await startEmulator({ seed: "demo", rateLimits: "off" });
    pg = await startPlayground({ port: 0, apiKey: DEV_API_KEY, baseUrl: running.url });
  });
  afterAll(async () => {
    await pg.close();
    await running.close();
  });

  it("says that deliveries are listened to on the embedded emulator, and klaviyo listen serves elsewhere", async () => {
    const answer = await call(pg, "/api/webhooks/deliveries");
    expect(answer.status).toBe(404);
    expect(answer.json<{ error: string }>().error).toContain("klaviyo listen");
    expect(running.emulator.state.webhooks.size).toBe(0);
  });
});
