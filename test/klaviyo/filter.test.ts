import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  checkFilter,
  type FilterNode,
  FilterRuleError,
  FilterSyntaxError,
  type FilterValue,
  filter,
  formatFilter,
  parseFilter,
  parseFilterDate,
} from "../../src/klaviyo/filter.js";
import { type FilterRule, OPERATION_PARAMETERS } from "../../src/klaviyo/operations.js";

/** Plain data with dates as times, so nodes compare by meaning (and -0 equals 0, as the text cannot tell). */
function plain(value: unknown): unknown {
  if (value instanceof Date) return { date: value.getTime() };
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === "number") return value === 0 ? 0 : value;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

function syntaxError(text: string): FilterSyntaxError {
  try {
    parseFilter(text);
  } catch (error) {
    if (error instanceof FilterSyntaxError) return error;
    throw error;
  }
  throw new Error(`parsed without error: ${text}`);
}

function rules(operationId: string): Readonly<Record<string, FilterRule>> {
  const filters = OPERATION_PARAMETERS[operationId]?.filters;
  if (!filters) throw new Error(`no filter rules for ${operationId}`);
  return filters;
}

function ruleError(text: string, operationId: string): string {
  try {
    checkFilter(parseFilter(text), rules(operationId));
  } catch (error) {
    if (error instanceof FilterRuleError) return error.message;
    throw error;
  }
  throw new Error(`accepted: ${text}`);
}

const cond = (operator: string, field: string, value?: FilterValue): FilterNode =>
  value === undefined
    ? { kind: "condition", operator, field }
    : { kind: "condition", operator, field, value, valueKind: Array.isArray(value) ? "list" : "single" };

