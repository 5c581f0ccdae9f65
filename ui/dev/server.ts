/**
 * A stand-in for the playground server, to develop the front end against (not shipped, not the real server):
 * serves dist/ui with the contract's headers and answers /api/* from the library's manifest and actions run on an
 * in-process emulator with demo data.
 *
 *   npx vite build --config ui/vite.config.ts && npx tsx ui/dev/server.ts [port]
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { manifest } from "../../src/actions/manifest.js";
import { KlaviyoClient } from "../../src/core/client.js";
import { createEmulator, DEV_API_KEY, parseFaults } from "../../src/emulator/index.js";
import { runAction } from "../../src/index.js";
import { matchOperation } from "../../src/klaviyo/operations.js";

const port = Number(process.argv[2] ?? 5178);
const token = randomBytes(32).toString("base64url");
const staticDir = fileURLToPath(new URL("../../dist/ui/", import.meta.url));
const emulator = createEmulator({ seed: "demo" });
if (process.env.FAULTS) emulator.setFaults(parseFaults(process.env.FAULTS));

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
  "font-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

interface Exchange {
  request: { method: string; url: string; headers: Record<string, string>; body?: string };
  response?: { status: number; headers: Record<string, string>; body?: string };
  ms: number;
}

const runs: unknown[] = [];
/** Image bytes by image id: the emulator keeps none, so the mock remembers what Upload Image sent. */
const imageBytes = new Map<string, { bytes: Buffer; type: string }>();
let nextId = 1;

function tierName(burst: number): string {
  if (burst <= 1) return "XS";
  if (burst <= 3) return "S";
  if (burst <= 10) return "M";
  if (burst <= 75) return "L";
  return "XL";
}
const LIMITS: Record<string, [number, number]> = {
  XS: [1, 15],
  S: [3, 60],
  M: [10, 150],
  L: [75, 700],
  XL: [350, 3500],
};

function tierOf(method: string, path: string): string | null {
  const op = matchOperation(method, path.split("?")[0] ?? path);
  return op ? tierName(op.operation.tier.burst) : null;
}

async function run(action: string, inputs: Record<string, unknown>) {
  const exchanges: Exchange[] = [];
  const capture = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const headers = Object.fromEntries(request.headers);
    if (headers.authorization) headers.authorization = "Klaviyo-API-Key pk_…****";
    const body = init?.body;
    const started = performance.now();
    const exchange: Exchange = {
      request: {
        method: request.method,
        url: request.url,
        headers,
        ...(typeof body === "string" ? { body } : body ? { body: "<binary or form body>" } : {}),
      },
      ms: 0,
    };
    exchanges.push(exchange);
    const response = await emulator.fetch(input, init);
    const text = await response.clone().text();
    exchange.ms = performance.now() - started;
    exchange.response = {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: text,
    };
    return response;
  };
  const client = new KlaviyoClient({ apiKey: DEV_API_KEY, baseUrl: emulator.baseUrl, fetch: capture });
  const started = performance.now();
  const at = new Date().toISOString();
  const label = manifest().actions.find((a) => a.key === action)?.label ?? action;
  let output: unknown;
  let error: Record<string, unknown> | undefined;
  try {
    output = await runAction(action, inputs, { client });
    if (output instanceof Uint8Array) output = { base64: Buffer.from(output).toString("base64") };
  } catch (e) {
    const err = e as Error & { status?: number; issues?: unknown };
    error = {
      name: err.name,
      message: err.message,
      ...(err.status ? { status: err.status } : {}),
      ...(err.issues ? { issues: err.issues } : {}),
    };
  }
  const result = {
    id: nextId++,
    action,
    label,
    at,
    ms: performance.now() - started,
    ok: !error,
    ...(output !== undefined ? { output } : {}),
    ...(error ? { error } : {}),
    exchanges,
    ...(client.lastRateLimit ? { rateLimit: client.lastRateLimit } : {}),
    snippets: {
      cli: `npx klaviyo run ${action} --inputs '${JSON.stringify(inputs)}'`,
      library: `await runAction(${JSON.stringify(action)}, ${JSON.stringify(inputs, null, 2)}, { client });`,
      curl: exchanges
        .map((x) => `curl -X ${x.request.method} '${x.request.url}' -H 'Authorization: ****'`)
        .join("\n"),
    },
  };
  const imageId =
    (output as { data?: { id?: string }; id?: string } | undefined)?.data?.id ??
    (output as { id?: string } | undefined)?.id;
  const data = inputs.fileData ?? inputs.imageUrl;
  if (action === "upload-image" && imageId && typeof data === "string") {
    const base64 = data.startsWith("data:") ? data.slice(data.indexOf(",") + 1) : data;
    const type = data.startsWith("data:") ? data.slice(5, data.indexOf(";")) : "image/png";
    if (!data.startsWith("http")) imageBytes.set(imageId, { bytes: Buffer.from(base64, "base64"), type });
  }
  runs.unshift(result);
  runs.length = Math.min(runs.length, 100);
  return result;
}

interface Row {
  id: string;
  attributes: Record<string, unknown>;
}

function resources(table: { values(): Iterable<Row> }, type: string): Array<Row & { type: string }> {
  return [...table.values()]
    .reverse()
    .slice(0, 500)
    .map((row) => ({ type, id: row.id, attributes: row.attributes }));
}

