/**
 * What no input of any action may hold, whatever its kind, checked before its own schema: text that is not valid
 * Unicode (a lone surrogate, which `encodeURIComponent` throws on and a JSON body would carry as an escape
 * Klaviyo cannot store), values nested deeper than any Klaviyo document (or referring to themselves, which
 * `JSON.stringify` throws on, as it does past a few thousand levels), and bigints, which JSON cannot carry.
 */

/** Deeper than any document Klaviyo takes (event properties stop at 10 levels), far from any stack limit. */
export const MAX_INPUT_DEPTH = 64;

const LONE_SURROGATE = /\p{Cs}/u;

function where(path: string): string {
  return path === "" ? "" : ` at ${path}`;
}

function member(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? (path ? `${path}.${key}` : key) : `${path}[${JSON.stringify(key)}]`;
}

/** Why `value` cannot be an input (the first problem found), or `undefined`. */
export function inputValueProblem(value: unknown): string | undefined {
  const ancestors = new Set<object>();
  const walk = (node: unknown, path: string, depth: number): string | undefined => {
    if (typeof node === "string") {
      return LONE_SURROGATE.test(node)
        ? `holds text that is not valid Unicode (a lone surrogate)${where(path)}`
        : undefined;
    }
    if (typeof node === "bigint")
      return `holds a bigint${where(path)}, which JSON cannot carry: give a number or text`;
    if (node === null || typeof node !== "object") return undefined;
    if (ArrayBuffer.isView(node) || node instanceof ArrayBuffer || node instanceof Date) return undefined;
    if (ancestors.has(node)) return `refers to itself${where(path)}`;
    if (depth >= MAX_INPUT_DEPTH) return `is nested more than ${MAX_INPUT_DEPTH} levels deep${where(path)}`;
    ancestors.add(node);
    let problem: string | undefined;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length && !problem; i++) problem = walk(node[i], `${path}[${i}]`, depth + 1);
    } else {
      for (const [key, child] of Object.entries(node)) {
        const at = member(path, key);
        problem = LONE_SURROGATE.test(key)
          ? `holds a member name that is not valid Unicode (a lone surrogate)${where(at)}`
          : walk(child, at, depth + 1);
        if (problem) break;
      }
    }
    ancestors.delete(node);
    return problem;
  };
  return walk(value, "", 0);
}
