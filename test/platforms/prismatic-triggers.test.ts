/**
 * The Prismatic component's polling triggers and data sources, run through spectral's own harness
 * (`createHarness`: the component's converted trigger, whose wrapping gives `perform` the polling context over
 * `context.instanceState`, and its converted data sources) against the emulator, with both connections.
 *
 * The harness runs one `perform`; what Prismatic does around it is done here the way the converted trigger
 * declares it (`poll` below): the instance state kept between runs, the items resolved from each result by the
 * trigger's `resolveTriggerItems` and cut into batches of its default batch size, and `perform` run again in
 * the same run while `getNextPaginationState` returns a cursor.
 *
 * The emulator and the feed share a fake clock, and the triggers read with no horizon: Klaviyo's times are whole
 * seconds and a poll reads only seconds wholly past, so each test writes, moves the clock a second on, and polls.
 */
import { createConnection, createHarness } from "@prismatic-io/spectral/dist/testing.js";
import { describe, expect, it } from "vitest";
import { actions, runActionByKey } from "../../src/actions/index.js";
import { KlaviyoClient } from "../../src/core/client.js";
import { FakeClock } from "../../src/core/clock.js";
import { createEmulator } from "../../src/emulator/index.js";
import type { Change } from "../../src/feed/feed.js";
import { DEFAULT_SCOPES } from "../../src/platforms/common.js";
import { PICKERS, pickerForInput } from "../../src/platforms/pickers.js";
import {
  apiKeyConnection,
  type Component,
  type ComponentOptions,
  createComponent,
  dataSourceKeyOf,
  oauthConnection,
  triggerKeyOf,
} from "../../src/platforms/prismatic.js";
import { topicDataSourceKeyOf } from "../../src/platforms/prismatic-webhook-triggers.js";
import { getTrigger, TRIGGERS } from "../../src/platforms/triggers.js";
import { WEBHOOK_FAMILIES } from "../../src/platforms/webhook-triggers.js";
import { checkedFetch } from "../helpers/contract.js";
import { CLIENT_ID, CLIENT_SECRET, failure, PLATFORM_KEY } from "./forms.js";

/** A whole second, so each write's second is known. */
const T0 = Date.parse("2026-06-01T10:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");
/** A Look-back Date before anything the tests make or the demo seed holds (its flows are backdated a year and more). */
const LOOK_BACK = iso(T0 - 500 * 86_400_000);

type ConvertedInput = { key: string; label: string; type: string; default?: unknown; dataSource?: string };
type ConvertedTrigger = {
  key: string;
  display: { label: string; description: string };
  inputs: ConvertedInput[];
  isPollingTrigger?: boolean;
  scheduleSupport: string;
  triggerResolverSupport: string;
  triggerResolverDefaultBatchSize?: number;
  hasResolveTriggerItems?: boolean;
  hasGetNextDiscoveryState?: boolean;
  resolveTriggerItems: (context: unknown, result: unknown) => unknown[];
  getNextPaginationState: (context: unknown, result: unknown) => Record<string, unknown> | null;
};
type ConvertedDataSource = { key: string; dataSourceType: string; inputs: ConvertedInput[] };
type ConvertedAction = { key: string; inputs: ConvertedInput[] };
type TriggerRun = {
  payload: { body: { data: unknown }; paginationState?: unknown };
  resultType?: string;
};

const triggersOf = (c: Component) => c.triggers as unknown as Record<string, ConvertedTrigger>;
const dataSourcesOf = (c: Component) => c.dataSources as unknown as Record<string, ConvertedDataSource>;

type ConnectionKind = "apiKey" | "oauth2";

