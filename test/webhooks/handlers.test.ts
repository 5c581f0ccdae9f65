/**
 * The ready receivers: the fetch handler through real `Request`s, the node handler behind a real node:http
 * server on a loopback port, and the flow-webhook receivers. Deliveries are signed with `signDelivery`, as the
 * emulator signs them (and some by hand, byte by byte, where the raw body must be kept exactly).
 */
import { createHmac } from "node:crypto";
import { request as httpRequest } from "node:http";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  signDelivery,
  WEBHOOK_HEADERS,
  type WebhookDelivery,
  type WebhookDeliveryItem,
  type WebhookDeliveryMeta,
} from "../../src/klaviyo/webhooks.js";
import {
  type DedupeStore,
  flowWebhookFetchHandler,
  flowWebhookNodeHandler,
  flowWebhookToken,
  flowWebhookTokenOf,
  memoryDedupeStore,
  webhookFetchHandler,
  webhookNodeHandler,
} from "../../src/webhooks/index.js";
import { startServer, type TestServer } from "../helpers/servers.js";

const SECRET = "whsec_handlers_0123456789";
const WEBHOOK_ID = "01JWEBHOOK0000000000000000";
const NOW = Date.UTC(2026, 6, 15, 10, 0, 0);

function event(id: string, topic = "event:klaviyo.subscribed_to_email_marketing"): WebhookDeliveryItem {
  return {
    topic,
    external_id: id,
    payload: { data: { type: "event", id, attributes: { event_properties: { note: "ünïcode ✓" } } } },
  };
}

function deliveryOf(ids: readonly string[], webhookId = WEBHOOK_ID): WebhookDelivery {
  return {
    data: ids.map((id) => event(id)),
    meta: {
      klaviyo_account_id: "AbCdEf",
      klaviyo_webhook_id: webhookId,
      timestamp: new Date(NOW).toISOString(),
      version: "2026-07-15",
    },
  };
}

/** A signed delivery as a fetch `Request` to `url`. */
function deliveryRequest(
  ids: readonly string[],
  secret = SECRET,
  url = "http://127.0.0.1/hooks/klaviyo",
): Request {
  const { body, headers } = signDelivery(deliveryOf(ids), secret, NOW);
  return new Request(url, { method: "POST", body, headers });
}

/** Signs `body` (any text) by hand, with an independent HMAC, for webhook `id`. */
function signedByHand(body: string | Uint8Array, id = WEBHOOK_ID, secret = SECRET): Record<string, string> {
  const timestamp = new Date(NOW).toUTCString();
  return {
    "content-type": "application/json",
    [WEBHOOK_HEADERS.id]: id,
    [WEBHOOK_HEADERS.timestamp]: timestamp,
    [WEBHOOK_HEADERS.signature]: createHmac("sha256", secret).update(body).update(timestamp).digest("hex"),
  };
}

/** What a handler handed over, in order. */
function recorder() {
  const events: Array<{ event: WebhookDeliveryItem; meta: WebhookDeliveryMeta }> = [];
  const deliveries: Array<{ delivery: WebhookDelivery; fresh: readonly WebhookDeliveryItem[] }> = [];
  return {
    events,
    deliveries,
    ids: () => events.map((e) => e.event.external_id),
    onEvent: (e: WebhookDeliveryItem, meta: WebhookDeliveryMeta) => {
      events.push({ event: e, meta });
    },
    onDelivery: (delivery: WebhookDelivery, fresh: readonly WebhookDeliveryItem[]) => {
      deliveries.push({ delivery, fresh });
    },
  };
}

