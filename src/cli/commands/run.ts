import { type Command, Option } from "commander";
import { validateInputs } from "../../actions/define.js";
import { actions } from "../../actions/index.js";
import { addConnectionOptions, type ConnectionFlags, clientFromFlags } from "../connection.js";
import { EXIT_OK, type Io, reportError } from "../output.js";

/** `analyticsId` → `analytics-id`: the CLI flag of an input key. */
export function flagOf(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `klaviyo run <action> --<input> VALUE…`: one subcommand per action, its flags generated from the inputs. */
export function registerRunCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  const run = program.command("run").description("run an action against Klaviyo (or the emulator)");
  for (const action of actions) {
    const sub = run.command(action.key).description(`${action.label}: ${action.description}`);
    for (const def of Object.values(action.inputs)) {
      const option = new Option(`--${flagOf(def.key)} <value>`, `${def.label}: ${def.comments}`);
      if (def.required) option.makeOptionMandatory(false);
      sub.addOption(option);
    }
    addConnectionOptions(sub);
    sub.action(async (flags: Record<string, string | undefined> & ConnectionFlags) => {
      const raw: Record<string, unknown> = {};
      for (const def of Object.values(action.inputs))
        if (flags[def.key] !== undefined) raw[def.key] = flags[def.key];
      try {
        const values = validateInputs(action, raw);
        const client = clientFromFlags(flags);
        const output = await action.perform({ client }, values);
        io.stdout(`${JSON.stringify(output, null, 2)}\n`);
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
}
