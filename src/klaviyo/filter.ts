/**
 * Klaviyo's `?filter=` language (`and(equals(messages.channel,'email'),greater-than(created_at,2026-01-01))`):
 * a tokenizer and recursive-descent parser, the canonical text, a builder for library users, and a checker
 * against an operation's filter rules (`x-klaviyo-filters`), so a bad filter is refused with a precise message
 * before a request goes out, and the emulator can answer the same filters Klaviyo answers.
 */
import { KlaviyoError } from "./error.js";
import type { FilterRule } from "./operations.js";

/** A filter argument: quoted string, number, boolean, unquoted datetime, `null`, or a `[list]`. */
export type FilterValue = string | number | boolean | Date | null | FilterValue[];

export interface FilterCondition {
  readonly kind: "condition";
  readonly operator: string;
  readonly field: string;
  /** Absent for `has(field)`. */
  readonly value?: FilterValue;
  readonly valueKind?: "single" | "list";
}

export interface FilterGroup {
  readonly kind: "and" | "or";
  readonly args: readonly FilterNode[];
}

export interface FilterNot {
  readonly kind: "not";
  readonly arg: FilterNode;
}

export type FilterNode = FilterGroup | FilterNot | FilterCondition;

/** Every operator of Klaviyo's filter syntax; anything else is a syntax error. */
export const FILTER_OPERATORS = [
  "equals",
  "any",
  "contains",
  "contains-any",
  "contains-all",
  "starts-with",
  "ends-with",
  "greater-than",
  "greater-or-equal",
  "less-than",
  "less-or-equal",
  "has",
  "and",
  "or",
  "not",
] as const;

export type FilterOperator = (typeof FILTER_OPERATORS)[number];

/** The filter text is not Klaviyo filter syntax; `position` is the 0-based offset of the problem. */
export class FilterSyntaxError extends KlaviyoError {
  override name = "FilterSyntaxError";
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), position: this.position };
  }
}

/** The filter is well formed but the endpoint does not accept it (field, operator, value shape or type). */
export class FilterRuleError extends KlaviyoError {
  override name = "FilterRuleError";
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), ...(this.field === undefined ? {} : { field: this.field }) };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Datetimes

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;
const DATE_LIKE = /^\d{4}-\d{2}-\d{2}/;

/** Source text of parsed datetimes, so formatting keeps offsets and sub-millisecond digits a Date loses. */
const originalText = new WeakMap<Date, { readonly text: string; readonly time: number }>();

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * An unquoted filter datetime (`2026-01-01`, `2026-01-01T00:00:00Z`, with an offset or fractional seconds) as
 * a Date, or undefined; a missing zone means UTC, so the answer never depends on the machine's time zone.
 */
export function parseFilterDate(text: string): Date | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const ms = Number((m[7] ?? "").padEnd(3, "0").slice(0, 3));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone && zone !== "Z" && zone !== "z") {
    const hours = Number(zone.slice(1, 3));
    const minutes = Number(zone.slice(-2));
    if (hours > 23 || minutes > 59) return undefined;
    offsetMinutes = (zone.startsWith("-") ? -1 : 1) * (hours * 60 + minutes);
  }
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  date.setTime(date.getTime() - offsetMinutes * 60_000);
  return date;
}

// ---------------------------------------------------------------------------------------------------------
// Tokenizer

type TokenKind = "(" | ")" | "," | "[" | "]" | "word" | "string" | "end";

interface Token {
  readonly kind: TokenKind;
  readonly start: number;
  /** The source text (quotes included for strings). */
  readonly text: string;
  /** The decoded content of a string token. */
  readonly value: string;
}

const PUNCTUATION = new Set(["(", ")", ",", "[", "]"]);
const WHITESPACE = /\s/;

function isWordChar(ch: string): boolean {
  return !PUNCTUATION.has(ch) && ch !== "'" && ch !== '"' && !WHITESPACE.test(ch);
}

/** Tokens on demand, so the first problem in the text is the one reported. */
class Lexer {
  private pos = 0;
  private peeked: Token | undefined;

  constructor(private readonly text: string) {}

  peek(): Token {
    this.peeked ??= this.scan();
    return this.peeked;
  }

  next(): Token {
    const token = this.peek();
    this.peeked = undefined;
    return token;
  }

