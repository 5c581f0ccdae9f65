import type { OperationId, OperationInput } from "../klaviyo/api.js";
import { getOperation } from "../klaviyo/operations.js";
import type { RequestOptions } from "./client.js";
import type { PaginateOptions } from "./pagination.js";
import { expandPath, type QueryInput } from "./url.js";

/** The transport options a typed call passes on to `request` unchanged. */
export type CallOptions = Pick<
  RequestOptions,
  "signal" | "timeoutMs" | "retry" | "idempotent" | "revision" | "headers"
>;

/** What `client.call(id, input)` takes: the operation's `path`, `query` and `body`, and transport options. */
export type CallInput<Op extends OperationId> = OperationInput<Op> & CallOptions;

/** `[input]`, optional when the operation requires nothing (`client.call("get_accounts")`). */
export type CallArgs<Op extends OperationId, Extra = unknown> =
  // biome-ignore lint/complexity/noBannedTypes: `{}` is exactly "an input with no required member".
  {} extends OperationInput<Op> ? [input?: CallInput<Op> & Extra] : [input: CallInput<Op> & Extra];

/** What the runtime reads of a call's input; the types above are what a caller may write. */
interface UntypedInput extends CallOptions, PaginateOptions {
  path?: Readonly<Record<string, string>>;
  query?: QueryInput;
  body?: unknown;
  form?: FormData;
}

/**
 * The request an operation makes, for `client.request` or `paginate`/`partitionedItems`: its method and path
 * template from the operation table, each path parameter as exactly one segment (`expandPath`), its own rate
 * tier. The document gives the `/client/*` operations (called with a public key, `company_id`) no security, so
 * the private key is not sent there.
 */
export function operationRequest<Op extends OperationId, Extra = PaginateOptions>(
  id: Op,
  ...[input]: CallArgs<Op, Extra>
): RequestOptions & PaginateOptions {
  const operation = getOperation(id);
  const given = (input ?? {}) as UntypedInput;
  return {
    method: operation.method,
    path: expandPath(operation.path, given.path ?? {}),
    operation,
    query: given.query,
    body: given.body,
    form: given.form,
    signal: given.signal,
    timeoutMs: given.timeoutMs,
    retry: given.retry,
    idempotent: given.idempotent,
    revision: given.revision,
    headers: given.headers,
    ...(operation.path.startsWith("/client/") ? { authenticate: false } : {}),
    pageSize: given.pageSize,
    limit: given.limit,
    maxPages: given.maxPages,
    cursor: given.cursor,
  };
}
