/**
 * The manifest says what validation does: for every input of every action and connection, ajv with the JSON Schema
 * that `klaviyo manifest` publishes (what Prismatic, Activepieces and the playground render and check) judges
 * generated values as the library's validation does. Values come from the schema itself (patterns, enums, bounds,
 * the document schemas of segments and templates), from near misses of it (blank and padded text, numbers just
 * out of range, wrong types), from each input's example and default, and from arbitrary JSON.
 *
 * Where an input's validation checks more than JSON Schema can say (a filter's grammar, a document's rules), its
 * manifest entry says so in `checks`, and there the property is one-way: validation never accepts a value the
 * schema refuses. Everywhere else both must agree on every value.
 *
 * MANIFEST_PROBES (default 150 per input) and MANIFEST_SEED change the size and the seed.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { connections } from "../../src/actions/connections.js";
import { actions } from "../../src/actions/index.js";
import type { InputDefinition, JsonSchema } from "../../src/actions/inputs.js";
import { inputJsonSchema } from "../../src/actions/manifest.js";
import { parse } from "../../src/klaviyo/schema.js";
import { inputValueProblem } from "../../src/klaviyo/value-guard.js";

const PROBES = Number(process.env.MANIFEST_PROBES ?? 150);
const SEED = Number(process.env.MANIFEST_SEED ?? 20260715);

const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false });

type Node = JsonSchema;

/** Values the schema describes, as far as a generator can aim: a pattern's strings, enums, bounds, members. */
function fromSchema(node: Node, depth = 0): fc.Arbitrary<unknown> {
  if (depth > 8) return fc.constant(null);
  if ("const" in node) return fc.constant(node.const);
  if (Array.isArray(node.enum)) return fc.constantFrom(...(node.enum as unknown[]));
  const branches = (node.anyOf ?? node.oneOf) as Node[] | undefined;
  if (branches) {
    const usable = branches.filter((b) => !("not" in b));
    return usable.length > 0 ? fc.oneof(...usable.map((b) => fromSchema(b, depth + 1))) : fc.constant(null);
  }
  if (Array.isArray(node.allOf) && node.allOf.length > 0) return fromSchema(node.allOf[0] as Node, depth + 1);
  const type = Array.isArray(node.type) ? (node.type[0] as string) : (node.type as string | undefined);
  switch (type) {
    case "string": {
      if (typeof node.pattern === "string") {
        try {
          return fc.stringMatching(new RegExp(node.pattern, "u"), { size: "small" });
        } catch {
          // A pattern the generator cannot aim at (lookaheads): plain text, and the near misses below.
        }
      }
      return fc.string({ minLength: (node.minLength as number) ?? 0, maxLength: 40 });
    }
    case "integer":
    case "number": {
      const min = typeof node.minimum === "number" ? node.minimum : -1e6;
      const max = typeof node.maximum === "number" ? node.maximum : 1e6;
      return type === "integer"
        ? fc.integer({ min: Math.max(min, -1e9), max: Math.min(max, 1e9) })
        : fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
    }
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array": {
      const prefix = node.prefixItems as Node[] | undefined;
      if (prefix) return fc.tuple(...prefix.map((p) => fromSchema(p, depth + 1)));
      const items = (node.items as Node | undefined) ?? {};
      return fc.array(fromSchema(items, depth + 1), {
        minLength: (node.minItems as number) ?? 0,
        maxLength: Math.min((node.maxItems as number) ?? 4, 4),
      });
    }
    case "object": {
      const properties = (node.properties ?? {}) as Record<string, Node>;
      const required = new Set((node.required ?? []) as string[]);
      const shape: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, child] of Object.entries(properties)) shape[key] = fromSchema(child, depth + 1);
      const known = fc.record(shape, { requiredKeys: [...required].filter((k) => k in shape) });
      const extra = node.additionalProperties;
      if (extra && typeof extra === "object")
        return fc
          .tuple(
            known,
            fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fromSchema(extra as Node, depth + 1), {
              maxKeys: 3,
            }),
          )
          .map(([a, b]) => ({ ...b, ...a }));
      return known;
    }
    default:
      return fc.jsonValue({ maxDepth: 3 });
  }
}

/** Values just beside what the schema describes: padded, blank, emptied, cut, out of range, of another type. */
function nearMisses(node: Node): fc.Arbitrary<unknown> {
  return fromSchema(node).chain((value) => {
    const around: unknown[] = [null, "", " ", [], {}, 0, true, "x".repeat(300)];
    if (typeof value === "string")
      around.push(
        ` ${value}`,
        `${value} `,
        `${value}\u0000`,
        value.slice(1),
        value.toLowerCase(),
        value.toUpperCase(),
        `${value},`,
      );
    if (typeof value === "number") around.push(value + 1, value - 1, value + 0.5, -value, String(value));
    if (Array.isArray(value)) around.push([...value, value[0]], value.slice(1), [value]);
    if (value && typeof value === "object" && !Array.isArray(value))
      around.push(
        { ...(value as object), unexpected: 1 },
        Object.fromEntries(Object.entries(value).slice(1)),
      );
    return fc.constantFrom(value, ...around);
  });
}

/** The example and default an input shows (JSON text read as JSON where it parses). */
function shown(def: InputDefinition): unknown[] {
  const out: unknown[] = [];
  if (def.default !== undefined) out.push(def.default);
  if (def.example !== undefined) {
    out.push(def.example);
    try {
      out.push(JSON.parse(def.example));
    } catch {
      // Not JSON: the text alone.
    }
  }
  return out;
}

interface Tally {
  probes: number;
  agreed: number;
  oneWay: number;
}
const tally: Tally = { probes: 0, agreed: 0, oneWay: 0 };

const inputs = [
  ...connections.flatMap((c) =>
    (c.inputs as readonly InputDefinition[]).map((def) => [c.label, def] as const),
  ),
  ...actions.flatMap((a) => Object.values(a.inputs).map((def) => [a.label, def] as const)),
];

describe("the manifest's JSON Schema and validation judge every value alike", () => {
  it.each(inputs.map(([owner, def]) => [`${owner} / ${def.label}`, def] as const))("%s", (_, def) => {
    const schema = inputJsonSchema(def);
    const check = ajv.compile(schema);
    const values = fc.oneof(
      { arbitrary: fromSchema(schema), weight: 3 },
      { arbitrary: nearMisses(schema), weight: 3 },
      { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 1 },
      ...(shown(def).length > 0 ? [{ arbitrary: fc.constantFrom(...shown(def)), weight: 1 }] : []),
    );
    fc.assert(
      fc.property(values, (value) => {
        const bySchema = check(value);
        const byValidation = inputValueProblem(value) === undefined && parse(def.schema, value).success;
        tally.probes++;
        if (bySchema === byValidation) {
          tally.agreed++;
          return true;
        }
        // Validation may refuse more than the schema says only where the manifest says so.
        if (def.checks !== undefined && bySchema && !byValidation) {
          tally.oneWay++;
          return true;
        }
        throw new Error(
          `${JSON.stringify(value)?.slice(0, 200)}: the manifest ${bySchema ? "accepts" : "refuses"} it, validation ${byValidation ? "accepts" : "refuses"} it`,
        );
      }),
      { seed: SEED, numRuns: PROBES },
    );
  });

  afterAll(() => {
    console.info(
      `manifest agreement (seed ${SEED}): ${tally.probes} probes over ${inputs.length} inputs; ${tally.agreed} judged alike, ${tally.oneWay} refused by validation for a rule the manifest states in words (checks), 0 otherwise`,
    );
    expect(tally.agreed + tally.oneWay).toBe(tally.probes);
  });
});
