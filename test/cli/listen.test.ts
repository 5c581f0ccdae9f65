/**
 * `klaviyo listen` against the emulator on a port (real HTTP everywhere): deliveries forwarded to a node:http
 * handler from the emulator's own webhook and from the change feed (`--from-feed`), with one shape and a
 * signature the printed secret verifies (an independent HMAC, and `verifyWebhook`); the emulator's retries of a
 * failing handler; feed mode's retries; the webhook deleted when listen stops (on its own, and on SIGINT with the
 * real binary); usage errors before anything is sent; an account without webhook access; never the API key.
 */
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { feedDeliveries, runListen } from "../../src/cli/commands/listen.js";
import { KlaviyoClient } from "../../src/core/client.js";
import { DEV_API_KEY, type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import type { Change } from "../../src/feed/index.js";
import {
  MAX_EVENTS_PER_DELIVERY,
  topicOfMetric,
  WEBHOOK_HEADERS,
  type WebhookDelivery,
  webhookTimestamp,
} from "../../src/klaviyo/webhooks.js";
import { verifyWebhook } from "../../src/webhooks/index.js";
import { BIN, requireBuild } from "../helpers/cli.js";
import { type InProcessResult, runInProcess } from "../helpers/cli-in-process.js";
import { startServer } from "../helpers/servers.js";

const cli = runInProcess;
const saved = { ...process.env };
const METRIC = "Listen Check";
const TOPIC = topicOfMetric(METRIC, "api");

let running: RunningEmulator;
let client: KlaviyoClient;

/** A request the handler got: its headers and its raw body. */
interface Received {
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

/** A local webhook handler: records every request and answers the next of `statuses` (then 200). */
interface Handler {
  url: string;
  received: Received[];
  statuses: number[];
  server: Server;
}

let handler: Handler;

async function startHandler(): Promise<Handler> {
  const received: Received[] = [];
  const statuses: number[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, raw: Buffer.concat(chunks) });
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/webhooks/klaviyo`, received, statuses, server };
}

async function createEvent(value: number, metric = METRIC): Promise<void> {
  await client.request({
    method: "POST",
    path: "/api/events",
    body: {
      data: {
        type: "event",
        attributes: {
          properties: { value, sku: "TEA-1" },
          // Two events of one profile and metric in one second are one, unless their unique IDs differ.
          unique_id: `${metric}-${value}`,
          metric: { data: { type: "metric", attributes: { name: metric } } },
          profile: { data: { type: "profile", attributes: { email: "listen@example.com" } } },
        },
      },
    },
  });
}

async function until(what: () => boolean, label: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error(`${label}: not within ${ms} ms`);
    await sleep(25);
  }
}

/** The secret listen printed. */
function printedSecret(stdout: string): string {
  const m = /^Webhook signing secret: ([0-9a-f]{64})\b/m.exec(stdout);
  expect(m, stdout).not.toBeNull();
  return m?.[1] as string;
}

/** Checks a received delivery as a user's handler would: an independent HMAC, then `verifyWebhook`. */
function verified(got: Received, secret: string): WebhookDelivery {
  const timestamp = got.headers[WEBHOOK_HEADERS.timestamp.toLowerCase()] as string;
  const signature = got.headers[WEBHOOK_HEADERS.signature.toLowerCase()] as string;
  const hmac = createHmac("sha256", secret).update(got.raw).update(timestamp).digest("hex");
  expect(signature).toBe(hmac);
  const delivery = verifyWebhook(got.raw, got.headers, secret);
  expect(() => verifyWebhook(got.raw, got.headers, "another secret")).toThrow();
  return delivery;
}

/** A value's structure: object keys (sorted) with their structure, an array's items', and primitives' types. */
function shape(value: unknown): unknown {
  if (Array.isArray(value))
    return [...new Set(value.map((v) => JSON.stringify(shape(v))))].map((s) => JSON.parse(s));
  if (value !== null && typeof value === "object")
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, shape((value as Record<string, unknown>)[k])]),
    );
  return value === null ? "null" : typeof value;
}

/** The headers a delivery is made of: Klaviyo's own and its content type. */
const deliveryHeaders = (headers: IncomingHttpHeaders) =>
  Object.keys(headers)
    .filter((name) => name.startsWith("klaviyo-") || name === "content-type")
    .sort();

function noKey(...results: Array<{ stdout: string; stderr: string }>): void {
  for (const r of results) expect(`${r.stdout}${r.stderr}`).not.toContain(DEV_API_KEY);
}

function ok(result: InProcessResult): InProcessResult {
  expect(result.code, `${result.stderr}${result.stdout}`).toBe(0);
  return result;
}

beforeAll(() => {
  for (const name of ["KLAVIYO_REDIS_URL", "KLAVIYO_TOKEN_ENCRYPTION_KEY", "KLAVIYO_CLIENT_SECRET"])
    delete process.env[name];
  process.env.KLAVIYO_HEAP_TUNING = "off";
});
afterAll(() => {
  process.env = saved;
});
/** Starts the emulator the CLI and `client` talk to (on `clock` when given), with the metric already recorded. */
async function startRunning(clock?: { now(): number }): Promise<void> {
  running = await startEmulator({
    seed: "demo",
    rateLimits: "off",
    webhookRetryDelaysMs: [50],
    webhookBatchWindowMs: 20,
    ...(clock ? { clock } : {}),
  });
  process.env.KLAVIYO_API_KEY = DEV_API_KEY;
  process.env.KLAVIYO_BASE_URL = running.url;
  client = new KlaviyoClient({ apiKey: DEV_API_KEY, baseUrl: running.url });
  // The metric, so that its topic exists before a webhook subscribes to it.
  await createEvent(0);
}

beforeEach(async () => {
  handler = await startHandler();
  await startRunning();
});
afterEach(async () => {
  await running?.close();
  await new Promise((resolve) => {
    handler.server.close(resolve);
    handler.server.closeAllConnections();
  });
});

describe("klaviyo listen on the emulator", () => {
  it("registers a webhook, forwards the emulator's delivery byte for byte with its headers, and deletes the webhook when it stops", async () => {
    // The emulator's clock an hour behind the real one: a Klaviyo-Timestamp made by listen (re-signing on its own
    // clock) would then differ from the emulator's, so matching it shows the headers are forwarded as they came.
    const HOUR = 3_600_000;
    await running.close();
    await startRunning({ now: () => Date.now() - HOUR });
    const webhooks = running.emulator.state.webhooks;
    const run = cli(["listen", "--forward-to", handler.url, "--topics", TOPIC, "--once"]);
    await until(() => webhooks.size === 1, "the webhook registered");
    const [webhook] = [...webhooks.values()];
    expect(webhook?.attributes.name).toBe("klaviyo listen");
    expect(webhook?.topics).toEqual([TOPIC]);
    await createEvent(12);
    const result = ok(await run);
    // Deleted as it stopped.
    expect(webhooks.size).toBe(0);
    expect(handler.received).toHaveLength(1);
    const got = handler.received[0] as Received;
    const secret = printedSecret(result.stdout);
    expect(webhook?.secretKey).toBe(secret);
    const delivery = verified(got, secret);
    expect(got.headers["content-type"]).toBe("application/json");
    expect(got.headers[WEBHOOK_HEADERS.id.toLowerCase()]).toBe(webhook?.id);
    expect(delivery.meta.klaviyo_webhook_id).toBe(webhook?.id);
    expect(delivery.meta.klaviyo_account_id).toBe(running.emulator.account.id);
    expect(delivery.data).toHaveLength(1);
    expect(delivery.data[0]?.topic).toBe(TOPIC);
    expect(delivery.data[0]?.payload.data.attributes.event_properties).toMatchObject({ value: 12 });
    // The delivery the emulator logged is the one forwarded, answered with the handler's status.
    const attempts = running.emulator.webhookDeliveries;
    expect(attempts.map((a) => [a.status, a.outcome, a.eventIds])).toEqual([
      [200, "delivered", [delivery.data[0]?.external_id]],
    ]);
    // Its timestamp, on the emulator's clock (an hour behind), is the one forwarded, in the header and the body.
    const sentAt = attempts[0]?.at as number;
    expect(Math.abs(sentAt - (Date.now() - HOUR))).toBeLessThan(60_000);
    expect(got.headers[WEBHOOK_HEADERS.timestamp.toLowerCase()]).toBe(webhookTimestamp(sentAt));
    expect(delivery.meta.timestamp).toBe(new Date(sentAt).toISOString());
    // One line per delivery: when, how many events of which topics, the handler's status.
    expect(result.stdout).toMatch(/^Ready: webhook \S+ on the emulator delivers 1 topic/m);
    expect(result.stdout).toMatch(
      new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z  1 event  ${TOPIC.replace(/[.]/g, "\\.")}  -> 200$`, "m"),
    );
    expect(result.stderr).toBe(`Deleted webhook ${webhook?.id}.\n`);
    noKey(result);
  });

  it("answers the emulator with the handler's status: a failing handler gets the emulator's retry, forwarded too", async () => {
    handler.statuses.push(500);
    const run = cli(["listen", "--forward-to", handler.url, "--topics", TOPIC, "--max-deliveries", "2"]);
    await until(() => running.emulator.state.webhooks.size === 1, "the webhook registered");
    await createEvent(7);
    const result = ok(await run);
    expect(running.emulator.webhookDeliveries.map((a) => [a.attempt, a.status, a.outcome])).toEqual([
      [1, 500, "retrying"],
      [2, 200, "delivered"],
    ]);
    expect(handler.received).toHaveLength(2);
    const secret = printedSecret(result.stdout);
    const [first, second] = handler.received.map((r) => verified(r, secret));
    expect(second?.data.map((d) => d.external_id)).toEqual(first?.data.map((d) => d.external_id));
    expect(result.stdout).toMatch(/1 event {2}\S+ {2}-> 500\n[^\n]*1 event {2}\S+ {2}-> 200\n/);
    expect(running.emulator.state.webhooks.size).toBe(0);
    noKey(result);
  });

  it("subscribes to every topic of the account without --topics; --secret is used as given", async () => {
    const run = cli(["listen", "--forward-to", handler.url, "--secret", "my-own-secret", "--duration", "1"]);
    await until(() => running.emulator.state.webhooks.size === 1, "the webhook registered");
    const [webhook] = [...running.emulator.state.webhooks.values()];
    const listed = await client.request<{ data: Array<{ id: string }> }>({
      method: "GET",
      path: "/api/webhook-topics",
    });
    expect(listed.body.data.map((t) => t.id)).toContain(TOPIC);
    expect(new Set(webhook?.topics)).toEqual(new Set(listed.body.data.map((t) => t.id)));
    expect(webhook?.secretKey).toBe("my-own-secret");
    const result = ok(await run);
    expect(result.stdout).toMatch(/^Webhook signing secret: my-own-secret\n/);
    expect(running.emulator.state.webhooks.size).toBe(0);
  });

  it("SIGINT stops the real binary: the webhook is deleted and it exits 0", async () => {
    requireBuild();
    const child = spawn(process.execPath, [BIN, "listen", "--forward-to", handler.url, "--topics", TOPIC], {
      env: { PATH: process.env.PATH ?? "", KLAVIYO_API_KEY: DEV_API_KEY, KLAVIYO_BASE_URL: running.url },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    try {
      await until(() => stdout.includes("Ready:"), `the ready line (stderr: ${stderr})`);
      expect(running.emulator.state.webhooks.size).toBe(1);
      await createEvent(3);
      await until(() => stdout.includes("-> 200"), "the delivery forwarded");
      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(running.emulator.state.webhooks.size).toBe(0);
      expect(stderr).toMatch(/^Deleted webhook \S+\.\n$/);
      verified(handler.received[0] as Received, printedSecret(stdout));
      noKey({ stdout, stderr });
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("says what serves instead when the account has no webhook access", async () => {
    running.emulator.setWebhookAccess(false);
    const result = await cli(["listen", "--forward-to", handler.url, "--topics", TOPIC]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Advanced KDP");
    expect(result.stderr).toContain("--from-feed");
    noKey(result);
  });
});

describe("klaviyo listen --from-feed (as against Klaviyo)", () => {
  it("builds the emulator's delivery shape from the change feed, signed with the printed secret; no webhook is made", async () => {
    // The same kind of event delivered by the emulator, for the shapes to compare.
    const fromEmulator = cli(["listen", "--forward-to", handler.url, "--topics", TOPIC, "--once"]);
    await until(() => running.emulator.state.webhooks.size === 1, "the webhook registered");
    await createEvent(1);
    const emulatorRun = ok(await fromEmulator);
    const emulatorGot = handler.received[0] as Received;
    const emulatorDelivery = verified(emulatorGot, printedSecret(emulatorRun.stdout));

    // From the next whole second on: the feed then finds only the event made now (times are whole seconds).
    await sleep(1000 - (Date.now() % 1000) + 30);
    const since = new Date().toISOString();
    const requestsBefore = running.emulator.requests.length;
    const fromFeed = cli([
      "listen",
      "--forward-to",
      handler.url,
      "--topics",
      TOPIC,
      "--from-feed",
      "--since",
      since,
      "--horizon",
      "0",
      "--interval",
      "1",
      "--lookback",
      "0",
      "--once",
    ]);
    // An event of a topic not asked for is left out.
    await createEvent(99, "Not Listened To");
    await createEvent(2);
    const feedRun = ok(await fromFeed);
    expect(running.emulator.state.webhooks.size).toBe(0);
    expect(
      running.emulator.requests.slice(requestsBefore).some((r) => r.path.startsWith("/api/webhooks")),
    ).toBe(false);
    const feedGot = handler.received[1] as Received;
    const secret = printedSecret(feedRun.stdout);
    const feedDelivery = verified(feedGot, secret);
    expect(
      feedDelivery.data.map((d) => [d.topic, d.payload.data.attributes.event_properties?.value]),
    ).toEqual([[TOPIC, 2]]);
    expect(feedDelivery.meta.klaviyo_webhook_id).toMatch(/^listen-[0-9a-f]{12}$/);
    expect(feedGot.headers[WEBHOOK_HEADERS.id.toLowerCase()]).toBe(feedDelivery.meta.klaviyo_webhook_id);
    expect(feedDelivery.meta.klaviyo_account_id).toBe(running.emulator.account.id);
    expect(feedDelivery.meta.version).toBe(emulatorDelivery.meta.version);
    // One shape: the body's structure and the delivery's headers.
    expect(shape(feedDelivery)).toEqual(shape(emulatorDelivery));
    expect(deliveryHeaders(feedGot.headers)).toEqual(deliveryHeaders(emulatorGot.headers));
    expect(feedGot.headers["content-type"]).toBe(emulatorGot.headers["content-type"]);
    // Each event is the one Get Event answers (the emulator's payload for the same event is that too).
    const item = feedDelivery.data[0];
    const got = await client.request<Record<string, unknown>>({
      method: "GET",
      path: `/api/events/${item?.external_id}`,
    });
    expect(item?.payload.data).toEqual(got.body.data);
    expect(feedRun.stdout).toMatch(/^Ready: reading Klaviyo's change feed every 1 s/m);
    noKey(emulatorRun, feedRun);
  });

  it("retries a delivery the handler refuses, signed afresh, then gives up and says so", async () => {
    handler.statuses.push(503, 200, 500, 500);
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) };
    const flags = {
      forwardTo: handler.url,
      topics: TOPIC,
      fromFeed: true,
      since: new Date(Date.now() - 1000).toISOString(),
      horizon: "0",
      interval: "1",
      lookback: "0",
      once: true,
    };
    const first = runListen(flags, io, { retryDelaysMs: [30] });
    await createEvent(5);
    expect(await first).toBe(0);
    const text = out.join("");
    expect(text).toMatch(/-> 503; again in 0\.03 s\n[^\n]*-> 200\n/);
    const secret = printedSecret(text);
    const [a, b] = handler.received.map((r) => verified(r, secret));
    expect(b?.data).toEqual(a?.data);

    out.length = 0;
    handler.received.length = 0;
    const second = runListen({ ...flags, since: new Date(Date.now() - 1000).toISOString() }, io, {
      retryDelaysMs: [30],
    });
    await createEvent(6);
    expect(await second).toBe(0);
    expect(out.join("")).toMatch(/-> 500; again in 0\.03 s\n[^\n]*-> 500; given up after 2 attempts/);
    expect(handler.received).toHaveLength(2);
    expect(err.join("")).toBe("");
  });
});

describe("klaviyo listen refuses bad usage before sending anything (exit 2)", () => {
  it("names the flag at fault", async () => {
    const before = running.emulator.requests.length;
    const cases: Array<[string[], string[]]> = [
      [["listen"], ["--forward-to", "is required"]],
      [
        ["listen", "--forward-to", "ftp://example.com/"],
        ["--forward-to", "http(s)"],
      ],
      [
        ["listen", "--forward-to", handler.url, "--topics", "placed order"],
        ["--topics", "not a topic ID"],
      ],
      [
        ["listen", "--forward-to", handler.url, "--topics", " , "],
        ["--topics", "is empty"],
      ],
      [
        ["listen", "--forward-to", handler.url, "--once", "--max-deliveries", "3"],
        ["--once", "--max-deliveries"],
      ],
      [["listen", "--forward-to", handler.url, "--max-deliveries", "0"], ["--max-deliveries"]],
      [
        ["listen", "--forward-to", handler.url, "--since", "2026-01-01"],
        ["--since", "--from-feed"],
      ],
      [
        ["listen", "--forward-to", handler.url, "--from-feed", "--since", "soon"],
        ["--since", "not a date"],
      ],
      [["listen", "--forward-to", handler.url, "--from-feed", "--interval", "0"], ["--interval"]],
      [
        ["listen", "--forward-to", handler.url, "--secret", ""],
        ["--secret", "is empty"],
      ],
    ];
    for (const [args, words] of cases) {
      const result = await cli(args);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(2);
      for (const word of words) expect(result.stderr, args.join(" ")).toContain(word);
      expect(result.stdout).toBe("");
      noKey(result);
    }
    expect(running.emulator.requests.length).toBe(before);
  });
});

describe("klaviyo listen: each flag acts or is refused", () => {
  it("--revision is the deliveries' meta.version; --api-key, --base-url, --max-retries and --verbose act; the rest are checked", async () => {
    await sleep(1000 - (Date.now() % 1000) + 30);
    const run = cli([
      "listen",
      "--forward-to",
      handler.url,
      "--topics",
      TOPIC,
      "--from-feed",
      "--horizon",
      "0",
      "--interval",
      "1",
      "--lookback",
      "0",
      "--revision",
      "2025-10-15",
      "--once",
    ]);
    await createEvent(8);
    const result = ok(await run);
    expect(verified(handler.received[0] as Received, printedSecret(result.stdout)).meta.version).toBe(
      "2025-10-15",
    );

    // --api-key: sent (and refused by the emulator: exit 3), never printed.
    const wrongKey = "pk_wrong_0123456789abcdef0123456789";
    const refused = await cli([
      "listen",
      "--forward-to",
      handler.url,
      "--topics",
      TOPIC,
      "--api-key",
      wrongKey,
    ]);
    expect(refused.code).toBe(3);
    expect(`${refused.stdout}${refused.stderr}`).not.toContain(wrongKey);

    // --base-url and --max-retries: a server that answers 503 is asked twice for the topics, then the run fails;
    // --verbose adds the whole error.
    const failing = await startServer((_req, res) => {
      res.writeHead(503, { "content-type": "application/vnd.api+json", "retry-after": "0" });
      res.end(
        JSON.stringify({ errors: [{ status: 503, code: "unavailable", title: "Down", detail: "Down" }] }),
      );
    });
    try {
      const down = await cli([
        "listen",
        "--forward-to",
        handler.url,
        "--base-url",
        failing.url,
        "--max-retries",
        "1",
        "--verbose",
      ]);
      expect(down.code).toBe(1);
      expect(failing.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
        "GET /api/webhook-topics",
        "GET /api/webhook-topics",
      ]);
      expect(down.stderr).toContain('"status": 503');
      noKey(down);
    } finally {
      await failing.close();
    }

    const before = running.emulator.requests.length;
    for (const [args, flag] of [
      [["--timeout", "0"], "--timeout"],
      [["--max-retries", "11"], "--max-retries"],
      [["--rate-limit-scale", "0"], "--rate-limit-scale"],
      [["--horizon", "0"], "--horizon"],
      [["--lookback", "0"], "--lookback"],
      [["--interval", "1"], "--interval"],
      [["--from-feed", "--horizon", "99999999"], "--horizon"],
      [["--from-feed", "--lookback", "-1"], "--lookback"],
      [["--duration", "0"], "--duration"],
    ] as const) {
      const bad = await cli(["listen", "--forward-to", handler.url, ...args]);
      expect(bad.code, `${args.join(" ")}: ${bad.stderr}`).toBe(2);
      expect(bad.stderr).toContain(flag);
    }
    expect(running.emulator.requests.length).toBe(before);
  });
});

describe("the deliveries of a feed page", () => {
  /** An event change as the feed gives it: the record, and its metric among `related`. */
  const change = (id: string, metric: { name: string; key?: string } | undefined): Change => ({
    stream: "events",
    change: "recorded",
    at: "2026-07-15T12:00:00Z",
    record: {
      type: "event",
      id,
      attributes: { event_properties: { n: id } },
      relationships: { metric: { data: { type: "metric", id: `m-${metric?.name}` } } },
      links: { self: `https://a.klaviyo.com/api/events/${id}/` },
    },
    ...(metric
      ? {
          related: [
            {
              type: "metric",
              id: `m-${metric.name}`,
              attributes: { name: metric.name, integration: metric.key ? { key: metric.key } : null },
            },
          ],
        }
      : {}),
  });
  const meta = {
    accountId: "AbC123",
    webhookId: "listen-1",
    version: "2026-07-15",
    now: Date.UTC(2026, 6, 15),
  };

  it("keeps the topics asked for, at most 1,000 events a delivery, each event as Get Event answers it", () => {
    const changes = [
      ...Array.from({ length: 2 * MAX_EVENTS_PER_DELIVERY + 5 }, (_, i) =>
        change(`e${i}`, { name: "Placed Order", key: "api" }),
      ),
      change("other", { name: "Opened Email", key: "klaviyo" }),
    ];
    const unknown: string[] = [];
    const out = feedDeliveries(changes, meta, new Set([topicOfMetric("Placed Order", "api")]), (c) =>
      unknown.push(c.record.id),
    );
    expect(out.map((d) => d.data.length)).toEqual([MAX_EVENTS_PER_DELIVERY, MAX_EVENTS_PER_DELIVERY, 5]);
    expect(out.flatMap((d) => d.data.map((i) => i.external_id))).toEqual(
      changes.slice(0, -1).map((c) => c.record.id),
    );
    expect(out[0]?.data[0]).toEqual({
      topic: "event:api.placed_order",
      external_id: "e0",
      payload: { data: changes[0]?.record, links: { self: "https://a.klaviyo.com/api/events/e0/" } },
    });
    expect(out[0]?.meta).toEqual({
      klaviyo_account_id: "AbC123",
      klaviyo_webhook_id: "listen-1",
      timestamp: "2026-07-15T00:00:00.000Z",
      version: "2026-07-15",
    });
    expect(unknown).toEqual([]);
    // Every topic without a filter; an event whose metric does not say its topic is told of, and left out.
    const all = feedDeliveries(
      [
        change("a", { name: "Opened Email", key: "klaviyo" }),
        change("b", undefined),
        change("c", { name: "X" }),
      ],
      meta,
      undefined,
      (c) => unknown.push(c.record.id),
    );
    expect(all.map((d) => d.data.map((i) => [i.topic, i.external_id]))).toEqual([
      [["event:klaviyo.opened_email", "a"]],
    ]);
    expect(unknown).toEqual(["b", "c"]);
    expect(feedDeliveries([], meta, undefined)).toEqual([]);
  });
});
