/**
 * Bad input to every action, proved by property tests (issue #8). Every action of the registry is driven from its
 * own input definitions (test/reliability/action-inputs.arbitraries.ts), so a new action is covered with no
 * change here, against an in-process emulator seeded with demo data, through `checkedFetch` (each request and
 * response held against Klaviyo's OpenAPI document).
 *
 * Each case must end in one of:
 *  (a) an InputValidationError whose every issue names an input of the action by its label (the specification's,
 *      kept on the definitions; test/contract/spec-labels.test.ts ties them to it), with nothing sent;
 *  (b) requests the OpenAPI document accepts, answered with success or with a refusal that depends on the
 *      account's state and so could not have been foreseen (see `foreseeable` below);
 * and never in another exception (TypeError, RangeError…) or an unhandled rejection (vitest fails on those).
 *
 * ACTION_INPUT_RUNS (default 250 per action) and ACTION_INPUT_SEED change the size and the seed.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import type { AnyAction } from "../../src/actions/define.js";
import { actionContext, validateInputs } from "../../src/actions/define.js";
import { actions, getAction } from "../../src/actions/index.js";
import { KlaviyoClient } from "../../src/core/client.js";
import { FakeClock } from "../../src/core/clock.js";
import { ApiError, InputValidationError, TimeoutError } from "../../src/core/errors.js";
import { createEmulator, type Emulator } from "../../src/emulator/index.js";
import { parse } from "../../src/klaviyo/schema.js";
import { actionsSetup, refused } from "../actions/helpers.js";
import { checkedFetch, validateRequest } from "../helpers/contract.js";
import { contractProblems } from "../helpers/contract-problems.js";
import { openApiAvailable } from "../helpers/openapi.js";
import {
  actionInputs,
  arbitraryContext,
  type IdPools,
  mutateJson,
  PNG,
} from "./action-inputs.arbitraries.js";

const RUNS = Number(process.env.ACTION_INPUT_RUNS ?? 250);
const SEED = Number(process.env.ACTION_INPUT_SEED ?? 20260715);
const KEY = "pk_reliability_inputs_0123456789abcdef";

/** One request an action sent, with the emulator's answer (its body when it refused). */
interface Exchange {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly errors: ReadonlyArray<{
    code?: string;
    detail?: string;
    source?: { pointer?: string; parameter?: string };
  }>;
}

interface Tally {
  cases: number;
  refused: number;
  succeeded: number;
  apiRefusals: number;
  timeouts: number;
  requests: number;
}

const tallies = new Map<string, Tally>();

/**
 * Runs an action as the CLI and the platforms do: values in their JSON form or their text form (a flag, a text
 * field), validated by label, then performed.
 */
async function runAsTheFacesDo(action: AnyAction, inputs: Record<string, unknown>, client: KlaviyoClient) {
  return action.perform(actionContext(action, client), validateInputs(action, inputs, { text: true }));
}

/** An emulator with demo data, a client whose every exchange is checked and logged, and ids of what it holds. */
async function fixture(action: AnyAction) {
  const emulator = createEmulator({ apiKeys: [{ key: KEY }], rateLimits: "off", seed: "demo" });
  const log: Exchange[] = [];
  // Raw Request sends what its caller wrote, on purpose: its requests are the caller's, its answers still checked.
  const checked = checkedFetch(emulator.fetch, { requests: action.key !== "raw-request" });
  const client = new KlaviyoClient({
    apiKey: KEY,
    baseUrl: emulator.baseUrl,
    rateLimiter: false,
    // Backoff and Raw Request's retry delays pass at once; timeouts stay real.
    clock: new FakeClock(Date.now()),
    fetch: async (input, init) => {
      const method = init?.method ?? (input instanceof Request ? input.method : "GET");
      const url = input instanceof Request ? input.url : String(input);
      const response = await checked(input, init);
      let errors: Exchange["errors"] = [];
      if (response.status >= 400) {
        const text = await response.clone().text();
        try {
          errors = (JSON.parse(text) as { errors?: Exchange["errors"] }).errors ?? [];
        } catch {
          errors = [{ detail: text.slice(0, 200) }];
        }
      }
      log.push({ method, url, status: response.status, errors });
      return response;
    },
  });
  await createResources(emulator, client);
  log.length = 0;
  return { emulator, client, log, pools: poolsOf(emulator) };
}

