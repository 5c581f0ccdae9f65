import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evaluateFilter } from "../../src/emulator/filter-eval.js";
import {
  FILTER_OPERATORS,
  type FilterNode,
  type FilterValue,
  filter,
  formatFilter,
  parseFilter,
} from "../../src/klaviyo/filter.js";

type Row = Record<string, unknown>;

const campaign: Row = {
  id: "c1",
  name: "Spring Sale 2026",
  "messages.channel": "email",
  archived: false,
  created_at: "2026-03-01T12:00:00.000Z",
  scheduled_at: null,
  updated_at: new Date("2026-03-02T00:00:00Z"),
  timestamp: 1700000000,
  tags: ["promo", "spring"],
};

function matches(text: string, row: Row = campaign): boolean {
  return evaluateFilter(parseFilter(text), (field) => row[field]);
}

describe("evaluateFilter", () => {
  it("equals: exact strings, booleans, numbers, dates by time, list membership, null as absent", () => {
    expect(matches("equals(messages.channel,'email')")).toBe(true);
    expect(matches("equals(messages.channel,'Email')")).toBe(false);
    expect(matches("equals(archived,false)")).toBe(true);
    expect(matches("equals(archived,'false')")).toBe(false);
    expect(matches("equals(timestamp,1700000000)")).toBe(true);
    expect(matches("equals(created_at,2026-03-01T14:00:00+02:00)")).toBe(true);
    expect(matches("equals(updated_at,2026-03-02)")).toBe(true);
    expect(matches("equals(id,['c0','c1'])")).toBe(true);
    expect(matches("equals(id,['c0'])")).toBe(false);
    expect(matches("equals(scheduled_at,null)")).toBe(true);
    expect(matches("equals(missing,null)")).toBe(true);
    expect(matches("equals(tags,['promo','spring'])")).toBe(true);
    expect(matches("equals(tags,['spring','promo'])")).toBe(false);
  });

  it("any: membership", () => {
    expect(matches("any(id,['a','c1'])")).toBe(true);
    expect(matches("any(id,['a','b'])")).toBe(false);
    expect(matches("any(id,[])")).toBe(false);
  });

  it("contains, contains-any, contains-all: substrings of strings, members of arrays", () => {
    expect(matches("contains(name,'Sale')")).toBe(true);
    expect(matches("contains(name,'sale')")).toBe(false);
    expect(matches("contains(tags,'promo')")).toBe(true);
    expect(matches("contains(tags,'pro')")).toBe(false);
    expect(matches("contains(timestamp,'17')")).toBe(false);
    expect(matches("contains-any(tags,['x','spring'])")).toBe(true);
    expect(matches("contains-any(tags,['x','y'])")).toBe(false);
    expect(matches("contains-all(tags,['spring','promo'])")).toBe(true);
    expect(matches("contains-all(tags,['spring','x'])")).toBe(false);
    expect(matches("contains-all(tags,[])")).toBe(false);
    expect(matches("contains-all(name,['Spring','Sale'])")).toBe(true);
  });

  it("starts-with and ends-with on strings only", () => {
    expect(matches("starts-with(name,'Spring')")).toBe(true);
    expect(matches("starts-with(name,'Sale')")).toBe(false);
    expect(matches("ends-with(name,'2026')")).toBe(true);
    expect(matches("ends-with(timestamp,'0')")).toBe(false);
  });

  it("orders numbers, dates by time (ISO strings or Date fields) and strings lexicographically", () => {
    expect(matches("greater-than(timestamp,1699999999.5)")).toBe(true);
    expect(matches("greater-than(timestamp,1700000000)")).toBe(false);
    expect(matches("greater-or-equal(timestamp,1700000000)")).toBe(true);
    expect(matches("less-than(timestamp,1700000000)")).toBe(false);
    expect(matches("less-or-equal(timestamp,1700000000)")).toBe(true);
    expect(matches("greater-or-equal(created_at,2026-03-01T12:00:00Z)")).toBe(true);
    expect(matches("greater-than(created_at,2026-03-01T13:00:00+02:00)")).toBe(true);
    expect(matches("less-than(created_at,2026-03-01)")).toBe(false);
    expect(matches("less-than(updated_at,2026-03-02T00:00:00.001Z)")).toBe(true);
    expect(matches("greater-than(name,'Spring')")).toBe(true);
    expect(matches("less-than(name,'Spring')")).toBe(false);
    // No ordering across kinds, and a missing or null field never compares.
    expect(matches("greater-than(name,5)")).toBe(false);
    expect(matches("less-than(timestamp,2026-01-01)")).toBe(false);
    expect(matches("less-than(scheduled_at,2026-01-01)")).toBe(false);
    expect(matches("greater-than(missing,0)")).toBe(false);
  });

  it("has: present and not null", () => {
    expect(matches("has(name)")).toBe(true);
    expect(matches("has(archived)")).toBe(true);
    expect(matches("has(scheduled_at)")).toBe(false);
    expect(matches("has(missing)")).toBe(false);
  });

  it("and, or, not", () => {
    expect(matches("and(equals(messages.channel,'email'),contains(name,'Sale'))")).toBe(true);
    expect(matches("and(equals(messages.channel,'email'),contains(name,'Nope'))")).toBe(false);
    expect(matches("or(equals(messages.channel,'sms'),contains(name,'Sale'))")).toBe(true);
    expect(matches("or(equals(messages.channel,'sms'),contains(name,'Nope'))")).toBe(false);
    expect(matches("not(has(scheduled_at))")).toBe(true);
    expect(matches("and(not(has(missing)),or(has(id),has(missing)),has(name))")).toBe(true);
  });

  it("reads fields only through the getter, by their dotted names", () => {
    const seen: string[] = [];
    const node = filter.and(filter.equals("messages.channel", "sms"), filter.has("profile"));
    evaluateFilter(node, (field) => {
      seen.push(field);
      return field === "messages.channel" ? "sms" : "p1";
    });
    expect(seen).toEqual(["messages.channel", "profile"]);
  });
});

