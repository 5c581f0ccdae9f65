import { cursorOf, type Page } from "../core/pagination.js";
import { partitionedPages, partitionFieldFor } from "../core/partition.js";
import type { OperationId, OperationItem } from "../klaviyo/api.js";
import { refined } from "../klaviyo/schema.js";
import type { ActionContext, BoundInput } from "./define.js";
import { input, textMatching } from "./inputs.js";

const URL_START = "[Hh][Tt][Tt][Pp][Ss]?://";
/**
 * A cursor, or a `links.next` URL that carries one (a URL without one would silently restart at page one): text
 * that is not blank and, when it is an http(s) URL, has a `page[cursor]` (written plainly or percent-encoded).
 */
const CURSOR = new RegExp(
  `(?!${URL_START})\\S[\\s\\S]*|${URL_START}[^\\s?#]*\\?(?:[^\\s#]*&)?page(?:\\[|%5[Bb])cursor(?:\\]|%5[Dd])=[^\\s&#]+\\S*`,
);
const cursorSchema = refined(
  textMatching(CURSOR, (issue) =>
    typeof issue.input === "string" && issue.input.trim() === ""
      ? "must not be blank"
      : "is a URL without a page[cursor]: give the nextCursor of an earlier result or its links.next",
  ),
  (value, ctx) => {
    if (cursorOf(value) === undefined)
      ctx.addIssue({ message: "is a links.next URL that does not parse as a URL" });
  },
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
      checks: "a links.next URL must parse as a URL",
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

/**
 * Runs a list action's request: one page, or with `limit` every page until `limit` items, streaming pages from the
 * client's pager (so memory holds only what is returned). When the caller streams (`context.stream`, the CLI's
 * `--all`), every page of the collection goes to its sink instead, to the end, in partitions when it asks for
 * them and the endpoint allows it; the result then holds no items, only the page count.
 */
export async function listOutput<Op extends OperationId>(
  context: ActionContext<Op>,
  input: BoundInput<Op>,
  paging: { pageSize?: number | undefined; cursor?: string | undefined; limit?: number | undefined },
): Promise<ListOutput<OperationItem<Op>>> {
  type T = OperationItem<Op>;
  const { client } = context;
  const request = context.requestOf(input);
  const sink = context.stream?.sink;
  const data: T[] = [];
  const included = new Map<string, unknown>();
  let nextCursor: string | undefined;
  let links: Page["links"];
  let pages = 0;
  const parallel = sink ? context.stream?.partitions : undefined;
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
          ...(paging.limit !== undefined ? { limit: paging.limit } : {}),
        })
      : client.paginate<T>({
          ...request,
          ...(paging.pageSize !== undefined ? { pageSize: paging.pageSize } : {}),
          ...(paging.cursor ? { cursor: paging.cursor } : {}),
          // Streamed, every page up to `limit` items; gathered, one page unless `limit` asks for more.
          ...(paging.limit !== undefined ? { limit: paging.limit } : sink ? {} : { maxPages: 1 }),
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