/** What the demo seed lacks (a campaign, a segment, a template, an image), made through the actions themselves. */
async function createResources(emulator: Emulator, client: KlaviyoClient): Promise<void> {
  const listId = [...emulator.state.lists.values()][0]?.id as string;
  const run = (key: string, inputs: Record<string, unknown>) =>
    runAsTheFacesDo(getAction(key) as AnyAction, inputs, client);
  await run("create-campaign", {
    name: "Reliability",
    messages: [
      { channel: "email", label: "One", content: { subject: "Hi", from_email: "shop@example.com" } },
    ],
    includedAudiences: [listId],
  });
  await run("create-segment", {
    name: "Reliability",
    conditionGroups: [
      { conditions: [{ type: "profile-group-membership", is_member: true, group_ids: [listId] }] },
    ],
  });
  await run("create-template", { name: "Reliability", editorType: "CODE", html: "<p>Hi</p>" });
  await run("upload-image", { fileData: PNG, fileName: "dot.png" });
}

function poolsOf(emulator: Emulator): IdPools {
  const ids = (rows: Iterable<{ id: string }>) => [...rows].map((row) => row.id);
  const { state } = emulator;
  return {
    account: [emulator.account.id],
    list: ids(state.lists.values()),
    profile: ids(state.profiles.values()).slice(0, 8),
    event: ids(state.events.values()).slice(0, 8),
    campaign: ids(state.campaigns.values()),
    segment: ids(state.segments.values()),
    template: ids(state.templates.values()),
    image: ids(state.images.values()),
    metric: ids(state.metrics.values()),
  };
}

/**
 * Why a refusal by the API could not have been foreseen by a check before sending, or `undefined` when it could
 * (a failure of ours). Only the account's state decides these:
 *  - 404: the id names nothing (never made, or deleted by an earlier case);
 *  - 409: another profile already holds the email, phone number or external id;
 *  - 400 naming ids the account does not hold (an event's profile id, a campaign's audiences, a segment's
 *    groups and metrics), a cursor the server does not recognise (its own opaque token), an image behind a URL
 *    (its bytes are fetched by Klaviyo, not by us), or an update clearing the last identifier a profile holds.
 * Any other 4xx (400, 413, 415…) is a refusal we could have foreseen, and fails the case.
 * Raw Request sends what its caller wrote, so any 4xx is its caller's to read; 5xx is never acceptable.
 */
function foreseeable(action: AnyAction, exchange: Exchange): string | undefined {
  const { status } = exchange;
  if (status < 400) return undefined;
  if (status >= 500) return `the emulator answered ${status}`;
  if (action.key === "raw-request") return undefined;
  if (status === 404 || status === 409) return undefined;
  const unforeseeable =
    exchange.errors.length > 0 && exchange.errors.every((e) => stateDependent400(exchange, e));
  return status === 400 && unforeseeable ? undefined : `a refusal we could have foreseen`;
}

/**
 * The 400s only the server can decide, each by where it points and what it says: ids the account does not hold,
 * and cursors, which are the server's own opaque tokens.
 */
