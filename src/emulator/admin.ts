/**
 * Admin routes under `/__emulator/` (a prefix Klaviyo never uses, so they cannot be mistaken for its API):
 * health, reset, the request log, and faults, delays, rate limits and the events' indexing lag changed while
 * running; and what tests need of the state that Klaviyo's API cannot do: archive a campaign, hold one event back
 * from reads (indexed late); and webhooks: the delivery log, the account's webhook access, waiting for deliveries
 * to settle. They need no key: the emulator listens on loopback only, for the tests and tools of
 * the machine it runs on.
 */
import { Hono } from "hono";
import * as v from "valibot";
import { DEFAULT_REVISION, PACKAGE_VERSION } from "../core/version.js";
import { issueLines, parse } from "../klaviyo/schema.js";
import type { RequestRecord } from "./connection.js";
import type { EmulatorBindings } from "./env.js";
import { FAULT_KINDS, type FaultSpec } from "./faults.js";
import { checkLatency, type LatencyMs } from "./latency.js";
import type { RateLimitMode } from "./rate-limit.js";
import { readBodyWithin } from "./request-body.js";
import { checkEventVisibilityDelay } from "./resources/events-model.js";
import type { WebhookDeliveryAttempt } from "./resources/webhooks-delivery.js";

/** An event as the admin routes describe it: when it happened, and when reads see it. */
export interface AdminEventView {
  readonly id: string;
  readonly metric_id: string;
  readonly profile_id: string;
  readonly datetime: unknown;
  /** When Get Event(s) first see it (ISO, the emulator's clock); null when seen at once. */
  readonly visible_at: string | null;
  /** Whether reads see it now. */
  readonly visible: boolean;
}

/** A campaign as the archive route answers it. */
export interface AdminCampaignView {
  readonly id: string;
  readonly archived: boolean;
  readonly updated_at: unknown;
}

export interface AdminControls {
  readonly requests: readonly RequestRecord[];
  reset(): void;
  clearRequests(): void;
  config(): {
    faults: readonly FaultSpec[];
    latencyMs: LatencyMs;
    requestLatencyMs: LatencyMs;
    rateLimits: RateLimitMode;
    eventVisibilityDelayMs: number;
  };
  setFaults(faults: readonly FaultSpec[]): void;
  setLatency(latency: LatencyMs): void;
  setRequestLatency(latency: LatencyMs): void;
  setRateLimits(mode: RateLimitMode): void;
  setEventVisibilityDelay(ms: number): void;
  counts(): Record<string, number>;
  /** The emulator's clock (epoch ms). */
  now(): number;
  /** Events reads do not see yet, in recording order. */
  hiddenEvents(): AdminEventView[];
  /** Holds an event back from reads until `visibleAt` (epoch ms), or shows it now (`undefined`); undefined if unknown. */
  setEventVisibleAt(id: string, visibleAt: number | undefined): AdminEventView | undefined;
  /** Archives a campaign or brings it back (`touch`: move `updated_at`); undefined if unknown. */
  archiveCampaign(id: string, archived: boolean, touch: boolean): AdminCampaignView | undefined;
  /** The newest webhook delivery attempts, oldest first. */
  webhookDeliveries(): readonly WebhookDeliveryAttempt[];
  setWebhookAccess(enabled: boolean): void;
  /** Resolves once no webhook delivery is batched, in flight or waiting for a retry. */
  settleWebhooks(): Promise<void>;
}

const configSchema = v.strictObject({
  faults: v.optional(
    v.array(
      v.object({
        kind: v.picklist(FAULT_KINDS),
        probability: v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(1)),
        operation: v.optional(v.string()),
      }),
    ),
  ),
  // Milliseconds or [min, max]: checked by `checkLatency` below, whose messages name the bounds.
  latencyMs: v.optional(v.unknown()),
  requestLatencyMs: v.optional(v.unknown()),
  // Milliseconds, checked by `checkEventVisibilityDelay`.
  eventVisibilityDelayMs: v.optional(v.unknown()),
  rateLimits: v.optional(
    v.union([
      v.literal("real"),
      v.literal("off"),
      v.object({ scale: v.pipe(v.number(), v.finite(), v.gtValue(0)) }),
    ]),
  ),
});

function problem(status: number, detail: string, code = "invalid", title = "Invalid input."): Response {
  return Response.json({ errors: [{ status, code, title, detail }] }, { status });
}

/** The most `PUT /__emulator/config` reads of a body: a config takes a few kilobytes. */
export const CONFIG_BODY_LIMIT = 1024 * 1024;

/** The JSON body of an admin request, or the problem to answer instead (too large, not JSON). */
async function readAdminJson(c: {
  req: { raw: Request };
  env?: EmulatorBindings | undefined;
}): Promise<{ body: unknown } | { problem: Response }> {
  const bytes = await readBodyWithin(c.req.raw, c.env?.incoming, CONFIG_BODY_LIMIT);
  if (!bytes) {
    const detail = `The body is larger than ${CONFIG_BODY_LIMIT} bytes.`;
    return { problem: problem(413, detail, "request_too_large", "Request entity too large.") };
  }
  try {
    return { body: JSON.parse(new TextDecoder().decode(bytes)) };
  } catch {
    return { problem: problem(400, "The body must be JSON.") };
  }
}

const visibilitySchema = v.strictObject({
  // An ISO 8601 time or epoch milliseconds; null shows the event now.
  visibleAt: v.optional(v.nullable(v.union([v.string(), v.pipe(v.number(), v.finite())]))),
  // From the emulator's clock now.
  delayMs: v.optional(v.unknown()),
});

