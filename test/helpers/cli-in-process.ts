import { main } from "../../src/cli/main.js";

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `klaviyo …` in this process (no terminal on either stream), collecting its output and exit code. */
export async function runInProcess(args: readonly string[]): Promise<InProcessResult> {
  let stdout = "";
  let stderr = "";
  const code = await main(["node", "klaviyo", ...args], {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    stdoutIsTerminal: false,
    stderrIsTerminal: false,
  });
  return { code, stdout, stderr };
}
