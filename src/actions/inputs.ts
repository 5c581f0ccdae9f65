/**
 * The input vocabulary of actions. Each input is one definition: its key, label, comments, default and type, and
 * one schema (valibot) that takes the value a caller gives — a JSON value, or bytes — and checks and converts it.
 * The manifest's JSON Schema is generated from that schema (`inputJsonSchema`), so what a platform's form accepts
 * is what we accept; a rule JSON Schema cannot state is written in the input's `checks`, which the manifest
 * publishes. Text forms (a CLI flag, a platform's text field) are turned into values first, by `fromText`.
 */

import * as v from "valibot";
import { checkFilter, FilterRuleError, FilterSyntaxError, parseFilter } from "../klaviyo/filter.js";
import { CURRENCY, E164, EMAIL, formatTests, ISO_DATETIME, isoDateTime } from "../klaviyo/formats.js";
import { idProblem } from "../klaviyo/identifiers.js";
import { OPERATION_PARAMETERS } from "../klaviyo/operations.js";
import { checkWith, issueLines, objectOnly, parse, type Schema } from "../klaviyo/schema.js";

/** How an input is entered and rendered: by a form, a CLI flag, a platform's input type. */
export type InputType = "text" | "number" | "boolean" | "enum" | "json" | "fields" | "key-value" | "binary";

/** A JSON Schema (draft 2020-12), as the manifest publishes it for each input. */
export type JsonSchema = Record<string, unknown>;

/** One input of an action: the data that drives validation, the manifest, CLI flags and help. */
export interface InputDefinition<T = unknown, R extends boolean = boolean, In = unknown> {
  /** camelCase key used by the library (`accountId`); the CLI flag is its kebab case. */
  readonly key: string;
  /** The label of the specification, kept exactly (`Account ID`). */
  readonly label: string;
  /** What the input holds, in our own words. */
  readonly comments: string;
  readonly type: InputType;
  readonly required: R;
  /** The specification's default, typed; `undefined` where it has none. */
  readonly default?: T;
  /**
   * Checks the value a caller gives and converts it (`In` → `T`); its messages name no label. Its input side is
   * what the manifest publishes as the input's JSON Schema.
   */
  readonly schema: Schema<T, In>;
  /**
   * What `schema` checks beyond what its JSON Schema can say (a filter's grammar, a document's rules), in words:
   * published in the manifest, so a platform knows its form may take a value we then refuse.
   */
  readonly checks?: string;
  /** For `enum` and `fields` inputs: the allowed values. */
  readonly options?: readonly string[];
  /** An example value for help text. */
  readonly example?: string;
  /**
   * A secret (a webhook's Secret Key): never echoed. The CLI scrubs its value from what it prints, the playground
   * writes it as an environment variable in its snippets, the manifest marks it `secret` (and its schema
   * `writeOnly`: Klaviyo never returns it) for platforms to show a password field.
   */
  readonly secret?: true;
}

/** `accountId` → `account-id`: the CLI flag of an input key. */
export function flagOf(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * `secretKey` → `SECRET_KEY`: the variable a secret input's value is written as wherever text shows it (the
 * CLI's examples, the playground's snippets), so that the value itself never appears.
 */
export function secretVariable(key: string): string {
  return flagOf(key).replace(/-/g, "_").toUpperCase();
}

type Common<T, R extends boolean = boolean> = {
  key: string;
  label: string;
  comments: string;
  required?: R;
  default?: T;
  example?: string;
};

function make<T, R extends boolean, In>(
  type: InputType,
  base: Common<T, R>,
  schema: Schema<T, In>,
  extra?: { options?: readonly string[]; checks?: string },
): InputDefinition<T, R, In> {
  return { ...base, type, required: (base.required ?? false) as R, schema, ...extra };
}

/** `re` with whitespace allowed around it: the pattern of text that matches `re` once trimmed. */
function padded(re: RegExp): RegExp {
  return new RegExp(`^\\s*(?:${re.source.replace(/^\^/, "").replace(/\$$/, "")})\\s*$`, re.flags);
}