describe("webhookFetchHandler", () => {
  it("hands a verified delivery's events over, in order, with its meta, and answers 200", async () => {
    const r = recorder();
    const handle = webhookFetchHandler({ secret: SECRET, onEvent: r.onEvent, onDelivery: r.onDelivery });
    const res = await handle(deliveryRequest(["e1", "e2", "e3"]));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: 3, handled: 3 });
    expect(r.ids()).toEqual(["e1", "e2", "e3"]);
    expect(r.events[0]?.meta).toEqual(deliveryOf([]).meta);
    expect(r.events[0]?.event).toEqual(event("e1"));
    expect(r.deliveries).toHaveLength(1);
    expect(r.deliveries[0]?.delivery).toEqual(deliveryOf(["e1", "e2", "e3"]));
  });

  it("verifies the raw bytes as sent: spacing, key order and escapes that re-serialising would change", async () => {
    const r = recorder();
    const handle = webhookFetchHandler({ secret: SECRET, onEvent: r.onEvent });
    // Not what JSON.stringify of the parsed value gives back: a verifier that re-serialised would refuse it.
    const body = `{ "meta": {"version":"2026-07-15", "klaviyo_webhook_id": "${WEBHOOK_ID}", "klaviyo_account_id":"AbCdEf", "timestamp":"2026-07-15T10:00:00Z"},\n  "data": [ {"topic":"event:api.placed_order","external_id":"\\u00e9v1","payload":{"data":{"type":"event","id":"\\u00e9v1","attributes":{"event_properties":{"price":1.50,"name":"caf\\u00e9 ☕"}}}}} ] }`;
    expect(JSON.stringify(JSON.parse(body))).not.toBe(body);
    const res = await handle(
      new Request("http://127.0.0.1/hook", { method: "POST", body, headers: signedByHand(body) }),
    );
    expect(res.status).toBe(200);
    expect(r.ids()).toEqual(["év1"]);
    expect(r.events[0]?.event.payload.data.attributes.event_properties).toEqual({
      price: 1.5,
      name: "café ☕",
    });
  });

  it("refuses a forgery 401, naming the reason, before any callback or the dedupe store runs", async () => {
    const onEvent = vi.fn();
    const onDelivery = vi.fn();
    const claim = vi.fn(() => true);
    const handle = webhookFetchHandler({ secret: SECRET, onEvent, onDelivery, dedupe: { claim } });
    const genuine = signDelivery(deliveryOf(["e1"]), SECRET, NOW);
    const forgeries: Array<[string, RequestInit, string]> = [
      ["body changed", { body: genuine.body.replace("e1", "e2"), headers: genuine.headers }, "bad_signature"],
      [
        "wrong secret",
        { body: genuine.body, headers: signDelivery(deliveryOf(["e1"]), "other-secret", NOW).headers },
        "bad_signature",
      ],
      [
        "another webhook's ID",
        { body: genuine.body, headers: { ...genuine.headers, [WEBHOOK_HEADERS.id]: "01JOTHER" } },
        "webhook_id_mismatch",
      ],
      [
        "no signature",
        { body: genuine.body, headers: { ...genuine.headers, [WEBHOOK_HEADERS.signature]: "" } },
        "missing_header",
      ],
    ];
    for (const [what, init, reason] of forgeries) {
      const res = await handle(new Request("http://127.0.0.1/hook", { method: "POST", ...init }));
      expect(res.status, what).toBe(401);
      const answer = (await res.json()) as { error: string; detail: string };
      expect(answer.error, what).toBe(reason);
      expect(JSON.stringify(answer)).not.toContain(SECRET);
      expect(JSON.stringify(answer)).not.toContain(genuine.headers[WEBHOOK_HEADERS.signature]);
    }
    expect(onEvent).not.toHaveBeenCalled();
    expect(onDelivery).not.toHaveBeenCalled();
    expect(claim).not.toHaveBeenCalled();
  });

  it("answers 400 to a signed body that is not a delivery, 405 to other methods, 413 over the limit", async () => {
    const onEvent = vi.fn();
    const handle = webhookFetchHandler({ secret: SECRET, onEvent, maxBodyBytes: 2000 });
    const notDelivery = '{"data":"nope"}';
    const bad = await handle(
      new Request("http://127.0.0.1/hook", {
        method: "POST",
        body: notDelivery,
        headers: signedByHand(notDelivery),
      }),
    );
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe("malformed_body");
    const get = await handle(new Request("http://127.0.0.1/hook"));
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    const big = deliveryRequest(Array.from({ length: 30 }, (_, i) => `e${i}`));
    const tooBig = await handle(big);
    expect(tooBig.status).toBe(413);
    // Without a Content-Length (a stream), counted as it arrives.
    const { body, headers } = signDelivery(
      deliveryOf(Array.from({ length: 30 }, (_, i) => `e${i}`)),
      SECRET,
      NOW,
    );
    const bytes = new TextEncoder().encode(body);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 100) controller.enqueue(bytes.slice(i, i + 100));
        controller.close();
      },
    });
    const streamed = await handle(
      new Request("http://127.0.0.1/hook", {
        method: "POST",
        body: stream,
        headers,
        duplex: "half",
      } as RequestInit),
    );
    expect(streamed.status).toBe(413);
    // A Content-Length over the limit is refused from the header alone: the body's stream fails if ever pulled
    // (which would answer 500), and no byte of it is asked for (highWaterMark 0: nothing is pulled unless read).
    let pulled = false;
    const unreadable = new ReadableStream<Uint8Array>(
      {
        pull() {
          pulled = true;
          throw new Error("the body must not be read");
        },
      },
      { highWaterMark: 0 },
    );
    const declared = new Request("http://127.0.0.1/hook", {
      method: "POST",
      body: unreadable,
      headers: { ...headers, "content-length": "2001" },
      duplex: "half",
    } as RequestInit);
    expect(declared.headers.get("content-length")).toBe("2001");
    const declaredTooBig = await handle(declared);
    expect(declaredTooBig.status).toBe(413);
    expect(pulled).toBe(false);
    expect(onEvent).not.toHaveBeenCalled();
  });

  it("drops repeats by external_id, across deliveries and within one; dedupe: false hands everything over", async () => {
    const r = recorder();
    const handle = webhookFetchHandler({ secret: SECRET, onEvent: r.onEvent, onDelivery: r.onDelivery });
    expect((await handle(deliveryRequest(["a", "b"]))).status).toBe(200);
    const again = await handle(deliveryRequest(["b", "c", "c", "a", "d"]));
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ received: 5, handled: 2 });
    expect(r.ids()).toEqual(["a", "b", "c", "d"]);
    expect(r.deliveries[1]?.fresh.map((e) => e.external_id)).toEqual(["c", "d"]);
    // A repeat of a delivery whose events were all seen is still answered 200, so Klaviyo stops retrying.
    expect((await handle(deliveryRequest(["a", "b"]))).status).toBe(200);
    expect(r.ids()).toEqual(["a", "b", "c", "d"]);

    const all = recorder();
    const plain = webhookFetchHandler({ secret: SECRET, onEvent: all.onEvent, dedupe: false });
    await plain(deliveryRequest(["a", "a"]));
    await plain(deliveryRequest(["a"]));
    expect(all.ids()).toEqual(["a", "a", "a"]);
  });

  it("honours a pluggable async store, shared by two handlers (two processes): each event handed over once", async () => {
    const shared = new Map<string, true>();
    const calls: string[] = [];
    const store: DedupeStore = {
      async claim(id) {
        calls.push(`claim ${id}`);
        await new Promise((resolve) => setTimeout(resolve, 1));
        if (shared.has(id)) return false;
        shared.set(id, true);
        return true;
      },
      async release(id) {
        calls.push(`release ${id}`);
        shared.delete(id);
      },
    };
    const r = recorder();
    const one = webhookFetchHandler({ secret: SECRET, onEvent: r.onEvent, dedupe: store });
    const two = webhookFetchHandler({ secret: SECRET, onEvent: r.onEvent, dedupe: store });
    expect((await one(deliveryRequest(["x1", "x2"]))).status).toBe(200);
    expect((await two(deliveryRequest(["x2", "x3"]))).status).toBe(200);
    expect(r.ids()).toEqual(["x1", "x2", "x3"]);
    expect(calls).toEqual(["claim x1", "claim x2", "claim x2", "claim x3"]);
    // A store that fails: 500, so that Klaviyo retries; nothing handed over.
    const broken = webhookFetchHandler({
      secret: SECRET,
      onEvent: r.onEvent,
      dedupe: { claim: () => Promise.reject(new Error("store down")) },
    });
    const res = await broken(deliveryRequest(["x9"]));
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: string }).error).toBe("dedupe_failed");
    expect(r.ids()).toEqual(["x1", "x2", "x3"]);
    // A store failing midway: the claims it made are released, so that the retry hands every event over.
    let down = true;
    const flaky: DedupeStore = {
      claim: (id) => {
        if (down && id === "y2") throw new Error("store down");
        return store.claim(id);
      },
      release: (id) => store.release?.(id),
    };
    const midway = webhookFetchHandler({ secret: SECRET, onEvent: r.onEvent, dedupe: flaky });
    expect((await midway(deliveryRequest(["y1", "y2"]))).status).toBe(500);
    down = false;
    expect((await midway(deliveryRequest(["y1", "y2"]))).status).toBe(200);
    expect(r.ids()).toEqual(["x1", "x2", "x3", "y1", "y2"]);
  });

  it("a throwing onEvent answers 500; Klaviyo's retry hands over the events not finished, not the others", async () => {
    const handled: string[] = [];
    let failOn: string | undefined = "b";
    const errors: unknown[] = [];
    const handle = webhookFetchHandler({
      secret: SECRET,
      onEvent: (e) => {
        if (e.external_id === failOn) throw new Error(`cannot handle ${e.external_id}: ${SECRET}`);
        handled.push(e.external_id);
      },
      onError: (error) => errors.push(error),
    });
    const failed = await handle(deliveryRequest(["a", "b", "c"]));
    expect(failed.status).toBe(500);
    const answer = await failed.text();
    expect(answer).toContain("handler_failed");
    // What the callback threw goes to onError, not into the answer.
    expect(answer).not.toContain(SECRET);
    expect(errors).toHaveLength(1);
    failOn = undefined;
    expect((await handle(deliveryRequest(["a", "b", "c"]))).status).toBe(200);
    expect(handled).toEqual(["a", "b", "c"]);
  });

  it("a throwing onDelivery answers 500 and the retry hands the whole batch over again", async () => {
    let fail = true;
    const r = recorder();
    const handle = webhookFetchHandler({
      secret: SECRET,
      onDelivery: (delivery, fresh) => {
        if (fail) throw new Error("down");
        r.onDelivery(delivery, fresh);
      },
    });
    expect((await handle(deliveryRequest(["a", "b"]))).status).toBe(500);
    fail = false;
    expect((await handle(deliveryRequest(["a", "b"]))).status).toBe(200);
    expect(r.deliveries.map((d) => d.fresh.map((e) => e.external_id))).toEqual([["a", "b"]]);
  });

  it("rotation: deliveries signed with either of two secrets are accepted; a third is refused", async () => {
    const r = recorder();
    const handle = webhookFetchHandler({
      secret: ["whsec_old_secret_1", "whsec_new_secret_2"],
      onEvent: r.onEvent,
    });
    expect((await handle(deliveryRequest(["o"], "whsec_old_secret_1"))).status).toBe(200);
    expect((await handle(deliveryRequest(["n"], "whsec_new_secret_2"))).status).toBe(200);
    expect((await handle(deliveryRequest(["x"], "whsec_other_secret"))).status).toBe(401);
    expect(r.ids()).toEqual(["o", "n"]);
  });

  it("refuses to be made without a secret, or with an empty one, or a bad limit", () => {
    expect(() => webhookFetchHandler({ secret: "" })).toThrow(/secret/);
    expect(() => webhookFetchHandler({ secret: [] })).toThrow(/secret/);
    expect(() => webhookNodeHandler({ secret: SECRET, maxBodyBytes: 0 })).toThrow(/maxBodyBytes/);
  });
});

