/**
 * fast-check arbitraries for the inputs of any action, drawn from its input definitions alone (kind, JSON Schema,
 * options, example, default), so that a new action or input is covered with no change here. Each case is one of:
 *  - the required inputs valid, and at most one other;
 *  - every input valid (examples, defaults, options, ids of the emulator's data, values inside the bounds);
 *  - every input valid but one, which is "almost right" (a mutated example: a character dropped or added, an
 *    unbalanced quote, a member removed or retyped, a bound overstepped) or plainly hostile;
 *  - chaos: each input any of the above.
 * Hostile values: wrong types, huge strings, deep and self-referencing nesting, lone surrogates (text that is
 * not valid Unicode), JSON that does not parse, bigint, NaN, and emails, phone numbers and times that almost pass.
 */
import fc from "fast-check";
import type { AnyAction } from "../../src/actions/define.js";
import type { InputDefinition } from "../../src/actions/inputs.js";
import { inputJsonSchema } from "../../src/actions/manifest.js";

/** Ids of what the emulator holds, by kind (`list`, `profile`, `campaign`…), the kind an id input's key names. */
export type IdPools = Readonly<Record<string, readonly string[]>>;

/** The kind of id an input names (`listId` → `list`), when the emulator holds ids of that kind. */
function poolOf(def: InputDefinition, pools: IdPools): readonly string[] | undefined {
  const kind = /^([a-z]+)Id$/.exec(def.key)?.[1];
  const pool = kind === undefined ? undefined : pools[kind];
  return pool && pool.length > 0 ? pool : undefined;
}

/** A real 1×1 PNG. */
export const PNG = new Uint8Array(
  Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
    "base64",
  ),
);

function nest(depth: number, leaf: unknown = "deep", arrays = false): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = arrays ? [value] : { level: value };
  return value;
}

const selfReferencing = (): Record<string, unknown> => {
  const value: Record<string, unknown> = { name: "loop" };
  value.self = value;
  return value;
};

/** Leaves that break a check somewhere: each is a plausible mistake or attack, not noise. */
const HOSTILE_LEAVES: readonly unknown[] = [
  null,
  "",
  " ",
  "\t\n",
  0,
  -1,
  1.5,
  -0,
  1e308,
  true,
  false,
  {},
  [],
  "'",
  '"',
  "\\",
  "\u0000",
  "\r\nX-Injected: 1",
  "\uD800",
  "a\uDFFFb",
  "\u202Egnp.exe",
  "ＡＢＣ",
  "x".repeat(100_001),
  "é".repeat(50_001),
  "not-an-email@",
  "sarah@example",
  "+1555",
  "+15005550006 ",
  "2026-13-45T99:99:99Z",
  "1989-12-31T23:59:59Z",
  "2999-01-01T00:00:00Z",
  nest(11),
  Array.from({ length: 4001 }, (_, i) => i),
  Object.fromEntries(Array.from({ length: 401 }, (_, i) => [`p${i}`, i])),
];

/** Whole values of the wrong kind, or too big, too deep, not JSON at all. */
const HOSTILE_VALUES: readonly unknown[] = [
  ...HOSTILE_LEAVES,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  10n,
  new Date(Number.NaN),
  new Uint8Array([0, 1, 2]),
  ["a", 1, null, { b: [] }],
  { unexpected: "member" },
  nest(150),
  nest(10_000),
  nest(10_000, "deep", true),
  selfReferencing(),
  JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}'),
  "{",
  "[1,",
  '{"a": }',
  "\uFEFF{}",
  "NaN",
  "undefined",
  "{'single': 'quotes'}",
  `[${"[".repeat(5000)}${"]".repeat(5000)}]`,
  "x".repeat(1_000_001),
];

/** Characters that matter to some syntax: quotes, brackets, separators, escapes, controls, odd Unicode. */
const SYNTAX_CHARS = [
  "'",
  '"',
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
  ",",
  ":",
  "=",
  "\\",
  "/",
  "?",
  "#",
  "%",
  "@",
  "+",
  ".",
  "-",
  " ",
  "\t",
  "\n",
  "\r",
  "\u0000",
  "\u007F",
  "\uD800",
  "\uDC00",
  "é",
  "\u00A0",
  "\u2028",
  "\u202E",
  "\uFEFF",
  "０",
  "😀",
];

