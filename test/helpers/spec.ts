import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";

/** The connector's specification, the contract for labels and defaults. */
export const SPEC_PATH = resolve(process.env.KLAVIYO_CONNECTOR_SPEC ?? "../shared/spec/connector-spec.txt");

export interface SpecInput {
  label: string;
  comments: string;
  default: string;
}
export interface SpecSection {
  label: string;
  description: string;
  inputs: SpecInput[];
}
export interface Spec {
  connections: SpecSection[];
  actions: SpecSection[];
}

/** Whether the specification is there; absent it the test says so and skips, unless REQUIRE_OPENAPI_SPEC=1. */
export function specAvailable(): boolean {
  if (existsSync(SPEC_PATH)) return true;
  if (process.env.REQUIRE_OPENAPI_SPEC === "1")
    throw new Error(`the connector specification is not at ${SPEC_PATH}`);
  console.warn(`The connector specification is not at ${SPEC_PATH}: label checks skipped`);
  return false;
}

/**
 * Reads the specification's tables: a section is a label line and a description line, then
 * `Input | Comments | Default |`, a `---` line, and one row per input (`Label | Comments | Default |`, trailing
 * cells may be missing). The `Connection` row is the connection itself, not an input.
 */
export function parseSpec(text = readFileSync(SPEC_PATH, "utf8")): Spec {
  const lines = text.split(/\r?\n/);
  const actionsAt = lines.findIndex((l) => l.trim() === "Actions");
  const sections: Array<SpecSection & { line: number }> = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^Input \| Comments \| Default \|/.test(lines[i] ?? "")) continue;
    const inputs: SpecInput[] = [];
    let j = i + 2;
    for (; j < lines.length; j++) {
      const line = lines[j] ?? "";
      if (!line.includes("|")) break;
      const cells = line.split("|").map((c) => c.trim());
      const [label = "", comments = "", def = ""] = cells;
      if (label === "Connection" || label === "") continue;
      inputs.push({ label, comments, default: def });
    }
    sections.push({ label: "", description: "", inputs, line: i });
    i = j - 1;
  }
  const connections: SpecSection[] = [];
  const actions: SpecSection[] = [];
  for (const section of sections) {
    if (section.line < actionsAt) {
      connections.push({ ...section, label: connections.length === 0 ? "API Key" : "OAuth 2.0" });
    } else {
      actions.push({
        label: (lines[section.line - 2] ?? "").trim(),
        description: (lines[section.line - 1] ?? "").trim(),
        inputs: section.inputs,
      });
    }
  }
  return { connections, actions };
}
