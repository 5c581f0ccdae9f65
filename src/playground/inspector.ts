/**
 * The emulator inspector's data: what the embedded emulator holds (in wire form), its request log with each
 * request's rate tier, requests per second per tier against the tiers' limits, and the bytes of images uploaded
 * through the playground (the emulator itself keeps no image bytes, so they are kept here as they go by).
 */

import { redact } from "../core/redact.js";
import type { Emulator } from "../emulator/app.js";
import { MAX_IMAGE_BYTES, parseDataUri, sniffImageFormat } from "../emulator/resources/images-bytes.js";
import { seedDemo } from "../emulator/seed.js";
import { TABLE_NAMES } from "../emulator/state.js";
import type { ResourceRow } from "../emulator/store.js";
import { getOperation } from "../klaviyo/operations.js";
import type { RateTier } from "../klaviyo/rate-window.js";
import { effectiveTier } from "../klaviyo/tiers.js";
import type { EmulatorState, Rates, RequestEntry, Resource, TierName } from "./contract.js";
import type { ExchangeObserver } from "./record.js";

/** Klaviyo's rate tiers by name, with the limits the operation table gives each (burst per second, per minute). */
export const TIERS = [
  { tier: "XS", burst: 1, steady: 15 },
  { tier: "S", burst: 3, steady: 60 },
  { tier: "M", burst: 10, steady: 150 },
  { tier: "L", burst: 75, steady: 750 },
  { tier: "XL", burst: 350, steady: 3500 },
] as const;

export type { TierName };

/** The tier name of an operation's limits (by its burst limit: 1 XS, 3 S, 10 M, 75 L, more XL). */
export function tierName(tier: RateTier): TierName {
  if (tier.burst <= 1) return "XS";
  if (tier.burst <= 3) return "S";
  if (tier.burst <= 10) return "M";
  if (tier.burst <= 75) return "L";
  return "XL";
}

/** At most this many rows of each kind (the newest), and of a list's members. */
const ROWS_LIMIT = 500;
/** Image bytes kept for thumbnails: the latest this many uploads. */
const IMAGES_KEPT = 100;

function newest<R>(rows: Iterable<R>, limit = ROWS_LIMIT): R[] {
  const all = [...rows];
  return all.slice(Math.max(0, all.length - limit)).reverse();
}

function one(type: string, id: string): { data: { type: string; id: string } } {
  return { data: { type, id } };
}

export class Inspector {
  readonly #images = new Map<string, Uint8Array>();

  constructor(readonly emulator: Emulator) {}

  /** Resets the emulator to its demo data. */
  reset(): void {
    this.emulator.reset();
    seedDemo(this.emulator.state);
    this.#images.clear();
  }

  /** `GET /api/emulator/state`. */
  state(): EmulatorState {
    const s = this.emulator.state;
    const plain =
      (type: string) =>
      (row: ResourceRow): Resource => ({
        type,
        id: row.id,
        attributes: row.attributes,
      });
    return {
      counts: Object.fromEntries(TABLE_NAMES.map((name) => [name, s[name].size])),
      profiles: newest(s.profiles.values()).map((row) => ({
        type: "profile",
        id: row.id,
        attributes: { ...row.attributes, subscriptions: row.subscriptions },
      })),
      lists: newest(s.lists.values()).map((row) => {
        const members = [...(s.memberships.get(row.id)?.keys() ?? [])];
        return {
          ...plain("list")(row),
          members: members.slice(0, ROWS_LIMIT),
          memberCount: members.length,
        };
      }),
      segments: newest(s.segments.values()).map(plain("segment")),
      campaigns: newest(s.campaigns.values()).map((row) => ({
        ...plain("campaign")(row),
        relationships: {
          "campaign-messages": { data: row.messageIds.map((id) => ({ type: "campaign-message", id })) },
        },
      })),
      campaignMessages: newest(s.campaignMessages.values()).map((row) => ({
        ...plain("campaign-message")(row),
        relationships: {
          campaign: one("campaign", row.campaignId),
          template: { data: row.templateId ? { type: "template", id: row.templateId } : null },
        },
      })),
      templates: newest(s.templates.values()).map(plain("template")),
      images: newest(s.images.values()).map((row) => ({
        ...plain("image")(row),
        thumbnail: this.#images.has(row.id),
      })),
      metrics: newest(s.metrics.values()).map(plain("metric")),
      events: newest(s.events.values()).map((row) => ({
        ...plain("event")(row),
        relationships: { metric: one("metric", row.metricId), profile: one("profile", row.profileId) },
      })),
    };
  }

