import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { DEFAULT_REVISION } from "../../src/core/version.js";

/**
 * Klaviyo's official OpenAPI document, the oracle of the contract tests. Read from $KLAVIYO_OPENAPI_SPEC
 * (default ../shared/klaviyo-openapi/stable.json). Where it is absent the contract tests skip and say so,
 * unless REQUIRE_OPENAPI_SPEC=1 (CI), where absence fails the run.
 */
export const OPENAPI_PATH = resolve(
  process.env.KLAVIYO_OPENAPI_SPEC ?? "../shared/klaviyo-openapi/stable.json",
);

/** Where the document comes from, for the skip message: Klaviyo publishes it in its openapi repository. */
const WHERE_TO_GET_IT =
  `Klaviyo publishes it as openapi/stable.json in https://github.com/klaviyo/openapi (revision ${DEFAULT_REVISION}); ` +
  "save it there or set KLAVIYO_OPENAPI_SPEC to its path.";

let cached: unknown;
let warned = false;

export function openApiAvailable(): boolean {
  if (existsSync(OPENAPI_PATH)) return true;
  if (process.env.REQUIRE_OPENAPI_SPEC === "1") {
    throw new Error(`REQUIRE_OPENAPI_SPEC=1 but Klaviyo's OpenAPI document is not at ${OPENAPI_PATH}`);
  }
  if (!warned) {
    console.warn(
      `Klaviyo's OpenAPI document is not at ${OPENAPI_PATH}: contract checks skipped. ${WHERE_TO_GET_IT}`,
    );
    warned = true;
  }
  return false;
}

export function loadOpenApi<T = unknown>(): T {
  cached ??= JSON.parse(readFileSync(OPENAPI_PATH, "utf8"));
  return cached as T;
}
