import { z } from "zod";

/** How an input is entered and rendered: by a form, a CLI flag, a platform's input type. */
export type InputType = "text" | "number" | "boolean" | "enum" | "json" | "fields" | "key-value" | "binary";

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
  readonly schema: z.ZodType<T>;
  /** For `enum` inputs: the allowed values. */
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
  schema: z.ZodType<T>,
  extra?: { options?: readonly string[] },
): InputDefinition<T, R> {
  return { ...base, type, required: (base.required ?? false) as R, schema, ...extra };
}

/** Klaviyo ids are opaque, but never empty and never contain a slash or whitespace. */
export const idSchema = z
  .string({ error: "must be text" })
  .trim()
  .min(1, { error: "must not be empty" })
  .regex(/^[^\s/?#]+$/, { error: "must not contain spaces, slashes, ? or #" });

export const input = {
  text<R extends boolean = false>(
    base: Common<string, R>,
    schema: z.ZodType<string> = z.string({ error: "must be text" }),
  ): InputDefinition<string, R> {
    return make("text", base, schema);
  },
  /** A required Klaviyo id (path parameter). */
  id(base: Common<string>): InputDefinition<string, true> {
    return make("text", { ...base, required: true }, idSchema);
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
    return make("fields", base, names as unknown as z.ZodType<string[]>, { options: allowed });
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