type ErrorParam = string | ((issue: { input?: unknown }) => string);

/**
 * Text that matches `re` once surrounding whitespace is trimmed, trimmed (and then `then` applied). The pattern
 * is what the manifest publishes; `error` says what is wrong with text that does not match.
 */
export function textMatching(
  re: RegExp,
  error: ErrorParam,
  then: (text: string) => string = (text) => text,
): Schema<string, string> {
  // JSON Schema's patterns take no flags but the Unicode one: a case-insensitive rule is written in the pattern.
  if (re.flags.replace("u", "") !== "")
    throw new Error(`textMatching: ${re} has flags JSON Schema cannot carry`);
  const message = typeof error === "string" ? error : (issue: { input?: unknown }) => error(issue);
  return v.pipe(
    v.pipe(v.string("must be text"), v.regex(padded(re), message)),
    v.transform((text: string) => then(text.trim())),
  );
}

/** Text with something other than whitespace in it, trimmed. */
export const nonBlank = textMatching(/[\s\S]*\S[\s\S]*/, "must not be blank");

/**
 * A secret's text: not blank, and kept exactly as given (never trimmed: it is a key, and a trimmed key signs
 * differently). Its messages never quote it.
 */
const secretText = v.pipe(v.string("must be text"), v.regex(/\S/, "must not be blank"));

/**
 * A list of distinct identifiers (IDs, topic IDs): a JSON array of texts, or text separated by commas or spaces;
 * each trimmed, repeats sent once, at least one, and each judged by `problem` (the message names the first
 * refused, then says why).
 */
export function distinctIdList(
  noun: { readonly singular: string; readonly plural: string },
  problem: (item: string) => string | undefined,
): Schema<string[], unknown> {
  return v.pipe(
    v.union(
      [v.string(), v.array(v.string())],
      `must be a list of ${noun.plural}: a JSON array of texts, or text separated by commas`,
    ),
    v.transform((raw: string | string[]) => [
      ...new Set(
        (Array.isArray(raw) ? raw : raw.split(/[\s,]+/)).map((s) => s.trim()).filter((s) => s.length > 0),
      ),
    ]),
    v.check((items) => items.length > 0, `must hold at least one ${noun.singular}`),
    v.check(
      (items) => items.every((item) => problem(item) === undefined),
      (issue) => {
        const bad = (issue.input as string[]).find((item) => problem(item) !== undefined) as string;
        return `${JSON.stringify(bad)} ${problem(bad)}`;
      },
    ),
  ) as Schema<string[], unknown>;
}

