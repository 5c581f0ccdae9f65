import { afterEach } from "vitest";
import {
  DEV_API_KEY,
  type Emulator,
  type RunningEmulator,
  type StartOptions,
  startEmulator,
} from "../../src/emulator/index.js";
import { SPEC_REVISION } from "../../src/klaviyo/operations.js";
import { checkedFetch } from "../helpers/contract.js";

export interface KlaviyoErrorEntry {
  id: string;
  status: number;
  code: string;
  title: string;
  detail: string;
  source: { pointer?: string; parameter?: string };
  links: Record<string, string>;
  meta: Record<string, unknown>;
}

/** The headers a well-behaved client sends. */
export function klaviyoHeaders(
  key: string = DEV_API_KEY,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    Authorization: `Klaviyo-API-Key ${key}`,
    revision: SPEC_REVISION,
    Accept: "application/vnd.api+json",
    ...extra,
  };
}

/**
 * A GET through the emulator's in-process fetch. Its answer is held against the OpenAPI document (the request
 * is not: these tests send malformed ones on purpose).
 */
export function get(emulator: Emulator, path: string, headers: Record<string, string> = klaviyoHeaders()) {
  return checkedFetch(emulator.fetch, { requests: false })(`${emulator.baseUrl}${path}`, { headers });
}

/** The single error of a Klaviyo error document, after checking the document's shape and media type. */
export async function onlyError(res: Response): Promise<KlaviyoErrorEntry> {
  if (res.headers.get("content-type") !== "application/vnd.api+json") {
    throw new Error(`expected application/vnd.api+json, got ${res.headers.get("content-type")}`);
  }
  const body = (await res.json()) as { errors?: KlaviyoErrorEntry[] };
  if (!Array.isArray(body.errors) || body.errors.length !== 1)
    throw new Error(`not one error: ${JSON.stringify(body)}`);
  const error = body.errors[0] as KlaviyoErrorEntry;
  if (error.status !== res.status) throw new Error(`errors[0].status ${error.status} != HTTP ${res.status}`);
  if (!/^[0-9a-f-]{36}$/.test(error.id)) throw new Error(`errors[0].id is not a UUID: ${error.id}`);
  for (const member of ["code", "title", "detail"] as const) {
    if (typeof error[member] !== "string" || error[member] === "")
      throw new Error(`errors[0].${member} missing`);
  }
  if (typeof error.source !== "object" || typeof error.links !== "object" || typeof error.meta !== "object") {
    throw new Error(`errors[0] lacks source/links/meta: ${JSON.stringify(error)}`);
  }
  return error;
}

/**
 * Emulators on free loopback ports, each closed when its test ends: the function returned starts one with
 * `defaults` and the options it is given over them.
 */
export function servedEmulators(
  defaults: StartOptions = {},
): (options?: StartOptions) => Promise<RunningEmulator> {
  const running: RunningEmulator[] = [];
  afterEach(async () => {
    for (const r of running.splice(0)) await r.close();
  });
  return async (options = {}) => {
    const r = await startEmulator({ ...defaults, ...options });
    running.push(r);
    return r;
  };
}
