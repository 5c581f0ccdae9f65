import { pathSegmentProblem } from "../klaviyo/identifiers.js";
import { InputValidationError } from "./errors.js";

export type QueryValue = string | number | boolean | readonly (string | number)[] | null | undefined;
export type QueryInput = Readonly<Record<string, QueryValue>> | URLSearchParams;

/**
 * Fills a path template (`/api/lists/{id}`) with values, each encoded as exactly one path segment. A value that
 * could not stay one segment (empty, `.`, `..`, or holding a slash) is refused before anything is sent, naming the
 * parameter: a URL would otherwise resolve it into another path (openai-node's `path` tag does the same).
 */
export function expandPath(template: string, params: Readonly<Record<string, string>>): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`missing path parameter ${name} for ${template}`);
    const problem = pathSegmentProblem(value);
    if (problem !== undefined) throw new InputValidationError([{ label: name, key: name, message: problem }]);
    return encodeURIComponent(value);
  });
}

/**
 * Joins a path to the base URL. The result must stay on the base URL (origin and path): a path that would leave it
 * (`//evil.example`, `https://…`) is refused, so credentials are never sent anywhere else.
 */
export function resolveUrl(baseUrl: URL, path: string, query?: QueryInput): URL {
  if (!path.startsWith("/") || path.startsWith("//") || /[\r\n\t]/.test(path)) {
    throw new InputValidationError([
      { label: "URL", key: "url", message: `must be a path beginning with one "/", such as /api/accounts` },
    ]);
  }
  const prefix = baseUrl.pathname.replace(/\/+$/, "");
  const url = new URL(`${baseUrl.origin}${prefix}${path}`);
  // URL resolves dot segments (`/../`, `/%2e%2e/`) and reads `\` as `/`: the result must not climb out of the
  // base URL's path, nor begin with `//`, which a server or proxy on the way may read as another host.
  const { pathname } = url;
  if (url.origin !== baseUrl.origin || !pathname.startsWith(`${prefix}/`) || pathname.startsWith("//")) {
    throw new InputValidationError([
      { label: "URL", key: "url", message: "must stay on the connection's base URL (its host and path)" },
    ]);
  }
  if (query) appendQuery(url.searchParams, query);
  return url;
}

/** Adds query parameters; arrays become Klaviyo's comma-separated lists (`fields[profile]=email,phone_number`). */
export function appendQuery(target: URLSearchParams, query: QueryInput): void {
  if (query instanceof URLSearchParams) {
    for (const [k, v] of query) target.append(k, v);
    return;
  }
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    target.set(key, Array.isArray(value) ? value.join(",") : String(value));
  }
}
