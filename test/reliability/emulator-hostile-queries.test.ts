/**
 * The emulator's read routes under hostile query strings, over HTTP: filters with unbalanced quotes and
 * parentheses, page sizes out of bounds, cursors it never made, unknown `fields[…]`, `additional-fields[…]`,
 * `include` and `sort` values, percent-encoding garbage and lone surrogates, ids no resource can have, then any
 * query string at all (fast-check, fixed seed). Every refusal is a 400 naming the parameter (`source.parameter`)
 * in Klaviyo's error format, never a 500, and every answer's links are valid URIs (the contract check).
 * In-process and on a real port; every read route comes from the emulator's route table.
 */
import fc from "fast-check";
import { it } from "vitest";
import { OPERATION_PARAMETERS, type Operation } from "../../src/klaviyo/operations.js";
import { READ_OPERATIONS } from "./hostile-fixtures.js";
import {
  counted,
  eachTarget,
  encode,
  errorDocumentProblem,
  probes,
  query,
  raw,
  reportCounts,
  send,
  type Target,
} from "./hostile-harness.js";

const COLLECTIONS = READ_OPERATIONS.filter((op) => op.pageSize !== undefined);
const params = (op: Operation) => OPERATION_PARAMETERS[op.id] ?? {};
const b64 = (s: string) => Buffer.from(s).toString("base64url");

/** A GET with `search` after what the route always needs (List Campaigns requires a channel filter). */
function read(t: Target, op: Operation, search: string) {
  const base = params(op).filterRequired ? "filter=equals(messages.channel,'email')&" : "";
  return query(t, op, `${base}${search}`);
}

reportCounts("emulator-hostile-queries");