describe("parseFilter", () => {
  it("parses Klaviyo's documented examples", () => {
    const cases: Array<[string, FilterNode]> = [
      ["equals(messages.channel,'email')", cond("equals", "messages.channel", "email")],
      [
        "and(equals(messages.channel,'email'),greater-or-equal(created_at,2026-01-01T00:00:00Z))",
        {
          kind: "and",
          args: [
            cond("equals", "messages.channel", "email"),
            cond("greater-or-equal", "created_at", new Date("2026-01-01T00:00:00Z")),
          ],
        },
      ],
      ["any(id,['a','b'])", cond("any", "id", ["a", "b"])],
      ['equals(email,["x@example.com"])', cond("equals", "email", ["x@example.com"])],
      ["has(profile)", cond("has", "profile")],
      ["equals(archived,false)", cond("equals", "archived", false)],
      ["equals(archived,true)", cond("equals", "archived", true)],
      ["greater-than(timestamp,1700000000)", cond("greater-than", "timestamp", 1700000000)],
      ["contains(name,'Sale')", cond("contains", "name", "Sale")],
      ['starts-with(name,"Spring")', cond("starts-with", "name", "Spring")],
      ["ends-with(name,'!')", cond("ends-with", "name", "!")],
      ["less-than(size,-1.25)", cond("less-than", "size", -1.25)],
      ["less-or-equal(size,2e3)", cond("less-or-equal", "size", 2000)],
      ["contains-any(tags,['a'])", cond("contains-any", "tags", ["a"])],
      ["contains-all(tags,[])", cond("contains-all", "tags", [])],
      ["equals(x,null)", cond("equals", "x", null)],
      ["equals(x,[['a'],1])", cond("equals", "x", [["a"], 1])],
      [
        "or(has(a),not(has(b)))",
        { kind: "or", args: [cond("has", "a"), { kind: "not", arg: cond("has", "b") }] },
      ],
    ];
    for (const [text, expected] of cases) expect(plain(parseFilter(text)), text).toEqual(plain(expected));
  });

  it("tolerates whitespace around every token and nests and()", () => {
    const node = parseFilter(" and (\n equals ( a , 'b' ) ,\tand( has( c ), has(d) ) , has(e) ) ");
    expect(formatFilter(node)).toBe("and(equals(a,'b'),and(has(c),has(d)),has(e))");
  });

  it("decodes escapes in single- and double-quoted strings", () => {
    expect(parseFilter("equals(a,'it\\'s \\\\ \"x\"')")).toMatchObject({ value: 'it\'s \\ "x"' });
    expect(parseFilter('equals(a,"say \\"hi\\" \'")')).toMatchObject({ value: 'say "hi" \'' });
    expect(parseFilter("equals(a,'(,)[]  é😀')")).toMatchObject({ value: "(,)[]  é😀" });
  });

  it("reads datetimes unquoted: zones, offsets, fractions, date only; a quoted one stays a string", () => {
    const time = (text: string) => {
      const value = (parseFilter(`equals(d,${text})`) as { value: unknown }).value;
      return value instanceof Date ? value.toISOString() : value;
    };
    expect(time("2026-01-01T00:00:00Z")).toBe("2026-01-01T00:00:00.000Z");
    expect(time("2026-01-01T02:00:00+02:00")).toBe("2026-01-01T00:00:00.000Z");
    expect(time("2025-12-31T19:30:00-0430")).toBe("2026-01-01T00:00:00.000Z");
    expect(time("2026-01-01T00:00:00.123456Z")).toBe("2026-01-01T00:00:00.123Z");
    expect(time("2026-01-01T00:00:00")).toBe("2026-01-01T00:00:00.000Z");
    expect(time("2026-01-01")).toBe("2026-01-01T00:00:00.000Z");
    expect(time("2024-02-29")).toBe("2024-02-29T00:00:00.000Z");
    expect(time("'2026-01-01T00:00:00Z'")).toBe("2026-01-01T00:00:00Z");
    expect(parseFilterDate("0001-01-01")?.toISOString()).toBe("0001-01-01T00:00:00.000Z");
    for (const bad of [
      "2026-02-30",
      "2025-02-29",
      "2026-13-01",
      "2026-01-01T24:00:00Z",
      "2026-01-01T00:00:00+25:00",
    ]) {
      expect(parseFilterDate(bad), bad).toBeUndefined();
    }
  });

  it("refuses bad syntax saying what was expected, where, and what was found", () => {
    const cases: Array<[string, number, string]> = [
      [
        "",
        0,
        "the filter is empty: expected an operator such as equals(...) at position 0 but found end of input",
      ],
      ["   ", 0, "the filter is empty"],
      ["equals(name,'abcdefghi',1)", 23, 'expected ")" at position 23 but found ","'],
      [
        "equals(a,'b",
        11,
        `expected "'" at position 11 but found end of input (the string opened at position 9`,
      ],
      ['equals(a,"b\\")', 14, `expected "\\"" at position 14 but found end of input`],
      ["equals(a,'b'", 12, 'expected ")" at position 12 but found end of input'],
      ["and(has(a),has(b)", 17, 'expected ")" at position 17 but found end of input'],
      ["equals(a,'b'))", 13, 'expected end of input at position 13 but found ")"'],
      ["has(a) has(b)", 7, 'expected end of input at position 7 but found "has"'],
      [
        "matches(a,'b')",
        0,
        "expected an operator (equals, any, contains, contains-any, contains-all, starts-with",
      ],
      ["Equals(a,'b')", 0, 'but found "Equals"'],
      [
        "(equals(a,'b'))",
        0,
        "expected an operator (equals, any, contains, contains-any, contains-all, starts-with",
      ],
      ["equals a", 7, 'expected "(" at position 7 but found "a"'],
      ["and(has(a))", 10, 'expected "," at position 10 but found ")" (and() takes two or more expressions)'],
      ["or(has(a))", 9, "or() takes two or more expressions"],
      ["not(has(a),has(b))", 10, 'expected ")" at position 10 but found "," (not() takes one expression)'],
      ["equals(a)", 8, 'expected "," at position 8 but found ")"'],
      ["equals(,'a')", 7, 'expected a field name at position 7 but found ","'],
      ["equals('a','b')", 7, "found the string 'a' (field names are not quoted)"],
      ["equals(a b,'c')", 9, 'expected "," at position 9 but found "b"'],
      ["equals(9a,'c')", 7, 'expected a field name at position 7 but found "9a"'],
      ["equals(a,email)", 9, 'at position 9 but found "email" (strings must be quoted)'],
      [
        "equals(a,2026-13-01)",
        9,
        "expected a valid ISO 8601 datetime (such as 2026-01-01T00:00:00Z) at position 9",
      ],
      ["equals(a,'x\\n')", 11, `expected an escape (\\', \\" or \\\\) at position 11 but found "\\n"`],
      ["any(id,['a',])", 12, "expected a value (a quoted string, a number, true, false, null"],
      ["any(id,['a'", 11, 'expected "," or "]" at position 11 but found end of input'],
      ["any(id,['a' 'b'])", 12, `expected "," or "]" at position 12 but found the string 'b'`],
      ["greater-than(x,1e400)", 15, 'expected a finite number at position 15 but found "1e400"'],
      ["has(profile,)", 12, "expected a value (a quoted string"],
    ];
    for (const [text, position, message] of cases) {
      const error = syntaxError(text);
      expect(error.message, text).toContain(message);
      expect(error.position, text).toBe(position);
      expect(error).toBeInstanceOf(Error);
    }
  });

  it("refuses nesting beyond what any real filter needs, without exhausting the stack", () => {
    const deep = `${"and(has(a),".repeat(5000)}has(b)${")".repeat(5000)}`;
    expect(syntaxError(deep).message).toMatch(/^expected at most 32 levels of nesting at position \d+/);
    const lists = `equals(a,${"[".repeat(5000)}`;
    expect(syntaxError(lists).message).toContain("levels of nesting");
    expect(() => parseFilter(`${"and(has(a),".repeat(20)}has(b)${")".repeat(20)}`)).not.toThrow();
  });

  it("answers large hostile inputs quickly", () => {
    const inputs = [
      `equals(a,'${"\\'".repeat(20_000)}`,
      `equals(a,${"1".repeat(50_000)}.${"1".repeat(50_000)}e)`,
      `equals(a,2026-01-01T00:00:00.${"9".repeat(50_000)}x)`,
      `any(a,[${"'x',".repeat(20_000)}`,
      " ".repeat(100_000),
    ];
    // Each must end in a syntax error (a quadratic or runaway parser would hit the test's timeout instead).
    for (const text of inputs) expect(() => parseFilter(text)).toThrow(FilterSyntaxError);
  });
});

