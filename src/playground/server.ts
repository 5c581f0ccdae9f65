/**
 * The playground's server (`klaviyo ui`): serves the built front end and a small JSON API on 127.0.0.1, holding
 * the connection (an API key, an OAuth login, or the embedded emulator with demo data) so that no credential
 * ever reaches the browser. Every request needs the Host it was started on (against DNS rebinding) and the
 * token printed in its address (`?token=` for the page, `X-Playground-Token` for the API). A hono app, served by
 * @hono/node-server; every answer is built by one function that adds the security headers.
 */

import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, realpath, stat } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { getRequestListener, type HttpBindings } from "@hono/node-server";
import { type Context, Hono } from "hono";
import { getMimeType } from "hono/utils/mime";
import { manifest } from "../actions/manifest.js";
import { apiKey as apiKeyAuth } from "../core/api-key.js";
import type { AuthStrategy } from "../core/auth-strategy.js";
import { RateLimiter } from "../core/rate-limit.js";
import { redact } from "../core/redact.js";
import { DEFAULT_BASE_URL, DEFAULT_REVISION, PACKAGE_VERSION } from "../core/version.js";
import { createEmulator, type Emulator, stopWebhookDeliveries } from "../emulator/app.js";
import { DEV_API_KEY } from "../emulator/auth.js";
import { readBodyWithin } from "../emulator/request-body.js";
import { constantTimeIncludes } from "../webhooks/verify.js";
import type { Info } from "./contract.js";
import { Inspector } from "./inspector.js";
import { describeError, type PlaygroundClientOptions, Runner, UnknownActionError } from "./runs.js";
import {
  isPickerKey,
  pickerChoices,
  pollForPage,
  triggerCatalogue,
  UnknownTriggerError,
} from "./triggers.js";
import { RECEIVER_PREFIX, WebhookInputError, WebhookListener } from "./webhooks.js";

export interface PlaygroundOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Run on the embedded emulator with demo data. Default: when neither a key, `auth` nor `baseUrl` is given. */
  readonly emulator?: boolean;
  /** Remote mode: the API base URL (default Klaviyo's). */
  readonly baseUrl?: string;
  /** Remote mode: a private API key. */
  readonly apiKey?: string;
  /** Remote mode: any connection, such as the CLI's stored OAuth login. */
  readonly auth?: AuthStrategy;
  /** Other client options: `fetch` (tests), `timeoutMs`, `retry`, `revision`, `rateLimiter`. */
  readonly client?: PlaygroundClientOptions;
  /** The built front end; default `dist/ui`. */
  readonly staticDir?: string;
  /** The access token; default 32 random bytes (base64url). For tests. */
  readonly token?: string;
}

export interface Playground {
  /** The address to open, with its token: `http://127.0.0.1:PORT/?token=…`. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  readonly mode: "emulator" | "remote";
  /** The directory the front end is served from, and whether it holds a built page. */
  readonly staticDir: string;
  readonly frontEnd: boolean;
  /** The embedded emulator, in emulator mode. */
  readonly emulator: Emulator | undefined;
  close(): Promise<void>;
}

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
  "font-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * A template's HTML, previewed in the inspector's sandboxed frame: its own inline styles and `data:` images
 * render, nothing else loads (no script, no remote image, no font: no request leaves 127.0.0.1), and the frame
 * may only be the playground's.
 */
export const TEMPLATE_PREVIEW_POLICY =
  "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; " +
  "frame-ancestors 'self'";

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};

/** The largest `/api/*` body: a 5 MB image as base64, with room to spare. */
const BODY_LIMIT = 16 * 1024 * 1024;

const NEEDS_TOKEN_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Klaviyo playground</title></head>
<body><h1>Klaviyo playground</h1>
<p>This playground needs the address printed by klaviyo ui (with its token).</p></body></html>
`;

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Klaviyo playground</title></head>
<body><h1>Klaviyo playground</h1>
<p>The front end is not built: run npm run build, then start klaviyo ui again. The API is served all the same.</p>
</body></html>
`;

/**
 * `dist/ui`: `../ui/` beside the compiled server (dist/playground/server.js); from the sources (tsx), the
 * repository's `dist/ui`.
 */