/** One edit of a text: a character dropped, inserted, doubled or swapped, the text cut, cased, padded or blown up. */
const textEdit = (text: string): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.constantFrom(
        "drop",
        "insert",
        "double",
        "swap",
        "truncate",
        "upper",
        "lower",
        "pad",
        "huge",
        "surrogate",
      ),
      fc.nat(),
      fc.constantFrom(...SYNTAX_CHARS),
    )
    .map(([edit, n, char]) => {
      const at = text.length === 0 ? 0 : n % (text.length + 1);
      switch (edit) {
        case "drop":
          return text.slice(0, at) + text.slice(at + 1);
        case "insert":
          return text.slice(0, at) + char + text.slice(at);
        case "double":
          return text.slice(0, at) + text.slice(at, at + 1).repeat(2) + text.slice(at + 1);
        case "swap":
          return text.slice(0, at) + char + text.slice(at + 1);
        case "truncate":
          return text.slice(0, at);
        case "upper":
          return text.toUpperCase();
        case "lower":
          return text.toLowerCase();
        case "pad":
          return ` ${text}\t`;
        case "huge":
          return text.repeat(Math.ceil(200_001 / Math.max(1, text.length)));
        default:
          return text.slice(0, at) + (n % 2 === 0 ? "\uD83D" : "\uDE00") + text.slice(at);
      }
    });

/** One or two edits of a text. */
const mutateText = (text: string): fc.Arbitrary<string> =>
  fc.oneof(
    textEdit(text),
    textEdit(text).chain((once) => textEdit(once)),
  );

type JsonPath = ReadonlyArray<string | number>;

/** The paths of every node of a JSON value (the value itself first), at most `max` of them. */
function nodePaths(value: unknown, max = 200): JsonPath[] {
  const out: JsonPath[] = [];
  const walk = (node: unknown, path: JsonPath) => {
    if (out.length >= max) return;
    out.push(path);
    if (Array.isArray(node)) for (const [i, item] of node.entries()) walk(item, [...path, i]);
    else if (node && typeof node === "object")
      for (const [k, v] of Object.entries(node)) walk(v, [...path, k]);
  };
  walk(value, []);
  return out;
}

type StructuralEdit = "replace" | "delete" | "add" | "wrap" | "empty";

/** A copy of `value` with one node changed at `path`. */
function editAt(value: unknown, path: JsonPath, edit: StructuralEdit, leaf: unknown): unknown {
  const apply = (node: unknown): unknown => {
    switch (edit) {
      case "replace":
        return leaf;
      case "wrap":
        return [node];
      case "empty":
        return Array.isArray(node) ? [] : node && typeof node === "object" ? {} : "";
      case "add":
        return Array.isArray(node)
          ? [...node, leaf]
          : node && typeof node === "object"
            ? { ...node, unexpected_member: leaf }
            : leaf;
      default:
        return node;
    }
  };
  if (path.length === 0) return edit === "delete" ? undefined : apply(value);
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let parent = copy;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (edit === "delete") {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else parent[last] = apply(parent[last]);
  return copy;
}

/** An edit of a JSON value's structure: a member replaced by a hostile leaf, removed, added, wrapped, emptied. */
export const mutateJson = (value: unknown): fc.Arbitrary<unknown> => {
  const paths = nodePaths(value);
  return fc
    .tuple(
      fc.constantFrom(...paths),
      fc.constantFrom<StructuralEdit>("replace", "replace", "delete", "add", "wrap", "empty"),
      fc.constantFrom(...HOSTILE_LEAVES),
    )
    .map(([path, edit, leaf]) => editAt(value, path, edit, leaf));
};

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Every id the examples of id inputs use, by the kind of id: an example's ids are swapped for real ones. */
function exampleIds(allActions: readonly AnyAction[], pools: IdPools): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  for (const action of allActions) {
    for (const def of Object.values(action.inputs)) {
      const pool = poolOf(def, pools);
      // One example may stand for several kinds (Y6nRLr: a list and a segment): it takes ids of each.
      if (pool && def.example) out.set(def.example, [...new Set([...(out.get(def.example) ?? []), ...pool])]);
    }
  }
  return out;
}

/** `text` with each example id replaced by an id of the same kind the emulator holds (chosen by `n`). */
function withRealIds(text: string, ids: Map<string, readonly string[]>, n: number): string {
  let out = text;
  let i = 0;
  for (const [example, pool] of ids) {
    if (!out.includes(example)) continue;
    out = out.split(example).join(pool[(n + i++) % pool.length] as string);
  }
  return out;
}

/** What an action's arbitraries are built from. */
export interface ArbitraryContext {
  readonly pools: IdPools;
  /** Example ids (of every action's id inputs) → the real ids of that kind. */
  readonly ids: Map<string, readonly string[]>;
}

