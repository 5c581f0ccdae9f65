/**
 * Klaviyo's official Node SDK (`klaviyo-api`, a client no one here wrote) pointed at the emulator on a real port:
 * the create / get / list / update / delete round trip of every resource the connector's actions touch. If the
 * emulator answers something Klaviyo's own client cannot read, this fails.
 */
import { createReadStream, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AccountsApi,
  ApiKeySession,
  CampaignsApi,
  EventsApi,
  ImagesApi,
  ListsApi,
  MetricsApi,
  ProfilesApi,
  SegmentsApi,
  TemplatesApi,
} from "klaviyo-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";

const KEY = "pk_official_sdk_test_key_0123456789ab";
let running: RunningEmulator;
let session: ApiKeySession;

/** Each SDK API object, pointed at the emulator. */
function api<T extends { basePath: string }>(Api: new (s: ApiKeySession) => T): T {
  const client = new Api(session);
  client.basePath = running.url;
  return client;
}

// The SDK's request types are its model classes; plain objects of the same shape are what it serialises.
// biome-ignore lint/suspicious/noExplicitAny: the SDK's generated model types, not ours
type Any = any;

beforeAll(async () => {
  running = await startEmulator({ apiKeys: [{ key: KEY }], rateLimits: "off" });
  session = new ApiKeySession(KEY);
});
afterAll(async () => {
  await running.close();
});