describe("memoryDedupeStore", () => {
  it("claims once; past max, forgets the oldest claim first; a release forgets one claim", () => {
    const store = memoryDedupeStore({ max: 3 });
    expect(["a", "b", "c", "a"].map((id) => store.claim(id))).toEqual([true, true, true, false]);
    expect(store.claim("d")).toBe(true); // a, the oldest, is forgotten
    expect(["b", "c", "d"].map((id) => store.claim(id))).toEqual([false, false, false]);
    expect(store.claim("a")).toBe(true); // b goes
    expect(store.claim("b")).toBe(true); // c goes
    expect(store.claim("d")).toBe(false);
    store.release?.("d");
    expect(store.claim("d")).toBe(true);
    expect(() => memoryDedupeStore({ max: 0 })).toThrow(RangeError);
  });
});

/** Sends a raw request to a node server: the body in the chunks given, no Content-Length when `chunked`. */
function send(
  url: string,
  init: {
    method?: string;
    headers?: Record<string, string>;
    chunks?: Array<string | Uint8Array>;
    chunked?: boolean;
  },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const chunks = init.chunks ?? [];
    const length = chunks.reduce(
      (n, c) => n + (typeof c === "string" ? Buffer.byteLength(c) : c.byteLength),
      0,
    );
    const req = httpRequest(
      url,
      {
        method: init.method ?? "POST",
        headers: { ...init.headers, ...(init.chunked ? {} : { "content-length": String(length) }) },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (c: Buffer) => parts.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString("utf8") }),
        );
      },
    );
    req.on("error", reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe("webhookNodeHandler, behind a real node:http server", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("keeps the raw body byte-exact across chunks (a multi-byte character split between two) and hands it over", async () => {
    const r = recorder();
    const handle = webhookNodeHandler({ secret: SECRET, onEvent: r.onEvent });
    server = await startServer((req, res) => void handle(req, res));
    const body = `{"data":[{"topic":"event:api.x","external_id":"☃-1","payload":{"data":{"type":"event","id":"☃-1","attributes":{"event_properties":{"s":"snow ☃ man"}}}}}],"meta":{"klaviyo_account_id":"A","klaviyo_webhook_id":"${WEBHOOK_ID}","timestamp":"t","version":"v"}}`;
    const bytes = Buffer.from(body, "utf8");
    const at = bytes.indexOf(Buffer.from("☃")) + 1; // inside the snowman's three bytes
    const res = await send(`${server.url}/hooks/klaviyo`, {
      headers: signedByHand(bytes),
      chunks: [bytes.subarray(0, at), bytes.subarray(at)],
      chunked: true,
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ received: 1, handled: 1 });
    expect(r.ids()).toEqual(["☃-1"]);
  });

  it("401 before onEvent on a forgery; 405; 413 by Content-Length and by counting; repeats dropped", async () => {
    const onEvent = vi.fn();
    const handle = webhookNodeHandler({ secret: SECRET, onEvent, maxBodyBytes: 1500 });
    server = await startServer((req, res) => void handle(req, res));
    const { body, headers } = signDelivery(deliveryOf(["n1"]), SECRET, NOW);
    const forged = await send(server.url, { headers, chunks: [body.replace("n1", "n2")] });
    expect(forged.status).toBe(401);
    expect(JSON.parse(forged.body).error).toBe("bad_signature");
    expect(onEvent).not.toHaveBeenCalled();
    expect((await send(server.url, { method: "GET" })).status).toBe(405);
    const big = signDelivery(deliveryOf(Array.from({ length: 20 }, (_, i) => `n${i}`)), SECRET, NOW);
    expect((await send(server.url, { headers: big.headers, chunks: [big.body] })).status).toBe(413);
    const halves = [big.body.slice(0, 800), big.body.slice(800)];
    expect((await send(server.url, { headers: big.headers, chunks: halves, chunked: true })).status).toBe(
      413,
    );
    expect(onEvent).not.toHaveBeenCalled();
    expect((await send(server.url, { headers, chunks: [body] })).status).toBe(200);
    expect((await send(server.url, { headers, chunks: [body] })).status).toBe(200);
    expect(onEvent).toHaveBeenCalledTimes(1);
  });

  it("takes a body an express.raw() parser already read; refuses (500, saying why) one already parsed as JSON", async () => {
    const r = recorder();
    const handle = webhookNodeHandler({ secret: SECRET, onEvent: r.onEvent });
    let parse: "raw" | "json" = "raw";
    server = await startServer((req, res) => {
      const parts: Buffer[] = [];
      req.on("data", (c: Buffer) => parts.push(c));
      req.on("end", () => {
        const raw = Buffer.concat(parts);
        (req as typeof req & { body: unknown }).body =
          parse === "raw" ? raw : JSON.parse(raw.toString("utf8"));
        void handle(req, res);
      });
    });
    const { body, headers } = signDelivery(deliveryOf(["p1"]), SECRET, NOW);
    expect((await send(server.url, { headers, chunks: [body] })).status).toBe(200);
    expect(r.ids()).toEqual(["p1"]);
    parse = "json";
    const parsed = await send(server.url, { headers, chunks: [body] });
    expect(parsed.status).toBe(500);
    expect(JSON.parse(parsed.body).detail).toMatch(/already parsed.*express\.raw/);
  });
});

