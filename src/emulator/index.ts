/** The Klaviyo emulator: `createEmulator` in-process, `startEmulator` on a real port. */
export {
  createEmulator,
  type Emulator,
  type EmulatorOptions,
  type FetchFunction,
  IN_PROCESS_BASE_URL,
} from "./app.js";
export { API_KEY_SCHEME, CredentialRegistry, DEV_API_KEY, knownScopes, type Principal } from "./auth.js";
export { REQUEST_LOG_LIMIT, type RequestRecord } from "./connection.js";
export { FAULT_KINDS, type FaultKind, type FaultSpec, parseFaults } from "./faults.js";
export { checkLatency, type LatencyMs, MAX_LATENCY_MS, parseLatency } from "./latency.js";
export {
  checkOAuthClients,
  DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
  type OAuthClient,
  type OAuthControls,
  parseOAuthClients,
  s256,
  type TokenRequestCounts,
  type TokenResponse,
} from "./oauth.js";
export { parseRateLimitMode, type RateLimitMode } from "./rate-limit.js";
export {
  DEFAULT_WEBHOOK_BATCH_WINDOW_MS,
  DEFAULT_WEBHOOK_RETRY_DELAYS_MS,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  DELIVERY_LOG_LIMIT,
  type WebhookDeliveryAttempt,
} from "./resources/webhooks-delivery.js";
export { WEBHOOK_ACCESS_DETAIL } from "./resources/webhooks-model.js";
export { type RunningEmulator, type StartOptions, startEmulator } from "./server.js";
export { type Account, type AccountAttributes, SEED_ACCOUNT_ID } from "./state.js";
