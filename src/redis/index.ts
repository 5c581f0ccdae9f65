/**
 * `klaviyo-connector/redis`: what many workers of one account share through Redis (needs the optional package
 * `@redis/client`). The rate limits: `redisRateLimiter(url)` for a client's `rateLimiter` (or
 * `createRedisRateLimitStore` for a `RateLimiter` of your own); the OAuth tokens, encrypted, with one refresh per expiry across workers: `createRedisTokenStore`;
 * the webhook events already handed over, so that receivers in several processes drop Klaviyo's repeats: `redisDedupeStore`.
 * docs/DEPLOYMENT.md says how to run them.
 */
export {
  DEFAULT_DEDUPE_TTL_SECONDS,
  type RedisDedupeStoreOptions,
  redisDedupeStore,
} from "./dedupe-store.js";
export { type EncryptionError, encryptionKeyFrom } from "./encryption.js";
export {
  BACK_MESSAGE,
  createRedisRateLimitStore,
  type RedisRateLimitStore,
  type RedisRateLimitStoreOptions,
  UNAVAILABLE_MESSAGE,
} from "./rate-store.js";
export { closeSharedStores, redisRateLimiter, redisStoreFor } from "./shared.js";
export {
  createRedisTokenStore,
  type RedisTokenStore,
  type RedisTokenStoreOptions,
} from "./token-store.js";
