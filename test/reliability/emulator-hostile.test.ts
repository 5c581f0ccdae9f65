/**
 * The emulator's write routes under hostile bodies, over HTTP. Every POST, PATCH and DELETE it implements (read
 * from its route table) is sent malformed JSON, empty bodies, the wrong media type, bodies just at and just over
 * its size limit (with a Content-Length, with one that lies, and streamed without one), JSON nested absurdly
 * deep, the wrong JSON:API type, unknown members at every level, the wrong JSON type at every member, and then
 * random documents and random mutations of a valid body (fast-check, fixed seeds). Every answer must be the
 * right 4xx in Klaviyo's error format, never a 500, and every read must still answer afterwards. All of it runs
 * in-process and on a real port. Event ingestion limits: emulator-hostile-events.test.ts; reads:
 * emulator-hostile-queries.test.ts.
 */
import { request as httpRequest } from "node:http";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_JSON_BYTES, MAX_JSON_DEPTH } from "../../src/emulator/body.js";
import { MULTIPART_LIMIT, URL_BODY_LIMIT } from "../../src/emulator/resources/images-upload.js";
import { IMPORT_JOB_LIMITS } from "../../src/emulator/resources/profile-import-jobs.js";
import { PROFILE_BODY_LIMIT } from "../../src/emulator/resources/profiles-body.js";
import { EVENT_LIMITS } from "../../src/klaviyo/event-limits.js";
import { allOperations, type Operation } from "../../src/klaviyo/operations.js";
import { MAX_EVENTS_PER_DELIVERY } from "../../src/klaviyo/webhooks.js";
import { klaviyoHeaders } from "../emulator/helpers.js";
import {
  BODIES,
  type BodyFixture,
  concretePath,
  IMPLEMENTED,
  imageForm,
  type Json,
  MULTIPART_OPERATION,
  READ_OPERATIONS,
  TINY_GIF,
  unique,
  WRITE_OPERATIONS,
} from "./hostile-fixtures.js";
import {
  type Body,
  counted,
  countOne,
  eachTarget,
  errorDocumentProblem,
  isRecord,
  type Node,
  nodes,
  probes,
  reportCounts,
  send,
  type Target,
  to,
  type Want,
  withValue,
} from "./hostile-harness.js";

const JSON_OPS = WRITE_OPERATIONS.filter((op) => BODIES[op.id] !== undefined);
const BODYLESS_OPS = WRITE_OPERATIONS.filter((op) => !BODIES[op.id] && op.id !== MULTIPART_OPERATION);
const MULTIPART = WRITE_OPERATIONS.find((op) => op.id === MULTIPART_OPERATION) as Operation;
const fixture = (op: Operation) => BODIES[op.id] as BodyFixture;
const valid = (t: Target, op: Operation) => JSON.stringify(fixture(op).body(t.seeds));
const FORM = "multipart/form-data; boundary=x";

/** Bytes each route reads at most (its 413 threshold). */
function bodyLimit(op: Operation): number {
  if (op.id === "create_profile" || op.id === "update_profile" || op.id === "create_or_update_profile")
    return PROFILE_BODY_LIMIT;
  if (op.id === "upload_image_from_url") return URL_BODY_LIMIT;
  if (op.id === "bulk_import_profiles") return IMPORT_JOB_LIMITS.bytes;
  if (op.id === MULTIPART_OPERATION) return MULTIPART_LIMIT;
  return MAX_JSON_BYTES;
}

/** `doc` serialised and padded with trailing whitespace (still valid JSON) to exactly `size` bytes. */
function padded(doc: Json, size: number): Uint8Array {
  const bytes = Buffer.alloc(size, 0x20);
  const json = Buffer.from(JSON.stringify(doc));
  if (json.byteLength > size) throw new Error(`body of ${json.byteLength} bytes exceeds ${size}`);
  json.copy(bytes);
  return new Uint8Array(bytes);
}

/** A body streamed in 64 KiB chunks without a Content-Length (chunked on a socket), `size` bytes in all. */
function stream(size: number): ReadableStream<Uint8Array> {
  let sent = 0;
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  return new ReadableStream({
    pull(controller) {
      if (sent >= size) return controller.close();
      const n = Math.min(chunk.byteLength, size - sent);
      sent += n;
      controller.enqueue(n === chunk.byteLength ? chunk : chunk.slice(0, n));
    },
  });
}

