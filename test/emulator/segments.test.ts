import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createEmulator } from "../../src/emulator/index.js";
import { insertProfile } from "../../src/emulator/resources/profile-model.js";
import type { ResourceRow } from "../../src/emulator/store.js";
import { checkedFetch, expectNoContractProblems, type FetchLike } from "../helpers/contract.js";
import { klaviyoHeaders, onlyError } from "./helpers.js";

const KEY = "pk_segments_test_0000000000000000";
const em = createEmulator({ apiKeys: [{ key: KEY }], rateLimits: "off" });
const checked = checkedFetch(em.fetch);
/** Checks responses only: for requests that break the document on purpose. */
const unchecked = checkedFetch(em.fetch, { requests: false });

interface Resource {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  relationships?: Record<string, { data?: unknown; links?: Record<string, string> }>;
  links: { self: string };
}
interface Doc {
  data: Resource;
  links: Record<string, string>;
  included?: Resource[];
}
interface ListDoc {
  data: Resource[];
  links: { self: string; next?: string; prev?: string };
}

function call(method: string, path: string, body?: unknown, fetcher: FetchLike = checked) {
  const url = path.startsWith("http") ? path : `${em.baseUrl}${path}`;
  return fetcher(url, {
    method,
    headers: klaviyoHeaders(KEY, body === undefined ? {} : { "Content-Type": "application/vnd.api+json" }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

const membership = (...group_ids: string[]) => ({
  condition_groups: [{ conditions: [{ type: "profile-group-membership", is_member: true, group_ids }] }],
});
const segmentBody = (name: string, definition: unknown, extra: Record<string, unknown> = {}) => ({
  data: { type: "segment", attributes: { name, definition, ...extra } },
});

function addList(name: string): ResourceRow {
  const now = "2026-01-01T00:00:00.000+00:00";
  return em.state.lists.insert({
    id: `L${em.state.lists.size}aaaa`.slice(0, 6),
    seq: em.state.lists.seq(),
    attributes: { name, created: now, updated: now, opt_in_process: "single_opt_in" },
  });
}

async function create(
  name: string,
  definition: unknown,
  extra: Record<string, unknown> = {},
): Promise<Resource> {
  const res = await call("POST", "/api/segments", segmentBody(name, definition, extra));
  expect(res.status).toBe(201);
  return ((await res.json()) as Doc).data;
}

let vip: ResourceRow;

beforeEach(() => {
  em.reset();
  vip = addList("VIP");
});

afterEach(() => {
  expectNoContractProblems();
});

describe("POST /api/segments", () => {
  it("creates an active, unstarred segment that reads back with its definition", async () => {
    const definition = {
      condition_groups: [
        {
          conditions: [
            { type: "profile-group-membership", is_member: true, group_ids: [vip.id] },
            {
              type: "profile-property",
              property: "properties['Favorite Color']",
              filter: { type: "string", operator: "equals", value: "blue" },
            },
          ],
        },
        { conditions: [{ type: "profile-region", in_region: true, region: "united_states" }] },
      ],
    };
    const created = await create("Blue VIPs", definition);
    expect(created.type).toBe("segment");
    expect(created.id).toMatch(/^[A-Za-z0-9]{6}$/);
    expect(created.attributes).toMatchObject({
      name: "Blue VIPs",
      definition,
      is_active: true,
      is_processing: false,
      is_starred: false,
    });
    expect(created.links.self).toBe(`${em.baseUrl}/api/segments/${created.id}/`);

    const read = (await (await call("GET", `/api/segments/${created.id}`)).json()) as Doc;
    expect(read.data.attributes).toEqual(created.attributes);
    expect(read.data.relationships?.profiles?.links?.related).toBe(
      `${em.baseUrl}/api/segments/${created.id}/profiles/`,
    );
    expect(em.state.segments.get(created.id)?.attributes.definition).toEqual(definition);
  });

  it("stores is_starred, and refuses a datetime without a time zone as the document does", async () => {
    const definition = (date: string) => ({
      condition_groups: [
        {
          conditions: [
            {
              type: "profile-property",
              property: "created",
              filter: { type: "date", operator: "after", date },
            },
          ],
        },
      ],
    });
    const created = await create("Recent", definition("2026-01-01T00:00:00+00:00"), { is_starred: true });
    expect(created.attributes.is_starred).toBe(true);
    expect(em.state.segments.get(created.id)?.attributes.definition).toEqual(
      definition("2026-01-01T00:00:00+00:00"),
    );
    const naive = await call(
      "POST",
      "/api/segments",
      segmentBody("Naive", definition("2026-01-01T00:00:00")),
      unchecked,
    );
    expect(naive.status).toBe(400);
    expect((await onlyError(naive)).source.pointer).toBe(
      "/data/attributes/definition/condition_groups/0/conditions/0/filter/date",
    );
  });

  it("accepts every condition type of the document's union", async () => {
    const metric = em.state.metrics.insert({
      id: "Mtr001",
      seq: em.state.metrics.seq(),
      attributes: { name: "Placed Order" },
    });
    const conditions = [
      {
        type: "profile-metric",
        metric_id: metric.id,
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
        type: "profile-marketing-consent",
        consent: {
          channel: "sms",
          can_receive_marketing: false,
          consent_status: { subscription: "unsubscribed" },
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
        dimension: "predicted_clv",
        filter: { type: "numeric", operator: "greater-than-or-equal", value: 500 },
      },
      {
        type: "profile-predictive-analytics",
        dimension: "channel_affinity",
        measurement: "rank",
        predicted_channel: "sms",
        filter: { type: "string", operator: "equals", value: "high" },
      },
      { type: "profile-group-membership", is_member: false, group_ids: [vip.id] },
      { type: "profile-property", property: "email", filter: { type: "existence", operator: "is-set" } },
    ];
    const created = await create("Everything", { condition_groups: [{ conditions }] });
    expect((created.attributes.definition as { condition_groups: unknown[] }).condition_groups).toEqual([
      { conditions },
    ]);
  });

  it("points at an unknown condition type", async () => {
    const res = await call(
      "POST",
      "/api/segments",
      segmentBody("Bad", {
        condition_groups: [{ conditions: [{ type: "profile-attribute", property: "email" }] }],
      }),
      unchecked,
    );
    expect(res.status).toBe(400);
    const error = await onlyError(res);
    expect(error.code).toBe("invalid");
    expect(error.source.pointer).toBe("/data/attributes/definition/condition_groups/0/conditions/0/type");
    expect(error.detail).toContain("profile-attribute");
    expect(error.detail).toContain("profile-group-membership");
  });

  it.each([
    [
      "a profile-property filter operator outside its enum",
      { type: "profile-property", property: "email", filter: { type: "string", operator: "is", value: "x" } },
      "/filter/operator",
    ],
    [
      "a profile-property filter of an unknown type",
      {
        type: "profile-property",
        property: "email",
        filter: { type: "text", operator: "equals", value: "x" },
      },
      "/filter/type",
    ],
    [
      "a missing property",
      { type: "profile-property", filter: { type: "existence", operator: "is-set" } },
      "/property",
    ],
    ["a region outside its enum", { type: "profile-region", in_region: true, region: "canada" }, "/region"],
    [
      "a metric measurement outside its enum",
      {
        type: "profile-metric",
        metric_id: "abc",
        measurement: "avg",
        measurement_filter: { type: "numeric", operator: "equals", value: 1 },
        timeframe_filter: { type: "date", operator: "alltime" },
      },
      "/measurement",
    ],
    [
      "a metric condition without its timeframe",
      {
        type: "profile-metric",
        metric_id: "abc",
        measurement: "count",
        measurement_filter: { type: "numeric", operator: "equals", value: 1 },
      },
      "/timeframe_filter",
    ],
    [
      "a consent status not allowed for its channel",
      {
        type: "profile-marketing-consent",
        consent: { channel: "sms", can_receive_marketing: true, consent_status: { subscription: "any" } },
      },
      "/consent/consent_status/subscription",
    ],
    [
      "a consent channel outside its enum",
      {
        type: "profile-marketing-consent",
        consent: { channel: "fax", can_receive_marketing: true, consent_status: { subscription: "any" } },
      },
      "/consent/channel",
    ],
    [
      "a postal distance unit outside its enum",
      {
        type: "profile-postal-code-distance",
        country_code: "US",
        postal_code: "02110",
        unit: "leagues",
        filter: { type: "numeric", operator: "less-than", value: 5 },
      },
      "/unit",
    ],
    [
      "a predictive dimension outside its enum",
      {
        type: "profile-predictive-analytics",
        dimension: "lifetime_love",
        filter: { type: "numeric", operator: "equals", value: 1 },
      },
      "/dimension",
    ],
    [
      "a predicted gender outside its enum",
      {
        type: "profile-predictive-analytics",
        dimension: "predicted_gender",
        filter: { type: "string", operator: "equals", value: "female" },
      },
      "/filter/value",
    ],
    [
      "group membership without group ids",
      { type: "profile-group-membership", is_member: true },
      "/group_ids",
    ],
    [
      "an unknown member",
      { type: "profile-region", in_region: true, region: "united_states", country: "US" },
      "",
    ],
  ])("refuses %s with a pointer at the member", async (_what, condition, member) => {
    const res = await call(
      "POST",
      "/api/segments",
      segmentBody("Bad", { condition_groups: [{ conditions: [condition] }] }),
      unchecked,
    );
    expect(res.status).toBe(400);
    const error = await onlyError(res);
    expect(error.source.pointer).toBe(`/data/attributes/definition/condition_groups/0/conditions/0${member}`);
    expect(em.state.segments.size).toBe(0);
  });

  it("requires a name, at least one condition group and non-empty conditions", async () => {
    const noName = await call(
      "POST",
      "/api/segments",
      { data: { type: "segment", attributes: { definition: membership(vip.id) } } },
      unchecked,
    );
    expect((await onlyError(noName)).source.pointer).toBe("/data/attributes/name");
    const noGroups = await call(
      "POST",
      "/api/segments",
      segmentBody("x", { condition_groups: [] }),
      unchecked,
    );
    expect((await onlyError(noGroups)).source.pointer).toBe("/data/attributes/definition/condition_groups");
    const empty = await call(
      "POST",
      "/api/segments",
      segmentBody("x", { condition_groups: [{ conditions: [] }] }),
      unchecked,
    );
    expect((await onlyError(empty)).source.pointer).toBe(
      "/data/attributes/definition/condition_groups/0/conditions",
    );
  });

  it("refuses group ids that name no list or segment, pointing at each", async () => {
    const res = await call(
      "POST",
      "/api/segments",
      segmentBody("Ghost", membership(vip.id, "NoSuch")),
      unchecked,
    );
    expect(res.status).toBe(400);
    const error = await onlyError(res);
    expect(error.source.pointer).toBe(
      "/data/attributes/definition/condition_groups/0/conditions/0/group_ids/1",
    );
    expect(error.detail).toContain("NoSuch");
  });

  it("refuses a metric id that names no metric", async () => {
    const res = await call(
      "POST",
      "/api/segments",
      segmentBody("Buyers", {
        condition_groups: [
          {
            conditions: [
              {
                type: "profile-metric",
                metric_id: "Nope00",
                measurement: "count",
                measurement_filter: { type: "numeric", operator: "greater-than", value: 0 },
                timeframe_filter: { type: "date", operator: "alltime" },
              },
            ],
          },
        ],
      }),
    );
    expect(res.status).toBe(400);
    expect((await onlyError(res)).source.pointer).toBe(
      "/data/attributes/definition/condition_groups/0/conditions/0/metric_id",
    );
  });

  it("answers a wrong data.type with 409 at /data/type", async () => {
    const res = await call(
      "POST",
      "/api/segments",
      { data: { type: "list", attributes: { name: "x", definition: membership(vip.id) } } },
      unchecked,
    );
    expect(res.status).toBe(409);
    const error = await onlyError(res);
    expect(error.code).toBe("conflict");
    expect(error.source.pointer).toBe("/data/type");
  });
});

describe("GET /api/segments/{id} with profile_count, and the segment's profiles", () => {
  it("counts and lists the profiles that match the definition", async () => {
    const ann = insertProfile(em.state, {
      email: "ann@example.com",
      properties: { plan: "gold", orders: 7 },
    });
    const bob = insertProfile(em.state, {
      email: "bob@example.com",
      properties: { plan: "silver", orders: 2 },
    });
    insertProfile(em.state, { phone_number: "+15555550100", properties: { orders: 12 } });
    em.state.memberships.set(vip.id, new Map([[bob.id, "2026-02-01T00:00:00.000+00:00"]]));
    // (gold OR in VIP) AND orders >= 2 AND has an email
    const segment = await create("Good customers", {
      condition_groups: [
        {
          conditions: [
            {
              type: "profile-property",
              property: "properties['plan']",
              filter: { type: "string", operator: "equals", value: "gold" },
            },
            { type: "profile-group-membership", is_member: true, group_ids: [vip.id] },
          ],
        },
        {
          conditions: [
            {
              type: "profile-property",
              property: "orders",
              filter: { type: "numeric", operator: "greater-than-or-equal", value: 2 },
            },
          ],
        },
        {
          conditions: [
            {
              type: "profile-property",
              property: "email",
              filter: { type: "existence", operator: "is-set" },
            },
          ],
        },
      ],
    });
    const counted = (await (
      await call("GET", `/api/segments/${segment.id}?additional-fields[segment]=profile_count`)
    ).json()) as Doc;
    expect(counted.data.attributes.profile_count).toBe(2);
    const plain = (await (await call("GET", `/api/segments/${segment.id}`)).json()) as Doc;
    expect(plain.data.attributes).not.toHaveProperty("profile_count");

    const members = (await (await call("GET", `/api/segments/${segment.id}/profiles`)).json()) as ListDoc;
    expect(members.data.map((p) => p.id)).toEqual([ann.id, bob.id]);
    expect(members.data.map((p) => p.attributes.email)).toEqual(["ann@example.com", "bob@example.com"]);
    expect(members.data[0]?.attributes.joined_group_at).toEqual(expect.any(String));

    // A segment of a segment follows the inner one.
    const outer = await create("Not good", {
      condition_groups: [
        { conditions: [{ type: "profile-group-membership", is_member: false, group_ids: [segment.id] }] },
      ],
    });
    const outerCount = (await (
      await call("GET", `/api/segments/${outer.id}?additional-fields[segment]=profile_count`)
    ).json()) as Doc;
    expect(outerCount.data.attributes.profile_count).toBe(1);
  });

  it("evaluates metric conditions over the profile's events", async () => {
    const ann = insertProfile(em.state, { email: "ann@example.com" });
    const bob = insertProfile(em.state, { email: "bob@example.com" });
    const metric = em.state.metrics.insert({
      id: "Mtr001",
      seq: em.state.metrics.seq(),
      attributes: { name: "Placed Order" },
    });
    const at = new Date(Date.now() - 86_400_000).toISOString();
    for (const [profile, value] of [
      [ann, 80],
      [ann, 50],
      [bob, 20],
    ] as const) {
      em.state.events.insert({
        id: `ev${em.state.events.size}`,
        seq: em.state.events.seq(),
        metricId: metric.id,
        profileId: profile.id,
        attributes: { datetime: at, event_properties: { $value: value } },
      });
    }
    const segment = await create("Big spenders", {
      condition_groups: [
        {
          conditions: [
            {
              type: "profile-metric",
              metric_id: metric.id,
              measurement: "sum",
              measurement_filter: { type: "numeric", operator: "greater-than", value: 100 },
              timeframe_filter: { type: "date", operator: "in-the-last", unit: "week", quantity: 1 },
            },
          ],
        },
      ],
    });
    const members = (await (await call("GET", `/api/segments/${segment.id}/profiles`)).json()) as ListDoc;
    expect(members.data.map((p) => p.id)).toEqual([ann.id]);
  });

  it("applies sparse fieldsets, profile_count included, and include=tags gives an empty relationship", async () => {
    const segment = await create("Sparse", membership(vip.id));
    const res = await call(
      "GET",
      `/api/segments/${segment.id}?fields[segment]=name,profile_count&additional-fields[segment]=profile_count&include=tags`,
    );
    const body = (await res.json()) as Doc;
    expect(body.data.attributes).toEqual({ name: "Sparse", profile_count: 0 });
    expect(body.data.relationships?.tags?.data).toEqual([]);
  });

  it("is 404 for an unknown segment", async () => {
    const res = await call("GET", "/api/segments/Zz9999");
    expect(res.status).toBe(404);
    expect((await onlyError(res)).detail).toContain("Zz9999");
  });
});

describe("GET /api/segments", () => {
  it("pages 10 at a time by default, and follows links.next to the end", async () => {
    const names = Array.from({ length: 23 }, (_, i) => `Segment ${String(i).padStart(2, "0")}`);
    for (const name of names) await create(name, membership(vip.id));
    const seen: string[] = [];
    let next: string | undefined = "/api/segments";
    let pages = 0;
    while (next) {
      const page = (await (await call("GET", next)).json()) as ListDoc;
      expect(page.data.length).toBeLessThanOrEqual(10);
      seen.push(...page.data.map((s) => String(s.attributes.name)));
      next = page.links.next;
      pages += 1;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(names);
    const tooBig = await call("GET", "/api/segments?page[size]=11", undefined, unchecked);
    expect(tooBig.status).toBe(400);
    expect((await onlyError(tooBig)).source.parameter).toBe("page[size]");
  });

  it("sorts by name, descending, and filters by is_starred, name and id", async () => {
    const b = await create("Bravo", membership(vip.id), { is_starred: true });
    const a = await create("Alpha", membership(vip.id));
    const c = await create("Charlie", membership(vip.id), { is_starred: true });
    const sorted = (await (await call("GET", "/api/segments?sort=-name")).json()) as ListDoc;
    expect(sorted.data.map((s) => s.attributes.name)).toEqual(["Charlie", "Bravo", "Alpha"]);
    const starred = (await (
      await call("GET", "/api/segments?filter=equals(is_starred,true)&sort=name")
    ).json()) as ListDoc;
    expect(starred.data.map((s) => s.id)).toEqual([b.id, c.id]);
    const named = (await (
      await call("GET", `/api/segments?filter=${encodeURIComponent("any(name,['Alpha','Charlie'])")}`)
    ).json()) as ListDoc;
    expect(named.data.map((s) => s.id)).toEqual([a.id, c.id]);
    const byId = (await (await call("GET", `/api/segments?filter=equals(id,'${a.id}')`)).json()) as ListDoc;
    expect(byId.data.map((s) => s.id)).toEqual([a.id]);
    expect(byId.data[0]?.attributes.definition).toEqual(membership(vip.id));
  });

  it("refuses a filter on a field the endpoint does not filter by", async () => {
    const res = await call("GET", "/api/segments?filter=equals(is_processing,false)");
    expect(res.status).toBe(400);
    expect((await onlyError(res)).source.parameter).toBe("filter");
  });
});

describe("PATCH /api/segments/{id}", () => {
  it("renames, stars and replaces the definition; absent attributes keep their value", async () => {
    const other = addList("Other");
    const segment = await create("Old", membership(vip.id));
    const res = await call("PATCH", `/api/segments/${segment.id}`, {
      data: {
        type: "segment",
        id: segment.id,
        attributes: { name: "New", definition: membership(other.id), is_starred: true },
      },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Doc;
    expect(body.data.attributes).toMatchObject({
      name: "New",
      definition: membership(other.id),
      is_starred: true,
      is_active: true,
    });
    const read = (await (await call("GET", `/api/segments/${segment.id}`)).json()) as Doc;
    expect(read.data.attributes.definition).toEqual(membership(other.id));
    expect(read.data.attributes.created).toBe(segment.attributes.created);

    const renamed = await call("PATCH", `/api/segments/${segment.id}`, {
      data: { type: "segment", id: segment.id, attributes: { name: "Newer" } },
    });
    expect(((await renamed.json()) as Doc).data.attributes).toMatchObject({
      name: "Newer",
      is_starred: true,
    });
  });

  it("deactivates only when is_active:false is the only attribute", async () => {
    const segment = await create("Seasonal", membership(vip.id));
    const mixed = await call("PATCH", `/api/segments/${segment.id}`, {
      data: { type: "segment", id: segment.id, attributes: { is_active: false, name: "Off" } },
    });
    expect(mixed.status).toBe(400);
    const error = await onlyError(mixed);
    expect(error.source.pointer).toBe("/data/attributes/is_active");
    expect(em.state.segments.get(segment.id)?.attributes).toMatchObject({
      is_active: true,
      name: "Seasonal",
    });

    const alone = await call("PATCH", `/api/segments/${segment.id}`, {
      data: { type: "segment", id: segment.id, attributes: { is_active: false } },
    });
    expect(alone.status).toBe(200);
    expect(((await alone.json()) as Doc).data.attributes.is_active).toBe(false);
    const reactivated = await call("PATCH", `/api/segments/${segment.id}`, {
      data: { type: "segment", id: segment.id, attributes: { is_active: true, name: "Back" } },
    });
    expect(((await reactivated.json()) as Doc).data.attributes).toMatchObject({
      is_active: true,
      name: "Back",
    });
    const inactive = (await (
      await call("GET", "/api/segments?filter=equals(is_active,true)")
    ).json()) as ListDoc;
    expect(inactive.data.map((s) => s.id)).toEqual([segment.id]);
  });

  it("refuses a body id that differs from the path, a definition naming the segment itself, and unknown ids", async () => {
    const segment = await create("Self", membership(vip.id));
    const mismatch = await call("PATCH", `/api/segments/${segment.id}`, {
      data: { type: "segment", id: "Other1", attributes: { name: "x" } },
    });
    expect(mismatch.status).toBe(400);
    expect((await onlyError(mismatch)).source.pointer).toBe("/data/id");
    const self = await call("PATCH", `/api/segments/${segment.id}`, {
      data: { type: "segment", id: segment.id, attributes: { definition: membership(segment.id) } },
    });
    expect(self.status).toBe(400);
    expect((await onlyError(self)).source.pointer).toBe(
      "/data/attributes/definition/condition_groups/0/conditions/0/group_ids/0",
    );
    const missing = await call("PATCH", "/api/segments/Nope12", {
      data: { type: "segment", id: "Nope12", attributes: { name: "x" } },
    });
    expect(missing.status).toBe(404);
  });
});

describe("DELETE /api/segments/{id}", () => {
  it("deletes the segment: 204, then 404", async () => {
    const segment = await create("Doomed", membership(vip.id));
    const res = await call("DELETE", `/api/segments/${segment.id}`);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect(em.state.segments.get(segment.id)).toBeUndefined();
    expect((await call("GET", `/api/segments/${segment.id}`)).status).toBe(404);
    expect((await call("DELETE", `/api/segments/${segment.id}`)).status).toBe(404);
  });
});