describe("formatFilter and the builder", () => {
  it("writes the canonical text Klaviyo accepts", () => {
    expect(formatFilter(parseFilter('equals(email,["x@example.com"])'))).toBe(
      "equals(email,['x@example.com'])",
    );
    expect(formatFilter(parseFilter('equals(a,"it\'s \\\\")'))).toBe("equals(a,'it\\'s \\\\')");
    expect(formatFilter(parseFilter("less-than(x , 2026-01-01T00:00:00.123456+02:00)"))).toBe(
      "less-than(x,2026-01-01T00:00:00.123456+02:00)",
    );
    expect(formatFilter(parseFilter("equals(x,-0)"))).toBe("equals(x,0)");
  });

  it("builds nodes that String() to filter text", () => {
    const node = filter.and(
      filter.equals("messages.channel", "email"),
      filter.greaterOrEqual("created_at", new Date("2026-01-01T00:00:00Z")),
      filter.any("id", ["a", "b"]),
      filter.contains("name", "O'Brien"),
      filter.startsWith("name", "A"),
      filter.endsWith("name", "z"),
      filter.greaterThan("timestamp", 1700000000),
      filter.lessThan("size", 1.5),
      filter.lessOrEqual("size", -2),
      filter.has("profile"),
    );
    expect(String(node)).toBe(
      "and(equals(messages.channel,'email'),greater-or-equal(created_at,2026-01-01T00:00:00.000Z)," +
        "any(id,['a','b']),contains(name,'O\\'Brien'),starts-with(name,'A'),ends-with(name,'z')," +
        "greater-than(timestamp,1700000000),less-than(size,1.5),less-or-equal(size,-2),has(profile))",
    );
    expect(`${filter.has("metric")}`).toBe("has(metric)");
    expect(String(parseFilter("has( metric )"))).toBe("has(metric)");
    expect(JSON.stringify(filter.has("metric"))).toBe(
      '{"kind":"condition","operator":"has","field":"metric"}',
    );
  });

  it("returns a lone and() argument as is and refuses what cannot be written", () => {
    const only = filter.has("a");
    expect(filter.and(only)).toBe(only);
    expect(() => filter.and()).toThrow(RangeError);
    expect(() => filter.equals("a,b", "x")).toThrow(/cannot be written in a filter/);
    expect(() => filter.equals("", "x")).toThrow(RangeError);
    expect(() => filter.greaterThan("a", Number.NaN)).toThrow(/finite/);
    expect(() => filter.greaterThan("a", new Date(Number.NaN))).toThrow(/valid date/);
    expect(() => formatFilter({ kind: "and", args: [only] })).toThrow(/two or more/);
    expect(() => formatFilter({ kind: "condition", operator: "matches", field: "a", value: 1 })).toThrow(
      /not a filter condition operator/,
    );
    expect(() => formatFilter({ kind: "condition", operator: "equals", field: "a" })).toThrow(
      /needs a value/,
    );
  });
});

