import type { MiddlewareHandler } from "hono";
import { SPEC_REVISION } from "../klaviyo/operations.js";
import type { EmulatorEnv } from "./env.js";
import { invalidParameter } from "./errors.js";

const FORMAT = /^(\d{4})-(\d{2})-(\d{2})(?:\.[A-Za-z0-9_-]+)?$/;

/** Whether `value` is a revision Klaviyo could accept: `YYYY-MM-DD[.suffix]` naming a real calendar day. */
export function isWellFormedRevision(value: string): boolean {
  const match = FORMAT.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * Klaviyo requires the `revision` header on every `/api/*` call. The value is never echoed back: a client that
 * put the wrong thing in the header (a key, say) must not see it in an error.
 */
export function requireRevision(): MiddlewareHandler<EmulatorEnv> {
  return async (c, next) => {
    const value = c.req.header("revision");
    if (value === undefined || value.trim() === "") {
      throw invalidParameter(
        "revision",
        `The revision header is required; send the API revision you built against, such as ${SPEC_REVISION}.`,
      );
    }
    if (!isWellFormedRevision(value.trim())) {
      throw invalidParameter(
        "revision",
        `The revision header must be a date written YYYY-MM-DD, optionally followed by .suffix (such as ${SPEC_REVISION}).`,
      );
    }
    await next();
  };
}
