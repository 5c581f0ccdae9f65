import { toJsonSchema } from "@valibot/to-json-schema";
import { DEFAULT_REVISION, PACKAGE_NAME, PACKAGE_VERSION } from "../core/version.js";
import { objectSchemaOf } from "../klaviyo/schema.js";
import { MAX_INPUT_DEPTH } from "../klaviyo/value-guard.js";
import { connections } from "./connections.js";
import type { AnyAction } from "./define.js";
import { actions } from "./index.js";
import { holdsFiles, type InputDefinition, type JsonSchema } from "./inputs.js";

export interface ManifestInput {
  key: string;
  label: string;
  comments: string;
  default: unknown;
  required: boolean;
  type: string;
  /** What a caller may give, generated from the input's validator (draft 2020-12). */
  schema: JsonSchema;
  /** What validation checks beyond `schema`, in words (a filter's grammar, a document's rules), if anything. */
  checks?: string;
  /** The values an enum input takes, the names a fields input takes. */
  options?: string[];
  /** A key/value input whose values are files (bytes, base64 in JSON). */
  files?: true;
  /** A secret (a signing key): to be entered in a password field, never shown back (its schema is `writeOnly`). */
  secret?: true;
}

export interface Manifest {
  name: string;
  version: string;
  revision: string;
  /** Rules every input is held to, beyond its own schema. */
  inputRules: string;
  connections: Array<{ key: string; label: string; description: string; inputs: ManifestInput[] }>;
  actions: Array<{ key: string; label: string; description: string; inputs: ManifestInput[] }>;
}

const INPUT_RULES = `Text is valid Unicode (no lone surrogates); values nest at most ${MAX_INPUT_DEPTH} levels deep.`;

type Node = Record<string, unknown>;

/** Drops the branches that match nothing (`{ not: {} }`, what bytes become in JSON) from `anyOf`s. */
function prune(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(prune);
  if (typeof node !== "object" || node === null) return node;
  const out: Node = {};
  for (const [key, value] of Object.entries(node)) out[key] = prune(value);
  const anyOf = out.anyOf;
  if (Array.isArray(anyOf)) {
    const kept = anyOf.filter((branch) => !(isNothing(branch as Node) && anyOf.length > 1));
    if (kept.length === 1 && Object.keys(out).length === 1) return kept[0];
    out.anyOf = kept;
  }
  return out;
}

function isNothing(node: Node): boolean {
  const keys = Object.keys(node);
  return keys.length === 1 && keys[0] === "not" && Object.keys((node.not as Node) ?? { x: 1 }).length === 0;
}

type Converted = ReturnType<typeof toJsonSchema>;

/**
 * A schema's JSON Schema, as a caller gives it: bytes (a `custom` schema) match nothing, and an `objectOnly`
 * schema is its object's (its refusal of arrays is what JSON Schema's `type: object` says already).
 */
function convert(schema: Parameters<typeof toJsonSchema>[0]): Node {
  const config: Parameters<typeof toJsonSchema>[1] = {
    target: "draft-2020-12",
    typeMode: "input",
    errorMode: "ignore",
    overrideSchema: (context): Converted | undefined => {
      const { valibotSchema } = context;
      if (valibotSchema.type === "custom") return { not: {} };
      const object = objectSchemaOf(valibotSchema);
      if (!object) return undefined;
      const { $schema: _, ...inner } = convert(object);
      return inner as Converted;
    },
  };
  return toJsonSchema(schema, config) as Node;
}

/**
 * An input's JSON Schema, generated from its validator: what it accepts as a JSON value (the input side of its
 * pipes, up to the first transformation). Values JSON cannot carry (bytes, which the library also takes) match
 * nothing here, so a platform offers only what JSON can hold; a check JSON Schema cannot state is left out of it
 * and said in words by the input's `checks`.
 */
export function inputJsonSchema(def: InputDefinition): JsonSchema {
  const generated = convert(def.schema);
  const { $schema: _, ...schema } = prune(generated) as Node;
  return {
    ...schema,
    ...(def.default !== undefined ? { default: def.default } : {}),
    // A secret is sent, never read back (Klaviyo never returns a webhook's secret).
    ...(def.secret ? { writeOnly: true } : {}),
  };
}

function describeInput(def: InputDefinition): ManifestInput {
  return {
    key: def.key,
    label: def.label,
    comments: def.comments,
    default: def.default ?? null,
    required: def.required,
    type: def.type,
    schema: inputJsonSchema(def),
    ...(def.checks ? { checks: def.checks } : {}),
    ...(def.options ? { options: [...def.options] } : {}),
    ...(holdsFiles(def) ? { files: true as const } : {}),
    ...(def.secret ? { secret: true as const } : {}),
  };
}

/** The machine-readable description of every connection and action: what `klaviyo manifest` prints. */
export function manifest(list: readonly AnyAction[] = actions): Manifest {
  return {
    name: PACKAGE_NAME,
    version: PACKAGE_VERSION,
    revision: DEFAULT_REVISION,
    inputRules: INPUT_RULES,
    connections: connections.map((c) => ({
      key: c.key,
      label: c.label,
      description: c.description,
      inputs: (c.inputs as readonly InputDefinition[]).map(describeInput),
    })),
    actions: list.map((a) => ({
      key: a.key,
      label: a.label,
      description: a.description,
      inputs: Object.values(a.inputs).map(describeInput),
    })),
  };
}
