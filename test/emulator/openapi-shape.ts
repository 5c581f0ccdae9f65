/**
 * A small checker of a JSON value against a schema of Klaviyo's OpenAPI document: types, `required`, `nullable`,
 * `enum`, `$ref`, and (stricter than the document) no property the schema does not declare, so a misspelt
 * attribute in the emulator fails instead of passing as an "additional property".
 */
interface Schema {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  nullable?: boolean;
}

interface Document {
  components: { schemas: Record<string, Schema> };
}

function resolve(doc: Document, schema: Schema): Schema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace("#/components/schemas/", "");
  const target = doc.components.schemas[name];
  if (!target) throw new Error(`unknown $ref ${schema.$ref}`);
  return resolve(doc, target);
}

/** Every way `value` departs from the schema named `name`, as `path: problem` lines (empty when it conforms). */
export function shapeProblems(doc: Document, name: string, value: unknown): string[] {
  const problems: string[] = [];
  const visit = (raw: Schema, v: unknown, path: string) => {
    const schema = resolve(doc, raw);
    if (v === null) {
      if (!schema.nullable) problems.push(`${path}: null but not nullable`);
      return;
    }
    if (schema.enum && !schema.enum.includes(v)) problems.push(`${path}: ${JSON.stringify(v)} not in enum`);
    const type = schema.type ?? (schema.properties ? "object" : undefined);
    if (type === "object") {
      if (typeof v !== "object" || Array.isArray(v)) return void problems.push(`${path}: not an object`);
      const obj = v as Record<string, unknown>;
      for (const key of schema.required ?? [])
        if (!(key in obj)) problems.push(`${path}.${key}: required, missing`);
      for (const [key, child] of Object.entries(obj)) {
        const childSchema = schema.properties?.[key];
        if (!childSchema) problems.push(`${path}.${key}: not in the schema`);
        else visit(childSchema, child, `${path}.${key}`);
      }
    } else if (type === "array") {
      if (!Array.isArray(v)) return void problems.push(`${path}: not an array`);
      v.forEach((item, i) => {
        visit(schema.items ?? {}, item, `${path}[${i}]`);
      });
    } else if (type === "string" || type === "boolean") {
      if (typeof v !== type) problems.push(`${path}: ${typeof v}, want ${type}`);
    } else if (type === "number" || type === "integer") {
      if (typeof v !== "number") problems.push(`${path}: ${typeof v}, want ${type}`);
    }
  };
  const root = doc.components.schemas[name];
  if (!root) throw new Error(`no schema ${name}`);
  visit(root, value, name);
  return problems;
}
