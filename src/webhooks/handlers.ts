/**
 * Ready receivers of Klaviyo's system webhooks, for a fetch `Request` (hono, Next.js route handlers, Deno, Bun,
 * Cloudflare Workers) and for node's `IncomingMessage` (node:http, express, fastify's raw request): the raw body
 * read within a limit, the delivery verified (`verifyWebhook`), the events Klaviyo already delivered dropped by
 * `external_id`, and the fresh ones handed over; the answer tells Klaviyo whether to retry.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { WebhookDelivery, WebhookDeliveryItem, WebhookDeliveryMeta } from "../klaviyo/webhooks.js";
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
import { type DedupeStore, memoryDedupeStore } from "./dedupe.js";
import { secretsOf, verifyWebhook, type WebhookHeaders, WebhookVerificationError } from "./verify.js";

export interface WebhookHandlerOptions {
  /** The webhook's Secret Key, or several while rotating (any one may match). */
  readonly secret: string | readonly string[];
  /**
   * Where events already handed over are remembered, by `external_id` (default: a memory store of this
   * handler's own); `false` hands every event over, repeats included.
   */
  readonly dedupe?: DedupeStore | false;
  /** Called with each fresh event, one after another, in the delivery's order. */
  readonly onEvent?: (event: WebhookDeliveryItem, meta: WebhookDeliveryMeta) => void | Promise<void>;
  /** Called once per verified delivery with its fresh events (before `onEvent`, when both are given). */
  readonly onDelivery?: (
    delivery: WebhookDelivery,
    fresh: readonly WebhookDeliveryItem[],
  ) => void | Promise<void>;
  /** Bodies longer than this are refused with 413 (default 10 MiB). */
  readonly maxBodyBytes?: number;
  /**
   * Called with what `onEvent` or `onDelivery` threw (the delivery is answered 500 so that Klaviyo retries; the
   * answer does not carry the error). Nothing is logged without it.
   */
  readonly onError?: (error: unknown) => void;
}

/** A handler's settings, checked once when it is made: a missing secret fails at start-up, not per delivery. */
function settle(options: WebhookHandlerOptions) {
  const secrets = secretsOf(options.secret);
  const max = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isInteger(max) || max < 1) throw new RangeError("maxBodyBytes must be a whole number ≥ 1");
  const store = options.dedupe === false ? undefined : (options.dedupe ?? memoryDedupeStore());
  return { secrets, max, store };
}

/**
 * The fresh events of a delivery, each claimed in the store (in order, so a repeat within a batch is dropped).
 * When the store fails midway, the claims made are released (if it can release) before the failure goes on, so
 * that Klaviyo's retry finds them fresh.
 */
async function claimFresh(
  delivery: WebhookDelivery,
  store: DedupeStore | undefined,
): Promise<WebhookDeliveryItem[]> {
  if (!store) return [...delivery.data];
  const fresh: WebhookDeliveryItem[] = [];
  try {
    for (const item of delivery.data) if (await store.claim(item.external_id)) fresh.push(item);
  } catch (error) {
    if (store.release) for (const item of fresh) await store.release(item.external_id);
    throw error;
  }
  return fresh;
}

/**
 * Hands the fresh events over. When a callback throws, the events not yet handled (all of them when
 * `onDelivery` threw; from the failing one on when `onEvent` did) are released from the store, if it can
 * release, so that Klaviyo's retry hands them over again: at least once for what failed, once for the rest.
 */
async function handOver(
  delivery: WebhookDelivery,
  fresh: readonly WebhookDeliveryItem[],
  options: WebhookHandlerOptions,
  store: DedupeStore | undefined,
): Promise<Answer> {
  let handled = 0;
  try {
    await options.onDelivery?.(delivery, fresh);
    if (options.onEvent) {
      for (const event of fresh) {
        await options.onEvent(event, delivery.meta);
        handled++;
      }
    } else handled = fresh.length;
  } catch (error) {
    if (store?.release) for (const event of fresh.slice(handled)) await store.release(event.external_id);
    options.onError?.(error);
    return {
      status: 500,
      body: { error: "handler_failed", detail: "The delivery's handler failed; Klaviyo will retry it." },
    };
  }
  return { status: 200, body: { received: delivery.data.length, handled: fresh.length } };
}

/** Verifies and hands over one delivery read from a request. */
async function receive(
  method: string,
  headers: WebhookHeaders,
  read: (max: number) => Promise<Uint8Array | typeof TOO_LARGE>,
  options: WebhookHandlerOptions,
  settings: ReturnType<typeof settle>,
): Promise<Answer> {
  if (method.toUpperCase() !== "POST") return METHOD_NOT_ALLOWED;
  const body = await read(settings.max);
  if (body === TOO_LARGE) return tooLarge(settings.max);
  let delivery: WebhookDelivery;
  try {
    delivery = verifyWebhook(body, headers, settings.secrets);
  } catch (error) {
    if (!(error instanceof WebhookVerificationError)) throw error;
    return { status: error.status, body: { error: error.reason, detail: error.message } };
  }
  let fresh: WebhookDeliveryItem[];
  try {
    fresh = await claimFresh(delivery, settings.store);
  } catch (error) {
    options.onError?.(error);
    return {
      status: 500,
      body: { error: "dedupe_failed", detail: "The dedupe store failed; Klaviyo will retry the delivery." },
    };
  }
  return handOver(delivery, fresh, options, settings.store);
}

/** `receive`, with anything it could not foresee (a body that could not be read) answered 500. */
async function answerOf(receiving: () => Promise<Answer>, options: WebhookHandlerOptions): Promise<Answer> {
  try {
    return await receiving();
  } catch (error) {
    options.onError?.(error);
    const detail =
      error instanceof BodyAlreadyParsedError ? error.message : "The delivery could not be read.";
    return { status: 500, body: { error: "receiver_failed", detail } };
  }
}

/**
 * A receiver of Klaviyo's system webhooks for a fetch `Request`: 405 for a method other than POST, 413 for a
 * body over `maxBodyBytes`, 401 (or 400) with `{ error: <reason>, detail }` for what `verifyWebhook` refuses —
 * before any callback runs — and 200 once the fresh events were handed over; 500 when a callback threw, so
 * that Klaviyo retries (see `handOver`). Repeats (by `external_id`) are dropped, not handed over.
 */
export function webhookFetchHandler(options: WebhookHandlerOptions): (request: Request) => Promise<Response> {
  const settings = settle(options);
  return async (request) =>
    fetchResponse(
      await answerOf(
        () =>
          receive(request.method, request.headers, (max) => fetchBodyBytes(request, max), options, settings),
        options,
      ),
    );
}

/**
 * The same receiver for node's `IncomingMessage` and `ServerResponse` (node:http, express before any body
 * parser or after `express.raw()`). Resolves once the answer is written.
 */
export function webhookNodeHandler(
  options: WebhookHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const settings = settle(options);
  return async (req, res) => {
    const answer = await answerOf(
      () => receive(req.method ?? "GET", req.headers, (max) => nodeBodyBytes(req, max), options, settings),
      options,
    );
    await writeNodeAnswer(req, res, answer);
  };
}
