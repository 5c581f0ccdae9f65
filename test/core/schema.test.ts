import fc from "fast-check";
import { describe, expect, expectTypeOf, it } from "vitest";
import { type Issue, SchemaError, z } from "../../src/core/schema.js";

/** The issues of a failed parse (fails the test when the parse succeeds). */
function issuesOf(schema: z.Schema<unknown>, value: unknown): Issue[] {
  const result = schema.safeParse(value);
  if (result.success) throw new Error(`expected a failure, got ${JSON.stringify(result.data)}`);
  return result.error.issues;
}

/** `code@path: message` of each issue, for compact assertions. */
function summary(schema: z.Schema<unknown>, value: unknown): string[] {
  return issuesOf(schema, value).map((i) => `${i.code}@${i.path.join("/")}: ${i.message}`);
}

describe("scalars", () => {
  it("strings: type, trim and lower case before the bounds, bounds in code points, patterns", () => {
    expect(summary(z.string(), 3)).toEqual(["invalid_type@: expected a string, received a number"]);
    expect(summary(z.string(), undefined)).toEqual(["invalid_type@: is required: expected a string"]);
    expect(z.string().trim().toLowerCase().parse("  AbC ")).toBe("abc");
    expect(summary(z.string().trim().min(1), "   ")).toEqual(["too_small@: must be at least 1 character"]);
    expect(summary(z.string().max(2), "abc")).toEqual(["too_big@: must be at most 2 characters"]);
    expect(z.string().max(2).parse("😀😀")).toBe("😀😀");
    expect(summary(z.string().min(3), "😀😀")).toEqual(["too_small@: must be at least 3 characters"]);
    expect(summary(z.string().regex(/^a+$/), "b")).toEqual([
      "invalid_format@: must match the pattern /^a+$/",
    ]);
    expect(
      z.string().regex(/a/g).safeParse("a").success && z.string().regex(/a/g).safeParse("a").success,
    ).toBe(true);
    // Bounds and patterns do not stop one another: every one that fails is reported.
    expect(summary(z.string().startsWith("x").endsWith("y").min(5), "abc")).toEqual([
      'invalid_format@: must start with "x"',
      'invalid_format@: must end with "y"',
      "too_small@: must be at least 5 characters",
    ]);
  });

  it("messages: a string, { error }, or a function that may defer to the default", () => {
    expect(summary(z.string("must be text"), 1)).toEqual(["invalid_type@: must be text"]);
    expect(summary(z.string({ error: "must be text" }).min(2, { error: "too short" }), "a")).toEqual([
      "too_small@: too short",
    ]);
    const required = {
      error: (issue: { input?: unknown }) => (issue.input === undefined ? "Required." : undefined),
    };
    expect(summary(z.literal("x", required), undefined)).toEqual(["invalid_value@: Required."]);
    expect(summary(z.literal("x", required), "y")).toEqual(['invalid_value@: expected "x", received "y"']);
  });

  it("numbers: finite, bounds, positive, integers (a fraction is a wrong type), coercion", () => {
    expect(summary(z.number(), Number.NaN)).toEqual(["invalid_type@: expected a number, received NaN"]);
    expect(summary(z.number(), Number.POSITIVE_INFINITY)).toEqual([
      "invalid_type@: expected a number, received Infinity",
    ]);
    expect(summary(z.number().min(0).max(1), 2)).toEqual(["too_big@: must be at most 1"]);
    expect(summary(z.number().min(0), -1)).toEqual(["too_small@: must be at least 0"]);
    expect(summary(z.number().positive(), 0)).toEqual(["too_small@: must be greater than 0"]);
    expect(summary(z.int(), 1.5)).toEqual(["invalid_type@: expected an integer, received 1.5"]);
    expect(summary(z.int(), "1")).toEqual(["invalid_type@: expected an integer, received a string"]);
    expect(summary(z.int(), 2 ** 53)).toEqual([`too_big@: must be at most ${Number.MAX_SAFE_INTEGER}`]);
    expect(summary(z.number().int(), 0.5)).toEqual(["invalid_type@: expected an integer, received 0.5"]);
    expect(z.int().parse(-7)).toBe(-7);
    expect(z.coerce.number().parse(" 12 ")).toBe(12);
    expect(summary(z.coerce.number("must be a number"), "abc")).toEqual(["invalid_type@: must be a number"]);
  });

  it("booleans, null, unknown, never, literals and enums", () => {
    expect(summary(z.boolean(), "true")).toEqual(["invalid_type@: expected a boolean, received a string"]);
    expect(z.null().parse(null)).toBeNull();
    expect(summary(z.null(), 0)).toEqual(["invalid_type@: expected null, received a number"]);
    expect(z.unknown().parse(undefined)).toBeUndefined();
    expect(summary(z.never({ error: "not here" }), 1)).toEqual(["invalid_type@: not here"]);
    expect(summary(z.never(), 1)).toEqual(["invalid_type@: is not allowed here"]);
    expect(z.literal(true).parse(true)).toBe(true);
    expect(z.literal([1, 2, 5] as const).parse(5)).toBe(5);
    expect(issuesOf(z.literal([1, 2] as const), 3)[0]).toMatchObject({
      code: "invalid_value",
      values: [1, 2],
    });
    expect(summary(z.enum(["day", "week"]), "month")).toEqual([
      'invalid_value@: expected one of "day", "week", received "month"',
    ]);
    expect(summary(z.enum(["day", "week"]), undefined)).toEqual([
      'invalid_value@: is required: expected one of "day", "week"',
    ]);
  });

  it("ISO dates and date-times (RFC 3339; real calendar dates; seconds with a zone; offsets and local on request)", () => {
    const zoned = z.iso.datetime();
    const offset = z.iso.datetime({ offset: true });
    const local = z.iso.datetime({ offset: true, local: true });
    const ok = (s: z.Schema<string>, v: string) => s.safeParse(v).success;
    expect(ok(zoned, "2026-07-15T12:00:00Z")).toBe(true);
    expect(ok(zoned, "2026-07-15T12:00:00.123456Z")).toBe(true);
    expect(ok(zoned, "2026-07-15T12:00Z")).toBe(false);
    expect(ok(zoned, "2026-07-15T12:00:00+02:00")).toBe(false);
    expect(ok(offset, "2026-07-15T12:00:00+02:00")).toBe(true);
    expect(ok(offset, "2026-07-15T12:00:00+0200")).toBe(false);
    expect(ok(offset, "2026-07-15T12:00:00")).toBe(false);
    expect(ok(local, "2026-07-15T12:00")).toBe(true);
    expect(ok(local, "2026-07-15T12:00:00.5")).toBe(true);
    expect(ok(local, "2026-07-15t12:00:00Z")).toBe(false);
    expect(ok(zoned, "2026-02-30T12:00:00Z")).toBe(false);
    expect(ok(zoned, "2026-07-15T24:00:00Z")).toBe(false);
    expect(ok(z.iso.date(), "2024-02-29")).toBe(true);
    expect(ok(z.iso.date(), "2023-02-29")).toBe(false);
    expect(ok(z.iso.date(), "1900-02-29")).toBe(false);
    expect(ok(z.iso.date(), "2000-02-29")).toBe(true);
    expect(ok(z.iso.date(), "2026-04-31")).toBe(false);
    expect(summary(offset, "2026-07-15")).toEqual([
      "invalid_format@: must be an ISO 8601 date-time such as 2026-07-15T12:00:00Z",
    ]);
    // The format's error names a wrong type too.
    expect(summary(z.iso.datetime({ error: "Use ISO 8601." }), 5)).toEqual(["invalid_type@: Use ISO 8601."]);
    expect(summary(z.iso.date(), "x")).toEqual([
      "invalid_format@: must be an ISO 8601 date such as 2026-07-15",
    ]);
  });
});

