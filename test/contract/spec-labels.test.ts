import { describe, expect, it } from "vitest";
import { manifest } from "../../src/actions/manifest.js";
import { parseSpec, specAvailable } from "../helpers/spec.js";

/** The specification writes defaults as text; the manifest types them (`false`, `0`, `"json"`). */
function asText(value: unknown): string {
  return value === null || value === undefined ? "" : String(value);
}

describe.skipIf(!specAvailable())(
  "the manifest against the specification (labels and defaults are a contract)",
  () => {
    const spec = parseSpec();
    const m = manifest();

    it("the specification parses into its 2 connections and 38 actions", () => {
      expect(spec.connections.map((c) => c.label)).toEqual(["API Key", "OAuth 2.0"]);
      expect(spec.actions).toHaveLength(38);
      expect(spec.actions.every((a) => a.inputs.length > 0 || a.label === "")).toBe(true);
    });

    it("both connections, with their inputs' labels and defaults", () => {
      for (const section of spec.connections) {
        const connection = m.connections.find((c) => c.label === section.label);
        expect(connection, section.label).toBeDefined();
        for (const want of section.inputs) {
          const got = connection?.inputs.find((i) => i.label === want.label);
          expect(got, `${section.label} / ${want.label}`).toBeDefined();
          expect(asText(got?.default), `${section.label} / ${want.label} default`).toBe(want.default);
        }
      }
    });

    it.each(parseSpecSafe().map((a) => [a.label, a] as const))(
      "%s: every input, label and default exactly",
      (label, section) => {
        const action = m.actions.find((a) => a.label === label);
        expect(action, `action "${label}" is missing from the manifest`).toBeDefined();
        expect(action?.key).toBe(label.toLowerCase().replace(/[^a-z0-9]+/g, "-"));
        expect(action?.description.length, `${label} has no description`).toBeGreaterThan(20);
        for (const want of section.inputs) {
          const got = action?.inputs.find((i) => i.label === want.label);
          expect(got, `${label}: input "${want.label}" is missing`).toBeDefined();
          expect(asText(got?.default), `${label} / ${want.label}: default`).toBe(want.default);
        }
        for (const input of action?.inputs ?? []) {
          expect(input.comments.length, `${label} / ${input.label} has no description`).toBeGreaterThan(10);
        }
      },
    );

    it("the manifest has exactly the 38 actions of the specification", () => {
      expect(m.actions.map((a) => a.label).sort()).toEqual(spec.actions.map((a) => a.label).sort());
    });
  },
);

function parseSpecSafe() {
  try {
    return specAvailable() ? parseSpec().actions : [];
  } catch {
    return [];
  }
}
