/**
 * A small web app: middleware and handlers run in registration order, each matched by method and path, with
 * sub-apps mounted under a prefix, and `fetch(request)` to answer a web `Request` in-process or from a server.
 *
 * Paths are either exact (`/health`; a trailing slash is ignored) or a prefix ending in `/*` (`/api/*`, which
 * matches `/api` too); `*` matches every path. HEAD is routed as GET and answered without a body.
 */
import { Context, type Env, type RequestParts } from "./context.js";

export type Next = () => Promise<void>;

/**
 * A stage of the pipeline: answers by returning a `Response` (or by setting `c.res`), or passes the request on
 * with `await next()` and may then read or change `c.res`.
 */
export type Handler<E extends Env> = (
  c: Context<E>,
  next: Next,
) => Response | undefined | Promise<Response | undefined> | Promise<void>;

export type ErrorHandler<E extends Env> = (error: unknown, c: Context<E>) => Response | Promise<Response>;

interface Entry<E extends Env> {
  /** Upper-case methods, or `undefined` for every method. */
  readonly methods: readonly string[] | undefined;
  readonly path: string;
  readonly matches: (path: string) => boolean;
  readonly handler: Handler<E>;
}

function normalize(path: string): string {
  return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
}

function matcher(pattern: string): (path: string) => boolean {
  if (pattern === "*" || pattern === "/*") return () => true;
  if (pattern.endsWith("/*")) {
    const base = pattern.slice(0, -2);
    const below = `${base}/`;
    return (path) => path === base || path.startsWith(below);
  }
  if (pattern.includes("*") || pattern.includes(":"))
    throw new Error(`Unsupported route pattern ${pattern}: use an exact path, PREFIX/* or *`);
  const exact = normalize(pattern);
  return (path) => path === exact;
}

const defaultNotFound = (): Response => new Response("Not found", { status: 404 });

export class App<E extends Env = Env> {
  readonly #entries: Entry<E>[] = [];
  #notFound: (c: Context<E>) => Response | Promise<Response> = defaultNotFound;
  #onError: ErrorHandler<E> = (error) => {
    throw error;
  };

  /** A middleware: runs for every method on `path`. */
  use(path: string, handler: Handler<E>): this {
    return this.on(undefined, path, handler);
  }

  get(path: string, handler: Handler<E>): this {
    return this.on(["GET"], path, handler);
  }

  post(path: string, handler: Handler<E>): this {
    return this.on(["POST"], path, handler);
  }

  delete(path: string, handler: Handler<E>): this {
    return this.on(["DELETE"], path, handler);
  }

  all(path: string, handler: Handler<E>): this {
    return this.on(undefined, path, handler);
  }

  /** Runs `handler` for these methods (all of them when `undefined`) on `path`. */
  on(methods: readonly string[] | undefined, path: string, handler: Handler<E>): this {
    const upper = methods?.map((m) => m.toUpperCase());
    this.#entries.push({ methods: upper, path, matches: matcher(path), handler });
    return this;
  }

  /**
   * Mounts `sub`'s routes under `prefix`, in place: they run in the order of this call among this app's own.
   * The routes are copied now; this app's `notFound` and `onError` apply to them.
   */
  route<S extends Env>(prefix: string, sub: App<S>): this {
    const base = normalize(prefix);
    for (const entry of sub.#entries) {
      const path = entry.path === "*" || entry.path === "/*" ? `${base}/*` : `${base}${entry.path}`;
      // The sub-app's handlers use none of this app's variables or bindings, so the wider context suits them.
      this.on(entry.methods, path, entry.handler as unknown as Handler<E>);
    }
    return this;
  }

  /** The answer when no handler answers. */
  notFound(handler: (c: Context<E>) => Response | Promise<Response>): this {
    this.#notFound = handler;
    return this;
  }

  /**
   * Turns an error a stage threw into the answer; outer stages then carry on as if the inner ones had answered.
   * Throwing from it makes `fetch` reject (on a real port, the connection is dropped). Default: rethrow.
   */
  onError(handler: ErrorHandler<E>): this {
    this.#onError = handler;
    return this;
  }

  /** Answers `request` (a web `Request`, or the parts of one); `bindings` are what the runtime hands the app. */
  fetch = async (request: RequestParts, bindings?: E["Bindings"]): Promise<Response> => {
    const c = new Context<E>(request, bindings);
    const method = request.method === "HEAD" ? "GET" : request.method;
    const path = normalize(c.req.parsedUrl.pathname);
    const chain: Entry<E>[] = [];
    for (const e of this.#entries)
      if ((e.methods === undefined || e.methods.includes(method)) && e.matches(path)) chain.push(e);
    let reached = -1;
    const dispatch = async (i: number): Promise<void> => {
      if (i <= reached) throw new Error("next() called twice by one handler");
      reached = i;
      try {
        const handler = chain[i];
        if (!handler) {
          if (!c.answered) c.res = await this.#notFound(c);
          return;
        }
        const response = await handler.handler(c, () => dispatch(i + 1));
        if (response) c.res = response;
      } catch (error) {
        c.res = await this.#onError(error, c);
      }
    };
    await dispatch(0);
    if (!c.answered) c.res = await this.#notFound(c);
    const response = c.res;
    return request.method === "HEAD" ? new Response(null, response) : response;
  };
}
