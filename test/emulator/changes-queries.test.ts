/**
 * The queries a change feed sends, through real HTTP against the emulator, answered as Klaviyo answers them:
 * times in whole seconds from the emulator's clock, time filters with each endpoint's operators, sorts on those
 * times with keyset pages whose boundaries fall inside runs of one second (neither skipping nor repeating an item),
 * archived campaigns and flows apart, suppressions, events of one metric, and members by `joined_group_at`.
 */
import { describe, expect, it } from "vitest";
import { insertFlow } from "../../src/emulator/resources/flows-model.js";
import { changesHarness, type Harness, klaviyoTime, type Page, type Resource } from "./changes-harness.js";
import { klaviyoHeaders, onlyError } from "./helpers.js";

const start = changesHarness();

/** Seconds of one morning in 2031, far from the machine's own time; `.mmm` shows what is truncated. */
const S = (second: number, ms = 0) =>
  `2031-03-01T10:00:${String(second).padStart(2, "0")}.${String(ms).padStart(3, "0")}Z`;
/** The same second as a filter value, as Klaviyo writes it. */
const T = (second: number) => klaviyoTime(S(second));

async function createProfile(h: Harness, email: string): Promise<Resource> {
  const body = { data: { type: "profile", attributes: { email } } };
  return (await h.expectStatus<{ data: Resource }>(201, "POST", "/api/profiles", body)).data;
}

async function patchProfile(h: Harness, id: string, first_name: string): Promise<void> {
  const body = { data: { type: "profile", id, attributes: { first_name } } };
  await h.expectStatus(200, "PATCH", `/api/profiles/${id}`, body);
}

async function createList(h: Harness, name: string): Promise<Resource> {
  const body = { data: { type: "list", attributes: { name } } };
  return (await h.expectStatus<{ data: Resource }>(201, "POST", "/api/lists", body)).data;
}

async function addToList(h: Harness, listId: string, profileIds: string[]): Promise<void> {
  const body = { data: profileIds.map((id) => ({ type: "profile", id })) };
  await h.expectStatus(204, "POST", `/api/lists/${listId}/relationships/profiles`, body);
}

/** Profiles made one after another, each at its own millisecond of `second` (they tie to the second). */
async function profilesAt(h: Harness, second: number, emails: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, email] of emails.entries()) {
    h.clock.at(S(second, 100 + i * 150));
    ids.push((await createProfile(h, email)).id);
  }
  return ids;
}

const sizes = (pages: Page[]) => pages.map((page) => page.data.length);

describe("times: whole seconds, from the emulator's clock", () => {
  it("every time a write records is the clock's, truncated to the second", async () => {
    const h = await start(S(0, 750));
    const profile = await createProfile(h, "ada@example.com");
    expect([profile.attributes.created, profile.attributes.updated]).toEqual([T(0), T(0)]);
    const list = await createList(h, "Newsletter");
    expect([list.attributes.created, list.attributes.updated]).toEqual([T(0), T(0)]);

    h.clock.at(S(1, 999));
    await addToList(h, list.id, [profile.id]);
    const members = await h.expectStatus<Page>(200, "GET", `/api/lists/${list.id}/profiles`);
    expect(members.data[0]?.attributes.joined_group_at).toBe(T(1));

    h.clock.at(S(2, 1));
    const template = await h.expectStatus<{ data: Resource }>(201, "POST", "/api/templates", {
      data: { type: "template", attributes: { name: "Welcome", editor_type: "CODE", html: "<p>Hi</p>" } },
    });
    expect([template.data.attributes.created, template.data.attributes.updated]).toEqual([T(2), T(2)]);
    const campaign = await createCampaign(h, "Spring", list.id, "email");
    expect([campaign.attributes.created_at, campaign.attributes.updated_at]).toEqual([T(2), T(2)]);

    h.clock.at(S(3, 500));
    await createEvents(h, [{ email: "ada@example.com", metric: "Placed Order" }]);
    const events = await h.expectStatus<Page>(200, "GET", "/api/events");
    expect(events.data[0]?.attributes).toMatchObject({ datetime: T(3), timestamp: Date.parse(T(3)) / 1000 });

    h.clock.at(S(4, 250));
    await suppress(h, ["ada@example.com"]);
    h.clock.at(S(5, 999));
    await patchProfile(h, profile.id, "Ada");
    const read = await h.expectStatus<{ data: Resource }>(
      200,
      "GET",
      `/api/profiles/${profile.id}?additional-fields[profile]=subscriptions`,
    );
    expect(read.data.attributes).toMatchObject({ created: T(0), updated: T(5) });
    const marketing = subscriptionsOf(read.data).email.marketing;
    expect(marketing.suppression).toEqual([{ reason: "USER_SUPPRESSED", timestamp: T(4) }]);
  });
});