const FIELD_START = [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"];
const FIELD_REST = [...FIELD_START, ..."0123456789.", "$", "-"];
const fieldArb = fc
  .tuple(fc.constantFrom(...FIELD_START), fc.string({ unit: fc.constantFrom(...FIELD_REST), maxLength: 24 }))
  .map(([first, rest]) => first + rest);
const trickyString = fc.string({
  unit: fc.constantFrom(
    "'",
    '"',
    "\\",
    ",",
    "(",
    ")",
    "[",
    "]",
    " ",
    "\n",
    "a",
    "Z",
    "é",
    "😀",
    "\u2028",
    "0",
  ),
  maxLength: 20,
});
const stringArb = fc.oneof(trickyString, fc.string({ unit: "binary", maxLength: 20 }));
const numberArb = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));
const dateArb = fc.date({
  min: new Date("0000-01-01T00:00:00.000Z"),
  max: new Date("9999-12-31T23:59:59.999Z"),
  noInvalidDate: true,
});
const scalarArb: fc.Arbitrary<FilterValue> = fc.oneof(stringArb, numberArb, fc.boolean(), dateArb);
const valueArb: fc.Arbitrary<FilterValue> = fc.oneof(
  { weight: 4, arbitrary: scalarArb },
  { weight: 1, arbitrary: fc.array(scalarArb, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.array(fc.array(scalarArb, { maxLength: 2 }), { maxLength: 2 }) },
);
const conditionArb: fc.Arbitrary<FilterNode> = fc.oneof(
  fc.tuple(fieldArb, valueArb).map(([f, v]) => filter.equals(f, v)),
  fc.tuple(fieldArb, fc.array(scalarArb, { maxLength: 4 })).map(([f, v]) => filter.any(f, v)),
  fc.tuple(fieldArb, valueArb).map(([f, v]) => filter.contains(f, v)),
  fc.tuple(fieldArb, stringArb).map(([f, v]) => filter.startsWith(f, v)),
  fc.tuple(fieldArb, stringArb).map(([f, v]) => filter.endsWith(f, v)),
  fc.tuple(fieldArb, fc.oneof(numberArb, dateArb)).map(([f, v]) => filter.greaterThan(f, v)),
  fc.tuple(fieldArb, fc.oneof(numberArb, dateArb)).map(([f, v]) => filter.greaterOrEqual(f, v)),
  fc.tuple(fieldArb, fc.oneof(numberArb, dateArb)).map(([f, v]) => filter.lessThan(f, v)),
  fc.tuple(fieldArb, fc.oneof(numberArb, dateArb)).map(([f, v]) => filter.lessOrEqual(f, v)),
  fieldArb.map((f) => filter.has(f)),
);
const nodeArb: fc.Arbitrary<FilterNode> = fc.letrec<{ node: FilterNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    conditionArb,
    fc.array(tie("node"), { minLength: 2, maxLength: 4 }).map((nodes) => filter.and(...nodes)),
  ),
})).node;