/** An emulator on a fake clock, the component on it (no horizon, the same clock), and a library client. */
function setup(kind: ConnectionKind, options: { seed?: "demo"; component?: ComponentOptions } = {}) {
  const clock = new FakeClock(T0 + 100);
  const emulator = createEmulator({
    rateLimits: "off",
    clock,
    apiKeys: [{ key: PLATFORM_KEY }],
    oauthClients: [
      { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: ["https://app.example/cb"] },
    ],
    ...(options.seed ? { seed: options.seed } : {}),
  });
  /** The scheme of each request the component sent (`Bearer`, `Klaviyo-API-Key`). */
  const schemes: string[] = [];
  const checked = checkedFetch(emulator.fetch);
  const clientOptions = { baseUrl: emulator.baseUrl, rateLimiter: false as const, fetch: checked };
  const component = createComponent({
    client: {
      ...clientOptions,
      fetch: (input: string | URL | Request, init?: RequestInit) => {
        schemes.push(new Headers(init?.headers).get("authorization")?.split(" ")[0] ?? "none");
        return checked(input, init);
      },
    },
    ...options.component,
    triggers: { horizonSeconds: 0, now: () => clock.now(), ...options.component?.triggers },
  });
  const harness = createHarness(component);
  const connection =
    kind === "apiKey"
      ? createConnection(apiKeyConnection, { apiKey: PLATFORM_KEY })
      : createConnection(
          oauthConnection,
          { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, scopes: DEFAULT_SCOPES },
          {
            access_token: emulator.oauth.issueTokens(CLIENT_ID, DEFAULT_SCOPES.split(" ")).access_token,
            refresh_token: "unused",
            expires_in: 3600,
            token_type: "Bearer",
          },
        );
  const lib = new KlaviyoClient({ apiKey: PLATFORM_KEY, ...clientOptions });
  const act = async <T = { data: { id: string } }>(key: string, inputs: Record<string, unknown>) =>
    (await runActionByKey(key as never, inputs as never, { client: lib })) as T;

  /** One run of a trigger as Prismatic makes it: its polls, their batches, the state kept in `instanceState`. */
  async function poll(
    key: string,
    params: Record<string, unknown>,
    instanceState: Record<string, unknown>,
    how: { batching?: boolean } = {},
  ) {
    const trigger = triggersOf(component)[key] as ConvertedTrigger;
    const batchSize = trigger.triggerResolverDefaultBatchSize ?? 1;
    const runs: TriggerRun[] = [];
    const batches: Change[][] = [];
    const warnings: string[] = [];
    const logger = { warn: (m: string) => warnings.push(m), info() {}, debug() {}, error() {}, log() {} };
    let payload: Record<string, unknown> = {};
    for (;;) {
      const result = (await harness.trigger(key, payload, { connection, ...params }, {
        instanceState,
        logger,
      } as never)) as unknown as TriggerRun;
      runs.push(result);
      const items = trigger.resolveTriggerItems({}, result) as Change[];
      for (let i = 0; i < items.length; i += batchSize) batches.push(items.slice(i, i + batchSize));
      const next = how.batching === false ? null : trigger.getNextPaginationState({}, result);
      if (!next) break;
      payload = { paginationState: next };
    }
    const changes = batches.flat();
    return {
      runs,
      batches,
      changes,
      warnings,
      ids: changes.map((c) => c.record.id),
      summary: changes.map((c) => `${c.change} ${c.record.id}`),
    };
  }

  return {
    emulator,
    clock,
    component,
    harness,
    connection,
    schemes,
    lib,
    act,
    poll,
    /** Moves the clock to the next whole second, so what was written is in the past for a poll. */
    tick: () => clock.advance(1000),
  };
}

type Setup = ReturnType<typeof setup>;
const savedState = (instanceState: Record<string, unknown>) =>
  (instanceState.__prismaticInternal as { polling?: { checkpoint?: { stream: string } } } | undefined)
    ?.polling;

let serial = 0;
const email = (tag: string) => `${tag}.${++serial}@example.com`;

async function profile(s: Setup, tag = "p"): Promise<string> {
  return (await s.act("create-profile", { email: email(tag) })).data.id;
}

const inList = (listId: string) => [
  { conditions: [{ type: "profile-group-membership", is_member: true, group_ids: [listId] }] },
];

async function metricId(s: Setup, name: string): Promise<string> {
  const res = await s.lib.request<{ data: { id: string; attributes: { name: string } }[] }>({
    method: "GET",
    path: "/api/metrics",
  });
  const found = res.body.data.find((m) => m.attributes.name === name);
  if (!found) throw new Error(`no metric ${name}`);
  return found.id;
}

