/**
 * `klaviyo-connector/redis`: what many workers of one account share through Redis (needs the optional package
 * `@redis/client`). The rate limits: `createRedisRateLimitStore` (or just `KLAVIYO_REDIS_URL` / the client option
 * `redisUrl`); the OAuth tokens, encrypted, with one refresh per expiry across workers: `createRedisTokenStore`.
 * docs/DEPLOYMENT.md says how to run them.
 */
export { type EncryptionError, encryptionKeyFrom } from "./encryption.js";
export {
  BACK_MESSAGE,
  createRedisRateLimitStore,
  type RedisRateLimitStore,
  type RedisRateLimitStoreOptions,
  UNAVAILABLE_MESSAGE,
} from "./redis-rate-store.js";
export {
  createRedisTokenStore,
  type RedisTokenStore,
  type RedisTokenStoreOptions,
} from "./redis-token-store.js";