  private scan(): Token {
    const text = this.text;
    while (this.pos < text.length && WHITESPACE.test(text.charAt(this.pos))) this.pos++;
    const start = this.pos;
    if (start >= text.length) return { kind: "end", start, text: "", value: "" };
    const ch = text.charAt(start);
    if (PUNCTUATION.has(ch)) {
      this.pos++;
      return { kind: ch as TokenKind, start, text: ch, value: ch };
    }
    if (ch === "'" || ch === '"') return this.scanString(start, ch);
    while (this.pos < text.length && isWordChar(text.charAt(this.pos))) this.pos++;
    const word = text.slice(start, this.pos);
    return { kind: "word", start, text: word, value: word };
  }

  private scanString(start: number, quote: string): Token {
    const text = this.text;
    let value = "";
    let pos = start + 1;
    for (;;) {
      if (pos >= text.length) {
        throw new FilterSyntaxError(
          `expected ${JSON.stringify(quote)} at position ${text.length} but found end of input ` +
            `(the string opened at position ${start} is not closed)`,
          text.length,
        );
      }
      const ch = text.charAt(pos);
      if (ch === quote) break;
      if (ch === "\\") {
        const escaped = text.charAt(pos + 1);
        if (escaped === "'" || escaped === '"' || escaped === "\\") {
          value += escaped;
          pos += 2;
          continue;
        }
        if (pos + 1 < text.length) {
          throw new FilterSyntaxError(
            `expected an escape (\\', \\" or \\\\) at position ${pos} but found "\\${escaped}"`,
            pos,
          );
        }
        pos++;
        continue; // a backslash at the very end: reported as the unclosed string it is
      }
      value += ch;
      pos++;
    }
    this.pos = pos + 1;
    return { kind: "string", start, text: text.slice(start, this.pos), value };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Parser

// Deep enough for any real filter, shallow enough that hostile input cannot exhaust the stack.
const MAX_DEPTH = 32;
const OPERATOR_NAMES: ReadonlySet<string> = new Set(FILTER_OPERATORS);
const FIELD = /^[A-Za-z_$][A-Za-z0-9_$.-]*$/;
const NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const VALUE_KINDS =
  "a value (a quoted string, a number, true, false, null, an unquoted datetime or a [list])";

function shorten(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function describeToken(token: Token): string {
  if (token.kind === "end") return "end of input";
  if (token.kind === "string") return `the string ${shorten(token.text)}`;
  return JSON.stringify(shorten(token.text));
}

class Parser {
  private readonly lexer: Lexer;

  constructor(private readonly text: string) {
    this.lexer = new Lexer(text);
  }

  parse(): FilterNode {
    if (this.text.trim() === "") {
      throw new FilterSyntaxError(
        `the filter is empty: expected an operator such as equals(...) at position 0 but found end of input`,
        0,
      );
    }
    const node = this.expression(0);
    this.expect("end", "end of input");
    return node;
  }

  private fail(expected: string, token: Token, hint?: string): never {
    const suffix = hint ? ` (${hint})` : "";
    throw new FilterSyntaxError(
      `expected ${expected} at position ${token.start} but found ${describeToken(token)}${suffix}`,
      token.start,
    );
  }

  private expect(kind: TokenKind, label = JSON.stringify(kind), hint?: string): Token {
    const token = this.lexer.next();
    if (token.kind !== kind) this.fail(label, token, hint);
    return token;
  }

  private expression(depth: number): FilterNode {
    const token = this.lexer.next();
    if (depth > MAX_DEPTH) this.fail(`at most ${MAX_DEPTH} levels of nesting`, token);
    if (token.kind !== "word" || !OPERATOR_NAMES.has(token.text)) {
      this.fail(`an operator (${FILTER_OPERATORS.join(", ")})`, token);
    }
    const operator = token.text;
    this.expect("(", undefined, `${operator} is followed by its arguments in parentheses`);
    if (operator === "and" || operator === "or") {
      const args = [this.expression(depth + 1)];
      for (;;) {
        const next = this.lexer.peek();
        if (next.kind !== ",") break;
        this.lexer.next();
        args.push(this.expression(depth + 1));
      }
      if (args.length < 2) this.fail('","', this.lexer.next(), `${operator}() takes two or more expressions`);
      this.expect(")", undefined, `or "," before another expression`);
      return node({ kind: operator, args });
    }
    if (operator === "not") {
      const arg = this.expression(depth + 1);
      this.expect(")", undefined, "not() takes one expression");
      return node({ kind: "not", arg });
    }
    const field = this.field();
    let value: FilterValue | undefined;
    if (operator === "has") {
      // has(field) takes no value; one given is the checker's to refuse, with the field's rules at hand.
      if (this.lexer.peek().kind === ",") {
        this.lexer.next();
        value = this.value(depth + 1);
      }
    } else {
      this.expect(",", undefined, `${operator}() takes a field and a value`);
      value = this.value(depth + 1);
    }
    this.expect(
      ")",
      undefined,
      `${operator}() takes a field and ${operator === "has" ? "no value" : "one value"}`,
    );
    return condition(operator, field, value);
  }

  private field(): string {
    const token = this.lexer.next();
    if (token.kind === "word" && FIELD.test(token.text)) return token.text;
    const hint =
      token.kind === "string"
        ? "field names are not quoted"
        : token.kind === "word"
          ? 'field names are letters, digits, "_", "$", "." and "-"'
          : undefined;
    return this.fail("a field name", token, hint);
  }

  private value(depth: number): FilterValue {
    const token = this.lexer.next();
    if (depth > MAX_DEPTH) this.fail(`at most ${MAX_DEPTH} levels of nesting`, token);
    if (token.kind === "string") return token.value;
    if (token.kind === "[") return this.list(depth);
    if (token.kind !== "word") return this.fail(VALUE_KINDS, token);
    const word = token.text;
    if (word === "true") return true;
    if (word === "false") return false;
    if (word === "null") return null;
    if (NUMBER.test(word)) {
      const n = Number(word);
      if (!Number.isFinite(n)) this.fail("a finite number", token);
      return n;
    }
    const date = parseFilterDate(word);
    if (date) {
      originalText.set(date, { text: word, time: date.getTime() });
      return date;
    }
    if (DATE_LIKE.test(word)) {
      this.fail("a valid ISO 8601 datetime (such as 2026-01-01T00:00:00Z)", token);
    }
    return this.fail(VALUE_KINDS, token, "strings must be quoted");
  }

  private list(depth: number): FilterValue[] {
    const items: FilterValue[] = [];
    if (this.lexer.peek().kind === "]") {
      this.lexer.next();
      return items;
    }
    for (;;) {
      items.push(this.value(depth + 1));
      const token = this.lexer.next();
      if (token.kind === "]") return items;
      if (token.kind !== ",") this.fail('"," or "]"', token);
    }
  }
}

/** The AST of a filter expression; throws FilterSyntaxError saying where and what was expected. */
export function parseFilter(text: string): FilterNode {
  return new Parser(text).parse();
}

// ---------------------------------------------------------------------------------------------------------
// Nodes and formatting

function nodeToString(this: FilterNode): string {
  return formatFilter(this);
}

// Non-enumerable, so nodes still compare and serialize as plain data.
function node<T extends FilterNode>(value: T): T {
  Object.defineProperty(value, "toString", { value: nodeToString, writable: true, configurable: true });
  return value;
}

function condition(operator: string, field: string, value: FilterValue | undefined): FilterCondition {
  if (value === undefined) return node({ kind: "condition", operator, field });
  return node({
    kind: "condition",
    operator,
    field,
    value,
    valueKind: Array.isArray(value) ? "list" : "single",
  });
}

function formatDate(date: Date): string {
  const time = date.getTime();
  const year = date.getUTCFullYear();
  if (!Number.isFinite(time) || year < 0 || year > 9999) {
    throw new RangeError(
      `a filter datetime must be a valid date between years 0 and 9999, got ${String(date)}`,
    );
  }
  const original = originalText.get(date);
  return original && original.time === time ? original.text : date.toISOString();
}

function formatValue(value: FilterValue): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `[${value.map(formatValue).join(",")}]`;
  if (value instanceof Date) return formatDate(value);
  switch (typeof value) {
    case "string":
      return `'${value.replace(/[\\']/g, (ch) => `\\${ch}`)}'`;
    case "boolean":
      return String(value);
    case "number":
      if (!Number.isFinite(value)) throw new RangeError(`a filter number must be finite, got ${value}`);
      return Object.is(value, -0) ? "0" : String(value);
    default:
      throw new TypeError(`not a filter value: ${String(value)}`);
  }
}

function assertField(field: string): void {
  if (!FIELD.test(field)) {
    throw new RangeError(
      `filter field ${JSON.stringify(field)} cannot be written in a filter: use letters, digits, "_", "$", "." and "-"`,
    );
  }
}

/** The canonical filter text Klaviyo accepts (single-quoted strings, unquoted datetimes, `['a','b']` lists). */
export function formatFilter(filterNode: FilterNode): string {
  switch (filterNode.kind) {
    case "and":
    case "or":
      if (filterNode.args.length < 2) {
        throw new RangeError(
          `${filterNode.kind}() takes two or more expressions, got ${filterNode.args.length}`,
        );
      }
      return `${filterNode.kind}(${filterNode.args.map(formatFilter).join(",")})`;
    case "not":
      return `not(${formatFilter(filterNode.arg)})`;
    case "condition": {
      const { operator, field, value } = filterNode;
      if (!OPERATOR_NAMES.has(operator) || operator === "and" || operator === "or" || operator === "not") {
        throw new RangeError(`${JSON.stringify(operator)} is not a filter condition operator`);
      }
      assertField(field);
      if (value === undefined) {
        if (operator !== "has") throw new RangeError(`${operator}(${field}) needs a value`);
        return `has(${field})`;
      }
      return `${operator}(${field},${formatValue(value)})`;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Builder

function build(operator: FilterOperator, field: string, value?: FilterValue): FilterCondition {
  assertField(field);
  if (value !== undefined)
    formatValue(value); // refuses NaN, invalid dates and non-values now, not at send time
  else if (operator !== "has") throw new RangeError(`${operator}(${field}) needs a value`);
  return condition(operator, field, value);
}

/**
 * Filters for library users, without writing the syntax by hand: `filter.and(filter.equals('messages.channel',
 * 'email'), filter.greaterOrEqual('created_at', new Date()))`; every node `String()`s to its filter text.
 */
export const filter = {
  equals: (field: string, value: FilterValue): FilterCondition => build("equals", field, value),
  any: (field: string, values: readonly FilterValue[]): FilterCondition => build("any", field, [...values]),
  contains: (field: string, value: FilterValue): FilterCondition => build("contains", field, value),
  startsWith: (field: string, value: string): FilterCondition => build("starts-with", field, value),
  endsWith: (field: string, value: string): FilterCondition => build("ends-with", field, value),
  greaterThan: (field: string, value: number | Date): FilterCondition => build("greater-than", field, value),
  greaterOrEqual: (field: string, value: number | Date): FilterCondition =>
    build("greater-or-equal", field, value),
  lessThan: (field: string, value: number | Date): FilterCondition => build("less-than", field, value),
  lessOrEqual: (field: string, value: number | Date): FilterCondition => build("less-or-equal", field, value),
  has: (field: string): FilterCondition => build("has", field),
  /** All of the nodes; a single node is returned as is, since Klaviyo's `and()` needs two or more. */
  and: (...nodes: FilterNode[]): FilterNode => {
    const [first] = nodes;
    if (!first) throw new RangeError("filter.and() needs at least one expression");
    return nodes.length === 1 ? first : node({ kind: "and", args: [...nodes] });
  },
} as const;

// ---------------------------------------------------------------------------------------------------------
// Checker

export interface CheckFilterOptions {
  /** `or()` / `not()` are accepted only where the endpoint documents them (none of ours do). */
  readonly allow?: readonly ("or" | "not")[];
}

type Shape = "single" | "list" | "none";
const SHAPE_WORDS: Record<Shape, string> = { single: "a single value", list: "a list", none: "no value" };

function showValue(value: FilterValue): string {
  try {
    return formatValue(value);
  } catch {
    return String(value);
  }
}

function describeAllowed(rule: FilterRule): string {
  const shapes = new Map<string, Shape[]>();
  for (const shape of ["single", "list", "none"] as const) {
    for (const op of rule.operators[shape] ?? []) shapes.set(op, [...(shapes.get(op) ?? []), shape]);
  }
  return [...shapes]
    .map(([op, list]) => `${op} (${list.map((s) => SHAPE_WORDS[s]).join(" or ")})`)
    .join(", ");
}

function operatorProblem(field: string, operator: string, shape: Shape, rule: FilterRule): string {
  if (shape === "single" && rule.operators.list?.includes(operator)) {
    return `filter field "${field}": ${operator}() takes a list here, such as ${operator}(${field},['a','b'])`;
  }
  if (shape === "list" && rule.operators.single?.includes(operator)) {
    return `filter field "${field}": ${operator}() takes a single value here, not a list`;
  }
  return `filter field "${field}" does not support ${operator}(); allowed: ${describeAllowed(rule)}`;
}

function typeProblem(field: string, item: FilterValue, rule: FilterRule): string | undefined {
  const spec = rule.value;
  if (!spec) return undefined;
  if (Array.isArray(item)) return `filter field "${field}": list items must be single values, not lists`;
  const got = item === null ? "null" : showValue(item);
  if (spec.format === "date-time") {
    if (item instanceof Date) return undefined;
    if (typeof item === "string" && parseFilterDate(item)) {
      return `filter field "${field}": datetimes must not be quoted; write ${item} instead of ${got}`;
    }
    return `filter field "${field}" needs an unquoted ISO 8601 datetime such as 2026-01-01T00:00:00Z, but got ${got}`;
  }
  switch (spec.type) {
    case "string":
      if (typeof item !== "string") return `filter field "${field}" needs a quoted string, but got ${got}`;
      break;
    case "boolean":
      if (typeof item !== "boolean")
        return `filter field "${field}" needs true or false (unquoted), but got ${got}`;
      break;
    case "number":
      if (typeof item !== "number") return `filter field "${field}" needs an unquoted number, but got ${got}`;
      break;
    case "integer":
      if (!Number.isInteger(item)) return `filter field "${field}" needs an unquoted integer, but got ${got}`;
      break;
  }
  if (spec.enum && !spec.enum.includes(item)) {
    const allowed = spec.enum.map((v) => (typeof v === "string" ? showValue(v) : String(v))).join(", ");
    return `filter field "${field}": ${got} is not one of ${allowed}`;
  }
  return undefined;
}

function checkCondition(node: FilterCondition, rules: Readonly<Record<string, FilterRule>>): void {
  const { field, operator, value } = node;
  const names = Object.keys(rules);
  if (names.length === 0) {
    throw new FilterRuleError(
      `this endpoint does not accept filters (got ${operator}() on "${field}")`,
      field,
    );
  }
  // hasOwn: a field named "constructor" or "__proto__" must not find Object.prototype's members.
  const rule = Object.hasOwn(rules, field) ? rules[field] : undefined;
  if (!rule) {
    throw new FilterRuleError(
      `"${field}" is not a filterable field of this endpoint; filterable fields: ${names.join(", ")}`,
      field,
    );
  }
  if (operator === "has" && value !== undefined) {
    throw new FilterRuleError(`filter field "${field}": has() takes no value; write has(${field})`, field);
  }
  if (operator !== "has" && value === undefined) {
    throw new FilterRuleError(`filter field "${field}": ${operator}() needs a value`, field);
  }
  const shape: Shape = value === undefined ? "none" : Array.isArray(value) ? "list" : "single";
  if (!(rule.operators[shape] ?? []).includes(operator)) {
    throw new FilterRuleError(operatorProblem(field, operator, shape, rule), field);
  }
  if (value === undefined) return;
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0) {
    throw new FilterRuleError(
      `filter field "${field}": ${operator}() needs at least one value in the list`,
      field,
    );
  }
  for (const item of items) {
    const problem = typeProblem(field, item, rule);
    if (problem) throw new FilterRuleError(problem, field);
  }
}

/**
 * Refuses, before anything is sent, a filter the endpoint would answer with a 400: throws FilterRuleError
 * naming the field and what its rules (`OPERATION_PARAMETERS[op].filters`) allow.
 */
export function checkFilter(
  filterNode: FilterNode,
  rules: Readonly<Record<string, FilterRule>>,
  options: CheckFilterOptions = {},
): void {
  switch (filterNode.kind) {
    case "and":
      for (const arg of filterNode.args) checkFilter(arg, rules, options);
      return;
    case "or":
    case "not":
      if (!options.allow?.includes(filterNode.kind)) {
        throw new FilterRuleError(
          `${filterNode.kind}() is not supported by this endpoint; combine conditions with and()`,
        );
      }
      for (const arg of filterNode.kind === "not" ? [filterNode.arg] : filterNode.args) {
        checkFilter(arg, rules, options);
      }
      return;
    case "condition":
      checkCondition(filterNode, rules);
  }
}
