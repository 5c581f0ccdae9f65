export { connections, DEFAULT_SCOPES } from "./actions/connections.js";
export {
  type ActionContext,
  type AnyAction,
  actionContext,
  type BoundInput,
  defineAction,
  fromText,
  type ListStream,
  type ValidateOptions,
  validateInputs,
} from "./actions/define.js";
// The registry, runAction, and every action's definition (getList, createProfile, …).
export * from "./actions/index.js";
export {
  type CallerInputs,
  type InputDefinition,
  type InputType,
  type InputValues,
  input,
  type JsonSchema,
  textFormats,
  textMatching,
} from "./actions/inputs.js";
export { type ListOutput, listOutput, pagingInputs } from "./actions/list.js";
export { type Manifest, manifest } from "./actions/manifest.js";
export { accessToken, accessTokenProblem } from "./auth/access-token.js";
export {
  authorizeUrl,
  exchangeCode,
  KLAVIYO_OAUTH_URLS,
  type OAuthClientConfig,
  refreshTokens,
  revokeToken,
  type TokenSet,
} from "./auth/oauth.js";
export { type OAuthStrategyOptions, oauth } from "./auth/oauth-strategy.js";
export { challengeOf, createVerifier, randomState } from "./auth/pkce.js";
export {
  configDir,
  FileTokenStore,
  MemoryTokenStore,
  type StoredConnection,
  type TokenStore,
} from "./auth/token-store.js";
export { apiKey, apiKeyProblem } from "./core/api-key.js";
export type { AuthStrategy } from "./core/auth-strategy.js";
export type { FetchLike } from "./core/chain.js";
export {
  JSON_API,
  KlaviyoClient,
  type KlaviyoClientOptions,
  type KlaviyoResponse,
  type RequestOptions,
  type ResponseType,
} from "./core/client.js";
export { type Clock, FakeClock, systemClock } from "./core/clock.js";
export {
  ApiError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  ConnectionError,
  type InputIssue,
  InputValidationError,
  KlaviyoError,
  type KlaviyoErrorObject,
  NotFoundError,
  OAuthError,
  PermissionDeniedError,
  RateLimitError,
  type RateLimitState,
  ServerError,
  TimeoutError,
} from "./core/errors.js";
export { type CallArgs, type CallInput, type CallOptions, operationRequest } from "./core/operation-call.js";
export { cursorOf, type Page, type PaginateOptions } from "./core/pagination.js";
export {
  type PartitionOptions,
  partitionedItems,
  partitionedPages,
  partitionFieldFor,
} from "./core/partition.js";
export {
  InMemoryRateLimitStore,
  RateLimiter,
  type RateLimitKey,
  type RateLimitStore,
  sharedRateLimiter,
} from "./core/rate-limit.js";
export { redact } from "./core/redact.js";
export { DEFAULT_RETRY_POLICY, parseRetryAfter, type RetryPolicy } from "./core/retry.js";
export { DEFAULT_BASE_URL, DEFAULT_REVISION, PACKAGE_VERSION } from "./core/version.js";
// Change feeds: every change of a stream since a checkpoint, exactly once across runs.
export * from "./feed/index.js";
export type { BulkResult, ChunkReport } from "./ingest/bulk.js";
export {
  type IngestEventsOptions,
  type IngestOptions,
  type IngestProgress,
  type IngestRequestReport,
  type IngestResult,
  type IngestSource,
  type IngestSubscriptionsOptions,
  ingestEvents,
  ingestSubscriptions,
} from "./ingest/index.js";
export { readRecords } from "./ingest/ndjson.js";
export type {
  AccountResource,
  CampaignMessageResource,
  CampaignResource,
  CatalogItemResource,
  CollectionOperationId,
  CouponResource,
  components,
  EventResource,
  FlowResource,
  ImageResource,
  ListResource,
  MetricResource,
  OperationBody,
  OperationId,
  OperationInput,
  OperationItem,
  OperationPathParams,
  OperationQuery,
  OperationResponse,
  operations,
  ProfileResource,
  Schema,
  SegmentResource,
  TagResource,
  TemplateResource,
} from "./klaviyo/api.js";
export { filter, formatFilter, parseFilter } from "./klaviyo/filter.js";
export { getOperation, matchOperation, type Operation } from "./klaviyo/operations.js";
export type { RateTier } from "./klaviyo/rate-window.js";
export {
  type SignedDelivery,
  signDelivery,
  WEBHOOK_HEADERS,
  type WebhookDelivery,
  type WebhookDeliveryItem,
  type WebhookDeliveryMeta,
  type WebhookEventPayload,
  webhookSignature,
} from "./klaviyo/webhooks.js";
// Receiving Klaviyo's webhooks: verifyWebhook, the fetch and node handlers, dedupe stores, flow-webhook receivers.
export * from "./webhooks/index.js";