/** Records an event; its ID, found by the number it carries. */
async function event(s: Setup, name: string, profileEmail: string): Promise<string> {
  const n = ++serial;
  await s.act("create-event", { name, profile: { email: profileEmail }, properties: { n } });
  const res = await s.lib.request<{
    data: { id: string; attributes: { event_properties?: { n?: number } } }[];
  }>({
    method: "GET",
    path: "/api/events",
    query: { sort: "-datetime", "page[size]": "200" },
  });
  const found = res.body.data.find((e) => e.attributes.event_properties?.n === n);
  if (!found) throw new Error(`event ${n} not found`);
  return found.id;
}

/**
 * What each trigger watches, made through the emulator's HTTP API: `scope` makes what the trigger needs (its
 * list, segment or metric), `existing` a record in the stream before the first poll, `changes` what happens
 * between two polls, with the changes a poll must then deliver (`kind id`).
 */
interface Scenario {
  readonly seed?: "demo";
  scope?(s: Setup): Promise<{ params: Record<string, string>; data?: Record<string, string> }>;
  existing(s: Setup, data: Record<string, string>): Promise<string>;
  changes(s: Setup, existing: string, data: Record<string, string>): Promise<string[]>;
}

const campaign = (channel: "email" | "sms" | "mobile_push", listId: string, name: string) => ({
  name,
  includedAudiences: [listId],
  messages: [
    channel === "email"
      ? {
          channel,
          label: name,
          content: { subject: "Hello", from_email: "shop@example.com", from_label: "Shop" },
        }
      : channel === "sms"
        ? { channel, content: { body: "Sale!" } }
        : { channel, content: { title: "Sale", body: "Open the app" } },
  ],
});

