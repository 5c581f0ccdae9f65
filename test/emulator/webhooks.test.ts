/**
 * The emulator's Webhooks API (CRUD, topics, the access switch), over real HTTP, its answers held against
 * Klaviyo's OpenAPI document.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import {
  createEmulator,
  DEV_API_KEY,
  type RunningEmulator,
  SEED_ACCOUNT_ID,
  WEBHOOK_ACCESS_DETAIL,
} from "../../src/emulator/index.js";
import { CONSENT_METRICS, topicOfMetric } from "../../src/klaviyo/webhooks.js";
import { checkedFetch } from "../helpers/contract.js";
import { type KlaviyoErrorEntry, klaviyoHeaders, servedEmulators } from "./helpers.js";

/**
 * The URL a `klaviyo emulator` child prints on its whole `listening on URL` line, however stdout splits it into
 * chunks; refused if the child exits first or prints no such line within 15 s (then it is killed), so a test never
 * hangs on it.
 */
function listeningUrl(child: ChildProcess): Promise<string> {
  const stdout = child.stdout as NodeJS.ReadableStream;
  let out = "";
  return new Promise<string>((resolve, reject) => {
    const finish = (error: Error | undefined, url?: string) => {
      clearTimeout(timer);
      stdout.off("data", onData);
      child.off("exit", onExit);
      if (error) reject(error);
      else resolve(url as string);
    };
    const onData = (chunk: Buffer) => {
      out += String(chunk);
      const url = /listening on (\S+)\r?\n/.exec(out)?.[1];
      if (url) finish(undefined, url);
    };
    const onExit = (code: number | null, signal: string | null) =>
      finish(new Error(`the emulator exited (${code ?? signal}) before listening: ${out}`));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      finish(new Error(`no "listening on" line within 15 s: ${out}`));
    }, 15_000);
    stdout.on("data", onData);
    child.once("exit", onExit);
  });
}

const JSON_API = "application/vnd.api+json";
const SECRET = "whsec-test-0123456789-abcdef";
const CUSTOM = "event:api.placed_order";
const SUBSCRIBED_EMAIL = topicOfMetric(CONSENT_METRICS.subscribedEmail, "klaviyo");

const start = servedEmulators({ rateLimits: "off" });

type Json = Record<string, unknown>;
interface Answer {
  status: number;
  text: string;
  body: Json & { data?: unknown; included?: Json[]; errors?: KlaviyoErrorEntry[] };
}

