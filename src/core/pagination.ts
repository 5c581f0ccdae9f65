import type { KlaviyoClient, RequestOptions } from "./client.js";
import { appendQuery } from "./url.js";

/** One page of a collection, as Klaviyo sent it (unknown members kept). */
export interface Page<T = unknown> {
  data: T[];
  included?: unknown[];
  links?: { self?: string; next?: string | null; prev?: string | null; [key: string]: unknown };
  meta?: Record<string, unknown>;
  /** The `page[cursor]` of the next page, when there is one. */
  nextCursor: string | undefined;
  [key: string]: unknown;
}

export interface PaginateOptions {
  /** `page[size]`; defaults to the endpoint's maximum, so a walk takes as few requests as it can. */
  pageSize?: number;
  /** Stop after this many items in all (the last page is cut short). */
  limit?: number;
  /** Stop after this many pages. */
  maxPages?: number;
  /** Start from this cursor: a bare `page[cursor]` value or a whole `links.next` URL. */
  cursor?: string;
}

/** The `page[cursor]` carried by a `links.next` URL, or the value itself when it is already a bare cursor. */
export function cursorOf(linkOrCursor: string | null | undefined): string | undefined {
  if (!linkOrCursor) return undefined;
  if (!/^https?:\/\//i.test(linkOrCursor)) return linkOrCursor;
  try {
    return new URL(linkOrCursor).searchParams.get("page[cursor]") ?? undefined;
  } catch {
    return undefined;
  }
}

function positive(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a whole number of at least 1`);
  return value;
}

/**
 * Async iterator over pages. The first request carries the caller's query (with `page[size]` set to the
 * endpoint's maximum unless given); each next request re-sends that query with the cursor from `links.next`,
 * so the walk stays on the client's base URL and keeps its filters whatever host the link names.
 */
export async function* paginate<T>(
  client: KlaviyoClient,
  options: RequestOptions & PaginateOptions,
): AsyncGenerator<Page<T>> {
  const limit = positive(options.limit, "limit");
  const maxPages = positive(options.maxPages, "maxPages");
  const operation = client.operationFor(options);
  const query = new URLSearchParams();
  const [path, inlineQuery] = options.path.split("?", 2) as [string, string | undefined];
  if (inlineQuery) for (const [k, v] of new URLSearchParams(inlineQuery)) query.append(k, v);
  if (options.query) {
    const extra = new URLSearchParams();
    appendQuery(extra, options.query);
    for (const [k, v] of extra) query.set(k, v);
  }
  let pageSize = positive(options.pageSize, "pageSize");
  if (operation?.pageSize) {
    pageSize = Math.min(pageSize ?? operation.pageSize.max, operation.pageSize.max);
    if (limit !== undefined) pageSize = Math.min(pageSize, limit);
  }
  if (pageSize !== undefined && !query.has("page[size]")) query.set("page[size]", String(pageSize));
  let cursor = cursorOf(options.cursor);
  let seen = 0;
  for (let pages = 0; maxPages === undefined || pages < maxPages; pages++) {
    if (cursor !== undefined) query.set("page[cursor]", cursor);
    // The last page asks only for what is still wanted, so nothing is cut off and `nextCursor` resumes exactly.
    if (limit !== undefined && pageSize !== undefined && operation?.pageSize) {
      query.set("page[size]", String(Math.min(pageSize, limit - seen)));
    }
    const res = await client.request<Page<T>>({ ...options, method: options.method ?? "GET", path, query });
    const body = (res.body ?? { data: [] }) as Page<T>;
    const data = Array.isArray(body.data) ? body.data : [];
    cursor = cursorOf(body.links?.next);
    const page: Page<T> = { ...body, data, nextCursor: cursor };
    if (limit !== undefined && seen + data.length >= limit) {
      page.data = data.slice(0, limit - seen);
      yield page;
      return;
    }
    seen += data.length;
    yield page;
    if (cursor === undefined) return;
  }
}

/** Async iterator over the items of every page, within the same bounds. */
export async function* paginateItems<T>(
  client: KlaviyoClient,
  options: RequestOptions & PaginateOptions,
): AsyncGenerator<T> {
  for await (const page of paginate<T>(client, options)) yield* page.data;
}
