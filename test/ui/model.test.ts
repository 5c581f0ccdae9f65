import { describe, expect, it } from "vitest";
import { manifest } from "../../src/actions/manifest.js";
import type { TierRates } from "../../src/playground/contract.js";
import {
  dayKey,
  eventTime,
  groupActions,
  groupByDay,
  groupOf,
  initialValue,
  initialValues,
  inputValue,
  issuesByKey,
  jsonProblem,
  type ManifestAction,
  type ManifestInput,
  mergeRuns,
  prettyBody,
  type Run,
  relatedId,
  runStatus,
  toInputs,
} from "../../ui/src/model.js";
import { chartModel, hasTraffic, niceCeiling, tierOrder } from "../../ui/src/rates.js";

const actions = manifest().actions as ManifestAction[];
const action = (key: string) => actions.find((a) => a.key === key)!;
const input = (key: string, inputKey: string) => action(key).inputs.find((i) => i.key === inputKey)!;

function made(partial: Partial<ManifestInput> & Pick<ManifestInput, "type">): ManifestInput {
  return { key: "x", label: "X", comments: "", default: null, required: false, schema: {}, ...partial };
}

describe("grouping actions by resource", () => {
  it("takes the noun after the verb, in the plural", () => {
    expect(groupOf("Create Profile")).toBe("Profiles");
    expect(groupOf("List List Profiles")).toBe("Lists");
    expect(groupOf("List Profile")).toBe("Profiles");
    expect(groupOf("Bulk Create Events")).toBe("Events");
    expect(groupOf("Get Account")).toBe("Accounts");
    expect(groupOf("List Accounts")).toBe("Accounts");
    expect(groupOf("Upload Image")).toBe("Images");
    expect(groupOf("Subscribe Profiles")).toBe("Subscriptions");
    expect(groupOf("Unsubscribe Profiles")).toBe("Subscriptions");
    expect(groupOf("Tag Resources")).toBe("Tags");
    expect(groupOf("Untag Resources")).toBe("Tags");
    expect(groupOf("Raw Request")).toBe("Other");
    expect(groupOf("Update Flow Status")).toBe("Flows");
    expect(groupOf("Render Template")).toBe("Templates");
    expect(groupOf("Clone Template")).toBe("Templates");
    expect(groupOf("Send Campaign")).toBe("Campaigns");
    expect(groupOf("Cancel Campaign Send")).toBe("Campaigns");
    expect(groupOf("Clone Campaign")).toBe("Campaigns");
    expect(groupOf("Assign Template to Campaign Message")).toBe("Campaigns");
    expect(groupOf("Query Metric Aggregates")).toBe("Metrics");
    expect(groupOf("Create or Update Profile")).toBe("Profiles");
    expect(groupOf("Find Profile")).toBe("Profiles");
    expect(groupOf("Request Profile Deletion")).toBe("Profiles");
  });

  it("puts every action of the manifest in a group, Other last, and finds them by name", () => {
    const groups = groupActions(actions);
    expect(groups.flatMap((g) => g.actions)).toHaveLength(actions.length);
    expect(groups.map((g) => g.name)).toEqual([
      "Accounts",
      "Campaigns",
      "Events",
      "Flows",
      "Images",
      "Lists",
      "Metrics",
      "Profiles",
      "Segments",
      "Subscriptions",
      "Tags",
      "Templates",
      "Webhooks",
      "Other",
    ]);
    const found = groupActions(actions, "create prof").flatMap((g) => g.actions.map((a) => a.key));
    // Every word is found in the name: Create or Update Profile matches too.
    expect(found).toEqual(["create-or-update-profile", "create-profile"]);
    expect(groupActions(actions, "subscriptions").flatMap((g) => g.actions.map((a) => a.key))).toEqual([
      "subscribe-profiles",
      "unsubscribe-profiles",
    ]);
  });

  it("searches descriptions only when no name matches", () => {
    const byName = groupActions(actions, "profile").flatMap((g) => g.actions.map((a) => a.key));
    expect(byName).not.toContain("create-event");
    const byDescription = groupActions(actions, "multipart").flatMap((g) => g.actions.map((a) => a.key));
    expect(byDescription).toContain("upload-image");
    expect(groupActions(actions, "no such thing at all")).toEqual([]);
  });
});

