/**
 * An ID is one path segment, for every action with an ID input: whatever the ID, the action either refuses it by
 * label before anything is sent, or sends its own operation with the ID, exactly as given (trimmed), as the one
 * path parameter (`.`, `..`, `a/b`, `a?x=1` and encoded dots can never address another path).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type AnyAction, actionContext, validateInputs } from "../../src/actions/define.js";
import { actions } from "../../src/actions/index.js";
import { type InputDefinition, idSchema } from "../../src/actions/inputs.js";
import { KlaviyoClient } from "../../src/core/client.js";
import { InputValidationError } from "../../src/core/errors.js";
import { createEmulator } from "../../src/emulator/index.js";
import { getOperation, matchOperation } from "../../src/klaviyo/operations.js";

const KEY = "pk_path_segments_0123456789abcdef";
const RUNS = Number(process.env.PATH_SEGMENT_RUNS ?? 120);
const SEED = Number(process.env.PATH_SEGMENT_SEED ?? 20260715);

const HOSTILE = [
  "",
  " ",
  ".",
  "..",
  " .. ",
  "...",
  "a/b",
  "../x",
  "./",
  "a?x=1",
  "?",
  "a#b",
  "#",
  "%2e%2e",
  "%2E%2E",
  ".%2e",
  "%2e.",
  "a%2Fb",
  "..%2f",
  "%252e%252e",
  "a\\b",
  "\\..",
  "a b",
  "\t",
  "%00",
  "a%",
  "Y6nRLr",
  "é",
  "🙂",
];

const idArbitrary = fc.oneof(
  fc.constantFrom(...HOSTILE),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 8 }),
  fc
    .array(fc.constantFrom(".", "/", "%", "2", "e", "E", "f", "?", "#", "\\", "a", " "), { maxLength: 8 })
    .map((parts) => parts.join("")),
);

/**
 * Values for the other inputs: the required ones' examples, as the CLI would give them, and for an update (which
 * needs something to change) its first optional text input's example.
 */
function otherInputs(action: AnyAction, idKey: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const defs = (Object.values(action.inputs) as InputDefinition[]).filter((d) => d.key !== idKey);
  for (const def of defs) if (def.required && def.example !== undefined) out[def.key] = def.example;
  const change = defs.find((d) => !d.required && d.type === "text" && d.example !== undefined);
  if (action.key.startsWith("update-") && change) out[change.key] = change.example;
  // Adding or removing members needs profiles, by ID or by email: neither input is required on its own.
  const members = defs.find((d) => d.key === "profileIds");
  if (action.key.endsWith("-list") && members?.example !== undefined) out[members.key] = members.example;
  return out;
}

const withIds = actions.flatMap((action) =>
  (Object.values(action.inputs) as InputDefinition[])
    .filter(
      (def) =>
        def.schema === idSchema && action.operation && getOperation(action.operation).path.includes("{id}"),
    )
    .map((def) => [`${action.key} / ${def.label}`, action, def] as const),
);

describe("an ID never leaves its path segment", () => {
  it("covers every action whose operation takes an ID in its path: each has an ID input", () => {
    const byPath = actions.filter((a) => a.operation && getOperation(a.operation).path.includes("{id}"));
    expect(withIds.map(([, action]) => action.key).sort()).toEqual(byPath.map((a) => a.key).sort());
  });

  it.each(withIds)("%s", async (_, action, def) => {
    const emulator = createEmulator({ apiKeys: [{ key: KEY }], rateLimits: "off" });
    const sent: Array<{ method: string; url: string }> = [];
    const client = new KlaviyoClient({
      apiKey: KEY,
      baseUrl: emulator.baseUrl,
      rateLimiter: false,
      retry: { maxRetries: 0 },
      fetch: (input, init) => {
        const request = new Request(input, init);
        sent.push({ method: request.method, url: request.url });
        return emulator.fetch(request);
      },
    });
    const others = otherInputs(action, def.key);
    let refused = 0;
    let reached = 0;
    await fc.assert(
      fc.asyncProperty(idArbitrary, async (id) => {
        sent.length = 0;
        let error: unknown;
        try {
          const values = validateInputs(action, { ...others, [def.key]: id }, { text: true });
          await action.perform(actionContext(action, client), values);
        } catch (caught) {
          error = caught;
        }
        if (error instanceof InputValidationError && sent.length === 0) {
          refused++;
          return;
        }
        expect(sent.length, `${JSON.stringify(id)}: ${String(error)}`).toBeGreaterThan(0);
        for (const { method, url } of sent) {
          const { pathname } = new URL(url);
          const match = matchOperation(method, pathname);
          expect(match?.operation.id, `${JSON.stringify(id)} → ${method} ${pathname}`).toBe(action.operation);
          expect(match?.params.id, `${JSON.stringify(id)} → ${pathname}`).toBe(id.trim());
        }
        reached++;
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // The generator reaches both sides: refusals, and IDs sent in their segment.
    expect(refused).toBeGreaterThan(0);
    expect(reached).toBeGreaterThan(0);
  });
});
