import { KlaviyoError } from "../klaviyo/error.js";
import { redact } from "./redact.js";

/** One entry of Klaviyo's `errors[]`, kept as Klaviyo sent it (unknown members included). */
export interface KlaviyoErrorObject {
  id?: string;
  status?: number;
  code?: string;
  title?: string;
  detail?: string;
  source?: { pointer?: string; parameter?: string; [key: string]: unknown };
  meta?: Record<string, unknown>;
  [key: string]: unknown;
}

/** The rate-limit state a response reported (Klaviyo reports the steady window). */
export interface RateLimitState {
  /** Requests allowed in the window. */
  limit?: number;
  /** Requests left in the window. */
  remaining?: number;
  /** Seconds until the window resets. */
  resetSeconds?: number;
  /** `Retry-After` of a 429, in milliseconds. */
  retryAfterMs?: number;
  /** When the response was received (ms since epoch, by the client's clock). */
  observedAt: number;
}

export { KlaviyoError };

export interface ApiErrorInit {
  status: number;
  errors?: KlaviyoErrorObject[];
  requestId?: string;
  method?: string;
  path?: string;
  /** The body when it was not Klaviyo's JSON error document (already redacted, shortened). */
  rawBody?: string;
  contentType?: string;
  rateLimit?: RateLimitState;
  message?: string;
}

/** An answer from Klaviyo (or whatever stands in front of it) with a status of 400 or more. */
export class ApiError extends KlaviyoError {
  override name = "ApiError";
  readonly status: number;
  readonly errors: KlaviyoErrorObject[];
  readonly requestId: string | undefined;
  readonly method: string | undefined;
  readonly path: string | undefined;
  readonly rawBody: string | undefined;
  readonly contentType: string | undefined;
  readonly rateLimit: RateLimitState | undefined;

  constructor(init: ApiErrorInit) {
    super(init.message ?? describe(init));
    this.status = init.status;
    this.errors = init.errors ?? [];
    this.requestId = init.requestId;
    this.method = init.method;
    this.path = init.path;
    this.rawBody = init.rawBody;
    this.contentType = init.contentType;
    this.rateLimit = init.rateLimit;
  }

  /** The `code` of the first error (`not_found`, `duplicate_profile`, …). */
  get code(): string | undefined {
    return this.errors[0]?.code;
  }

  override toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      status: this.status,
      code: this.code,
      errors: this.errors,
      requestId: this.requestId,
      method: this.method,
      path: this.path,
      ...(this.rawBody !== undefined ? { rawBody: this.rawBody, contentType: this.contentType } : {}),
    };
  }

  /** Picks the error class for a status, as openai-node's `APIError.generate` does. */
  static generate(init: ApiErrorInit & { retryAfterMs?: number }): ApiError {
    const s = init.status;
    if (s === 400) return new BadRequestError(init);
    if (s === 401) return new AuthenticationError(init);
    if (s === 403) return new PermissionDeniedError(init);
    if (s === 404) return new NotFoundError(init);
    if (s === 409) return new ConflictError(init);
    if (s === 429) return new RateLimitError(init, init.retryAfterMs);
    if (s >= 500) return new ServerError(init);
    return new ApiError(init);
  }
}

export class BadRequestError extends ApiError {
  override name = "BadRequestError";
}
export class AuthenticationError extends ApiError {
  override name = "AuthenticationError";
}
export class PermissionDeniedError extends ApiError {
  override name = "PermissionDeniedError";
}
export class NotFoundError extends ApiError {
  override name = "NotFoundError";
}
export class ConflictError extends ApiError {
  override name = "ConflictError";
  /** For `duplicate_profile`: the id of the profile that already holds the identifier. */
  readonly duplicateProfileId: string | undefined;
  constructor(init: ApiErrorInit) {
    super(init);
    const id = this.errors.find((e) => typeof e.meta?.duplicate_profile_id === "string")?.meta
      ?.duplicate_profile_id;
    this.duplicateProfileId = typeof id === "string" ? id : undefined;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), duplicateProfileId: this.duplicateProfileId };
  }
}
export class RateLimitError extends ApiError {
  override name = "RateLimitError";
  /** How long to wait before trying again: Klaviyo's `Retry-After`, or the client's own limiter's wait. */
  readonly retryAfterMs: number | undefined;
  /**
   * True when the client's own limiter refused the request, without sending it, because its wait was longer
   * than the retry policy's `maxRetryAfterMs` (a day's window spent, say); false for Klaviyo's own 429.
   */
  readonly fromLimiter: boolean;
  constructor(init: ApiErrorInit, retryAfterMs?: number, fromLimiter = false) {
    super(init);
    this.retryAfterMs = retryAfterMs;
    this.fromLimiter = fromLimiter;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), retryAfterMs: this.retryAfterMs, fromLimiter: this.fromLimiter };
  }
}
export class ServerError extends ApiError {
  override name = "ServerError";
}