describe("profiles: updated and created", () => {
  it("greater-than / less-than on updated, sorted, with page boundaries inside one second", async () => {
    const h = await start(S(0));
    const early = await profilesAt(h, 1, ["a@example.com", "b@example.com", "c@example.com"]);
    const tied = await profilesAt(h, 2, ["d@x.com", "e@x.com", "f@x.com", "g@x.com", "h@x.com"]);
    const late = await profilesAt(h, 3, ["i@example.com", "j@example.com"]);

    const window = {
      filter: `and(greater-than(updated,${T(1)}),less-than(updated,${T(3)}))`,
      sort: "updated",
    };
    const pages = await h.walk("/api/profiles", { ...window, "page[size]": "2" });
    expect(sizes(pages)).toEqual([2, 2, 1]);
    expect(pages.flatMap((p) => p.data.map((item) => item.id))).toEqual(tied);
    for (const page of pages) for (const item of page.data) expect(item.attributes.updated).toBe(T(2));

    // Created in one second, updated in a later one: `updated` moves, `created` stays.
    h.clock.at(S(4, 10));
    await patchProfile(h, tied[3] as string, "Gil");
    h.clock.at(S(4, 900));
    await patchProfile(h, early[0] as string, "Ann");
    const updated = { filter: `greater-than(updated,${T(3)})`, sort: "updated", "page[size]": "1" };
    // Tied in one second, the profiles come in creation order, one a page.
    expect(await h.ids("/api/profiles", updated)).toEqual([early[0], tied[3]]);
    const created = `and(greater-than(created,${T(1)}),less-than(created,${T(3)}))`;
    expect(await h.ids("/api/profiles", { filter: created, sort: "created", "page[size]": "3" })).toEqual(
      tied,
    );
    expect(
      await h.ids("/api/profiles", { filter: `greater-than(created,${T(2)})`, sort: "created" }),
    ).toEqual(late);
    // Descending: the latest first, ties still in creation order.
    const down = await h.walk("/api/profiles", { filter: `greater-than(updated,${T(2)})`, sort: "-updated" });
    expect(down.flatMap((p) => p.data.map((item) => item.id))).toEqual([early[0], tied[3], ...late]);
  });

  it("refuses the operators Klaviyo does not allow on updated and created", async () => {
    const h = await start(S(0));
    for (const filter of [`greater-or-equal(updated,${T(1)})`, `less-or-equal(created,${T(1)})`]) {
      const res = await h.call("GET", `/api/profiles?${new URLSearchParams({ filter })}`);
      expect(res.status).toBe(400);
      expect((await onlyError(res)).source).toEqual({ parameter: "filter" });
    }
  });
});

interface Subscriptions {
  email: {
    marketing: {
      suppression: Array<{ reason: string; timestamp: string }>;
      list_suppressions: Array<{ list_id: string; reason: string; timestamp: string }>;
    };
  };
}

/** The subscriptions block of a profile a page holds (`additional-fields[profile]=subscriptions`). */
function subscriptionsOf(profile: Resource | undefined): Subscriptions {
  if (!profile) throw new Error("no profile");
  return profile.attributes.subscriptions as Subscriptions;
}

async function unsubscribe(h: Harness, emails: string[], listId?: string): Promise<void> {
  await h.expectStatus(202, "POST", "/api/profile-subscription-bulk-delete-jobs", {
    data: {
      type: "profile-subscription-bulk-delete-job",
      attributes: {
        profiles: {
          data: emails.map((email) => ({
            type: "profile",
            attributes: { email, subscriptions: { email: { marketing: { consent: "UNSUBSCRIBED" } } } },
          })),
        },
      },
      ...(listId ? { relationships: { list: { data: { type: "list", id: listId } } } } : {}),
    },
  });
}