const SCENARIOS: Record<string, Scenario> = {
  "new-and-updated-profiles": {
    existing: (s) => profile(s),
    async changes(s, existing) {
      await s.act("update-profile", { profileId: existing, firstName: "Ada" });
      const made = await profile(s);
      return [`updated ${existing}`, `created ${made}`];
    },
  },
  "new-and-updated-lists": {
    existing: async (s) => (await s.act("create-list", { listName: "Existing" })).data.id,
    async changes(s, existing) {
      await s.act("update-list", { listId: existing, listName: "Renamed" });
      const made = (await s.act("create-list", { listName: "New" })).data.id;
      return [`updated ${existing}`, `created ${made}`];
    },
  },
  "new-and-updated-segments": {
    async scope(s) {
      return { params: {}, data: { listId: (await s.act("create-list", { listName: "Base" })).data.id } };
    },
    existing: async (s, d) =>
      (await s.act("create-segment", { name: "Existing", conditionGroups: inList(d.listId as string) })).data
        .id,
    async changes(s, existing, d) {
      await s.act("update-segment", { segmentId: existing, name: "Renamed" });
      const made = (
        await s.act("create-segment", { name: "New", conditionGroups: inList(d.listId as string) })
      ).data.id;
      return [`updated ${existing}`, `created ${made}`];
    },
  },
  "new-and-updated-campaigns": {
    async scope(s) {
      return { params: {}, data: { listId: (await s.act("create-list", { listName: "Audience" })).data.id } };
    },
    existing: async (s, d) =>
      (await s.act("create-campaign", campaign("email", d.listId as string, "Email"))).data.id,
    async changes(s, existing, d) {
      await s.act("update-campaign", { campaignId: existing, name: "Email, renamed" });
      const sms = (await s.act("create-campaign", campaign("sms", d.listId as string, "SMS"))).data.id;
      const push = (await s.act("create-campaign", campaign("mobile_push", d.listId as string, "Push"))).data
        .id;
      // One partition after another (email, then sms, then push), each in its own time order.
      return [`updated ${existing}`, `created ${sms}`, `created ${push}`];
    },
  },
  "new-and-updated-templates": {
    existing: async (s) =>
      (await s.act("create-template", { name: "Existing", editorType: "CODE", html: "<p>hi</p>" })).data.id,
    async changes(s, existing) {
      await s.act("update-template", { templateId: existing, name: "Renamed" });
      const made = (await s.act("create-template", { name: "New", editorType: "CODE", html: "<p>new</p>" }))
        .data.id;
      return [`updated ${existing}`, `created ${made}`];
    },
  },
  "new-and-updated-flows": {
    // Klaviyo's API cannot create a flow: the demo seed's flows are the existing records.
    seed: "demo",
    async existing(s) {
      const res = await s.lib.request<{ data: { id: string; attributes: { status: string } }[] }>({
        method: "GET",
        path: "/api/flows",
        query: { filter: "equals(status,'draft')" },
      });
      return res.body.data[0]?.id as string;
    },
    async changes(s, existing) {
      await s.act("update-flow-status", { flowId: existing, status: "manual" });
      return [`updated ${existing}`];
    },
  },
  "new-event": {
    async scope(s) {
      const who = email("buyer");
      const first = await event(s, "Placed Order", who);
      return { params: { metricId: await metricId(s, "Placed Order") }, data: { who, first } };
    },
    existing: async (_s, d) => d.first as string,
    async changes(s, _existing, d) {
      const order = await event(s, "Placed Order", d.who as string);
      // Another metric's event: the trigger watches Placed Order only.
      await event(s, "Viewed Product", d.who as string);
      return [`recorded ${order}`];
    },
  },
  "profile-added-to-list": {
    async scope(s) {
      const listId = (await s.act("create-list", { listName: "Watched" })).data.id;
      const other = (await s.act("create-list", { listName: "Other" })).data.id;
      return { params: { listId }, data: { listId, other } };
    },
    async existing(s, d) {
      const id = await profile(s);
      await s.act("add-profiles-to-list", { listId: d.listId, profileIds: [id] });
      return id;
    },
    async changes(s, _existing, d) {
      const joined = await profile(s);
      const elsewhere = await profile(s);
      await s.act("add-profiles-to-list", { listId: d.listId, profileIds: [joined] });
      await s.act("add-profiles-to-list", { listId: d.other, profileIds: [elsewhere] });
      return [`joined ${joined}`];
    },
  },
  "profile-added-to-segment": {
    async scope(s) {
      const listId = (await s.act("create-list", { listName: "Base" })).data.id;
      const segmentId = (await s.act("create-segment", { name: "In Base", conditionGroups: inList(listId) }))
        .data.id;
      return { params: { segmentId }, data: { listId } };
    },
    async existing(s, d) {
      const id = await profile(s);
      await s.act("add-profiles-to-list", { listId: d.listId, profileIds: [id] });
      return id;
    },
    async changes(s, _existing, d) {
      const joined = await profile(s);
      await s.act("add-profiles-to-list", { listId: d.listId, profileIds: [joined] });
      await profile(s); // in no list: not in the segment
      return [`joined ${joined}`];
    },
  },
  "profile-unsubscribed-or-suppressed": {
    async existing(s) {
      const who = email("bounce");
      const id = (await s.act("create-profile", { email: who })).data.id;
      await s.act("suppress-profiles", { emails: [who] });
      return id;
    },
    async scope(s) {
      // A subscriber of a list, to unsubscribe from it between the polls.
      const listId = (await s.act("create-list", { listName: "Newsletter" })).data.id;
      const who = email("reader");
      const id = (await s.act("create-profile", { email: who })).data.id;
      await s.act("subscribe-profiles", { listId, profiles: [{ email: who }] });
      return { params: {}, data: { listId, who, id } };
    },
    async changes(s, _existing, d) {
      const who = email("spam");
      const id = (await s.act("create-profile", { email: who })).data.id;
      await s.act("suppress-profiles", { emails: [who] });
      await s.act("unsubscribe-profiles", { listId: d.listId, profiles: [{ email: d.who }] });
      // The suppression partition is read first, then the lists' unsubscriptions.
      return [`suppressed ${id}`, `unsubscribed ${d.id}`];
    },
  },
};

