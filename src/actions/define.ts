import type { KlaviyoClient } from "../core/client.js";
import { type InputIssue, InputValidationError } from "../core/errors.js";
import { issueLines, parse } from "../klaviyo/schema.js";
import { inputValueProblem } from "../klaviyo/value-guard.js";
import type { InputDefinition, InputValues } from "./inputs.js";

/** What `perform` is handed besides its inputs. */
export interface ActionContext {
  readonly client: KlaviyoClient;
  readonly signal?: AbortSignal;
}

/**
 * An action is data plus a `perform` function (spectral's model). The same definition drives validation, the
 * manifest, the library call and the CLI.
 */
export interface ActionDefinition<
  I extends Record<string, InputDefinition> = Record<string, InputDefinition>,
  O = unknown,
> {
  /** The label in kebab case: `get-account`. */
  readonly key: string;
  /** The specification's label, kept exactly: `Get Account`. */
  readonly label: string;
  readonly description: string;
  /** The Klaviyo operation it calls (`get_account`), for its rate tier and scopes. */
  readonly operation?: string;
  readonly inputs: I;
  perform(context: ActionContext, inputs: InputValues<I>): Promise<O>;
}

/** Typed identity: infers the input values `perform` receives from the inputs declared. */
export function defineAction<I extends Record<string, InputDefinition>, O>(
  definition: ActionDefinition<I, O>,
): ActionDefinition<I, O> {
  return definition;
}

/** A type-erased action, as registries and the CLI hold them. */
export type AnyAction = ActionDefinition<Record<string, InputDefinition>, unknown>;

const NUMBER_TEXT = /^\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\s*$/;
const TRUE_TEXT = /^\s*(?:true|yes|1)\s*$/i;
const FALSE_TEXT = /^\s*(?:false|no|0)\s*$/i;

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

/**
 * The value an input's text form stands for: what a CLI flag, a platform's text field or a form holds. Numbers
 * and booleans (`true`, `false`, `yes`, `no`, `1`, `0`) are read from their text, JSON inputs from JSON text,
 * key/value inputs from JSON text or one `key=value`; anything else stays text, for the input's schema to judge.
 * Returns a message when JSON text does not parse (and the input takes no plain text either).
 */
export function fromText(def: InputDefinition, text: string): { value: unknown } | { problem: string } {
  switch (def.type) {
    case "number":
      return { value: NUMBER_TEXT.test(text) ? Number(text) : text };
    case "boolean":
      return { value: TRUE_TEXT.test(text) ? true : FALSE_TEXT.test(text) ? false : text };
    case "key-value":
      try {
        const value: unknown = JSON.parse(text);
        if (typeof value === "object" && value !== null) return { value };
      } catch {
        // One `key=value`, not JSON.
      }
      return { value: [text] };
    case "json": {
      const trimmed = text.trim();
      try {
        return { value: JSON.parse(trimmed) };
      } catch (error) {
        // Some JSON inputs take plain text too (an event's profile as a bare email address).
        if (parse(def.schema, text).success) return { value: text };
        const message = error instanceof Error ? error.message : String(error);
        return { problem: `is not valid JSON: error at ${jsonErrorPosition(trimmed, message)}` };
      }
    }
    default:
      return { value: text };
  }
}

export interface ValidateOptions {
  /**
   * Values may be given in their text forms (`fromText`): a CLI's flags, a platform's text fields. Without it
   * every value is taken as the JSON value (or bytes) it is.
   */
  text?: boolean;
}

/**
 * Checks raw inputs against an action's definitions and returns typed values, defaults applied. Every problem
 * is collected (not just the first) and reported by label, before anything is sent.
 */
export function validateInputs(
  action: AnyAction,
  raw: Readonly<Record<string, unknown>>,
  options: ValidateOptions = {},
): Record<string, unknown> {
  const issues: InputIssue[] = [];
  const values: Record<string, unknown> = {};
  const definitions = Object.values(action.inputs as Record<string, InputDefinition>);
  const known = new Set(definitions.map((d) => d.key));
  for (const name of Object.keys(raw)) {
    if (!known.has(name) && raw[name] !== undefined) {
      issues.push({
        label: name,
        key: name,
        message: `is not an input of ${action.label}; known: ${[...known].join(", ")}`,
      });
    }
  }
  for (const def of definitions) {
    let value = raw[def.key];
    if (value === undefined || value === null || value === "") value = def.default;
    if (value === undefined) {
      if (def.required) issues.push({ label: def.label, key: def.key, message: "is required" });
      continue;
    }
    if (options.text && typeof value === "string" && def.type !== "text" && def.type !== "enum") {
      const read = fromText(def, value);
      if ("problem" in read) {
        issues.push({ label: def.label, key: def.key, message: read.problem });
        continue;
      }
      value = read.value;
    }
    // Before the input's own schema (which may recurse into it), and again on what it made of the value.
    const unfit = inputValueProblem(value);
    const parsed = unfit === undefined ? parse(def.schema, value) : undefined;
    const problem = unfit ?? (parsed?.success ? inputValueProblem(parsed.data) : undefined);
    if (problem !== undefined) issues.push({ label: def.label, key: def.key, message: problem });
    else if (parsed?.success) values[def.key] = parsed.data;
    else if (parsed)
      issues.push({
        label: def.label,
        key: def.key,
        message: issueLines(parsed.error.issues).join("; "),
      });
  }
  if (issues.length > 0) throw new InputValidationError(issues, action.label);
  return values;
}
