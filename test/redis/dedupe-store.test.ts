/**
 * The Redis dedupe store of webhook receivers, against a real redis-server: two receivers (each with its own Redis
 * connection, as two processes have) share it, so a delivery Klaviyo repeats — in turn or both at once — hands
 * each event over once in all; an event whose callback threw is given back for the retry; IDs expire.
 */
import { createClient } from "@redis/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signDelivery, type WebhookDelivery } from "../../src/klaviyo/webhooks.js";
import { redisDedupeStore } from "../../src/redis/dedupe-store.js";
import { webhookFetchHandler } from "../../src/webhooks/index.js";
import { redisAvailable, startRedis, type TestRedis } from "../helpers/redis.js";

const SECRET = "whsec_redis_dedupe_0123456789";
const NOW = Date.UTC(2026, 6, 15, 10, 0, 0);

function delivery(ids: readonly string[]): WebhookDelivery {
  return {
    data: ids.map((id) => ({
      topic: "event:api.placed_order",
      external_id: id,
      payload: { data: { type: "event" as const, id, attributes: {} } },
    })),
    meta: {
      klaviyo_account_id: "AbCdEf",
      klaviyo_webhook_id: "01JWEBHOOKREDIS00000000000",
      timestamp: "",
      version: "",
    },
  };
}

function request(ids: readonly string[]): Request {
  const { body, headers } = signDelivery(delivery(ids), SECRET, NOW);
  return new Request("http://127.0.0.1/hooks/klaviyo", { method: "POST", body, headers });
}

describe.runIf(redisAvailable())("redisDedupeStore: webhook repeats dropped across processes", () => {
  let redis: TestRedis;
  type Client = Awaited<ReturnType<typeof connected>>;
  const clients: Array<{ close(): Promise<unknown> }> = [];

  async function connected() {
    const client = createClient({ url: redis.url });
    await client.connect();
    clients.push(client);
    return client;
  }
  const forget = (client: Client) => clients.splice(clients.indexOf(client), 1);

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const client of clients) await client.close();
    await redis?.stop();
  });

  it("two receivers sharing it hand each event over once, repeats in turn or at the same moment", async () => {
    const handed: string[] = [];
    const receiver = async (prefix: string) =>
      webhookFetchHandler({
        secret: SECRET,
        dedupe: redisDedupeStore({ client: await connected(), prefix }),
        onEvent: (event) => void handed.push(event.external_id),
      });
    const [a, b] = [await receiver("test:turns:"), await receiver("test:turns:")];
    expect((await a(request(["E1", "E2"]))).status).toBe(200);
    expect((await b(request(["E2", "E3"]))).status).toBe(200); // E2 a repeat, at the other process
    expect(handed).toEqual(["E1", "E2", "E3"]);

    // The same delivery arriving at both at once, 20 times over: each event handed over once in all.
    handed.length = 0;
    const ids = Array.from({ length: 20 }, (_, i) => `C${i}`);
    const answers = await Promise.all(ids.flatMap((id) => [a(request([id])), b(request([id]))]));
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
    expect([...handed].sort()).toEqual([...ids].sort());
  });

  it("an event whose callback threw is given back: the retry hands it over, at either receiver", async () => {
    let fail = true;
    const handed: string[] = [];
    const onEvent = (event: { external_id: string }) => {
      if (fail && event.external_id === "R2") throw new Error("database down");
      handed.push(event.external_id);
    };
    const a = webhookFetchHandler({
      secret: SECRET,
      dedupe: redisDedupeStore({ client: await connected(), prefix: "test:release:" }),
      onEvent,
    });
    const b = webhookFetchHandler({
      secret: SECRET,
      dedupe: redisDedupeStore({ client: await connected(), prefix: "test:release:" }),
      onEvent,
    });
    expect((await a(request(["R1", "R2"]))).status).toBe(500);
    expect(handed).toEqual(["R1"]);
    fail = false;
    expect((await b(request(["R1", "R2"]))).status).toBe(200);
    expect(handed).toEqual(["R1", "R2"]);
  });

  it("keeps each ID for its TTL, under its prefix, and refuses a bad TTL or no client", async () => {
    const client = await connected();
    const store = redisDedupeStore({ client, prefix: "test:ttl:", ttlSeconds: 1 });
    expect(await store.claim("T1")).toBe(true);
    expect(await store.claim("T1")).toBe(false);
    const ttl = Number(await client.sendCommand(["TTL", "test:ttl:T1"]));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1);
    // Another prefix (another webhook) has its own IDs.
    expect(await redisDedupeStore({ client, prefix: "test:other:" }).claim("T1")).toBe(true);
    expect(() => redisDedupeStore({ client, ttlSeconds: 0 })).toThrow(/ttlSeconds/);
    expect(() => redisDedupeStore({ client: {} as never })).toThrow(/sendCommand/);
  });

  it("a Redis that does not answer fails the claim, so the delivery is answered 500 and retried", async () => {
    const client = await connected();
    // The callback records rather than throws: a store that failed open would hand D1 over and answer 200.
    const handed: string[] = [];
    const handler = webhookFetchHandler({
      secret: SECRET,
      dedupe: redisDedupeStore({ client, prefix: "test:down:" }),
      onEvent: (event) => {
        handed.push(event.external_id);
      },
    });
    await client.close();
    forget(client);
    const response = await handler(request(["D1"]));
    expect(response.status).toBe(500);
    expect(((await response.json()) as { error: unknown }).error).toBe("dedupe_failed");
    expect(handed).toEqual([]);
  });
});
