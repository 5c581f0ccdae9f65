/**
 * The outermost stage: the network between the client and Klaviyo (a request's delay on its way in, before it
 * is counted or handled; its answer's delay after it is handled), the request log, and dropping the connection
 * when a `reset` fault fired.
 * On a real port the socket is reset (the client sees ECONNRESET); in-process, `app.fetch` rejects exactly as
 * undici's `fetch` does when a connection drops.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { MiddlewareHandler } from "hono";
import { redact } from "../core/redact.js";
import type { Operation } from "../klaviyo/operations.js";
import { type EmulatorEnv, requestUrl } from "./env.js";
import type { FaultKind } from "./faults.js";

/** One request the emulator answered, for tests to count what really reached a handler. */
export interface RequestRecord {
  readonly method: string;
  /** Path and query, with anything shaped like a credential masked. */
  readonly path: string;
  /** The operation the path addressed, when Klaviyo's API has one. */
  readonly operationId: string | undefined;
  /** What the client got; 0 when the connection was dropped. */
  readonly status: number;
  /** Whether the handler ran to completion, so that its change is in the state even if the client saw a failure. */
  readonly handled: boolean;
  readonly fault: FaultKind | undefined;
  /**
   * The JSON body the request carried, parsed (its text where it did not parse), when the emulator read one of
   * at most `LOGGED_BODY_LIMIT` bytes; absent otherwise (no body, a multipart upload, a larger bulk job).
   */
  readonly body?: unknown;
  /** The size of the body the emulator read, in bytes. */
  readonly bodyBytes?: number;
  /**
   * When the request arrived (ms since the epoch, by `ConnectionOptions.now`, default `Date.now`), to check rate
   * windows: after its request delay, at the moment it was counted against the rate limits.
   */
  readonly at: number;
}

/** The log keeps the latest requests only, so a long-running emulator does not grow without bound. */
export const REQUEST_LOG_LIMIT = 1000;

const dropped = new WeakSet<Error>();

/** The rejection undici's `fetch` gives when the server drops the connection. */
export function connectionResetError(): TypeError {
  const cause = Object.assign(new Error("read ECONNRESET"), {
    code: "ECONNRESET",
    errno: -104,
    syscall: "read",
  });
  const error = new TypeError("fetch failed", { cause });
  dropped.add(error);
  return error;
}

/** Whether `error` stands for a dropped connection, which must escape the app's error handler untouched. */
export function isDroppedConnection(error: unknown): boolean {
  return error instanceof Error && dropped.has(error);
}

function loggedBody(
  text: string | undefined,
  bytes: number | undefined,
): Pick<RequestRecord, "body" | "bodyBytes"> {
  if (bytes === undefined) return {};
  if (text === undefined) return { bodyBytes: bytes };
  try {
    return { body: JSON.parse(text), bodyBytes: bytes };
  } catch {
    return { body: text, bodyBytes: bytes };
  }
}

const callerSignals = new WeakMap<Request, AbortSignal>();

/**
 * In-process, `emulator.fetch` races the caller's signal instead of handing it to the `Request` (see app.ts);
 * this tells the request delay which signal to honour for `request`.
 * @internal
 */
export function followCallerSignal(request: Request, signal: AbortSignal): void {
  callerSignals.set(request, signal);
}

export interface ConnectionOptions {
  readonly log: RequestRecord[];
  /** The delay of this request's answer, drawn once per request as it enters. */
  readonly latencyMs: () => number;
  /** The one-way delay of this request on its way in, drawn once per request as it enters; default none. */
  readonly requestLatencyMs?: () => number;
  /** The clock of `at`; default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Holds the request for its request delay, runs the pipeline, holds the answer for its latency, logs the outcome
 * and drops the connection if asked.
 * @internal The emulator's own pipeline; its types are hono's, kept out of the published declarations.
 */
export function connection(options: ConnectionOptions): MiddlewareHandler<EmulatorEnv> {
  return async (c, next) => {
    c.set("dropConnection", false);
    c.set("handled", false);
    c.set("fault", undefined);
    c.set("bodyBytes", undefined);
    c.set("bodyText", undefined);
    // Both delays are drawn as the request enters (the request's first), so that a seeded `random` gives the
    // same delays to the same sequence of requests.
    const requestDelay = options.requestLatencyMs ? options.requestLatencyMs() : 0;
    const latency = options.latencyMs();
    if (requestDelay > 0) {
      // On its way in. A client that gives up meanwhile (its signal in-process, its socket on a port) ends the
      // wait with an AbortError: the request never arrives, so it is neither counted, handled nor logged.
      // The delay is real time (a timer), whatever `now` says: with a fake clock that nobody advances meanwhile,
      // the request arrives, and is counted, at the same fake instant it was sent.
      const raw = c.req.raw;
      await sleep(requestDelay, undefined, { signal: callerSignals.get(raw) ?? raw.signal });
    }
    // Counted and handled on arrival, as Klaviyo's gateway counts a request against the rate limit when it
    // comes in: the stages after this one (the rate limits among them) run now, and `at` is this moment. The
    // answer is then held back by the latency (the time Klaviyo takes to serve it, and the way back).
    const at = options.now ? options.now() : Date.now();
    await next();
    if (latency > 0) await sleep(latency, undefined, { signal: c.req.raw.signal });

    const drop = c.get("dropConnection");
    const url = requestUrl(c);
    const record: RequestRecord = {
      at,
      method: c.req.method,
      path: redact(url.pathname + url.search),
      operationId: (c.get("operation") as Operation | undefined)?.id,
      status: drop ? 0 : c.res.status,
      handled: c.get("handled"),
      fault: c.get("fault"),
      ...loggedBody(c.get("bodyText"), c.get("bodyBytes")),
    };
    options.log.push(record);
    if (options.log.length > REQUEST_LOG_LIMIT) options.log.splice(0, options.log.length - REQUEST_LOG_LIMIT);
    if (!drop) return;
    const socket = c.env?.incoming?.socket;
    if (socket) {
      // An RST rather than a FIN, so the client sees ECONNRESET as it would from a crashed server; the answer
      // tells @hono/node-server that there is nothing left to write.
      socket.resetAndDestroy();
      c.res = undefined;
      c.res = RESPONSE_ALREADY_SENT;
      return;
    }
    throw connectionResetError();
  };
}