async function suppress(h: Harness, emails: string[]): Promise<void> {
  await h.expectStatus(202, "POST", "/api/profile-suppression-bulk-create-jobs", {
    data: {
      type: "profile-suppression-bulk-create-job",
      attributes: {
        profiles: { data: emails.map((email) => ({ type: "profile", attributes: { email } })) },
      },
    },
  });
}

describe("profiles: suppressions and list suppressions", () => {
  const SUPPRESSION = "subscriptions.email.marketing.suppression.timestamp";
  const LIST_SUPPRESSION = "subscriptions.email.marketing.list_suppressions.timestamp";
  const LIST_ID = "subscriptions.email.marketing.list_suppressions.list_id";
  const extra = { "additional-fields[profile]": "subscriptions" };

  async function scene(h: Harness) {
    const [a, b, c, d, e, f] = await profilesAt(h, 0, [
      "a@x.com",
      "b@x.com",
      "c@x.com",
      "d@x.com",
      "e@x.com",
      "f@x.com",
    ]);
    const newsletter = await createList(h, "Newsletter");
    const offers = await createList(h, "Offers");
    await addToList(h, newsletter.id, [c as string, e as string]);
    await addToList(h, offers.id, [e as string]);
    h.clock.at(S(1, 400));
    await unsubscribe(h, ["a@x.com"]); // in no list: unsubscribed globally
    await unsubscribe(h, ["e@x.com"], newsletter.id); // a member: leaves that list only
    h.clock.at(S(2, 600));
    await suppress(h, ["b@x.com", "d@x.com"]);
    await unsubscribe(h, ["c@x.com"], newsletter.id);
    h.clock.at(S(3, 50));
    await unsubscribe(h, ["e@x.com"], offers.id);
    await suppress(h, ["a@x.com"]); // already unsubscribed: a second global suppression
    return { a, b, c, d, e, f, newsletter: newsletter.id, offers: offers.id };
  }

  it("global suppressions: filtered and sorted on their timestamp; a profile without one never matches", async () => {
    const h = await start(S(0));
    const { a, b, d } = await scene(h);
    const since = { ...extra, filter: `greater-or-equal(${SUPPRESSION},${T(1)})`, sort: SUPPRESSION };
    const pages = await h.walk("/api/profiles", { ...since, "page[size]": "1" });
    expect(pages.flatMap((p) => p.data.map((item) => item.id))).toEqual([a, b, d]);
    const shapes = pages.map((p) => subscriptionsOf(p.data[0]).email.marketing.suppression);
    expect(shapes).toEqual([
      [
        { reason: "UNSUBSCRIBE", timestamp: T(1) },
        { reason: "USER_SUPPRESSED", timestamp: T(3) },
      ],
      [{ reason: "USER_SUPPRESSED", timestamp: T(2) }],
      [{ reason: "USER_SUPPRESSED", timestamp: T(2) }],
    ]);
    const window = `and(greater-or-equal(${SUPPRESSION},${T(2)}),less-than(${SUPPRESSION},${T(3)}))`;
    expect(
      await h.ids("/api/profiles", { ...extra, filter: window, sort: SUPPRESSION, "page[size]": "1" }),
    ).toEqual([b, d]);
    // The suppression that suppressed a profile stands for it: a's later one does not bring it back.
    const later = { filter: `greater-or-equal(${SUPPRESSION},${T(3)})` };
    expect(await h.ids("/api/profiles", later)).toEqual([]);
    // Only profiles with a suppression, even for a bound every time passes.
    const before = { filter: `less-than(${SUPPRESSION},2100-01-01T00:00:00Z)`, sort: `-${SUPPRESSION}` };
    expect(await h.ids("/api/profiles", before)).toEqual([b, d, a]);
  });

  it("list suppressions: list_id, reason and timestamp, each entry judged on its own", async () => {
    const h = await start(S(0));
    const { c, e, newsletter, offers } = await scene(h);
    const all = await h.walk("/api/profiles", {
      ...extra,
      filter: `greater-or-equal(${LIST_SUPPRESSION},${T(1)})`,
      sort: LIST_SUPPRESSION,
      "page[size]": "1",
    });
    // e sorts by its earliest list suppression (second 1), c by its only one (second 2).
    expect(all.flatMap((p) => p.data.map((item) => item.id))).toEqual([e, c]);
    const listOf = (page: Page | undefined) =>
      subscriptionsOf(page?.data[0]).email.marketing.list_suppressions;
    expect(listOf(all[1])).toEqual([{ list_id: newsletter, reason: "UNSUBSCRIBE", timestamp: T(2) }]);
    expect(listOf(all[0])).toEqual([
      { list_id: newsletter, reason: "UNSUBSCRIBE", timestamp: T(1) },
      { list_id: offers, reason: "UNSUBSCRIBE", timestamp: T(3) },
    ]);
    // From second 2 on, e is there by its later entry, and sorts by it.
    const later = { filter: `greater-or-equal(${LIST_SUPPRESSION},${T(2)})`, sort: LIST_SUPPRESSION };
    expect(await h.ids("/api/profiles", later)).toEqual([c, e]);
    // Conditions on one list suppression hold together: e left the newsletter at second 1, not 3.
    const oneList = (list: string, second: number) => ({
      filter: `and(equals(${LIST_ID},'${list}'),greater-or-equal(${LIST_SUPPRESSION},${T(second)}))`,
    });
    expect(await h.ids("/api/profiles", oneList(offers, 3))).toEqual([e]);
    expect(await h.ids("/api/profiles", oneList(newsletter, 3))).toEqual([]);
    expect(await h.ids("/api/profiles", oneList(newsletter, 1))).toEqual([c, e]);
  });
});