describe("objects, arrays and records", () => {
  const person = z.strictObject({
    name: z.string(),
    age: z.number().optional(),
    tags: z.array(z.string()).nullish(),
  });

  it("strict objects: exact paths, absent optional members stay absent, the shape's order, unknown members", () => {
    expect(person.parse({ tags: null, name: "Ann" })).toEqual({ name: "Ann", tags: null });
    expect(Object.keys(person.parse({ tags: ["a"], age: 3, name: "Ann" }))).toEqual(["name", "age", "tags"]);
    expect("age" in person.parse({ name: "Ann" })).toBe(false);
    // A member given as `undefined` is kept, as given.
    expect(Object.keys(person.parse({ name: "Ann", age: undefined }))).toEqual(["name", "age"]);
    expect(issuesOf(person, { name: 1, tags: ["a", 2], nick: "x", "a/b": 1 })).toEqual([
      {
        code: "invalid_type",
        expected: "string",
        path: ["name"],
        message: "expected a string, received a number",
      },
      {
        code: "invalid_type",
        expected: "string",
        path: ["tags", 1],
        message: "expected a string, received a number",
      },
      {
        code: "unrecognized_keys",
        keys: ["nick", "a/b"],
        path: [],
        message: "'nick', 'a/b' are not valid fields",
      },
    ]);
    expect(summary(person, JSON.parse('{"name": "x", "__proto__": {}}'))).toEqual([
      "unrecognized_keys@: '__proto__' is not a valid field",
    ]);
    expect(summary(person, [])).toEqual(["invalid_type@: expected an object, received an array"]);
    expect(summary(person, undefined)).toEqual(["invalid_type@: is required: expected an object"]);
  });

  it("objects drop unknown members; .strict() refuses them; .extend() adds or replaces members", () => {
    const loose = z.object({ a: z.string() });
    expect(loose.parse({ a: "x", b: 1 })).toEqual({ a: "x" });
    expect(summary(loose.strict(), { a: "x", b: 1 })).toEqual([
      "unrecognized_keys@: 'b' is not a valid field",
    ]);
    const numeric = z.strictObject({ type: z.literal("numeric"), value: z.number() });
    const integer = numeric.extend({ value: z.int(), unit: z.string().optional() });
    expect(integer.parse({ type: "numeric", value: 2, unit: "day" })).toEqual({
      type: "numeric",
      value: 2,
      unit: "day",
    });
    expect(summary(integer, { type: "numeric", value: 2.5, extra: 1 })).toEqual([
      "invalid_type@value: expected an integer, received 2.5",
      "unrecognized_keys@: 'extra' is not a valid field",
    ]);
    expect(Object.keys(integer.shape)).toEqual(["type", "value", "unit"]);
  });

  it("arrays: item paths; length bounds are checked even when an item is wrong", () => {
    const ids = z.array(z.string()).min(1, "Name at least one.").max(2);
    expect(summary(ids, [])).toEqual(["too_small@: Name at least one."]);
    expect(summary(ids, ["a", 1, "c"])).toEqual([
      "invalid_type@1: expected a string, received a number",
      "too_big@: must have at most 2 items",
    ]);
    expect(summary(ids, "a")).toEqual(["invalid_type@: expected an array, received a string"]);
  });

  it("records: every value checked at its key; only plain objects; `__proto__` dropped", () => {
    const counts = z.record(z.string(), z.number());
    expect(counts.parse({ a: 1, b: 2 })).toEqual({ a: 1, b: 2 });
    expect(summary(counts, { a: 1, b: "2" })).toEqual([
      "invalid_type@b: expected a number, received a string",
    ]);
    expect(summary(counts, new Date(0))).toEqual(["invalid_type@: expected an object, received an object"]);
    expect(counts.parse(Object.assign(Object.create(null), { a: 1 }))).toEqual({ a: 1 });
    const parsed = z.record(z.string(), z.unknown()).parse(JSON.parse('{"__proto__": {"x": 1}, "a": 2}'));
    expect(Object.keys(parsed)).toEqual(["a"]);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
  });

  it("a deep path is exact, and becomes a JSON pointer member by member", () => {
    const doc = z.strictObject({
      data: z.strictObject({
        attributes: z.strictObject({ items: z.array(z.strictObject({ id: z.string() })) }),
      }),
    });
    expect(issuesOf(doc, { data: { attributes: { items: [{ id: "a" }, { id: 2 }] } } })[0]?.path).toEqual([
      "data",
      "attributes",
      "items",
      1,
      "id",
    ]);
  });
});

