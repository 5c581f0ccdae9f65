/**
 * A webhook endpoint for tests: a node:http server on a free loopback port that keeps every request it gets (raw
 * body bytes and headers) and answers with the statuses it is told, in turn.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach } from "vitest";

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly raw: Buffer;
}

export interface Receiver {
  /** `http://127.0.0.1:PORT/hooks/<path>`. */
  readonly url: string;
  readonly requests: ReceivedRequest[];
  /** Statuses to answer, one per request in turn; once used up, `fallback` (200 by default). */
  answers: number[];
  fallback: number;
  /** Called with each request as it arrives (before it is answered). */
  onRequest?: (request: ReceivedRequest) => void;
  /** Never answer (to test timeouts). */
  hang: boolean;
}

/** Receivers, closed when each test ends. */
export function receivers(): (path?: string) => Promise<Receiver> {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
  return async (path = "endpoint") => {
    const receiver: Receiver = { url: "", requests: [], answers: [], fallback: 200, hang: false };
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const request = {
          method: req.method ?? "",
          url: req.url ?? "",
          headers: req.headers,
          raw: Buffer.concat(chunks),
        };
        receiver.requests.push(request);
        receiver.onRequest?.(request);
        if (receiver.hang) return;
        res.writeHead(receiver.answers.shift() ?? receiver.fallback, { "content-type": "text/plain" });
        res.end("ok");
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return Object.assign(receiver, { url: `http://127.0.0.1:${port}/hooks/${path}` });
  };
}