describe("lists and segments: greater-than(updated) only, ten a page", () => {
  it("lists: new and updated after T, sorted on updated, page boundaries inside a second", async () => {
    const h = await start(S(0));
    const lists: string[] = [];
    for (let i = 0; i < 12; i++) {
      h.clock.at(S(i < 6 ? 1 : 2, i * 70));
      lists.push((await createList(h, `List ${i}`)).id);
    }
    h.clock.at(S(3, 20));
    for (const i of [7, 1]) {
      await h.expectStatus(200, "PATCH", `/api/lists/${lists[i]}`, {
        data: { type: "list", id: lists[i], attributes: { name: `Renamed ${i}` } },
      });
    }
    const first = await h.expectStatus<Page>(200, "GET", "/api/lists");
    expect(first.data).toHaveLength(10);
    const filter = `greater-than(updated,${T(1)})`;
    const pages = await h.walk("/api/lists", { filter, sort: "updated", "page[size]": "3" });
    expect(sizes(pages)).toEqual([3, 3, 1]);
    const second2 = [6, 8, 9, 10, 11].map((i) => lists[i]);
    expect(pages.flatMap((p) => p.data.map((item) => item.id))).toEqual([...second2, lists[1], lists[7]]);
    expect(await h.ids("/api/lists", { filter: `greater-than(updated,${T(2)})`, sort: "updated" })).toEqual([
      lists[1],
      lists[7],
    ]);
    for (const refused of [`greater-or-equal(updated,${T(1)})`, `less-than(updated,${T(1)})`]) {
      expect((await h.call("GET", `/api/lists?${new URLSearchParams({ filter: refused })}`)).status).toBe(
        400,
      );
    }
  });

  it("segments: the same, with segments made and changed through the API", async () => {
    const h = await start(S(0));
    const list = await createList(h, "Base");
    const definition = {
      condition_groups: [
        { conditions: [{ type: "profile-group-membership", is_member: true, group_ids: [list.id] }] },
      ],
    };
    const segments: string[] = [];
    for (let i = 0; i < 5; i++) {
      h.clock.at(S(i < 2 ? 1 : 2, i * 100));
      const body = { data: { type: "segment", attributes: { name: `Segment ${i}`, definition } } };
      segments.push((await h.expectStatus<{ data: Resource }>(201, "POST", "/api/segments", body)).data.id);
    }
    h.clock.at(S(3));
    await h.expectStatus(200, "PATCH", `/api/segments/${segments[0]}`, {
      data: { type: "segment", id: segments[0], attributes: { name: "Renamed" } },
    });
    const query = { filter: `greater-than(updated,${T(1)})`, sort: "updated", "page[size]": "2" };
    expect(await h.ids("/api/segments", query)).toEqual([segments[2], segments[3], segments[4], segments[0]]);
    const refused = new URLSearchParams({ filter: `less-than(updated,${T(1)})` });
    expect((await h.call("GET", `/api/segments?${refused}`)).status).toBe(400);
  });
});

