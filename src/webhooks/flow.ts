/**
 * Receivers for Klaviyo's flow webhooks (the "Webhook" action of a flow), which Klaviyo does not sign: the
 * receiver is protected by a secret token in its URL (`https://example.com/hooks/klaviyo/<token>` or
 * `…?token=<token>`), compared in constant time. Klaviyo retries a flow webhook answered 429, 500, 502 or 503
 * (up to 17 times over 24 hours), so a failing `onPayload` is answered 500.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { builtins } from "../core/builtins.js";
import {
  type Answer,
  BodyAlreadyParsedError,
  DEFAULT_MAX_BODY_BYTES,
  fetchBodyBytes,
  fetchResponse,
  METHOD_NOT_ALLOWED,
  nodeBodyBytes,
  TOO_LARGE,
  tooLarge,
  writeNodeAnswer,
} from "./body.js";
import { constantTimeIncludes } from "./verify.js";

/** A token as a URL carries it unencoded (RFC 3986's unreserved characters), long enough not to be guessed. */
const TOKEN = /^[A-Za-z0-9._~-]{16,}$/;

/** A new secret token for a flow webhook's URL: 32 random bytes, base64url (43 characters). */
export function flowWebhookToken(): string {
  return builtins.crypto.randomBytes(32).toString("base64url");
}

export interface FlowWebhookHandlerOptions<R> {
  /** The secret token the URL must carry (several while rotating); at least 16 of `A-Z a-z 0-9 - . _ ~`. */
  readonly token: string | readonly string[];
  /**
   * Called with the body (parsed when its Content-Type is JSON, else its text; undefined when empty) and the
   * request, once the token matched.
   */
  readonly onPayload: (body: unknown, request: R) => void | Promise<void>;
  /** Bodies longer than this are refused with 413 (default 10 MiB). */
  readonly maxBodyBytes?: number;
  /** Called with what `onPayload` threw (answered 500, without the error). */
  readonly onError?: (error: unknown) => void;
}

/** The token a request's URL carries: its `token` query parameter, else its last path segment. */
export function flowWebhookTokenOf(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url, "http://localhost");
  } catch {
    return undefined;
  }
  const query = parsed.searchParams.get("token");
  if (query !== null) return query;
  const last = parsed.pathname.split("/").at(-1) ?? "";
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

function settle<R>(options: FlowWebhookHandlerOptions<R>) {
  const tokens = typeof options.token === "string" ? [options.token] : options.token;
  if (
    !Array.isArray(tokens) ||
    tokens.length === 0 ||
    !tokens.every((t) => typeof t === "string" && TOKEN.test(t))
  )
    throw new TypeError(
      "A flow webhook's token must be at least 16 characters of A-Z, a-z, 0-9, -, ., _ and ~ (flowWebhookToken() makes one).",
    );
  const max = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isInteger(max) || max < 1) throw new RangeError("maxBodyBytes must be a whole number ≥ 1");
  return { tokens: tokens as readonly string[], max };
}

const UNAUTHORIZED: Answer = {
  status: 401,
  body: { error: "bad_token", detail: "The URL does not carry this receiver's token." },
};

/** The body as `onPayload` gets it: JSON parsed when the Content-Type says JSON, else text; undefined if empty. */
function payloadOf(bytes: Uint8Array, contentType: string | undefined): { value: unknown } | undefined {
  if (bytes.byteLength === 0) return { value: undefined };
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  if (!/[/+]json\b/i.test(contentType ?? "")) return { value: text };
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

async function receive<R>(
  request: R,
  parts: { method: string; url: string; contentType: string | undefined },
  read: (max: number) => Promise<Uint8Array | typeof TOO_LARGE>,
  options: FlowWebhookHandlerOptions<R>,
  settings: ReturnType<typeof settle<R>>,
): Promise<Answer> {
  // The token first: without it, a caller learns nothing, not even which methods are served.
  if (!constantTimeIncludes(flowWebhookTokenOf(parts.url) ?? "", settings.tokens)) return UNAUTHORIZED;
  if (parts.method.toUpperCase() !== "POST") return METHOD_NOT_ALLOWED;
  const bytes = await read(settings.max);
  if (bytes === TOO_LARGE) return tooLarge(settings.max);
  const payload = payloadOf(bytes, parts.contentType);
  if (!payload)
    return { status: 400, body: { error: "malformed_body", detail: "The body says it is JSON but is not." } };
  try {
    await options.onPayload(payload.value, request);
  } catch (error) {
    options.onError?.(error);
    return {
      status: 500,
      body: { error: "handler_failed", detail: "The handler failed; Klaviyo will retry." },
    };
  }
  return { status: 200, body: { received: true } };
}

async function answerOf(
  receiving: () => Promise<Answer>,
  onError?: (error: unknown) => void,
): Promise<Answer> {
  try {
    return await receiving();
  } catch (error) {
    onError?.(error);
    const detail = error instanceof BodyAlreadyParsedError ? error.message : "The request could not be read.";
    return { status: 500, body: { error: "receiver_failed", detail } };
  }
}

/**
 * A flow-webhook receiver for a fetch `Request`: 401 unless the URL carries the token (compared in constant
 * time), 405 for a method other than POST, 413 over `maxBodyBytes`, 400 for JSON that does not parse, 500 when
 * `onPayload` threw, 200 otherwise.
 */
export function flowWebhookFetchHandler(
  options: FlowWebhookHandlerOptions<Request>,
): (request: Request) => Promise<Response> {
  const settings = settle(options);
  return async (request) =>
    fetchResponse(
      await answerOf(
        () =>
          receive(
            request,
            {
              method: request.method,
              url: request.url,
              contentType: request.headers.get("content-type") ?? undefined,
            },
            (max) => fetchBodyBytes(request, max),
            options,
            settings,
          ),
        options.onError,
      ),
    );
}

/** The same receiver for node's `IncomingMessage` and `ServerResponse`; resolves once the answer is written. */
export function flowWebhookNodeHandler(
  options: FlowWebhookHandlerOptions<IncomingMessage>,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const settings = settle(options);
  return async (req, res) => {
    const answer = await answerOf(
      () =>
        receive(
          req,
          { method: req.method ?? "GET", url: req.url ?? "/", contentType: req.headers["content-type"] },
          (max) => nodeBodyBytes(req, max),
          options,
          settings,
        ),
      options.onError,
    );
    await writeNodeAnswer(req, res, answer);
  };
}
