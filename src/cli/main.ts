import { Command, CommanderError } from "commander";
import { PACKAGE_VERSION } from "../core/version.js";
import { registerAuthCommand } from "./commands/auth.js";
import { registerDemoCommand } from "./commands/demo.js";
import { registerEmulatorCommand } from "./commands/emulator.js";
import { registerActionsCommand, registerRunCommand } from "./commands/run.js";
import { EXIT_OK, EXIT_USAGE, type Io, processIo } from "./output.js";

/** Builds the `klaviyo` program. Exit codes: 0 ok, 1 API or network failure, 2 bad usage or input. */
export function buildProgram(io: Io = processIo, setExit: (code: number) => void = () => {}): Command {
  const program = new Command("klaviyo")
    .description("Klaviyo from the command line: run actions, start the local emulator, take the demo tour")
    .version(PACKAGE_VERSION)
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride()
    .showHelpAfterError();
  registerActionsCommand(program, io);
  registerRunCommand(program, io, setExit);
  registerEmulatorCommand(program);
  registerAuthCommand(program, io, setExit);
  registerDemoCommand(program, io, setExit);
  return program;
}

/** Runs the CLI and resolves to the process exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  let code = EXIT_OK;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    throw error;
  }
  return code;
}
