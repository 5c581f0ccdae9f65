/**
 * Type tests of the typed operations (`client.call`, `client.paginateOperation`, the helpers of
 * src/klaviyo/api.ts). Checked by `tsc -p tsconfig.json --noEmit`, which covers test/: an assertion that does not
 * hold, or a `@ts-expect-error` whose line compiles, fails the type check. Nothing here runs.
 */
import { describe, expectTypeOf, it } from "vitest";
import {
  type CollectionOperationId,
  type components,
  type KlaviyoClient,
  type KlaviyoResponse,
  type ListResource,
  type OperationBody,
  type OperationId,
  type OperationItem,
  type OperationPathParams,
  type OperationQuery,
  type OperationResponse,
  operationRequest,
  type ProfileResource,
  type RequestOptions,
  type Schema,
} from "../../src/index.js";

declare const client: KlaviyoClient;
declare const id: string;

describe("operation ids", () => {
  it("are the document's, and nothing else", () => {
    expectTypeOf<"get_list">().toExtend<OperationId>();
    expectTypeOf<"create_profile">().toExtend<OperationId>();
    expectTypeOf<"upload_image_from_file">().toExtend<OperationId>();
    expectTypeOf<"get_lists_please">().not.toExtend<OperationId>();
    expectTypeOf<string>().not.toExtend<OperationId>();
    async () => {
      // @ts-expect-error: no such operation
      await client.call("get_lists_please");
      // @ts-expect-error: ids are Klaviyo's snake_case, not the actions' kebab-case keys
      await client.call("get-list", { path: { id } });
    };
  });
});

describe("path parameters", () => {
  it("are required where the path has them, refused where it has none", () => {
    expectTypeOf<OperationPathParams<"get_list">>().toEqualTypeOf<{ id: string }>();
    expectTypeOf<OperationPathParams<"get_lists">>().toBeNever();
    async () => {
      // @ts-expect-error: get_list needs { path: { id } }
      await client.call("get_list");
      // @ts-expect-error: get_list needs { path: { id } }
      await client.call("get_list", {});
      // @ts-expect-error: the path parameter is `id`
      await client.call("get_list", { path: { list_id: id } });
      // @ts-expect-error: path parameters are strings
      await client.call("get_list", { path: { id: 42 } });
      // @ts-expect-error: get_lists has no path parameter
      await client.call("get_lists", { path: { id } });
      await client.call("get_lists");
    };
  });
});

describe("query", () => {
  it("takes what the document declares, arrays for sparse fieldsets", () => {
    expectTypeOf<OperationQuery<"get_list">["fields[list]"]>().toEqualTypeOf<
      readonly ("created" | "id" | "name" | "opt_in_process" | "profile_count" | "updated")[] | undefined
    >();
    expectTypeOf<OperationQuery<"get_campaigns">["filter"]>().toEqualTypeOf<string>();
    async () => {
      await client.call("get_list", { path: { id }, query: { "fields[list]": ["name"] } });
      const fields = ["name", "created"] as const;
      await client.call("get_list", { path: { id }, query: { "fields[list]": fields } });
      await client.call("get_profiles", { query: { "page[size]": 20, sort: "-created" } });
      // @ts-expect-error: not a field of a list
      await client.call("get_list", { path: { id }, query: { "fields[list]": ["email"] } });
      // @ts-expect-error: a sparse fieldset is a list of names, not a string
      await client.call("get_list", { path: { id }, query: { "fields[list]": "name" } });
      // @ts-expect-error: page[size] is a number
      await client.call("get_profiles", { query: { "page[size]": "20" } });
      // @ts-expect-error: not a sort get_profiles offers
      await client.call("get_profiles", { query: { sort: "first_name" } });
      // @ts-expect-error: get_profiles has no such parameter
      await client.call("get_profiles", { query: { "fields[lists]": ["name"] } });
      // @ts-expect-error: get_campaigns requires a filter (the channel)
      await client.call("get_campaigns", {});
      await client.call("get_campaigns", { query: { filter: "equals(messages.channel,'email')" } });
    };
  });
});

