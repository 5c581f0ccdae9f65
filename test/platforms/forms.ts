/**
 * What the platforms hand a step, made from the library values of the demo's tour: Prismatic delivers text for
 * most inputs (JSON as the text of a code input, numbers and booleans as text), `[{ key, value }]` for key/value
 * lists, a list for value lists and a data payload for files; Activepieces delivers typed values (a parsed JSON
 * value, a number, a boolean, an object for key/value, an `ApFile`). The tests run every step through each
 * platform's own harness on those values, so the adapters are tested on what the platforms really send.
 */
import { ApFile, createMockActionContext } from "@activepieces/pieces-framework";
import { expect } from "vitest";
import type { AnyAction } from "../../src/actions/define.js";
import { getAction } from "../../src/actions/index.js";
import type { InputDefinition } from "../../src/actions/inputs.js";
import { type Step, type TourState, tour } from "../../src/cli/commands/demo-tour.js";
import { createEmulator } from "../../src/emulator/index.js";
import type { klaviyo } from "../../src/platforms/activepieces.js";
import { checkedFetch } from "../helpers/contract.js";

export const CLIENT_ID = "platform-app";
export const CLIENT_SECRET = "cs_platform_secret_0123456789abcdef";
export const PLATFORM_KEY = "pk_platform_test_key_0123456789abcdef";

/** An emulator that knows a private key and an OAuth app, with every request held against the OpenAPI document. */
export function platformEmulator(options: { seed?: "demo" } = {}) {
  const emulator = createEmulator({
    rateLimits: "off",
    ...options,
    apiKeys: [{ key: PLATFORM_KEY }],
    oauthClients: [
      { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: ["https://app.example/cb"] },
    ],
  });
  const sent: string[] = [];
  const schemes: string[] = [];
  const checked = checkedFetch(emulator.fetch);
  return {
    emulator,
    /** `METHOD path` of every request sent, in order. */
    sent,
    /** The scheme of each request's Authorization (`Bearer`, `Klaviyo-API-Key`, `none`), in order. */
    schemes,
    client: {
      baseUrl: emulator.baseUrl,
      rateLimiter: false as const,
      fetch: (input: string | URL | Request, init?: RequestInit) => {
        const url = new URL(input instanceof Request ? input.url : input);
        sent.push(`${init?.method ?? "GET"} ${url.pathname}`);
        const authorization = new Headers(init?.headers).get("authorization");
        schemes.push(authorization?.split(" ")[0] ?? "none");
        return checked(input, init);
      },
    },
  };
}

function pairs(value: unknown): Array<[string, unknown]> {
  return Array.isArray(value) ? (value as Array<[string, unknown]>) : Object.entries(value as object);
}

/** A library value as Prismatic delivers it to `perform` (see the module's comment). */
export function prismaticValue(def: InputDefinition, value: unknown): unknown {
  switch (def.type) {
    case "json":
      return JSON.stringify(value);
    case "key-value":
      return pairs(value).map(([key, v]) => ({ key, value: v }));
    case "fields":
      return Array.isArray(value) ? value : String(value).split(",");
    case "binary":
      return { data: Buffer.from(value as Uint8Array), contentType: "image/png" };
    default:
      return String(value);
  }
}

/** A library value as Activepieces delivers it in `propsValue` (see the module's comment). */
export function activepiecesValue(def: InputDefinition, value: unknown): unknown {
  switch (def.type) {
    case "number":
      return Number(value);
    case "key-value":
      return Object.fromEntries(pairs(value));
    case "fields":
      return Array.isArray(value) ? value : String(value).split(",");
    case "binary":
      return new ApFile("dot.png", Buffer.from(value as Uint8Array), "png");
    default:
      return value;
  }
}

/** The values of a step for a platform, by input key. */
export function formOf(
  action: AnyAction,
  inputs: Record<string, unknown>,
  convert: (def: InputDefinition, value: unknown) => unknown,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(inputs)) {
    const def = Object.values(action.inputs).find((d) => d.key === key);
    if (!def) throw new Error(`${action.key} has no input ${key}`);
    if (value !== undefined) out[key] = convert(def, value);
  }
  return out;
}

/** The demo's tour (every action, each step using what an earlier one made), plus the inputs it leaves out. */
export function platformTour(run: string): Step[] {
  const steps = tour(run);
  const extra: Step[] = [
    {
      action: "raw-request",
      note: "headers, query and a retry setting",
      inputs: () => ({
        url: "/api/lists",
        method: "GET",
        header: { "X-Trace": "platform" },
        queryParameter: { "fields[list]": "name" },
        maxRetryCount: 1,
        useExponentialBackoff: true,
      }),
    },
    {
      action: "list-profile",
      note: "value list and dropdown",
      inputs: () => ({ fields: ["email", "first_name"], sort: "-created", pageSize: 3 }),
    },
  ];
  const at = steps.findIndex((s) => s.action === "delete-campaign");
  return [...steps.slice(0, at), ...extra, ...steps.slice(at)];
}

export function actionOf(key: string): AnyAction {
  const action = getAction(key);
  if (!action) throw new Error(`no action ${key}`);
  return action;
}

type Prop = { displayName: string; defaultValue?: unknown; required: boolean; type: string };

/** Runs one action as the engine would: defaults from the props filled in, then `run` with the given auth. */
export async function runPieceAction(
  piece: typeof klaviyo,
  name: string,
  auth: unknown,
  values: Record<string, unknown>,
): Promise<unknown> {
  const action = piece.getAction(name);
  if (!action) throw new Error(`the piece has no action ${name}`);
  const propsValue: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(action.props as Record<string, Prop>)) {
    const value = values[key] ?? prop.defaultValue;
    if (value !== undefined) propsValue[key] = value;
  }
  const context = { ...createMockActionContext({ propsValue }), auth };
  return action.run(context as never);
}

/** The error a promise rejects with (the test fails if it resolves, or rejects with something else). */
export async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

export type { Step, TourState };
