import { connections } from "../auth/connections.js";
import { DEFAULT_REVISION, PACKAGE_NAME, PACKAGE_VERSION } from "../core/version.js";
import type { AnyAction } from "./define.js";
import { actions } from "./index.js";
import type { InputDefinition } from "./inputs.js";

export interface ManifestInput {
  key: string;
  label: string;
  comments: string;
  default: unknown;
  required: boolean;
  type: string;
  schema: Record<string, unknown>;
}

export interface Manifest {
  name: string;
  version: string;
  revision: string;
  connections: Array<{ key: string; label: string; description: string; inputs: ManifestInput[] }>;
  actions: Array<{ key: string; label: string; description: string; inputs: ManifestInput[] }>;
}

function describeInput(def: InputDefinition): ManifestInput {
  return {
    key: def.key,
    label: def.label,
    comments: def.comments,
    default: def.default ?? null,
    required: def.required,
    type: def.type,
    schema: { ...def.jsonSchema, ...(def.default !== undefined ? { default: def.default } : {}) },
  };
}

/** The machine-readable description of every connection and action: what `klaviyo manifest` prints. */
export function manifest(list: readonly AnyAction[] = actions): Manifest {
  return {
    name: PACKAGE_NAME,
    version: PACKAGE_VERSION,
    revision: DEFAULT_REVISION,
    connections: connections.map((c) => ({
      key: c.key,
      label: c.label,
      description: c.description,
      inputs: (c.inputs as readonly InputDefinition[]).map(describeInput),
    })),
    actions: list.map((a) => ({
      key: a.key,
      label: a.label,
      description: a.description,
      inputs: Object.values(a.inputs).map(describeInput),
    })),
  };
}