/** A call of the Webhooks API (or any other) over HTTP; `strict: false` for requests the document forbids. */
async function api(
  r: RunningEmulator,
  method: string,
  path: string,
  body?: unknown,
  options: { strict?: boolean } = {},
): Promise<Answer> {
  const via = checkedFetch(fetch, { requests: options.strict ?? true });
  const res = await via(`${r.url}${path}`, {
    method,
    headers: klaviyoHeaders(DEV_API_KEY, body === undefined ? {} : { "Content-Type": JSON_API }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, text, body: text ? (JSON.parse(text) as Answer["body"]) : {} };
}

function webhookBody(
  url: string,
  topics: readonly string[],
  attributes: Json = {},
): { data: Json & { attributes: Json } } {
  return {
    data: {
      type: "webhook",
      attributes: { name: "Orders", endpoint_url: url, secret_key: SECRET, ...attributes },
      relationships: { "webhook-topics": { data: topics.map((id) => ({ type: "webhook-topic", id })) } },
    },
  };
}

function eventBody(metric: string, email = "ada@example.com", uniqueId = "order-1"): unknown {
  return {
    data: {
      type: "event",
      attributes: {
        properties: { OrderId: uniqueId },
        unique_id: uniqueId,
        metric: { data: { type: "metric", attributes: { name: metric } } },
        profile: { data: { type: "profile", attributes: { email } } },
      },
    },
  };
}

/** Makes the account's custom metric `Placed Order` (so `event:api.placed_order` is a topic). */
async function placeOrder(r: RunningEmulator, uniqueId = "order-0"): Promise<void> {
  expect(
    (await api(r, "POST", "/api/events", eventBody("Placed Order", "ada@example.com", uniqueId))).status,
  ).toBe(202);
}

function errorOf(answer: Answer): KlaviyoErrorEntry {
  expect(answer.body.errors).toHaveLength(1);
  return answer.body.errors?.[0] as KlaviyoErrorEntry;
}

function dataOf(answer: Answer): Json & { id: string; attributes: Json; relationships: Json; links: Json } {
  return answer.body.data as Json & { id: string; attributes: Json; relationships: Json; links: Json };
}

describe("Create, Get, Update and Delete Webhook", () => {
  it("creates an enabled webhook, answering with the endpoint truncated, the topics, and never the secret", async () => {
    const r = await start({ clock: { now: () => Date.parse("2026-07-20T12:00:00Z") } });
    await placeOrder(r);
    const url = "https://hooks.example.com/klaviyo/orders?token=abc123";
    const created = await api(
      r,
      "POST",
      "/api/webhooks",
      webhookBody(url, [CUSTOM, SUBSCRIBED_EMAIL], { description: "Order events" }),
    );
    expect(created.status).toBe(201);
    const data = dataOf(created);
    expect(data.type).toBe("webhook");
    expect(data.attributes).toEqual({
      name: "Orders",
      description: "Order events",
      endpoint_url: "https://hooks.example.com/*****",
      enabled: true,
      created_at: "2026-07-20T12:00:00+00:00",
      updated_at: "2026-07-20T12:00:00+00:00",
    });
    expect(data.relationships["webhook-topics"]).toEqual({
      data: [
        { type: "webhook-topic", id: CUSTOM },
        { type: "webhook-topic", id: SUBSCRIBED_EMAIL },
      ],
      links: {
        self: `${r.url}/api/webhooks/${data.id}/relationships/webhook-topics/`,
        related: `${r.url}/api/webhooks/${data.id}/webhook-topics/`,
      },
    });
    expect(data.links).toEqual({ self: `${r.url}/api/webhooks/${data.id}/` });

    const one = await api(r, "GET", `/api/webhooks/${data.id}`);
    expect(one.status).toBe(200);
    expect(dataOf(one)).toEqual(data);
    expect(one.body.included).toBeUndefined();
    const withTopics = await api(r, "GET", `/api/webhooks/${data.id}?include=webhook-topics`);
    expect(withTopics.body.included).toEqual([
      {
        type: "webhook-topic",
        id: CUSTOM,
        links: { self: `${r.url}/api/webhook-topics/${encodeURIComponent(CUSTOM)}/` },
      },
      {
        type: "webhook-topic",
        id: SUBSCRIBED_EMAIL,
        links: { self: `${r.url}/api/webhook-topics/${encodeURIComponent(SUBSCRIBED_EMAIL)}/` },
      },
    ]);
    const list = await api(r, "GET", "/api/webhooks?include=webhook-topics&fields[webhook]=name,enabled");
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([
      {
        type: "webhook",
        id: data.id,
        attributes: { name: "Orders", enabled: true },
        relationships: data.relationships,
        links: data.links,
      },
    ]);
    expect(list.body.included).toHaveLength(2);
    expect(list.body.links).toEqual({
      self: `${r.url}/api/webhooks?include=webhook-topics&fields%5Bwebhook%5D=name%2Cenabled`,
    });

    // Neither the secret nor the URL's token in any answer, nor in the request log (the body is logged masked).
    for (const answer of [created, one, withTopics, list]) {
      expect(answer.text).not.toContain(SECRET);
      expect(answer.text).not.toContain("abc123");
    }
    const log = JSON.stringify(r.emulator.requests);
    expect(log).not.toContain(SECRET);
    expect(r.emulator.requests.find((q) => q.operationId === "create_webhook")?.body).toMatchObject({
      data: { attributes: { secret_key: "[REDACTED]", name: "Orders" } },
    });
  });

  it("updates name, description, endpoint, secret, enabled and topics; deletes; 404 after", async () => {
    let now = Date.parse("2026-07-20T12:00:00Z");
    const r = await start({ clock: { now: () => now } });
    await placeOrder(r);
    const id = dataOf(
      await api(r, "POST", "/api/webhooks", webhookBody("https://a.example.com/x", [CUSTOM])),
    ).id;
    now += 60_000;
    const patched = await api(r, "PATCH", `/api/webhooks/${id}`, {
      data: {
        type: "webhook",
        id,
        attributes: {
          name: "Consent",
          description: "now consent",
          endpoint_url: "https://b.example.com/y",
          secret_key: "another-secret-value",
          enabled: false,
        },
        relationships: { "webhook-topics": { data: [{ type: "webhook-topic", id: SUBSCRIBED_EMAIL }] } },
      },
    });
    expect(patched.status).toBe(200);
    expect(dataOf(patched).attributes).toEqual({
      name: "Consent",
      description: "now consent",
      endpoint_url: "https://b.example.com/*****",
      enabled: false,
      created_at: "2026-07-20T12:00:00+00:00",
      updated_at: "2026-07-20T12:01:00+00:00",
    });
    expect(patched.text).not.toContain("another-secret-value");
    expect((dataOf(patched).relationships["webhook-topics"] as Json).data).toEqual([
      { type: "webhook-topic", id: SUBSCRIBED_EMAIL },
    ]);
    const row = r.emulator.state.webhooks.get(id);
    expect(row?.secretKey).toBe("another-secret-value");
    expect(row?.endpointUrl).toBe("https://b.example.com/y");

    // Only what is given changes; a null description clears it, a null name leaves it.
    const partial = await api(r, "PATCH", `/api/webhooks/${id}`, {
      data: { type: "webhook", id, attributes: { enabled: true, description: null, name: null } },
    });
    expect(dataOf(partial).attributes).toMatchObject({ name: "Consent", description: null, enabled: true });
    expect(row?.topics).toEqual([SUBSCRIBED_EMAIL]);

    expect((await api(r, "DELETE", `/api/webhooks/${id}`)).status).toBe(204);
    for (const [method, body] of [
      ["GET", undefined],
      ["DELETE", undefined],
      ["PATCH", { data: { type: "webhook", id, attributes: { name: "x" } } }],
    ] as const) {
      const gone = await api(r, method, `/api/webhooks/${id}`, body);
      expect(gone.status, method).toBe(404);
      expect(errorOf(gone)).toMatchObject({
        code: "not_found",
        detail: `A webhook with id '${id}' does not exist.`,
      });
    }
    expect((await api(r, "GET", "/api/webhooks")).body.data).toEqual([]);
  });

  it("refuses a URL that is not https (http only on loopback), an unknown topic, no topics, a missing secret", async () => {
    const r = await start();
    await placeOrder(r);
    const cases: Array<[string, unknown, string, RegExp]> = [
      [
        "http elsewhere",
        webhookBody("http://hooks.example.com/x", [CUSTOM]),
        "/data/attributes/endpoint_url",
        /https/,
      ],
      ["not a URL", webhookBody("hooks.example.com", [CUSTOM]), "/data/attributes/endpoint_url", /not a URL/],
      ["ftp", webhookBody("ftp://hooks.example.com/x", [CUSTOM]), "/data/attributes/endpoint_url", /https/],
      [
        "unknown topic",
        webhookBody("https://hooks.example.com/x", [CUSTOM, "event:api.never_recorded"]),
        "/data/relationships/webhook-topics/data/1/id",
        /'event:api.never_recorded' is not a webhook topic/,
      ],
      [
        "no topics",
        webhookBody("https://hooks.example.com/x", []),
        "/data/relationships/webhook-topics/data",
        /at least one topic/,
      ],
      [
        "blank secret",
        webhookBody("https://hooks.example.com/x", [CUSTOM], { secret_key: " " }),
        "/data/attributes/secret_key",
        /secret_key may not be blank/,
      ],
    ];
    for (const [name, body, pointer, detail] of cases) {
      const answer = await api(r, "POST", "/api/webhooks", body);
      expect(answer.status, name).toBe(400);
      expect(errorOf(answer), name).toMatchObject({ code: "invalid", source: { pointer } });
      expect(errorOf(answer).detail, name).toMatch(detail);
      expect(answer.text).not.toContain(SECRET);
    }
    const noSecret = webhookBody("https://hooks.example.com/x", [CUSTOM]);
    delete noSecret.data.attributes.secret_key;
    const missing = await api(r, "POST", "/api/webhooks", noSecret, { strict: false });
    expect(missing.status).toBe(400);
    expect(errorOf(missing).source).toEqual({ pointer: "/data/attributes/secret_key" });
    const noRelationships = webhookBody("https://hooks.example.com/x", [CUSTOM]);
    delete noRelationships.data.relationships;
    expect((await api(r, "POST", "/api/webhooks", noRelationships, { strict: false })).status).toBe(400);
    // A topic of the wrong type is a JSON:API conflict.
    const wrongType = webhookBody("https://hooks.example.com/x", [CUSTOM]);
    wrongType.data.relationships = { "webhook-topics": { data: [{ type: "metric", id: CUSTOM }] } };
    const conflict = await api(r, "POST", "/api/webhooks", wrongType, { strict: false });
    expect(conflict.status).toBe(409);
    expect(errorOf(conflict).source).toEqual({ pointer: "/data/relationships/webhook-topics/data/0/type" });
    // Nothing was made; loopback http is the emulator's allowance for local development.
    expect(r.emulator.state.webhooks.size).toBe(0);
    for (const host of ["127.0.0.1:9", "localhost:9", "[::1]:9"]) {
      const ok = await api(r, "POST", "/api/webhooks", webhookBody(`http://${host}/hook`, [CUSTOM]));
      expect(ok.status, host).toBe(201);
    }
  });

  it("PATCH: the body's id must be the path's; a bad endpoint or unknown topic changes nothing", async () => {
    const r = await start();
    await placeOrder(r);
    const id = dataOf(
      await api(r, "POST", "/api/webhooks", webhookBody("https://a.example.com/x", [CUSTOM])),
    ).id;
    const mismatch = await api(r, "PATCH", `/api/webhooks/${id}`, {
      data: { type: "webhook", id: "01OTHER", attributes: { name: "x" } },
    });
    expect(mismatch.status).toBe(400);
    expect(errorOf(mismatch).source).toEqual({ pointer: "/data/id" });
    const badUrl = await api(r, "PATCH", `/api/webhooks/${id}`, {
      data: { type: "webhook", id, attributes: { name: "x", endpoint_url: "http://example.com/" } },
    });
    expect(badUrl.status).toBe(400);
    const badTopic = await api(r, "PATCH", `/api/webhooks/${id}`, {
      data: {
        type: "webhook",
        id,
        attributes: { name: "x" },
        relationships: { "webhook-topics": { data: [{ type: "webhook-topic", id: "event:api.nope" }] } },
      },
    });
    expect(badTopic.status).toBe(400);
    expect(dataOf(await api(r, "GET", `/api/webhooks/${id}`)).attributes.name).toBe("Orders");
  });
});

describe("Get Webhook Topics", () => {
  it("lists Klaviyo's topics and one per metric of the account, a custom one as event:api.*", async () => {
    const r = await start();
    const before = await api(r, "GET", "/api/webhook-topics");
    expect(before.status).toBe(200);
    const ids = (before.body.data as Json[]).map((t) => t.id);
    for (const name of Object.values(CONSENT_METRICS)) expect(ids).toContain(topicOfMetric(name, "klaviyo"));
    expect(ids).toContain("event:klaviyo.received_email");
    expect(ids).toContain("event:klaviyo.sent_sms");
    expect(ids).not.toContain(CUSTOM);
    expect(before.body.data).toContainEqual({
      type: "webhook-topic",
      id: "event:klaviyo.received_email",
      links: { self: `${r.url}/api/webhook-topics/event%3Aklaviyo.received_email/` },
    });
    expect(new Set(ids).size).toBe(ids.length);

    expect((await api(r, "GET", `/api/webhook-topics/${CUSTOM}`)).status).toBe(404);
    await placeOrder(r);
    const after = (await api(r, "GET", "/api/webhook-topics")).body.data as Json[];
    expect(after.map((t) => t.id)).toEqual([...ids, CUSTOM]);
    for (const path of [CUSTOM, encodeURIComponent(CUSTOM)]) {
      const one = await api(r, "GET", `/api/webhook-topics/${path}`);
      expect(one.status).toBe(200);
      expect(one.body.data).toEqual({
        type: "webhook-topic",
        id: CUSTOM,
        links: { self: `${r.url}/api/webhook-topics/event%3Aapi.placed_order/` },
      });
    }
    const unknown = await api(r, "GET", "/api/webhook-topics/event:klaviyo.nope");
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown).code).toBe("not_found");
  });
});

