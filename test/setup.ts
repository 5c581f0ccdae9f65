import { afterEach } from "vitest";
import { CLIENT_ENV } from "../src/core/env.js";
import { expectNoContractProblems } from "./helpers/contract-problems.js";

// A client with no key or base URL reads them from the environment: the tests never take them from the shell
// they run in (a developer's real key, an emulator left running). Tests of those defaults set them themselves.
for (const name of Object.values(CLIENT_ENV)) delete process.env[name];

// Every exchange a test routes through `checkedFetch` is held against Klaviyo's OpenAPI document; a test whose
// requests or responses break the contract fails, whether or not it checks itself.
afterEach(() => {
  expectNoContractProblems();
});