const UNFORESEEABLE_400: ReadonlyArray<{ at: RegExp; detail: RegExp; method?: string }> = [
  // A campaign's audiences, a segment's groups and metrics, an event's or a subscription's profile, an image.
  {
    at: /^\/data\//,
    detail:
      /^(There is no (list or segment|metric|profile|image) with id '|A profile with id '.*' does not exist)/,
  },
  { at: /^(page\[cursor\]|\/data\/attributes\/page_cursor)$/, detail: /^Invalid page cursor/ },
  // What is behind an image URL is Klaviyo's to fetch (the emulator, offline, judges by the file extension).
  { at: /^\/data\/attributes\/import_from_url$/, detail: /^The image format is not supported/ },
  // Clear Fields emptying the identifiers a profile holds: which ones it holds is the server's to know (Create
  // Profile, which knows all it sends, checks this itself).
  { at: /^\/data\/attributes$/, detail: /^At least one identifier .* is required/, method: "PATCH" },
  // What the emulator cannot compute (dimensions Klaviyo derives from data it does not hold): its own limit,
  // said so, not a refusal of Klaviyo's.
  { at: /^\/data\/attributes\/((by|filter)\/\d+|interval)$/, detail: /not supported by this emulator/ },
  // Sending: whether the campaign is still a Draft, its messages have their content, its send job is still under
  // way, is the account's state.
  {
    at: /^\/data\/(id|attributes\/action)$/,
    detail:
      /(only a campaign in Draft can be sent|has no template|has no SMS body|only a Draft campaign's messages can be changed|only a queued or processing send can be)/,
  },
];

function stateDependent400(exchange: Exchange, error: Exchange["errors"][number]): boolean {
  const at = error.source?.pointer ?? error.source?.parameter ?? "";
  return UNFORESEEABLE_400.some(
    (rule) =>
      rule.at.test(at) &&
      rule.detail.test(error.detail ?? "") &&
      (rule.method === undefined || rule.method === exchange.method),
  );
}

/** A value short enough to read in a report: long texts and arrays cut, depth bounded, cycles and bigints shown. */
function preview(value: unknown): string {
  const seen = new Set<object>();
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === "string") return v.length > 120 ? `${v.slice(0, 60)}…(${v.length} characters)` : v;
    if (typeof v === "bigint") return `${v}n`;
    if (typeof v === "number" && !Number.isFinite(v)) return String(v);
    if (v === null || typeof v !== "object") return v;
    if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${v.byteLength} bytes)`;
    if (seen.has(v)) return "[itself]";
    if (depth > 6) return "[deeper…]";
    seen.add(v);
    const out = Array.isArray(v)
      ? [
          ...v.slice(0, 8).map((item) => walk(item, depth + 1)),
          ...(v.length > 8 ? [`…(${v.length} items)`] : []),
        ]
      : Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, depth + 1)]));
    seen.delete(v);
    return out;
  };
  return JSON.stringify(walk(value, 0));
}

/** Checks how one case ended; throws (for fast-check to report and shrink) when it is not allowed. */
function judge(
  action: AnyAction,
  origin: string,
  outcome: { error?: unknown },
  log: readonly Exchange[],
  problems: readonly string[],
): "refused" | "succeeded" | "api-refusal" | "timeout" {
  const { error } = outcome;
  const sent = log.map((e) => `${e.method} ${e.url} -> ${e.status} ${JSON.stringify(e.errors)}`).join("\n");
  if (error instanceof InputValidationError) {
    if (log.length > 0) throw new Error(`refused after sending ${log.length} request(s):\n${sent}`);
    const labels = new Map(Object.values(action.inputs).map((d) => [d.label, d.key]));
    const keys = new Set(labels.values());
    for (const issue of error.issues) {
      const known = labels.get(issue.label) === issue.key;
      const unknownInput =
        !keys.has(issue.key) && issue.label === issue.key && /is not an input/.test(issue.message);
      const whole = issue.label === "" && [...labels.keys()].some((label) => issue.message.includes(label));
      if (!(known || unknownInput || whole))
        throw new Error(`an issue names no input by its label: ${JSON.stringify(issue)}`);
      if (issue.label && !error.message.includes(`${issue.label}: `))
        throw new Error(`the message does not name ${issue.label}: ${error.message.slice(0, 300)}`);
    }
    return "refused";
  }
  if (problems.length > 0)
    throw new Error(`the OpenAPI document refuses what was exchanged:\n${problems.join("\n")}\n${sent}`);
  for (const exchange of log) {
    // Whatever the inputs, every request goes to the connection's host (Raw Request's URL included).
    if (new URL(exchange.url).origin !== origin)
      throw new Error(`a request left the connection's host:\n${sent}`);
    const why = foreseeable(action, exchange);
    if (why) throw new Error(`${why}:\n${sent}`);
  }
  if (error === undefined) return "succeeded";
  if (error instanceof ApiError) {
    if (log.length === 0) throw new Error(`an API error without a request: ${error.message}`);
    return "api-refusal";
  }
  if (error instanceof TimeoutError && action.key === "raw-request") return "timeout";
  const e = error as Error;
  throw new Error(`threw ${e?.name}: ${e?.message}\n${e?.stack ?? ""}`);
}

