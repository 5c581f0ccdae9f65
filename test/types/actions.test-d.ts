/**
 * Type tests of the actions' public surface: `runAction` typed by key, the registry, every definition exported,
 * the inputs a caller writes and the outputs they read. Checked by `tsc -p tsconfig.json --noEmit` (it covers
 * test/): an assertion that does not hold, or a `@ts-expect-error` whose line compiles, fails the type check.
 * Nothing here runs. test/contract/package.test.ts checks the same against the published declarations.
 */
import { describe, expectTypeOf, it } from "vitest";
import {
  type ActionInputs,
  type ActionKey,
  type ActionOutput,
  type BulkResult,
  createList,
  defineAction,
  getList,
  type IngestResult,
  input,
  type KlaviyoClient,
  type ListOutput,
  type OperationItem,
  registry,
  runAction,
  runActionByKey,
} from "../../src/index.js";

declare const client: KlaviyoClient;
declare const listId: string;

describe("runAction, typed by key", () => {
  it("refuses an unknown action, a missing required input and a wrong input type", () => {
    async () => {
      // @ts-expect-error: no action has this key
      await runAction("get-lists-please", {}, { client });
      // @ts-expect-error: List ID is required
      await runAction("get-list", {}, { client });
      // @ts-expect-error: Page Size is a number, not text (text forms are the CLI's)
      await runAction("list-lists", { pageSize: "5" }, { client });
      // @ts-expect-error: Include Profile Count is a boolean
      await runAction("get-list", { listId, includeProfileCount: "yes" }, { client });
      // @ts-expect-error: not an input of Get List
      await runAction("get-list", { listId, colour: "red" }, { client });
      // @ts-expect-error: Opt-in Process is one of two values
      await runAction("create-list", { optInProcess: "triple_opt_in" }, { client });
    };
  });

  it("reads a list's name from Get List's answer, typed as Klaviyo's document types it", () => {
    async () => {
      const doc = await runAction("get-list", { listId }, { client });
      expectTypeOf(doc.data.attributes.name).toEqualTypeOf<string | null | undefined>();
      expectTypeOf(doc.data.id).toEqualTypeOf<string>();
    };
  });

  it("types every kind of input as a caller writes it", () => {
    expectTypeOf<ActionInputs<"get-list">>().toEqualTypeOf<
      { readonly listId: string } & {
        readonly fields?: string | string[] | null;
        readonly includeProfileCount?: boolean | null;
        readonly include?: string | string[] | null;
      }
    >();
    expectTypeOf<ActionInputs<"list-lists">["pageSize"]>().toEqualTypeOf<number | null | undefined>();
    expectTypeOf<ActionInputs<"create-list">["optInProcess"]>().toEqualTypeOf<
      "single_opt_in" | "double_opt_in" | null | undefined
    >();
  });

  it("gives list actions their items' type, and bulk actions their report", () => {
    expectTypeOf<ActionOutput<"list-lists">>().toEqualTypeOf<ListOutput<OperationItem<"get_lists">>>();
    expectTypeOf<ActionOutput<"bulk-create-events">>().toEqualTypeOf<BulkResult>();
    expectTypeOf<ActionOutput<"delete-list">>().toEqualTypeOf<{ deleted: true; id: string }>();
    expectTypeOf<IngestResult>().toHaveProperty("accepted");
  });

  it("runs a key known only at run time, checked then", () => {
    expectTypeOf(runActionByKey).parameter(0).toEqualTypeOf<string>();
    expectTypeOf(runActionByKey).returns.resolves.toEqualTypeOf<unknown>();
  });
});

describe("the registry", () => {
  it("holds every definition by its key, and each is exported by name", () => {
    expectTypeOf(registry["get-list"]).toEqualTypeOf(getList);
    expectTypeOf(registry["create-list"]).toEqualTypeOf(createList);
    expectTypeOf<"get-list">().toExtend<ActionKey>();
    expectTypeOf<"get_list">().not.toExtend<ActionKey>();
  });
});

describe("an action of your own", () => {
  it("is typed from its inputs and its operation, with input builders exported", () => {
    const archive = defineAction({
      key: "rename-list",
      label: "Rename List",
      description: "Renames a list.",
      operation: "update_list",
      inputs: {
        listId: input.id({ key: "listId", label: "List ID", comments: "The list." }),
        name: input.nonBlank({ key: "name", label: "Name", comments: "Its new name.", required: true }),
      },
      async perform({ send }, { listId: id, name }) {
        expectTypeOf(id).toEqualTypeOf<string>();
        expectTypeOf(name).toEqualTypeOf<string>();
        const res = await send({ path: { id }, body: { data: { type: "list", id, attributes: { name } } } });
        return res.body.data.attributes.name;
      },
    });
    expectTypeOf(archive.key).toEqualTypeOf<"rename-list">();
    expectTypeOf(archive.perform).returns.resolves.toEqualTypeOf<string | null | undefined>();
  });
});
