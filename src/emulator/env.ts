import type { Context } from "hono";
import type { Operation } from "../klaviyo/operations.js";
import type { Principal } from "./auth.js";
import type { EmulatorBindings } from "./bindings.js";
import type { FaultKind } from "./faults.js";

export type { EmulatorBindings };

/** What each stage of the pipeline learns about a request and leaves for the next ones. */
export interface EmulatorVariables {
  operation: Operation;
  /** Path parameters of the operation's template, decoded. */
  params: Readonly<Record<string, string>>;
  principal: Principal;
  /** Set by a `reset` fault: the connection is to be dropped instead of answered. */
  dropConnection: boolean;
  /** Set once the handler has run, so its change (if any) is in the state. */
  handled: boolean;
  fault: FaultKind | undefined;
  /** The body's size, once a handler has read it. */
  bodyBytes: number | undefined;
  /** A JSON body's text, once read, when it is small enough to keep in the request log. */
  bodyText: string | undefined;
}

export type EmulatorEnv = { Bindings: EmulatorBindings; Variables: EmulatorVariables };
export type EmulatorContext = Context<EmulatorEnv>;

/** One implemented operation: answers a request that has passed auth, revision, rate and fault checks. */
export type OperationHandler = (c: EmulatorContext) => Response | Promise<Response>;

/** Implemented operations by operation id (`get_accounts`, …). */
export type RouteTable = Readonly<Record<string, OperationHandler>>;

const parsed = new WeakMap<Request, URL>();

/**
 * The request's URL, parsed once per request. The raw path (`pathname`, still percent-encoded) and the query as
 * `URLSearchParams` decode it: hono's `c.req.path` and `c.req.query()` decode differently.
 */
export function requestUrl(c: { readonly req: { readonly raw: Request } }): URL {
  const raw = c.req.raw;
  let url = parsed.get(raw);
  if (!url) {
    url = new URL(raw.url);
    parsed.set(raw, url);
  }
  return url;
}

/**
 * What handlers read beside the state: the emulator's clock, and the settings of the running emulator that shape
 * what a read sees.
 */
export interface RouteRuntime {
  /**
   * The emulator's clock (epoch milliseconds, the `clock` option): every time a resource records comes from it
   * (`created`, `updated`, `joined_group_at`, an event's default time, a suppression's `timestamp`), and reads
   * that depend on time (send jobs, an event's visibility, relative segment conditions) are judged by it.
   */
  now(): number;
  /** How long a newly recorded event stays out of Get Event and Get Events (Klaviyo's indexing lag), in ms. */
  eventVisibilityDelayMs(): number;
  /**
   * Whether the account may use the Webhooks API (Klaviyo: Advanced KDP customers and app partners); false answers
   * its every operation 403. Absent: it may.
   */
  webhookAccess?(): boolean;
}

/** The runtime of an emulator on the system clock, with no indexing lag. */
export const SYSTEM_RUNTIME: RouteRuntime = { now: () => Date.now(), eventVisibilityDelayMs: () => 0 };
