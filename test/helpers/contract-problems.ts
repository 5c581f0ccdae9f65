/**
 * What `checkedFetch` found wrong, kept apart from the validator (which loads ajv) so that the global
 * `afterEach` in test/setup.ts can check it in every test file at no cost.
 */
export const contractProblems: string[] = [];

/** Throws, listing every problem recorded since the last check, and starts afresh. */
export function expectNoContractProblems(): void {
  const problems = contractProblems.splice(0);
  if (problems.length > 0) {
    throw new Error(`${problems.length} contract problem(s):\n${problems.map((p) => `  ${p}`).join("\n")}`);
  }
}
