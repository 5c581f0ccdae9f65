import type { CollectionOperationId, OperationId, OperationItem, OperationResponse } from "../klaviyo/api.js";
import { getOperation, type HttpMethod, matchOperation, type Operation } from "../klaviyo/operations.js";
import type { RateTier } from "../klaviyo/rate-window.js";
import { effectiveTier } from "../klaviyo/tiers.js";
import { API_KEY_LABEL, apiKey } from "./api-key.js";
import type { AuthStrategy } from "./auth-strategy.js";
import {
  authStage,
  compose,
  type FetchLike,
  fetchStage,
  type Handler,
  type Middleware,
  rateLimitStage,
  retryStage,
  timeoutStage,
  type WireResponse,
} from "./chain.js";
import { type Clock, systemClock } from "./clock.js";
import { limitsHeardFor } from "./emulator-limits.js";
import { CLIENT_ENV, envValue } from "./env.js";
import {
  ApiError,
  InputValidationError,
  type KlaviyoErrorObject,
  type RateLimitState,
  redactErrors,
} from "./errors.js";
import { LatencyWindow } from "./latency.js";
import { type CallArgs, operationRequest } from "./operation-call.js";
import { type Page, type PaginateOptions, paginate, paginateItems } from "./pagination.js";
import { RateLimiter, sharedRateLimiter } from "./rate-limit.js";
import { redact } from "./redact.js";
import { type RetryPolicy, retryPolicy } from "./retry.js";
import { type QueryInput, resolveUrl } from "./url.js";
import { DEFAULT_BASE_URL, DEFAULT_REVISION, PACKAGE_NAME, PACKAGE_VERSION } from "./version.js";

export const JSON_API = "application/vnd.api+json";

export interface KlaviyoClientOptions {
  /**
   * A private API key (`pk_…`); shorthand for `auth: apiKey(key)`. Default: `KLAVIYO_API_KEY`. With neither a key
   * nor `auth`, or an empty or malformed key, the constructor throws an `InputValidationError` naming "API Key":
   * nothing is ever sent without credentials.
   */
  apiKey?: string | undefined;
  /** How requests authenticate (`apiKey(…)`, or the OAuth strategy). */
  auth?: AuthStrategy;
  /** Default: `KLAVIYO_BASE_URL`, else `https://a.klaviyo.com`; point it at the emulator or a proxy. */
  baseUrl?: string | undefined;
  /** The `revision` header; defaults to the revision this release is built against. */
  revision?: string;
  /** The `fetch` to send with: global `fetch` by default, `emulator.fetch` to stay in-process. */
  fetch?: FetchLike;
  /** Per-attempt timeout, body included. Default 60 s. */
  timeoutMs?: number;
  /** Overrides of the retry policy (see `DEFAULT_RETRY_POLICY`). */
  retry?: Partial<RetryPolicy>;
  /**
   * The limiter to wait on; `false` turns client-side limiting off (the server's 429s are still honoured). By
   * default, the process's shared limiter at Klaviyo's limits, which stands aside for an emulator that says it
   * enforces none (`X-Emulator-Rate-Limits: off`); a limiter given here is always used.
   */
  rateLimiter?: RateLimiter | false;
  clock?: Clock;
  /** Random source for backoff jitter. */
  random?: () => number;
  /** Appended to the `User-Agent`, e.g. `my-app/1.2`. */
  userAgent?: string;
}

export type ResponseType = "json" | "text" | "binary";

export interface RequestOptions {
  method: HttpMethod;
  /** A path on the base URL: `/api/accounts/AbC123`. */
  path: string;
  query?: QueryInput;
  /** A JSON body, sent as `application/vnd.api+json`. */
  body?: unknown;
  /** A multipart body (image upload); `Content-Type` is left to `fetch`. */
  form?: FormData;
  /** A body sent as given, with `contentType`. */
  rawBody?: string | Uint8Array;
  contentType?: string;
  headers?: Readonly<Record<string, string>>;
  /**
   * The operation (id or object) this request performs: it names the rate tier. When absent it is looked up
   * from the method and path; `tier: null` sends without client-side limiting.
   */
  operation?: string | Operation;
  tier?: RateTier | null;
  revision?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** The request may be repeated without duplicating work (e.g. an event with a `unique_id`). */
  idempotent?: boolean;
  retry?: Partial<RetryPolicy>;
  /** `false` sends no `Authorization` (public `/client/*` endpoints). */
  authenticate?: boolean;
  responseType?: ResponseType;
  /** `false` returns 4xx/5xx answers instead of throwing. Default true. */
  throwOnError?: boolean;
}

export interface KlaviyoResponse<T = unknown> {
  status: number;
  headers: Headers;
  /** Parsed JSON (`null` for an empty body), text, or bytes, as `responseType` asked. */
  body: T;
  rateLimit: RateLimitState;
  attempts: number;
  durationMs: number;
}

