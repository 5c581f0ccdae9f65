/**
 * The harness of the emulator's hostile-input tests (emulator-hostile*.test.ts): the same emulator in-process
 * and on a real port, requests counted per section, and the one check every answer goes through: the status
 * wanted and, for an error, Klaviyo's error document (every entry with id, status, code, title, detail, a
 * `source.pointer` or `source.parameter`, links and meta), pointing where it should.
 */
import { afterAll, afterEach, beforeAll, describe, expect } from "vitest";
import { stopWebhookDeliveries } from "../../src/emulator/app.js";
import { createEmulator, type Emulator, startEmulator } from "../../src/emulator/index.js";
import { TABLE_NAMES } from "../../src/emulator/state.js";
import { isObject as isRecord } from "../../src/klaviyo/formats.js";
import type { Operation } from "../../src/klaviyo/operations.js";
import { klaviyoHeaders } from "../emulator/helpers.js";
import { checkedFetch, type FetchLike } from "../helpers/contract.js";
import {
  concretePath,
  type Json,
  makers,
  READ_OPERATIONS,
  type Seeds,
  seedResources,
} from "./hostile-fixtures.js";

export interface Target {
  readonly name: string;
  readonly em: Emulator;
  readonly base: string;
  /** Fetch whose answers are held against Klaviyo's OpenAPI document (the requests are hostile on purpose). */
  readonly fetch: FetchLike;
  /** The port, on a real one: for requests `fetch` cannot make (a Content-Length that lies). */
  readonly port?: number;
  readonly seeds: Seeds;
  /** Makers of fresh resources by collection (`lists`), for deletes. */
  readonly fresh: Readonly<Record<string, () => Promise<string>>>;
  close(): Promise<void>;
}

/**
 * No rate limits, and no retries of webhook deliveries: the seeded webhooks deliver to a port that refuses
 * (`REFUSING_ENDPOINT`), and a failed delivery is given up at once instead of waiting hours between retries.
 */
const OPTIONS = { rateLimits: "off", webhookRetryDelaysMs: [] } as const;

async function makeTarget(name: string): Promise<Target> {
  let em: Emulator;
  let base: string;
  let fetchImpl: FetchLike;
  let port: number | undefined;
  let close = async () => {};
  if (name === "in-process") {
    const inProcess = createEmulator(OPTIONS);
    em = inProcess;
    base = em.baseUrl;
    fetchImpl = em.fetch;
    // A server's close stops its deliveries; an emulator in-process has no close, so they are stopped here.
    close = async () => stopWebhookDeliveries(inProcess);
  } else {
    const running = await startEmulator(OPTIONS);
    ({ emulator: em, url: base, port } = running);
    fetchImpl = (input, init) => fetch(input, init);
    close = () => running.close();
  }
  const checked = checkedFetch(fetchImpl, { requests: false });
  const seeds: Record<string, string> = {};
  Object.assign(seeds, await seedResources(em, checked, base));
  return { name, em, base, fetch: checked, port, seeds, fresh: makers(checked, base, () => seeds), close };
}

// ---------------------------------------------------------------------------------------------------------------
// Counting, for docs/RELIABILITY.md: every file logs its sections' request counts when it ends.

const counts = new Map<string, number>();
let section = "setup";

/** Requests sent from now on count under `name`. */
export function counted(name: string): void {
  section = name;
}

export function countOne(): void {
  counts.set(section, (counts.get(section) ?? 0) + 1);
}

export type Body = NonNullable<RequestInit["body"]>;

export interface Sent {
  readonly method: string;
  readonly path: string;
  readonly body?: Body | null;
  /** `null`: no Content-Type at all (FormData sets its own). Default: JSON:API's. */
  readonly contentType?: string | null;
  readonly headers?: Record<string, string>;
}

export function send(t: Target, sent: Sent): Promise<Response> {
  countOne();
  const headers = klaviyoHeaders(undefined, sent.headers);
  if (sent.contentType !== null) headers["Content-Type"] = sent.contentType ?? "application/vnd.api+json";
  const streamed = sent.body instanceof ReadableStream;
  return t.fetch(`${t.base}${sent.path}`, {
    method: sent.method,
    headers,
    body: sent.body ?? null,
    ...(streamed ? { duplex: "half" } : {}),
  } as RequestInit);
}

