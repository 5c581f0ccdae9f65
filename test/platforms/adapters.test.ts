/**
 * The adapters are generated, not written per action: a throw-away definition added to the list appears in the
 * manifest, the Prismatic component and the Activepieces piece with its labels, defaults and types, and runs
 * through each platform's harness, with no adapter change.
 */
import { createConnection, createHarness } from "@prismatic-io/spectral/dist/testing.js";
import { describe, expect, it } from "vitest";
import { defineAction } from "../../src/actions/define.js";
import { actions } from "../../src/actions/index.js";
import { input } from "../../src/actions/inputs.js";
import { manifest } from "../../src/actions/manifest.js";
import { InputValidationError } from "../../src/core/errors.js";
import { jsonObject } from "../../src/klaviyo/schema.js";
import { createKlaviyoPiece } from "../../src/platforms/activepieces.js";
import { apiKeyConnection, createComponent } from "../../src/platforms/prismatic.js";
import { PLATFORM_KEY, platformEmulator, runPieceAction } from "./forms.js";

const throwaway = defineAction({
  key: "count-lists-named",
  label: "Count Lists Named",
  description: "A throw-away action for this test: counts the lists whose name contains some text.",
  operation: "get_lists",
  inputs: {
    text: input.text({
      key: "text",
      label: "Name Contains",
      comments: "Text the list names must contain.",
      required: true,
    }),
    limit: input.number(
      { key: "limit", label: "Page Size", comments: "Lists per page, 1 to 10.", default: 10 },
      { min: 1, max: 10, integer: true },
    ),
    caseSensitive: input.boolean({
      key: "caseSensitive",
      label: "Case Sensitive",
      comments: "Whether case matters.",
      default: false,
    }),
    extra: input.json(
      { key: "extra", label: "Extra", comments: "Any JSON object, echoed back." },
      jsonObject,
    ),
  },
  async perform({ client }, { text, limit, caseSensitive, extra }) {
    const res = await client.request<{ data: Array<{ attributes: { name: string } }> }>({
      method: "GET",
      path: "/api/lists",
      query: { "page[size]": limit },
    });
    const norm = (s: string) => (caseSensitive ? s : s.toLowerCase());
    return {
      count: res.body.data.filter((l) => norm(l.attributes.name).includes(norm(text ?? ""))).length,
      extra,
    };
  },
});

const list = [...actions, throwaway];

describe("a throw-away definition reaches every adapter unchanged", () => {
  it("appears in the manifest, the component and the piece with its labels, defaults and types", () => {
    expect(
      manifest(list)
        .actions.find((a) => a.key === "count-lists-named")
        ?.inputs.map((i) => i.label),
    ).toEqual(["Name Contains", "Page Size", "Case Sensitive", "Extra"]);
    const component = createComponent({ actions: list });
    const converted = (
      component.actions as unknown as Record<string, { inputs: Array<Record<string, unknown>> }>
    ).countListsNamed;
    expect(converted?.inputs.map((i) => [i.label, i.type, i.default])).toEqual([
      ["Connection", "connection", undefined],
      ["Name Contains", "string", ""],
      ["Page Size", "string", "10"],
      ["Case Sensitive", "boolean", "false"],
      ["Extra", "code", ""],
    ]);
    const piece = createKlaviyoPiece({ actions: list });
    const props = piece.getAction("count_lists_named")?.props as Record<string, Record<string, unknown>>;
    expect(Object.values(props).map((p) => [p.displayName, p.type, p.defaultValue])).toEqual([
      ["Name Contains", "SHORT_TEXT", undefined],
      ["Page Size", "NUMBER", 10],
      ["Case Sensitive", "CHECKBOX", false],
      ["Extra", "JSON", undefined],
    ]);
    expect(Object.keys(piece.actions())).toHaveLength(list.length);
    expect(Object.keys(component.actions ?? {})).toHaveLength(list.length);
  });

  it("runs through both platforms' harnesses, and is validated by label in both", async () => {
    const setup = platformEmulator();
    for (const name of ["Weekly news", "Daily NEWS", "Promotions"]) {
      await setup.client.fetch(`${setup.client.baseUrl}/api/lists`, {
        method: "POST",
        headers: {
          authorization: `Klaviyo-API-Key ${PLATFORM_KEY}`,
          revision: "2026-07-15",
          "content-type": "application/vnd.api+json",
        },
        body: JSON.stringify({ data: { type: "list", attributes: { name } } }),
      });
    }
    const harness = createHarness(createComponent({ actions: list, client: setup.client }));
    const connection = createConnection(apiKeyConnection, { apiKey: PLATFORM_KEY });
    const viaPrismatic = await harness.action("countListsNamed", {
      connection,
      text: "news",
      extra: '{"a":1}',
    });
    expect(viaPrismatic).toEqual({ data: { count: 2, extra: { a: 1 } } });

    const piece = createKlaviyoPiece({ actions: list, client: setup.client });
    const auth = { type: "SECRET_TEXT", secret_text: PLATFORM_KEY };
    const viaActivepieces = await runPieceAction(piece, "count_lists_named", auth, {
      text: "NEWS",
      caseSensitive: true,
    });
    expect(viaActivepieces).toEqual({ count: 1 });

    const before = setup.sent.length;
    await expect(harness.action("countListsNamed", { connection, text: "x", limit: "11" })).rejects.toThrow(
      InputValidationError,
    );
    await expect(runPieceAction(piece, "count_lists_named", auth, { text: "x", limit: 0 })).rejects.toThrow(
      /Count Lists Named: Page Size: must be at least 1/,
    );
    expect(setup.sent.length).toBe(before);
  });
});
