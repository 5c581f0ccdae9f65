import { afterEach } from "vitest";
import { expectNoContractProblems } from "./helpers/contract-problems.js";

// Every exchange a test routes through `checkedFetch` is held against Klaviyo's OpenAPI document; a test whose
// requests or responses break the contract fails, whether or not it checks itself.
afterEach(() => {
  expectNoContractProblems();
});
