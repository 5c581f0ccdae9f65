import type { KlaviyoClient, KlaviyoResponse, RequestOptions } from "../core/client.js";
import { type InputIssue, InputValidationError } from "../core/errors.js";
import { expandPath, type QueryInput } from "../core/url.js";
import type { OperationId, OperationPathParams, OperationResponse } from "../klaviyo/api.js";
import { getOperation } from "../klaviyo/operations.js";
import { issueLines, parse } from "../klaviyo/schema.js";
import { inputValueProblem } from "../klaviyo/value-guard.js";
import type { InputDefinition, InputValues } from "./inputs.js";

/** Where a list action sends every item of every page instead of gathering one page (the CLI's `--all`). */
export interface ListStream {
  /** Called with each page's items as the page arrives; the walk waits for it. */
  readonly sink: (items: readonly unknown[]) => void | Promise<void>;
  /**
   * Walk the collection in time partitions at once (`partitionedPages`) where the endpoint can filter by creation
   * time: every item still exactly once, in constant memory, but not in the collection's order.
   */
  readonly partitions?: { readonly partitions?: number; readonly concurrency?: number };
}

/** What an action's own operation takes, bound: the path parameters, and the query, body or form it sends. */
export interface BoundInput<Op extends OperationId> {
  readonly path?: OperationPathParams<Op>;
  readonly query?: QueryInput;
  readonly body?: unknown;
  readonly form?: FormData;
  /** The request may be repeated without duplicating work (an event with a `unique_id`). */
  readonly idempotent?: boolean;
}

/** What `perform` is handed besides its inputs. */
export interface ActionContext<Op extends OperationId = OperationId> {
  readonly client: KlaviyoClient;
  readonly signal?: AbortSignal;
  /** Set when the caller streams a list action's items (see `ListStream`); list actions honour it. */
  readonly stream?: ListStream;
  /**
   * The request of the action's own operation: its method, path template (each parameter one segment), rate tier
   * and the caller's signal, with the answer typed as Klaviyo's document types it.
   */
  send(input?: BoundInput<Op>): Promise<KlaviyoResponse<OperationResponse<Op>>>;
  /** The same request as options, for `listOutput` and the pagers. */
  requestOf(input?: BoundInput<Op>): RequestOptions;
}

/**
 * An action is data plus a `perform` function (spectral's model). The same definition drives validation, the
 * manifest, the library call, the CLI, the playground and the platforms.
 */
export interface ActionDefinition<
  K extends string = string,
  I extends Record<string, InputDefinition> = Record<string, InputDefinition>,
  O = unknown,
  Op extends OperationId = OperationId,
> {
  /** The label in kebab case: `get-account`. */
  readonly key: K;
  /** The specification's label, kept exactly: `Get Account`. */
  readonly label: string;
  readonly description: string;
  /** The Klaviyo operation it calls (`get_account`): its rate tier, scopes and `send`. */
  readonly operation?: Op;
  /**
   * Other operations it may call besides its own (a job it polls, identifiers it resolves): their scopes join the
   * connection's default set.
   */
  readonly alsoCalls?: readonly OperationId[];
  readonly inputs: I;
  perform(context: ActionContext<Op>, inputs: InputValues<I>): Promise<O>;
}

/** Typed identity: infers the key, the operation, the inputs `perform` receives and what it returns. */
export function defineAction<
  const K extends string,
  I extends Record<string, InputDefinition>,
  O,
  const Op extends OperationId = OperationId,
>(definition: ActionDefinition<K, I, O, Op>): ActionDefinition<K, I, O, Op> {
  return definition;
}

/** A type-erased action, as registries and the CLI hold them. */
// biome-ignore lint/suspicious/noExplicitAny: every action's perform takes the values validateInputs made for it
export type AnyAction = ActionDefinition<string, Record<string, InputDefinition>, unknown, any>;

/** The context an action runs in: its client, the caller's signal and stream, its operation bound. */
export function actionContext(
  action: AnyAction,
  client: KlaviyoClient,
  options: { signal?: AbortSignal | undefined; stream?: ListStream | undefined } = {},
): ActionContext {
  const requestOf = (input: BoundInput<OperationId> = {}): RequestOptions => {
    if (!action.operation) throw new Error(`internal: ${action.label} has no operation to send`);
    const operation = getOperation(action.operation);
    return {
      method: operation.method,
      path: expandPath(operation.path, (input.path ?? {}) as Readonly<Record<string, string>>),
      operation,
      ...(input.query ? { query: input.query } : {}),
      ...(input.body !== undefined ? { body: input.body } : {}),
      ...(input.form ? { form: input.form } : {}),
      ...(input.idempotent ? { idempotent: true } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    };
  };
  return {
    client,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.stream ? { stream: options.stream } : {}),
    requestOf,
    send: (input) => client.request(requestOf(input)),
  };
}

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
  text?: boolean | undefined;
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
  const definitions = Object.values(action.inputs);
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
      issues.push({ label: def.label, key: def.key, message: issueLines(parsed.error.issues).join("; ") });
  }
  if (issues.length > 0) throw new InputValidationError(issues, action.label);
  return values;
}