describe("the Prismatic component: its triggers and data sources, as defined", () => {
  const component = createComponent();

  it("has one polling trigger per trigger of the catalogue, batching its changes", () => {
    const triggers = triggersOf(component);
    // Beside them, one webhook trigger per topic family (test/platforms/prismatic-webhook-triggers.test.ts).
    expect(Object.keys(triggers)).toHaveLength(TRIGGERS.length + WEBHOOK_FAMILIES.length);
    const polling = Object.entries(triggers).filter(([, t]) => (t as ConvertedTrigger).isPollingTrigger);
    expect(polling.map(([key]) => key).sort()).toEqual(TRIGGERS.map(triggerKeyOf).sort());
    for (const def of TRIGGERS) {
      const trigger = triggers[triggerKeyOf(def)] as ConvertedTrigger;
      expect(trigger.display).toEqual({ label: def.label, description: def.description });
      expect(trigger).toMatchObject({
        isPollingTrigger: true,
        scheduleSupport: "required",
        triggerResolverSupport: "valid",
        triggerResolverDefaultBatchSize: 1,
        hasResolveTriggerItems: true,
        hasGetNextDiscoveryState: true,
      });
      expect(trigger.inputs[0]).toMatchObject({ key: "connection", type: "connection", label: "Connection" });
      expect(trigger.inputs.slice(1).map((i) => i.label)).toEqual(def.inputs.map((i) => i.label));
      for (const want of def.inputs) {
        const got = trigger.inputs.find((i) => i.key === want.key) as ConvertedInput;
        if (want.type === "boolean") expect(got).toMatchObject({ type: "boolean", default: "true" });
        if (want.type === "date") expect(got.type).toBe("timestamp");
        if (want.picker) expect(got.dataSource).toBe(dataSourceKeyOf(want.picker));
      }
    }
    expect(Object.keys(triggers)).toEqual(
      expect.arrayContaining([
        "newAndUpdatedProfiles",
        "newAndUpdatedLists",
        "newAndUpdatedCampaigns",
        "newEvent",
        "profileAddedToList",
        "profileAddedToSegment",
        "profileUnsubscribedOrSuppressed",
      ]),
    );
  });

  it("has a picklist data source per picker, attached to every action input that takes its IDs", () => {
    const sources = dataSourcesOf(component);
    expect(Object.keys(sources).sort()).toEqual(
      [
        ...PICKERS.map((p) => dataSourceKeyOf(p)),
        ...WEBHOOK_FAMILIES.flatMap((f) => topicDataSourceKeyOf(f) ?? []),
      ].sort(),
    );
    expect(Object.keys(sources)).toEqual(
      expect.arrayContaining([
        "selectAccount",
        "selectList",
        "selectCampaign",
        "selectProfile",
        "selectMetric",
      ]),
    );
    for (const source of Object.values(sources)) {
      expect(source.dataSourceType).toBe("picklist");
      expect(source.inputs[0]).toMatchObject({ key: "connection", type: "connection" });
    }
    let attached = 0;
    for (const action of Object.values(component.actions) as unknown as ConvertedAction[]) {
      for (const i of action.inputs) {
        const picker = pickerForInput(i.key);
        expect(i.dataSource, `${action.key}.${i.key}`).toBe(picker ? dataSourceKeyOf(picker) : undefined);
        if (i.dataSource) {
          expect(sources[i.dataSource]).toBeDefined();
          attached++;
        }
      }
    }
    const expected = actions.flatMap((a) => Object.values(a.inputs)).filter((d) => pickerForInput(d.key));
    expect(attached).toBe(expected.length);
    expect(attached).toBeGreaterThan(30);
  });
});

const CONNECTIONS: ConnectionKind[] = ["apiKey", "oauth2"];

