import { describe, expect, it } from "vitest";
import type { BulkResult } from "../../src/ingest/bulk.js";
import { actionsSetup, refused } from "./helpers.js";

type Json = Record<string, unknown>;
interface Doc {
  data: { type: string; id: string; attributes: Json };
}
interface JobBody {
  data: {
    type: string;
    attributes: { profiles: { data: Array<{ type: string; id?: string; attributes: Json }> } } & Json;
    relationships?: { list: { data: { type: string; id: string } } };
  };
}

async function jobOf(request: Request | undefined): Promise<JobBody> {
  expect(request).toBeDefined();
  return (await (request as Request).clone().json()) as JobBody;
}

type Setup = ReturnType<typeof actionsSetup>;

function profileByEmail(setup: Setup, email: string) {
  for (const row of setup.emulator.state.profiles.values()) if (row.attributes.email === email) return row;
  return undefined;
}

function consentOf(setup: Setup, email: string, channel = "email", kind = "marketing"): unknown {
  const row = profileByEmail(setup, email);
  const subs = row?.subscriptions as Record<string, Record<string, { consent?: string }>> | undefined;
  return subs?.[channel]?.[kind]?.consent;
}

const emails = (n: number, prefix = "p") =>
  Array.from({ length: n }, (_, i) => ({ email: `${prefix}${i}@example.com` }));