describe("form values to inputs", () => {
  it("starts each control at the input's default", () => {
    expect(initialValue(input("create-list", "listName"))).toBe("Newsletter");
    expect(initialValue(input("create-list", "optInProcess"))).toBe("");
    expect(initialValue(input("create-segment", "isStarred"))).toBe(false);
    expect(initialValue(input("bulk-create-events", "backfill"))).toBe("");
    expect(initialValue(input("get-account", "fields"))).toEqual([]);
    expect(initialValue(input("raw-request", "header"))).toEqual([]);
    expect(initialValue(input("upload-image", "fileData"))).toBeNull();
    expect(initialValue(made({ type: "json", default: { a: 1 } }))).toBe('{\n  "a": 1\n}');
    expect(initialValue(made({ type: "fields", default: "a, b" }))).toBe("a, b");
  });

  it("leaves out empty values and values equal to the default", () => {
    const create = action("create-list");
    expect(toInputs(create, initialValues(create))).toEqual({});
    expect(
      toInputs(create, { ...initialValues(create), listName: "VIP", optInProcess: "double_opt_in" }),
    ).toEqual({
      listName: "VIP",
      optInProcess: "double_opt_in",
    });
    const segment = action("create-segment");
    expect(toInputs(segment, { ...initialValues(segment), isStarred: true })).toEqual({ isStarred: true });
  });

  it("converts each type as the server expects it", () => {
    expect(inputValue(made({ type: "number" }), " 25 ")).toBe(25);
    expect(inputValue(made({ type: "number" }), "12abc")).toBe("12abc");
    expect(inputValue(made({ type: "number" }), "")).toBeUndefined();
    expect(inputValue(made({ type: "boolean" }), "true")).toBe(true);
    expect(inputValue(made({ type: "boolean" }), "false")).toBe(false);
    expect(inputValue(made({ type: "boolean" }), "")).toBeUndefined();
    expect(inputValue(made({ type: "json" }), '{"a":1}')).toBe('{"a":1}');
    expect(inputValue(made({ type: "json" }), "  \n")).toBeUndefined();
    expect(inputValue(made({ type: "json" }), "{oops")).toBe("{oops");
    expect(inputValue(made({ type: "json", default: { a: 1 } }), '{ "a": 1 }')).toBeUndefined();
    expect(inputValue(made({ type: "fields" }), ["email", "phone_number"])).toEqual([
      "email",
      "phone_number",
    ]);
    expect(inputValue(made({ type: "fields" }), "email, phone_number,")).toEqual(["email", "phone_number"]);
    expect(inputValue(made({ type: "fields" }), [])).toBeUndefined();
    expect(
      inputValue(made({ type: "key-value" }), [
        { key: " page[size] ", value: "3" },
        { key: "", value: "" },
      ]),
    ).toEqual([{ key: "page[size]", value: "3" }]);
    expect(inputValue(made({ type: "key-value" }), [{ key: "", value: "" }])).toBeUndefined();
    expect(
      inputValue(made({ type: "key-value", default: { a: "1" } }), [{ key: "a", value: "1" }]),
    ).toBeUndefined();
    const file = { name: "a.png", size: 3, type: "image/png", base64: "AAEC" };
    expect(inputValue(made({ type: "binary" }), file)).toBe("AAEC");
    expect(inputValue(made({ type: "binary" }), null)).toBeUndefined();
    expect(inputValue(made({ type: "text" }), "")).toBeUndefined();
    expect(inputValue(made({ type: "enum" }), "GET")).toBe("GET");
  });
});

describe("JSON as it is typed", () => {
  it("accepts valid and empty text", () => {
    expect(jsonProblem("")).toBeUndefined();
    expect(jsonProblem('{"a": [1, 2]}')).toBeUndefined();
  });

  it("says where the text stops being JSON", () => {
    const problem = jsonProblem('{\n  "a": 1,\n  "b": ]\n}');
    expect(problem).toMatchObject({ line: 3, column: 8 });
    expect(problem?.message).not.toMatch(/position|valid JSON/);
    const long = `{"aaaaaaaaaaaaaaaaaaaa": 1,\n"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb": ]}`;
    expect(jsonProblem(long)).toMatchObject({ line: 2, column: long.indexOf("]") - long.indexOf("\n") });
    expect(jsonProblem('{"a": 1,,}')).toMatchObject({ line: 1, column: 9 });
    expect(jsonProblem("[1]]")).toMatchObject({ line: 1, column: 4 });
    const end = jsonProblem('{"a": 1');
    expect(end?.line).toBe(1);
  });
});

const baseRun: Run = {
  id: 1,
  action: "create-profile",
  label: "Create Profile",
  at: "2026-01-01T00:00:00.000Z",
  ms: 5,
  ok: true,
  exchanges: [],
  snippets: { cli: "", library: "", curl: "" },
};
const exchange = (status?: number) => ({
  request: { method: "GET", url: "http://x/api", headers: {} },
  ...(status === undefined ? {} : { response: { status, headers: {} } }),
  ms: 1,
});