describe.each(CONNECTIONS)("the triggers through spectral's harness, with the %s connection", (kind) => {
  it.each(TRIGGERS.map((t) => t.key))(
    "%s: nothing on a first poll without Look-back Date; the existing records with one; then only what changed",
    async (key) => {
      const scenario = SCENARIOS[key] as Scenario;
      const s = setup(kind, scenario.seed ? { seed: scenario.seed } : {});
      const triggerKey = triggerKeyOf(getTrigger(key) as NonNullable<ReturnType<typeof getTrigger>>);
      const scoped = scenario.scope ? await scenario.scope(s) : { params: {} };
      const data = scoped.data ?? {};
      const existing = await scenario.existing(s, data);
      s.tick();

      // A first poll without Look-back Date starts now: nothing delivered, the state saved.
      const fromNow: Record<string, unknown> = {};
      const first = await s.poll(triggerKey, scoped.params, fromNow);
      expect(first.changes).toEqual([]);
      expect(first.runs[0]?.resultType).toBe("polled_no_changes");
      expect(savedState(fromNow)?.checkpoint?.stream).toBe(getTrigger(key)?.stream);

      // With a Look-back Date, the records since then; the state from that poll on.
      const since: Record<string, unknown> = {};
      const back = await s.poll(triggerKey, { ...scoped.params, lookBackDate: LOOK_BACK }, since);
      expect(back.ids).toContain(existing);
      expect(new Set(back.ids).size).toBe(back.ids.length);
      expect(back.runs[0]?.resultType).toBe("completed");
      for (const batch of back.batches) expect(batch).toHaveLength(1);

      // Between polls: changes, then the next second.
      const expected = await scenario.changes(s, existing, data);
      s.tick();
      const next = await s.poll(triggerKey, { ...scoped.params, lookBackDate: LOOK_BACK }, since);
      expect(next.summary).toEqual(expected);
      for (const c of next.changes) {
        expect(c.stream).toBe(getTrigger(key)?.stream);
        expect(c.record).toMatchObject({ id: expect.any(String), attributes: expect.any(Object) });
      }

      // The poll that started now delivers the same changes (not the existing records), once.
      const fromNowNext = await s.poll(triggerKey, scoped.params, fromNow);
      expect(fromNowNext.summary).toEqual(expected);

      // And nothing is delivered twice.
      s.tick();
      const again = await s.poll(triggerKey, scoped.params, since);
      expect(again.changes).toEqual([]);
      expect(again.runs[0]?.resultType).toBe("polled_no_changes");

      expect(new Set(s.schemes)).toEqual(new Set([kind === "apiKey" ? "Klaviyo-API-Key" : "Bearer"]));
    },
  );
});

