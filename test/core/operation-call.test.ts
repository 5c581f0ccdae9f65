/**
 * `client.call` and `client.paginateOperation`: every operation of the document through the one transport, its
 * method, path template and rate tier from the operation table, each path parameter one segment. Against the
 * in-process emulator (every exchange held against the OpenAPI document by `checkedFetch`), and against a
 * recording `fetch` where the wire itself is what is checked.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { FetchLike } from "../../src/core/chain.js";
import { KlaviyoClient, type KlaviyoClientOptions } from "../../src/core/client.js";
import { InputValidationError, ServerError, TimeoutError } from "../../src/core/errors.js";
import { operationRequest } from "../../src/core/operation-call.js";
import { InMemoryRateLimitStore, RateLimiter } from "../../src/core/rate-limit.js";
import { createEmulator } from "../../src/emulator/index.js";
import { getOperation, matchOperation } from "../../src/klaviyo/operations.js";
import { checkedFetch } from "../helpers/contract.js";

const KEY = "pk_operation_call_test_key_0123456789";

function emulated() {
  const emulator = createEmulator({ apiKeys: [{ key: KEY }], rateLimits: "off" });
  const sent: Request[] = [];
  const checked = checkedFetch(emulator.fetch);
  const client = new KlaviyoClient({
    apiKey: KEY,
    baseUrl: emulator.baseUrl,
    rateLimiter: false,
    fetch: (input, init) => {
      sent.push(new Request(input, init));
      return checked(input, init);
    },
  });
  return { emulator, client, sent };
}

/** A client whose `fetch` records each request and answers with `answer` (200, a JSON:API body, by default). */
function recording(
  answer: (req: Request) => Response | Promise<Response> = () => json({ data: [] }),
  options: KlaviyoClientOptions = {},
) {
  const sent: Request[] = [];
  const fetch: FetchLike = async (input, init) => {
    const req = new Request(input, init);
    sent.push(req);
    // As fetch does: an aborted signal (the caller's, or the transport's timeout) ends the exchange.
    if (init?.signal?.aborted) throw init.signal.reason;
    return answer(req.clone());
  };
  const client = new KlaviyoClient({
    apiKey: KEY,
    baseUrl: "https://a.klaviyo.test",
    rateLimiter: false,
    random: () => 0,
    fetch,
    ...options,
  });
  return { client, sent };
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/vnd.api+json" },
  });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe("client.call against the emulator", () => {
  it("creates a list and gets it back, with a sparse fieldset sent comma-separated", async () => {
    const { client, sent } = emulated();
    const created = await client.call("create_list", {
      body: { data: { type: "list", attributes: { name: "Typed VIP" } } },
    });
    expect(created.status).toBe(201);
    expect(created.body.data.attributes.name).toBe("Typed VIP");
    const id = created.body.data.id;

    const got = await client.call("get_list", {
      path: { id },
      query: { "fields[list]": ["name", "created"] },
    });
    expect(got.status).toBe(200);
    expect(got.body.data.id).toBe(id);
    expect(got.body.data.type).toBe("list");
    expect(got.body.data.attributes.name).toBe("Typed VIP");
    expect(Object.keys(got.body.data.attributes).sort()).toEqual(["created", "name"]);

    const [post, get] = sent;
    expect(post?.method).toBe("POST");
    expect(new URL(post?.url ?? "").pathname).toBe("/api/lists");
    expect(get?.method).toBe("GET");
    const url = new URL(get?.url ?? "");
    expect(url.pathname).toBe(`/api/lists/${id}`);
    expect(url.searchParams.get("fields[list]")).toBe("name,created");
    expect(get?.headers.get("authorization")).toBe(`Klaviyo-API-Key ${KEY}`);

    const deleted = await client.call("delete_list", { path: { id } });
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeNull();
  });

  it("gets profiles with a query, and paginateOperation walks every page", async () => {
    const { client, sent } = emulated();
    for (const name of ["carol", "alice", "bob"]) {
      await client.call("create_profile", {
        body: {
          data: {
            type: "profile",
            attributes: { email: `${name}@example.com`, first_name: name, properties: { n: 1 } },
          },
        },
      });
    }
    const page = await client.call("get_profiles", {
      query: { "fields[profile]": ["email"], sort: "email", "page[size]": 2 },
    });
    expect(page.body.data.map((p) => p.attributes.email)).toEqual(["alice@example.com", "bob@example.com"]);
    expect(page.body.data.every((p) => Object.keys(p.attributes).join() === "email")).toBe(true);
    expect(page.body.links?.next).toEqual(expect.stringContaining("page%5Bcursor%5D="));

    sent.length = 0;
    const emails: unknown[] = [];
    for await (const profile of client.paginateOperation("get_profiles", {
      query: { "fields[profile]": ["email"], sort: "email" },
      pageSize: 2,
    })) {
      emails.push(profile.attributes.email);
    }
    expect(emails).toEqual(["alice@example.com", "bob@example.com", "carol@example.com"]);
    expect(sent).toHaveLength(2);
    for (const req of sent) expect(new URL(req.url).searchParams.get("sort")).toBe("email");

    const first: unknown[] = [];
    for await (const profile of client.paginateOperation("get_profiles", {
      query: { sort: "-email" },
      limit: 1,
    }))
      first.push(profile.attributes.first_name);
    expect(first).toEqual(["carol"]);
  });

  it("answers an operation the emulator does not implement with 501, as a ServerError, the retry option honoured", async () => {
    const { client, sent } = emulated();
    const error = await rejection(client.call("get_coupons", { retry: { maxRetries: 0 } }));
    expect(error).toBeInstanceOf(ServerError);
    expect((error as ServerError).status).toBe(501);
    expect((error as ServerError).errors?.[0]?.code).toBe("not_implemented");
    expect(sent).toHaveLength(1);
    expect(new URL(sent[0]?.url ?? "").pathname).toBe("/api/coupons");
  });
});

