import type { MiddlewareHandler } from "hono";
import { redact } from "../core/redact.js";
import { matchOperation, type Operation } from "../klaviyo/operations.js";
import { type EmulatorEnv, requestUrl } from "./env.js";
import { EmulatorProblem, notFound } from "./errors.js";

/**
 * Finds the operation a request addresses in Klaviyo's operation table: 404 when Klaviyo has none. An operation
 * Klaviyo has but the emulator does not implement yet is answered 501 by `notImplemented`, at the handler's
 * place, after authentication, rate limits and faults, so a client's handling of those can be tested on any
 * operation.
 */
export function lookupOperation(): MiddlewareHandler<EmulatorEnv> {
  return async (c, next) => {
    // HEAD is answered as GET, as Klaviyo's servers do.
    const method = c.req.method === "HEAD" ? "GET" : c.req.method;
    // The raw path: matchOperation decodes each segment itself, and must not decode twice.
    const { pathname } = requestUrl(c);
    const match = matchOperation(method, pathname);
    if (!match) throw notFound(`No Klaviyo API operation matches ${method} ${redact(pathname)}.`);
    c.set("operation", match.operation);
    c.set("params", match.params);
    await next();
  };
}

/** The answer for an operation Klaviyo has and the emulator does not (so "wrong path" and "not emulated" differ). */
export function notImplemented(operation: Operation): EmulatorProblem {
  return new EmulatorProblem({
    status: 501,
    code: "not_implemented",
    title: "Not implemented.",
    detail: `The emulator does not implement ${operation.id} (${operation.method} ${operation.path}) yet.`,
  });
}