/**
 * Over a socket: declares `declared` bytes, sends 1 KiB and never the rest. Only an answer made from the header
 * alone can arrive; a server that waited for the body would hang the test.
 */
function lyingContentLength(t: Target, op: Operation, declared: number, type: string): Promise<Response> {
  countOne();
  return new Promise((resolve, reject) => {
    const headers = { ...klaviyoHeaders(), "Content-Type": type, "Content-Length": String(declared) };
    const path = concretePath(op, t.seeds);
    const req = httpRequest({ host: "127.0.0.1", port: t.port, method: op.method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        req.destroy();
        const answer = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") answer.set(k, v);
        resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0, headers: answer }));
      });
    });
    req.on("error", reject);
    req.write(Buffer.alloc(1024, 0x20));
  });
}

const under = (pointer: string, prefixes: readonly string[] = []) =>
  prefixes.some((p) => pointer.startsWith(`${p}/`));

/** A value of another JSON type than `value`. */
function wrongType(value: Json): Json {
  if (typeof value === "string") return 12345;
  if (typeof value === "number") return "not a number";
  if (typeof value === "boolean") return "not a boolean";
  if (Array.isArray(value)) return { not: "an array" };
  if (isRecord(value)) return "not an object";
  return [];
}

/** JSON text nested `levels` deep (built as text: serialising such a value would overflow the stack here too). */
const deepText = (levels: number) => `${'[{"d":'.repeat(levels)}"bottom"${"}]".repeat(levels)}`;

reportCounts("emulator-hostile");

describe("the route table", () => {
  it("every write route has a valid body fixture, takes multipart, or deletes one resource without a body", () => {
    const uncovered = WRITE_OPERATIONS.filter(
      (op) => !(BODIES[op.id] || op === MULTIPART || (op.method === "DELETE" && op.path.endsWith("/{id}"))),
    );
    expect(uncovered.map((op) => op.id)).toEqual([]);
    expect(Object.keys(BODIES).filter((id) => !IMPLEMENTED.some((op) => op.id === id))).toEqual([]);
    expect(WRITE_OPERATIONS.length).toBeGreaterThanOrEqual(23);
    expect(READ_OPERATIONS.length).toBeGreaterThanOrEqual(24);
  });
});