describe("templates and flows: updated, every operator Klaviyo allows", () => {
  it("templates: greater-or-equal, greater-than and less-than on updated, sorted", async () => {
    const h = await start(S(0));
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      h.clock.at(S(i < 5 ? 1 : 2, i * 60));
      const body = {
        data: { type: "template", attributes: { name: `T${i}`, editor_type: "CODE", html: "<p/>" } },
      };
      ids.push((await h.expectStatus<{ data: Resource }>(201, "POST", "/api/templates", body)).data.id);
    }
    h.clock.at(S(3, 5));
    for (const i of [9, 2]) {
      await h.expectStatus(200, "PATCH", `/api/templates/${ids[i]}`, {
        data: { type: "template", id: ids[i], attributes: { name: `Renamed ${i}` } },
      });
    }
    const second2 = [5, 6, 7, 8, 10, 11].map((i) => ids[i]);
    const from2 = { filter: `greater-or-equal(updated,${T(2)})`, sort: "updated", "page[size]": "4" };
    const pages = await h.walk("/api/templates", from2);
    expect(sizes(pages)).toEqual([4, 4]);
    expect(pages.flatMap((p) => p.data.map((item) => item.id))).toEqual([...second2, ids[2], ids[9]]);
    const only2 = `and(greater-or-equal(updated,${T(2)}),less-than(updated,${T(3)}))`;
    expect(await h.ids("/api/templates", { filter: only2, sort: "updated", "page[size]": "5" })).toEqual(
      second2,
    );
    expect(
      await h.ids("/api/templates", { filter: `greater-than(updated,${T(2)})`, sort: "updated" }),
    ).toEqual([ids[2], ids[9]]);
  });

  it("flows: updated, with archived flows only when equals(archived,true) asks", async () => {
    const h = await start(S(0));
    const state = h.running.emulator.state;
    const flow = (name: string, archived: boolean, second: number) =>
      insertFlow(
        state,
        { name, status: "draft", archived, triggerType: "Added to List" },
        Date.parse(S(second)),
      ).id;
    const live = [flow("One", false, 1), flow("Two", false, 1), flow("Three", false, 1)];
    const archived = [flow("Old", true, 1), flow("Older", true, 2)];
    h.clock.at(S(2, 300));
    await h.expectStatus(200, "PATCH", `/api/flows/${live[0]}`, {
      data: { type: "flow", id: live[0], attributes: { status: "live" } },
    });
    const since = `greater-or-equal(updated,${T(1)})`;
    expect(await h.ids("/api/flows", { filter: since, sort: "updated", "page[size]": "1" })).toEqual([
      live[1],
      live[2],
      live[0],
    ]);
    const onlyArchived = `and(equals(archived,true),${since})`;
    expect(await h.ids("/api/flows", { filter: onlyArchived, sort: "updated", "page[size]": "1" })).toEqual(
      archived,
    );
    const notArchived = `and(equals(archived,false),greater-than(updated,${T(1)}),less-than(updated,${T(3)}))`;
    expect(await h.ids("/api/flows", { filter: notArchived, sort: "updated" })).toEqual([live[0]]);
  });
});

async function createCampaign(h: Harness, name: string, listId: string, channel: string): Promise<Resource> {
  const definitions: Record<string, unknown> = {
    email: {
      channel: "email",
      label: name,
      content: { subject: name, preview_text: "", from_email: "shop@example.com", from_label: "Shop" },
    },
    sms: { channel: "sms", content: { body: name } },
    mobile_push: { channel: "mobile_push", content: { title: name, body: name } },
  };
  const body = {
    data: {
      type: "campaign",
      attributes: {
        name,
        audiences: { included: [listId] },
        "campaign-messages": {
          data: [{ type: "campaign-message", attributes: { definition: definitions[channel] } }],
        },
      },
    },
  };
  return (await h.expectStatus<{ data: Resource }>(201, "POST", "/api/campaigns", body)).data;
}