describe("Subscribe Profiles", () => {
  it("subscribes flat and Klaviyo-shaped profiles to a list, normalising both to Klaviyo's shape", async () => {
    const setup = actionsSetup();
    const { run, sent, emulator } = setup;
    const list = await run<Doc>("create-list", { listName: "Newsletter" });
    const result = await run<BulkResult>("subscribe-profiles", {
      profiles: [
        { email: "flat@example.com", phone_number: "+15005550006" },
        { phone_number: "+15005550007", channels: ["sms"] },
        {
          type: "profile",
          attributes: {
            email: "klaviyo@example.com",
            subscriptions: { email: { marketing: { consent: "SUBSCRIBED" } } },
          },
        },
        { attributes: { email: "noconsent@example.com", subscriptions: { email: { marketing: {} } } } },
      ],
      listId: list.data.id,
      customSource: "Spring fair",
    });
    expect(result).toMatchObject({
      total: 4,
      accepted: 4,
      rejected: [],
      failed: [],
      unsent: [],
      complete: true,
    });
    expect(result.requests).toEqual([{ from: 0, to: 4, status: "accepted", httpStatus: 202 }]);

    const job = await jobOf(sent.at(-1));
    expect(job.data.type).toBe("profile-subscription-bulk-create-job");
    expect(job.data.relationships).toEqual({ list: { data: { type: "list", id: list.data.id } } });
    expect(job.data.attributes.custom_source).toBe("Spring fair");
    expect(job.data.attributes).not.toHaveProperty("historical_import");
    expect(job.data.attributes.profiles.data).toEqual([
      {
        type: "profile",
        attributes: {
          email: "flat@example.com",
          phone_number: "+15005550006",
          subscriptions: {
            email: { marketing: { consent: "SUBSCRIBED" } },
            sms: { marketing: { consent: "SUBSCRIBED" } },
          },
        },
      },
      {
        type: "profile",
        attributes: {
          phone_number: "+15005550007",
          subscriptions: { sms: { marketing: { consent: "SUBSCRIBED" } } },
        },
      },
      {
        type: "profile",
        attributes: {
          email: "klaviyo@example.com",
          subscriptions: { email: { marketing: { consent: "SUBSCRIBED" } } },
        },
      },
      {
        type: "profile",
        attributes: {
          email: "noconsent@example.com",
          subscriptions: { email: { marketing: { consent: "SUBSCRIBED" } } },
        },
      },
    ]);

    expect(consentOf(setup, "flat@example.com")).toBe("SUBSCRIBED");
    expect(consentOf(setup, "flat@example.com", "sms")).toBe("SUBSCRIBED");
    expect(consentOf(setup, "klaviyo@example.com")).toBe("SUBSCRIBED");
    const members = emulator.state.memberships.get(list.data.id);
    expect(members?.size).toBe(4);
    const flat = profileByEmail(setup, "flat@example.com");
    expect(members?.has(flat?.id ?? "")).toBe(true);
  });

  it("splits 1,500 profiles into requests of 1,000 and 500", async () => {
    const setup = actionsSetup();
    const result = await setup.run<BulkResult>("subscribe-profiles", { profiles: emails(1500) });
    expect(result.complete).toBe(true);
    expect(result.accepted).toBe(1500);
    expect(result.requests.map((r) => [r.from, r.to, r.status])).toEqual([
      [0, 1000, "accepted"],
      [1000, 1500, "accepted"],
    ]);
    expect(setup.sent).toHaveLength(2);
    expect((await jobOf(setup.sent[0])).data.attributes.profiles.data).toHaveLength(1000);
    expect(consentOf(setup, "p1499@example.com")).toBe("SUBSCRIBED");
  });

  it("reports each item of a refused request, with Klaviyo's reason for the one it pointed at", async () => {
    const setup = actionsSetup();
    const profiles: unknown[] = emails(1500);
    profiles[1200] = {
      type: "profile",
      id: "01NOSUCHPROFILE00000000000",
      attributes: {
        email: "ghost@example.com",
        subscriptions: { email: { marketing: { consent: "SUBSCRIBED" } } },
      },
    };
    const result = await setup.run<BulkResult>("subscribe-profiles", { profiles });
    expect(result.complete).toBe(false);
    expect(result.accepted).toBe(1000);
    expect(result.requests.map((r) => [r.from, r.to, r.status, r.httpStatus])).toEqual([
      [0, 1000, "accepted", 202],
      [1000, 1500, "rejected", 404],
    ]);
    expect(result.rejected).toHaveLength(500);
    expect(result.rejected.map((r) => r.index)).toEqual(Array.from({ length: 500 }, (_, i) => 1000 + i));
    const ghost = result.rejected.find((r) => r.index === 1200);
    expect(ghost?.reason).toContain("/data/attributes/profiles/data/200/id");
    expect(ghost?.reason).toContain("does not exist");
    expect(result.rejected.find((r) => r.index === 1001)?.reason).toMatch(/Klaviyo API 404/);
    // The refused request changed nothing; the accepted one did.
    expect(consentOf(setup, "p999@example.com")).toBe("SUBSCRIBED");
    expect(profileByEmail(setup, "p1300@example.com")).toBeUndefined();
  });

  it("checks every item before sending and reports the wrong ones by position", async () => {
    const { run, sent } = actionsSetup();
    const error = await refused(
      run("subscribe-profiles", {
        profiles: [
          { email: "ok@example.com" },
          { email: "ok2@example.com", channels: ["email", "fax"] },
          { first_name: "Nobody" },
          { email: "not-an-address" },
          { phone_number: "5005550006" },
          { email: "e@example.com", channels: ["sms"] },
          "sarah@example.com",
          {
            type: "profile",
            attributes: {
              email: "k@example.com",
              subscriptions: { email: { marketing: { consent: "UNSUBSCRIBED" } } },
            },
          },
          { type: "profile", attributes: { email: "k2@example.com" } },
        ],
      }),
    );
    const message = error.message;
    expect(message).toMatch(/^Subscribe Profiles: Profiles: item 1: /);
    expect(message).toContain('item 1: channels: "fax" is not a channel');
    expect(message).toContain('item 2: unknown member "first_name"');
    expect(message).toContain('item 3: email "not-an-address" is not an email address');
    expect(message).toContain('item 4: phone_number "5005550006" is not in E.164 format');
    expect(message).toContain("item 5: SMS consent needs a phone number");
    expect(message).toContain("item 6: must be a profile object");
    expect(message).toContain('item 7: subscriptions.email.marketing.consent must be "SUBSCRIBED"');
    expect(message).toContain("item 8: attributes.subscriptions must be an object of channels");
    expect(message).not.toContain("item 0");
    expect(sent).toHaveLength(0);

    const empty = await refused(run("subscribe-profiles", { profiles: [] }));
    expect(empty.message).toContain("Profiles: must hold at least one profile");
    const notArray = await refused(run("subscribe-profiles", { profiles: { email: "a@example.com" } }));
    expect(notArray.message).toContain("Profiles: expected an array, received an object");
    const missing = await refused(run("subscribe-profiles", { listId: "Y6nRLr" }));
    expect(missing.message).toContain("Profiles: is required");
    expect(sent).toHaveLength(0);
  });

  it("accepts consented_at only with Historical Import, in the past", async () => {
    const setup = actionsSetup();
    const { run, sent } = setup;
    const without = await refused(
      run("subscribe-profiles", {
        profiles: [{ email: "h@example.com", consented_at: "2024-03-01T10:00:00Z" }],
      }),
    );
    expect(without.message).toContain(
      "Profiles: item 0: email.marketing has consented_at, which Klaviyo only accepts when Historical Import is true",
    );
    const missingTime = await refused(
      run("subscribe-profiles", { profiles: [{ email: "h@example.com" }], historicalImport: true }),
    );
    expect(missingTime.message).toContain("Profiles: item 0: email.marketing needs consented_at");
    const future = await refused(
      run("subscribe-profiles", {
        profiles: [{ email: "h@example.com", consented_at: "2999-01-01T00:00:00Z" }],
        historicalImport: true,
      }),
    );
    expect(future.message).toContain(
      "item 0: email.marketing.consented_at 2999-01-01T00:00:00Z is in the future",
    );
    expect(sent).toHaveLength(0);

    const result = await run<BulkResult>("subscribe-profiles", {
      profiles: [{ email: "h@example.com", consented_at: "2024-03-01T10:00+0200" }],
      historicalImport: true,
    });
    expect(result.complete).toBe(true);
    const job = await jobOf(sent.at(-1));
    expect(job.data.attributes.historical_import).toBe(true);
    expect(job.data.attributes.profiles.data[0]?.attributes.subscriptions).toEqual({
      // Normalised as every time the connector sends (seconds added, the zone kept, with its colon).
      email: { marketing: { consent: "SUBSCRIBED", consented_at: "2024-03-01T10:00:00+02:00" } },
    });
    const row = profileByEmail(setup, "h@example.com");
    const subs = row?.subscriptions as { email?: { marketing?: { consent_timestamp?: string } } } | undefined;
    const marketing = { consent_timestamp: "", ...subs?.email?.marketing };
    expect(marketing.consent_timestamp.startsWith("2024-03-01T08:00:00")).toBe(true);
  });
});