describe("the triggers' inputs and batching", () => {
  it("Show New Records = false drops created records; Show Updated Records = false drops updated ones", async () => {
    const s = setup("apiKey");
    const existing = await profile(s);
    s.tick();
    const stateA: Record<string, unknown> = {};
    const stateB: Record<string, unknown> = {};
    await s.poll("newAndUpdatedProfiles", {}, stateA);
    await s.poll("newAndUpdatedProfiles", {}, stateB);
    await s.act("update-profile", { profileId: existing, lastName: "Lovelace" });
    const made = await profile(s);
    s.tick();
    const updatedOnly = await s.poll("newAndUpdatedProfiles", { showNewRecords: "false" }, stateA);
    expect(updatedOnly.summary).toEqual([`updated ${existing}`]);
    const createdOnly = await s.poll("newAndUpdatedProfiles", { showUpdatedRecords: false }, stateB);
    expect(createdOnly.summary).toEqual([`created ${made}`]);
    // What a toggle dropped is not delivered later either: the state moved past it.
    s.tick();
    expect((await s.poll("newAndUpdatedProfiles", {}, stateA)).changes).toEqual([]);
  });

  it("Profile Added to List: a profile added to the list, with its joined time; not one added to another", async () => {
    const s = setup("oauth2");
    const listId = (await s.act("create-list", { listName: "Watched" })).data.id;
    const other = (await s.act("create-list", { listName: "Other" })).data.id;
    s.tick();
    const state: Record<string, unknown> = {};
    await s.poll("profileAddedToList", { listId }, state);
    const second = Math.floor(s.clock.now() / 1000) * 1000;
    const [a, b] = [await profile(s), await profile(s)];
    await s.act("add-profiles-to-list", { listId, profileIds: [a] });
    await s.act("add-profiles-to-list", { listId: other, profileIds: [b] });
    s.tick();
    const got = await s.poll("profileAddedToList", { listId }, state);
    expect(got.summary).toEqual([`joined ${a}`]);
    expect(got.changes[0]?.at).toBe(iso(second));
    expect(got.changes[0]?.record.attributes?.joined_group_at).toBeDefined();
  });

  it("New Event with a metric: only that metric's events, with the metric and profile; without one, every event", async () => {
    const s = setup("apiKey");
    const who = email("buyer");
    await event(s, "Placed Order", who);
    await event(s, "Viewed Product", who);
    const placed = await metricId(s, "Placed Order");
    s.tick();
    const one: Record<string, unknown> = {};
    const all: Record<string, unknown> = {};
    await s.poll("newEvent", { metricId: placed }, one);
    await s.poll("newEvent", {}, all);
    const order = await event(s, "Placed Order", who);
    const view = await event(s, "Viewed Product", who);
    s.tick();
    const onlyOrders = await s.poll("newEvent", { metricId: placed }, one);
    expect(onlyOrders.summary).toEqual([`recorded ${order}`]);
    expect(onlyOrders.changes[0]?.related?.map((r) => r.type).sort()).toEqual(["metric", "profile"]);
    expect((await s.poll("newEvent", {}, all)).summary).toEqual([`recorded ${order}`, `recorded ${view}`]);
  });

  it("a burst larger than a poll: the run polls again with the cursor until done, every change once, in batches", async () => {
    const s = setup("apiKey", { component: { triggers: { maxChanges: 10, batchSize: 4 } } });
    const made: string[] = [];
    for (let i = 0; i < 25; i++) made.push((await s.act("create-list", { listName: `Burst ${i}` })).data.id);
    s.tick();
    const state: Record<string, unknown> = {};
    const run = await s.poll("newAndUpdatedLists", { lookBackDate: iso(T0) }, state);
    // Lists come ten a page: three polls in the run, the first two saying more wait.
    expect(run.runs.length).toBe(3);
    expect(run.runs.slice(0, 2).every((r) => r.payload.paginationState)).toBe(true);
    expect(run.runs[2]?.payload.paginationState).toBeFalsy();
    expect(run.ids.sort()).toEqual([...made].sort());
    expect(run.batches.map((b) => b.length)).toEqual([4, 4, 2, 4, 4, 2, 4, 1]);
    s.tick();
    expect((await s.poll("newAndUpdatedLists", {}, state)).changes).toEqual([]);
  });

  it("a flow that does not batch gets a poll's changes as one list; the next poll carries on from the saved state", async () => {
    const s = setup("apiKey", { component: { triggers: { maxChanges: 10 } } });
    const made: string[] = [];
    for (let i = 0; i < 25; i++) made.push((await s.act("create-list", { listName: `Burst ${i}` })).data.id);
    s.tick();
    const state: Record<string, unknown> = {};
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const run = await s.poll("newAndUpdatedLists", { lookBackDate: iso(T0) }, state, { batching: false });
      expect(run.runs).toHaveLength(1);
      const data = run.runs[0]?.payload.body.data as Change[];
      expect(Array.isArray(data)).toBe(true);
      seen.push(...data.map((c) => c.record.id));
    }
    expect(seen.sort()).toEqual([...made].sort());
    expect((await s.poll("newAndUpdatedLists", {}, state)).changes).toEqual([]);
  });

  it("a list the trigger no longer watches: the old state is set aside with a warning, not an error", async () => {
    const s = setup("apiKey");
    const first = (await s.act("create-list", { listName: "First" })).data.id;
    const second = (await s.act("create-list", { listName: "Second" })).data.id;
    s.tick();
    const state: Record<string, unknown> = {};
    await s.poll("profileAddedToList", { listId: first }, state);
    const who = await profile(s);
    await s.act("add-profiles-to-list", { listId: second, profileIds: [who] });
    s.tick();
    const moved = await s.poll("profileAddedToList", { listId: second }, state);
    expect(moved.changes).toEqual([]);
    expect(moved.warnings.join()).toMatch(/another list, segment or metric/);
    expect((savedState(state)?.checkpoint as { scope?: unknown } | undefined)?.scope).toEqual({
      listId: second,
    });
    const again = await s.poll("profileAddedToList", { listId: second, lookBackDate: iso(T0) }, {});
    expect(again.ids).toEqual([who]);
  });

  it("a Look-back Date given as epoch milliseconds or seconds", async () => {
    const s = setup("apiKey");
    const listId = (await s.act("create-list", { listName: "Old" })).data.id;
    s.tick();
    for (const since of [String(T0 - 60_000), String((T0 - 60_000) / 1000), T0 - 60_000])
      expect((await s.poll("newAndUpdatedLists", { lookBackDate: since }, {})).ids).toEqual([listId]);
  });

  it("bad inputs: a labelled error before anything is sent", async () => {
    const s = setup("apiKey");
    const before = s.emulator.requests.length;
    expect((await failure(s.poll("profileAddedToList", {}, {}))).message).toMatch(/List: is required/);
    expect((await failure(s.poll("newAndUpdatedLists", { lookBackDate: "yesterday" }, {}))).message).toMatch(
      /Look-back Date: "yesterday" is not a date-time/,
    );
    expect(s.emulator.requests.length).toBe(before);
  });
});

