import { z } from "../core/schema.js";
import { checkFilter, FilterRuleError, FilterSyntaxError, parseFilter } from "../klaviyo/filter.js";
import { E164, EMAIL, idProblem } from "../klaviyo/identifiers.js";
import { OPERATION_PARAMETERS } from "../klaviyo/operations.js";
import { inputValueProblem } from "./input-guard.js";

/** How an input is entered and rendered: by a form, a CLI flag, a platform's input type. */
export type InputType = "text" | "number" | "boolean" | "enum" | "json" | "fields" | "key-value" | "binary";

/** A JSON Schema (draft 2020-12), as the manifest publishes it for each input. */
export type JsonSchema = Record<string, unknown>;

/** One input of an action: the data that drives validation, the manifest, CLI flags and help. */
export interface InputDefinition<T = unknown, R extends boolean = boolean> {
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
  /** Parses a raw value (from code, JSON or a CLI flag) into the typed value; its messages name no label. */
  readonly schema: z.Schema<T>;
  /** What a caller may give, for the manifest and for platforms that render their own forms. */
  readonly jsonSchema: JsonSchema;
  /** For `enum` and `fields` inputs: the allowed values. */
  readonly options?: readonly string[];
  /** An example value for help text. */
  readonly example?: string;
}

type Common<T, R extends boolean = boolean> = {
  key: string;
  label: string;
  comments: string;
  required?: R;
  default?: T;
  example?: string;
};

function make<T, R extends boolean>(
  type: InputType,
  base: Common<T, R>,
  schema: z.Schema<T>,
  jsonSchema: JsonSchema,
  extra?: { options?: readonly string[] },
): InputDefinition<T, R> {
  return { ...base, type, required: (base.required ?? false) as R, schema, jsonSchema, ...extra };
}

/** A Klaviyo ID (see `idProblem`), surrounding whitespace trimmed. */
export const idSchema = z
  .string({ error: "must be text" })
  .trim()
  .superRefine((id, ctx) => {
    const problem = idProblem(id);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
  });

const CURRENCY = /^[A-Z]{3}$/;
/** ISO 8601 date-time with a zone, or a date (Klaviyo reads a date as midnight UTC). */
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** The text formats the connector checks before sending. */
/**
 * The text formats as plain tests of trimmed text: what `textFormats` accepts, without a parse's allocations,
 * for the checks that run on every event of an ingestion.
 */
export const formatTests = {
  email: (text: string): boolean => EMAIL.test(text),
  phone: (text: string): boolean => E164.test(text),
  currency: (text: string): boolean => CURRENCY.test(text),
  datetime: (text: string): boolean => ISO_DATETIME.test(text) && !Number.isNaN(Date.parse(text)),
} as const;

export const textFormats = {
  email: z
    .string({ error: "must be text" })
    .trim()
    .regex(EMAIL, { error: "is not an email address (name@example.com)" }),
  phone: z.string({ error: "must be text" }).trim().regex(E164, {
    error:
      "must be a phone number in E.164 format: + then country code and number, digits only (+15005550006)",
  }),
  currency: z
    .string({ error: "must be text" })
    .trim()
    .regex(CURRENCY, { error: "must be an ISO 4217 currency code: three capital letters (USD, EUR)" }),
  datetime: z.string({ error: "must be text" }).trim().refine(formatTests.datetime, {
    error: "must be an ISO 8601 date-time such as 2026-07-15T12:00:00Z",
  }),
  url: z
    .string({ error: "must be text" })
    .trim()
    .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), {
      error: "must be an http(s) URL",
    }),
} as const;

/**
 * What `schema` finds wrong in `value`, one line per member: `condition_groups[0].conditions[1].type: …`. For
 * the structured documents (segment definitions, template definitions) an input passes on whole.
 */
export function documentProblems(schema: z.Schema<unknown>, value: unknown): string[] {
  const result = schema.safeParse(value);
  if (result.success) return [];
  return result.error.issues.map((issue) => {
    const at = issue.path
      .map((step, i) => (typeof step === "number" ? `[${step}]` : `${i > 0 ? "." : ""}${String(step)}`))
      .join("");
    const message =
      issue.code === "unrecognized_keys"
        ? `unknown member${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`
        : issue.message;
    return at ? `${at}: ${message}` : message;
  });
}

/** Where in `text` a JSON parse failed, as "position N (line L, column C)". */
function jsonErrorPosition(text: string, message: string): string {
  let position = Number(/position (\d+)/.exec(message)?.[1] ?? Number.NaN);
  if (Number.isNaN(position)) {
    const token = /Unexpected token '(.)'/.exec(message)?.[1];
    position = token === undefined ? text.length : Math.max(0, text.indexOf(token));
  }
  const before = text.slice(0, position);
  const line = before.split("\n").length;
  const column = position - before.lastIndexOf("\n");
  return `position ${position} (line ${line}, column ${column})`;
}