describe("unions", () => {
  it("the first option that matches; else the one option that failed inside the value; else invalid_union", () => {
    const idOrIds = z.union([z.string(), z.array(z.string())]);
    expect(idOrIds.parse(["a"])).toEqual(["a"]);
    expect(summary(idOrIds, 3)).toEqual(["invalid_union@: expected a string or an array, received a number"]);
    // Both options failed on a type: no option is closer than the other.
    expect(summary(idOrIds, ["a", 1])).toEqual(["invalid_union@: does not match any of the allowed forms"]);
    const oneOrTwo = z.union([z.string(), z.array(z.string()).max(2)]);
    expect(summary(oneOrTwo, ["a", "b", "c"])).toEqual(["too_big@: must have at most 2 items"]);
    const mode = z.union([z.literal("real"), z.literal("off"), z.object({ scale: z.number().positive() })]);
    expect(summary(mode, { scale: -1 })).toEqual(["too_small@scale: must be greater than 0"]);
    expect(summary(mode, "fast")).toEqual([
      'invalid_union@: expected "real", "off" or an object, received "fast"',
    ]);
    const failures = issuesOf(mode, "fast")[0];
    expect(failures?.code === "invalid_union" && failures.errors.map((e) => e.map((i) => i.code))).toEqual([
      ["invalid_value"],
      ["invalid_value"],
      ["invalid_type"],
    ]);
    expect(summary(z.union([z.number(), z.string()], { error: "must be a number" }), true)).toEqual([
      "invalid_union@: must be a number",
    ]);
  });

  const filter = z.discriminatedUnion("type", [
    z.strictObject({ type: z.literal("string"), value: z.string() }),
    z.discriminatedUnion("operator", [
      z.strictObject({ type: z.literal("numeric"), operator: z.literal("equals"), value: z.number() }),
      z.strictObject({
        type: z.literal("numeric"),
        operator: z.literal("between"),
        start: z.number(),
        end: z.number(),
      }),
    ]),
  ]);

  it("discriminated: chosen by a member, nested on another; a value no option takes is reported at the member", () => {
    expect(filter.parse({ type: "numeric", operator: "between", start: 1, end: 2 })).toEqual({
      type: "numeric",
      operator: "between",
      start: 1,
      end: 2,
    });
    expect(summary(filter, { type: "string", value: 1 })).toEqual([
      "invalid_type@value: expected a string, received a number",
    ]);
    expect(issuesOf(filter, { type: "date" })).toEqual([
      {
        code: "invalid_union",
        errors: [],
        discriminator: "type",
        options: ["string", "numeric"],
        path: ["type"],
        message: `'type' must be one of 'string', 'numeric', received "date"`,
      },
    ]);
    expect(summary(filter, { type: "numeric" })).toEqual([
      "invalid_union@operator: 'operator' is required: one of 'equals', 'between'",
    ]);
    expect(summary(filter, null)).toEqual(["invalid_type@: expected an object, received null"]);
  });

  it("discriminated: an optional discriminator takes the absent member; the error function sees the options", () => {
    const push = z.discriminatedUnion(
      "kind",
      [
        z.strictObject({ kind: z.literal("standard").optional(), body: z.string() }),
        z.strictObject({ kind: z.literal("silent") }),
      ],
      {
        error: (issue) => (issue.code === "invalid_union" ? `kind: ${issue.options?.join("|")}` : undefined),
      },
    );
    expect(push.parse({ body: "hi" })).toEqual({ body: "hi" });
    expect(summary(push, { kind: "loud" })).toEqual(["invalid_union@kind: kind: standard|silent"]);
    expect(summary(push, 1)).toEqual(["invalid_type@: expected an object, received a number"]);
  });

  it("discriminated: an option without the member, or two options for one value, is a mistake found at once", () => {
    const a = z.strictObject({ t: z.literal("a") });
    expect(() => z.discriminatedUnion("t", [a, z.strictObject({ t: z.string() })])).toThrow(/option 1/);
    expect(() => z.discriminatedUnion("t", [a, a])).toThrow(/chooses two options/);
    expect(() => z.discriminatedUnion("t", [])).toThrow(/at least one option/);
  });
});