describe("Unsubscribe Profiles", () => {
  it("sends 250 profiles in three requests of at most 100 and unsubscribes each", async () => {
    const setup = actionsSetup();
    const profiles = emails(250, "u");
    await setup.run("subscribe-profiles", { profiles });
    setup.sent.length = 0;
    const result = await setup.run<BulkResult>("unsubscribe-profiles", { profiles });
    expect(result).toMatchObject({ total: 250, accepted: 250, rejected: [], complete: true });
    expect(result.requests.map((r) => [r.from, r.to, r.status])).toEqual([
      [0, 100, "accepted"],
      [100, 200, "accepted"],
      [200, 250, "accepted"],
    ]);
    expect(setup.sent).toHaveLength(3);
    const sizes = await Promise.all(
      setup.sent.map(async (r) => (await jobOf(r)).data.attributes.profiles.data.length),
    );
    expect(sizes).toEqual([100, 100, 50]);
    const job = await jobOf(setup.sent[2]);
    expect(job.data.type).toBe("profile-subscription-bulk-delete-job");
    expect(job.data.attributes.profiles.data[0]).toEqual({
      type: "profile",
      attributes: {
        email: "u200@example.com",
        subscriptions: { email: { marketing: { consent: "UNSUBSCRIBED" } } },
      },
    });
    expect(consentOf(setup, "u0@example.com")).toBe("UNSUBSCRIBED");
    expect(consentOf(setup, "u249@example.com")).toBe("UNSUBSCRIBED");
  });

  it("with a List ID, a member only leaves the list", async () => {
    const setup = actionsSetup();
    const list = await setup.run<Doc>("create-list", { listName: "Leaving" });
    await setup.run("subscribe-profiles", {
      profiles: [{ email: "leaver@example.com" }],
      listId: list.data.id,
    });
    const row = profileByEmail(setup, "leaver@example.com");
    expect(setup.emulator.state.memberships.get(list.data.id)?.has(row?.id ?? "")).toBe(true);
    const result = await setup.run<BulkResult>("unsubscribe-profiles", {
      profiles: [
        {
          type: "profile",
          attributes: { email: "leaver@example.com", subscriptions: { email: { marketing: {} } } },
        },
      ],
      listId: list.data.id,
    });
    expect(result.complete).toBe(true);
    const job = await jobOf(setup.sent.at(-1));
    expect(job.data.relationships).toEqual({ list: { data: { type: "list", id: list.data.id } } });
    expect(setup.emulator.state.memberships.get(list.data.id)?.has(row?.id ?? "")).toBe(false);
    expect(consentOf(setup, "leaver@example.com")).toBe("SUBSCRIBED");
  });

  it("refuses consent times, profile ids, SUBSCRIBED and a bad List ID before sending", async () => {
    const { run, sent } = actionsSetup();
    const error = await refused(
      run("unsubscribe-profiles", {
        profiles: [
          { email: "a@example.com", consented_at: "2024-01-01T00:00:00Z" },
          {
            type: "profile",
            id: "01GDDKASAP8TKDDA2GRZDSVP4H",
            attributes: {
              email: "b@example.com",
              subscriptions: { email: { marketing: { consent: "SUBSCRIBED" } } },
            },
          },
          {
            type: "profile",
            attributes: { subscriptions: { sms: { marketing: { consent: "UNSUBSCRIBED" } } } },
          },
        ],
        listId: "bad id",
      }),
    );
    expect(error.message).toContain('Profiles: item 0: unknown member "consented_at"');
    expect(error.message).toContain('item 1: unknown member "id"');
    expect(error.message).toContain('item 1: subscriptions.email.marketing.consent must be "UNSUBSCRIBED"');
    expect(error.message).toContain("item 2: needs an email address or a phone number");
    expect(error.message).toContain("List ID: must not contain spaces");
    expect(sent).toHaveLength(0);
  });
});
