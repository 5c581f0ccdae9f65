import { AsyncLocalStorage } from "node:async_hooks";
import type { KlaviyoClient, RequestOptions } from "../core/client.js";
import { cursorOf, type Page } from "../core/pagination.js";
import { partitionedPages, partitionFieldFor } from "../core/partition.js";
import { z } from "../klaviyo/schema.js";
import { input } from "./inputs.js";

/** A cursor, or a `links.next` URL that carries one (a URL without one would silently restart at page one). */
const cursorSchema = z.string({ error: "must be text" }).check(
  z.trim(),
  z.minLength(1, { error: "must not be blank" }),
  z.refine((v) => !/^https?:\/\//i.test(v) || cursorOf(v) !== undefined, {
    error: "is a URL without a page[cursor]: give the nextCursor of an earlier result or its links.next",
  }),
);

/**
 * The inputs every list action adds beyond the specification: one page by default (page size and cursor), or
 * every page up to a bound (`Limit`), never unbounded.
 */
export function pagingInputs(maxPageSize: number) {
  return {
    pageSize: input.number(
      {
        key: "pageSize",
        label: "Page Size",
        comments: `How many items per page (1 to ${maxPageSize}); defaults to the endpoint's maximum, ${maxPageSize}, so a walk takes as few requests as it can.`,
      },
      { min: 1, max: maxPageSize, integer: true },
    ),
    cursor: {
      ...input.text({
        key: "cursor",
        label: "Page Cursor",
        comments:
          "Continue from this cursor: the nextCursor of an earlier result, or a whole links.next URL. Leave empty for the first page.",
      }),
      schema: cursorSchema,
    },
    limit: input.number(
      {
        key: "limit",
        label: "Limit",
        comments:
          "Fetch every page until this many items are gathered (the last page is cut short). Leave empty for one page only.",
      },
      { min: 1, max: 1_000_000, integer: true },
    ),
  };
}

/** What a list action returns: the items, what was included, and the cursor to continue from (if any). */
export interface ListOutput<T = unknown> {
  data: T[];
  included?: unknown[];
  links?: Page["links"];
  /** Pass as Page Cursor to continue; absent at the end of the collection. */
  nextCursor?: string;
  /** Pages fetched for this result. */
  pages: number;
}

/** Where items go when a caller streams a list action (see `streamListAction`). */
type ItemSink = (items: readonly unknown[]) => void | Promise<void>;
const sinks = new AsyncLocalStorage<ItemSink>();

/**
 * Runs `fn` (an action's perform) so that any list it walks goes to `sink` page by page, **to the end** of the
 * collection, instead of being gathered: constant memory however many pages there are (the CLI's `--all`).
 * The action then returns `data: []` with the page count.
 */
export function streamListAction<T>(sink: ItemSink, fn: () => Promise<T>): Promise<T> {
  return sinks.run(sink, fn);
}

/** How `streamPartitioned` walks: partitions cut, and walked at once. */
export interface PartitionedStreamOptions {
  /** Time partitions (default 8). */
  partitions?: number;
  /** Partitions walked at once (default 4). */
  concurrency?: number;
}
const partitioning = new AsyncLocalStorage<PartitionedStreamOptions>();

/**
 * `streamListAction`, with the list walked in time partitions concurrently (`partitionedPages`): every item
 * still goes to `sink` exactly once, in constant memory, but **not in the collection's order**. An endpoint
 * without a partition field (or a walk resuming from a cursor) is walked sequentially, as `streamListAction` does.
 */
export function streamPartitioned<T>(
  sink: ItemSink,
  fn: () => Promise<T>,
  options: PartitionedStreamOptions = {},
): Promise<T> {
  return partitioning.run(options, () => sinks.run(sink, fn));
}

/**
 * Runs a list request: one page, or with `limit` every page until `limit` items, streaming pages from the
 * client's pager (so memory holds only what is returned).
 */
export async function listOutput<T = unknown>(
  client: KlaviyoClient,
  request: RequestOptions,
  paging: { pageSize?: number | undefined; cursor?: string | undefined; limit?: number | undefined },
): Promise<ListOutput<T>> {
  const sink = sinks.getStore();
  const data: T[] = [];
  const included = new Map<string, unknown>();
  let nextCursor: string | undefined;
  let links: Page["links"];
  let pages = 0;
  const parallel = sink ? partitioning.getStore() : undefined;
  const operation = parallel && !paging.cursor ? client.operationFor(request) : undefined;
  const walk =
    parallel && operation && request.method === "GET" && partitionFieldFor(operation.id) !== undefined
      ? partitionedPages<T>(client, {
          method: "GET",
          path: request.path,
          operation,
          ...(request.query ? { query: request.query } : {}),
          ...(request.signal ? { signal: request.signal } : {}),
          ...parallel,
          ...(paging.pageSize !== undefined ? { pageSize: paging.pageSize } : {}),
        })
      : client.paginate<T>({
          ...request,
          ...(paging.pageSize !== undefined ? { pageSize: paging.pageSize } : {}),
          ...(paging.cursor ? { cursor: paging.cursor } : {}),
          ...(sink ? {} : paging.limit !== undefined ? { limit: paging.limit } : { maxPages: 1 }),
        });
  for await (const page of walk) {
    pages++;
    if (sink) {
      await sink(page.data);
      nextCursor = page.nextCursor;
      continue;
    }
    data.push(...page.data);
    for (const item of page.included ?? []) {
      const { type, id } = item as { type?: string; id?: string };
      included.set(`${type}\u0000${id}`, item);
    }
    nextCursor = page.nextCursor;
    links = page.links;
  }
  return {
    data,
    ...(included.size > 0 ? { included: [...included.values()] } : {}),
    ...(links ? { links } : {}),
    ...(nextCursor ? { nextCursor } : {}),
    pages,
  };
}