/** Accepts a value or its JSON text; a parse error says where. */
function jsonValue<T>(shape: "object" | "array" | "any", inner?: z.Schema<T>): z.Schema<T> {
  const shapeName = shape === "object" ? "a JSON object" : shape === "array" ? "a JSON array" : "JSON";
  return z
    .unknown()
    .transform((raw, ctx) => {
      let value = raw;
      if (typeof raw === "string") {
        const text = raw.trim();
        try {
          value = JSON.parse(text);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          ctx.addIssue({
            code: "custom",
            message: `is not valid JSON: error at ${jsonErrorPosition(text, message)}`,
          });
          return z.NEVER;
        }
        // What the text held, before any inner check walks it (JSON text can nest far deeper than a stack).
        const unfit = inputValueProblem(value);
        if (unfit !== undefined) {
          ctx.addIssue({ code: "custom", message: unfit });
          return z.NEVER;
        }
      }
      const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
      if ((shape === "object" && !isObject) || (shape === "array" && !Array.isArray(value))) {
        ctx.addIssue({ code: "custom", message: `must be ${shapeName}` });
        return z.NEVER;
      }
      return value;
    })
    .pipe((inner ?? z.unknown()) as z.Schema<T>);
}

/**
 * Walks the pairs of a key/value input — an object, `[{key, value}]`, `["k=v", "K: v"]`, `[[k, v]]`, or JSON
 * text of any of these — calling `add` for each and `fail` for what is not a pair.
 */
export function pairsOf(
  raw: unknown,
  add: (key: unknown, value: unknown) => void,
  fail: (message: string) => void,
): void {
  let value = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch {
      value = [raw];
    }
  }
  if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item === "string") {
        const m = /^([^=:]+?)\s*[=:]\s*(.*)$/s.exec(item);
        if (m) add(m[1]?.trim(), m[2]);
        else fail(`"${item.slice(0, 40)}" is not "key=value" or "Key: value"`);
      } else if (Array.isArray(item)) add(item[0], item[1]);
      else if (item && typeof item === "object" && !(item instanceof Uint8Array))
        add((item as { key?: unknown }).key, (item as { value?: unknown }).value);
      else fail("entries must be key/value pairs");
    }
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) add(k, v);
  } else {
    fail("must be key/value pairs: an object, or a list of key=value");
  }
}

/** Text pairs, keys not empty. */
const keyValueSchema = z.unknown().transform((raw, ctx) => {
  const out: Array<[string, string]> = [];
  const fail = (message: string) => ctx.addIssue({ code: "custom", message });
  pairsOf(
    raw,
    (k, v) => {
      if (typeof k !== "string" || k === "") fail("every entry needs a non-empty key");
      else out.push([k, v === undefined || v === null ? "" : String(v)]);
    },
    fail,
  );
  return out;
});

/** Bytes from a Uint8Array/Buffer, an ArrayBuffer, or base64 text (data URIs too). */
const binarySchema = z.unknown().transform((raw, ctx) => {
  if (raw instanceof Uint8Array) return raw;
  if (raw instanceof ArrayBuffer) return new Uint8Array(raw);
  if (typeof raw === "string") {
    const base64 = raw.startsWith("data:") ? raw.slice(raw.indexOf(",") + 1) : raw;
    if (/^[A-Za-z0-9+/=\s_-]+$/.test(base64)) return new Uint8Array(Buffer.from(base64, "base64"));
  }
  ctx.addIssue({ code: "custom", message: "must be bytes (a Buffer or Uint8Array) or base64 text" });
  return z.NEVER;
});

const numberFrom = (options: { min?: number; max?: number; integer?: boolean }) => {
  let n = z.coerce
    .number({ error: "must be a number" })
    .refine(Number.isFinite, { error: "must be a finite number" });
  if (options.integer) n = n.refine(Number.isInteger, { error: "must be a whole number" });
  if (options.min !== undefined) {
    const min = options.min;
    n = n.refine((v) => v >= min, { error: `must be at least ${min}` });
  }
  if (options.max !== undefined) {
    const max = options.max;
    n = n.refine((v) => v <= max, { error: `must be at most ${max}` });
  }
  return z
    .union([z.number(), z.string().trim().min(1, { error: "must be a number" })], {
      error: "must be a number",
    })
    .pipe(n);
};

const booleanFrom = z
  .union([z.boolean(), z.enum(["true", "false", "1", "0", "yes", "no"])], { error: "must be true or false" })
  .transform((v) => v === true || v === "true" || v === "1" || v === "yes");

