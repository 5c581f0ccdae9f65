/**
 * Receiving Klaviyo's webhooks: `verifyWebhook` for a delivery of a system webhook, ready handlers for a fetch
 * `Request` and a node `IncomingMessage` (verified, repeats dropped by `external_id`), and receivers for flow
 * webhooks, which Klaviyo does not sign, protected by a secret token in their URL.
 */
export { DEFAULT_MAX_BODY_BYTES } from "./body.js";
export { DEFAULT_DEDUPE_MAX, type DedupeStore, type MemoryDedupeStore, memoryDedupeStore } from "./dedupe.js";
export {
  type FlowWebhookHandlerOptions,
  flowWebhookFetchHandler,
  flowWebhookNodeHandler,
  flowWebhookToken,
  flowWebhookTokenOf,
} from "./flow.js";
export { type WebhookHandlerOptions, webhookFetchHandler, webhookNodeHandler } from "./handlers.js";
export {
  headerValue,
  verifyWebhook,
  type WebhookHeaders,
  WebhookVerificationError,
  type WebhookVerificationReason,
} from "./verify.js";
