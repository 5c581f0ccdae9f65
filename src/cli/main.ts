import { Command, CommanderError } from "commander";
import { redact } from "../core/redact.js";
import { PACKAGE_VERSION } from "../core/version.js";
import { closeSharedStores } from "../redis/shared.js";
import { ENV } from "./env.js";
import { EXIT_OK, EXIT_USAGE, type Io, processIo } from "./output.js";

type SetExit = (code: number) => void;

/**
 * The commands, each loaded only when it runs: `klaviyo --help` or `klaviyo emulator` need not load the
 * actions' definitions, and the library's users never load the CLI.
 */
const COMMANDS: ReadonlyArray<{
  names: readonly string[];
  usage: readonly string[];
  description: string;
  register(program: Command, io: Io, setExit: SetExit): Promise<void>;
}> = [
  {
    names: ["actions", "describe", "manifest"],
    usage: ["actions", "describe <action>", "manifest"],
    description: "",
    async register(program, io, setExit) {
      (await import("./commands/run.js")).registerActionsCommand(program, io, setExit);
    },
  },
  {
    names: ["run"],
    usage: ["run"],
    description:
      "run an action against Klaviyo (or the emulator): klaviyo run <action> --help for its inputs",
    async register(program, io, setExit) {
      (await import("./commands/run.js")).registerRunCommand(program, io, setExit);
    },
  },
  {
    names: ["request"],
    usage: ["request <method> <path>"],
    description: "send any request to Klaviyo's API (the Raw Request action): prints the response body",
    async register(program, io, setExit) {
      (await import("./commands/request.js")).registerRequestCommand(program, io, setExit);
    },
  },
  {
    names: ["ingest"],
    usage: ["ingest"],
    description:
      "stream a large NDJSON or JSON array file into Klaviyo: ingest events|subscribe|unsubscribe <file|->",
    async register(program, io, setExit) {
      (await import("./commands/ingest.js")).registerIngestCommand(program, io, setExit);
    },
  },
  {
    names: ["changes"],
    usage: ["changes <stream>"],
    description:
      "print each change of a stream (profiles, events, list-members, …) since a checkpoint as JSON lines; --follow keeps polling",
    async register(program, io, setExit) {
      (await import("./commands/changes.js")).registerChangesCommand(program, io, setExit);
    },
  },
  {
    names: ["sync"],
    usage: ["sync <streams...>"],
    description:
      "keep one NDJSON file per stream up to date in a directory (upserts by ID; snapshots with deletions for metrics and tags)",
    async register(program, io, setExit) {
      (await import("./commands/sync.js")).registerSyncCommand(program, io, setExit);
    },
  },
  {
    names: ["listen"],
    usage: ["listen"],
    description:
      "forward webhook deliveries, signed, to a local handler (--forward-to URL), from the emulator or Klaviyo's change feed",
    async register(program, io, setExit) {
      (await import("./commands/listen.js")).registerListenCommand(program, io, setExit);
    },
  },
  {
    names: ["emulator"],
    usage: ["emulator"],
    description: "serve a local Klaviyo emulator until interrupted (SIGINT or SIGTERM)",
    async register(program) {
      (await import("./commands/emulator.js")).registerEmulatorCommand(program);
    },
  },
  {
    names: ["ui"],
    usage: ["ui"],
    description:
      "serve the playground: a web page on 127.0.0.1 to run every action and inspect the emulator (SIGINT stops)",
    async register(program, io, setExit) {
      (await import("./commands/ui.js")).registerUiCommand(program, io, setExit);
    },
  },
  {
    names: ["auth"],
    usage: ["auth"],
    description: "connect with OAuth 2.0 (PKCE) instead of an API key: login, status, logout",
    async register(program, io, setExit) {
      (await import("./commands/auth.js")).registerAuthCommand(program, io, setExit);
    },
  },
  {
    names: ["demo"],
    usage: ["demo"],
    description: "run every action once against the embedded emulator (or --base-url with --api-key)",
    async register(program, io, setExit) {
      (await import("./commands/demo.js")).registerDemoCommand(program, io, setExit);
    },
  },
];