/** The request never got an answer: DNS, refused or reset connection, TLS. */
export class ConnectionError extends KlaviyoError {
  override name = "ConnectionError";
  /** True when the connection was refused, so nothing was sent and a retry cannot duplicate work. */
  readonly refused: boolean;
  constructor(message: string, options: { cause?: unknown; refused?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.refused = options.refused ?? false;
  }
}

/** No complete answer within the time allowed. */
export class TimeoutError extends KlaviyoError {
  override name = "TimeoutError";
  constructor(
    readonly timeoutMs: number,
    what: string,
  ) {
    super(`${what} timed out after ${timeoutMs} ms`);
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), timeoutMs: this.timeoutMs };
  }
}

/**
 * An OAuth failure at the token or revoke endpoint. `reauthorizationRequired` is true when the refresh token is
 * no good any more (`invalid_grant`: revoked, expired after 90 days unused, the app uninstalled): the user must
 * log in again, and retrying cannot help.
 */
export class OAuthError extends KlaviyoError {
  override name = "OAuthError";
  readonly reauthorizationRequired: boolean;
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.reauthorizationRequired = code === "invalid_grant";
  }
  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      code: this.code,
      status: this.status,
      reauthorizationRequired: this.reauthorizationRequired,
    };
  }
}

export interface InputIssue {
  /** The input's label, as the specification names it (`Account ID`). */
  label: string;
  /** The input's key (`accountId`). */
  key: string;
  message: string;
}

/** Input refused before any request was sent. */
export class InputValidationError extends KlaviyoError {
  override name = "InputValidationError";
  constructor(
    readonly issues: InputIssue[],
    context?: string,
  ) {
    super(
      (context ? `${context}: ` : "") +
        issues.map((i) => (i.label ? `${i.label}: ${i.message}` : i.message)).join("; "),
    );
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), issues: this.issues };
  }
}

function describe(init: ApiErrorInit): string {
  const where = init.method && init.path ? ` (${init.method} ${init.path})` : "";
  const details = (init.errors ?? [])
    .map((e) => {
      const text = e.detail || e.title || e.code || "";
      // Klaviyo points many errors at the whole document (`/data/`, a 404 too): that says nothing, so it goes.
      const pointer = e.source?.pointer?.replace(/\/$/, "") === "/data" ? undefined : e.source?.pointer;
      const at = pointer ?? (e.source?.parameter ? `parameter ${e.source.parameter}` : undefined);
      return at && text ? `${text} [${at}]` : text;
    })
    .filter((t) => t.length > 0);
  let text = details.join("; ");
  if (!text && init.rawBody !== undefined) {
    const kind = init.contentType ? init.contentType.split(";")[0] : "no content type";
    text = init.rawBody.trim()
      ? `expected Klaviyo's JSON error body but got ${kind}: ${JSON.stringify(init.rawBody.slice(0, 200))}`
      : `empty ${kind === "no content type" ? "" : `${kind} `}body`;
  }
  const id = init.requestId ? ` (request id ${init.requestId})` : "";
  return `Klaviyo API ${init.status}${where}: ${text || "no details given"}${id}`;
}

/** Scrubs every string of an error document, so nothing a server echoed can leak a secret. */
export function redactErrors(errors: KlaviyoErrorObject[], secrets: readonly string[]): KlaviyoErrorObject[] {
  return redactDeep(errors, secrets) as KlaviyoErrorObject[];
}

function redactDeep(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === "string") return redact(value, secrets);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, secrets));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, secrets);
    return out;
  }
  return value;
}
