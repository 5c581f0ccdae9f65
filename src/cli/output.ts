import { ApiError, InputValidationError, KlaviyoError } from "../core/errors.js";
import { redact } from "../core/redact.js";

/** Exit codes: 0 success, 1 the API or the network failed, 2 the command line or an input was wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Prints an error for a person: one line, secrets scrubbed, and the exit code it deserves. */
export function reportError(error: unknown, io: Io, secrets: readonly string[] = []): number {
  if (error instanceof InputValidationError) {
    io.stderr(`error: ${redact(error.message, secrets)}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof ApiError || error instanceof KlaviyoError) {
    io.stderr(`error: ${redact(error.message, secrets)}\n`);
    return EXIT_FAILURE;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr(`error: ${redact(message, secrets)}\n`);
  return EXIT_FAILURE;
}