describe("bad input to every action (property tests)", () => {
  for (const action of actions) {
    it(`${action.key}: every input ends in a labelled refusal before sending, or in requests Klaviyo accepts`, async () => {
      const { emulator, client, log, pools } = await fixture(action);
      const origin = new URL(emulator.baseUrl).origin;
      const ctx = arbitraryContext(actions, pools);
      const tally: Tally = { cases: 0, refused: 0, succeeded: 0, apiRefusals: 0, timeouts: 0, requests: 0 };
      tallies.set(action.key, tally);
      const details = await fc.check(
        fc.asyncProperty(actionInputs(action, ctx), async (inputs) => {
          log.length = 0;
          const before = contractProblems.length;
          const outcome: { error?: unknown } = {};
          try {
            await runAsTheFacesDo(action, inputs, client);
          } catch (error) {
            outcome.error = error;
          }
          const problems = contractProblems.splice(before);
          tally.cases++;
          tally.requests += log.length;
          const verdict = judge(action, origin, outcome, log, problems);
          if (verdict === "refused") tally.refused++;
          else if (verdict === "succeeded") tally.succeeded++;
          else if (verdict === "api-refusal") tally.apiRefusals++;
          else tally.timeouts++;
        }),
        { seed: SEED, numRuns: RUNS },
      );
      if (details.failed) {
        const why =
          details.errorInstance instanceof Error
            ? details.errorInstance.message
            : String(details.errorInstance);
        throw new Error(
          `${action.key} failed after ${details.numRuns} cases (seed ${details.seed}, path "${details.counterexamplePath}"; ACTION_INPUT_SEED and ACTION_INPUT_RUNS replay it)\ninputs: ${preview(details.counterexample?.[0])}\n${why}`,
        );
      }
      // The generator reaches both sides: refusals before sending, and requests to judge.
      expect(tally.refused).toBeGreaterThan(0);
      expect(tally.requests).toBeGreaterThan(0);
    }, 120_000);
  }

  afterAll(() => {
    const all = [...tallies.values()];
    const sum = (k: keyof Tally) => all.reduce((n, t) => n + t[k], 0);
    const lines = [...tallies].map(
      ([key, t]) =>
        `  ${key.padEnd(22)} ${String(t.cases).padStart(5)} cases: ${t.refused} refused before sending, ${t.succeeded} succeeded, ${t.apiRefusals} refused by the API (state), ${t.timeouts} timed out; ${t.requests} requests`,
    );
    console.info(
      `action inputs (seed ${SEED}, ${RUNS} runs per action): ${sum("cases")} cases over ${tallies.size} actions, ${sum("refused")} refused before sending, ${sum("succeeded")} succeeded, ${sum("apiRefusals")} refused by the API for the account's state, ${sum("timeouts")} timed out; ${sum("requests")} requests checked against the OpenAPI document\n${lines.join("\n")}`,
    );
  });
});

