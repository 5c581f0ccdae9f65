/**
 * The six webhook actions, run through real HTTP against the emulator on a loopback port, and the issue's "done
 * when": a webhook made by Create Webhook receives, for a profile subscribed by Subscribe Profiles, exactly one
 * delivery whose signature an independent HMAC over raw body + timestamp confirms and `verifyWebhook` accepts; a
 * disabled webhook receives nothing; a deleted one is a NotFoundError (404). Bad input is refused by label before
 * any request, and the Secret Key never comes back in a result or an error.
 */
import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type AnyAction, actionContext, validateInputs } from "../../src/actions/define.js";
import { getAction, runAction, runActionByKey } from "../../src/actions/index.js";
import { manifest } from "../../src/actions/manifest.js";
import { runDemo } from "../../src/cli/commands/demo.js";
import { apiKey } from "../../src/core/api-key.js";
import { KlaviyoClient } from "../../src/core/client.js";
import { BadRequestError, NotFoundError, PermissionDeniedError } from "../../src/core/errors.js";
import {
  DEV_API_KEY,
  type RunningEmulator,
  type StartOptions,
  startEmulator,
} from "../../src/emulator/index.js";
import { WEBHOOK_HEADERS, type WebhookDelivery } from "../../src/klaviyo/webhooks.js";
import { Runner } from "../../src/playground/runs.js";
import { verifyWebhook } from "../../src/webhooks/index.js";
import { runInProcess } from "../helpers/cli-in-process.js";
import { checkedFetch } from "../helpers/contract.js";
import { startServer } from "../helpers/servers.js";
import { ACTION_KEY, refused } from "./helpers.js";

const SECRET = "whsec_actions_d3adb33f_0123456789abcdef";
const CONSENT_TOPIC = "event:klaviyo.subscribed_to_email_marketing";

interface Received {
  raw: Buffer;
  headers: IncomingHttpHeaders;
}

const servers: Server[] = [];
const emulators: RunningEmulator[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  for (const running of emulators.splice(0)) await running.close();
});