const FIELDS = ["a", "b", "c"] as const;
const scalarArb: fc.Arbitrary<FilterValue> = fc.oneof(
  fc.constantFrom("", "x", "xy", "y", "2026-01-01T00:00:00Z"),
  fc.integer({ min: -3, max: 3 }),
  fc.boolean(),
  fc.constantFrom(new Date("2026-01-01T00:00:00Z"), new Date("2025-06-01T00:00:00Z")),
  fc.constant(null),
);
const fieldValueArb: fc.Arbitrary<unknown> = fc.oneof(
  scalarArb,
  fc.constant(undefined),
  fc.array(fc.constantFrom("x", "y", 1), { maxLength: 3 }),
);
const conditionArb: fc.Arbitrary<FilterNode> = fc
  .tuple(
    fc.constantFrom(...FILTER_OPERATORS.filter((op) => op !== "and" && op !== "or" && op !== "not")),
    fc.constantFrom(...FIELDS),
    fc.oneof(scalarArb, fc.array(scalarArb, { maxLength: 3 })),
  )
  .map(
    ([operator, field, value]): FilterNode =>
      operator === "has"
        ? { kind: "condition", operator, field }
        : { kind: "condition", operator, field, value, valueKind: Array.isArray(value) ? "list" : "single" },
  );
const nodeArb: fc.Arbitrary<FilterNode> = fc.letrec<{ node: FilterNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small" },
    conditionArb,
    fc.array(tie("node"), { minLength: 2, maxLength: 3 }).map((args): FilterNode => ({ kind: "and", args })),
    fc.array(tie("node"), { minLength: 2, maxLength: 3 }).map((args): FilterNode => ({ kind: "or", args })),
    tie("node").map((arg): FilterNode => ({ kind: "not", arg })),
  ),
})).node;
const rowArb = fc.record({ a: fieldValueArb, b: fieldValueArb, c: fieldValueArb });

describe("evaluateFilter properties", () => {
  it("and(a,b) matches exactly when a and b both match; or and not follow Boolean logic", () => {
    fc.assert(
      fc.property(nodeArb, nodeArb, rowArb, (x, y, row) => {
        const get = (field: string): unknown => row[field as keyof typeof row];
        const [ex, ey] = [evaluateFilter(x, get), evaluateFilter(y, get)];
        expect(evaluateFilter({ kind: "and", args: [x, y] }, get)).toBe(ex && ey);
        expect(evaluateFilter({ kind: "or", args: [x, y] }, get)).toBe(ex || ey);
        expect(evaluateFilter({ kind: "not", arg: x }, get)).toBe(!ex);
      }),
      { numRuns: 1000 },
    );
  });

  it("a filter means the same after a round trip through its text", () => {
    fc.assert(
      fc.property(nodeArb, rowArb, (node, row) => {
        const get = (field: string): unknown => row[field as keyof typeof row];
        expect(evaluateFilter(parseFilter(formatFilter(node)), get)).toBe(evaluateFilter(node, get));
      }),
      { numRuns: 500 },
    );
  });
});