describe("wrappers, transforms and refinements", () => {
  it("optional, nullable, nullish", () => {
    expect(z.string().optional().parse(undefined)).toBeUndefined();
    expect(summary(z.string().optional(), null)).toEqual(["invalid_type@: expected a string, received null"]);
    expect(z.string().nullable().parse(null)).toBeNull();
    expect(z.string().nullish().parse(null)).toBeNull();
    expect(z.string().nullish().parse(undefined)).toBeUndefined();
    expect(z.string().optional().unwrap().safeParse(undefined).success).toBe(false);
  });

  it("transform: converts; its issues fail the parse and stop what follows; it is not run on a failed value", () => {
    let calls = 0;
    const length = z.string().transform((s) => {
      calls++;
      return s.length;
    });
    expect(length.parse("abc")).toBe(3);
    expect(length.safeParse(3).success).toBe(false);
    expect(calls).toBe(1);
    const even = z.number().transform((n, ctx) => {
      if (n % 2 === 1) {
        ctx.addIssue({ code: "custom", message: "must be even" });
        return z.NEVER;
      }
      return n / 2;
    });
    expect(even.parse(4)).toBe(2);
    const refined = even.refine(() => false, "never shown").pipe(z.number());
    expect(summary(refined, 3)).toEqual(["custom@: must be even"]);
    // An issue without NEVER still fails the parse.
    const warned = z.unknown().transform((v, ctx) => {
      ctx.addIssue({ code: "custom", message: "noted" });
      return v;
    });
    expect(summary(warned, 1)).toEqual(["custom@: noted"]);
  });

  it("pipe: the second schema parses the first's output, only when it has no issue", () => {
    const fromText = z
      .union([z.number(), z.string().trim().min(1, "must be a number")])
      .pipe(z.coerce.number().refine(Number.isInteger, "must be whole"));
    expect(fromText.parse(" 42 ")).toBe(42);
    expect(summary(fromText, "  ")).toEqual(["too_small@: must be a number"]);
    expect(summary(fromText, "1.5")).toEqual(["custom@: must be whole"]);
  });

  it("refine and superRefine: not fatal (all are reported), skipped after a wrong type, issues below the value", () => {
    const name = z
      .string()
      .refine((s) => s.length > 2, "too short")
      .refine((s) => /^[a-z]+$/.test(s), { error: "lower case only" });
    expect(summary(name, "A")).toEqual(["custom@: too short", "custom@: lower case only"]);
    expect(summary(name, 1)).toEqual(["invalid_type@: expected a string, received a number"]);
    const block = z
      .strictObject({ type: z.string(), data: z.record(z.string(), z.unknown()) })
      .superRefine((v, ctx) => {
        if (typeof v.data.content !== "string") {
          ctx.addIssue({ code: "custom", path: ["data", "content"], message: "needs content" });
        }
      });
    // Unknown members do not stop the refinement; a wrong type below does.
    expect(summary(block, { type: "text", data: {}, x: 1 })).toEqual([
      "unrecognized_keys@: 'x' is not a valid field",
      "custom@data/content: needs content",
    ]);
    expect(summary(block, { type: 1, data: {} })).toEqual([
      "invalid_type@type: expected a string, received a number",
    ]);
    const stops = z
      .string()
      .superRefine((_, ctx) => ctx.addIssue({ message: "first", fatal: true }))
      .refine(() => false, "second");
    expect(summary(stops, "x")).toEqual(["custom@: first"]);
    expect(
      summary(
        z.string().refine(() => false),
        "x",
      ),
    ).toEqual(["custom@: is invalid"]);
    expect(
      summary(
        z
          .string()
          .refine(() => false, { error: "a", abort: true })
          .refine(() => false, "b"),
        "x",
      ),
    ).toEqual(["custom@: a"]);
  });

  it("catch: a fallback instead of any issue", () => {
    const mode = z.enum(["a", "b"]).catch("a");
    expect(mode.parse("b")).toBe("b");
    expect(mode.parse("z")).toBe("a");
    expect(z.strictObject({ m: mode, n: z.number() }).safeParse({ m: 1, n: "x" }).error?.issues).toHaveLength(
      1,
    );
  });

  it("parse throws a SchemaError listing the issues; parseAsync resolves the same value", async () => {
    const schema = z.strictObject({ a: z.strictObject({ b: z.number() }) });
    let caught: unknown;
    try {
      schema.parse({ a: { b: "1" } });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SchemaError);
    expect((caught as SchemaError).message).toBe("a.b: expected a number, received a string");
    expect((caught as SchemaError).issues[0]?.path).toEqual(["a", "b"]);
    await expect(schema.parseAsync({ a: { b: 1 } })).resolves.toEqual({ a: { b: 1 } });
    const ok = schema.safeParse({ a: { b: 1 } });
    expect([ok.success, ok.error]).toEqual([true, undefined]);
  });

  it("a schema is immutable: a check returns a new schema", () => {
    const base = z.string();
    const bounded = base.min(3);
    expect(base.safeParse("a").success).toBe(true);
    expect(bounded.safeParse("a").success).toBe(false);
  });
});