const STUB_DESCRIPTIONS: Readonly<Record<string, string>> = {
  actions: "list every action, one line each",
  "describe <action>": "an action's inputs: label, flag, type, default, description, and an example",
  manifest: "print the machine-readable manifest: every connection and action with its inputs (JSON)",
};

/** The secrets a command line carries: the values of --api-key and --client-secret, and their variables. */
function argvSecrets(argv: readonly string[]): string[] {
  const secrets = [process.env[ENV.apiKey], process.env[ENV.clientSecret]];
  argv.forEach((arg, i) => {
    const m = /^--(?:api-key|client-secret)(?:=(.*))?$/s.exec(arg);
    if (m) secrets.push(m[1] ?? argv[i + 1]);
  });
  return secrets.filter((s): s is string => typeof s === "string" && s.length > 0);
}

/**
 * Commander's usage errors quote what was typed: `unknown option '--api-kye=pk_…'` would print a key given to a
 * misspelt flag. The value of an unknown `--flag=value` is masked, and any secret of the command line redacted.
 */
function scrubUsageError(text: string, argv: readonly string[]): string {
  return redact(text.replace(/(unknown option '[^'=]*=)[^']*'/g, "$1…'"), argvSecrets(argv));
}

/** Builds the `klaviyo` program for `argv`, loading only the command it names. */
export async function buildProgram(
  argv: readonly string[],
  io: Io = processIo,
  setExit: SetExit = () => {},
): Promise<Command> {
  const program = new Command("klaviyo")
    .description(
      "Klaviyo from the command line: run actions, send requests, start the local emulator, take the demo tour",
    )
    .version(PACKAGE_VERSION)
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      outputError: (text, write) => write(scrubUsageError(text, argv)),
    })
    .exitOverride()
    .showHelpAfterError("(klaviyo --help lists the commands)")
    .addHelpText(
      "after",
      `
Exit codes: 0 success, 1 API or network error, 2 bad usage or input, 3 authentication (no key or login, or
Klaviyo refused it).
Credentials: --api-key, $KLAVIYO_API_KEY, or the OAuth login of klaviyo auth login (never printed). Server:
--base-url, $KLAVIYO_BASE_URL, or https://a.klaviyo.com. For the emulator, set both to what it prints:
KLAVIYO_BASE_URL=http://127.0.0.1:PORT and KLAVIYO_API_KEY=pk_emulator_dev_0000000000000000000000.

Examples:
  $ klaviyo demo
  $ klaviyo emulator --seed demo
  $ klaviyo run list-lists --format table
  $ klaviyo request GET /api/accounts
  $ klaviyo changes profiles --since 2026-01-01 --state profiles.json`,
    );
  const args = argv.slice(2);
  const first = args[0] === "help" ? args[1] : args[0];
  for (const command of COMMANDS) {
    if (first !== undefined && command.names.includes(first)) {
      await command.register(program, io, setExit);
      continue;
    }
    for (const usage of command.usage) {
      const stub = program.command(usage).description(command.description || STUB_DESCRIPTIONS[usage] || "");
      stub.allowUnknownOption().allowExcessArguments();
    }
  }
  hintHelp(program);
  return program;
}

/**
 * After a usage error, the help that lists what the command takes: `klaviyo run get-list --help` after a
 * misspelt flag of `run get-list`, rather than the list of commands. Commands inherit the hint they were made
 * with, so each is given its own here, once every command is registered.
 */
function hintHelp(program: Command): void {
  const visit = (command: Command, path: string[]) => {
    for (const sub of command.commands) {
      const subPath = [...path, sub.name()];
      const name = `klaviyo ${subPath.join(" ")}`;
      const lists =
        sub.commands.length > 0
          ? subPath[0] === "run"
            ? "the actions"
            : "its commands"
          : subPath[0] === "run"
            ? "its flags"
            : "its options";
      sub.showHelpAfterError(`(${name} --help lists ${lists})`);
      visit(sub, subPath);
    }
  };
  visit(program, []);
}

/** Runs the CLI and resolves to the process exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  let code = EXIT_OK;
  const program = await buildProgram(argv, io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    throw error;
  } finally {
    // A Redis connection (KLAVIYO_REDIS_URL) would keep the process alive after the command.
    await closeSharedStores();
  }
  return code;
}