describe("campaigns: one channel at a time, updated_at windows, archived apart", () => {
  it("and(equals(messages.channel,…), greater-or-equal / less-than(updated_at,…)), sorted on updated_at", async () => {
    const h = await start(S(0));
    const list = await createList(h, "Everyone");
    h.clock.at(S(1, 100));
    const e1 = (await createCampaign(h, "E1", list.id, "email")).id;
    const e2 = (await createCampaign(h, "E2", list.id, "email")).id;
    const s1 = (await createCampaign(h, "S1", list.id, "sms")).id;
    h.clock.at(S(2, 900));
    const e3 = (await createCampaign(h, "E3", list.id, "email")).id;
    const m1 = (await createCampaign(h, "M1", list.id, "mobile_push")).id;
    const e4 = (await createCampaign(h, "E4", list.id, "email")).id;

    // Archived from Klaviyo's app; here through the emulator's admin route.
    h.clock.at(S(3, 400));
    const archived = await h.expectStatus<{ id: string; archived: boolean; updated_at: string }>(
      200,
      "PUT",
      `/__emulator/campaigns/${e2}/archived`,
      { archived: true },
    );
    expect(archived).toEqual({ id: e2, archived: true, updated_at: T(3) });

    const window = (channel: string) =>
      `and(equals(messages.channel,'${channel}'),greater-or-equal(updated_at,${T(1)}),less-than(updated_at,${T(4)}))`;
    const email = await h.walk("/api/campaigns", {
      filter: window("email"),
      sort: "updated_at",
      "page[size]": "1",
    });
    expect(email.flatMap((p) => p.data.map((item) => item.id))).toEqual([e1, e3, e4]);
    expect(await h.ids("/api/campaigns", { filter: window("sms"), sort: "updated_at" })).toEqual([s1]);
    expect(await h.ids("/api/campaigns", { filter: window("mobile_push"), sort: "updated_at" })).toEqual([
      m1,
    ]);

    const archivedOnly = `and(equals(messages.channel,'email'),equals(archived,true))`;
    const pages = await h.walk("/api/campaigns", { filter: archivedOnly, sort: "updated_at" });
    expect(pages.flatMap((p) => p.data.map((item) => [item.id, item.attributes.archived]))).toEqual([
      [e2, true],
    ]);
    const notArchived = `and(equals(messages.channel,'email'),equals(archived,false))`;
    expect(await h.ids("/api/campaigns", { filter: notArchived, sort: "updated_at" })).toEqual([e1, e3, e4]);

    // Brought back without touching updated_at: listed again, at the time its archiving gave it.
    h.clock.at(S(5));
    const back = await h.expectStatus<{ updated_at: string }>(
      200,
      "PUT",
      `/__emulator/campaigns/${e2}/archived`,
      {
        archived: false,
        touch: false,
      },
    );
    expect(back.updated_at).toBe(T(3));
    expect(await h.ids("/api/campaigns", { filter: window("email"), sort: "updated_at" })).toEqual([
      e1,
      e3,
      e4,
      e2,
    ]);
    await h.expectStatus(404, "PUT", "/__emulator/campaigns/01NOPE/archived", { archived: true });
  });
});

interface BulkEvent {
  email: string;
  metric: string;
  time?: string;
  id?: string;
}

async function createEvents(h: Harness, events: BulkEvent[]): Promise<void> {
  await h.expectStatus(202, "POST", "/api/event-bulk-create-jobs", {
    data: {
      type: "event-bulk-create-job",
      attributes: {
        "events-bulk-create": {
          data: events.map((event, i) => ({
            type: "event-bulk-create",
            attributes: {
              profile: { data: { type: "profile", attributes: { email: event.email } } },
              events: {
                data: [
                  {
                    type: "event",
                    attributes: {
                      properties: { n: i },
                      ...(event.time ? { time: event.time } : {}),
                      unique_id: event.id ?? `e-${i}-${Math.random()}`,
                      metric: { data: { type: "metric", attributes: { name: event.metric } } },
                    },
                  },
                ],
              },
            },
          })),
        },
      },
    },
  });
}