describe("inferred types", () => {
  it("objects, optional members, transforms, unions, records, literals", () => {
    const schema = z.strictObject({
      id: z.string(),
      count: z.int().optional(),
      note: z.string().nullish(),
      kind: z.enum(["a", "b"]),
      flag: z.literal(true),
      size: z.literal([1, 2] as const),
      tags: z.array(z.string().transform((s) => s.length)),
      props: z.record(z.string(), z.unknown()),
      nested: z.strictObject({ at: z.iso.datetime() }).nullable(),
      either: z.union([z.string(), z.number()]),
    });
    expectTypeOf<z.infer<typeof schema>>().toEqualTypeOf<{
      id: string;
      count?: number | undefined;
      note?: string | null | undefined;
      kind: "a" | "b";
      flag: true;
      size: 1 | 2;
      tags: number[];
      props: Record<string, unknown>;
      nested: { at: string } | null;
      either: string | number;
    }>();
    expectTypeOf<z.input<typeof schema>["tags"]>().toEqualTypeOf<string[]>();
    expectTypeOf<z.output<typeof schema>>().toEqualTypeOf<z.infer<typeof schema>>();
  });

  it("discriminated unions, extend, pipe and catch", () => {
    const shape = z.discriminatedUnion("type", [
      z.strictObject({ type: z.literal("a"), a: z.string() }),
      z.discriminatedUnion("op", [
        z.strictObject({ type: z.literal("b"), op: z.literal("x") }),
        z.strictObject({ type: z.literal("b"), op: z.literal("y"), n: z.number() }),
      ]),
    ]);
    expectTypeOf<z.infer<typeof shape>>().toEqualTypeOf<
      { type: "a"; a: string } | { type: "b"; op: "x" } | { type: "b"; op: "y"; n: number }
    >();
    const extended = z.strictObject({ a: z.string(), b: z.number() }).extend({ b: z.boolean() });
    expectTypeOf<z.infer<typeof extended>>().toEqualTypeOf<{ a: string; b: boolean }>();
    const piped = z.string().pipe(z.coerce.number());
    expectTypeOf<z.infer<typeof piped>>().toEqualTypeOf<number>();
    expectTypeOf<z.input<typeof piped>>().toEqualTypeOf<string>();
    expectTypeOf(z.never().optional().parse).returns.toEqualTypeOf<undefined>();
    expectTypeOf(z.number().catch(0).parse).returns.toEqualTypeOf<number>();
  });

  it("any schema is a Schema of its output; a transform's input is its source's", () => {
    const toLength = z.string().transform((s) => s.length);
    expectTypeOf(toLength).toExtend<z.Schema<number>>();
    expectTypeOf(toLength).toExtend<z.Schema<number, string>>();
    expectTypeOf(toLength).not.toExtend<z.Schema<string>>();
    expectTypeOf(z.strictObject({ t: z.literal("a") })).toExtend<z.Discriminable>();
    const result = toLength.safeParse("abc");
    if (result.success) expectTypeOf(result.data).toEqualTypeOf<number>();
    else expectTypeOf(result.error.issues).toEqualTypeOf<Issue[]>();
  });
});

