import { expect } from "vitest";
import { actionContext, validateInputs } from "../../src/actions/define.js";
import { getAction, runActionByKey } from "../../src/actions/index.js";
import { KlaviyoClient } from "../../src/core/client.js";
import { InputValidationError } from "../../src/core/errors.js";
import { createEmulator, type EmulatorOptions } from "../../src/emulator/index.js";
import { checkedFetch } from "../helpers/contract.js";

export const ACTION_KEY = "pk_actions_test_key_0123456789abcdef";

/**
 * An emulator and a client for action tests. Every request an action sends, and every answer, is held against
 * Klaviyo's OpenAPI document (`checkedFetch`; the global afterEach fails the test on a violation).
 */
export function actionsSetup(options: EmulatorOptions = {}) {
  const emulator = createEmulator({ apiKeys: [{ key: ACTION_KEY }], rateLimits: "off", ...options });
  const sent: Request[] = [];
  const checked = checkedFetch(emulator.fetch);
  const client = new KlaviyoClient({
    apiKey: ACTION_KEY,
    baseUrl: emulator.baseUrl,
    rateLimiter: false,
    fetch: (input, init) => {
      sent.push(new Request(input, init));
      return checked(input, init);
    },
  });
  return {
    emulator,
    client,
    /** Requests the client sent, in order (to check that a bad input sent nothing). */
    sent,
    /** Through the library: every value its JSON value (or bytes). */
    run: <T = unknown>(key: string, inputs: Record<string, unknown> = {}) =>
      runActionByKey(key, inputs, { client }) as Promise<T>,
    /** As the CLI and the platforms' text fields give them: values in their text forms (JSON text, "true", "10"). */
    runText: async <T = unknown>(key: string, inputs: Record<string, unknown> = {}): Promise<T> => {
      const action = getAction(key);
      if (!action) throw new Error(`no action ${key}`);
      return (await action.perform(
        actionContext(action, client),
        validateInputs(action, inputs, { text: true }),
      )) as T;
    },
  };
}

/** Awaits a promise that must fail with an `InputValidationError`, and returns the error. */
export async function refused(promise: Promise<unknown>): Promise<InputValidationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputValidationError);
  return error as InputValidationError;
}

/** The JSON body of a request the client sent. */
export async function bodyOf(request: Request | undefined): Promise<Record<string, unknown>> {
  expect(request).toBeDefined();
  return (await (request as Request).clone().json()) as Record<string, unknown>;
}
