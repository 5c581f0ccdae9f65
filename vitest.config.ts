import { configDefaults, defineConfig } from "vitest/config";

/**
 * The test layers. Every `test/**\/*.test.ts` file belongs to exactly one of them (`test/layers.test.ts` checks it,
 * so a new file that matches no layer, or two, fails the unit run instead of running nowhere or twice).
 *
 * - unit: pure code. No emulator, no socket, no child process, no build output: seconds. The inner loop.
 * - integration: actions and the transport against the emulator in-process (`app.fetch`) or over loopback in the
 *   same process, plain HTTP servers on port 0, the official SDK against the emulator, contract tests that hold
 *   exchanges against Klaviyo's OpenAPI document.
 * - e2e: anything that spawns a process (the CLI, `npm pack`, Redis, Chromium, worker processes) or checks the built
 *   package in dist/ (its declarations, its bundles).
 *
 * A file goes to the highest layer anything in it needs (files are not split: a file with one CLI test is e2e).
 * Patterns are either a folder (`test/<folder>/**\/*.test.ts`) or one file's path, so the membership test can
 * match them exactly as Vitest does.
 */
export const layers = {
  unit: {
    include: [
      "test/klaviyo/**/*.test.ts",
      "test/ui/**/*.test.ts",
      "test/architecture.test.ts",
      "test/layers.test.ts",
      "test/actions/framework.test.ts",
      "test/auth/pkce-store.test.ts",
      "test/cli/streaming-heap.test.ts",
      "test/contract/api-types.test.ts",
      "test/contract/operations.test.ts",
      "test/contract/spec-labels.test.ts",
      "test/core/latency.test.ts",
      "test/core/pure.test.ts",
      "test/core/retry.test.ts",
      "test/emulator/fields.test.ts",
      "test/emulator/filter-eval.test.ts",
      "test/emulator/latency.test.ts",
      "test/webhooks/verify.property.test.ts",
    ],
    exclude: [],
  },
  integration: {
    include: [
      "test/actions/**/*.test.ts",
      "test/emulator/**/*.test.ts",
      "test/feed/**/*.test.ts",
      "test/platforms/**/*.test.ts",
      "test/sdk/**/*.test.ts",
      "test/webhooks/handlers.test.ts",
      "test/auth/oauth-flow.test.ts",
      "test/contract/emulator-contract.test.ts",
      "test/core/operation-call.test.ts",
      "test/cli/flags.test.ts",
      "test/core/rate-store.test.ts",
      "test/core/transport.test.ts",
      "test/reliability/action-inputs.property.test.ts",
      "test/reliability/manifest-agreement.property.test.ts",
      "test/reliability/path-segments.property.test.ts",
      "test/reliability/emulator-hostile.test.ts",
      "test/reliability/emulator-hostile-events.test.ts",
      "test/reliability/emulator-hostile-queries.test.ts",
      "test/reliability/faults.test.ts",
    ],
    exclude: [
      "test/actions/framework.test.ts",
      "test/emulator/cli.test.ts",
      "test/emulator/fields.test.ts",
      "test/emulator/filter-eval.test.ts",
      "test/emulator/latency.test.ts",
    ],
  },
  e2e: {
    include: [
      "test/browser/**/*.test.ts",
      "test/cli/**/*.test.ts",
      "test/playground/**/*.test.ts",
      "test/redis/**/*.test.ts",
      "test/security/**/*.test.ts",
      "test/contract/build-swap.test.ts",
      "test/contract/bundle.test.ts",
      "test/contract/package.test.ts",
      "test/contract/platform-pack.test.ts",
      "test/contract/readme.test.ts",
      "test/core/partition.test.ts",
      "test/emulator/cli.test.ts",
      "test/reliability/data-file-crash.test.ts",
      "test/reliability/load.test.ts",
    ],
    exclude: ["test/cli/streaming-heap.test.ts", "test/cli/flags.test.ts"],
  },
} satisfies Record<string, { include: string[]; exclude: string[] }>;

export type Layer = keyof typeof layers;

export default defineConfig({
  test: {
    projects: (Object.keys(layers) as Layer[]).map((name) => ({
      test: {
        name,
        include: layers[name].include,
        exclude: [...configDefaults.exclude, ...layers[name].exclude],
        setupFiles: ["test/setup.ts"],
        testTimeout: 20_000,
        pool: "forks" as const,
      },
    })),
  },
});
