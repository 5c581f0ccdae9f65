/**
 * Webhook event IDs seen, in Redis: the `DedupeStore` of `webhookNodeHandler` / `webhookFetchHandler` when several
 * processes (or instances behind a load balancer) receive one webhook's deliveries, so that an event Klaviyo
 * delivers twice is handed over once whichever process gets the repeat.
 *
 * `claim(id)` is one `SET <prefix><id> 1 NX EX <ttl>`: atomic, so two processes claiming the same ID at the same
 * moment cannot both win. `release(id)` (a handler whose callback threw gives the event back for Klaviyo's retry)
 * is a `DEL`. A Redis that does not answer makes `claim` throw, and the handler answers 500: Klaviyo retries later,
 * rather than the event being handed over without knowing whether it was already.
 */
import type { DedupeStore } from "../webhooks/dedupe.js";
import type { RedisCommandClient } from "./token-store.js";

export interface RedisDedupeStoreOptions {
  /** A connected client (`@redis/client`'s `createClient()` after `connect()`, or anything with `sendCommand`). */
  readonly client: RedisCommandClient;
  /** The keys' prefix; default `klaviyo:webhook-seen:` (give one per webhook if several share a Redis). */
  readonly prefix?: string;
  /**
   * How long an ID is remembered, in seconds; default 7 days. Klaviyo retries a failing delivery for hours (flow
   * webhooks: 24 hours; the schedule of system webhooks is not documented), so a repeat comes well within it.
   */
  readonly ttlSeconds?: number;
}

/** A week: beyond any retry schedule Klaviyo documents. */
export const DEFAULT_DEDUPE_TTL_SECONDS = 7 * 86_400;

/** A dedupe store in Redis (see the module's comment). */
export function redisDedupeStore(options: RedisDedupeStoreOptions): DedupeStore {
  const prefix = options.prefix ?? "klaviyo:webhook-seen:";
  const ttl = options.ttlSeconds ?? DEFAULT_DEDUPE_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 1)
    throw new RangeError("redisDedupeStore: ttlSeconds must be a whole number ≥ 1");
  if (typeof options.client?.sendCommand !== "function")
    throw new TypeError("redisDedupeStore needs a connected Redis client (anything with sendCommand)");
  const { client } = options;
  return {
    async claim(externalId) {
      const answer = await client.sendCommand(["SET", prefix + externalId, "1", "NX", "EX", String(ttl)]);
      return answer === "OK";
    },
    async release(externalId) {
      await client.sendCommand(["DEL", prefix + externalId]);
    },
  };
}
