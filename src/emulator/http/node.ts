/**
 * Serves a web-style handler (`(Request) => Response`) with `node:http`: each `IncomingMessage` becomes the
 * parts of a `Request` (headers, and a body streamed from the socket as it is read), and the `Response` is
 * written back. A client that goes away aborts the request's signal and never takes the process down.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { RequestParts } from "./context.js";

/** What the handler gets besides the `Request`: the Node objects, so it can act on the socket itself. */
export interface NodeBindings {
  readonly incoming: IncomingMessage;
  readonly outgoing: ServerResponse;
}

/** Rejecting means "drop the connection": the socket is reset, as a crashed server's would be. */
export type NodeHandler = (request: RequestParts, bindings: NodeBindings) => Response | Promise<Response>;

const ignore = (): void => {};

/** An HTTP server answering every request with `handler`; listen on it as on any `http.Server`. */
export function createNodeServer(handler: NodeHandler): Server {
  return createServer((incoming, outgoing) => {
    void serve(handler, incoming, outgoing);
  });
}

async function serve(handler: NodeHandler, incoming: IncomingMessage, outgoing: ServerResponse) {
  // A client that disconnects makes these emit; the request is simply over.
  incoming.on("error", ignore);
  outgoing.on("error", ignore);
  const host = incoming.headers.host ?? `${incoming.socket.localAddress}:${incoming.socket.localPort}`;
  const target = incoming.url ?? "/";
  const url = target.startsWith("/") ? `http://${host}${target}` : target;
  // A Host that is not a host (`a/b` would move the path) or a target that is not a URL.
  if (/[/?#@\\\s]/.test(host) || !URL.canParse(url)) {
    outgoing.writeHead(400, { "Content-Type": "text/plain", Connection: "close" }).end("Bad request");
    return;
  }
  const request = new NodeRequest(incoming, outgoing, url);
  try {
    const response = await handler(request, { incoming, outgoing });
    if (outgoing.destroyed) await response.body?.cancel();
    else await writeResponse(response, outgoing);
  } catch {
    // The handler asked for the connection to be dropped, or its answer failed half-way: reset it.
    incoming.socket.resetAndDestroy();
    return;
  }
  request.discard();
}

/** The parts of a Request, each made on first read; the app makes the Request itself only if asked for it. */
class NodeRequest implements RequestParts {
  readonly method: string;
  #headers: Headers | undefined;
  #body: ReturnType<typeof streamBody> | undefined;
  #controller: AbortController | undefined;

  constructor(
    private readonly incoming: IncomingMessage,
    private readonly outgoing: ServerResponse,
    readonly url: string,
  ) {
    this.method = incoming.method ?? "GET";
  }

  /** Made on first read: an AbortController costs more than the rest of the adapter. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = new AbortController();
      const outgoing = this.outgoing;
      const leave = () => controller.abort(new Error("The client closed the connection"));
      if (outgoing.closed) leave();
      else outgoing.once("close", () => outgoing.writableFinished || leave());
      this.#controller = controller;
    }
    return this.#controller.signal;
  }

  get headers(): Headers {
    if (!this.#headers) {
      const headers = new Headers();
      const raw = this.incoming.rawHeaders;
      for (let i = 0; i < raw.length; i += 2) headers.append(raw[i] as string, raw[i + 1] as string);
      this.#headers = headers;
    }
    return this.#headers;
  }

  get body(): ReadableStream<Uint8Array> | null {
    if (this.method === "GET" || this.method === "HEAD") return null;
    this.#body ??= streamBody(this.incoming);
    return this.#body.stream;
  }

  /** Whatever of the body the handler left unread is discarded, so the connection can carry the next request. */
  discard(): void {
    this.#body?.discard();
  }
}

/**
 * The request body as a web stream that pulls from the socket only when read: a body nobody reads costs
 * nothing, and one refused half-way stops being buffered.
 */
function streamBody(incoming: IncomingMessage): { stream: ReadableStream<Uint8Array>; discard(): void } {
  type Controller = ReadableStreamDefaultController<Uint8Array>;
  let controller: Controller | undefined;
  let over = false;
  // Buffers are Uint8Arrays: no copy. One chunk per read, so the socket pauses while nobody reads.
  const onData = (chunk: Buffer) => {
    controller?.enqueue(chunk);
    incoming.pause();
  };
  const finish = (end?: (c: Controller) => void) => {
    if (over) return;
    over = true;
    incoming.off("data", onData);
    if (controller && end) end(controller);
  };
  const discard = () => {
    finish();
    if (!incoming.complete) incoming.resume();
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (over) return;
        if (!controller) {
          controller = c;
          incoming.on("data", onData).once("end", () => finish((done) => done.close()));
          incoming.once("close", () => {
            if (!incoming.complete)
              finish((done) => done.error(new Error("The client left before the body ended")));
          });
        }
        incoming.resume();
      },
      cancel: discard,
    },
    { highWaterMark: 0 },
  );
  return { stream, discard };
}

async function writeResponse(response: Response, outgoing: ServerResponse): Promise<void> {
  // A plain object: node:http's fastest path. Set-Cookie comes one entry per cookie, as web Headers iterate it.
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of response.headers) {
    const known = headers[name];
    if (known === undefined) headers[name] = value;
    else headers[name] = [...(Array.isArray(known) ? known : [known]), value];
  }
  const body = response.body;
  const reader = body?.getReader();
  const first = reader ? await reader.read() : undefined;
  if (!(body && reader && first && !first.done)) {
    outgoing.writeHead(response.status, headers).end();
    return;
  }
  const second = await reader.read();
  if (second.done) {
    // The usual case (a JSON answer): one write, with its length.
    headers["content-length"] ??= String(first.value.byteLength);
    outgoing.writeHead(response.status, headers).end(first.value);
    return;
  }
  // A real stream: chunked, with the socket's backpressure (a client gone away ends it with an error).
  outgoing.writeHead(response.status, headers);
  outgoing.write(first.value);
  outgoing.write(second.value);
  reader.releaseLock();
  await pipeline(Readable.fromWeb(body), outgoing);
}