describe("properties", () => {
  it("a strict object accepts exactly its members: any extra one is reported by name, at the object", () => {
    const key = fc.stringMatching(/^[a-z_]{1,8}$/);
    fc.assert(
      fc.property(
        fc.uniqueArray(key, { minLength: 1, maxLength: 6 }),
        fc.uniqueArray(key, { maxLength: 4 }),
        (members, extra) => {
          const unknown = extra.filter((k) => !members.includes(k));
          const schema = z.strictObject(Object.fromEntries(members.map((m) => [m, z.number()])));
          const value = Object.fromEntries([...members, ...unknown].map((k, i) => [k, i]));
          const result = schema.safeParse(value);
          if (unknown.length === 0) {
            expect(result.success && Object.keys(result.data)).toEqual(members);
          } else {
            expect(result.error?.issues).toEqual([
              expect.objectContaining({ code: "unrecognized_keys", keys: unknown, path: [] }),
            ]);
          }
          // Each missing member is reported at its own path.
          const missing = schema.safeParse({});
          expect(missing.error?.issues.map((i) => i.path)).toEqual(members.map((m) => [m]));
        },
      ),
    );
  });

  it("string bounds: accepted exactly when the length in code points is within them", () => {
    const text = fc.string({ unit: fc.constantFrom("a", "é", "😀", " "), maxLength: 12 });
    fc.assert(
      fc.property(text, fc.nat(8), fc.nat(8), (value, a, b) => {
        const [min, max] = a <= b ? [a, b] : [b, a];
        const length = [...value].length;
        const result = z.string().min(min).max(max).safeParse(value);
        expect(result.success).toBe(length >= min && length <= max);
        if (!result.success) {
          expect(result.error.issues.map((i) => i.code)).toEqual([length < min ? "too_small" : "too_big"]);
        }
      }),
    );
  });

  it("ISO dates: accepted exactly when Date agrees the day exists", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9999 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        (y, m, d) => {
          const text = `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
          const date = new Date(`${text}T00:00:00Z`);
          const real = !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text);
          expect(z.iso.date().safeParse(text).success).toBe(real);
        },
      ),
    );
  });
});
