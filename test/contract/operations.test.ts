import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildOperationsSource, type SpecDocument } from "../../scripts/operations-source.js";
import { loadOpenApi, openApiAvailable } from "../helpers/openapi.js";

describe.skipIf(!openApiAvailable())("operation table against Klaviyo's OpenAPI document", () => {
  it("src/klaviyo/operations.generated.ts is exactly what the document gives (run npm run gen:operations)", () => {
    const committed = readFileSync(
      new URL("../../src/klaviyo/operations.generated.ts", import.meta.url),
      "utf8",
    );
    expect(committed).toBe(buildOperationsSource(loadOpenApi<SpecDocument>()));
  });
  it("covers every operation of the document, with its rate limits", () => {
    const spec = loadOpenApi<SpecDocument>();
    let count = 0;
    for (const item of Object.values(spec.paths)) {
      for (const method of ["get", "post", "patch", "put", "delete"]) if (item[method]) count++;
    }
    expect(count).toBe(345);
    const committed = readFileSync(
      new URL("../../src/klaviyo/operations.generated.ts", import.meta.url),
      "utf8",
    );
    expect(committed.match(/^ {2}\["/gm)?.length).toBe(count);
  });
});
