/**
 * The checks a schema runs after its type check, in the order they were added: refinements, bounds, patterns and
 * the overwrites (`trim`, `toLowerCase`). Plain data, run by one loop, so a parse builds no closures.
 */
import { type ErrorParam, type ParseContext, type RefinementCtx, report } from "./issues.js";

export type Check =
  | {
      readonly kind: "refine";
      /** Method syntax: a check of a narrower value is stored here as it is. */
      test(value: unknown): unknown;
      readonly error: ErrorParam | undefined;
      readonly abort: boolean;
    }
  | { readonly kind: "superRefine"; refine(value: unknown, ctx: RefinementCtx): void }
  | { readonly kind: "trim" | "toLowerCase" }
  | {
      readonly kind: "min_length" | "max_length";
      readonly limit: number;
      readonly error: ErrorParam | undefined;
    }
  | {
      readonly kind: "min" | "max";
      readonly limit: number;
      readonly inclusive: boolean;
      readonly error: ErrorParam | undefined;
    }
  | { readonly kind: "int"; readonly error: ErrorParam | undefined }
  | {
      readonly kind: "regex";
      readonly regex: RegExp;
      readonly error: ErrorParam | undefined;
    }
  | {
      readonly kind: "starts_with" | "ends_with";
      readonly text: string;
      readonly error: ErrorParam | undefined;
    }
  | {
      readonly kind: "datetime";
      readonly offset: boolean;
      readonly local: boolean;
      readonly error: ErrorParam | undefined;
    }
  | { readonly kind: "date"; readonly error: ErrorParam | undefined };

/** Length in code points (an emoji is one character), counted only when the UTF-16 length leaves it in doubt. */
function lengthOf(value: string | readonly unknown[], limit: number): number {
  if (typeof value !== "string" || value.length < limit || value.length > limit * 2) return value.length;
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** Date, `T`, `HH:MM`, optional seconds and fraction, optional zone; which combinations are valid is decided below. */
const DATE_TIME =
  /^\d{4}-\d{2}-\d{2}T(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?$/;

/** The number written by the digits of `text` from `start` to `end`. */
function digits(text: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) n = n * 10 + text.charCodeAt(i) - 48;
  return n;
}

/** Whether `text` starts with a real calendar date (its `YYYY-MM-DD` shape already checked). */
function isCalendarDate(text: string): boolean {
  const month = digits(text, 5, 7);
  const day = digits(text, 8, 10);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysIn(digits(text, 0, 4), month);
}

/** `YYYY-MM-DD`, a real calendar date. */
export function isIsoDate(text: string): boolean {
  return DATE.test(text) && isCalendarDate(text);
}

/**
 * RFC 3339 date-time: seconds required with a zone (`Z`, or `±HH:MM` when `offset`); without a zone only when
 * `local`, and then seconds are optional.
 */
export function isIsoDateTime(text: string, offset: boolean, local: boolean): boolean {
  if (!DATE_TIME.test(text) || !isCalendarDate(text)) return false;
  const last = text.charCodeAt(text.length - 1);
  const sign = text.charCodeAt(text.length - 6);
  // `Z`, or `+`/`-` six from the end (a fraction or seconds put a digit or `:` there).
  const zone = last === 90 ? 1 : sign === 43 || sign === 45 ? 6 : 0;
  if (zone === 0) return local;
  // `YYYY-MM-DDTHH:MM` is 16 characters: with a zone, the seconds must follow.
  if (text.length - zone <= 16) return false;
  return zone === 1 || offset;
}

/**
 * Runs `checks` on `value` (the output of the type check), returning the value as the overwrites leave it. After a
 * fatal issue below (`fatalBefore` is the count when the schema started), only the length checks still run.
 */
export function runChecks(
  checks: readonly Check[],
  input: unknown,
  ctx: ParseContext,
  fatalBefore: number,
): unknown {
  let value = input;
  for (const check of checks) {
    if (ctx.fatal > fatalBefore && check.kind !== "min_length" && check.kind !== "max_length") continue;
    switch (check.kind) {
      case "refine":
        if (!check.test(value)) {
          report(ctx, { code: "custom" }, value, check.error, check.abort);
        }
        break;
      case "superRefine":
        ctx.current = value;
        ctx.currentIsFatal = false;
        check.refine(value, ctx);
        break;
      case "trim":
        if (typeof value === "string") value = value.trim();
        break;
      case "toLowerCase":
        if (typeof value === "string") value = value.toLowerCase();
        break;
      case "min_length":
      case "max_length": {
        if (typeof value !== "string" && !Array.isArray(value)) break;
        const origin = typeof value === "string" ? "string" : "array";
        const length = lengthOf(value, check.limit);
        if (check.kind === "min_length" && length < check.limit) {
          report(
            ctx,
            { code: "too_small", origin, minimum: check.limit, inclusive: true },
            value,
            check.error,
            false,
          );
        } else if (check.kind === "max_length" && length > check.limit) {
          report(
            ctx,
            { code: "too_big", origin, maximum: check.limit, inclusive: true },
            value,
            check.error,
            false,
          );
        }
        break;
      }
      case "min":
      case "max": {
        if (typeof value !== "number") break;
        const { limit, inclusive } = check;
        if (
          check.kind === "min"
            ? inclusive
              ? value < limit
              : value <= limit
            : inclusive
              ? value > limit
              : value >= limit
        ) {
          const detail =
            check.kind === "min"
              ? ({ code: "too_small", origin: "number", minimum: limit, inclusive } as const)
              : ({ code: "too_big", origin: "number", maximum: limit, inclusive } as const);
          report(ctx, detail, value, check.error, false);
        }
        break;
      }
      case "int":
        if (typeof value !== "number") break;
        if (!Number.isInteger(value)) {
          report(ctx, { code: "invalid_type", expected: "integer" }, value, check.error, true);
        } else if (value > Number.MAX_SAFE_INTEGER) {
          const detail = {
            code: "too_big",
            origin: "number",
            maximum: Number.MAX_SAFE_INTEGER,
            inclusive: true,
          } as const;
          report(ctx, detail, value, check.error, false);
        } else if (value < Number.MIN_SAFE_INTEGER) {
          const detail = {
            code: "too_small",
            origin: "number",
            minimum: Number.MIN_SAFE_INTEGER,
            inclusive: true,
          } as const;
          report(ctx, detail, value, check.error, false);
        }
        break;
      case "regex":
        if (typeof value === "string") {
          check.regex.lastIndex = 0;
          if (!check.regex.test(value)) {
            report(
              ctx,
              { code: "invalid_format", format: "regex", expected: String(check.regex) },
              value,
              check.error,
              false,
            );
          }
        }
        break;
      case "starts_with":
      case "ends_with":
        if (typeof value === "string") {
          const ok = check.kind === "starts_with" ? value.startsWith(check.text) : value.endsWith(check.text);
          if (!ok) {
            report(
              ctx,
              { code: "invalid_format", format: check.kind, expected: check.text },
              value,
              check.error,
              false,
            );
          }
        }
        break;
      case "datetime":
        if (typeof value === "string" && !isIsoDateTime(value, check.offset, check.local)) {
          report(ctx, { code: "invalid_format", format: "datetime" }, value, check.error, false);
        }
        break;
      case "date":
        if (typeof value === "string" && !isIsoDate(value)) {
          report(ctx, { code: "invalid_format", format: "date" }, value, check.error, false);
        }
        break;
    }
  }
  return value;
}