describe("client.call on the wire", () => {
  it("passes fields it does not know through untouched", async () => {
    const body = {
      data: {
        type: "list",
        id: "L1",
        attributes: { name: "A", added_in_a_later_revision: { deep: [1, 2] } },
        relationships: {},
        links: { self: "https://a.klaviyo.test/api/lists/L1" },
        brand_new: true,
      },
      meta: { extra: "kept" },
    };
    const { client } = recording(() => json(body));
    const res = await client.call("get_list", { path: { id: "L1" } });
    expect(res.body).toEqual(body);
    expect((res.body.data.attributes as Record<string, unknown>).added_in_a_later_revision).toEqual({
      deep: [1, 2],
    });
  });

  it("counts each call in its operation's rate tier, and in Klaviyo's lower tier where the query calls for one", async () => {
    const tiers: string[] = [];
    class RecordingStore extends InMemoryRateLimitStore {
      override take(...args: Parameters<InMemoryRateLimitStore["take"]>) {
        tiers.push(args[0].tier);
        return super.take(...args);
      }
    }
    const rateLimiter = new RateLimiter({ store: new RecordingStore() });
    const { client } = recording(() => json({ data: { type: "list", id: "L1", attributes: {} } }), {
      rateLimiter,
    });
    await client.call("get_list", { path: { id: "L1" } });
    await client.call("get_list", {
      path: { id: "L1" },
      query: { "additional-fields[list]": ["profile_count"] },
    });
    await client.call("get_accounts");
    expect(tiers).toEqual([getOperation("get_list").tier.name, "get_list+profile_count", "get_accounts"]);
  });

  it("passes signal, timeoutMs, retry and idempotent through to the transport", async () => {
    const aborted = recording();
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    expect(await rejection(aborted.client.call("get_accounts", { signal: controller.signal }))).toEqual(
      new Error("stop"),
    );
    expect(aborted.sent.every((req) => req.signal.aborted)).toBe(true);

    // A server that never answers: only the transport's timeout (aborting fetch's signal) ends the wait.
    const hanging = recording(
      (req) =>
        new Promise<Response>((_, reject) =>
          req.signal.addEventListener("abort", () => reject(req.signal.reason)),
        ),
    );
    const timeout = await rejection(
      hanging.client.call("get_accounts", { timeoutMs: 30, retry: { maxRetries: 0 } }),
    );
    expect(timeout).toBeInstanceOf(TimeoutError);
    expect(hanging.sent).toHaveLength(1);

    // A POST after a 503 is retried only when the call says it is idempotent.
    const answers = () => {
      let n = 0;
      return () =>
        n++ === 0
          ? json({ errors: [] }, 503)
          : json({ data: { type: "list", id: "L2", attributes: {} } }, 201);
    };
    const body = { data: { type: "list" as const, attributes: { name: "x" } } };
    const plain = recording(answers());
    expect(await rejection(plain.client.call("create_list", { body }))).toBeInstanceOf(ServerError);
    expect(plain.sent).toHaveLength(1);
    const idempotent = recording(answers());
    const res = await idempotent.client.call("create_list", { body, idempotent: true });
    expect(res.status).toBe(201);
    expect(res.attempts).toBe(2);
    expect(idempotent.sent).toHaveLength(2);
    expect(await idempotent.sent[1]?.json()).toEqual(body);
  });

  it("sends no private key to the /client/ operations, which the document gives no security", async () => {
    const { client, sent } = recording(() => new Response(null, { status: 202 }));
    const res = await client.call("create_client_subscription", {
      query: { company_id: "PUBLIC1" },
      body: {
        data: {
          type: "subscription",
          attributes: { profile: { data: { type: "profile", attributes: { email: "a@example.com" } } } },
          relationships: { list: { data: { type: "list", id: "L1" } } },
        },
      },
    });
    expect(res.body).toBeNull();
    const req = sent[0];
    expect(req?.headers.get("authorization")).toBeNull();
    expect(new URL(req?.url ?? "").search).toBe("?company_id=PUBLIC1");
    expect(operationRequest("get_list", { path: { id: "x" } }).authenticate).toBeUndefined();
  });

  it("sends the multipart upload's form as multipart/form-data", async () => {
    const { client, sent } = recording(() =>
      json({ data: { type: "image", id: "I1", attributes: {} } }, 201),
    );
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array([1, 2, 3])], { type: "image/png" }), "a.png");
    await client.call("upload_image_from_file", { form });
    expect(sent[0]?.method).toBe("POST");
    expect(new URL(sent[0]?.url ?? "").pathname).toBe("/api/image-upload");
    expect(sent[0]?.headers.get("content-type")).toMatch(/^multipart\/form-data; boundary=/);
  });

  it("refuses an unknown operation id from an untyped caller before sending", async () => {
    const { client, sent } = recording();
    const call = client.call as (id: string) => Promise<unknown>;
    expect(await rejection(call.call(client, "get_lists_please"))).toEqual(
      new Error('Unknown Klaviyo operation "get_lists_please"'),
    );
    expect(sent).toHaveLength(0);
  });
});