export function defaultStaticDir(): string {
  const beside = fileURLToPath(new URL("../ui/", import.meta.url));
  if (existsSync(beside)) return beside;
  const here = fileURLToPath(new URL(".", import.meta.url));
  if (here.split(sep).includes("src")) return fileURLToPath(new URL("../../dist/ui/", import.meta.url));
  return beside;
}

/** Constant-time comparison of a presented token with the real one, whatever their lengths. */
function tokenMatches(given: string | undefined, token: string): boolean {
  return typeof given === "string" && constantTimeIncludes(given, [token]);
}

function boundedInt(text: string | null, fallback: number, min: number, max: number): number {
  if (text === null || !/^\d+$/.test(text)) return fallback;
  return Math.min(max, Math.max(min, Number(text)));
}

/** On a real port, @hono/node-server hands the app Node's request (its body is read from it as it arrives). */
type PlaygroundEnv = { Bindings: HttpBindings };

/** Starts the playground on 127.0.0.1; see `PlaygroundOptions`. */
export async function startPlayground(options: PlaygroundOptions = {}): Promise<Playground> {
  const emulatorMode =
    options.emulator ?? (options.apiKey === undefined && options.auth === undefined && !options.baseUrl);
  let emulator: Emulator | undefined;
  let auth: AuthStrategy;
  let baseUrl: string;
  let fetchImpl = options.client?.fetch ?? ((input, init) => fetch(input, init));
  if (emulatorMode) {
    // Real limits, so the rate chart means something; the demo account, so every read has something to show.
    emulator = createEmulator({ seed: "demo", rateLimits: "real" });
    auth = apiKeyAuth(DEV_API_KEY);
    baseUrl = emulator.baseUrl;
    fetchImpl = emulator.fetch;
  } else {
    if (options.auth) auth = options.auth;
    else if (options.apiKey !== undefined) auth = apiKeyAuth(options.apiKey);
    else throw new Error("The playground needs an API key (or an OAuth login) to connect to Klaviyo");
    baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
  }
  const inspector = emulator ? new Inspector(emulator) : undefined;
  const { fetch: _fetch, rateLimiter, ...clientOptions } = options.client ?? {};
  const runner = new Runner({
    auth,
    baseUrl,
    fetch: fetchImpl,
    // On the emulator the emulator's own limits are what there is to see: a burst meets its 429s (and the
    // client's retries wait out their Retry-After). Against Klaviyo the client's limiter spares the account.
    rateLimiter: rateLimiter ?? (emulatorMode ? false : new RateLimiter()),
    client: clientOptions,
    emulator: emulatorMode,
    ...(inspector ? { observe: inspector.observe } : {}),
  });
  const token = options.token ?? randomBytes(32).toString("base64url");
  const staticDir = resolve(options.staticDir ?? defaultStaticDir());
  const info: Info = {
    mode: emulatorMode ? "emulator" : "remote",
    baseUrl,
    connection: auth.kind,
    version: PACKAGE_VERSION,
    revision: options.client?.revision ?? DEFAULT_REVISION,
  };
  let manifestJson: string | undefined;
  let allowedHosts = new Set<string>();
  let origin = "";
  // On the emulator: a webhook whose endpoint is this server's receiver, and the deliveries it got.
  const webhooks = emulator
    ? new WebhookListener({
        client: () => runner.client([]),
        origin: () => origin,
        accountId: () => (emulator as Emulator).account.id,
      })
    : undefined;
  /** The secrets no answer may carry: the connection's, and the secret of the webhook listened with. */
  const secrets = () => [...runner.secrets(), ...(webhooks?.secrets() ?? [])];

  /**
   * Every answer: the security headers, then the body's type and length, then `extra` (which may replace a
   * security header, as the template preview does). Text is scrubbed of the connection's secrets.
   */
  const send = (
    status: number,
    body: string | Uint8Array,
    contentType: string,
    extra: Record<string, string> = {},
  ): Response => {
    if (typeof body === "string") {
      for (const secret of secrets()) if (secret.length >= 4) body = body.split(secret).join("[REDACTED]");
    }
    const bytes = typeof body === "string" ? new TextEncoder().encode(body) : new Uint8Array(body);
    return new Response(bytes, {
      status,
      headers: {
        ...SECURITY_HEADERS,
        "Content-Type": contentType,
        "Content-Length": String(bytes.byteLength),
        ...extra,
      },
    });
  };
  const json = (status: number, value: unknown) =>
    send(status, JSON.stringify(value), "application/json; charset=utf-8", { "Cache-Control": "no-store" });
  const html = (status: number, page: string) =>
    send(status, page, "text/html; charset=utf-8", { "Cache-Control": "no-store" });
  const text = (status: number, message: string, extra: Record<string, string> = {}) =>
    send(status, message, "text/plain; charset=utf-8", extra);

  async function api(c: Context<PlaygroundEnv>, url: URL): Promise<Response> {
    const method = c.req.method;
    const preview = /^\/api\/emulator\/templates\/([^/]+)\/preview$/.exec(url.pathname);
    if (preview && (method === "GET" || method === "HEAD")) return templatePreview(url, preview[1] ?? "");
    if (!tokenMatches(c.req.header("x-playground-token"), token)) {
      return json(403, { error: "a valid X-Playground-Token header is required" });
    }
    let body: unknown;
    if (method === "POST") {
      const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
      if (type !== "application/json") return json(415, { error: "POST bodies must be application/json" });
      const bytes = await readBodyWithin(c.req.raw, c.env?.incoming, BODY_LIMIT);
      if (!bytes) return json(413, { error: `the body is larger than ${BODY_LIMIT} bytes` });
      try {
        body = bytes.byteLength === 0 ? {} : JSON.parse(Buffer.from(bytes).toString("utf8"));
      } catch {
        return json(400, { error: "the body is not valid JSON" });
      }
    } else if (
      method !== "GET" &&
      method !== "HEAD" &&
      !(method === "DELETE" && url.pathname.replace(/\/+$/, "") === "/api/webhooks/listen")
    ) {
      return json(405, { error: `${method} is not allowed here` });
    }
    const path = url.pathname.replace(/\/+$/, "");
    const route = `${method === "HEAD" ? "GET" : method} ${path}`;
    switch (route) {
      case "GET /api/info":
        return json(200, info);
      case "GET /api/manifest":
        manifestJson ??= JSON.stringify(manifest());
        return send(200, manifestJson, "application/json; charset=utf-8", { "Cache-Control": "no-store" });
      case "GET /api/history":
        return json(200, { runs: runner.history });
      case "POST /api/run": {
        const { action, inputs } = (body ?? {}) as { action?: unknown; inputs?: unknown };
        if (typeof action !== "string")
          return json(400, { error: "the body needs action: the key of an action" });
        if (inputs !== undefined && (typeof inputs !== "object" || inputs === null || Array.isArray(inputs)))
          return json(400, { error: "inputs must be an object" });
        try {
          return json(200, await runner.run(action, (inputs ?? {}) as Record<string, unknown>));
        } catch (error) {
          if (error instanceof UnknownActionError) return json(400, { error: error.message });
          throw error;
        }
      }
      case "GET /api/triggers":
        return json(200, triggerCatalogue(emulatorMode));
      case "POST /api/triggers/poll": {
        const { key, inputs, state } = (body ?? {}) as { key?: unknown; inputs?: unknown; state?: unknown };
        if (typeof key !== "string") return json(400, { error: "the body needs key: the key of a trigger" });
        if (inputs !== undefined && (typeof inputs !== "object" || inputs === null || Array.isArray(inputs)))
          return json(400, { error: "inputs must be an object" });
        try {
          const poll = await pollForPage(runner, emulatorMode, {
            key,
            inputs: (inputs ?? {}) as Record<string, unknown>,
            state,
          });
          return json(200, poll);
        } catch (error) {
          if (error instanceof UnknownTriggerError) return json(400, { error: error.message });
          throw error;
        }
      }
    }
    const picker = /^GET \/api\/pickers\/([^/]+)$/.exec(route);
    if (picker) {
      const name = picker[1] as string;
      if (!isPickerKey(name)) return json(404, { error: `no such picker: ${name}` });
      try {
        return json(200, await pickerChoices(runner, name, url.searchParams.get("search") ?? undefined));
      } catch (error) {
        return json(502, { error: describeError(error, secrets()).message });
      }
    }
    if (path === "/api/webhooks" || path.startsWith("/api/webhooks/")) return webhookApi(route, body);
    if (path === "/api/emulator" || path.startsWith("/api/emulator/")) {
      if (!inspector) return json(404, { error: "not connected to the emulator" });
      const image = /^GET \/api\/emulator\/images\/([^/]+)$/.exec(route);
      if (image) {
        const found = inspector.image(decodeURIComponent(image[1] as string));
        if (!found) return json(404, { error: "no bytes for this image" });
        return send(200, found.bytes, found.contentType, { "Cache-Control": "no-store" });
      }
      switch (route) {
        case "GET /api/emulator/state":
          return json(200, inspector.state());
        case "GET /api/emulator/requests":
          return json(200, {
            requests: inspector.requests(boundedInt(url.searchParams.get("limit"), 200, 1, 1000)),
          });
        case "GET /api/emulator/rates":
          return json(200, inspector.rates(boundedInt(url.searchParams.get("seconds"), 60, 1, 600)));
        case "POST /api/emulator/reset":
          inspector.reset();
          return json(200, { ok: true, counts: (inspector.state() as { counts: unknown }).counts });
      }
    }
    return json(404, { error: `no such API route: ${method} ${url.pathname}` });
  }

  /** `/api/webhooks/*`: the webhook listened with, its deliveries, a forged delivery (the emulator only). */
  async function webhookApi(route: string, body: unknown): Promise<Response> {
    if (!webhooks)
      return json(404, {
        error:
          "webhooks are listened to on the embedded emulator only: against Klaviyo, klaviyo listen --forward-to URL forwards deliveries built from the change feed",
      });
    try {
      switch (route) {
        case "GET /api/webhooks/topics":
          return json(200, { topics: await webhooks.topics() });
        case "GET /api/webhooks/deliveries":
          return json(200, webhooks.deliveries());
        case "POST /api/webhooks/listen": {
          const { topics } = (body ?? {}) as { topics?: unknown };
          if (topics !== undefined && !(Array.isArray(topics) && topics.every((t) => typeof t === "string")))
            return json(400, { error: "topics must be a list of topic IDs" });
          return json(200, { listening: await webhooks.start(topics as string[] | undefined) });
        }
        case "DELETE /api/webhooks/listen":
          return json(200, { listening: null, deleted: (await webhooks.stop()) ?? null });
        case "POST /api/webhooks/forge":
          return json(200, await webhooks.forge());
      }
    } catch (error) {
      if (error instanceof WebhookInputError) return json(400, { error: error.message });
      const described = describeError(error, secrets());
      return json(described.issues ? 400 : 502, {
        error: described.message,
        ...(described.issues ? { issues: described.issues } : {}),
      });
    }
    return json(404, { error: `no such API route: ${route}` });
  }

  /**
   * The webhook receiver, `POST /hooks/klaviyo/<token>`: the emulator cannot send the page's token, so the token
   * of its path (new for every webhook, compared in constant time) admits it, and the signature is verified.
   */
  async function receiver(c: Context<PlaygroundEnv>, url: URL): Promise<Response> {
    const token = url.pathname.slice(RECEIVER_PREFIX.length);
    if (!webhooks?.accepts(token)) return json(404, { error: "no webhook receives here" });
    if (c.req.method !== "POST") return json(405, { error: "deliveries are POSTed" });
    const bytes = await readBodyWithin(c.req.raw, c.env?.incoming, BODY_LIMIT);
    if (!bytes) return json(413, { error: `the body is larger than ${BODY_LIMIT} bytes` });
    const answer = webhooks.receive(bytes, c.req.raw.headers);
    return json(answer.status, answer.body);
  }

  /**
   * A template's HTML for the inspector's frame (`TEMPLATE_PREVIEW_POLICY`). A frame cannot send the token header,
   * so this one route takes it in the query, as the page does.
   */
  function templatePreview(url: URL, rawId: string): Response {
    if (!tokenMatches(url.searchParams.get("token") ?? undefined, token))
      return json(403, { error: "a valid token is required" });
    if (!emulator) return json(404, { error: "not connected to the emulator" });
    let id: string;
    try {
      id = decodeURIComponent(rawId);
    } catch {
      return json(400, { error: "bad template id" });
    }
    const template = emulator.state.templates.get(id)?.attributes.html;
    if (typeof template !== "string") return json(404, { error: "no such template, or it has no HTML" });
    return send(200, template, "text/html; charset=utf-8", {
      "Content-Security-Policy": TEMPLATE_PREVIEW_POLICY,
      "X-Frame-Options": "SAMEORIGIN",
      "Cache-Control": "no-store",
    });
  }

  /**
   * The built front end: the page (only with the token of the address) and its assets, read from `staticDir`
   * and nowhere else. Each path is decoded once and refused with a NUL or a backslash; the file it names must be
   * inside the directory both as written and once symbolic links are resolved (hono's and @hono/node-server's
   * static handlers follow a link out of their root).
   */
  async function page(method: string, url: URL): Promise<Response> {
    if (method !== "GET" && method !== "HEAD")
      return text(405, "Method not allowed\n", { Allow: "GET, HEAD" });
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      return text(400, "Bad path\n");
    }
    const index = path === "/" || path === "/index.html";
    if (index) {
      if (!tokenMatches(url.searchParams.get("token") ?? undefined, token))
        return html(403, NEEDS_TOKEN_PAGE);
      path = "/index.html";
    }
    const notFound = () => text(404, "Not found\n");
    if (path.includes("\0") || path.includes("\\")) return notFound();
    const file = resolve(staticDir, `.${path}`);
    if (!file.startsWith(staticDir + sep)) return notFound();
    let real: string;
    try {
      real = await realpath(file);
      const root = await realpath(staticDir);
      if (!real.startsWith(root + sep) || !(await stat(real)).isFile()) return notFound();
    } catch {
      return index ? html(503, NOT_BUILT_PAGE) : notFound();
    }
    const bytes = await readFile(real);
    const type = getMimeType(real) ?? "application/octet-stream";
    return send(200, bytes, type, { "Cache-Control": index ? "no-store" : "no-cache" });
  }

  const app = new Hono<PlaygroundEnv>();
  app.all("*", (c) => {
    // Against DNS rebinding: only the address the playground was started on.
    const host = (c.req.header("host") ?? "").toLowerCase();
    if (!allowedHosts.has(host)) return text(403, "This host is not allowed.\n");
    const url = new URL(c.req.url);
    if (url.pathname === "/api" || url.pathname.startsWith("/api/")) return api(c, url);
    if (url.pathname.startsWith(RECEIVER_PREFIX)) return receiver(c, url);
    return page(c.req.method, url);
  });
  app.onError((error) => {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    console.error(`playground: ${redact(detail, secrets())}`);
    return json(500, { error: "the playground failed to answer; see its terminal" });
  });

  // A request that is not one (a Host that is not a host, a target that is not a path) is refused by
  // @hono/node-server before the app; its answer carries the security headers all the same.
  const listener = getRequestListener(app.fetch, {
    overrideGlobalObjects: false,
    errorHandler: () => text(400, "Bad request\n"),
  });
  const server = createServer({ headersTimeout: 30_000, requestTimeout: 0 }, listener);
  await new Promise<void>((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolvePromise();
    });
  });
  const { port } = server.address() as AddressInfo;
  allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  origin = `http://127.0.0.1:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    mode: emulatorMode ? "emulator" : "remote",
    staticDir,
    frontEnd: existsSync(join(staticDir, "index.html")),
    emulator,
    close() {
      // The embedded emulator's deliveries (batches, retries) end with the server they were made to.
      if (emulator) stopWebhookDeliveries(emulator);
      closing ??= new Promise<void>((resolvePromise, reject) => {
        server.close((error) => (error ? reject(error) : resolvePromise()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