describe("events: a window of datetime, one metric, sorted", () => {
  it("and(greater-or-equal(datetime,T), less-than(datetime,U), equals(metric_id,M)), include=metric,profile", async () => {
    const h = await start(S(30));
    const order = (id: string, second: number, ms: number, metric = "Placed Order") => ({
      email: `${id}@example.com`,
      metric,
      time: S(second, ms),
      id,
    });
    await createEvents(h, [
      order("o1", 1, 100),
      order("o2", 1, 900),
      order("v1", 1, 500, "Viewed Product"),
      order("o3", 1, 0),
      order("o4", 2, 0),
      order("o5", 2, 999),
      order("o6", 3, 0),
      order("o0", 0, 999),
    ]);
    const metrics = await h.expectStatus<Page>(200, "GET", "/api/metrics");
    const placed = metrics.data.find((m) => m.attributes.name === "Placed Order")?.id as string;
    const filter = `and(greater-or-equal(datetime,${T(1)}),less-than(datetime,${T(3)}),equals(metric_id,'${placed}'))`;
    const pages = await h.walk("/api/events", {
      filter,
      sort: "datetime",
      include: "metric,profile",
      "page[size]": "2",
    });
    expect(sizes(pages)).toEqual([2, 2, 1]);
    const seen = pages.flatMap((p) => p.data);
    // Tied in second 1, the events come in the order they were recorded.
    expect(seen.map((e) => (e.attributes.event_properties as { $event_id: string }).$event_id)).toEqual([
      "o1",
      "o2",
      "o3",
      "o4",
      "o5",
    ]);
    expect(seen.map((e) => e.attributes.datetime)).toEqual([T(1), T(1), T(1), T(2), T(2)]);
    for (const page of pages) {
      const types = new Set((page.included ?? []).map((r) => r.type));
      expect(types).toEqual(new Set(["metric", "profile"]));
    }
    expect((await h.call("GET", "/api/events?page[size]=1000")).status).toBe(200);
    // Past the document's bound on purpose: sent without the contract check.
    const tooLarge = await fetch(`${h.running.url}/api/events?page[size]=1001`, {
      headers: klaviyoHeaders(),
    });
    expect([tooLarge.status, (await onlyError(tooLarge)).source]).toEqual([400, { parameter: "page[size]" }]);
  });
});

describe("list and segment members: joined_group_at", () => {
  it("filtered with greater-or-equal / less-than and sorted, ties across pages", async () => {
    const h = await start(S(0));
    const ids = await profilesAt(h, 0, [
      "p1@x.com",
      "p2@x.com",
      "p3@x.com",
      "p4@x.com",
      "p5@x.com",
      "p6@x.com",
    ]);
    const list = await createList(h, "Members");
    h.clock.at(S(1, 300));
    await addToList(h, list.id, ids.slice(0, 3));
    h.clock.at(S(2, 800));
    await addToList(h, list.id, ids.slice(3, 5));
    h.clock.at(S(3, 1));
    await addToList(h, list.id, ids.slice(5));

    const window = `and(greater-or-equal(joined_group_at,${T(1)}),less-than(joined_group_at,${T(3)}))`;
    const pages = await h.walk(`/api/lists/${list.id}/profiles`, {
      filter: window,
      sort: "joined_group_at",
      "page[size]": "2",
    });
    expect(sizes(pages)).toEqual([2, 2, 1]);
    const members = pages.flatMap((p) => p.data);
    expect(members.map((m) => m.id)).toEqual(ids.slice(0, 5));
    expect(members.map((m) => m.attributes.joined_group_at)).toEqual([T(1), T(1), T(1), T(2), T(2)]);
    const latest = { sort: "-joined_group_at", "page[size]": "4" };
    expect(await h.ids(`/api/lists/${list.id}/profiles`, latest)).toEqual([
      ids[5],
      ids[3],
      ids[4],
      ...ids.slice(0, 3),
    ]);

    // A segment of the list's members, made at second 2: those who were in the list already joined it then.
    const definition = {
      condition_groups: [
        { conditions: [{ type: "profile-group-membership", is_member: true, group_ids: [list.id] }] },
      ],
    };
    h.clock.at(S(2, 500));
    const body = { data: { type: "segment", attributes: { name: "Members", definition } } };
    const segment = (await h.expectStatus<{ data: Resource }>(201, "POST", "/api/segments", body)).data.id;
    h.clock.at(S(9));
    const path = `/api/segments/${segment}/profiles`;
    const inSegment = await h.walk(path, {
      filter: `and(greater-or-equal(joined_group_at,${T(2)}),less-than(joined_group_at,${T(3)}))`,
      sort: "joined_group_at",
      "page[size]": "2",
    });
    expect(sizes(inSegment)).toEqual([2, 2, 1]);
    expect(inSegment.flatMap((p) => p.data.map((m) => [m.id, m.attributes.joined_group_at]))).toEqual(
      ids.slice(0, 5).map((id) => [id, T(2)]),
    );
    expect(
      await h.ids(path, { filter: `greater-or-equal(joined_group_at,${T(3)})`, sort: "joined_group_at" }),
    ).toEqual([ids[5]]);
  });
});