  /** An uploaded image's bytes and type, when it went through the playground. */
  image(id: string): { bytes: Uint8Array; contentType: string } | undefined {
    const bytes = this.#images.get(id);
    const row = this.emulator.state.images.get(id);
    if (!bytes || !row) return undefined;
    return { bytes, contentType: row.contentType };
  }

  /** `GET /api/emulator/requests`: the log, newest first, each with its tier name. */
  requests(limit: number): RequestEntry[] {
    return newest(this.emulator.requests, limit).map((r) => ({
      at: r.at,
      method: r.method,
      path: redact(r.path),
      operationId: r.operationId ?? null,
      status: r.status,
      fault: r.fault ?? null,
      tier: this.#tierOf(r.operationId, r.path),
    }));
  }

  #tierOf(operationId: string | undefined, path: string): TierName | null {
    if (!operationId) return null;
    try {
      return tierName(
        effectiveTier(getOperation(operationId), new URL(path, "http://emulator").searchParams),
      );
    } catch {
      return null;
    }
  }

  /** `GET /api/emulator/rates`: requests, 429s and faults per second per tier, over the last `seconds`. */
  rates(seconds: number, now = Date.now()): Rates {
    const mode = this.emulator.rateLimits;
    const current = Math.floor(now / 1000) * 1000;
    const first = current - (seconds - 1) * 1000;
    const series = new Map(
      TIERS.map(({ tier }) => [
        tier as string,
        Array.from({ length: seconds }, (_, i) => ({
          t: first + i * 1000,
          requests: 0,
          throttled: 0,
          faults: 0,
        })),
      ]),
    );
    for (const r of this.emulator.requests) {
      if (r.at < first) continue;
      const index = Math.floor((r.at - first) / 1000);
      const tier = this.#tierOf(r.operationId, r.path);
      const bucket = tier ? series.get(tier)?.[index] : undefined;
      if (!bucket) continue;
      bucket.requests++;
      if (r.fault) bucket.faults++;
      else if (r.status === 429) bucket.throttled++;
    }
    const scaled = (limit: number): number | null =>
      mode === "off" ? null : mode === "real" ? limit : Math.max(1, Math.floor(limit * mode.scale));
    return {
      now,
      tiers: TIERS.map(({ tier, burst, steady }) => ({
        tier,
        burstPerSecond: scaled(burst),
        steadyPerMinute: scaled(steady),
        seconds: series.get(tier) ?? [],
      })),
    };
  }

  /** Keeps the bytes of images uploaded through the playground, by the id the emulator gave them. */
  readonly observe: ExchangeObserver = (request, response) => {
    if (request.method !== "POST" || response.status !== 201) return;
    const path = new URL(request.url).pathname.replace(/\/+$/, "");
    if (path !== "/api/images" && path !== "/api/image-upload") return;
    let id: unknown;
    try {
      id = (JSON.parse(new TextDecoder().decode(response.bytes)) as { data?: { id?: unknown } }).data?.id;
    } catch {
      return;
    }
    if (typeof id !== "string") return;
    const body = request.body;
    if (typeof body === "string") {
      let source: unknown;
      try {
        source = (JSON.parse(body) as { data?: { attributes?: { import_from_url?: unknown } } }).data
          ?.attributes?.import_from_url;
      } catch {
        return;
      }
      if (typeof source !== "string" || !/^\s*data:/i.test(source)) return;
      const parsed = parseDataUri(source.trim());
      if (typeof parsed !== "string") this.#keep(id, parsed.bytes);
    } else if (body instanceof FormData) {
      const file = body.get("file");
      if (file && typeof file !== "string")
        void file.arrayBuffer().then(
          (buffer) => this.#keep(id, new Uint8Array(buffer)),
          () => {},
        );
    }
  };

  #keep(id: string, bytes: Uint8Array): void {
    if (bytes.byteLength > MAX_IMAGE_BYTES || !sniffImageFormat(bytes)) return;
    this.#images.set(id, bytes);
    while (this.#images.size > IMAGES_KEPT) {
      const oldest = this.#images.keys().next().value;
      if (oldest === undefined) break;
      this.#images.delete(oldest);
    }
  }
}
