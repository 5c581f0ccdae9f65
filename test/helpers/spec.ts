import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  DEFAULT_SPEC_PATH,
  parseSpec as parseSpecText,
  SPEC_FACTS_PATH,
  type Spec,
} from "../../scripts/spec-facts.js";

export type { Spec, SpecInput, SpecSection } from "../../scripts/spec-facts.js";
export { SPEC_FACTS_PATH };

/** The connector's specification, the contract for labels and defaults. */
export const SPEC_PATH = resolve(process.env.KLAVIYO_CONNECTOR_SPEC ?? DEFAULT_SPEC_PATH);

let warned = false;

/**
 * Whether the specification's text is there. Absent, the test says so and skips, unless REQUIRE_OPENAPI_SPEC=1 (CI),
 * where its absence fails the run. Tests that only need its facts read `specFacts()`, which is always there.
 */
export function specAvailable(): boolean {
  if (existsSync(SPEC_PATH)) return true;
  if (process.env.REQUIRE_OPENAPI_SPEC === "1")
    throw new Error(`REQUIRE_OPENAPI_SPEC=1 but the connector specification is not at ${SPEC_PATH}`);
  if (!warned) {
    console.warn(
      `The connector specification is not at ${SPEC_PATH}: checks against its text skipped (set KLAVIYO_CONNECTOR_SPEC); test/fixtures/spec-facts.json stands in for it`,
    );
    warned = true;
  }
  return false;
}

/** The specification's tables, read from its text (see scripts/spec-facts.ts). */
export function parseSpec(text = readFileSync(SPEC_PATH, "utf8")): Spec {
  return parseSpecText(text);
}

let facts: Spec | undefined;

/** The specification's facts as committed in test/fixtures/spec-facts.json (`npm run gen:spec-facts`). */
export function specFacts(): Spec {
  facts ??= (() => {
    const { connections, actions } = JSON.parse(readFileSync(SPEC_FACTS_PATH, "utf8")) as Spec;
    return { connections, actions };
  })();
  return facts;
}
