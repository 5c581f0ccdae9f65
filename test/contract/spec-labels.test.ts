import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { specFactsJson } from "../../scripts/spec-facts.js";
import { actions, EVERYDAY_ACTION_KEYS } from "../../src/actions/index.js";
import { manifest } from "../../src/actions/manifest.js";
import { parseSpec, SPEC_FACTS_PATH, SPEC_PATH, specAvailable, specFacts } from "../helpers/spec.js";

/** The specification writes defaults as text; the manifest types them (`false`, `0`, `"json"`). */
function asText(value: unknown): string {
  return value === null || value === undefined ? "" : String(value);
}

const facts = specFacts();
const m = manifest();

describe("the manifest against the specification's facts (test/fixtures/spec-facts.json): labels and defaults are a contract", () => {
  it("the fixture holds connections and actions, each with a label and a description", () => {
    expect(facts.connections.length).toBeGreaterThan(0);
    expect(facts.actions.length).toBeGreaterThan(0);
    for (const section of [...facts.connections, ...facts.actions]) {
      expect(section.label, JSON.stringify(section)).not.toBe("");
      expect(section.description, section.label).not.toBe("");
    }
    expect(facts.actions.filter((a) => a.inputs.length > 0).length).toBeGreaterThan(0);
  });

  it("exactly the specification's connections, each with exactly its inputs' labels and defaults", () => {
    expect(m.connections.map((c) => c.label)).toEqual(facts.connections.map((c) => c.label));
    for (const section of facts.connections) {
      const connection = m.connections.find((c) => c.label === section.label);
      expect(
        connection?.inputs.map((i) => i.label),
        section.label,
      ).toEqual(section.inputs.map((i) => i.label));
      for (const want of section.inputs) {
        const got = connection?.inputs.find((i) => i.label === want.label);
        expect(asText(got?.default), `${section.label} / ${want.label} default`).toBe(want.default);
      }
    }
  });

  it.each(facts.actions.map((a) => [a.label, a] as const))(
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

  it("the registry and the manifest have exactly the actions of the specification, and the everyday ones beside", () => {
    const specified = new Set(facts.actions.map((a) => a.label));
    const everyday = new Set(EVERYDAY_ACTION_KEYS);
    expect(
      m.actions
        .filter((a) => !everyday.has(a.key))
        .map((a) => a.label)
        .sort(),
    ).toEqual([...specified].sort());
    expect(actions).toHaveLength(facts.actions.length + everyday.size);
    // An everyday action never takes a specified action's label or key.
    for (const a of m.actions.filter((a) => everyday.has(a.key))) {
      expect(specified.has(a.label), a.label).toBe(false);
      expect(a.key).toBe(a.label.toLowerCase().replace(/[^a-z0-9]+/g, "-"));
    }
  });
});

describe.skipIf(!specAvailable())(`test/fixtures/spec-facts.json against ${SPEC_PATH}`, () => {
  it("the fixture is exactly what the specification's text gives (npm run gen:spec-facts rewrites it)", () => {
    const text = readFileSync(SPEC_FACTS_PATH, "utf8");
    expect(text).toBe(specFactsJson(parseSpec()));
  });
});