describe("flow-webhook receivers (unsigned: a secret token in the URL)", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    vi.restoreAllMocks();
  });

  it("flowWebhookToken: 32 random bytes, base64url; the token found in the query or the last path segment", () => {
    const a = flowWebhookToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, "base64url")).toHaveLength(32);
    expect(flowWebhookToken()).not.toBe(a);
    expect(flowWebhookTokenOf(`/hooks/flow/${a}`)).toBe(a);
    expect(flowWebhookTokenOf(`https://x.example/hooks/flow?token=${a}&z=1`)).toBe(a);
    expect(flowWebhookTokenOf("/hooks/flow/")).toBe("");
  });

  it("fetch: the right token (path or query) hands the JSON body over; a wrong or missing one is 401, before anything is read", async () => {
    const token = flowWebhookToken();
    const payloads: unknown[] = [];
    const handle = flowWebhookFetchHandler({ token, onPayload: (body) => void payloads.push(body) });
    const post = (url: string, body = '{"email":"ada@example.com","n":1}', type = "application/json") =>
      handle(new Request(url, { method: "POST", body, headers: { "content-type": type } }));
    expect((await post(`https://h.example/hooks/flow/${token}`)).status).toBe(200);
    expect((await post(`https://h.example/hooks/flow?token=${token}`)).status).toBe(200);
    expect((await post(`https://h.example/hooks/flow/${token}`, "plain words", "text/plain")).status).toBe(
      200,
    );
    expect(payloads).toEqual([
      { email: "ada@example.com", n: 1 },
      { email: "ada@example.com", n: 1 },
      "plain words",
    ]);
    const wrong = [
      `https://h.example/hooks/flow/${token.slice(0, -1)}`,
      `https://h.example/hooks/flow/${token}x`,
      `https://h.example/hooks/flow/${token.toLowerCase() === token ? token.toUpperCase() : token.toLowerCase()}`,
      "https://h.example/hooks/flow/",
      "https://h.example/hooks/flow?token=",
      `https://h.example/hooks/flow?token=nope&t=${token}`,
    ];
    for (const url of wrong) {
      const request = new Request(url, {
        method: "POST",
        body: '{"email":"ada@example.com","n":1}',
        headers: { "content-type": "application/json" },
      });
      const res = await handle(request);
      expect(res.status, url).toBe(401);
      expect(await res.text()).not.toContain(token);
      // Refused before anything is read: the body is untouched.
      expect(request.bodyUsed, url).toBe(false);
    }
    expect(payloads).toHaveLength(3);
    expect((await post(`https://h.example/hooks/flow/${token}`, "{not json")).status).toBe(400);
    expect((await handle(new Request(`https://h.example/hooks/flow/${token}`))).status).toBe(405);
    expect((await handle(new Request("https://h.example/hooks/flow/wrong"))).status).toBe(401);
  });

  it("compares tokens as equal-length digests in constant time, whatever the length of what was given", async () => {
    const crypto = process.getBuiltinModule("node:crypto");
    const compare = vi.spyOn(crypto, "timingSafeEqual");
    const token = flowWebhookToken();
    const handle = flowWebhookFetchHandler({ token, onPayload: () => {} });
    for (const given of ["x", token.slice(0, 10), `${token}${token}`]) {
      compare.mockClear();
      expect((await handle(new Request(`https://h.example/f/${given}`, { method: "POST" }))).status).toBe(
        401,
      );
      expect(compare).toHaveBeenCalledTimes(1);
      const [a, b] = compare.mock.calls[0] as [Uint8Array, Uint8Array];
      expect([a.byteLength, b.byteLength]).toEqual([32, 32]);
    }
  });

  it("node: right token accepted, wrong and missing ones 401, a throwing onPayload 500 (Klaviyo retries)", async () => {
    const token = flowWebhookToken();
    const payloads: unknown[] = [];
    let fail = false;
    const handle = flowWebhookNodeHandler({
      token: [flowWebhookToken(), token],
      onPayload: (body, req) => {
        if (fail) throw new Error("down");
        payloads.push({ body, path: req.url });
      },
    });
    server = await startServer((req, res) => void handle(req, res));
    const json = { "content-type": "application/json; charset=utf-8" };
    expect(
      (await send(`${server.url}/flow/${token}`, { headers: json, chunks: ['{"a":', '"ü"}'] })).status,
    ).toBe(200);
    expect(payloads).toEqual([{ body: { a: "ü" }, path: `/flow/${token}` }]);
    expect(
      (await send(`${server.url}/flow/not-the-token-at-all`, { headers: json, chunks: ["{}"] })).status,
    ).toBe(401);
    expect((await send(`${server.url}/flow/`, { headers: json, chunks: ["{}"] })).status).toBe(401);
    expect((await send(`${server.url}/flow?token=${token}`, { method: "PUT", chunks: ["{}"] })).status).toBe(
      405,
    );
    fail = true;
    expect((await send(`${server.url}/flow?token=${token}`, { headers: json, chunks: ["{}"] })).status).toBe(
      500,
    );
    expect(payloads).toHaveLength(1);
  });

  it("refuses tokens too short or that a URL cannot carry as they are", () => {
    expect(() => flowWebhookFetchHandler({ token: "short", onPayload: () => {} })).toThrow(/16 characters/);
    expect(() =>
      flowWebhookFetchHandler({ token: "has a space in it, long", onPayload: () => {} }),
    ).toThrow();
    expect(() => flowWebhookNodeHandler({ token: [], onPayload: () => {} })).toThrow();
  });
});