export function arbitraryContext(allActions: readonly AnyAction[], pools: IdPools): ArbitraryContext {
  return { pools, ids: exampleIds(allActions, pools) };
}

const plainText = fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 });

function numberBounds(def: InputDefinition): { min: number; max: number; integer: boolean } {
  const schema = inputJsonSchema(def);
  const min = typeof schema.minimum === "number" ? schema.minimum : -1_000_000;
  const max = typeof schema.maximum === "number" ? schema.maximum : 1_000_000;
  return { min, max, integer: schema.type === "integer" };
}

/** Values a careful caller would give: examples (with real ids), defaults, options, values within bounds. */
export function validValue(def: InputDefinition, ctx: ArbitraryContext): fc.Arbitrary<unknown> {
  const example =
    def.example === undefined
      ? undefined
      : fc.nat().map((n) => withRealIds(def.example as string, ctx.ids, n));
  const known = [
    ...(example ? [example] : []),
    ...(def.default !== undefined ? [fc.constant(def.default)] : []),
  ];
  switch (def.type) {
    case "enum":
      return fc.constantFrom(...(def.options ?? []));
    case "fields":
      if (!def.options?.length) return fc.oneof(...known, plainText);
      return fc
        .tuple(
          fc.subarray([...def.options], { minLength: 1, maxLength: Math.min(4, def.options.length) }),
          fc.boolean(),
        )
        .map(([names, asText]) => (asText ? names.join(",") : names));
    case "boolean":
      return fc.constantFrom(true, false, "true", "false", "yes", "no", "1", "0");
    case "number": {
      const { min, max, integer } = numberBounds(def);
      const n = integer
        ? fc.integer({ min, max: Math.min(max, min + 1000) })
        : fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true });
      return fc.oneof(n, n.map(String), ...known);
    }
    case "binary":
      return fc.constantFrom<unknown>(
        PNG,
        Buffer.from(PNG),
        PNG.buffer.slice(0),
        Buffer.from(PNG).toString("base64"),
        `data:image/png;base64,${Buffer.from(PNG).toString("base64")}`,
      );
    case "key-value": {
      const pairs = fc.dictionary(
        fc.stringMatching(/^[a-z][a-z_[\]-]{0,12}$/),
        fc.stringMatching(/^[A-Za-z0-9 ._-]{0,12}$/),
        { maxKeys: 3 },
      );
      return fc.oneof(...known, ...known.map((k) => k.map((text) => [text])), pairs);
    }
    case "json": {
      if (known.length === 0) return fc.oneof(fc.constant({}), fc.object({ maxDepth: 2, maxKeys: 3 }));
      // Both as JSON text (a form or the CLI) and as the value itself (code).
      return fc.oneof(
        ...known,
        ...known.map((k) => k.map((v) => (typeof v === "string" ? parseJson(v) : v))),
      );
    }
    default: {
      const pool = poolOf(def, ctx.pools);
      if (pool) return fc.constantFrom(...pool);
      return known.length > 0 ? fc.oneof({ arbitrary: fc.oneof(...known), weight: 3 }, plainText) : plainText;
    }
  }
}

/** A valid value made slightly wrong: the mistakes a checker must catch (or a server would). */
export function nearValue(def: InputDefinition, ctx: ArbitraryContext): fc.Arbitrary<unknown> {
  const valid = validValue(def, ctx);
  switch (def.type) {
    case "number": {
      const { min, max, integer } = numberBounds(def);
      return fc.constantFrom<unknown>(
        min - 1,
        max + 1,
        integer ? min + 0.5 : Number.NaN,
        ` ${min} `,
        "1e3",
        "0x10",
        "12abc",
        `${max}0`,
        Number.MAX_SAFE_INTEGER + 2,
        -0,
        "",
        "∞",
      );
    }
    case "boolean":
      return fc.constantFrom<unknown>("TRUE", "on", "off", 2, -1, "yes ", "nope", "t", [true]);
    case "enum":
      return fc
        .tuple(fc.constantFrom(...(def.options ?? ["x"])), fc.constantFrom("upper", "lower", "pad", "edit"))
        .chain(([option, how]) =>
          how === "upper"
            ? fc.constant(option.toUpperCase())
            : how === "lower"
              ? fc.constant(option.toLowerCase())
              : how === "pad"
                ? fc.constant(` ${option} `)
                : mutateText(option),
        );
    case "fields":
      return fc.oneof(
        valid.map((v) => (Array.isArray(v) ? [...v, "no_such_field"] : `${String(v)},no_such_field`)),
        valid.map((v) =>
          Array.isArray(v) ? v.map((s) => String(s).toUpperCase()) : String(v).toUpperCase(),
        ),
        fc.constantFrom<unknown>(",,", " , ", [""], [1, 2], ["\uD800"], "a,b;c"),
      );
    case "binary":
      return fc.constantFrom<unknown>(
        PNG.slice(0, 4),
        new Uint8Array(0),
        new Uint8Array([0x47, 0x49, 0x46, 0x38]),
        "not base64!",
        "data:image/png,rawbytes",
        "data:text/plain;base64,aGVsbG8=",
        Buffer.from("GIF89a...").toString("base64"),
        new Uint8Array(5 * 1024 * 1024 + 1).fill(0x89),
      );
    case "json":
      return valid.chain((v) => {
        const value = typeof v === "string" ? parseJson(v) : v;
        const structural = value !== undefined && typeof value === "object" ? [mutateJson(value)] : [];
        const asText = typeof v === "string" ? v : (JSON.stringify(v) ?? "");
        return fc.oneof(...structural, ...structural, mutateText(asText));
      });
    default:
      return valid.chain((v) => (typeof v === "string" ? mutateText(v) : fc.constant(v)));
  }
}