eachTarget("read routes under hostile query strings", (target, name) => {
  it("refuse bad filters (unbalanced quotes and parentheses, unknown fields, operators, garbage) with 400 filter", async () => {
    counted("hostile filters");
    const t = target();
    const p = probes(t);
    const bad = [
      "equals(email,'a",
      "equals(email,\"a')",
      "and(equals(id,'x')",
      "equals(id,'x'))",
      "))))((((",
      "equals(",
      "equals()",
      "equals(id)",
      "nope(id,'x')",
      "equals(zz_no_field,'x')",
      "any(id,['a','b')",
      `and(${"equals(id,'x'),".repeat(200)}`,
      "%E0%A4%A",
      "equals(id,'%ED%A0%80')'",
      "'",
      '"',
      ",",
    ];
    for (const op of COLLECTIONS.filter((o) => params(o).filters)) {
      for (const filter of bad) {
        await p.check(`${op.id} ${filter.slice(0, 40)}`, query(t, op, `filter=${raw(filter)}`), {
          status: 400,
          parameter: "filter",
        });
      }
    }
    // get_metrics pages without a page size of its own in the table; it is checked by the random queries below.
    for (const op of COLLECTIONS.filter((o) => !params(o).filters)) {
      await p.check(`${op.id} takes no filter`, read(t, op, "filter=equals(id,'x')"), {
        status: 400,
        parameter: "filter",
      });
    }
    p.done();
  });

  it("refuse page sizes out of bounds or not integers with 400 page[size]; the maximum itself is served", async () => {
    counted("hostile page sizes");
    const t = target();
    const p = probes(t);
    for (const op of COLLECTIONS) {
      const max = op.pageSize?.max as number;
      const sizes = [
        "0",
        "-1",
        String(max + 1),
        "1000000000",
        "1e3",
        "1.5",
        "abc",
        "",
        "%00",
        "9".repeat(400),
      ];
      for (const size of [...sizes, "0x10", "Infinity", "NaN", "\ud800"]) {
        await p.check(`${op.id} page[size]=${size.slice(0, 12)}`, read(t, op, `page[size]=${raw(size)}`), {
          status: 400,
          parameter: "page[size]",
        });
      }
      await p.check(`${op.id} page[size]=${max}`, read(t, op, `page[size]=${max}`), { status: 200 });
    }
    p.done();
  });

  it("refuse cursors the emulator never made with 400 page[cursor]; odd but well-formed ones are served", async () => {
    counted("hostile cursors");
    const t = target();
    const p = probes(t);
    const cursors = [
      "garbage!!",
      "%%%",
      "%E0%A4%A",
      b64("not json"),
      b64("null"),
      b64("{}"),
      b64("[]"),
      b64('{"s":"1","d":"n"}'),
      b64('{"s":1,"d":"sideways"}'),
      "A".repeat(4000),
      "\ud800",
    ];
    for (const op of COLLECTIONS) {
      for (const cursor of cursors) {
        await p.check(`${op.id} ${cursor.slice(0, 20)}`, read(t, op, `page[cursor]=${raw(cursor)}`), {
          status: 400,
          parameter: "page[cursor]",
        });
      }
      for (const cursor of [b64('{"k":{"a":[1]},"s":-1e308,"d":"n"}'), b64('{"k":null,"s":1e308,"d":"p"}')]) {
        await p.check(`${op.id} odd cursor`, read(t, op, `page[cursor]=${cursor}`), { status: 200 });
      }
    }
    p.done();
  });

  it("refuse unknown fields[…], additional-fields[…], include and sort values with 400 naming the parameter", async () => {
    counted("hostile fields, include and sort");
    const t = target();
    const p = probes(t);
    const garbage = ["%ED%A0%80", "\ud800"];
    for (const op of READ_OPERATIONS) {
      const { fieldsets = [], include, additionalFields = {}, sort } = params(op);
      for (const type of fieldsets) {
        for (const value of ["zz_no_field", "email,zz_no_field", "location..city", ...garbage]) {
          await p.check(`${op.id} fields[${type}]=${value}`, read(t, op, `fields[${type}]=${raw(value)}`), {
            status: 400,
            parameter: `fields[${type}]`,
          });
        }
      }
      if (fieldsets.length > 0) {
        await p.check(`${op.id} fields[zz-no-type]`, read(t, op, "fields[zz-no-type]=id"), {
          status: 400,
          parameter: "fields[zz-no-type]",
        });
      }
      // An include the route does not declare is refused too, wherever the route reads its query.
      if (include || fieldsets.length > 0) {
        for (const value of ["zz-nothing", ...garbage]) {
          await p.check(`${op.id} include=${value}`, read(t, op, `include=${raw(value)}`), {
            status: 400,
            parameter: "include",
          });
        }
      }
      for (const type of Object.keys(additionalFields)) {
        await p.check(
          `${op.id} additional-fields[${type}]`,
          read(t, op, `additional-fields[${type}]=zz_nothing`),
          {
            status: 400,
            parameter: `additional-fields[${type}]`,
          },
        );
      }
      if (sort && op.pageSize) {
        for (const value of ["zz_nothing", "--created", "-", "created,updated", ...garbage]) {
          await p.check(`${op.id} sort=${value}`, read(t, op, `sort=${raw(value)}`), {
            status: 400,
            parameter: "sort",
          });
        }
      }
    }
    p.done();
  });

  it("answer ids no resource can have (percent garbage, surrogates, control characters) with 404 not_found", async () => {
    counted("hostile ids");
    const t = target();
    const p = probes(t);
    const ids = [
      "%E0%A4%A",
      "%ED%A0%80",
      "%00",
      "%0d%0aX-Injected:%201",
      "..%2f..%2fetc",
      "%25",
      "x".repeat(2000),
    ];
    for (const op of READ_OPERATIONS.filter((o) => o.path.includes("{id}"))) {
      for (const id of ids) {
        const path = op.path.replace("{id}", id);
        await p.check(
          `${op.id} ${id.slice(0, 20)}`,
          { method: "GET", path, contentType: null },
          {
            status: 404,
            code: "not_found",
          },
        );
      }
    }
    p.done();
  });

  it("answer any query string on any read route with 200 or a 400 naming a parameter sent (fast-check)", async () => {
    counted("random query strings");
    const t = target();
    const names = [
      ...new Set(
        READ_OPERATIONS.flatMap((op) => {
          const p = params(op);
          return [
            ...(p.fieldsets ?? []).map((type) => `fields[${type}]`),
            ...Object.keys(p.additionalFields ?? {}).map((type) => `additional-fields[${type}]`),
          ];
        }),
      ),
      ...["filter", "sort", "include", "page[size]", "page[cursor]", "page[", "fields[]", "%ff", "\ud800"],
    ];
    const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
    const pieces = [
      "'",
      '"',
      "(",
      ")",
      ",",
      "[",
      "]",
      "%",
      "%ZZ",
      "%ED%A0%80",
      "\u0000",
      "\\",
      "equals(",
      "any(",
      "and(",
    ];
    const text = fc.oneof(
      fc.string({ unit: "binary", maxLength: 40 }),
      fc.array(fc.oneof(loneSurrogate, fc.constantFrom(...pieces)), { maxLength: 12 }).map((a) => a.join("")),
      fc.constantFrom("", " ", "null", "-1", "1e999", "9".repeat(30), "NaN", "email", "-created"),
    );
    // Half the pairs go as typed (percent-encoding garbage reaches the server), half encoded.
    const pair = fc.tuple(fc.oneof(fc.constantFrom(...names), text), text, fc.boolean());
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...READ_OPERATIONS),
        fc.array(pair, { maxLength: 5 }),
        async (op, pairs) => {
          const search = pairs
            .map(([k, v, typed]) => (typed ? `${k}=${v}` : `${encode(k)}=${encode(v)}`).replace(/#/g, "%23"))
            .join("&");
          const sent = query(t, op, search);
          const res = await send(t, sent);
          const body = await res.text();
          if (res.status === 200) return;
          if (res.status !== 400) throw new Error(`HTTP ${res.status}: ${body.slice(0, 300)}`);
          const problem = errorDocumentProblem(res, body);
          if (problem) throw new Error(problem);
          const sentNames = new Set(new URL(`http://x${sent.path}`).searchParams.keys());
          if (params(op).filterRequired) sentNames.add("filter");
          const named = (JSON.parse(body) as { errors: Array<{ source: { parameter?: string } }> }).errors;
          if (!named.some((e) => e.source.parameter !== undefined && sentNames.has(e.source.parameter)))
            throw new Error(`400 names no parameter that was sent: ${body.slice(0, 300)}`);
        },
      ),
      { numRuns: name === "in-process" ? 800 : 200, seed: 0x8b03 },
    );
  });
});
