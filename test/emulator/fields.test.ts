import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EmulatorProblem } from "../../src/emulator/errors.js";
import { applyFieldset, parseFieldset } from "../../src/emulator/fields.js";
import { ACCOUNT_FIELDS } from "../../src/emulator/routes/accounts.js";
import { seedAccount } from "../../src/emulator/state.js";

const attributes = (): Record<string, unknown> => ({ ...seedAccount().attributes });

/** Every leaf path of a nested object, dotted. */
function leafPaths(value: unknown, prefix = ""): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
}

describe("applyFieldset", () => {
  it("without a fieldset returns a deep copy of everything", () => {
    const source = attributes();
    const out = applyFieldset(source, undefined);
    expect(out).toEqual(source);
    expect(out.contact_information).not.toBe(source.contact_information);
  });

  it("keeps exactly the leaves under the requested paths, whatever the order and overlap", () => {
    const source = attributes();
    const all = leafPaths(source);
    fc.assert(
      fc.property(fc.subarray([...ACCOUNT_FIELDS]), fc.boolean(), (picked, reverse) => {
        const fields = reverse ? [...picked].reverse() : picked;
        const kept = leafPaths(applyFieldset(source, fields)).filter((p) => p !== "");
        const wanted = all.filter((leaf) => fields.some((f) => leaf === f || leaf.startsWith(`${f}.`)));
        expect(kept.sort()).toEqual(wanted.sort());
      }),
    );
  });

  it("skips paths that are not attributes, and paths through non-objects", () => {
    expect(applyFieldset({ a: 1, b: { c: 2 } }, ["id", "a.x", "b.c.d", "b.c"])).toEqual({ b: { c: 2 } });
  });

  it("keeps nulls that were asked for", () => {
    expect(applyFieldset({ industry: null, locale: "en-US" }, ["industry"])).toEqual({ industry: null });
  });
});

describe("parseFieldset", () => {
  it("splits, trims and ignores empty entries", () => {
    expect(parseFieldset(" timezone , locale,,", "account", ACCOUNT_FIELDS)).toEqual(["timezone", "locale"]);
    expect(parseFieldset(",", "account", ACCOUNT_FIELDS)).toBeUndefined();
  });

  it("refuses an unknown field with a 400 naming the parameter and the field", () => {
    let thrown: unknown;
    try {
      parseFieldset("timezone,contact_information.street", "account", ACCOUNT_FIELDS);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(EmulatorProblem);
    const { init } = thrown as EmulatorProblem;
    expect(init.status).toBe(400);
    expect(init.source).toEqual({ parameter: "fields[account]" });
    expect(init.detail).toContain("'contact_information.street'");
  });
});
