import { readFileSync } from "node:fs";
import type { OpenAPI3 } from "openapi-typescript";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { buildApiTypesSource } from "../../scripts/gen-api-types.js";
import { allOperations } from "../../src/klaviyo/operations.js";
import { loadOpenApi, openApiAvailable } from "../helpers/openapi.js";

const GENERATED = new URL("../../src/klaviyo/api.generated.ts", import.meta.url);
const METHODS = ["get", "post", "patch", "put", "delete"] as const;

/** The member names of an interface of the committed file, and of its `components.schemas`, read by TypeScript. */
function generatedMembers(): { operations: string[]; schemas: string[] } {
  const file = ts.createSourceFile(
    "api.generated.ts",
    readFileSync(GENERATED, "utf8"),
    ts.ScriptTarget.ES2022,
  );
  const names = (members: ts.NodeArray<ts.TypeElement>) =>
    members.map((m) =>
      m.name && (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name)) ? m.name.text : "?",
    );
  let operations: string[] = [];
  let schemas: string[] = [];
  for (const statement of file.statements) {
    if (!ts.isInterfaceDeclaration(statement)) continue;
    if (statement.name.text === "operations") operations = names(statement.members);
    if (statement.name.text === "components") {
      const member = statement.members.find(
        (m) => m.name && ts.isIdentifier(m.name) && m.name.text === "schemas",
      );
      if (member && ts.isPropertySignature(member) && member.type && ts.isTypeLiteralNode(member.type))
        schemas = names(member.type.members);
    }
  }
  return { operations, schemas };
}

describe("the generated API types", () => {
  it("name exactly the operations of the operation table (OperationId is the table's ids)", () => {
    const table = [...allOperations()].map((op) => op.id).sort();
    expect(table.length).toBeGreaterThan(300);
    expect(generatedMembers().operations.sort()).toEqual(table);
  });
});

describe.skipIf(!openApiAvailable())("the generated API types against Klaviyo's OpenAPI document", () => {
  it("src/klaviyo/api.generated.ts is exactly what the document gives (run npm run gen:types)", async () => {
    const committed = readFileSync(GENERATED, "utf8");
    expect(committed).toBe(await buildApiTypesSource(loadOpenApi<OpenAPI3>()));
  });

  it("keep every operation and every schema of the document", () => {
    const spec = loadOpenApi<{ paths: Record<string, Record<string, { operationId?: string }>> }>();
    const ids = Object.values(spec.paths).flatMap((item) =>
      METHODS.flatMap((m) => (item[m]?.operationId ? [item[m].operationId] : [])),
    );
    const schemas = Object.keys(loadOpenApi<{ components: { schemas: object } }>().components.schemas);
    const generated = generatedMembers();
    expect(generated.operations.sort()).toEqual(ids.sort());
    expect(generated.schemas.sort()).toEqual(schemas.sort());
  });

  it("the operations without security are exactly the /client/ ones (call sends no private key there)", () => {
    const spec = loadOpenApi<{ paths: Record<string, Record<string, { security?: unknown[] }>> }>();
    const open: string[] = [];
    const client: string[] = [];
    for (const [path, item] of Object.entries(spec.paths)) {
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        if (Array.isArray(op.security) && op.security.length === 0) open.push(`${method} ${path}`);
        if (path.startsWith("/client/")) client.push(`${method} ${path}`);
      }
    }
    expect(client.length).toBeGreaterThan(0);
    expect(open).toEqual(client);
  });
});
