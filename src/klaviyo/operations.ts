import { FIELDSETS, OPERATION_PARAMETERS, OPERATION_ROWS, SPEC_REVISION } from "./operations.generated.js";
import type { RateTier } from "./rate-window.js";

export type { FilterRule, OperationParameters } from "./operations.generated.js";
export { FIELDSETS, OPERATION_PARAMETERS, SPEC_REVISION };

export type HttpMethod = "GET" | "POST" | "PATCH" | "PUT" | "DELETE" | "HEAD" | "OPTIONS";

/** One operation of Klaviyo's API, as its OpenAPI document declares it. */
export interface Operation {
  readonly id: string;
  readonly method: HttpMethod;
  /** The path template, such as `/api/accounts/{id}`. */
  readonly path: string;
  readonly tier: RateTier;
  readonly scopes: readonly string[];
  /** Page-size bounds for paginated collections. */
  readonly pageSize?: { readonly default: number; readonly max: number };
}

interface Compiled {
  readonly operation: Operation;
  readonly segments: readonly string[];
  readonly literals: number;
}

const byId = new Map<string, Operation>();
const byShape = new Map<string, Compiled[]>();

for (const [id, method, path, burst, steady, daily, scopes, pageDefault, pageMax] of OPERATION_ROWS) {
  const operation: Operation = {
    id,
    method: method as HttpMethod,
    path,
    tier: { name: id, burst, steady, daily },
    scopes: scopes ? scopes.split(" ") : [],
    ...(pageMax > 0 ? { pageSize: { default: pageDefault || pageMax, max: pageMax } } : {}),
  };
  byId.set(id, operation);
  const segments = splitPath(path);
  const key = `${method} ${segments.length}`;
  const list = byShape.get(key) ?? [];
  list.push({ operation, segments, literals: segments.filter((s) => !s.startsWith("{")).length });
  // The most literal template wins when two match (`/api/profiles/{id}` vs a fixed sub-path).
  list.sort((a, b) => b.literals - a.literals);
  byShape.set(key, list);
}

function splitPath(path: string): string[] {
  return path.split("/").filter((s) => s.length > 0);
}

/** The operation with this id (`get_accounts`, `create_profile`, …); throws on an unknown id. */
export function getOperation(id: string): Operation {
  const op = byId.get(id);
  if (!op) throw new Error(`Unknown Klaviyo operation "${id}"`);
  return op;
}

export function allOperations(): Iterable<Operation> {
  return byId.values();
}

export interface OperationMatch {
  readonly operation: Operation;
  /** Path parameters by template name, decoded. */
  readonly params: Readonly<Record<string, string>>;
}

/** The operation a method and concrete path (`/api/lists/Y6nRLr/`) address, if Klaviyo's API has one. */
export function matchOperation(method: string, pathname: string): OperationMatch | undefined {
  const segments = splitPath(pathname);
  const candidates = byShape.get(`${method.toUpperCase()} ${segments.length}`);
  if (!candidates) return undefined;
  for (const candidate of candidates) {
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < segments.length; i++) {
      const want = candidate.segments[i] as string;
      const got = segments[i] as string;
      if (want.startsWith("{")) {
        let value: string;
        try {
          value = decodeURIComponent(got);
        } catch {
          ok = false;
          break;
        }
        params[want.slice(1, -1)] = value;
      } else if (want !== got) {
        ok = false;
        break;
      }
    }
    if (ok) return { operation: candidate.operation, params };
  }
  return undefined;
}