/** Anything at all, from the list of hostile values or generated JSON and text. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.constantFrom(...HOSTILE_VALUES), weight: 4 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 1 },
  {
    arbitrary: fc.string({
      unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
      maxLength: 40,
    }),
    weight: 1,
  },
);

/** An input absent, present or blank (`""` and `null` read as absent, so the default applies). */
function maybe(def: InputDefinition, value: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.option(value, { nil: undefined, freq: def.required ? 25 : 2 });
}

/** Names that are no input of any action, one of them a prototype key. */
const UNKNOWN_INPUTS = ["bogusInput", "Account ID", "__proto__", "constructor", "api_key"];

function build(
  defs: readonly InputDefinition[],
  values: readonly unknown[],
  unknown: string | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  defs.forEach((def, i) => {
    if (values[i] !== undefined) out[def.key] = values[i];
  });
  // As JSON.parse would make it: an own member, even for __proto__.
  if (unknown !== undefined)
    Object.defineProperty(out, unknown, { value: "x", enumerable: true, writable: true, configurable: true });
  return out;
}

/** The inputs of one run of `action`: all valid, all valid but one, or each input anything. */
export function actionInputs(
  action: AnyAction,
  ctx: ArbitraryContext,
): fc.Arbitrary<Record<string, unknown>> {
  const defs = Object.values(action.inputs);
  const valid = defs.map((def) => validValue(def, ctx));
  const bad = defs.map((def) =>
    fc.oneof({ arbitrary: nearValue(def, ctx), weight: 3 }, { arbitrary: hostileValue, weight: 2 }),
  );
  // Now and then a member that is no input (fc.option's freq is the odds of *absent*, 1 in freq).
  const unknown = fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 11 },
    { arbitrary: fc.constantFrom(...UNKNOWN_INPUTS), weight: 1 },
  );
  const allValid = fc.tuple(...defs.map((def, i) => maybe(def, valid[i] as fc.Arbitrary<unknown>)));
  // The required inputs and at most one other: inputs that only make sense together stay apart.
  const minimal = fc
    .nat({ max: defs.length })
    .chain((extra) =>
      fc.tuple(
        ...defs.map((def, i) =>
          def.required || i === extra ? (valid[i] as fc.Arbitrary<unknown>) : fc.constant(undefined),
        ),
      ),
    );
  const oneBad = fc
    .nat({ max: Math.max(0, defs.length - 1) })
    .chain((target) =>
      fc.tuple(
        ...defs.map((def, i) =>
          i === target ? (bad[i] as fc.Arbitrary<unknown>) : maybe(def, valid[i] as fc.Arbitrary<unknown>),
        ),
      ),
    );
  const chaos = fc.tuple(
    ...defs.map((def, i) =>
      maybe(def, fc.oneof(valid[i] as fc.Arbitrary<unknown>, bad[i] as fc.Arbitrary<unknown>)),
    ),
  );
  return fc
    .tuple(
      fc.oneof(
        { arbitrary: minimal, weight: 1 },
        { arbitrary: allValid, weight: 2 },
        { arbitrary: oneBad, weight: 4 },
        { arbitrary: chaos, weight: 2 },
      ),
      unknown,
    )
    .map(([values, extra]) => build(defs, values, extra));
}