export const input = {
  /** Plain text, or text of a checked format (email, E.164 phone, ISO 4217 currency, ISO 8601 time, URL). */
  text<R extends boolean = false>(
    base: Common<string, R>,
    format?: keyof typeof textFormats,
  ): InputDefinition<string, R> {
    const schema = format ? textFormats[format] : z.string({ error: "must be text" });
    const formats: Record<string, string> = { email: "email", datetime: "date-time", url: "uri" };
    const jsonFormat = format ? formats[format] : undefined;
    return make("text", base, schema, { type: "string", ...(jsonFormat ? { format: jsonFormat } : {}) });
  },
  /** A required Klaviyo id (path parameter). */
  id(base: Common<string>): InputDefinition<string, true> {
    return make("text", { ...base, required: true }, idSchema, { type: "string", minLength: 1 });
  },
  number<R extends boolean = false>(
    base: Common<number, R>,
    bounds: { min?: number; max?: number; integer?: boolean } = {},
  ): InputDefinition<number, R> {
    return make("number", base, numberFrom(bounds), {
      type: bounds.integer ? "integer" : "number",
      ...(bounds.min !== undefined ? { minimum: bounds.min } : {}),
      ...(bounds.max !== undefined ? { maximum: bounds.max } : {}),
    });
  },
  boolean<R extends boolean = false>(base: Common<boolean, R>): InputDefinition<boolean, R> {
    return make("boolean", base, booleanFrom, { type: "boolean" });
  },
  enum<const O extends string, R extends boolean = false>(
    base: Common<O, R>,
    options: readonly O[],
  ): InputDefinition<O, R> {
    const schema = z.enum(options, { error: `must be one of ${options.join(", ")}` });
    return make("enum", base, schema, { type: "string", enum: [...options] }, { options });
  },
  /** A JSON object or array, given as a value or as JSON text; `inner` checks what it holds. */
  json<T = unknown, R extends boolean = false>(
    base: Common<T, R>,
    shape: "object" | "array" | "any",
    inner?: z.Schema<T>,
  ): InputDefinition<T, R> {
    const jsonSchema: JsonSchema = shape === "any" ? {} : { type: shape };
    return make("json", base, jsonValue(shape, inner), jsonSchema);
  },
  /** Key/value pairs (headers, query parameters, form fields). */
  keyValue<R extends boolean = false>(
    base: Common<Array<[string, string]>, R>,
  ): InputDefinition<Array<[string, string]>, R> {
    return make("key-value", base, keyValueSchema, {
      type: "object",
      additionalProperties: { type: "string" },
    });
  },
  /** Bytes: a file's content (CLI: `@path`). */
  binary<R extends boolean = false>(base: Common<Uint8Array, R>): InputDefinition<Uint8Array, R> {
    return make("binary", base, binarySchema, {
      type: "string",
      contentEncoding: "base64",
    });
  },
  /**
   * Klaviyo's sparse fieldsets (`fields[account]`): a list of field names, or comma-separated text. Names
   * outside `allowed` are refused before sending, with the list of what is allowed.
   */
  fields(base: Common<string[], false>, allowed: readonly string[]): InputDefinition<string[], false> {
    const names = z
      .union([z.string(), z.array(z.string())], {
        error: "must be a list of field names or comma-separated text",
      })
      .transform((v) =>
        (Array.isArray(v) ? v : v.split(",")).map((s) => s.trim()).filter((s) => s.length > 0),
      )
      .superRefine((list, ctx) => {
        const unknown = list.filter((name) => !allowed.includes(name));
        if (unknown.length > 0) {
          ctx.addIssue({
            code: "custom",
            message: `unknown field${unknown.length > 1 ? "s" : ""} ${unknown.map((u) => `"${u}"`).join(", ")}; allowed: ${allowed.join(", ")}`,
          });
        }
      });
    return make(
      "fields",
      base,
      names,
      { type: "array", items: { type: "string", enum: [...allowed] } },
      { options: allowed },
    );
  },
  /** A Klaviyo filter for `operationId`: parsed and checked against the fields and operators it allows. */
  filter<R extends boolean = false>(
    base: Common<string, R>,
    operationId: string,
  ): InputDefinition<string, R> {
    const rules = OPERATION_PARAMETERS[operationId]?.filters ?? {};
    const schema = z.string({ error: "must be text" }).superRefine((text, ctx) => {
      try {
        checkFilter(parseFilter(text), rules);
      } catch (error) {
        if (error instanceof FilterSyntaxError || error instanceof FilterRuleError) {
          ctx.addIssue({ code: "custom", message: `is not a valid Klaviyo filter: ${error.message}` });
        } else throw error;
      }
    });
    return make("text", base, schema, { type: "string" });
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