describe("filter properties", () => {
  it("every node the builder makes formats to text that parses back to the same node", () => {
    fc.assert(
      fc.property(nodeArb, (node) => {
        const text = formatFilter(node);
        const parsed = parseFilter(text);
        expect(plain(parsed)).toEqual(plain(node));
        expect(formatFilter(parsed)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  const tokenSoup = fc
    .array(
      fc.constantFrom(
        "and(",
        "or(",
        "not(",
        "equals(",
        "any(",
        "has(",
        "a.b",
        "_x",
        ",",
        ")",
        "(",
        "[",
        "]",
        "'x'",
        '"y"',
        "'",
        '"',
        "\\",
        " ",
        "2026-01-01T00:00:00Z",
        "2026-01-01",
        "-1.5e3",
        "true",
        "null",
        "é",
      ),
      { maxLength: 600 },
    )
    .map((parts) => parts.join(""));
  const mutated = fc
    .tuple(nodeArb, fc.nat(), fc.nat({ max: 3 }), fc.string({ maxLength: 3 }))
    .map(([node, at, cut, insert]) => {
      const text = formatFilter(node);
      const i = at % (text.length + 1);
      return text.slice(0, i) + insert + text.slice(i + cut);
    });

  it("parse throws nothing but FilterSyntaxError, at a position inside the text, on any input", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 4000 }), tokenSoup, mutated), (text) => {
        let node: FilterNode;
        try {
          node = parseFilter(text);
        } catch (error) {
          expect(error).toBeInstanceOf(FilterSyntaxError);
          const position = (error as FilterSyntaxError).position;
          expect(Number.isInteger(position) && position >= 0 && position <= text.length).toBe(true);
          return;
        }
        // Whatever parses has a canonical text that means the same.
        expect(plain(parseFilter(formatFilter(node)))).toEqual(plain(node));
      }),
      { numRuns: 1500 },
    );
  });
});

