/**
 * What a consumer of the published package sees: the declarations left in dist/ after the build prunes the
 * internal ones (scripts/prune-declarations.mjs) must be complete, so a consumer's program type-checks against
 * them with skipLibCheck off, through both entry points.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { requireBuild } from "../helpers/cli.js";

const dist = fileURLToPath(new URL("../../dist/", import.meta.url));

describe("the published declarations", () => {
  it("are complete after pruning, and typed by action: a consumer type-checks against dist with skipLibCheck off, its wrong calls refused", () => {
    requireBuild();
    const dir = mkdtempSync(join(tmpdir(), "klaviyo-consumer-"));
    try {
      const file = join(dir, "consumer.ts");
      writeFileSync(
        file,
        `import { KlaviyoClient, runAction, actions, manifest, ingestEvents, filter, type Page } from ${JSON.stringify(`${dist}index.js`)};
import { createEmulator, startEmulator } from ${JSON.stringify(`${dist}emulator/index.js`)};
const emulator = createEmulator({ rateLimits: "off", seed: "demo" });
const client = new KlaviyoClient({ apiKey: "pk_x", baseUrl: emulator.baseUrl, fetch: emulator.fetch });
export async function use(): Promise<number> {
  const out = await runAction("get-account", { accountId: "AbC123" }, { client });
  // Klaviyo's document types a list's name as optional and nullable in its answers; so does ours, never unknown.
  const name: string | null | undefined = (await runAction("get-list", { listId: "Y6nRLr" }, { client })).data
    .attributes.name;
  // @ts-expect-error a wrong input type
  await runAction("get-list", { listId: "Y6nRLr", includeProfileCount: "yes" }, { client });
  // @ts-expect-error an unknown action
  await runAction("get-lists-please", {}, { client });
  // @ts-expect-error a missing required input
  await runAction("get-list", {}, { client });
  // @ts-expect-error a list's name is text, not a number
  const notANumber: number = (await runAction("get-list", { listId: "Y6nRLr" }, { client })).data.attributes.name;
  const page: Page<unknown> | undefined = undefined;
  const server = await startEmulator({ port: 0 });
  await server.close();
  const result = await ingestEvents(client, [], {});
  return actions.length + manifest().actions.length + result.total + String(out).length + String(page).length +
    String(name).length + notANumber +
    String(filter.equals("email", "a@example.com")).length;
}
`,
      );
      // Once as most projects compile today, once with no @types loaded unless named (TypeScript 6 and later).
      for (const types of [["node"], []]) {
        const program = ts.createProgram([file], {
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          module: ts.ModuleKind.NodeNext,
          moduleResolution: ts.ModuleResolutionKind.NodeNext,
          target: ts.ScriptTarget.ES2022,
          lib: ["lib.es2023.d.ts"],
          types,
          typeRoots: [fileURLToPath(new URL("../../node_modules/@types", import.meta.url))],
        });
        const problems = ts
          .getPreEmitDiagnostics(program)
          .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
        expect(problems, `types: ${JSON.stringify(types)}`).toEqual([]);
        // The declarations were in fact pruned: an internal module's are gone, the entry points' are there.
        expect(program.getSourceFiles().some((f) => f.fileName.endsWith("dist/index.d.ts"))).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