function isJsonType(contentType: string | null): boolean {
  return contentType !== null && /[/+]json\b/i.test(contentType);
}

// Made on first use: constructing the first TextDecoder of a process costs milliseconds at import.
let decoder: InstanceType<typeof TextDecoder> | undefined;
function decode(bytes: Uint8Array): string {
  if (!decoder) decoder = new TextDecoder();
  return decoder.decode(bytes);
}

/** No key given and none in the environment: refused before anything could be sent without one. */
function missingKey(): never {
  throw new InputValidationError([
    {
      label: API_KEY_LABEL,
      key: "apiKey",
      message: `is required: give apiKey (a private API key, pk_…) or auth, or set ${CLIENT_ENV.apiKey}`,
    },
  ]);
}

/**
 * One client per credential. Composes the transport once; every call then passes through the same chain.
 * Methods: `call` for one operation of the API by id, typed; `request` for any call; `paginate` /
 * `paginateItems` / `paginateOperation` to walk `links.next`.
 */
export class KlaviyoClient {
  readonly baseUrl: URL;
  readonly revision: string;
  readonly timeoutMs: number;
  readonly retryPolicy: RetryPolicy;
  readonly auth: AuthStrategy;
  readonly clock: Clock;
  /** The rate-limit state of the most recent response. */
  lastRateLimit: RateLimitState | undefined;
  /**
   * How long this client's server takes to answer (from sending to the answer's headers, the last 64 attempts):
   * what ingestion and partitioned export size their requests in flight by (`inFlightFor`).
   */
  readonly latency = new LatencyWindow();
  private readonly handler: Handler;
  private readonly limited: boolean;
  private readonly userAgent: string;

  constructor(options: KlaviyoClientOptions = {}) {
    this.auth = options.auth ?? apiKey(options.apiKey ?? envValue(CLIENT_ENV.apiKey) ?? missingKey());
    this.baseUrl = new URL(options.baseUrl ?? envValue(CLIENT_ENV.baseUrl) ?? DEFAULT_BASE_URL);
    this.revision = options.revision ?? DEFAULT_REVISION;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.retryPolicy = retryPolicy(options.retry);
    this.clock = options.clock ?? systemClock;
    const limiter =
      options.rateLimiter === false
        ? undefined
        : (options.rateLimiter ??
          (options.clock ? new RateLimiter({ clock: options.clock }) : sharedRateLimiter()));
    const node = typeof process !== "undefined" ? ` node/${process.versions.node}` : "";
    this.userAgent = `${PACKAGE_NAME}/${PACKAGE_VERSION}${node}${options.userAgent ? ` ${options.userAgent}` : ""}`;
    const fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.limited = limiter !== undefined;
    // Only the stages this client needs: each costs an async frame on every request.
    const stages: Middleware[] = [retryStage(this.clock, options.random ?? Math.random)];
    stages.push(authStage(this.auth));
    if (limiter) {
      // The default limiter stands aside for an emulator that enforces no limits; a limiter given is used as given.
      const heard = options.rateLimiter ? undefined : limitsHeardFor(options.fetch, this.baseUrl.origin);
      stages.push(rateLimitStage(limiter, this.auth, this.clock, heard));
    }
    stages.push(timeoutStage);
    this.handler = compose(stages, fetchStage(fetchImpl, this.clock, this.latency));
  }