describe("an account without webhook access", () => {
  it("answers every Webhooks API operation 403 permission_denied, until access is given", async () => {
    const r = await start({ webhookAccess: false });
    expect(r.emulator.webhookAccess).toBe(false);
    const body = webhookBody("https://a.example.com/x", [SUBSCRIBED_EMAIL]);
    const calls: Array<[string, string, unknown]> = [
      ["GET", "/api/webhooks", undefined],
      ["POST", "/api/webhooks", body],
      ["GET", "/api/webhooks/01ABC", undefined],
      ["PATCH", "/api/webhooks/01ABC", { data: { type: "webhook", id: "01ABC", attributes: { name: "x" } } }],
      ["DELETE", "/api/webhooks/01ABC", undefined],
      ["GET", "/api/webhook-topics", undefined],
      ["GET", `/api/webhook-topics/${SUBSCRIBED_EMAIL}`, undefined],
    ];
    for (const [method, path, payload] of calls) {
      const answer = await api(r, method, path, payload);
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(errorOf(answer)).toMatchObject({ code: "permission_denied", detail: WEBHOOK_ACCESS_DETAIL });
    }
    expect(r.emulator.state.webhooks.size).toBe(0);
    // Other operations are not affected.
    expect((await api(r, "GET", "/api/accounts")).status).toBe(200);

    // The admin route gives access back (and takes it away again).
    const put = await fetch(`${r.url}/__emulator/webhooks/access`, {
      method: "PUT",
      body: '{"enabled":true}',
    });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ enabled: true });
    expect((await api(r, "GET", "/api/webhook-topics")).status).toBe(200);
    r.emulator.setWebhookAccess(false);
    expect((await api(r, "GET", "/api/webhook-topics")).status).toBe(403);
    const bad = await fetch(`${r.url}/__emulator/webhooks/access`, {
      method: "PUT",
      body: '{"enabled":"yes"}',
    });
    expect(bad.status).toBe(400);
    expect(r.emulator.webhookAccess).toBe(false);
  });
});

