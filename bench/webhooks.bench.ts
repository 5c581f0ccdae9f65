/**
 * System webhooks (issue #21), measured as ratios in one run. Run with `npx tsx bench/webhooks.bench.ts`.
 *
 *  1. Verification cost: `verifyWebhook` (HMAC-SHA256 over the raw body + timestamp, a constant-time compare of
 *     digests, the JSON parse and the shape check) against a bare `JSON.parse` of the same body, which every
 *     receiver pays anyway: deliveries of 1, 100 and 1,000 events. Reported: µs per delivery and the ratio.
 *  2. End to end: an in-process emulator (limits off, batch window 50 ms) with one webhook on a custom metric,
 *     pointed at a `webhookNodeHandler` on a loopback port; BENCH_WEBHOOK_EVENTS events (default 20,000) recorded
 *     through Bulk Create Events in requests of 1,000, then `settleWebhooks()`. Reported: events delivered per
 *     second from the first request to the last answer, deliveries made (batches of up to 1,000), events handed
 *     to `onEvent` over events recorded (target 1: none lost, none repeated), and peak RSS.
 *
 * Results go to bench/results.json.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { runAction } from "../src/actions/index.js";
import { KlaviyoClient } from "../src/core/client.js";
import { createEmulator, DEV_API_KEY } from "../src/emulator/index.js";
import { signDelivery, type WebhookDelivery } from "../src/klaviyo/webhooks.js";
import { verifyWebhook, webhookNodeHandler } from "../src/webhooks/index.js";
import { type Figure, record } from "./results.js";

const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 20_000);
const SECRET = "bench-secret-0123456789abcdef0123456789abcdef";
const figures: Figure[] = [];

function delivery(n: number): WebhookDelivery {
  return {
    data: Array.from({ length: n }, (_, i) => ({
      topic: "event:api.placed_order",
      external_id: `EVT${i.toString().padStart(20, "0")}`,
      payload: {
        data: {
          type: "event" as const,
          id: `EVT${i.toString().padStart(20, "0")}`,
          attributes: {
            timestamp: 1_767_225_600 + i,
            event_properties: { OrderId: `O-${i}`, Items: ["Boots", "Socks"], $value: 129.5 },
            datetime: "2026-01-01T00:00:00+00:00",
            uuid: "00000000-0000-0000-0000-000000000000",
          },
          relationships: { metric: { data: { type: "metric", id: "AbC123" } } },
        },
        links: { self: `https://a.klaviyo.com/api/events/EVT${i}` },
      },
    })),
    meta: {
      klaviyo_account_id: "XqT4Lm",
      klaviyo_webhook_id: "01BENCHWEBHOOK000000000000",
      timestamp: "2026-01-01T00:00:00Z",
      version: "2026-07-15",
    },
  };
}

/** Median µs per call of `fn` over `runs` runs (after a warm-up). */
function timeIt(fn: () => unknown, runs: number): number {
  for (let i = 0; i < Math.min(runs, 20); i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    times.push((performance.now() - start) * 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

console.log("1. verifyWebhook against JSON.parse of the same body");
for (const n of [1, 100, 1000]) {
  const signed = signDelivery(delivery(n), SECRET, Date.UTC(2026, 0, 1));
  const runs = n === 1000 ? 200 : 2000;
  const verify = timeIt(() => verifyWebhook(signed.body, signed.headers, SECRET), runs);
  const parse = timeIt(() => JSON.parse(signed.body), runs);
  const ratio = verify / parse;
  console.log(
    `  ${n} event(s), ${signed.body.length} bytes: verify ${verify.toFixed(1)} µs, parse ${parse.toFixed(1)} µs, ratio ${ratio.toFixed(2)}`,
  );
  figures.push({
    name: `webhooks: verifyWebhook of a ${n}-event delivery, over JSON.parse of it`,
    unit: "ratio",
    value: ratio,
    peer: { verify_us: verify, parse_us: parse },
    ceiling: null,
  });
}

console.log(`\n2. End to end: ${EVENTS} events through the emulator's delivery to a verifying handler`);
let handed = 0;
let deliveries = 0;
const server = createServer(
  webhookNodeHandler({
    secret: SECRET,
    onDelivery: () => {
      deliveries++;
    },
    onEvent: () => {
      handed++;
    },
  }),
);
await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
const { port } = server.address() as AddressInfo;
const emulator = createEmulator({ rateLimits: "off", webhookBatchWindowMs: 50 });
const client = new KlaviyoClient({ apiKey: DEV_API_KEY, baseUrl: emulator.baseUrl, fetch: emulator.fetch });
// The metric must exist for its topic to be listed: one event first, before the webhook.
await runAction(
  "create-event",
  { name: "Placed Order", profile: { email: "warmup@example.com" }, properties: {} },
  { client },
);
await runAction(
  "create-webhook",
  {
    name: "bench",
    endpointUrl: `http://127.0.0.1:${port}/klaviyo`,
    secretKey: SECRET,
    topics: ["event:api.placed_order"],
  },
  { client },
);
const start = performance.now();
for (let sent = 0; sent < EVENTS; sent += 1000) {
  const events = Array.from({ length: Math.min(1000, EVENTS - sent) }, (_, i) => ({
    metric: "Placed Order",
    profile: { email: `buyer${(sent + i) % 500}@example.com` },
    properties: { OrderId: `O-${sent + i}` },
    unique_id: `order-${sent + i}`,
  }));
  await runAction("bulk-create-events", { events }, { client });
}
await emulator.settleWebhooks();
const seconds = (performance.now() - start) / 1000;
server.close();
const failed = emulator.webhookDeliveries.filter((a) => a.outcome !== "delivered").length;
console.log(
  `  ${handed}/${EVENTS} events handed over in ${deliveries} deliveries (${failed} attempts not delivered), ${(EVENTS / seconds).toFixed(0)} events/s, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`,
);
figures.push(
  {
    name: "webhooks: events delivered end to end (emulator → verifying handler), per second",
    unit: "events/s",
    value: EVENTS / seconds,
    peer: { deliveries, failedAttempts: failed },
    ceiling: null,
  },
  {
    name: "webhooks: events handed to onEvent over events recorded (1 = none lost, none repeated)",
    unit: "ratio",
    value: handed / EVENTS,
    peer: {},
    ceiling: 1,
  },
);
record(figures);
