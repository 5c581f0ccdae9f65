/**
 * Evaluates one segment filter (`{type, operator, value}`, the date forms) against a value read from a profile
 * or an event, so segment membership can be computed from the emulator's state. What cannot be known here
 * (phone country codes, anniversaries) never matches.
 */

type Filter = Record<string, unknown>;

const UNIT_MS: Readonly<Record<string, number>> = { hour: 3_600_000, day: 86_400_000, week: 604_800_000 };

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || value === "";
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}

/** Milliseconds since the epoch of an ISO string, a `Date`, or a Unix timestamp in seconds. */
export function timeOf(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value * 1000;
  if (typeof value !== "string" || value === "") return undefined;
  const text = /(Z|[+-]\d\d:?\d\d)$/i.test(value) || !value.includes("T") ? value : `${value}Z`;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

function compareNumbers(operator: unknown, actual: number, wanted: number): boolean {
  switch (operator) {
    case "equals":
      return actual === wanted;
    case "not-equals":
      return actual !== wanted;
    case "greater-than":
      return actual > wanted;
    case "greater-than-or-equal":
      return actual >= wanted;
    case "less-than":
      return actual < wanted;
    case "less-than-or-equal":
      return actual <= wanted;
    default:
      return false;
  }
}

function matchString(filter: Filter, actual: unknown): boolean {
  const { operator, value } = filter;
  if (Array.isArray(value)) {
    if (operator === "in") return typeof actual === "string" && value.includes(actual);
    if (operator === "not-in") return !(typeof actual === "string" && value.includes(actual));
    return false;
  }
  if (typeof operator !== "string") return false;
  const negated = operator.startsWith("not-") || operator === "nregex";
  const positive = negated ? (operator === "nregex" ? "regex" : operator.slice(4)) : operator;
  const text = typeof actual === "string" ? actual : typeof actual === "number" ? String(actual) : undefined;
  let hit = false;
  if (value === null) hit = positive === "equals" && isBlank(actual);
  else if (typeof value === "string" && text !== undefined) {
    switch (positive) {
      case "equals":
        hit = text === value;
        break;
      case "contains":
        hit = text.includes(value);
        break;
      case "starts-with":
        hit = text.startsWith(value);
        break;
      case "ends-with":
        hit = text.endsWith(value);
        break;
      case "regex":
        try {
          hit = new RegExp(value).test(text);
        } catch {
          hit = false;
        }
        break;
    }
  }
  return negated ? !hit : hit;
}

function matchDate(filter: Filter, actual: unknown, now: number): boolean {
  const { operator } = filter;
  if (operator === "alltime") return true;
  const t = timeOf(actual);
  if (t === undefined) return false;
  const span = (n: unknown) => (typeof n === "number" ? n : 0) * (UNIT_MS[String(filter.unit)] ?? 0);
  switch (operator) {
    case "after":
      return t > (timeOf(filter.date) ?? Number.POSITIVE_INFINITY);
    case "before":
      return t < (timeOf(filter.date) ?? Number.NEGATIVE_INFINITY);
    case "between-static":
      return t >= (timeOf(filter.start) ?? Number.NaN) && t <= (timeOf(filter.end) ?? Number.NaN);
    case "in-the-last":
      return t >= now - span(filter.quantity) && t <= now;
    case "in-the-next":
      return t >= now && t <= now + span(filter.quantity);
    case "at-least":
      return t <= now - span(filter.quantity);
    case "between":
      return t >= now - span(filter.end) && t <= now - span(filter.start);
    case "calendar-month":
      return new Date(t).getUTCMonth() + 1 === filter.value;
    default:
      return false;
  }
}

function matchList(filter: Filter, actual: unknown): boolean {
  if (!Array.isArray(actual)) return false;
  const { operator, value } = filter;
  const n = typeof value === "number" ? value : Number.NaN;
  const strings = actual.map(String);
  const wanted = Array.isArray(value) ? value.map(String) : [];
  switch (operator) {
    case "contains":
      return actual.includes(value);
    case "not-contains":
      return !actual.includes(value);
    case "length-equals":
      return actual.length === n;
    case "length-greater-than":
      return actual.length > n;
    case "length-greater-than-or-equal":
      return actual.length >= n;
    case "length-less-than":
      return actual.length < n;
    case "length-less-than-or-equal":
      return actual.length <= n;
    case "contains-all":
      return wanted.every((w) => strings.includes(w));
    case "contains-any":
      return wanted.some((w) => strings.includes(w));
    case "not-contains-all":
      return !wanted.every((w) => strings.includes(w));
    case "not-contains-any":
      return !wanted.some((w) => strings.includes(w));
    case "contains-substring":
      return typeof value === "string" && strings.some((s) => s.includes(value));
    case "not-contains-substring":
      return !(typeof value === "string" && strings.some((s) => s.includes(value)));
    default:
      return false;
  }
}

/** Whether `actual` satisfies the filter, as Klaviyo's segment engine would decide for stored data. */
export function matchFilter(filter: unknown, actual: unknown, now: number): boolean {
  if (typeof filter !== "object" || filter === null) return false;
  const f = filter as Filter;
  switch (f.type) {
    case "existence":
      return f.operator === "is-set" ? !isBlank(actual) : isBlank(actual);
    case "string":
      return matchString(f, actual);
    case "numeric": {
      const a = asNumber(actual);
      if (a === undefined) return false;
      if (f.operator === "between") return a >= Number(f.start) && a <= Number(f.end);
      return typeof f.value === "number" && compareNumbers(f.operator, a, f.value);
    }
    case "boolean":
      return (
        (actual === true || actual === "true") === f.value &&
        (typeof actual === "boolean" || actual === "true" || actual === "false")
      );
    case "date":
      return matchDate(f, actual, now);
    case "list":
      return matchList(f, actual);
    default:
      return false;
  }
}

/** A numeric measurement (`count`, `sum`) against `{operator, value}`. */
export function matchMeasurement(filter: unknown, measured: number): boolean {
  if (typeof filter !== "object" || filter === null) return false;
  const f = filter as Filter;
  return typeof f.value === "number" && compareNumbers(f.operator, measured, f.value);
}
