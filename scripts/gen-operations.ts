import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { buildOperationsSource, type SpecDocument } from "./operations-source.js";

const specPath = resolve(process.env.KLAVIYO_OPENAPI_SPEC ?? "../shared/klaviyo-openapi/stable.json");
const spec = JSON.parse(readFileSync(specPath, "utf8")) as SpecDocument;
const out = resolve("src/klaviyo/operations.generated.ts");
writeFileSync(out, buildOperationsSource(spec));
console.log(`wrote ${out}`);
