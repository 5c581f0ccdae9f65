/**
 * Evaluates a parsed `?filter=` against one record, so the emulator's collection endpoints answer filters as
 * Klaviyo does. Field values come from the emulator's state, where datetimes are usually ISO strings.
 */
import { type FilterNode, type FilterValue, parseFilterDate } from "../klaviyo/filter.js";

// Field values may be Date objects or ISO strings; anything else is not a time.
/**
 * Parsed times of stored datetime strings. A filtered walk compares every row's `created` on every page, and
 * parsing dominated that; rows' timestamps rarely change, so a bounded cache makes the comparison cheap.
 */
const parsedTimes = new Map<string, number | undefined>();
const PARSED_TIMES_LIMIT = 200_000;

/** A stored datetime (an ISO string or a Date) as epoch milliseconds; undefined for anything else. */
export function timeOf(value: unknown): number | undefined {
  if (value instanceof Date) return Number.isFinite(value.getTime()) ? value.getTime() : undefined;
  if (typeof value !== "string") return undefined;
  if (parsedTimes.has(value)) return parsedTimes.get(value);
  const time = parseFilterDate(value)?.getTime();
  if (parsedTimes.size >= PARSED_TIMES_LIMIT) parsedTimes.clear();
  parsedTimes.set(value, time);
  return time;
}

function same(actual: unknown, wanted: FilterValue): boolean {
  // equals(field,null) matches a field that is null or absent.
  if (wanted === null) return actual === null || actual === undefined;
  if (wanted instanceof Date || actual instanceof Date) {
    const [a, b] = [timeOf(actual), timeOf(wanted)];
    return a !== undefined && a === b;
  }
  if (Array.isArray(wanted)) {
    return (
      Array.isArray(actual) && actual.length === wanted.length && wanted.every((w, i) => same(actual[i], w))
    );
  }
  return actual === wanted;
}

function compare(actual: unknown, wanted: FilterValue): number | undefined {
  if (wanted instanceof Date || actual instanceof Date) {
    const [a, b] = [timeOf(actual), timeOf(wanted)];
    return a === undefined || b === undefined ? undefined : a - b;
  }
  if (typeof actual === "number" && typeof wanted === "number") {
    return Number.isNaN(actual) ? undefined : actual - wanted;
  }
  if (typeof actual === "string" && typeof wanted === "string") {
    return actual < wanted ? -1 : actual > wanted ? 1 : 0;
  }
  return undefined;
}

function values(wanted: FilterValue | undefined): FilterValue[] {
  if (wanted === undefined) return [];
  return Array.isArray(wanted) ? wanted : [wanted];
}

// A string field contains a string as a substring; an array field contains a value as a member.
function contains(actual: unknown, wanted: FilterValue): boolean {
  if (Array.isArray(actual)) return actual.some((member) => same(member, wanted));
  return typeof actual === "string" && typeof wanted === "string" && actual.includes(wanted);
}

function ordered(
  actual: unknown,
  wanted: FilterValue | undefined,
  test: (order: number) => boolean,
): boolean {
  if (wanted === undefined) return false;
  const order = compare(actual, wanted);
  return order !== undefined && test(order);
}

function matches(operator: string, actual: unknown, wanted: FilterValue | undefined): boolean {
  switch (operator) {
    case "has":
      return actual !== undefined && actual !== null;
    case "equals":
      // An array-valued field equals a list as a whole; any other field equals a list when it is a member.
      if (Array.isArray(actual) && Array.isArray(wanted)) return same(actual, wanted);
      return values(wanted).some((w) => same(actual, w));
    case "any":
      return values(wanted).some((w) => same(actual, w));
    case "contains":
      return wanted !== undefined && contains(actual, wanted);
    case "contains-any":
      return values(wanted).some((w) => contains(actual, w));
    case "contains-all": {
      const all = values(wanted);
      return all.length > 0 && all.every((w) => contains(actual, w));
    }
    case "starts-with":
      return typeof actual === "string" && typeof wanted === "string" && actual.startsWith(wanted);
    case "ends-with":
      return typeof actual === "string" && typeof wanted === "string" && actual.endsWith(wanted);
    case "greater-than":
      return ordered(actual, wanted, (o) => o > 0);
    case "greater-or-equal":
      return ordered(actual, wanted, (o) => o >= 0);
    case "less-than":
      return ordered(actual, wanted, (o) => o < 0);
    case "less-or-equal":
      return ordered(actual, wanted, (o) => o <= 0);
    default:
      return false;
  }
}

/** Whether the record whose fields `get` reads matches the filter, as Klaviyo's list endpoints decide it. */
export function evaluateFilter(node: FilterNode, get: (field: string) => unknown): boolean {
  switch (node.kind) {
    case "and":
      return node.args.every((arg) => evaluateFilter(arg, get));
    case "or":
      return node.args.some((arg) => evaluateFilter(arg, get));
    case "not":
      return !evaluateFilter(node.arg, get);
    case "condition":
      return matches(node.operator, get(node.field), node.value);
  }
}