describe("webhooks in the data file", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("persist with the other tables, and come back", async () => {
    const dir = mkdtempSync(join(tmpdir(), "klaviyo-webhooks-"));
    dirs.push(dir);
    const dataFile = join(dir, "state.json");
    const first = await start({ dataFile });
    await placeOrder(first);
    const id = dataOf(
      await api(first, "POST", "/api/webhooks", webhookBody("https://a.example.com/x", [CUSTOM])),
    ).id;
    first.emulator.flush();
    await first.close();
    expect(JSON.parse(readFileSync(dataFile, "utf8")).webhooks).toHaveLength(1);
    const second = await start({ dataFile });
    const again = await api(second, "GET", `/api/webhooks/${id}?include=webhook-topics`);
    expect(again.status).toBe(200);
    expect(dataOf(again).attributes.endpoint_url).toBe("https://a.example.com/*****");
    expect(second.emulator.state.webhooks.get(id)?.secretKey).toBe(SECRET);
  });
});

describe("the admin view of an account", () => {
  it("health counts webhooks among the resources", async () => {
    const r = await start();
    await placeOrder(r);
    await api(r, "POST", "/api/webhooks", webhookBody("https://a.example.com/x", [CUSTOM]));
    const health = (await (await fetch(`${r.url}/__emulator/health`)).json()) as { resources: Json };
    expect(health.resources.webhooks).toBe(1);
    expect(SEED_ACCOUNT_ID).toBe(r.emulator.account.id);
  });
});