eachTarget("write routes under hostile bodies", (target, name) => {
  it("accept their fixtures as they are, so each hostile case differs by what it breaks", async () => {
    counted("valid fixtures");
    const t = target();
    const p = probes(t);
    for (const op of JSON_OPS) await p.check(op.id, to(t, op, valid(t, op)), { status: fixture(op).status });
    await p.check(MULTIPART.id, to(t, MULTIPART, imageForm(), null), { status: 201 });
    p.done();
  });

  it("answer malformed JSON with 400 parse_error", async () => {
    counted("malformed JSON");
    const t = target();
    const p = probes(t);
    const malformed: Array<[string, Body]> = [
      ["truncated", '{"data": {"type": "list"'],
      ["trailing comma", '{"data": {"type": "list",}}'],
      ["single quotes", "{'data': {'type': 'list'}}"],
      ["two documents", '{"data": {}}{"data": {}}'],
      ["a bare word", "undefined"],
      ["NaN", '{"data": NaN}'],
      ["unterminated string", '{"data": "abc'],
      ["invalid UTF-8", new Uint8Array([0x7b, 0xff, 0xfe, 0xfd, 0x7d])],
      ["NUL bytes", "\u0000\u0000\u0000"],
      ["ten thousand open brackets", "[".repeat(10_000)],
      ["a comment", '{"data": {} /* hi */}'],
    ];
    const want: Want = { status: 400, code: "parse_error" };
    for (const op of JSON_OPS) {
      for (const [label, body] of malformed) await p.check(`${op.id} ${label}`, to(t, op, body), want);
    }
    await p.check("broken multipart", to(t, MULTIPART, "--x\r\nnot a part", FORM), want);
    await p.check("multipart without boundary", to(t, MULTIPART, "garbage", "multipart/form-data"), want);
    p.done();
  });

  it("answer an empty body with 400 parse_error, and a document that is not an object with 400 invalid", async () => {
    counted("empty body");
    const t = target();
    const p = probes(t);
    for (const op of JSON_OPS) {
      for (const body of ["", "  \r\n\t "]) {
        await p.check(`${op.id} ${JSON.stringify(body)}`, to(t, op, body), {
          status: 400,
          code: "parse_error",
        });
      }
      await p.check(`${op.id} no body`, to(t, op, null, null), { status: 400, code: "parse_error" });
      for (const body of ["null", "[]", '"data"', "42", "{}"]) {
        await p.check(`${op.id} ${body}`, to(t, op, body), { status: 400, code: "invalid" });
      }
    }
    await p.check("empty multipart", to(t, MULTIPART, "", FORM), { status: 400, code: "parse_error" });
    p.done();
  });

  it("answer a media type other than theirs with 415; JSON's own variants are accepted", async () => {
    counted("media types");
    const t = target();
    const p = probes(t);
    const refused = ["text/plain", "application/xml", "application/x-www-form-urlencoded", FORM, "json"];
    for (const op of JSON_OPS) {
      for (const type of [...refused, "application/vnd.api+jsonx"]) {
        await p.check(`${op.id} ${type}`, to(t, op, valid(t, op), type), {
          status: 415,
          code: "unsupported_media_type",
        });
      }
      for (const type of [
        "application/json",
        "application/vnd.api+json; charset=utf-8",
        "APPLICATION/JSON",
      ]) {
        await p.check(`${op.id} ${type}`, to(t, op, valid(t, op), type), { status: fixture(op).status });
      }
      // A byte order mark is no reason to refuse a document (RFC 8259 lets a parser ignore it).
      await p.check(`${op.id} BOM`, to(t, op, `\uFEFF${valid(t, op)}`), { status: fixture(op).status });
    }
    for (const type of ["application/vnd.api+json", "application/json", "image/gif", "text/plain"]) {
      await p.check(`image upload ${type}`, to(t, MULTIPART, TINY_GIF, type), {
        status: 415,
        code: "unsupported_media_type",
      });
    }
    p.done();
  });

  it("read a body exactly at their size limit; one byte over is 413, with a length or streamed without one", async () => {
    counted("body size limits");
    const t = target();
    const p = probes(t);
    const tooLarge: Want = { status: 413, code: "request_too_large" };
    for (const op of JSON_OPS) {
      const limit = bodyLimit(op);
      const doc = () => fixture(op).body(t.seeds);
      await p.check(`${op.id} ${limit} bytes`, to(t, op, padded(doc(), limit)), {
        status: fixture(op).status,
      });
      await p.check(`${op.id} ${limit}+1 bytes`, to(t, op, padded(doc(), limit + 1)), tooLarge);
      await p.check(`${op.id} ${limit}+1 streamed`, to(t, op, stream(limit + 1)), tooLarge);
    }
    await p.check("image upload streamed", to(t, MULTIPART, stream(MULTIPART_LIMIT + 1), FORM), tooLarge);
    p.done();
  });

  it("refuse a Content-Length over their limit from the header alone, before reading the body", async () => {
    counted("declared Content-Length over the limit");
    const t = target();
    const p = probes(t);
    for (const op of [...JSON_OPS, MULTIPART]) {
      const type = op === MULTIPART ? FORM : "application/vnd.api+json";
      const declared = String(bodyLimit(op) + 1);
      const res =
        t.port === undefined
          ? // In-process the header is taken as given whatever the body: the refusal must not depend on it.
            await send(t, { ...to(t, op, "{}", type), headers: { "Content-Length": declared } })
          : await lyingContentLength(t, op, Number(declared), type);
      await p.answer(op.id, res, { status: 413, code: "request_too_large" });
    }
    p.done();
  });

  it("refuse JSON nested deeper than any Klaviyo document, wherever it hides (free-form members too)", async () => {
    counted("deep nesting");
    const t = target();
    const p = probes(t);
    expect(MAX_JSON_DEPTH).toBeGreaterThanOrEqual(EVENT_LIMITS.depth + 4);
    const inside = (doc: Json, at: readonly (string | number)[], text: string) =>
      JSON.stringify(withValue(doc, at, "@DEEP@")).replace('"@DEEP@"', text);
    for (const op of JSON_OPS) {
      const f = fixture(op);
      await p.check(`${op.id} /data`, to(t, op, `{"data":${deepText(10_000)}}`), { status: 400 });
      for (const free of f.freeForm ?? []) {
        const member = [...nodes(f.body(t.seeds))].find((n) => n.pointer === free);
        if (!member) throw new Error(`${op.id}: no member at ${free}`);
        const at = [...member.path, "deep"];
        const deep = inside(f.body(t.seeds), at, deepText(2_500));
        await p.check(`${op.id} ${free}/deep`, to(t, op, deep), { status: 400 });
        // Two levels per `[{"d": …}]`; shallow enough for every limit, events' included.
        const shallow = inside(f.body(t.seeds), at, deepText((EVENT_LIMITS.depth - 4) / 2));
        await p.check(`${op.id} ${free}/shallow`, to(t, op, shallow), { status: f.status });
      }
    }
    p.done();
  });

  it("answer a wrong JSON:API type with 409 conflict at /data/type, and a wrong nested type pointing at it", async () => {
    counted("wrong JSON:API type");
    const t = target();
    const p = probes(t);
    for (const op of JSON_OPS) {
      const f = fixture(op);
      for (const node of nodes(f.body(t.seeds))) {
        if (
          node.path.at(-1) !== "type" ||
          typeof node.value !== "string" ||
          under(node.pointer, f.freeForm)
        ) {
          continue;
        }
        const primary = /^\/data(\/\d+)?\/type$/.test(node.pointer);
        const want: Want = primary
          ? { status: 409, code: "conflict", pointer: node.pointer }
          : { status: [400, 409], pointer: node.pointer };
        const body = JSON.stringify(withValue(f.body(t.seeds), node.path, "zz-not-a-type"));
        await p.check(`${op.id} ${node.pointer}`, to(t, op, body), want);
      }
    }
    p.done();
  });

  it("answer a PATCH whose data.id is not the path's id with 400 at /data/id", async () => {
    counted("PATCH id mismatch");
    const t = target();
    const p = probes(t);
    for (const op of JSON_OPS.filter((o) => o.method === "PATCH")) {
      const body = JSON.stringify(withValue(fixture(op).body(t.seeds), ["data", "id"], "XXXXXX"));
      await p.check(op.id, to(t, op, body), { status: 400, pointer: "/data/id" });
    }
    p.done();
  });

  it("answer an unknown member at any level with 400 naming it; free-form members take any", async () => {
    counted("unknown members");
    const t = target();
    const p = probes(t);
    const key = "zz_unknown_member";
    for (const op of JSON_OPS) {
      const f = fixture(op);
      for (const node of nodes(f.body(t.seeds))) {
        if (!isRecord(node.value) || under(node.pointer, f.freeForm)) continue;
        const want: Want = f.freeForm?.includes(node.pointer)
          ? { status: f.status }
          : { status: 400, pointer: `${node.pointer}/${key}`, unknownKey: key };
        const body = JSON.stringify(withValue(f.body(t.seeds), [...node.path, key], "surprise"));
        await p.check(`${op.id} ${node.pointer || "(top)"}`, to(t, op, body), want);
      }
    }
    p.done();
  });

  it("answer a value of the wrong JSON type at any member with 400 pointing at it", async () => {
    counted("wrong types");
    const t = target();
    const p = probes(t);
    for (const op of JSON_OPS) {
      const f = fixture(op);
      for (const node of nodes(f.body(t.seeds))) {
        if (node.path.length === 0 || node.value === null || under(node.pointer, f.freeForm)) continue;
        if (f.anyType?.includes(node.pointer)) continue;
        const body = JSON.stringify(withValue(f.body(t.seeds), node.path, wrongType(node.value)));
        await p.check(`${op.id} ${node.pointer}`, to(t, op, body), { status: 400, pointer: node.pointer });
      }
    }
    p.done();
  });

  it("delete one resource whatever body comes with the request (it is not read)", async () => {
    counted("bodyless deletes");
    const t = target();
    const p = probes(t);
    for (const op of BODYLESS_OPS) {
      const collection = op.path.split("/").at(-2) as string;
      const make = t.fresh[collection];
      if (!make) throw new Error(`no maker of fresh ${collection}`);
      for (const [body, type] of [
        ["{not json", "application/vnd.api+json"],
        ["<xml/>", "text/xml"],
        ["", "application/vnd.api+json"],
      ]) {
        const path = op.path.replace("{id}", await make());
        await p.check(
          `${op.id} ${type}`,
          { method: "DELETE", path, body, contentType: type },
          { status: 204 },
        );
        await p.check(`${op.id} again`, { method: "DELETE", path, contentType: null }, { status: 404 });
      }
    }
    p.done();
  });

  it("answer a method no operation has on their paths with 404 not_found (one Klaviyo has, not emulated: 501)", async () => {
    counted("wrong methods");
    const t = target();
    const p = probes(t);
    const methodsAt = (ops: Iterable<Operation>, path: string) =>
      new Set([...ops].filter((o) => o.path === path).map((o) => o.method as string));
    for (const op of WRITE_OPERATIONS) {
      const path = concretePath(op, t.seeds);
      const taken = methodsAt(IMPLEMENTED, op.path);
      // Klaviyo's own operations on the path (Delete Flow beside Update Flow): the emulator does not answer them
      // as if they did not exist, but with its 501 for what it does not emulate.
      const documented = methodsAt(allOperations(), op.path);
      for (const method of ["PUT", "POST", "PATCH", "DELETE"].filter((m) => !taken.has(m))) {
        await p.check(
          `${method} ${op.path}`,
          { method, path, body: "{}" },
          documented.has(method)
            ? { status: 501, code: "not_implemented" }
            : { status: 404, code: "not_found" },
        );
      }
    }
    p.done();
  });

  it("keep a webhook's secret out of the request log however the body writes it (escaped, doubled, cut short)", async () => {
    counted("webhook secrets in the request log");
    const t = target();
    const p = probes(t);
    const secrets: string[] = [];
    /** The fixture's body as text, its `"secret_key":"…"` member replaced by `write` of a new secret. */
    const withSecret = (op: Operation, write: (secret: string) => string) => {
      const secret = unique("whsec-hidden-");
      secrets.push(secret);
      const text = valid(t, op).replace(/"secret_key":"[^"]*"/, write(secret));
      if (!text.includes(secret.slice(1))) throw new Error(`${op.id}: no secret_key in the fixture`);
      return { secret, text };
    };
    const unparsed: Want = { status: 400, code: "parse_error" };
    for (const id of ["create_webhook", "update_webhook"]) {
      const op = JSON_OPS.find((o) => o.id === id) as Operation;
      const ok: Want = { status: fixture(op).status };
      // A body that ends inside the secret's string.
      const cut = withSecret(op, (secret) => `"secret_key":"${secret}"`);
      const cases: Array<[string, string, Want]> = [
        ["escaped key", withSecret(op, (secret) => `"secret\\u005fkey":"${secret}"`).text, ok],
        [
          "escaped value",
          // "w", the secrets' first letter, escaped.
          withSecret(op, (secret) => `"secret_key":"\\u0077${secret.slice(1)}"`).text,
          ok,
        ],
        [
          "doubled key",
          withSecret(op, (secret) => `"secret_key":"${secret}","secret_key":"${secret}"`).text,
          ok,
        ],
        ["cut short", cut.text.slice(0, cut.text.indexOf(cut.secret) + cut.secret.length), unparsed],
        [
          "not a string",
          withSecret(op, (secret) => `"secret_key":["${secret}"]`).text,
          { status: 400, pointer: "/data/attributes/secret_key" },
        ],
      ];
      for (const [label, body, want] of cases) await p.check(`${id} ${label}`, to(t, op, body), want);
    }
    const log = JSON.stringify(t.em.requests);
    // Its tail: the "escaped value" body carries `\u0077hsec-hidden-N`, so the whole secret never appears there.
    for (const secret of secrets)
      if (log.includes(secret.slice(1))) p.note(`the request log holds ${secret}`);
    p.done();
  });

  it("Upload Image From File: no file, a text part, bytes that are no image, a bad flag are 400 at the part", async () => {
    counted("multipart forms");
    const t = target();
    const p = probes(t);
    const noFile = new FormData();
    noFile.append("name", "x");
    const text = new FormData();
    text.append("file", "just text");
    const notImage = new FormData();
    notImage.append("file", new Blob(["<script>alert(1)</script>"], { type: "image/png" }), "x.png");
    const hidden = imageForm();
    hidden.append("hidden", "maybe");
    const cases: Array<[string, FormData, string]> = [
      ["no file", noFile, "/data/attributes/file"],
      ["a text part", text, "/data/attributes/file"],
      ["not an image", notImage, "/data/attributes/file"],
      ["hidden=maybe", hidden, "/data/attributes/hidden"],
    ];
    for (const [label, form, pointer] of cases) {
      await p.check(label, to(t, MULTIPART, form, null), { status: 400, pointer });
    }
    p.done();
  });

  describe("random input (fast-check, fixed seeds)", () => {
    const share = name === "in-process" ? 1 : 0.25;
    /** Never a 5xx; an error is a 4xx in Klaviyo's format; a success is only the route's own. */
    const acceptable = async (res: Response, success: number): Promise<void> => {
      const text = await res.text();
      if (res.status === success) return;
      if (![400, 404, 409, 413, 415].includes(res.status))
        throw new Error(`HTTP ${res.status}: ${text.slice(0, 300)}`);
      const problem = errorDocumentProblem(res, text);
      if (problem) throw new Error(problem);
    };
    const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
    const hostileText = fc.oneof(
      fc.string({ unit: "binary", maxLength: 40 }),
      fc
        .array(
          fc.oneof(
            loneSurrogate,
            fc.constantFrom("{", "}", "[", "]", '"', ":", ",", "\\", "\u0000", "1e999"),
          ),
          {
            maxLength: 16,
          },
        )
        .map((parts) => parts.join("")),
    );
    const jsonish = fc.jsonValue({ maxDepth: 6 }) as fc.Arbitrary<Json>;

    it("any JSON document, or any text, sent to any write route", async () => {
      counted("random bodies");
      const t = target();
      const body = fc.oneof(
        jsonish.map((v) => JSON.stringify(v)),
        hostileText,
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...JSON_OPS), body, async (op, text) => {
          await acceptable(await send(t, to(t, op, text)), fixture(op).status);
        }),
        { numRuns: Math.round(600 * share), seed: 0x8b01 },
      );
    });

    it("a valid body with one member replaced, removed or added, at any depth", async () => {
      counted("random mutations of valid bodies");
      const t = target();
      const mutation = fc.record({
        op: fc.constantFrom(...JSON_OPS),
        pick: fc.nat(),
        kind: fc.constantFrom("replace", "remove", "add"),
        value: fc.oneof(jsonish, hostileText),
        key: fc.oneof(fc.string({ maxLength: 8 }), loneSurrogate, fc.constantFrom("__proto__", "type", "id")),
      });
      await fc.assert(
        fc.asyncProperty(mutation, async ({ op, pick, kind, value, key }) => {
          const doc = fixture(op).body(t.seeds);
          const all = [...nodes(doc)];
          const node = all[pick % all.length] as Node;
          const changed =
            kind === "remove"
              ? withValue(doc, node.path, undefined)
              : kind === "add" && isRecord(node.value)
                ? withValue(doc, [...node.path, key], value)
                : withValue(doc, node.path, value);
          await acceptable(await send(t, to(t, op, JSON.stringify(changed))), fixture(op).status);
        }),
        { numRuns: Math.round(1500 * share), seed: 0x8b02 },
      );
    });
  });

  // Last: the events accepted above (Create Event's, the subscribe jobs' consent events) are the fixtures' webhooks'
  // topics. In-process the requests above never let the batching window's timer fire: the batch goes out only now.
  it("deliver the events they accepted to the webhooks subscribed, each delivery tried once and given up", async () => {
    const t = target();
    await t.em.settleWebhooks();
    const attempts = t.em.webhookDeliveries;
    expect(attempts.length).toBeGreaterThan(0);
    expect(attempts.filter((a) => a.status !== null || a.outcome !== "failed" || a.attempt !== 1)).toEqual(
      [],
    );
    // Each a real attempt that got no answer: it carried events (within Klaviyo's batch limit, each once) of
    // topics, and says why it failed.
    expect(
      attempts.filter(
        (a) =>
          a.eventIds.length < 1 ||
          a.eventIds.length > MAX_EVENTS_PER_DELIVERY ||
          new Set(a.eventIds).size !== a.eventIds.length ||
          a.topics.length < 1 ||
          typeof a.error !== "string" ||
          a.error.length === 0,
      ),
    ).toEqual([]);
    // Tried once: no event went to the same webhook twice, and each attempt is logged once.
    const sent = attempts.flatMap((a) => a.eventIds.map((id) => `${a.webhookId} ${id}`));
    expect(new Set(sent).size).toBe(sent.length);
    expect(new Set(attempts.map((a) => a.id)).size).toBe(attempts.length);
  });
});