function state() {
  const s = emulator.state;
  const members = (listId: string) => [...(s.memberships.get(listId)?.keys() ?? [])];
  return {
    counts: {
      profiles: s.profiles.size,
      lists: s.lists.size,
      segments: s.segments.size,
      campaigns: s.campaigns.size,
      templates: s.templates.size,
      images: s.images.size,
      metrics: s.metrics.size,
      events: s.events.size,
    },
    profiles: resources(s.profiles, "profile"),
    lists: resources(s.lists, "list").map((l) => ({ ...l, members: members(l.id) })),
    segments: resources(s.segments, "segment"),
    campaigns: resources(s.campaigns, "campaign"),
    templates: resources(s.templates, "template"),
    images: resources(s.images, "image"),
    metrics: resources(s.metrics, "metric"),
    events: [...s.events.values()]
      .reverse()
      .slice(0, 500)
      .map((e) => ({
        type: "event",
        id: e.id,
        attributes: e.attributes,
        relationships: {
          metric: { data: { type: "metric", id: e.metricId } },
          profile: { data: { type: "profile", id: e.profileId } },
        },
      })),
  };
}

function requestLog(limit: number) {
  return [...emulator.requests]
    .reverse()
    .slice(0, limit)
    .map((r) => ({
      at: r.at,
      method: r.method,
      path: r.path,
      operationId: r.operationId ?? null,
      status: r.status,
      fault: r.fault ?? null,
      tier: tierOf(r.method, r.path),
    }));
}

function rates(seconds: number) {
  const now = Date.now();
  const end = Math.floor(now / 1000) * 1000;
  const first = end - (seconds - 1) * 1000;
  const byTier = new Map<string, Map<number, { requests: number; throttled: number; faults: number }>>();
  for (const r of emulator.requests) {
    const t = Math.floor(r.at / 1000) * 1000;
    if (t < first) continue;
    const tier = tierOf(r.method, r.path);
    if (!tier) continue;
    const slots = byTier.get(tier) ?? new Map();
    byTier.set(tier, slots);
    const slot = slots.get(t) ?? { requests: 0, throttled: 0, faults: 0 };
    slots.set(t, slot);
    slot.requests++;
    if (r.status === 429) slot.throttled++;
    if (r.fault) slot.faults++;
  }
  return {
    now,
    tiers: Object.entries(LIMITS).map(([tier, [burst, steady]]) => ({
      tier,
      burstPerSecond: burst,
      steadyPerMinute: steady,
      seconds: Array.from({ length: seconds }, (_, i) => {
        const t = first + i * 1000;
        return { t, ...(byTier.get(tier)?.get(t) ?? { requests: 0, throttled: 0, faults: 0 }) };
      }),
    })),
  };
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

function send(res: ServerResponse, status: number, body: unknown, type = "application/json; charset=utf-8") {
  res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store" });
  res.end(typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function handle(req: IncomingMessage, res: ServerResponse) {
  res.setHeader("Content-Security-Policy", CSP);
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Referrer-Policy", "no-referrer");
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  if (url.pathname.startsWith("/api/")) {
    if (req.headers["x-playground-token"] !== token) return send(res, 403, { error: "bad token" });
    const path = url.pathname;
    if (path === "/api/info")
      return send(res, 200, {
        mode: "emulator",
        baseUrl: emulator.baseUrl,
        connection: "api-key",
        version: "0.1.0",
        revision: "2026-07-15",
      });
    if (path === "/api/manifest") return send(res, 200, manifest());
    if (path === "/api/history") return send(res, 200, { runs });
    if (path === "/api/run" && req.method === "POST") {
      const body = JSON.parse(await readBody(req)) as { action: string; inputs: Record<string, unknown> };
      return send(res, 200, await run(body.action, body.inputs ?? {}));
    }
    if (path === "/api/emulator/state") return send(res, 200, state());
    if (path === "/api/emulator/requests")
      return send(res, 200, { requests: requestLog(Number(url.searchParams.get("limit") ?? 200)) });
    if (path === "/api/emulator/rates")
      return send(res, 200, rates(Number(url.searchParams.get("seconds") ?? 60)));
    if (path === "/api/emulator/reset" && req.method === "POST") {
      emulator.reset();
      return send(res, 200, { ok: true });
    }
    const image = /^\/api\/emulator\/images\/([^/]+)$/.exec(path);
    if (image) {
      const kept = imageBytes.get(decodeURIComponent(image[1] ?? ""));
      if (kept) return send(res, 200, kept.bytes, kept.type);
      return send(res, 404, { error: "no image bytes" });
    }
    return send(res, 404, { error: "not found" });
  }
  if (url.pathname === "/" && url.searchParams.get("token") !== token)
    return send(
      res,
      403,
      "<p>This playground needs the address printed by klaviyo ui (with its token)</p>",
      "text/html",
    );
  const file = normalize(join(staticDir, url.pathname === "/" ? "index.html" : url.pathname));
  if (!file.startsWith(staticDir)) return send(res, 403, { error: "no" });
  try {
    const bytes = await readFile(file);
    return send(res, 200, bytes, TYPES[extname(file)] ?? "application/octet-stream");
  } catch {
    return send(res, 404, "not found", "text/plain");
  }
}

createServer((req, res) => {
  handle(req, res).catch((error: unknown) => send(res, 500, { error: String(error) }));
}).listen(port, "127.0.0.1", () => {
  console.log(`http://127.0.0.1:${port}/?token=${token}`);
});