/** Each bug the properties found, kept as an example; every one threw or reached Klaviyo before its fix. */
describe("what the property tests found", () => {
  const nest = (depth: number, arrays = false) => {
    let value: unknown = "deep";
    for (let i = 0; i < depth; i++) value = arrays ? [value] : { level: value };
    return value;
  };
  const event = (extra: Record<string, unknown>) => ({
    name: "Placed Order",
    profile: { email: "sarah@example.com" },
    ...extra,
  });

  async function refusedBy(
    key: string,
    inputs: Record<string, unknown>,
    label: string,
    text: RegExp | string,
  ) {
    const t = actionsSetup({ seed: "demo" });
    // As the CLI and the platforms give values: JSON values, or their text forms.
    const error = await refused(t.runText(key, inputs));
    expect(t.sent).toHaveLength(0);
    const issue = error.issues.find((i) => i.label === label);
    expect(issue, error.message).toBeDefined();
    if (typeof text === "string") expect(issue?.message).toContain(text);
    else expect(issue?.message).toMatch(text);
  }

  it("text that is not valid Unicode is refused by label, not thrown as URIError from the path", async () => {
    await refusedBy("get-list", { listId: "\uD83Dabc" }, "List ID", "not valid Unicode");
    await refusedBy("create-event", event({ properties: { s: "a\uDC00" } }), "Event Properties", "at s");
    // The same, written as a JSON escape inside JSON text.
    await refusedBy("create-event", event({ properties: '{"s":"\\ud800"}' }), "Event Properties", "at s");
  });

  it("values JSON cannot carry are refused by label, not thrown as RangeError or TypeError when sent", async () => {
    const loop: Record<string, unknown> = { name: "loop" };
    loop.self = loop;
    await refusedBy(
      "create-event",
      event({ properties: { deep: nest(10_000) } }),
      "Event Properties",
      "nested more than 64 levels",
    );
    // As JSON text, the same depth is refused as soon as the text is parsed, before any inner check walks it.
    const text = `{"deep":${"[".repeat(10_000)}${"]".repeat(10_000)}}`;
    await refusedBy(
      "create-event",
      event({ properties: text }),
      "Event Properties",
      "nested more than 64 levels",
    );
    const profileText = `{"email":"a@example.com","properties":{"deep":${"[".repeat(10_000)}${"]".repeat(10_000)}}}`;
    await refusedBy(
      "create-event",
      event({ profile: profileText }),
      "Event Profile",
      "nested more than 64 levels",
    );
    await refusedBy(
      "create-event",
      event({ properties: loop }),
      "Event Properties",
      "refers to itself at self",
    );
    await refusedBy("create-event", event({ properties: { n: 10n } }), "Event Properties", "bigint at n");
    await refusedBy(
      "raw-request",
      { url: "/api/lists", method: "POST", data: { deep: nest(5_000, true) } },
      "Data",
      "nested",
    );
  });

  it("Klaviyo's ingestion limits hold everywhere in an event: 10 levels, 4,000 items, 100 KB strings", async () => {
    const within = actionsSetup({ seed: "demo" });
    // Properties is the first level: ten in all is Klaviyo's allowance, eleven its refusal.
    await within.run("create-event", event({ properties: nest(10) as Record<string, unknown> }));
    expect(within.sent).toHaveLength(1);
    await refusedBy(
      "create-event",
      event({ properties: nest(11) }),
      "Event Properties",
      "nested more than 10 levels",
    );
    const items = Array.from({ length: 4001 }, (_, i) => i);
    await refusedBy("create-event", event({ properties: { items } }), "Event Properties", "4001 items");
    await refusedBy("create-event", event({ uniqueId: "u".repeat(100_001) }), "Event Unique ID", "100 KB");
    const bigName = { email: "sarah@example.com", first_name: "f".repeat(100_001) };
    await refusedBy(
      "create-event",
      event({ profile: bigName }),
      "Event Profile",
      "profile.first_name is longer than 100 KB",
    );
    const bulk = [
      { metric: "Placed Order", profile: { email: "a@example.com" }, unique_id: "u".repeat(100_001) },
    ];
    await refusedBy(
      "bulk-create-events",
      { events: bulk },
      "Events Array",
      "item 0: unique_id is longer than 100 KB",
    );
  });

  it("emails that almost pass are refused; an Event Profile in JSON text is never read as an email address", async () => {
    // The old check (one @, no spaces, a dot in the domain) passed all of these, and so sent JSON text as an email.
    for (const almost of [
      '"quoted"@example.com',
      "a,b@example.com",
      "a..b@example.com",
      "sarah@example.c0m",
      "a@[1.2.3.4]",
    ])
      await refusedBy(
        "create-profile",
        { email: almost },
        "Individual's email address",
        "is not an email address",
      );
    const t = actionsSetup({ seed: "demo" });
    await t.runText("create-event", event({ profile: '{"email":"json@example.com","first_name":"Jason"}' }));
    const body = (await t.sent[0]?.clone().json()) as {
      data: { attributes: { profile: { data: unknown } } };
    };
    expect(body.data.attributes.profile.data).toEqual({
      type: "profile",
      attributes: { email: "json@example.com", first_name: "Jason" },
    });
  });

  it("a blank cursor, or a URL without one, is refused instead of sent as page[cursor]", async () => {
    await refusedBy("list-lists", { cursor: " " }, "Page Cursor", "must not be blank");
    await refusedBy(
      "list-profile",
      { cursor: "https://a.klaviyo.com/api/profiles?page[size]=5" },
      "Page Cursor",
      "without a page[cursor]",
    );
  });

  it("segment conditions are checked as the document defines each type; a segment may not contain itself", async () => {
    const t = actionsSetup({ seed: "demo" });
    const listId = [...t.emulator.state.lists.values()][0]?.id as string;
    const groups = (condition: Record<string, unknown>) => [{ conditions: [condition] }];
    await refusedBy(
      "create-segment",
      {
        name: "S",
        conditionGroups: groups({ type: "profile-group-membership", is_member: null, group_ids: [listId] }),
      },
      "Segment Condition Groups",
      "condition_groups[0].conditions[0].is_member: ",
    );
    await refusedBy(
      "create-segment",
      { name: "S", conditionGroups: groups({ type: "profile-region", in_region: true, region: "canada" }) },
      "Segment Condition Groups",
      "condition_groups[0].conditions[0].region: ",
    );
    const made = (await t.run("create-segment", {
      name: "S",
      conditionGroups: groups({ type: "profile-group-membership", is_member: true, group_ids: [listId] }),
    })) as { data: { id: string } };
    const self = groups({ type: "profile-group-membership", is_member: true, group_ids: [made.data.id] });
    const before = t.sent.length;
    const error = await refused(t.run("update-segment", { segmentId: made.data.id, conditionGroups: self }));
    expect(t.sent).toHaveLength(before);
    expect(error.message).toContain("Segment Condition Groups: names the segment itself");
  });

  it("Clear Fields can clear Location: the document makes it nullable (the emulator refused null)", async () => {
    const t = actionsSetup({ seed: "demo" });
    const profile = [...t.emulator.state.profiles.values()][0] as {
      id: string;
      attributes: Record<string, unknown>;
    };
    expect((profile.attributes.location as Record<string, unknown>).city).not.toBeNull();
    const updated = (await t.run("update-profile", { profileId: profile.id, clearFields: ["location"] })) as {
      data: { attributes: { location: Record<string, unknown> } };
    };
    expect(Object.values(updated.data.attributes.location).every((v) => v === null)).toBe(true);
  });

  it("a profile request over Klaviyo's 100 KB is refused, naming the input that weighs the most", async () => {
    const big = { email: "big@example.com", organization: "o".repeat(60_000), title: "t".repeat(50_000) };
    await refusedBy("create-profile", big, "Organization", "over Klaviyo's limit of 100 KB");
    const t = actionsSetup({ seed: "demo" });
    const profileId = [...t.emulator.state.profiles.values()][0]?.id as string;
    const error = await refused(
      t.run("update-profile", { profileId, properties: { notes: "n".repeat(100_001) } }),
    );
    expect(t.sent).toHaveLength(0);
    expect(error.message).toContain("Properties: makes the request");
  });
});