/** A webhook endpoint on a loopback port keeping each request's raw bytes and headers; answers 200. */
async function receiver(): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ raw: Buffer.concat(chunks), headers: req.headers });
      res.writeHead(200).end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/klaviyo`, received };
}

/** The emulator on a port (tiny retry delays and batch window), and a client talking to it over TCP. */
async function setup(options: StartOptions = {}) {
  const running = await startEmulator({
    apiKeys: [{ key: ACTION_KEY }],
    rateLimits: "off",
    webhookRetryDelaysMs: [20, 40],
    webhookBatchWindowMs: 20,
    ...options,
  });
  emulators.push(running);
  const sent: Request[] = [];
  // Every request and answer held against Klaviyo's OpenAPI document, as the other action tests are.
  const checked = checkedFetch((input, init) => fetch(input, init));
  const client = new KlaviyoClient({
    apiKey: ACTION_KEY,
    baseUrl: running.url,
    rateLimiter: false,
    fetch: (input, init) => {
      sent.push(new Request(input, init));
      return checked(input, init);
    },
  });
  return {
    emulator: running.emulator,
    client,
    sent,
    run: <T = unknown>(key: string, inputs: Record<string, unknown> = {}) =>
      runActionByKey(key, inputs, { client }) as Promise<T>,
  };
}

interface WebhookDoc {
  data: {
    type: string;
    id: string;
    attributes: Record<string, unknown>;
    relationships?: { "webhook-topics"?: { data?: Array<{ type: string; id: string }> } };
  };
  included?: Array<{ type: string; id: string }>;
}

describe("the issue's done-when: a webhook made by Create Webhook, fed by Subscribe Profiles", () => {
  it("gets exactly one delivery, signed as Klaviyo signs; disabled it gets none; deleted it is 404", async () => {
    const { client, emulator } = await setup();
    const endpoint = await receiver();
    const created = await runAction(
      "create-webhook",
      { name: "Consent to CRM", endpointUrl: endpoint.url, secretKey: SECRET, topics: [CONSENT_TOPIC] },
      { client },
    );
    const webhookId = created.data.id;
    expect(created.data.attributes.enabled).toBe(true);

    await runAction("subscribe-profiles", { profiles: [{ email: "ada@example.com" }] }, { client });
    await emulator.settleWebhooks();
    expect(endpoint.received).toHaveLength(1);
    const [delivery] = endpoint.received as [Received];
    const timestamp = delivery.headers[WEBHOOK_HEADERS.timestamp.toLowerCase()] as string;
    // Independently of the library: HMAC-SHA256 keyed with the secret over the raw body, then the timestamp.
    const expected = createHmac("sha256", SECRET).update(delivery.raw).update(timestamp).digest("hex");
    expect(delivery.headers[WEBHOOK_HEADERS.signature.toLowerCase()]).toBe(expected);
    const verified: WebhookDelivery = verifyWebhook(delivery.raw, delivery.headers, SECRET);
    expect(verified.meta.klaviyo_webhook_id).toBe(webhookId);
    expect(verified.data).toHaveLength(1);
    const [event] = verified.data as [WebhookDelivery["data"][number]];
    expect(event.topic).toBe(CONSENT_TOPIC);
    expect(event.external_id).toBe(event.payload.data.id);
    // The payload is the event as Get Event returns it.
    const got = await runAction("get-event", { eventId: event.external_id }, { client });
    expect(event.payload.data).toEqual(got.data);

    const disabled = await runAction("update-webhook", { webhookId, enabled: false }, { client });
    expect(disabled.data.attributes.enabled).toBe(false);
    const attempts = emulator.webhookDeliveries.length;
    await runAction("subscribe-profiles", { profiles: [{ email: "grace@example.com" }] }, { client });
    await emulator.settleWebhooks();
    expect(endpoint.received).toHaveLength(1);
    expect(emulator.webhookDeliveries).toHaveLength(attempts);

    expect(await runAction("delete-webhook", { webhookId }, { client })).toEqual({
      deleted: true,
      id: webhookId,
    });
    const error = await runAction("get-webhook", { webhookId }, { client }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).status).toBe(404);
  });
});

describe("Create Webhook", () => {
  it("sends name, endpoint, secret, description and the topics as a relationship; never gets the secret back", async () => {
    const { run, sent } = await setup();
    const doc = await run<WebhookDoc>("create-webhook", {
      name: "Engagement",
      endpointUrl: "https://hooks.example.com/klaviyo/s3cr3t-path?token=abc",
      secretKey: SECRET,
      topics: [CONSENT_TOPIC, "event:klaviyo.received_email", CONSENT_TOPIC],
      description: "Opens and consent",
    });
    expect(await sent.at(-1)?.clone().json()).toEqual({
      data: {
        type: "webhook",
        attributes: {
          name: "Engagement",
          endpoint_url: "https://hooks.example.com/klaviyo/s3cr3t-path?token=abc",
          secret_key: SECRET,
          description: "Opens and consent",
        },
        relationships: {
          "webhook-topics": {
            data: [
              { type: "webhook-topic", id: CONSENT_TOPIC },
              { type: "webhook-topic", id: "event:klaviyo.received_email" },
            ],
          },
        },
      },
    });
    expect(doc.data.type).toBe("webhook");
    expect(doc.data.attributes).toMatchObject({
      name: "Engagement",
      description: "Opens and consent",
      enabled: true,
    });
    // Truncated to its host, as Klaviyo shows it: the path's token never comes back.
    expect(doc.data.attributes.endpoint_url).toBe("https://hooks.example.com/*****");
    expect(doc.data.relationships?.["webhook-topics"]?.data?.map((t) => t.id)).toEqual([
      CONSENT_TOPIC,
      "event:klaviyo.received_email",
    ]);
    expect(JSON.stringify(doc)).not.toContain(SECRET);
  });

  it("takes Topics as comma-separated text (the CLI's and the platforms' text fields); keeps the secret as given", async () => {
    const { client, sent } = await setup();
    const action = getAction("create-webhook") as AnyAction;
    const values = validateInputs(
      action,
      {
        name: "Text",
        endpointUrl: "https://hooks.example.com/x",
        secretKey: "  spaced secret  ",
        topics: `${CONSENT_TOPIC}, event:klaviyo.received_email`,
      },
      { text: true },
    );
    // The secret is a key: kept exactly as given, spaces and all.
    expect(values.secretKey).toBe("  spaced secret  ");
    expect(values.topics).toEqual([CONSENT_TOPIC, "event:klaviyo.received_email"]);
    const made = (await action.perform(actionContext(action, client), values)) as WebhookDoc;
    expect(made.data.relationships?.["webhook-topics"]?.data).toHaveLength(2);
    const body = (await sent.at(-1)?.clone().json()) as { data: { attributes: { secret_key: string } } };
    expect(body.data.attributes.secret_key).toBe("  spaced secret  ");
  });

  it("refuses by label, before any request: no Topics, a malformed topic, an empty Secret Key, a non-URL", async () => {
    const { run, sent } = await setup();
    const missing = await refused(
      run("create-webhook", { name: "x", endpointUrl: "https://hooks.example.com/x", secretKey: SECRET }),
    );
    expect(missing.message).toContain("Topics: is required");
    const bad = await refused(
      run("create-webhook", {
        name: "  ",
        endpointUrl: "hooks.example.com/x",
        secretKey: "   ",
        topics: ["subscribed_to_email_marketing"],
      }),
    );
    expect(bad.issues.map((i) => i.label).sort()).toEqual(["Endpoint URL", "Name", "Secret Key", "Topics"]);
    expect(bad.message).toContain("Secret Key: must not be blank");
    expect(bad.message).toContain('Topics: "subscribed_to_email_marketing" is not a topic ID');
    expect(bad.message).toContain("Endpoint URL: must be an http(s) URL");
    const empty = await refused(
      run("create-webhook", { name: "x", endpointUrl: "https://h.example/x", secretKey: "", topics: [] }),
    );
    expect(empty.message).toContain("Secret Key: is required");
    expect(empty.message).toContain("Topics: must hold at least one topic ID");
    expect(sent).toHaveLength(0);
  });

  it("what Klaviyo refuses (an http endpoint off loopback, a topic the account lacks) never quotes the secret", async () => {
    const { run } = await setup();
    for (const inputs of [
      { endpointUrl: "http://hooks.example.com/x", topics: [CONSENT_TOPIC] },
      { endpointUrl: "https://hooks.example.com/x", topics: ["event:api.no_such_metric"] },
    ]) {
      const error = await run("create-webhook", { name: "x", secretKey: SECRET, ...inputs }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BadRequestError);
      expect(JSON.stringify((error as BadRequestError).toJSON())).not.toContain(SECRET);
      expect((error as Error).message).not.toContain(SECRET);
    }
  });
});

describe("Get, List, Update and Delete Webhook; List Webhook Topics", () => {
  it("lists the account's topics, custom metrics' among them once they have events", async () => {
    const { run } = await setup();
    const before = await run<{ data: Array<{ type: string; id: string }>; pages: number }>(
      "list-webhook-topics",
    );
    expect(before.pages).toBe(1);
    expect(before.data.map((t) => t.id)).toContain(CONSENT_TOPIC);
    expect(before.data.every((t) => t.type === "webhook-topic")).toBe(true);
    expect(before.data.map((t) => t.id)).not.toContain("event:api.placed_order");
    await run("create-event", { name: "Placed Order", profile: { email: "ada@example.com" } });
    const after = await run<{ data: Array<{ id: string }> }>("list-webhook-topics");
    expect(after.data.map((t) => t.id)).toContain("event:api.placed_order");
  });

  it("reads, lists (topics included on request), updates (topics replaced, secret rotated, disabled) and deletes", async () => {
    const { run, sent } = await setup();
    const a = await run<WebhookDoc>("create-webhook", {
      name: "A",
      endpointUrl: "https://a.example/hook",
      secretKey: SECRET,
      topics: CONSENT_TOPIC,
    });
    await run("create-webhook", {
      name: "B",
      endpointUrl: "https://b.example/hook",
      secretKey: "another-secret-0123",
      topics: ["event:klaviyo.received_email"],
    });
    const got = await run<WebhookDoc>("get-webhook", { webhookId: a.data.id, includeTopics: true });
    expect(got.data.attributes).toMatchObject({
      name: "A",
      enabled: true,
      endpoint_url: "https://a.example/*****",
    });
    expect(got.included?.map((t) => t.id)).toEqual([CONSENT_TOPIC]);
    const listed = await run<{ data: WebhookDoc["data"][]; included?: unknown[]; pages: number }>(
      "list-webhooks",
    );
    expect(listed.data.map((w) => w.attributes.name).sort()).toEqual(["A", "B"]);
    expect(listed.included).toBeUndefined();
    const withTopics = await run<{ included?: Array<{ id: string }> }>("list-webhooks", {
      includeTopics: true,
    });
    expect(withTopics.included?.map((t) => t.id).sort()).toEqual([
      "event:klaviyo.received_email",
      CONSENT_TOPIC,
    ]);

    const rotated = "whsec_rotated_9876543210";
    const updated = await run<WebhookDoc>("update-webhook", {
      webhookId: a.data.id,
      name: "A2",
      topics: ["event:klaviyo.received_email", "event:klaviyo.opened_email"],
      secretKey: rotated,
      enabled: false,
    });
    expect(await sent.at(-1)?.clone().json()).toEqual({
      data: {
        type: "webhook",
        id: a.data.id,
        attributes: { name: "A2", secret_key: rotated, enabled: false },
        relationships: {
          "webhook-topics": {
            data: [
              { type: "webhook-topic", id: "event:klaviyo.received_email" },
              { type: "webhook-topic", id: "event:klaviyo.opened_email" },
            ],
          },
        },
      },
    });
    expect(updated.data.attributes).toMatchObject({ name: "A2", enabled: false });
    expect(updated.data.relationships?.["webhook-topics"]?.data?.map((t) => t.id)).toEqual([
      "event:klaviyo.received_email",
      "event:klaviyo.opened_email",
    ]);
    expect(JSON.stringify(updated)).not.toContain(rotated);

    const count = sent.length;
    const nothing = await refused(run("update-webhook", { webhookId: a.data.id }));
    expect(nothing.message).toContain("nothing to change");
    const badId = await refused(run("update-webhook", { webhookId: "a/b", enabled: true }));
    expect(badId.message).toContain("Webhook ID:");
    expect(sent).toHaveLength(count);

    expect(await run("delete-webhook", { webhookId: a.data.id })).toEqual({ deleted: true, id: a.data.id });
    await expect(run("delete-webhook", { webhookId: a.data.id })).rejects.toBeInstanceOf(NotFoundError);
    await expect(run("update-webhook", { webhookId: a.data.id, enabled: true })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    const left = await run<{ data: WebhookDoc["data"][] }>("list-webhooks");
    expect(left.data.map((w) => w.attributes.name)).toEqual(["B"]);
  });

  it("an account without webhook access: every action is a PermissionDeniedError (403)", async () => {
    const { run } = await setup({ webhookAccess: false });
    const calls: Array<[string, Record<string, unknown>]> = [
      ["list-webhooks", {}],
      ["list-webhook-topics", {}],
      ["get-webhook", { webhookId: "01HF7AYTK76RHR4F17G6DGTRGF" }],
      [
        "create-webhook",
        { name: "x", endpointUrl: "https://h.example/x", secretKey: SECRET, topics: [CONSENT_TOPIC] },
      ],
      ["update-webhook", { webhookId: "01HF7AYTK76RHR4F17G6DGTRGF", enabled: false }],
      ["delete-webhook", { webhookId: "01HF7AYTK76RHR4F17G6DGTRGF" }],
    ];
    for (const [key, inputs] of calls) {
      const error = await run(key, inputs).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, key).toBeInstanceOf(PermissionDeniedError);
      expect((error as PermissionDeniedError).status).toBe(403);
      expect((error as Error).message).toContain("Advanced KDP");
    }
  });
});

describe("the Secret Key is never echoed", () => {
  it("the CLI: not in the output, nor in an error (even --verbose), however it is given", async () => {
    const { emulator } = await setup();
    const running = emulators.at(-1) as RunningEmulator;
    const common = ["--api-key", ACTION_KEY, "--base-url", running.url, "--name", "CLI"];
    const made = await runInProcess([
      "run",
      "create-webhook",
      ...common,
      "--endpoint-url",
      "https://hooks.example.com/x",
      "--secret-key",
      SECRET,
      "--topics",
      CONSENT_TOPIC,
    ]);
    expect(made.code, made.stderr).toBe(0);
    expect(JSON.parse(made.stdout).data.attributes.name).toBe("CLI");
    expect(`${made.stdout}${made.stderr}`).not.toContain(SECRET);
    expect([...emulator.state.webhooks.values()].map((w) => w.secretKey)).toEqual([SECRET]);
    // Refused by Klaviyo (http off loopback): the error, verbose, names the problem, not the secret.
    const failed = await runInProcess([
      "run",
      "create-webhook",
      ...common,
      "--endpoint-url",
      "http://hooks.example.com/x",
      `--secret-key=${SECRET}`,
      "--topics",
      CONSENT_TOPIC,
      "--verbose",
    ]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/endpoint_url/);
    expect(`${failed.stdout}${failed.stderr}`).not.toContain(SECRET);
    // A proxy that quotes the key back in its own words, in a body that is no Klaviyo error: scrubbed all the same.
    const proxy = await startServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const key = JSON.parse(Buffer.concat(chunks).toString("utf8")).data.attributes.secret_key;
        res.writeHead(502, { "content-type": "text/plain" }).end(`upstream refused key ${key}`);
      });
    });
    try {
      const echoed = await runInProcess([
        "run",
        "create-webhook",
        "--api-key",
        ACTION_KEY,
        "--base-url",
        proxy.url,
        "--max-retries",
        "0",
        "--name",
        "Proxy",
        "--endpoint-url",
        "https://hooks.example.com/x",
        "--secret-key",
        SECRET,
        "--topics",
        CONSENT_TOPIC,
        "--verbose",
      ]);
      expect(echoed.code).toBe(1);
      expect(echoed.stderr).toContain("upstream refused key [REDACTED]");
      expect(`${echoed.stdout}${echoed.stderr}`).not.toContain(SECRET);
    } finally {
      await proxy.close();
    }
  });

  it("the playground: not in the run's output, its recorded exchanges or its three snippets", async () => {
    const { emulator } = await setup();
    const running = emulators.at(-1) as RunningEmulator;
    const runner = new Runner({
      auth: apiKey(ACTION_KEY),
      baseUrl: running.url,
      fetch: (input, init) => fetch(input, init),
      rateLimiter: false,
      client: {},
      emulator: false,
    });
    const record = await runner.run("create-webhook", {
      name: "Playground",
      endpointUrl: "https://hooks.example.com/x",
      secretKey: SECRET,
      topics: CONSENT_TOPIC,
    });
    expect(record.ok, JSON.stringify(record.error)).toBe(true);
    expect([...emulator.state.webhooks.values()][0]?.secretKey).toBe(SECRET);
    const shown = JSON.stringify(record);
    expect(shown).not.toContain(SECRET);
    expect(record.exchanges[0]?.request.body).toMatch(/"secret_key": "\[REDACTED\]"/);
    expect(record.snippets.cli).toContain('--secret-key "$SECRET_KEY"');
    expect(record.snippets.library).toContain("secretKey: process.env.SECRET_KEY,");
  });

  it("the manifest marks it secret (a password field for the platforms) and its schema writeOnly", () => {
    const inputs = manifest().actions.find((a) => a.key === "create-webhook")?.inputs ?? [];
    const secret = inputs.find((i) => i.key === "secretKey");
    expect(secret).toMatchObject({ label: "Secret Key", required: true, secret: true });
    expect(secret?.schema).toMatchObject({ type: "string", writeOnly: true });
    expect(inputs.filter((i) => i.secret).map((i) => i.key)).toEqual(["secretKey"]);
    const update = manifest().actions.find((a) => a.key === "update-webhook")?.inputs ?? [];
    expect(update.find((i) => i.key === "secretKey")).toMatchObject({ required: false, secret: true });
  });
});

describe("klaviyo demo's webhook steps", () => {
  it("on an account without webhook access: skipped, saying why, and the tour still succeeds", async () => {
    const running = await startEmulator({ seed: "demo", rateLimits: "off", webhookAccess: false });
    emulators.push(running);
    let out = "";
    const io = {
      stdout: (t: string) => {
        out += t;
      },
      stderr: () => {},
    };
    const code = await runDemo(io, { baseUrl: running.url, apiKey: DEV_API_KEY, yes: true });
    const rows = out.trim().split("\n");
    expect(code, out).toBe(0);
    const skipped = rows.filter((r) => /^\S*webhook/.test(r));
    expect(skipped.map((r) => r.split(/\s+/)[0])).toEqual([
      "list-webhook-topics",
      "create-webhook",
      "get-webhook",
      "update-webhook",
      "list-webhooks",
      "delete-webhook",
    ]);
    expect(skipped[0]).toMatch(/403 .*skipped: the account has no webhook access/);
    for (const row of skipped.slice(1)) expect(row).toMatch(/skipped: no webhook/);
    expect(rows.at(-1)).toMatch(/steps succeeded, 6 skipped/);
  }, 30_000);
});