/** 1x1 transparent PNG. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);

describe("Klaviyo's official Node SDK against the emulator", () => {
  it("accounts: list and get", async () => {
    const accounts = api(AccountsApi);
    const list = await accounts.getAccounts();
    const id = list.body.data[0]?.id ?? "";
    expect(id).toBe(running.emulator.account.id);
    const one = await accounts.getAccount(id, { fieldsAccount: ["timezone"] });
    expect(one.body.data.attributes.timezone).toBe("US/Eastern");
  });

  it("profiles: create, get, list with a filter, update; a duplicate is a 409", async () => {
    const profiles = api(ProfilesApi);
    const created = await profiles.createProfile({
      data: {
        type: "profile",
        attributes: { email: "ada@example.com", firstName: "Ada", phoneNumber: "+15005550006" },
      },
    } as Any);
    expect(created.response.status).toBe(201);
    const id = created.body.data.id ?? "";
    expect((await profiles.getProfile(id)).body.data.attributes.firstName).toBe("Ada");
    const found = await profiles.getProfiles({ filter: "equals(email,'ada@example.com')" });
    expect(found.body.data.map((p) => p.id)).toEqual([id]);
    const updated = await profiles.updateProfile(id, {
      data: { type: "profile", id, attributes: { lastName: "Lovelace", firstName: null } },
    } as Any);
    expect(updated.body.data.attributes.lastName).toBe("Lovelace");
    expect(updated.body.data.attributes.firstName ?? null).toBeNull();
    const duplicate = await profiles
      .createProfile({ data: { type: "profile", attributes: { email: "ada@example.com" } } } as Any)
      .catch(
        (e: {
          response?: { status: number; data: { errors: Array<{ meta: { duplicate_profile_id: string } }> } };
        }) => e,
      );
    expect((duplicate as Any).response?.status).toBe(409);
    expect((duplicate as Any).response?.data.errors[0].meta.duplicate_profile_id).toBe(id);
  });

  it("lists: create, add a profile, read members, update, delete; subscribe puts profiles in a list", async () => {
    const lists = api(ListsApi);
    const profiles = api(ProfilesApi);
    const created = await lists.createList({
      data: { type: "list", attributes: { name: "Newsletter" } },
    } as Any);
    const listId = created.body.data.id ?? "";
    const profile = await profiles.createProfile({
      data: { type: "profile", attributes: { email: "grace@example.com" } },
    } as Any);
    await lists.addProfilesToList(listId, { data: [{ type: "profile", id: profile.body.data.id }] } as Any);
    const members = await lists.getProfilesForList(listId);
    expect(members.body.data.map((p) => p.attributes.email)).toEqual(["grace@example.com"]);
    const counted = await lists.getList(listId, { additionalFieldsList: ["profile_count"] });
    expect(counted.body.data.attributes.profileCount).toBe(1);
    await profiles.bulkSubscribeProfiles({
      data: {
        type: "profile-subscription-bulk-create-job",
        attributes: {
          profiles: {
            data: [
              {
                type: "profile",
                attributes: {
                  email: "alan@example.com",
                  subscriptions: { email: { marketing: { consent: "SUBSCRIBED" } } },
                },
              },
            ],
          },
        },
        relationships: { list: { data: { type: "list", id: listId } } },
      },
    } as Any);
    const after = await lists.getProfilesForList(listId);
    expect(after.body.data.map((p) => p.attributes.email).sort()).toEqual([
      "alan@example.com",
      "grace@example.com",
    ]);
    const renamed = await lists.updateList(listId, {
      data: { type: "list", id: listId, attributes: { name: "Weekly" } },
    } as Any);
    expect(renamed.body.data.attributes.name).toBe("Weekly");
    expect((await lists.getLists()).body.data.map((l) => l.id)).toContain(listId);
    await lists.deleteList(listId);
    const gone = await lists.getList(listId).catch((e: Any) => e);
    expect(gone.response?.status).toBe(404);
  });

  it("events and metrics: create one, bulk create more, read them back with their metric", async () => {
    const events = api(EventsApi);
    const metrics = api(MetricsApi);
    await events.createEvent({
      data: {
        type: "event",
        attributes: {
          properties: { sku: "A-1" },
          metric: { data: { type: "metric", attributes: { name: "Viewed Product" } } },
          profile: { data: { type: "profile", attributes: { email: "viewer@example.com" } } },
          value: 9.5,
          uniqueId: "evt-1",
        },
      },
    } as Any);
    await events.bulkCreateEvents({
      data: {
        type: "event-bulk-create-job",
        attributes: {
          eventsBulkCreate: {
            data: [
              {
                type: "event-bulk-create",
                attributes: {
                  profile: { data: { type: "profile", attributes: { email: "viewer@example.com" } } },
                  events: {
                    data: [
                      {
                        type: "event",
                        attributes: {
                          properties: { sku: "B-2" },
                          metric: { data: { type: "metric", attributes: { name: "Viewed Product" } } },
                          uniqueId: "evt-2",
                        },
                      },
                    ],
                  },
                },
              },
            ],
          },
        },
      },
    } as Any);
    const metricList = await metrics.getMetrics();
    const viewed = metricList.body.data.find((m) => m.attributes.name === "Viewed Product");
    expect(viewed).toBeDefined();
    const list = await events.getEvents({ filter: `equals(metric_id,'${viewed?.id}')`, include: ["metric"] });
    expect(
      list.body.data.map((e) => (e.attributes.eventProperties as { sku?: string } | undefined)?.sku).sort(),
    ).toEqual(["A-1", "B-2"]);
    const one = await events.getEvent(list.body.data[0]?.id ?? "");
    expect(one.body.data.relationships?.metric?.data?.id).toBe(viewed?.id);
  });

  it("segments: create, get, list, update, delete", async () => {
    const segments = api(SegmentsApi);
    const created = await segments.createSegment({
      data: {
        type: "segment",
        attributes: {
          name: "Gmail users",
          definition: {
            conditionGroups: [
              {
                conditions: [
                  {
                    type: "profile-property",
                    property: "email",
                    filter: { type: "string", operator: "ends-with", value: "@gmail.com" },
                  },
                ],
              },
            ],
          },
        },
      },
    } as Any);
    const id = created.body.data.id ?? "";
    expect((await segments.getSegment(id)).body.data.attributes.name).toBe("Gmail users");
    const starred = await segments.updateSegment(id, {
      data: { type: "segment", id, attributes: { isStarred: true } },
    } as Any);
    expect(starred.body.data.attributes.isStarred).toBe(true);
    expect((await segments.getSegments()).body.data.map((s) => s.id)).toContain(id);
    await segments.deleteSegment(id);
    expect(((await segments.getSegment(id).catch((e: Any) => e)) as Any).response?.status).toBe(404);
  });

  it("campaigns: create with a message, get, list by channel, update, delete", async () => {
    const lists = api(ListsApi);
    const campaigns = api(CampaignsApi);
    const audience = await lists.createList({
      data: { type: "list", attributes: { name: "Audience" } },
    } as Any);
    const created = await campaigns.createCampaign({
      data: {
        type: "campaign",
        attributes: {
          name: "Spring Sale",
          audiences: { included: [audience.body.data.id] },
          campaignMessages: {
            data: [
              {
                type: "campaign-message",
                attributes: {
                  definition: {
                    channel: "email",
                    label: "Spring Sale email",
                    content: { subject: "Spring is here", fromEmail: "shop@example.com", fromLabel: "Shop" },
                  },
                },
              },
            ],
          },
        },
      },
    } as Any);
    const id = created.body.data.id ?? "";
    expect((await campaigns.getCampaign(id)).body.data.attributes.name).toBe("Spring Sale");
    const emailOnes = await campaigns.getCampaigns("equals(messages.channel,'email')");
    expect(emailOnes.body.data.map((c) => c.id)).toContain(id);
    const smsOnes = await campaigns.getCampaigns("equals(messages.channel,'sms')");
    expect(smsOnes.body.data.map((c) => c.id)).not.toContain(id);
    const renamed = await campaigns.updateCampaign(id, {
      data: { type: "campaign", id, attributes: { name: "Summer Sale" } },
    } as Any);
    expect(renamed.body.data.attributes.name).toBe("Summer Sale");
    await campaigns.deleteCampaign(id);
    expect(((await campaigns.getCampaign(id).catch((e: Any) => e)) as Any).response?.status).toBe(404);
  });

  it("templates: create, get, list, update, delete", async () => {
    const templates = api(TemplatesApi);
    const created = await templates.createTemplate({
      data: {
        type: "template",
        attributes: { name: "Welcome", editorType: "CODE", html: "<html><body>Hi</body></html>" },
      },
    } as Any);
    const id = created.body.data.id ?? "";
    expect((await templates.getTemplate(id)).body.data.attributes.html).toContain("Hi");
    const updated = await templates.updateTemplate(id, {
      data: { type: "template", id, attributes: { name: "Welcome v2" } },
    } as Any);
    expect(updated.body.data.attributes.name).toBe("Welcome v2");
    expect((await templates.getTemplates()).body.data.map((t) => t.id)).toContain(id);
    await templates.deleteTemplate(id);
    expect(((await templates.getTemplate(id).catch((e: Any) => e)) as Any).response?.status).toBe(404);
  });

  it("images: upload from a data URI and from a file (multipart), get, list, update", async () => {
    const images = api(ImagesApi);
    const fromUri = await images.uploadImageFromUrl({
      data: {
        type: "image",
        attributes: { importFromUrl: `data:image/png;base64,${PNG.toString("base64")}`, name: "dot" },
      },
    } as Any);
    expect(fromUri.body.data.attributes.format).toBe("png");
    // As Klaviyo's README does it: a read stream, so the multipart part carries a file name. (A bare Buffer
    // goes out as a part without one, which Django-based servers, Klaviyo's and the emulator, read as text.)
    const path = join(mkdtempSync(join(tmpdir(), "sdk-image-")), "dot.png");
    writeFileSync(path, PNG);
    const fromFile = await images.uploadImageFromFile(createReadStream(path) as Any, "dot-file", false);
    expect(fromFile.response.status).toBe(201);
    expect(fromFile.body.data.attributes.size).toBe(PNG.length);
    const id = fromFile.body.data.id ?? "";
    expect((await images.getImage(id)).body.data.attributes.name).toBe("dot-file");
    const hidden = await images.updateImage(id, {
      data: { type: "image", id, attributes: { hidden: true } },
    } as Any);
    expect(hidden.body.data.attributes.hidden).toBe(true);
    expect((await images.getImages()).body.data.map((i) => i.id)).toEqual(
      expect.arrayContaining([id, fromUri.body.data.id]),
    );
  });
});