/** A request to `op` on the target's seeded resources. */
export function to(t: Target, op: Operation, body: Body | null, contentType?: string | null): Sent {
  return { method: op.method, path: concretePath(op, t.seeds), body, contentType };
}

/** A GET of `op` with this query. */
export function query(t: Target, op: Operation, search: string): Sent {
  return { method: "GET", path: `${concretePath(op, t.seeds)}?${search}`, contentType: null };
}

// ---------------------------------------------------------------------------------------------------------------
// What a right answer looks like.

interface ErrorEntry {
  code: string;
  detail: string;
  source: { pointer?: string; parameter?: string };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export { isRecord };

/** What is wrong with an error answer as Klaviyo's error document, if anything. */
export function errorDocumentProblem(res: Response, text: string): string | undefined {
  const head = text.slice(0, 200);
  if (res.headers.get("content-type") !== "application/vnd.api+json")
    return `content-type ${res.headers.get("content-type")}: ${head}`;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return `not JSON: ${head}`;
  }
  const errors = isRecord(doc) ? doc.errors : undefined;
  if (!Array.isArray(errors) || errors.length === 0) return `no errors[]: ${head}`;
  for (const e of errors as unknown[]) {
    if (!isRecord(e)) return `an error is not an object: ${head}`;
    if (typeof e.id !== "string" || !UUID.test(e.id)) return `error id ${String(e.id)} is not a UUID`;
    if (e.status !== res.status) return `error status ${String(e.status)} != HTTP ${res.status}`;
    for (const m of ["code", "title", "detail"]) {
      if (typeof e[m] !== "string" || e[m] === "") return `error ${m} missing: ${head}`;
    }
    const source = e.source;
    if (!isRecord(source)) return `error source missing: ${head}`;
    const pointer = typeof source.pointer === "string" && source.pointer.startsWith("/");
    const parameter = typeof source.parameter === "string" && source.parameter !== "";
    if (!(pointer || parameter)) return `error source names neither pointer nor parameter: ${head}`;
    if (!isRecord(e.links) || !isRecord(e.meta)) return `error links/meta missing: ${head}`;
  }
  return undefined;
}

export interface Want {
  readonly status: number | readonly number[];
  readonly code?: string;
  /** Some error points at this member (or, with `unknownKey`, at its parent naming the key). */
  readonly pointer?: string;
  readonly unknownKey?: string;
  readonly parameter?: string;
}

/** Why `res` is not the answer wanted (status, error format, code, pointer or parameter), or undefined. */
export async function mismatch(res: Response, want: Want): Promise<string | undefined> {
  const text = await res.text();
  const statuses = [want.status].flat();
  if (!statuses.includes(res.status))
    return `HTTP ${res.status}, want ${statuses.join("/")}: ${text.slice(0, 300)}`;
  if (res.status < 400) return undefined;
  const problem = errorDocumentProblem(res, text);
  if (problem) return problem;
  const errors = (JSON.parse(text) as { errors: ErrorEntry[] }).errors;
  const where = errors.map((e) => `${e.code}@${e.source.pointer ?? `?${e.source.parameter}`}`).join(", ");
  if (want.code && !errors.some((e) => e.code === want.code)) return `no ${want.code} error: ${where}`;
  const { pointer, unknownKey } = want;
  if (pointer !== undefined) {
    const parent = pointer.slice(0, pointer.lastIndexOf("/")) || "/";
    const at = (e: ErrorEntry) =>
      e.source.pointer === pointer ||
      (unknownKey !== undefined && e.source.pointer === parent && e.detail.includes(unknownKey));
    if (!errors.some(at)) return `no error at ${pointer}: ${where}`;
  }
  if (want.parameter !== undefined && !errors.some((e) => e.source.parameter === want.parameter))
    return `no error naming parameter ${want.parameter}: ${where}`;
  return undefined;
}