  /** Sends one request through the chain and returns the parsed answer; 4xx/5xx throw a typed `ApiError`. */
  async request<T = unknown>(options: RequestOptions): Promise<KlaviyoResponse<T>> {
    const started = this.clock.now();
    const url = resolveUrl(this.baseUrl, options.path, options.query);
    const headers: Record<string, string> = {
      accept: options.responseType === "binary" ? "*/*" : JSON_API,
      "user-agent": this.userAgent,
    };
    if (options.headers)
      for (const [name, value] of Object.entries(options.headers)) headers[name.toLowerCase()] = value;
    headers.revision = options.revision ?? this.revision;
    let body: string | Uint8Array | FormData | undefined;
    if (options.form) body = options.form;
    else if (options.rawBody !== undefined) {
      body = options.rawBody;
      if (options.contentType) headers["content-type"] = options.contentType;
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] = JSON_API;
    }
    const res = await this.handler({
      method: options.method,
      url,
      headers,
      body,
      tier: this.tierFor(options, url),
      timeoutMs: options.timeoutMs ?? this.timeoutMs,
      signal: options.signal,
      idempotent: options.idempotent ?? false,
      retry: options.retry ? retryPolicy(this.retryPolicy, options.retry) : this.retryPolicy,
      authenticate: options.authenticate ?? true,
    });
    this.lastRateLimit = res.rateLimit;
    if (res.status >= 300 && options.throwOnError !== false) throw this.toError(res, options.method, url);
    return {
      status: res.status,
      headers: res.headers,
      body: this.parseBody(res, options, url) as T,
      rateLimit: res.rateLimit,
      attempts: res.attempts,
      durationMs: this.clock.now() - started,
    };
  }

  /**
   * Calls an operation of Klaviyo's API by id, its path parameters, query, body and answer typed from the OpenAPI
   * document: `client.call("get_list", { path: { id }, query: { "fields[list]": ["name"] } })`. Method, path and
   * rate tier are the operation's; each path parameter is sent as exactly one segment.
   */
  async call<Op extends OperationId>(
    id: Op,
    ...args: CallArgs<Op>
  ): Promise<KlaviyoResponse<OperationResponse<Op>>> {
    return this.request(operationRequest<Op, unknown>(id, ...args));
  }

  /** Walks a collection operation item by item (`client.paginateOperation("get_profiles", { query, limit })`). */
  async *paginateOperation<Op extends CollectionOperationId>(
    id: Op,
    ...args: CallArgs<Op, PaginateOptions>
  ): AsyncGenerator<OperationItem<Op>> {
    yield* paginateItems<OperationItem<Op>>(this, operationRequest(id, ...args));
  }

  /** Walks a collection page by page, following `links.next` (see `PaginateOptions` for the bounds). */
  paginate<T = unknown>(options: RequestOptions & PaginateOptions): AsyncGenerator<Page<T>> {
    return paginate<T>(this, options);
  }

  /** Walks a collection item by item, up to `limit` items or `maxPages` pages. */
  paginateItems<T = unknown>(options: RequestOptions & PaginateOptions): AsyncGenerator<T> {
    return paginateItems<T>(this, options);
  }

  /** The operation a request names or addresses, so the pager can pick its page size. */
  operationFor(options: Pick<RequestOptions, "operation" | "method" | "path">): Operation | undefined {
    if (typeof options.operation === "string") return getOperation(options.operation);
    if (options.operation) return options.operation;
    const pathname = options.path.split("?")[0] ?? options.path;
    return matchOperation(options.method, pathname)?.operation;
  }

  private tierFor(options: RequestOptions, url: URL): RateTier | undefined {
    if (!this.limited || options.tier === null) return undefined;
    if (options.tier) return options.tier;
    const prefix = this.baseUrl.pathname.replace(/\/+$/, "");
    const operation = options.operation
      ? this.operationFor(options)
      : matchOperation(options.method, url.pathname.slice(prefix.length))?.operation;
    return operation ? effectiveTier(operation, url.searchParams) : undefined;
  }

  private parseBody(res: WireResponse, options: RequestOptions, url: URL): unknown {
    const type = options.responseType ?? "json";
    if (type === "binary") return res.bytes;
    const text = decode(res.bytes);
    if (type === "text") return text;
    if (text.trim() === "") return null;
    const contentType = res.headers.get("content-type");
    try {
      return JSON.parse(text);
    } catch {
      throw this.unexpectedBody(res, options.method, url, contentType, text, isJsonType(contentType));
    }
  }

  private unexpectedBody(
    res: WireResponse,
    method: string,
    url: URL,
    contentType: string | null,
    text: string,
    claimedJson: boolean,
  ): ApiError {
    const secrets = this.auth?.secrets() ?? [];
    const snippet = redact(text.slice(0, 300), secrets);
    return new ApiError({
      status: res.status,
      method,
      path: url.pathname,
      rawBody: snippet,
      contentType: contentType ?? undefined,
      rateLimit: res.rateLimit,
      message: `Klaviyo API ${res.status} (${method} ${url.pathname}): ${
        claimedJson
          ? "the JSON body is malformed or truncated"
          : `expected JSON but got ${contentType ?? "no content type"}`
      }: ${JSON.stringify(snippet.slice(0, 120))}`,
    });
  }

  private toError(res: WireResponse, method: string, url: URL): ApiError {
    const secrets = this.auth?.secrets() ?? [];
    const contentType = res.headers.get("content-type");
    const text = decode(res.bytes);
    let errors: KlaviyoErrorObject[] | undefined;
    if (isJsonType(contentType) || text.trimStart().startsWith("{")) {
      try {
        const parsed = JSON.parse(text) as { errors?: unknown };
        if (Array.isArray(parsed.errors))
          errors = redactErrors(parsed.errors as KlaviyoErrorObject[], secrets);
      } catch {
        // Not JSON after all: reported below as a raw body.
      }
    }
    const requestId =
      res.headers.get("x-request-id") ?? res.headers.get("cf-ray") ?? (errors?.[0]?.id as string | undefined);
    return ApiError.generate({
      status: res.status,
      method,
      path: url.pathname,
      ...(errors
        ? { errors }
        : { rawBody: redact(text.slice(0, 500), secrets), contentType: contentType ?? "" }),
      requestId: requestId ?? undefined,
      rateLimit: res.rateLimit,
      retryAfterMs: res.rateLimit.retryAfterMs,
    });
  }
}