/** A Klaviyo ID (see `idProblem`), surrounding whitespace trimmed. */
export const idSchema = textMatching(
  /(?!\.{1,2}\s*$)[^\s/?#\\]+/,
  (issue) => (typeof issue.input === "string" ? idProblem(issue.input.trim()) : undefined) ?? "must be text",
);

/** The text formats the connector checks before sending, each a pattern the manifest publishes. */
export const textFormats = {
  email: textMatching(EMAIL, "is not an email address (name@example.com)"),
  phone: textMatching(
    E164,
    "must be a phone number in E.164 format: + then country code and number, digits only (+15005550006)",
  ),
  currency: textMatching(CURRENCY, "must be an ISO 4217 currency code: three capital letters (USD, EUR)"),
  /** Normalised as Klaviyo's `date-time` takes it (`isoDateTime`). */
  datetime: textMatching(
    ISO_DATETIME,
    "must be an ISO 8601 date-time such as 2026-07-15T12:00:00Z",
    (text) => isoDateTime(text) ?? text,
  ),
  url: textMatching(/[Hh][Tt][Tt][Pp][Ss]?:\/\/[^\s/?#]+[^\s]*/, "must be an http(s) URL"),
} as const;

export { formatTests };

/**
 * What `schema` finds wrong in `value`, one line per member: `condition_groups[0].conditions[1].type: …`. For
 * the structured documents (segment definitions, template definitions) an input passes on whole.
 */
export function documentProblems(schema: Schema<unknown>, value: unknown): string[] {
  const result = parse(schema, value);
  return result.success ? [] : issueLines(result.error.issues);
}

/** A value of a key/value pair: text, or a number or boolean written as text; null is empty text. */
const pairText = v.pipe(
  v.union([v.string(), v.number(), v.boolean(), v.null_()]),
  v.transform((value: string | number | boolean | null) => (value === null ? "" : String(value))),
);
/** A key: text that is not blank. */
const pairKey = v.pipe(v.string(), v.regex(/\S/));

/**
 * Key/value pairs, in any of the forms platforms and people write them: an object `{ "X-A": "1" }`, or a list of
 * `"key=value"` / `"Key: value"` texts, `{ key, value }` objects or `[key, value]` pairs. `value` checks and
 * converts each value; in the text form the value is the text after the separator, which must match
 * `valuePattern`.
 */
export function keyValueSchema<V>(
  value: Schema<V, unknown>,
  valuePattern = "[\\s\\S]*",
): Schema<Array<[string, V]>, unknown> {
  const textEntry = new RegExp(`^[^=:]*[^=:\\s][^=:]*[=:]\\s*(?:${valuePattern})$`);
  const entry = v.union([
    v.pipe(v.string(), v.regex(textEntry)),
    v.object({ key: pairKey, value }),
    v.tuple([pairKey, value]),
  ]);
  return v.pipe(
    v.union(
      [objectOnly(v.record(pairKey, value)), v.array(entry)],
      "must be key/value pairs: an object, or a list of key=value texts, {key, value} objects or [key, value] pairs",
    ),
    v.transform((raw): Array<[string, V]> => {
      if (!Array.isArray(raw)) return Object.entries(raw as Record<string, V>).map(([k, v]) => [k.trim(), v]);
      return raw.map((item): [string, V] => {
        if (Array.isArray(item)) return [(item[0] as string).trim(), item[1] as V];
        if (typeof item !== "string") return [item.key.trim(), item.value as V];
        const m = /^([^=:]+?)\s*[=:]\s*(.*)$/s.exec(item) as RegExpExecArray;
        return [(m[1] as string).trim(), v.parse(value, m[2])];
      });
    }),
  );
}

/** Base64 text (standard or URL-safe alphabet, whitespace ignored) or a base64 `data:` URI. */
const BYTES_TEXT =
  "[A-Za-z0-9+/\\s]*={0,2}\\s*|[A-Za-z0-9_\\s-]*|[Dd][Aa][Tt][Aa]:[^,]*;[Bb][Aa][Ss][Ee]64,[A-Za-z0-9+/\\s]*={0,2}\\s*";

/** Bytes from a Uint8Array/Buffer or an ArrayBuffer (library callers), which JSON cannot carry. */
export const bytesValue = v.custom<Uint8Array | ArrayBuffer>(
  (value) => value instanceof Uint8Array || value instanceof ArrayBuffer,
);

/**
 * A file's bytes: a Buffer or Uint8Array, an ArrayBuffer, or (as JSON carries them) base64 text or a base64
 * `data:` URI.
 */
export const bytesSchema: Schema<Uint8Array, unknown> = v.pipe(
  v.union(
    [bytesValue, v.pipe(v.string(), v.regex(new RegExp(`^(?:${BYTES_TEXT})$`)))],
    "must be bytes (a Buffer or Uint8Array), base64 text or a base64 data: URI",
  ),
  v.transform((raw): Uint8Array => {
    if (raw instanceof Uint8Array) return raw;
    if (raw instanceof ArrayBuffer) return new Uint8Array(raw);
    const text = /^data:/i.test(raw) ? raw.slice(raw.indexOf(",") + 1) : raw;
    const compact = text.replace(/\s+/g, "");
    return new Uint8Array(Buffer.from(compact, /[-_]/.test(compact) ? "base64url" : "base64"));
  }),
);

/** Files by form field name: bytes as `bytesSchema` takes them, in any key/value form (`file=<base64>`). */
export const fileDataSchema = keyValueSchema(bytesSchema, BYTES_TEXT);

/** Whether a key/value input's values are files (bytes), which the CLI reads from `key=@path`. */
export function holdsFiles(def: InputDefinition): boolean {
  return def.schema === fileDataSchema;
}

/**
 * Names from `allowed` (a sparse fieldset's fields, an endpoint's relationships), as a list or as comma-separated
 * text. `unknownMessage` words the refusal of names outside `allowed`.
 */
export function namesOf(
  allowed: readonly string[],
  unknownMessage = (unknown: readonly string[]) =>
    `unknown field${unknown.length > 1 ? "s" : ""} ${unknown.map((u) => `"${u}"`).join(", ")}; allowed: ${allowed.join(", ")}`,
): Schema<string[], string | string[]> {
  const escaped = allowed.map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
  const name = `(?:${escaped})`;
  const text = new RegExp(`^[\\s,]*(?:${name}(?:\\s*,[\\s,]*${name})*)?[\\s,]*$`);
  const split = (raw: string | string[]) =>
    (Array.isArray(raw) ? raw : raw.split(",")).map((s) => s.trim()).filter((s) => s.length > 0);
  const problem = (raw: unknown): string => {
    if (typeof raw !== "string" && !(Array.isArray(raw) && raw.every((v) => typeof v === "string")))
      return "must be a list of field names or comma-separated text";
    const unknown = split(raw).filter((n) => !allowed.includes(n));
    return unknown.length > 0
      ? unknownMessage(unknown)
      : `must be names separated by commas; allowed: ${allowed.join(", ")}`;
  };
  // Each form words its own refusal (a union reports the issues of the form whose type matched).
  const error = (issue: { input?: unknown }) => problem(issue.input);
  return v.pipe(
    v.union(
      [
        v.array(v.picklist(allowed, (issue) => problem([issue.input]))),
        v.pipe(v.string(), v.regex(text, error)),
      ],
      error,
    ),
    v.transform(split),
  );
}

/** A whole number, or any finite number, within bounds. */
function numberSchema(bounds: { min?: number; max?: number; integer?: boolean }): Schema<number, number> {
  type Step = v.PipeItem<number, number, v.BaseIssue<unknown>>;
  const steps: Step[] = [v.finite("must be a finite number")];
  if (bounds.integer) steps.push(v.integer("must be a whole number"));
  if (bounds.min !== undefined) steps.push(v.minValue(bounds.min, `must be at least ${bounds.min}`));
  if (bounds.max !== undefined) steps.push(v.maxValue(bounds.max, `must be at most ${bounds.max}`));
  // valibot types a pipe by its items one by one; these are all checks of a number, so the pipe is one too.
  return v.pipe(v.number("must be a number"), ...(steps as [Step])) as Schema<number, number>;
}

export const input = {
  /** Plain text, or text of a checked format (email, E.164 phone, ISO 4217 currency, ISO 8601 time, URL). */
  text<const R extends boolean = false>(
    base: Common<string, R>,
    format?: keyof typeof textFormats,
  ): InputDefinition<string, R, string> {
    return make("text", base, format ? textFormats[format] : v.string("must be text"));
  },
  /** Text that must not be blank, trimmed. */
  nonBlank<const R extends boolean = false>(base: Common<string, R>): InputDefinition<string, R, string> {
    return make("text", base, nonBlank);
  },
  /** A secret (a signing key): text that is not blank, kept as given, never echoed (see `InputDefinition.secret`). */
  secret<const R extends boolean = false>(base: Common<string, R>): InputDefinition<string, R, string> {
    return { ...make("text", base, secretText), secret: true };
  },
  /** A required Klaviyo id (path parameter). */
  id(base: Common<string>): InputDefinition<string, true, string> {
    return make("text", { ...base, required: true }, idSchema);
  },
  number<const R extends boolean = false>(
    base: Common<number, R>,
    bounds: { min?: number; max?: number; integer?: boolean } = {},
  ): InputDefinition<number, R, number> {
    return make("number", base, numberSchema(bounds));
  },
  boolean<const R extends boolean = false>(base: Common<boolean, R>): InputDefinition<boolean, R, boolean> {
    return make("boolean", base, v.boolean("must be true or false"));
  },
  enum<const O extends string, R extends boolean = false>(
    base: Common<O, R>,
    options: readonly O[],
  ): InputDefinition<O, R, O> {
    const schema = v.picklist(options as unknown as [O, ...O[]], `must be one of ${options.join(", ")}`);
    return make("enum", base, schema as unknown as Schema<O, O>, { options });
  },
  /**
   * A JSON value (an object, an array, …) checked by `schema`; `checks` says in words what it checks that its
   * JSON Schema cannot.
   */
  json<T, const R extends boolean = false, In = unknown>(
    base: Common<T, R>,
    schema: Schema<T, In>,
    checks?: string,
  ): InputDefinition<T, R, In> {
    return make("json", base, schema, checks ? { checks } : undefined);
  },
  /** Key/value pairs of text (headers, query parameters, form fields). */
  keyValue<const R extends boolean = false>(
    base: Common<Array<[string, string]>, R>,
  ): InputDefinition<Array<[string, string]>, R, unknown> {
    return make("key-value", base, keyValueSchema(pairText));
  },
  /** Bytes: a file's content (CLI: `@path`). */
  binary<const R extends boolean = false>(
    base: Common<Uint8Array, R>,
  ): InputDefinition<Uint8Array, R, unknown> {
    return make("binary", base, bytesSchema);
  },
  /**
   * Klaviyo's sparse fieldsets (`fields[account]`): a list of field names, or comma-separated text. Names
   * outside `allowed` are refused before sending, with the list of what is allowed.
   */
  fields(
    base: Common<string[], false>,
    allowed: readonly string[],
    unknownMessage?: (unknown: readonly string[]) => string,
  ): InputDefinition<string[], false, string | string[]> {
    return make("fields", base, namesOf(allowed, unknownMessage), { options: allowed });
  },
  /** A Klaviyo filter for `operationId`: parsed and checked against the fields and operators it allows. */
  filter<const R extends boolean = false>(
    base: Common<string, R>,
    operationId: string,
  ): InputDefinition<string, R, string> {
    const rules = OPERATION_PARAMETERS[operationId]?.filters ?? {};
    const schema = v.pipe(
      v.string("must be text"),
      checkWith((text, ctx) => {
        try {
          checkFilter(parseFilter(text), rules);
        } catch (error) {
          if (error instanceof FilterSyntaxError || error instanceof FilterRuleError) {
            ctx.addIssue({ message: `is not a valid Klaviyo filter: ${error.message}` });
          } else throw error;
        }
      }),
    );
    const fields = Object.keys(rules);
    return make("text", base, schema, {
      checks: `a Klaviyo filter expression, parsed before sending; fields allowed: ${fields.length > 0 ? fields.join(", ") : "none"}`,
    });
  },
};

/** The typed values an action's `perform` receives, inferred from its inputs. */
export type InputValues<I extends Record<string, InputDefinition>> = {
  [K in keyof I]: I[K] extends InputDefinition<infer T, infer R>
    ? R extends true
      ? T
      : T | undefined
    : never;
};

type InputOf<D> = D extends InputDefinition<unknown, boolean, infer In> ? In : never;
type Required<D> = D extends InputDefinition<unknown, infer R, unknown> ? R : false;

/**
 * What a caller gives an action, by input key: each input's accepted value (its JSON form, or bytes); required
 * inputs must be there, optional ones may be left out (or `null`, which leaves them out as well).
 */
export type CallerInputs<I extends Record<string, InputDefinition>> = {
  readonly [K in keyof I as Required<I[K]> extends true ? K : never]: InputOf<I[K]>;
} & {
  readonly [K in keyof I as Required<I[K]> extends true ? never : K]?: InputOf<I[K]> | null;
};
