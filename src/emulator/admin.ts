/**
 * Admin routes under `/__emulator/` (a prefix Klaviyo never uses, so they cannot be mistaken for its API):
 * health, reset, the request log, and faults, delays and rate limits changed while running. They need no
 * key: the emulator listens on loopback only, for the tests and tools of the machine it runs on.
 */
import { Hono } from "hono";
import * as v from "valibot";
import { DEFAULT_REVISION, PACKAGE_VERSION } from "../core/version.js";
import { parse } from "../klaviyo/schema.js";
import type { RequestRecord } from "./connection.js";
import type { EmulatorBindings } from "./env.js";
import { FAULT_KINDS, type FaultSpec } from "./faults.js";
import { checkLatency, type LatencyMs } from "./latency.js";
import type { RateLimitMode } from "./rate-limit.js";
import { readBodyWithin } from "./request-body.js";

export interface AdminControls {
  readonly requests: readonly RequestRecord[];
  reset(): void;
  clearRequests(): void;
  config(): {
    faults: readonly FaultSpec[];
    latencyMs: LatencyMs;
    requestLatencyMs: LatencyMs;
    rateLimits: RateLimitMode;
  };
  setFaults(faults: readonly FaultSpec[]): void;
  setLatency(latency: LatencyMs): void;
  setRequestLatency(latency: LatencyMs): void;
  setRateLimits(mode: RateLimitMode): void;
  counts(): Record<string, number>;
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
    const bytes = await readBodyWithin(c.req.raw, c.env?.incoming, CONFIG_BODY_LIMIT);
    if (!bytes) {
      const detail = `The body is larger than ${CONFIG_BODY_LIMIT} bytes.`;
      return problem(413, detail, "request_too_large", "Request entity too large.");
    }
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      return problem(400, "The body must be JSON.");
    }
    const parsed = parse(configSchema, body);
    if (!parsed.success)
      return problem(400, parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
    const { faults, rateLimits } = parsed.data;
    // Every value is checked before any is applied: a refused config changes nothing.
    let latencyMs: LatencyMs | undefined;
    let requestLatencyMs: LatencyMs | undefined;
    try {
      if (parsed.data.latencyMs !== undefined) latencyMs = checkLatency(parsed.data.latencyMs, "latencyMs");
      if (parsed.data.requestLatencyMs !== undefined)
        requestLatencyMs = checkLatency(parsed.data.requestLatencyMs, "requestLatencyMs");
    } catch (error) {
      return problem(400, error instanceof Error ? error.message : String(error));
    }
    if (faults) controls.setFaults(faults);
    if (latencyMs !== undefined) controls.setLatency(latencyMs);
    if (requestLatencyMs !== undefined) controls.setRequestLatency(requestLatencyMs);
    if (rateLimits) controls.setRateLimits(rateLimits);
    return c.json(controls.config());
  });
  admin.all("*", () => problem(404, "Unknown admin route. Try /__emulator/health."));
  return admin;
}