/** Collects every wrong answer of a test, so one failure lists them all. */
export function probes(t: Target) {
  const problems: string[] = [];
  return {
    async check(label: string, sent: Sent, want: Want): Promise<void> {
      const why = await mismatch(await send(t, sent), want);
      if (why) problems.push(`${label}: ${why}`);
    },
    async answer(label: string, res: Response, want: Want): Promise<void> {
      const why = await mismatch(res, want);
      if (why) problems.push(`${label}: ${why}`);
    },
    note(problem: string): void {
      problems.push(problem);
    },
    done(): void {
      expect(problems).toEqual([]);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// JSON documents: walking, pointing, changing.

export function pointerOf(path: readonly (string | number)[]): string {
  return path.map((p) => `/${String(p).replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}

export interface Node {
  readonly path: readonly (string | number)[];
  readonly pointer: string;
  readonly value: Json;
}

/** Every member of `value`, itself first, with its path and JSON pointer. */
export function* nodes(value: Json, path: (string | number)[] = []): Generator<Node> {
  yield { path, pointer: pointerOf(path), value };
  if (Array.isArray(value)) for (const [i, item] of value.entries()) yield* nodes(item, [...path, i]);
  else if (isRecord(value))
    for (const [k, item] of Object.entries(value)) yield* nodes(item as Json, [...path, k]);
}

/** A copy of `doc` with the member at `path` replaced (or removed, for `undefined`). */
export function withValue(doc: Json, path: readonly (string | number)[], value: Json | undefined): Json {
  const copy = structuredClone(doc);
  if (path.length === 0) return value ?? null;
  let at: Json = copy;
  for (const key of path.slice(0, -1)) at = (at as Record<string, Json>)[key as string] as Json;
  const last = path.at(-1) as string | number;
  if (value === undefined) {
    if (Array.isArray(at)) at.splice(last as number, 1);
    else delete (at as Record<string, Json>)[last];
  } else (at as Record<string, Json>)[last] = value;
  return copy;
}

/** Percent-encodes like encodeURIComponent, a lone surrogate becoming U+FFFD (as the URL parser makes it). */
export const encode = (s: string) =>
  encodeURIComponent(
    s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd"),
  );

/** Sent as written when it holds percent signs (the garbage is the point), encoded otherwise. */
export const raw = (s: string) => (s.includes("%") ? s : encode(s));

// ---------------------------------------------------------------------------------------------------------------

export const TARGETS = ["in-process", "real port"] as const;

/** The status every read answers after every test: nothing hostile may leave the emulator unable to serve. */
async function expectStillServing(t: Target): Promise<void> {
  counted("keeps serving (reads after each test)");
  const broken: string[] = [];
  for (const op of READ_OPERATIONS) {
    const params = [
      op.id === "get_campaigns" ? "filter=equals(messages.channel,'email')" : "",
      op.pageSize ? "page[size]=1" : "",
    ];
    const res = await send(t, query(t, op, params.filter(Boolean).join("&")));
    if (res.status !== 200) broken.push(`${op.id}: ${res.status} ${(await res.text()).slice(0, 200)}`);
    else await res.body?.cancel();
  }
  // Everything stored must still serialise, as rendering any page of it and saving a snapshot do.
  for (const table of TABLE_NAMES) {
    try {
      JSON.stringify(t.em.state[table].toJSON());
    } catch (error) {
      broken.push(`${table}: ${String(error)}`);
    }
  }
  expect(broken).toEqual([]);
}

/**
 * Declares `suite` once per target, each with its own seeded emulator; after every test, every read must still
 * answer 200. `target()` is the emulator under test. Logs the request counts when the file ends.
 */
export function eachTarget(title: string, suite: (target: () => Target, name: string) => void): void {
  describe.each(TARGETS)(`${title} (%s)`, (name) => {
    let t: Target | undefined;
    beforeAll(async () => {
      t = await makeTarget(name);
    });
    afterAll(async () => {
      await t?.close();
    });
    afterEach(async () => {
      if (t) await expectStillServing(t);
    });
    suite(() => t as Target, name);
  });
}

/** Prints this file's request counts (the figures in docs/RELIABILITY.md). */
export function reportCounts(file: string): void {
  afterAll(() => {
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const lines = [...counts].map(([k, v]) => `  ${k}: ${v}`);
    console.info(`${file}: ${total} requests\n${lines.join("\n")}`);
  });
}