describe.each(CONNECTIONS)("the data sources through spectral's harness, with the %s connection", (kind) => {
  type Picked = { result: { key: string; label: string }[] };
  const pick = async (s: Setup, key: string, params: Record<string, unknown> = {}) =>
    (await s.harness.dataSource(key, { connection: s.connection, ...params })) as unknown as Picked;

  it("Select List offers every list of an account with three pages and more", async () => {
    const s = setup(kind);
    const made: string[] = [];
    for (let i = 0; i < 27; i++) made.push((await s.act("create-list", { listName: `List ${i}` })).data.id);
    const got = await pick(s, "selectList");
    expect(got.result.map((o) => o.key).sort()).toEqual([...made].sort());
    expect(got.result.find((o) => o.key === made[3])?.label).toBe("List 3");
    const pages = s.emulator.requests.filter(
      (r) => r.method === "GET" && r.path.split("?")[0] === "/api/lists",
    );
    expect(pages.length).toBe(3);
    // A search narrows them, still over every page.
    expect((await pick(s, "selectList", { search: "List 2" })).result.map((o) => o.label).sort()).toEqual(
      ["List 2", ...Array.from({ length: 7 }, (_, i) => `List ${20 + i}`)].sort(),
    );
  });

  it("Select Campaign offers campaigns of every channel: email, SMS and push", async () => {
    const s = setup(kind);
    const listId = (await s.act("create-list", { listName: "Audience" })).data.id;
    const ids = {
      email: (await s.act("create-campaign", campaign("email", listId, "Spring email"))).data.id,
      sms: (await s.act("create-campaign", campaign("sms", listId, "Spring text"))).data.id,
      push: (await s.act("create-campaign", campaign("mobile_push", listId, "Spring push"))).data.id,
    };
    const got = await pick(s, "selectCampaign");
    expect(got.result).toEqual(
      expect.arrayContaining([
        { key: ids.email, label: "Spring email (email)" },
        { key: ids.sms, label: "Spring text (sms)" },
        { key: ids.push, label: "Spring push (push)" },
      ]),
    );
    expect(got.result).toHaveLength(3);
  });

  it("Select Profile finds a profile by email, and without one offers a bounded page, never the account", async () => {
    const s = setup(kind);
    const ids: string[] = [];
    for (let i = 0; i < 60; i++)
      ids.push((await s.act("create-profile", { email: `p${i}@example.com` })).data.id);
    const found = await pick(s, "selectProfile", { search: "p42@example.com" });
    expect(found.result).toEqual([{ key: ids[42], label: "p42@example.com" }]);
    expect((await pick(s, "selectProfile", { search: "nobody@example.com" })).result).toEqual([]);
    const latest = await pick(s, "selectProfile");
    expect(latest.result.length).toBe(50);
  });

  it("every data source answers on a seeded account, each option an ID and a label", async () => {
    const s = setup(kind, { seed: "demo" });
    const listId = (await s.act("create-list", { listName: "Base" })).data.id;
    await s.act("create-segment", { name: "In Base", conditionGroups: inList(listId) });
    await s.act("create-campaign", campaign("sms", listId, "Flash sale"));
    await s.act("create-template", { name: "Receipt", editorType: "CODE", html: "<p>Thanks</p>" });
    await s.act("create-tag", { name: `Seasonal ${++serial}` });
    await s.act("upload-image", { imageUrl: "https://example.com/a.png", imageName: "Banner" });
    for (const picker of PICKERS) {
      const got = await pick(s, dataSourceKeyOf(picker));
      expect(got.result.length, picker.key).toBeGreaterThan(0);
      for (const o of got.result) expect(o).toEqual({ key: expect.any(String), label: expect.any(String) });
    }
  });

  it("past the bound: the first options and a warning", async () => {
    const s = setup(kind, { component: { dataSources: { maxOptions: 12 } } });
    for (let i = 0; i < 25; i++) await s.act("create-list", { listName: `List ${i}` });
    const warnings: string[] = [];
    const got = (await s.harness.dataSource("selectList", { connection: s.connection }, {
      logger: { warn: (m: string) => warnings.push(m) },
    } as never)) as unknown as Picked;
    expect(got.result).toHaveLength(12);
    expect(warnings.join()).toMatch(/only the first 12/);
  });
});
