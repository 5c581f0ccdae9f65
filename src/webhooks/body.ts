/**
 * Reading a request's body exactly as it arrived (the bytes a signature covers), within a size limit, from a
 * fetch `Request` or a node `IncomingMessage`; and the answers the receivers give.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** The largest body a receiver reads by default: 10 MiB (Klaviyo documents no size; a batch of 1,000 events fits). */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

/** What a receiver answers: a status, a JSON body, headers. */
export interface Answer {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A framework parsed the body before the receiver saw it: the bytes a signature covers are gone. */
export class BodyAlreadyParsedError extends Error {
  override name = "BodyAlreadyParsedError";
  constructor() {
    super(
      "The request's body was already parsed by a body parser, so its raw bytes (which the signature covers) are gone: mount the webhook handler before any body parser, or use express.raw({ type: '*/*' }) on its route.",
    );
  }
}

/** The body was longer than the limit (413). */
export const TOO_LARGE = Symbol("too large");

/** A body that claims to be longer than `max`, by its Content-Length, before a byte is read. */
function declaredTooLarge(contentLength: string | null | undefined, max: number): boolean {
  if (contentLength === null || contentLength === undefined || !/^\s*\d+\s*$/.test(contentLength))
    return false;
  return Number(contentLength) > max;
}

/** A fetch request's body bytes, or `TOO_LARGE` as soon as more than `max` have arrived. */
export async function fetchBodyBytes(request: Request, max: number): Promise<Uint8Array | typeof TOO_LARGE> {
  if (declaredTooLarge(request.headers.get("content-length"), max)) {
    await request.body?.cancel().catch(() => {});
    return TOO_LARGE;
  }
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return TOO_LARGE;
    }
    chunks.push(value);
  }
  return concat(chunks, size);
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/**
 * A node request's body bytes, or `TOO_LARGE` as soon as more than `max` have arrived (the rest is then read and
 * dropped, so the answer reaches the sender). A body a framework already read as raw bytes or text
 * (`express.raw()`, `express.text()`) is taken from `req.body`; one it already parsed cannot be verified.
 */
export function nodeBodyBytes(req: IncomingMessage, max: number): Promise<Uint8Array | typeof TOO_LARGE> {
  const preread = (req as IncomingMessage & { body?: unknown }).body;
  if (preread !== undefined && req.readableEnded) {
    const bytes =
      preread instanceof Uint8Array
        ? preread
        : typeof preread === "string"
          ? new Uint8Array(Buffer.from(preread, "utf8"))
          : undefined;
    if (!bytes) return Promise.reject(new BodyAlreadyParsedError());
    return Promise.resolve(bytes.byteLength > max ? TOO_LARGE : bytes);
  }
  if (declaredTooLarge(req.headers["content-length"], max)) return Promise.resolve(TOO_LARGE);
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > max) {
        req.off("data", onData);
        req.off("end", onEnd);
        req.off("error", reject);
        req.resume();
        resolve(TOO_LARGE);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => resolve(concat(chunks, size));
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", reject);
  });
}

/** An answer as a fetch `Response`. */
export function fetchResponse(answer: Answer): Response {
  return new Response(JSON.stringify(answer.body), {
    status: answer.status,
    headers: { "content-type": "application/json", ...answer.headers },
  });
}

/**
 * Writes an answer to a node response (unless something else already answered). A body left unread (a request
 * refused before it was read) is read to its end and dropped, so that the answer reaches the sender.
 */
export function writeNodeAnswer(req: IncomingMessage, res: ServerResponse, answer: Answer): Promise<void> {
  if (!req.readableEnded) req.resume();
  if (res.headersSent) return Promise.resolve();
  const text = JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
    ...answer.headers,
  });
  return new Promise((resolve) => res.end(text, () => resolve()));
}

/** The answer to a method other than POST. */
export const METHOD_NOT_ALLOWED: Answer = {
  status: 405,
  body: { error: "method_not_allowed", detail: "Klaviyo delivers webhooks with POST." },
  headers: { allow: "POST" },
};

/** The answer to a body over the limit; the connection is closed rather than read to its end. */
export function tooLarge(max: number): Answer {
  return {
    status: 413,
    body: { error: "payload_too_large", detail: `The body is larger than ${max} bytes.` },
    headers: { connection: "close" },
  };
}
