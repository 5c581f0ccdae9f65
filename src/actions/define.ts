import type { KlaviyoClient } from "../core/client.js";
import { type InputIssue, InputValidationError } from "../core/errors.js";
import { inputValueProblem } from "./input-guard.js";
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

/**
 * Checks raw inputs against an action's definitions and returns typed values, defaults applied. Every problem
 * is collected (not just the first) and reported by label, before anything is sent.
 */
export function validateInputs(
  action: AnyAction,
  raw: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const issues: InputIssue[] = [];
  const values: Record<string, unknown> = {};
  const known = new Set(Object.values(action.inputs).map((d) => d.key));
  for (const name of Object.keys(raw)) {
    if (!known.has(name) && raw[name] !== undefined) {
      issues.push({
        label: name,
        key: name,
        message: `is not an input of ${action.label}; known: ${[...known].join(", ")}`,
      });
    }
  }
  for (const def of Object.values(action.inputs)) {
    let value = raw[def.key];
    if (value === undefined || value === null || value === "") value = def.default;
    if (value === undefined) {
      if (def.required) issues.push({ label: def.label, key: def.key, message: "is required" });
      continue;
    }
    // Before the input's own schema (which may recurse into it), and again on what it made of JSON text.
    const unfit = inputValueProblem(value);
    const parsed = unfit === undefined ? def.schema.safeParse(value) : undefined;
    const problem = unfit ?? (parsed?.success ? inputValueProblem(parsed.data) : undefined);
    if (problem !== undefined) issues.push({ label: def.label, key: def.key, message: problem });
    else if (parsed?.success) values[def.key] = parsed.data;
    else if (parsed)
      issues.push({
        label: def.label,
        key: def.key,
        message: parsed.error.issues.map((i) => i.message).join("; "),
      });
  }
  if (issues.length > 0) throw new InputValidationError(issues, action.label);
  return values;
}
