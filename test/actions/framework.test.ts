import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type AnyAction, defineAction, validateInputs } from "../../src/actions/define.js";
import { input } from "../../src/actions/inputs.js";
import { manifest } from "../../src/actions/manifest.js";
import { ApiError, ConnectionError, InputValidationError } from "../../src/core/errors.js";
import { chunkRanges, reasonsByPointer, sendInChunks } from "../../src/ingest/bulk.js";

const base = (label: string) => ({
  key: label.toLowerCase().replace(/\W+/g, ""),
  label,
  comments: `The ${label}.`,
});

describe("input kinds", () => {
  it("numbers from numbers or numeric text, with bounds", () => {
    const n = input.number(base("Max Retry Count"), { min: 0, max: 10, integer: true });
    expect(n.schema.parse("3")).toBe(3);
    expect(n.schema.parse(0)).toBe(0);
    for (const [bad, why] of [
      ["three", "must be a number"],
      [1.5, "whole number"],
      [-1, "at least 0"],
      [11, "at most 10"],
      [Number.NaN, "must be a number"],
    ] as const) {
      expect(n.schema.safeParse(bad).error?.issues[0]?.message).toContain(why);
    }
  });
  it("booleans from booleans or true/false text", () => {
    const b = input.boolean(base("Retry On All Errors"));
    expect([
      b.schema.parse(true),
      b.schema.parse("true"),
      b.schema.parse("false"),
      b.schema.parse("no"),
    ]).toEqual([true, true, false, false]);
    expect(b.schema.safeParse("perhaps").success).toBe(false);
  });
  it("JSON from a value or JSON text, with the position of a parse error", () => {
    const j = input.json(base("Event Properties"), "object");
    expect(j.schema.parse('{"a": [1, 2]}')).toEqual({ a: [1, 2] });
    expect(j.schema.parse({ a: 1 })).toEqual({ a: 1 });
    expect(j.schema.safeParse('{"a": 1,\n "b": }').error?.issues[0]?.message).toMatch(
      /not valid JSON: error at position \d+ \(line 2, column \d+\)/,
    );
    expect(j.schema.safeParse("[1]").error?.issues[0]?.message).toBe("must be a JSON object");
    const arr = input.json(base("Events Array"), "array");
    expect(arr.schema.safeParse("{}").error?.issues[0]?.message).toBe("must be a JSON array");
  });
  it("key/value pairs from an object, key=value text, Key: value text or {key, value} entries", () => {
    const kv = input.keyValue(base("Header"));
    expect(kv.schema.parse({ a: "1" })).toEqual([["a", "1"]]);
    expect(kv.schema.parse(["X-Trace: a:b", "q=1=2"])).toEqual([
      ["X-Trace", "a:b"],
      ["q", "1=2"],
    ]);
    expect(kv.schema.parse([{ key: "k", value: 2 }])).toEqual([["k", "2"]]);
    expect(kv.schema.safeParse(["no separator"]).success).toBe(false);
  });
  it("formats: email, E.164, ISO 4217, ISO 8601", () => {
    const ok = (format: "email" | "phone" | "currency" | "datetime", v: string) =>
      input.text(base("X"), format).schema.safeParse(v).success;
    expect(ok("email", "ada@example.com")).toBe(true);
    expect(ok("email", "ada@example")).toBe(false);
    expect(ok("phone", "+15005550006")).toBe(true);
    expect(ok("phone", "15005550006")).toBe(false);
    expect(ok("phone", "+1 500 555 0006")).toBe(false);
    expect(ok("currency", "USD")).toBe(true);
    expect(ok("currency", "usd")).toBe(false);
    expect(ok("datetime", "2026-07-15T12:00:00Z")).toBe(true);
    expect(ok("datetime", "2026-07-15T12:00:00+02:00")).toBe(true);
    expect(ok("datetime", "15/07/2026")).toBe(false);
    expect(ok("datetime", "2026-13-01")).toBe(false);
  });
  it("filters that do not parse or that the endpoint does not allow are refused", () => {
    const f = input.filter(base("Filter Campaigns"), "get_campaigns");
    expect(f.schema.safeParse("equals(messages.channel,'email')").success).toBe(true);
    expect(f.schema.safeParse("equals(messages.channel,'email'").error?.issues[0]?.message).toMatch(
      /not a valid Klaviyo filter/,
    );
    expect(f.schema.safeParse("equals(colour,'red')").error?.issues[0]?.message).toMatch(/colour/);
  });
});

