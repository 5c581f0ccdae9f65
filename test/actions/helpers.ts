import { expect } from "vitest";
import { runAction } from "../../src/actions/index.js";
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
    run: <T = unknown>(key: string, inputs: Record<string, unknown> = {}) =>
      runAction(key, inputs, { client }) as Promise<T>,
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
