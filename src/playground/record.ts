/**
 * What went over the wire: a `fetch` wrapper that records each request and its answer, for the page to show.
 * The credential never appears: `Authorization` is masked to its scheme, and every header, URL and body is
 * scrubbed of the connection's secrets and of anything shaped like a key or token (`redact`).
 */

import type { FetchLike } from "../core/chain.js";
import { redact } from "../core/redact.js";
import type { Exchange } from "./contract.js";
import type { SentRequest } from "./snippets.js";

/** Response bodies are shown up to this many bytes. */
export const BODY_LIMIT = 1024 * 1024;

export type { Exchange, ShownRequest, ShownResponse } from "./contract.js";

/** An exchange and, for curl, the request as sent (still without its credential). */
export interface Recorded {
  readonly exchange: Exchange;
  readonly sent: SentRequest;
  /** The answer's headers, for the rate-limit state. */
  responseHeaders?: Headers;
}

/** Called after each answer, with what was sent and what came back (the inspector keeps image bytes). */
export type ExchangeObserver = (
  request: { method: string; url: string; body: RequestInit["body"] },
  response: { status: number; bytes: Uint8Array },
) => void;

/** `Authorization` as the page shows it: the scheme and a mask, never the credential. */
export function maskAuthorization(value: string): string {
  if (/^Klaviyo-API-Key\s/i.test(value)) return "Klaviyo-API-Key pk_…****";
  if (/^Bearer\s/i.test(value)) return "Bearer ****";
  return "****";
}

function schemeOf(value: string | undefined): SentRequest["authScheme"] {
  if (value === undefined) return undefined;
  if (/^Klaviyo-API-Key\s/i.test(value)) return "Klaviyo-API-Key";
  if (/^Bearer\s/i.test(value)) return "Bearer";
  return undefined;
}

function headerRecord(init: ConstructorParameters<typeof Headers>[0]): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(init).forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** Text as text (pretty when JSON), bytes as `<N bytes>`; at most `BODY_LIMIT` bytes shown. */
export function showBody(bytes: Uint8Array, contentType: string | null, secrets: readonly string[]): string {
  if (bytes.byteLength === 0) return "";
  const head = bytes.byteLength > BODY_LIMIT ? bytes.subarray(0, BODY_LIMIT) : bytes;
  let text: string;
  try {
    // A fresh decoder each time: `stream` keeps a cut character's first bytes for a next call there is none of.
    text = new TextDecoder("utf-8", { fatal: true }).decode(head, { stream: head !== bytes });
  } catch {
    return `<${bytes.byteLength} bytes>`;
  }
  if (head !== bytes)
    return `${redact(text, secrets)}\n… (${bytes.byteLength} bytes in all; the first ${BODY_LIMIT} shown)`;
  const json = contentType !== null && /[/+]json\b/i.test(contentType);
  return redact(json || /^\s*[[{]/.test(text) ? prettyJson(text) : text, secrets);
}

async function describeBody(
  body: RequestInit["body"],
  secrets: readonly string[],
): Promise<{ shown?: string; sent?: SentRequest["body"] }> {
  if (body === undefined || body === null) return {};
  if (typeof body === "string") {
    const clean = redact(body, secrets);
    return { shown: prettyJson(clean), sent: { kind: "text", text: clean } };
  }
  if (body instanceof URLSearchParams) {
    const clean = redact(body.toString(), secrets);
    return { shown: clean, sent: { kind: "text", text: clean } };
  }
  if (body instanceof FormData) {
    const parts: Array<
      { name: string; value: string } | { name: string; file: { name: string; type: string; size: number } }
    > = [];
    const lines = ["multipart/form-data"];
    for (const [name, value] of body.entries()) {
      if (typeof value === "string") {
        const clean = redact(value, secrets);
        parts.push({ name, value: clean });
        lines.push(`${name}: ${clean}`);
      } else {
        const file = { name: redact(value.name, secrets), type: value.type, size: value.size };
        parts.push({ name, file });
        lines.push(`${name}: <file ${file.name}, ${file.type || "no type"}, ${file.size} bytes>`);
      }
    }
    return { shown: lines.join("\n"), sent: { kind: "form", parts } };
  }
  if (body instanceof Uint8Array || body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
    const size = body.byteLength;
    return { shown: `<${size} bytes>`, sent: { kind: "bytes", size } };
  }
  if (body instanceof Blob)
    return { shown: `<${body.size} bytes>`, sent: { kind: "bytes", size: body.size } };
  return { shown: "<a stream>" };
}

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * Wraps `base` so that every call is recorded in `sink`. `secrets` is asked at each call (an OAuth token
 * changes on refresh). The answer is read whole, recorded, and handed on as a fresh `Response`.
 */
export function recordingFetch(
  base: FetchLike,
  sink: Recorded[],
  secrets: () => readonly string[],
  observe?: ExchangeObserver,
): FetchLike {
  return async (input, init) => {
    const started = performance.now();
    const known = secrets();
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    const raw = headerRecord(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    const headers: Record<string, string> = {};
    const sentHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(raw)) {
      if (name === "authorization") {
        headers[name] = maskAuthorization(value);
        continue;
      }
      headers[name] = redact(value, known);
      sentHeaders[name] = headers[name];
    }
    const body = await describeBody(init?.body, known);
    const shownUrl = redact(url, known);
    const exchange: Exchange = {
      request: { method, url: shownUrl, headers, ...(body.shown !== undefined ? { body: body.shown } : {}) },
      ms: 0,
    };
    const recorded: Recorded = {
      exchange,
      sent: {
        method,
        url: shownUrl,
        headers: sentHeaders,
        authScheme: schemeOf(raw.authorization),
        ...(body.sent ? { body: body.sent } : {}),
      },
    };
    sink.push(recorded);
    const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
    let response: Response;
    let bytes: Uint8Array;
    try {
      response = await base(input, init);
    } catch (error) {
      exchange.ms = elapsed();
      exchange.error = redact(error instanceof Error ? error.message : String(error), secrets());
      throw error;
    }
    try {
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      exchange.ms = elapsed();
      exchange.response = { status: response.status, headers: headerRecord(response.headers) };
      exchange.error = redact(error instanceof Error ? error.message : String(error), secrets());
      throw error;
    }
    exchange.ms = elapsed();
    const after = secrets();
    const responseHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      responseHeaders[name] = redact(value, after);
    });
    exchange.response = {
      status: response.status,
      headers: responseHeaders,
      body: showBody(bytes, response.headers.get("content-type"), after),
    };
    recorded.responseHeaders = response.headers;
    observe?.({ method, url, body: init?.body }, { status: response.status, bytes });
    return new Response(NULL_BODY.has(response.status) ? null : bytes, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}