describe("validateInputs", () => {
  const action = defineAction({
    key: "demo",
    label: "Demo",
    description: "An action for tests.",
    inputs: {
      id: input.id({ ...base("Thing ID"), key: "id" }),
      count: input.number({ ...base("Count"), default: 0 }, { min: 0, integer: true }),
      flag: input.boolean({ ...base("Flag"), default: false }),
    },
    async perform() {
      return null;
    },
  }) as unknown as AnyAction;
  it("applies typed defaults and collects every problem, by label", () => {
    expect(validateInputs(action, { id: "X1" })).toEqual({ id: "X1", count: 0, flag: false });
    let error: unknown;
    try {
      validateInputs(action, { count: "-2", flag: "sometimes" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputValidationError);
    expect((error as InputValidationError).message).toBe(
      "Demo: Thing ID: is required; Count: must be at least 0; Flag: must be true or false",
    );
  });
});

describe("bulk chunking", () => {
  it("every chunk holds at most maxItems items and maxBytes bytes (or one item), in order, covering all", () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(3000), { maxLength: 500 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 10_000 }),
        (sizes, maxItems, maxBytes) => {
          const ranges = chunkRanges(sizes, maxItems, maxBytes, (s) => s);
          let next = 0;
          for (const r of ranges) {
            if (r.from !== next || r.to <= r.from) return false;
            const slice = sizes.slice(r.from, r.to);
            if (slice.length > maxItems) return false;
            if (slice.length > 1 && slice.reduce((a, b) => a + b, 0) > maxBytes) return false;
            next = r.to;
          }
          return next === sizes.length;
        },
      ),
    );
  });
  it("reports accepted, rejected (with reasons by item), failed and unsent items", async () => {
    const ranges = chunkRanges(Array.from({ length: 10 }), 3, 1e9, () => 1);
    expect(ranges).toHaveLength(4);
    const rejection = ApiError.generate({
      status: 400,
      errors: [
        {
          code: "invalid",
          detail: "bad email",
          source: { pointer: "/data/attributes/profiles/data/1/attributes/email" },
        },
      ],
    });
    const result = await sendInChunks(
      ranges,
      async (range) => {
        if (range.from === 3) throw rejection;
        if (range.from === 6) throw new ConnectionError("reset");
        if (range.from === 9) throw new Error("aborted");
      },
      reasonsByPointer((p) => Number(/\/profiles\/data\/(\d+)/.exec(p)?.[1] ?? Number.NaN) || undefined),
    );
    expect(result.accepted).toBe(3);
    expect(result.rejected.map((r) => r.index)).toEqual([3, 4, 5]);
    expect(result.rejected[1]?.reason).toBe("bad email [/data/attributes/profiles/data/1/attributes/email]");
    expect(result.failed).toEqual([6, 7, 8]);
    expect(result.unsent).toEqual([9]);
    expect(result.complete).toBe(false);
    expect(result.requests.map((r) => r.status)).toEqual(["accepted", "rejected", "failed", "unsent"]);
  });
});

describe("manifest", () => {
  it("describes both connections and every action with typed defaults and JSON Schemas", () => {
    const m = manifest();
    expect(m.revision).toBe("2026-07-15");
    expect(m.connections.map((c) => [c.label, c.inputs.map((i) => i.label)])).toEqual([
      ["API Key", ["API Key"]],
      ["OAuth 2.0", ["Scopes", "Client ID", "Client secret"]],
    ]);
    const fields = m.actions.find((a) => a.key === "get-account")?.inputs.find((i) => i.key === "fields");
    expect(fields).toMatchObject({ label: "Fields", default: null, required: false, type: "fields" });
    expect((fields?.schema.items as { enum: string[] } | undefined)?.enum).toContain("timezone");
  });
});