describe("runs", () => {
  it("gives the status of the last exchange, or invalid", () => {
    expect(runStatus({ ...baseRun, exchanges: [exchange(429), exchange(201)] })).toBe("201");
    expect(
      runStatus({
        ...baseRun,
        ok: false,
        error: {
          name: "InputValidationError",
          message: "x",
          issues: [{ label: "E", key: "email", message: "m" }],
        },
      }),
    ).toBe("invalid");
    expect(
      runStatus({ ...baseRun, ok: false, exchanges: [exchange()], error: { name: "E", message: "m" } }),
    ).toBe("no response");
  });

  it("sorts issues to their fields", () => {
    const { byKey, other } = issuesByKey(action("create-profile"), [
      { label: "Email", key: "email", message: "bad" },
      { label: "Email", key: "email", message: "worse" },
      { label: "", key: "profile", message: "needs an identifier" },
    ]);
    expect(byKey.get("email")).toEqual(["bad", "worse"]);
    expect(other).toHaveLength(1);
  });

  it("merges history newest first without duplicates", () => {
    const runs = mergeRuns([{ ...baseRun, id: 2 }], [{ ...baseRun, id: 3 }, { ...baseRun, id: 2 }, baseRun]);
    expect(runs.map((r) => r.id)).toEqual([3, 2, 1]);
    expect(mergeRuns(runs, [], 2).map((r) => r.id)).toEqual([3, 2]);
  });

  it("pretty-prints JSON bodies and leaves others alone", () => {
    expect(prettyBody('{"a":1}')).toBe('{\n  "a": 1\n}');
    expect(prettyBody("plain")).toBe("plain");
    expect(prettyBody("{broken")).toBe("{broken");
  });
});

describe("the inspector", () => {
  it("reads relationships and event times", () => {
    const event = {
      type: "event",
      id: "e1",
      attributes: { datetime: "2026-07-15T12:00:00+00:00", timestamp: 1 },
      relationships: {
        metric: { data: { type: "metric", id: "m1" } },
        profile: { data: [{ type: "profile", id: "p1" }] },
        template: { data: null },
      },
    };
    expect(relatedId(event, "metric")).toBe("m1");
    expect(relatedId(event, "profile")).toBe("p1");
    expect(relatedId(event, "template")).toBeUndefined();
    expect(relatedId(event, "list")).toBeUndefined();
    expect(eventTime(event)).toBe(Date.parse("2026-07-15T12:00:00Z"));
    expect(eventTime({ type: "event", id: "e2", attributes: { timestamp: 10 } })).toBe(10_000);
  });

  it("groups events by day, newest first", () => {
    const at = (iso: string) => ({ type: "event", id: iso, attributes: { datetime: iso } });
    const days = groupByDay(
      [at("2026-07-14T23:30:00Z"), at("2026-07-15T08:00:00Z"), at("2026-07-15T01:00:00Z")],
      eventTime,
      0,
    );
    expect(days.map((d) => [d.day, d.items.map((i) => i.id)])).toEqual([
      ["2026-07-15", ["2026-07-15T08:00:00Z", "2026-07-15T01:00:00Z"]],
      ["2026-07-14", ["2026-07-14T23:30:00Z"]],
    ]);
    expect(dayKey(Date.parse("2026-07-14T23:30:00Z"), 60)).toBe("2026-07-15");
  });

  it("lays a tier's seconds out on the last minute", () => {
    const now = Date.parse("2026-07-15T12:00:30.500Z");
    const second = Math.floor(now / 1000) * 1000;
    const tier: TierRates = {
      tier: "M",
      burstPerSecond: 10,
      steadyPerMinute: 150,
      seconds: [
        { t: second - 120_000, requests: 9, throttled: 0, faults: 0 },
        { t: second - 59_000, requests: 2, throttled: 0, faults: 0 },
        { t: second, requests: 12, throttled: 2, faults: 1 },
      ],
    };
    const m = chartModel(tier, now);
    expect(m.bars.map((b) => b.slot)).toEqual([0, 59]);
    expect(m.total).toBe(14);
    expect(m.throttled).toBe(2);
    expect(m.yMax).toBeGreaterThanOrEqual(12);
    expect(m.burstOffScale).toBe(false);
    const quiet = chartModel(
      { ...tier, burstPerSecond: 350, seconds: [{ t: second, requests: 1, throttled: 0, faults: 0 }] },
      now,
    );
    expect(quiet.burstOffScale).toBe(true);
    expect(quiet.yMax).toBeLessThan(350);
    expect(hasTraffic({ ...tier, seconds: [{ t: second, requests: 0, throttled: 0, faults: 0 }] })).toBe(
      false,
    );
    expect(chartModel({ ...tier, burstPerSecond: null, steadyPerMinute: null }, now).burst).toBeNull();
    expect(niceCeiling(7)).toBe(10);
    expect(niceCeiling(13.8)).toBe(20);
    expect(["XL", "S", "L", "XS", "M"].sort(tierOrder)).toEqual(["XS", "S", "M", "L", "XL"]);
  });
});
