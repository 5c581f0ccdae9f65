/**
 * A request body read as it arrives, up to a byte limit: past the limit the read stops at once (the rest stays
 * unread, and @hono/node-server discards it once the answer is sent), so a client cannot make the server buffer
 * an unbounded body. On a real port the bytes come straight from Node's request, without building a web
 * `Request` (and its stream) for them; in-process, from the `Request`'s body.
 */
import type { IncomingMessage } from "node:http";

/** The body's bytes, or `undefined` as soon as more than `limit` bytes have come. */
export function readBodyWithin(
  request: Request,
  incoming: IncomingMessage | undefined,
  limit: number,
): Promise<Uint8Array | undefined> {
  return incoming ? readIncoming(incoming, limit) : readStream(request.body, limit);
}

function readIncoming(incoming: IncomingMessage, limit: number): Promise<Uint8Array | undefined> {
  if (incoming.readableEnded) return Promise.resolve(new Uint8Array(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const stop = () => {
      incoming.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      length += chunk.byteLength;
      if (length > limit) {
        stop();
        // Paused, the request stops pulling from the socket; what came past the limit is dropped.
        incoming.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length));
    };
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    const onClose = () => {
      stop();
      reject(new Error("The client left before the body ended"));
    };
    incoming.on("data", onData).on("end", onEnd).on("error", onError).on("close", onClose);
  });
}

async function readStream(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<Uint8Array | undefined> {
  if (!body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.byteLength;
    if (length > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  return Buffer.concat(chunks, length);
}