describe("the process around an emulator", () => {
  const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

  it("exits while a delivery waits for a retry (the timers do not hold it)", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", fixture("webhook-pending-exit.ts")], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk) => {
      stdout += String(chunk);
    });
    child.stderr?.on("data", (chunk) => {
      stderr += String(chunk);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const [code, signal] = await once(child, "exit");
    clearTimeout(timer);
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: "" });
    expect(stdout.trim()).toBe("retrying");
  }, 30_000);

  it("`klaviyo emulator --no-webhook-access` serves an account without webhook access", async () => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", fixture("klaviyo-cli.ts"), "emulator", "--port", "0", "--no-webhook-access"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const exited = once(child, "exit");
    try {
      const url = await listeningUrl(child);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${url}/api/webhook-topics`, { headers: klaviyoHeaders() });
      expect(res.status).toBe(403);
      const body = (await res.json()) as { errors: KlaviyoErrorEntry[] };
      expect(body.errors[0]).toMatchObject({ code: "permission_denied", detail: WEBHOOK_ACCESS_DETAIL });
      const accounts = await fetch(`${url}/api/accounts`, { headers: klaviyoHeaders() });
      expect(accounts.status).toBe(200);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    }
  }, 30_000);
});

describe("the secret never comes back", () => {
  /** Every string anywhere in a JSON value. */
  const strings = (value: unknown): string[] =>
    typeof value === "string"
      ? [value]
      : value && typeof value === "object"
        ? Object.values(value).flatMap(strings)
        : [];

  it("whatever the secret, no answer and no request log entry holds it (property)", async () => {
    const emulator = createEmulator({ rateLimits: "off" });
    const headers = klaviyoHeaders(DEV_API_KEY, { "Content-Type": JSON_API });
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await emulator.fetch(`${emulator.baseUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
    };
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: "grapheme", minLength: 12, maxLength: 40 }).filter((s) => s.trim() !== ""),
        fc.boolean(),
        async (secret, valid) => {
          emulator.reset();
          (emulator.requests as unknown[]).length = 0;
          const url = valid ? "https://hooks.example.com/x" : "http://hooks.example.com/x";
          const created = await call(
            "POST",
            "/api/webhooks",
            webhookBody(url, [SUBSCRIBED_EMAIL], { secret_key: secret }),
          );
          expect(created.status).toBe(valid ? 201 : 400);
          const answers = [created.body];
          if (valid) {
            const id = (created.body as { data: { id: string } }).data.id;
            const patch = { data: { type: "webhook", id, attributes: { secret_key: `${secret}-2` } } };
            answers.push((await call("PATCH", `/api/webhooks/${id}`, patch)).body);
            answers.push((await call("GET", `/api/webhooks/${id}`)).body);
          }
          for (const text of [...strings(answers), ...strings(emulator.requests)])
            expect(text.includes(secret)).toBe(false);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("bad delivery options are refused, naming the option", () => {
    expect(() => createEmulator({ webhookRetryDelaysMs: [10, -1] })).toThrow(/webhookRetryDelaysMs\[1\]/);
    expect(() => createEmulator({ webhookBatchWindowMs: Number.NaN })).toThrow(/webhookBatchWindowMs/);
    expect(() => createEmulator({ webhookTimeoutMs: 0 })).toThrow(/webhookTimeoutMs/);
    const emulator = createEmulator();
    expect(() => emulator.setWebhookAccess("no" as unknown as boolean)).toThrow(/true or false/);
    expect(emulator.webhookAccess).toBe(true);
  });
});