describe("body", () => {
  it("is the document's request body, required where it is", () => {
    expectTypeOf<OperationBody<"create_list">>().toEqualTypeOf<Schema<"ListCreateQuery">>();
    expectTypeOf<OperationBody<"get_list">>().toBeNever();
    async () => {
      await client.call("create_list", { body: { data: { type: "list", attributes: { name: "VIP" } } } });
      // @ts-expect-error: create_list needs a body
      await client.call("create_list");
      // @ts-expect-error: a list's name is a string
      await client.call("create_list", { body: { data: { type: "list", attributes: { name: 1 } } } });
      // @ts-expect-error: the type of a list is "list"
      await client.call("create_list", { body: { data: { type: "profile", attributes: { name: "VIP" } } } });
      // @ts-expect-error: a get takes no body
      await client.call("get_list", { path: { id }, body: {} });
      // Free-form objects (a profile's custom properties) take any key.
      await client.call("create_profile", {
        body: {
          data: {
            type: "profile",
            attributes: { email: "a@example.com", properties: { tier: "gold", n: 1 } },
          },
        },
      });
      // The multipart upload takes a FormData.
      await client.call("upload_image_from_file", { form: new FormData() });
      // @ts-expect-error: ... and not a JSON body
      await client.call("upload_image_from_file", { body: { file: "x" } });
    };
  });
});

describe("responses", () => {
  it("are the 2xx JSON body of the operation", async () => {
    const res = await client.call("get_list", { path: { id } });
    expectTypeOf(res).toEqualTypeOf<KlaviyoResponse<OperationResponse<"get_list">>>();
    expectTypeOf(res.body.data.id).toEqualTypeOf<string>();
    expectTypeOf(res.body.data.type).toEqualTypeOf<"list">();
    // The document has a list's name nullable and optional in this answer.
    expectTypeOf(res.body.data.attributes.name).toEqualTypeOf<string | null | undefined>();
    expectTypeOf(res.body.data.attributes.profile_count).toEqualTypeOf<number | null | undefined>();
    const created = await client.call("create_list", {
      body: { data: { type: "list", attributes: { name: "VIP" } } },
    });
    expectTypeOf(created.body.data.id).toEqualTypeOf<string>();
    // 204 No Content: the body is null.
    const deleted = await client.call("delete_list", { path: { id } });
    expectTypeOf(deleted.body).toEqualTypeOf<null>();
  });

  it("of a collection operation are typed, and so are its items", async () => {
    const res = await client.call("get_profiles", { query: { "page[size]": 10 } });
    expectTypeOf(res.body.data).toBeArray();
    expectTypeOf(res.body.data[0]?.attributes.email).toEqualTypeOf<string | null | undefined>();
    // The document's CollectionLinks: `next` is an optional URI.
    expectTypeOf(res.body.links?.next).toEqualTypeOf<string | undefined>();
    expectTypeOf<OperationItem<"get_profiles">>().toEqualTypeOf<(typeof res.body.data)[number]>();
    expectTypeOf<"get_profiles">().toExtend<CollectionOperationId>();
    expectTypeOf<"get_list">().not.toExtend<CollectionOperationId>();
    for await (const profile of client.paginateOperation("get_profiles", {
      query: { "fields[profile]": ["email"] },
      limit: 50,
    })) {
      expectTypeOf(profile).toEqualTypeOf<OperationItem<"get_profiles">>();
      expectTypeOf(profile.attributes.email).toEqualTypeOf<string | null | undefined>();
    }
    for await (const list of client.paginateOperation("get_lists")) {
      expectTypeOf(list.type).toEqualTypeOf<"list">();
    }
    async () => {
      // @ts-expect-error: get_list is not a collection
      client.paginateOperation("get_list", { path: { id } });
      // @ts-expect-error: the page bounds are numbers
      client.paginateOperation("get_lists", { limit: "10" });
    };
  });
});

describe("transport options and the request", () => {
  it("pass signal, timeout, retry and idempotent through", async () => {
    const controller = new AbortController();
    await client.call("get_accounts", {
      signal: controller.signal,
      timeoutMs: 5_000,
      retry: { maxRetries: 1 },
      idempotent: true,
    });
    expectTypeOf(
      operationRequest("get_lists", { query: { "page[size]": 5 }, limit: 5 }),
    ).toExtend<RequestOptions>();
    async () => {
      // @ts-expect-error: the method comes from the operation table
      await client.call("get_accounts", { method: "POST" });
    };
  });
});

describe("short names", () => {
  it("reach the document's schemas", () => {
    expectTypeOf<ListResource>().toEqualTypeOf<components["schemas"]["ListResponseObjectResource"]>();
    expectTypeOf<ProfileResource["attributes"]["email"]>().toEqualTypeOf<string | null | undefined>();
    expectTypeOf<ListResource["type"]>().toEqualTypeOf<"list">();
  });
});