const webhookAccessSchema = v.strictObject({ enabled: v.boolean() });

const archiveSchema = v.strictObject({
  archived: v.optional(v.boolean()),
  touch: v.optional(v.boolean()),
});

/** The admin app, mounted at `/__emulator`. */
export function adminRoutes(controls: AdminControls): Hono<{ Bindings: EmulatorBindings }> {
  const admin = new Hono<{ Bindings: EmulatorBindings }>();
  admin.get("/health", (c) =>
    c.json({
      status: "ok",
      version: PACKAGE_VERSION,
      revision: DEFAULT_REVISION,
      resources: controls.counts(),
    }),
  );
  admin.post("/reset", (c) => {
    controls.reset();
    return c.body(null, 204);
  });
  admin.get("/requests", (c) => c.json({ requests: controls.requests }));
  admin.delete("/requests", (c) => {
    controls.clearRequests();
    return c.body(null, 204);
  });
  admin.get("/config", (c) => c.json(controls.config()));
  admin.on(["PUT", "PATCH"], "/config", async (c) => {
    const read = await readAdminJson(c);
    if ("problem" in read) return read.problem;
    const parsed = parse(configSchema, read.body);
    if (!parsed.success)
      return problem(400, parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
    const { faults, rateLimits } = parsed.data;
    // Every value is checked before any is applied: a refused config changes nothing.
    let latencyMs: LatencyMs | undefined;
    let requestLatencyMs: LatencyMs | undefined;
    let visibilityDelayMs: number | undefined;
    try {
      if (parsed.data.latencyMs !== undefined) latencyMs = checkLatency(parsed.data.latencyMs, "latencyMs");
      if (parsed.data.requestLatencyMs !== undefined)
        requestLatencyMs = checkLatency(parsed.data.requestLatencyMs, "requestLatencyMs");
      if (parsed.data.eventVisibilityDelayMs !== undefined)
        visibilityDelayMs = checkEventVisibilityDelay(parsed.data.eventVisibilityDelayMs);
    } catch (error) {
      return problem(400, error instanceof Error ? error.message : String(error));
    }
    if (faults) controls.setFaults(faults);
    if (latencyMs !== undefined) controls.setLatency(latencyMs);
    if (requestLatencyMs !== undefined) controls.setRequestLatency(requestLatencyMs);
    if (rateLimits) controls.setRateLimits(rateLimits);
    if (visibilityDelayMs !== undefined) controls.setEventVisibilityDelay(visibilityDelayMs);
    return c.json(controls.config());
  });
  // Late data: the events reads do not see yet, and one event held back (or shown) by hand.
  admin.get("/events/hidden", (c) => c.json({ events: controls.hiddenEvents() }));
  admin.put("/events/:id/visibility", async (c) => {
    const read = await readAdminJson(c);
    if ("problem" in read) return read.problem;
    const parsed = parse(visibilitySchema, read.body);
    if (!parsed.success) return problem(400, issueLines(parsed.error.issues).join("; "));
    const { visibleAt, delayMs } = parsed.data;
    if ((visibleAt === undefined) === (delayMs === undefined))
      return problem(400, "Give either visibleAt (an ISO 8601 time, epoch ms, or null) or delayMs.");
    let at: number | undefined;
    try {
      if (delayMs !== undefined) at = controls.now() + checkEventVisibilityDelay(delayMs, "delayMs");
      else if (typeof visibleAt === "number") at = visibleAt;
      else if (typeof visibleAt === "string") {
        at = Date.parse(visibleAt);
        if (!Number.isFinite(at)) throw new Error(`visibleAt is not an ISO 8601 time: ${visibleAt}`);
      }
    } catch (error) {
      return problem(400, error instanceof Error ? error.message : String(error));
    }
    const view = controls.setEventVisibleAt(c.req.param("id"), at);
    if (!view)
      return problem(404, `No event with id '${c.req.param("id")}' exists.`, "not_found", "Not found.");
    return c.json(view);
  });
  // Klaviyo's API cannot archive a campaign (its app can): tests and seeds do it here.
  admin.put("/campaigns/:id/archived", async (c) => {
    const read = await readAdminJson(c);
    if ("problem" in read) return read.problem;
    const parsed = parse(archiveSchema, read.body);
    if (!parsed.success) return problem(400, issueLines(parsed.error.issues).join("; "));
    const id = c.req.param("id");
    const view = controls.archiveCampaign(id, parsed.data.archived ?? true, parsed.data.touch ?? true);
    if (!view) return problem(404, `A campaign with id '${id}' does not exist.`, "not_found", "Not found.");
    return c.json(view);
  });
  // Webhooks: what was delivered, the account's access to the Webhooks API, and waiting for deliveries to end.
  admin.get("/webhooks/deliveries", (c) => c.json({ data: controls.webhookDeliveries() }));
  admin.put("/webhooks/access", async (c) => {
    const read = await readAdminJson(c);
    if ("problem" in read) return read.problem;
    const parsed = parse(webhookAccessSchema, read.body);
    if (!parsed.success) return problem(400, issueLines(parsed.error.issues).join("; "));
    controls.setWebhookAccess(parsed.data.enabled);
    return c.json({ enabled: parsed.data.enabled });
  });
  admin.post("/webhooks/settle", async (c) => {
    await controls.settleWebhooks();
    return c.body(null, 204);
  });
  admin.all("*", () => problem(404, "Unknown admin route. Try /__emulator/health."));
  return admin;
}
