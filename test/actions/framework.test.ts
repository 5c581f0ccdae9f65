import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defineAction, fromText, validateInputs } from "../../src/actions/define.js";
import { type InputDefinition, input } from "../../src/actions/inputs.js";
import { manifest } from "../../src/actions/manifest.js";
import { ApiError, ConnectionError, InputValidationError } from "../../src/core/errors.js";
import { chunkRanges, reasonsByPointer, sendInChunks } from "../../src/ingest/bulk.js";
import { jsonObject, parse } from "../../src/klaviyo/schema.js";

const base = (label: string) => ({
  key: label.toLowerCase().replace(/\W+/g, ""),
  label,
  comments: `The ${label}.`,
});

/** What validation makes of a value given in its text form (a CLI flag, a platform's text field). */
function fromTextParse(def: InputDefinition, text: string) {
  const read = fromText(def, text);
  return "problem" in read
    ? { success: false as const, message: read.problem }
    : parseMessage(def, read.value);
}
function parseMessage(def: InputDefinition, value: unknown) {
  const result = parse(def.schema, value);
  return result.success
    ? { success: true as const, data: result.data }
    : { success: false as const, message: result.error.issues[0]?.message };
}

describe("input kinds", () => {
  it("numbers, with bounds; numeric text as their text form", () => {
    const n = input.number(base("Max Retry Count"), { min: 0, max: 10, integer: true });
    expect(parseMessage(n, 0)).toEqual({ success: true, data: 0 });
    expect(fromTextParse(n, "3")).toEqual({ success: true, data: 3 });
    expect(parseMessage(n, "3").success).toBe(false);
    for (const [bad, why] of [
      ["three", "must be a number"],
      [1.5, "whole number"],
      [-1, "at least 0"],
      [11, "at most 10"],
      [Number.NaN, "must be a number"],
    ] as const) {
      expect(parseMessage(n, bad).message).toContain(why);
    }
  });
  it("booleans; true/false/yes/no/1/0 as their text form", () => {
    const b = input.boolean(base("Retry On All Errors"));
    expect(parseMessage(b, true)).toEqual({ success: true, data: true });
    expect(["true", "false", "no", "YES", "1"].map((t) => fromTextParse(b, t))).toEqual(
      [true, false, false, true, true].map((data) => ({ success: true, data })),
    );
    expect(fromTextParse(b, "perhaps").success).toBe(false);
    expect(parseMessage(b, "true").success).toBe(false);
  });
  it("JSON values; JSON text as their text form, with the position of a parse error", () => {
    const j = input.json(base("Event Properties"), jsonObject);
    expect(parseMessage(j, { a: 1 })).toEqual({ success: true, data: { a: 1 } });
    expect(fromTextParse(j, '{"a": [1, 2]}')).toEqual({ success: true, data: { a: [1, 2] } });
    expect(fromTextParse(j, '{"a": 1,\n "b": }').message).toMatch(
      /not valid JSON: error at position \d+ \(line 2, column \d+\)/,
    );
    expect(parseMessage(j, [1]).message).toBe("expected an object, received an array");
    expect(parseMessage(j, '{"a": 1}').message).toBe("expected an object, received a string");
  });
  it("key/value pairs from an object, key=value text, Key: value text, {key, value} entries or pairs", () => {
    const kv = input.keyValue(base("Header"));
    expect(parseMessage(kv, { a: "1" }).data).toEqual([["a", "1"]]);
    expect(parseMessage(kv, ["X-Trace: a:b", "q=1=2"]).data).toEqual([
      ["X-Trace", "a:b"],
      ["q", "1=2"],
    ]);
    expect(parseMessage(kv, [{ key: "k", value: 2 }]).data).toEqual([["k", "2"]]);
    expect(parseMessage(kv, [["k", null]]).data).toEqual([["k", ""]]);
    expect(parseMessage(kv, ["no separator"]).success).toBe(false);
    expect(fromTextParse(kv, "X-A: 1").data).toEqual([["X-A", "1"]]);
  });
  it("formats: email, E.164, ISO 4217, ISO 8601 (normalised as Klaviyo takes it)", () => {
    const check = (format: "email" | "phone" | "currency" | "datetime", v: string) =>
      parseMessage(input.text(base("X"), format), v);
    expect(check("email", " ada@example.com ")).toEqual({ success: true, data: "ada@example.com" });
    expect(check("email", "ada@example").success).toBe(false);
    expect(check("phone", "+15005550006").success).toBe(true);
    expect(check("phone", "15005550006").success).toBe(false);
    expect(check("phone", "+1 500 555 0006").success).toBe(false);
    expect(check("currency", "USD").success).toBe(true);
    expect(check("currency", "usd").success).toBe(false);
    expect(check("datetime", "2026-07-15T12:00:00Z")).toEqual({
      success: true,
      data: "2026-07-15T12:00:00Z",
    });
    expect(check("datetime", "2026-07-15T12:00+0200")).toEqual({
      success: true,
      data: "2026-07-15T12:00:00+02:00",
    });
    expect(check("datetime", "2026-07-15")).toEqual({ success: true, data: "2026-07-15T00:00:00Z" });
    expect(check("datetime", "15/07/2026").success).toBe(false);
    expect(check("datetime", "2026-13-01").success).toBe(false);
    expect(check("datetime", "2026-02-29").success).toBe(false);
    expect(check("datetime", "2028-02-29").success).toBe(true);
  });
  it("filters that do not parse or that the endpoint does not allow are refused", () => {
    const f = input.filter(base("Filter Campaigns"), "get_campaigns");
    expect(parseMessage(f, "equals(messages.channel,'email')").success).toBe(true);
    expect(parseMessage(f, "equals(messages.channel,'email'").message).toMatch(/not a valid Klaviyo filter/);
    expect(parseMessage(f, "equals(colour,'red')").message).toMatch(/colour/);
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
  });
  const problems = (raw: Record<string, unknown>, text?: boolean) => {
    try {
      validateInputs(action, raw, { text });
    } catch (e) {
      expect(e).toBeInstanceOf(InputValidationError);
      return (e as InputValidationError).message;
    }
    return undefined;
  };
  it("applies typed defaults and collects every problem, by label", () => {
    expect(validateInputs(action, { id: "X1" })).toEqual({ id: "X1", count: 0, flag: false });
    expect(problems({ count: -2, flag: "sometimes" })).toBe(
      "Demo: Thing ID: is required; Count: must be at least 0; Flag: must be true or false",
    );
  });
  it("takes text forms only when asked (the CLI, platforms' text fields)", () => {
    expect(problems({ id: "X1", count: "2" })).toBe("Demo: Count: must be a number");
    expect(validateInputs(action, { id: "X1", count: "2", flag: "yes" }, { text: true })).toEqual({
      id: "X1",
      count: 2,
      flag: true,
    });
    expect(problems({ count: "-2", flag: "sometimes" }, true)).toBe(
      "Demo: Thing ID: is required; Count: must be at least 0; Flag: must be true or false",
    );
  });
  it("refuses IDs that would not stay one path segment", () => {
    for (const id of ["", " ", ".", "..", " .. ", "a/b", "a?x=1", "a#b", "a b", "a\\b"])
      expect(problems({ id }), JSON.stringify(id)).toMatch(/Thing ID: (is required|must not)/);
    expect(validateInputs(action, { id: " %2e%2e " })).toMatchObject({ id: "%2e%2e" });
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
    // A list of names, or comma-separated text of them: both forms, generated from the validator.
    const [list, text] = (fields?.schema.anyOf ?? []) as Array<{
      items?: { enum: string[] };
      pattern?: string;
    }>;
    expect(list?.items?.enum).toContain("timezone");
    expect(new RegExp(text?.pattern ?? "^$").test("timezone, contact_information.organization_name")).toBe(
      true,
    );
    expect(new RegExp(text?.pattern ?? "^$").test("timezone,nope")).toBe(false);
  });
});
