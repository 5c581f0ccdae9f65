import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";

/**
 * Klaviyo's official OpenAPI document, the oracle of the contract tests. Read from $KLAVIYO_OPENAPI_SPEC
 * (default ../shared/klaviyo-openapi/stable.json). Where it is absent the contract tests skip and say so,
 * unless REQUIRE_OPENAPI_SPEC=1 (CI), where absence fails the run.
 */
export const OPENAPI_PATH = resolve(
  process.env.KLAVIYO_OPENAPI_SPEC ?? "../shared/klaviyo-openapi/stable.json",
);

let cached: unknown;
let warned = false;

export function openApiAvailable(): boolean {
  if (existsSync(OPENAPI_PATH)) return true;
  if (process.env.REQUIRE_OPENAPI_SPEC === "1") {
    throw new Error(`REQUIRE_OPENAPI_SPEC=1 but Klaviyo's OpenAPI document is not at ${OPENAPI_PATH}`);
  }
  if (!warned) {
    console.warn(
      `Klaviyo's OpenAPI document is not at ${OPENAPI_PATH}: contract checks skipped (set KLAVIYO_OPENAPI_SPEC)`,
    );
    warned = true;
  }
  return false;
}

export function loadOpenApi<T = unknown>(): T {
  cached ??= JSON.parse(readFileSync(OPENAPI_PATH, "utf8"));
  return cached as T;
}