/**
 * The segment conditions the actions now check before sending are checked with the emulator's schemas: those must
 * accept nothing Klaviyo's document refuses. Every condition type, mutated member by member.
 */
describe.skipIf(!openApiAvailable())(
  "the client's segment check never accepts what Klaviyo's document refuses",
  () => {
    const conditions: Array<Record<string, unknown>> = [
      {
        type: "profile-metric",
        metric_id: "Mtr001",
        measurement: "sum",
        measurement_filter: { type: "numeric", operator: "greater-than", value: 100 },
        timeframe_filter: { type: "date", operator: "in-the-last", unit: "day", quantity: 30 },
        metric_filters: [{ property: "Brand", filter: { type: "string", operator: "in", value: ["Acme"] } }],
      },
      {
        type: "profile-marketing-consent",
        consent: {
          channel: "email",
          can_receive_marketing: true,
          consent_status: {
            subscription: "subscribed",
            filters: [
              {
                field: "method",
                method: "form",
                filter: { type: "string", operator: "in", value: ["Xy12"] },
              },
            ],
          },
        },
      },
      {
        type: "profile-postal-code-distance",
        country_code: "US",
        postal_code: "02110",
        unit: "miles",
        filter: { type: "numeric", operator: "less-than", value: 25 },
      },
      { type: "profile-region", in_region: false, region: "european_union" },
      {
        type: "profile-predictive-analytics",
        dimension: "channel_affinity",
        measurement: "rank",
        predicted_channel: "sms",
        filter: { type: "string", operator: "equals", value: "high" },
      },
      { type: "profile-group-membership", is_member: false, group_ids: ["Y6nRLr"] },
      { type: "profile-property", property: "email", filter: { type: "existence", operator: "is-set" } },
    ];

    it("for 1,500 mutations of every condition type", () => {
      const definition = getAction("create-segment")?.inputs.conditionGroups;
      expect(definition).toBeDefined();
      let accepted = 0;
      fc.assert(
        fc.property(
          fc.constantFrom(...conditions).chain((c) => fc.tuple(fc.constant(c), mutateJson(c))),
          ([, mutated]) => {
            const groups = [{ conditions: [mutated] }];
            if (!definition || !parse(definition.schema, groups).success) return;
            accepted++;
            const problems = validateRequest("create_segment", {
              query: new URLSearchParams(),
              headers: { revision: "2026-07-15", "content-type": "application/vnd.api+json" },
              body: {
                data: {
                  type: "segment",
                  attributes: { name: "S", definition: { condition_groups: groups } },
                },
              },
            });
            expect(problems, JSON.stringify(mutated)).toEqual([]);
          },
        ),
        { seed: SEED, numRuns: 1500 },
      );
      // Some mutations keep a condition valid (a different value of the right type), and those were compared.
      expect(accepted).toBeGreaterThan(0);
    });
  },
);
