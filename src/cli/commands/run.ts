import { readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { type AnyAction, validateInputs } from "../../actions/define.js";
import { actions } from "../../actions/index.js";
import type { InputDefinition } from "../../actions/inputs.js";
import { manifest } from "../../actions/manifest.js";
import { InputValidationError } from "../../core/errors.js";
import { addConnectionOptions, type ConnectionFlags, clientFromFlags } from "../connection.js";
import { EXIT_OK, type Io, reportError } from "../output.js";

/** `accountId` → `account-id`: the CLI flag of an input key. */
export function flagOf(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `@path` reads a file (bytes for binary inputs, text otherwise); `-` reads standard input. */
function readArgument(value: string, binary: boolean, stdin: () => Buffer): unknown {
  if (value === "-") return binary ? new Uint8Array(stdin()) : stdin().toString("utf8");
  if (value.startsWith("@")) {
    const bytes = readFileSync(value.slice(1));
    return binary ? new Uint8Array(bytes) : bytes.toString("utf8");
  }
  return value;
}

function optionFor(def: InputDefinition): Option {
  const flag = `--${flagOf(def.key)}`;
  const help = `${def.label}: ${def.comments}`;
  switch (def.type) {
    case "boolean":
      return new Option(`${flag} [true|false]`, help);
    case "key-value":
      return new Option(`${flag} <key=value>`, `${help} (repeatable)`).argParser(
        (value: string, previous: string[] = []) => [...previous, value],
      );
    case "binary":
      return new Option(`${flag} <@path|base64>`, help);
    case "json":
      return new Option(`${flag} <json|@file>`, help);
    default:
      return new Option(`${flag} <value>`, help);
  }
}

/** The raw inputs of one CLI invocation: `--inputs` JSON first, then each flag over it. */
export function inputsFromFlags(
  action: AnyAction,
  flags: Record<string, unknown>,
  stdin: () => Buffer = () => readFileSync(0),
): Record<string, unknown> {
  let raw: Record<string, unknown> = {};
  if (typeof flags.inputs === "string") {
    const text = String(readArgument(flags.inputs === "-" ? "-" : `@${flags.inputs}`, false, stdin));
    try {
      raw = JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
      throw new InputValidationError([
        { label: "--inputs", key: "inputs", message: `is not a JSON object: ${(error as Error).message}` },
      ]);
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw new InputValidationError([
        { label: "--inputs", key: "inputs", message: "must be a JSON object" },
      ]);
    }
  }
  for (const def of Object.values(action.inputs)) {
    const value = flags[def.key];
    if (value === undefined) continue;
    const binaryValues =
      (def.jsonSchema.additionalProperties as { contentEncoding?: string } | undefined)?.contentEncoding ===
      "base64";
    if (def.type === "boolean") raw[def.key] = value === true ? true : value;
    else if (def.type === "key-value" && binaryValues && Array.isArray(value)) {
      // `--file-data file=@logo.png`: the CLI reads the file (the library never reads local files itself).
      raw[def.key] = value.map((pair: string) => {
        const m = /^([^=]+)=@(.+)$/s.exec(pair);
        return m ? `${m[1]}=${readFileSync(m[2] as string).toString("base64")}` : pair;
      });
    } else if (typeof value === "string") raw[def.key] = readArgument(value, def.type === "binary", stdin);
    else raw[def.key] = value;
  }
  return raw;
}

/** Bytes in an output are written as base64, so the output stays JSON. */
function printable(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) =>
      v instanceof Uint8Array ? { base64: Buffer.from(v).toString("base64") } : v,
    ),
  );
}

/** `klaviyo run <action> --<input> VALUE…`: one subcommand per action, its flags generated from the inputs. */
export function registerRunCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  const run = program.command("run").description("run an action against Klaviyo (or the emulator)");
  for (const action of actions) {
    const sub = run.command(action.key).description(`${action.label}: ${action.description}`);
    for (const def of Object.values(action.inputs)) sub.addOption(optionFor(def));
    sub.option("--inputs <file|->", "the inputs as a JSON object, from a file or standard input (-)");
    addConnectionOptions(sub);
    sub.action(async (flags: Record<string, unknown> & ConnectionFlags) => {
      try {
        const values = validateInputs(action, inputsFromFlags(action, flags));
        const client = clientFromFlags(flags);
        const output = await action.perform({ client }, values);
        io.stdout(`${JSON.stringify(printable(output), null, 2)}\n`);
        setExit(EXIT_OK);
      } catch (error) {
        setExit(reportError(error, io, flags.apiKey ? [flags.apiKey] : []));
      }
    });
  }
}

/** `klaviyo actions`: every action, one line each. */
export function registerActionsCommand(program: Command, io: Io): void {
  program
    .command("actions")
    .description("list every action")
    .action(() => {
      const width = Math.max(...actions.map((a) => a.key.length));
      for (const a of actions) io.stdout(`${a.key.padEnd(width)}  ${a.label}\n`);
    });
  program
    .command("manifest")
    .description("print the machine-readable manifest: every connection and action with its inputs (JSON)")
    .action(() => {
      io.stdout(`${JSON.stringify(manifest(), null, 2)}\n`);
    });
}
