/**
 * Admin routes under `/__emulator/` (a prefix Klaviyo never uses, so they cannot be mistaken for its API):
 * health, reset, the request log, and faults, latency and rate limits changed while running. They need no
 * key: the emulator listens on loopback only, for the tests and tools of the machine it runs on.
 */
import { Hono } from "hono";
import * as v from "valibot";
import { DEFAULT_REVISION, PACKAGE_VERSION } from "../core/version.js";
import { parse } from "../klaviyo/schema.js";
import type { RequestRecord } from "./connection.js";
import type { EmulatorBindings } from "./env.js";
import { FAULT_KINDS, type FaultSpec } from "./faults.js";
import type { RateLimitMode } from "./rate-limit.js";
import { readBodyWithin } from "./request-body.js";

export interface AdminControls {
  readonly requests: readonly RequestRecord[];
  reset(): void;
  clearRequests(): void;
  config(): { faults: readonly FaultSpec[]; latencyMs: number; rateLimits: RateLimitMode };
  setFaults(faults: readonly FaultSpec[]): void;
  setLatency(ms: number): void;
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
  latencyMs: v.optional(v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(600_000))),
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
    const { faults, latencyMs, rateLimits } = parsed.data;
    if (faults) controls.setFaults(faults);
    if (latencyMs !== undefined) controls.setLatency(latencyMs);
    if (rateLimits) controls.setRateLimits(rateLimits);
    return c.json(controls.config());
  });
  admin.all("*", () => problem(404, "Unknown admin route. Try /__emulator/health."));
  return admin;
}
