/**
 * What a handler sees of one request: the request itself (`c.req`), typed per-request variables that each
 * stage leaves for the next (`c.get` / `c.set`), the runtime's bindings (`c.env`) and the answer so far (`c.res`).
 */

/** An app's types: what the runtime passes as bindings, and the variables its stages share. */
export interface Env {
  Bindings?: unknown;
  Variables?: object;
}

type Variables<E extends Env> = E["Variables"] extends object ? E["Variables"] : Record<string, never>;

/**
 * What the app reads of a request. A web `Request` is one; a server can hand a lighter object whose parts are
 * made when first read (a `Request` costs more than routing a request does).
 */
export interface RequestParts {
  readonly method: string;
  readonly url: string;
  readonly headers: Headers;
  readonly body: ReadableStream<Uint8Array> | null;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
}

/** The request, with the few readers handlers need. */
export class RequestView {
  #url: URL | undefined;
  #raw: Request | undefined;

  constructor(private readonly parts: RequestParts) {}

  get url(): string {
    return this.parts.url;
  }

  get method(): string {
    return this.parts.method;
  }

  /** The web `Request` (made on first use when the server handed only its parts). */
  get raw(): Request {
    if (!this.#raw) {
      const { method, url, headers, body } = this.parts;
      this.#raw =
        this.parts instanceof Request
          ? this.parts
          : new Request(url, { method, headers, body, duplex: "half" });
    }
    return this.#raw;
  }

  /** Aborted when the client goes away (on a real port), or with the `Request`'s own signal. */
  get signal(): AbortSignal {
    return this.parts.signal;
  }

  /** The parsed URL, made once per request. */
  get parsedUrl(): URL {
    this.#url ??= new URL(this.parts.url);
    return this.#url;
  }

  /** A header's value (names compare case-insensitively); several occurrences come joined with ", ". */
  header(name: string): string | undefined {
    return this.parts.headers.get(name) ?? undefined;
  }

  /** Every value of a query parameter, decoded, or `undefined` when it is absent. */
  queries(name: string): string[] | undefined {
    const values = this.parsedUrl.searchParams.getAll(name);
    return values.length > 0 ? values : undefined;
  }

  /**
   * The body's bytes, read as they arrive; `undefined` as soon as more than `limit` bytes have come (the rest is
   * left unread), so a client cannot make the server buffer an unbounded body.
   */
  async bytes(limit = Number.POSITIVE_INFINITY): Promise<Uint8Array | undefined> {
    const body = this.parts.body;
    if (!body) return new Uint8Array(0);
    const chunks: Uint8Array[] = [];
    let length = 0;
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      length += value.byteLength;
      if (length > limit) {
        await reader.cancel();
        return undefined;
      }
      chunks.push(value);
    }
    if (chunks.length === 1) return chunks[0];
    return Buffer.concat(chunks, length);
  }

  async text(): Promise<string> {
    return new TextDecoder().decode(await this.bytes());
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }
}

/** One request's context, handed to every middleware and handler on its way. */
export class Context<E extends Env = Env> {
  readonly req: RequestView;
  #res: Response | undefined;
  readonly #variables = new Map<PropertyKey, unknown>();

  constructor(
    request: RequestParts,
    /** What the runtime passed with the request (the Node request and response on a real port), if anything. */
    readonly env: E["Bindings"] | undefined,
  ) {
    this.req = new RequestView(request);
  }

  /** The answer so far; set by a handler's return value, by a middleware, or by the error handler. */
  get res(): Response {
    if (!this.#res) throw new Error("No response has been set yet");
    return this.#res;
  }

  set res(response: Response) {
    this.#res = response;
  }

  /** Whether a response has been set. */
  get answered(): boolean {
    return this.#res !== undefined;
  }

  /** A variable an earlier stage set; `undefined` (whatever the type says) when none did. */
  get<K extends keyof Variables<E>>(key: K): Variables<E>[K] {
    return this.#variables.get(key) as Variables<E>[K];
  }

  set<K extends keyof Variables<E>>(key: K, value: Variables<E>[K]): void {
    this.#variables.set(key, value);
  }

  /** A JSON answer (`application/json`). */
  json(body: unknown, status = 200): Response {
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  }

  /** An answer with this body (or none) and status. */
  body(body: ConstructorParameters<typeof Response>[0], status = 200): Response {
    return new Response(body, { status });
  }
}
