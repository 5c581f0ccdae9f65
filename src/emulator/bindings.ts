import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * What the runtime hands `app.fetch`: on a real port, the Node request and response, as @hono/node-server passes
 * them (a `reset` fault destroys the request's socket; bodies are read from the request as they arrive);
 * in-process, nothing. Written with Node's types so that the published declarations need none of hono's.
 */
export interface EmulatorBindings {
  readonly incoming?: IncomingMessage;
  readonly outgoing?: ServerResponse;
}