describe("checkFilter against the operations' real rules", () => {
  it("accepts what the endpoints document", () => {
    const ok: Array<[string, string]> = [
      ["get_campaigns", "equals(messages.channel,'email')"],
      [
        "get_campaigns",
        "and(equals(messages.channel,'sms'),greater-or-equal(created_at,2026-01-01T00:00:00Z),equals(archived,false))",
      ],
      [
        "get_campaigns",
        "and(equals(messages.channel,'email'),any(status,['Draft','Sent']),contains(name,'Sale'))",
      ],
      ["get_campaigns", "and(equals(messages.channel,'email'),equals(status,'Cancelled: Smart Sending'))"],
      ["get_profiles", 'equals(email,["x@example.com"])'],
      ["get_profiles", "any(id,['a','b'])"],
      ["get_profiles", "greater-than(created,2026-01-01)"],
      [
        "get_profiles",
        "less-than(subscriptions.email.marketing.suppression.timestamp,2026-01-01T00:00:00+02:00)",
      ],
      ["get_events", "has(profile)"],
      ["get_events", "greater-than(timestamp,1700000000)"],
      ["get_events", "greater-than(timestamp,1700000000.5)"],
      ["get_events", "and(equals(metric_id,['m1','m2']),less-or-equal(datetime,2026-06-01T00:00:00.5Z))"],
    ];
    for (const [op, text] of ok) expect(() => checkFilter(parseFilter(text), rules(op)), text).not.toThrow();
    expect(() => checkFilter(filter.has("profile"), rules("get_events"))).not.toThrow();
  });

  it("names the field and what it allows, for every kind of refusal", () => {
    const cases: Array<[string, string, string]> = [
      [
        "get_campaigns",
        "equals(channel,'email')",
        '"channel" is not a filterable field of this endpoint; filterable fields: id, messages.channel, name, status, archived, created_at, scheduled_at, updated_at',
      ],
      ["get_profiles", "equals(constructor,'x')", '"constructor" is not a filterable field'],
      [
        "get_campaigns",
        "contains(messages.channel,'e')",
        'filter field "messages.channel" does not support contains(); allowed: equals (a single value)',
      ],
      [
        "get_profiles",
        "starts-with(email,'x')",
        'filter field "email" does not support starts-with(); allowed: equals (a single value or a list), any (a list)',
      ],
      [
        "get_events",
        "has(datetime)",
        'filter field "datetime" does not support has(); allowed: greater-or-equal',
      ],
      [
        "get_campaigns",
        "equals(messages.channel,['email'])",
        "equals() takes a single value here, not a list",
      ],
      ["get_campaigns", "any(id,'a')", "any() takes a list here, such as any(id,['a','b'])"],
      ["get_profiles", "any(email,[])", 'filter field "email": any() needs at least one value in the list'],
      [
        "get_campaigns",
        "equals(archived,'false')",
        `"archived" needs true or false (unquoted), but got 'false'`,
      ],
      ["get_campaigns", "equals(archived,null)", `"archived" needs true or false (unquoted), but got null`],
      [
        "get_campaigns",
        "greater-than(created_at,'2026-01-01T00:00:00Z')",
        "filter field \"created_at\": datetimes must not be quoted; write 2026-01-01T00:00:00Z instead of '2026-01-01T00:00:00Z'",
      ],
      [
        "get_campaigns",
        "greater-than(created_at,5)",
        '"created_at" needs an unquoted ISO 8601 datetime such as 2026-01-01T00:00:00Z, but got 5',
      ],
      [
        "get_events",
        "greater-than(timestamp,'1700000000')",
        `"timestamp" needs an unquoted number, but got '1700000000'`,
      ],
      [
        "get_events",
        "greater-than(timestamp,2026-01-01)",
        `"timestamp" needs an unquoted number, but got 2026-01-01`,
      ],
      ["get_profiles", "equals(email,5)", '"email" needs a quoted string, but got 5'],
      ["get_profiles", "equals(email,[['x']])", '"email": list items must be single values, not lists'],
      [
        "get_campaigns",
        "equals(messages.channel,'mail')",
        `"messages.channel": 'mail' is not one of 'email', 'sms', 'mobile_push'`,
      ],
      ["get_campaigns", "any(status,['Draft','Nope'])", `"status": 'Nope' is not one of 'Scheduled', 'Sent'`],
      ["get_events", "has(profile,'x')", 'filter field "profile": has() takes no value; write has(profile)'],
      ["get_events", "or(has(profile),has(metric))", "or() is not supported by this endpoint"],
      ["get_events", "not(has(profile))", "not() is not supported by this endpoint"],
      ["get_events", "and(has(profile),or(has(metric),has(profile)))", "or() is not supported"],
      ["get_images", "equals(size,1.5)", 'filter field "size" does not support equals()'],
      ["get_images", "greater-than(size,1.5)", '"size" needs an unquoted integer, but got 1.5'],
    ];
    for (const [op, text, message] of cases) expect(ruleError(text, op), text).toContain(message);
  });

  it("refuses hand-made nodes the parser cannot produce", () => {
    const events = rules("get_events");
    expect(() => checkFilter({ kind: "condition", operator: "equals", field: "profile_id" }, events)).toThrow(
      'filter field "profile_id": equals() needs a value',
    );
    expect(() => checkFilter(filter.has("profile"), {})).toThrow("this endpoint does not accept filters");
  });

  it("accepts or()/not() only where the caller says the endpoint allows them", () => {
    const node = parseFilter("or(has(profile),not(has(metric)))");
    expect(() => checkFilter(node, rules("get_events"), { allow: ["or", "not"] })).not.toThrow();
    expect(() => checkFilter(node, rules("get_events"), { allow: ["or"] })).toThrow(
      /not\(\) is not supported/,
    );
    const bad = parseFilter("or(has(profile),has(nope))");
    expect(() => checkFilter(bad, rules("get_events"), { allow: ["or"] })).toThrow(
      /"nope" is not a filterable/,
    );
  });

  it("errors carry their details for logs and tools", () => {
    const error = syntaxError("equals(a,'b'");
    expect(error.name).toBe("FilterSyntaxError");
    expect(error.toJSON()).toMatchObject({ name: "FilterSyntaxError", position: 12 });
    try {
      checkFilter(parseFilter("equals(nope,1)"), rules("get_events"));
    } catch (caught) {
      expect(caught).toBeInstanceOf(FilterRuleError);
      expect((caught as FilterRuleError).field).toBe("nope");
      expect((caught as FilterRuleError).toJSON()).toMatchObject({ name: "FilterRuleError", field: "nope" });
    }
  });
});