/** Strings built to climb out of a segment: dots, slashes, encoded dots and slashes, query and fragment marks. */
const hostile = fc.oneof(
  fc.constantFrom(
    ".",
    "..",
    "",
    "a/b",
    "a?x=1",
    "a#b",
    "%2e%2e",
    "%2E%2e",
    "..%2f",
    "%2f",
    "a\\b",
    "..\\",
    "/",
    "//evil.example",
    "?",
    "#",
    "./x",
    "../x",
    "%00",
    "%",
    " ",
    "\t\n",
    "%252e%252e",
    "\u3002\u3002",
    "\uFF0E\uFF0E",
  ),
  fc
    .array(
      fc.constantFrom(".", "..", "/", "\\", "%", "2e", "2f", "%2e", "%2f", "?", "#", "&", "=", "a", " "),
      {
        maxLength: 6,
      },
    )
    .map((parts) => parts.join("")),
  fc.string({ unit: "grapheme" }),
  fc.string({ unit: "binary" }),
);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe("path parameters through client.call", () => {
  it("never leave their segment: sent as exactly one segment that decodes to the value, or refused unsent", async () => {
    const { client, sent } = recording();
    await fc.assert(
      fc.asyncProperty(hostile, async (value) => {
        sent.length = 0;
        const error = await rejection(client.call("get_profiles_for_list", { path: { id: value } }));
        if (value === "" || value === "." || value === "..") {
          expect(error).toBeInstanceOf(InputValidationError);
          expect(sent).toHaveLength(0);
          return;
        }
        if (LONE_SURROGATE.test(value)) {
          // Not UTF-16 that a URL can carry: encodeURIComponent refuses it, and nothing is sent.
          expect(error).toBeInstanceOf(URIError);
          expect(sent).toHaveLength(0);
          return;
        }
        expect(error).toBeUndefined();
        expect(sent).toHaveLength(1);
        const url = new URL(sent[0]?.url ?? "");
        expect(url.origin).toBe("https://a.klaviyo.test");
        expect(url.search).toBe("");
        expect(url.hash).toBe("");
        const segments = url.pathname.split("/");
        expect(segments).toHaveLength(5);
        expect([segments[0], segments[1], segments[2], segments[4]]).toEqual([
          "",
          "api",
          "lists",
          "profiles",
        ]);
        expect(decodeURIComponent(segments[3] ?? "")).toBe(value);
        // What a server routing by the operation table sees: this operation, and the value as its id.
        const match = matchOperation("GET", url.pathname);
        expect(match?.operation.id).toBe("get_profiles_for_list");
        expect(match?.params).toEqual({ id: value });
      }),
      { numRuns: 300 },
    );
  });
});
