/**
 * The Prismatic component, run the way Prismatic runs it: through spectral's own testing harness
 * (`createHarness`, which applies the component's wrapping of `perform`, and `invoke`), against the emulator, with
 * both connection types; and its definition held against the specification.
 */
import { createConnection, createHarness, invoke } from "@prismatic-io/spectral/dist/testing.js";
import { describe, expect, it } from "vitest";
import { EVERYDAY_ACTION_KEYS, actions as registry } from "../../src/actions/index.js";
import { InputValidationError } from "../../src/core/errors.js";
import { camelKey, DEFAULT_SCOPES } from "../../src/platforms/common.js";
import {
  apiKeyConnection,
  type Component,
  createComponent,
  oauthConnection,
} from "../../src/platforms/prismatic.js";
import { parseSpec, specAvailable } from "../helpers/spec.js";
import {
  actionOf,
  CLIENT_ID,
  CLIENT_SECRET,
  failure,
  formOf,
  PLATFORM_KEY,
  platformEmulator,
  platformTour,
  prismaticValue,
  type TourState,
} from "./forms.js";

type ConvertedInput = { key: string; label: string; default?: unknown; type: string; collection?: string };
type ConvertedAction = {
  key: string;
  display: { label: string; description: string };
  inputs: ConvertedInput[];
};
type ConvertedConnection = {
  key: string;
  label: string;
  oauth2Type?: string;
  oauth2PkceMethod?: string;
  inputs: ConvertedInput[];
};

const actionsOf = (c: Component) => Object.values(c.actions ?? {}) as unknown as ConvertedAction[];
const connectionsOf = (c: Component) => (c.connections ?? []) as unknown as ConvertedConnection[];

describe("the Prismatic component: its definition", () => {
  const component = createComponent();

  it("has every action, each with a Connection input first and every one of our inputs", () => {
    const actions = actionsOf(component);
    expect(actions).toHaveLength(registry.length);
    for (const action of actions) {
      const ours = actionOf(action.display.label.toLowerCase().replace(/[^a-z0-9]+/g, "-"));
      expect(action.key).toBe(camelKey(ours.key));
      expect(action.inputs[0]).toMatchObject({ key: "connection", type: "connection", label: "Connection" });
      expect(action.inputs.slice(1).map((i) => i.label)).toEqual(
        Object.values(ours.inputs).map((d) => d.label),
      );
      expect(action.display.description).toBe(ours.description);
    }
  });

  it("maps our input types to spectral's: code for JSON, lists for key/value and fields, data for files", () => {
    const types = (key: string) =>
      Object.fromEntries(
        actionsOf(component)
          .find((a) => a.key === key)
          ?.inputs.map((i) => [i.key, `${i.type}${i.collection ? `/${i.collection}` : ""}`]) ?? [],
      );
    expect(types("rawRequest")).toMatchObject({
      excludeAuthorization: "boolean",
      url: "string",
      data: "code",
      header: "string/keyvaluelist",
      fileData: "string/keyvaluelist",
      maxRetryCount: "string",
    });
    expect(types("uploadImage")).toMatchObject({ fileData: "data" });
    expect(types("getProfile")).toMatchObject({ fields: "string/valuelist" });
    // A boolean that may stay empty ("leave it as it is") is a true/false choice: spectral would send false.
    expect(types("updateSegment")).toMatchObject({ isActive: "string", isStarred: "string" });
    expect(types("getSegment")).toMatchObject({ includeProfileCount: "boolean" });
  });

  it("has the API Key connection and the OAuth 2.0 connection (authorization code, PKCE S256, Klaviyo's URLs)", () => {
    const [key, oauth] = connectionsOf(component);
    expect(key).toMatchObject({ key: "apiKey", label: "API Key" });
    expect(key?.inputs).toEqual([
      expect.objectContaining({ key: "apiKey", label: "API Key", type: "password" }),
    ]);
    expect(oauth).toMatchObject({
      key: "oauth2",
      oauth2Type: "authorization_code",
      oauth2PkceMethod: "S256",
    });
    const byKey = Object.fromEntries((oauth?.inputs ?? []).map((i) => [i.key, i]));
    expect(byKey.authorizeUrl?.default).toBe("https://www.klaviyo.com/oauth/authorize");
    expect(byKey.tokenUrl?.default).toBe("https://a.klaviyo.com/oauth/token");
    expect(byKey.clientSecret?.type).toBe("password");
    expect(JSON.stringify(byKey.scopes)).toContain(DEFAULT_SCOPES);
  });

  describe.skipIf(!specAvailable())("against ../shared/spec/connector-spec.txt", () => {
    const spec = specAvailable() ? parseSpec() : { actions: [], connections: [] };

    it("every action of the specification, with every input's label and default exactly", () => {
      const actions = actionsOf(component);
      // The everyday actions stand beside the specification's (their labels are held apart by spec-labels.test.ts).
      const everyday = new Set(
        registry.filter((a) => EVERYDAY_ACTION_KEYS.includes(a.key)).map((a) => a.label),
      );
      const specified = actions.filter((a) => !everyday.has(a.display.label));
      expect(specified.map((a) => a.display.label).sort()).toEqual(spec.actions.map((a) => a.label).sort());
      for (const section of spec.actions) {
        const action = actions.find((a) => a.display.label === section.label);
        for (const want of section.inputs) {
          const got = action?.inputs.find((i) => i.label === want.label);
          expect(got, `${section.label} / ${want.label}`).toBeDefined();
          expect(String(got?.default ?? ""), `${section.label} / ${want.label}: default`).toBe(want.default);
        }
      }
    });

    it("both connections, with their inputs' labels and defaults", () => {
      const connections = connectionsOf(component);
      for (const section of spec.connections) {
        const connection = connections.find((c) => c.label === section.label);
        expect(connection, section.label).toBeDefined();
        for (const want of section.inputs) {
          const got = connection?.inputs.find((i) => i.label === want.label);
          expect(got, `${section.label} / ${want.label}`).toBeDefined();
          expect(String(got?.default ?? ""), `${section.label} / ${want.label}: default`).toBe(want.default);
        }
      }
    });
  });
});

/** Runs the whole tour through spectral's harness with one connection; returns the outputs by step. */
async function runTour(harnessConnection: (em: ReturnType<typeof platformEmulator>) => unknown) {
  const setup = platformEmulator();
  const harness = createHarness(createComponent({ client: setup.client }));
  const connection = harnessConnection(setup);
  const state: TourState = {};
  const ran: string[] = [];
  for (const step of platformTour("prismatic")) {
    const action = actionOf(step.action);
    const params = { connection, ...formOf(action, step.inputs(state), prismaticValue) };
    const result = (await harness.action(camelKey(step.action), params)) as { data: unknown };
    expect(result, step.action).toHaveProperty("data");
    step.keep?.(result.data, state);
    ran.push(step.action);
  }
  return { ran, state, setup };
}

describe("the Prismatic component: every action through spectral's harness, against the emulator", () => {
  it("with the API Key connection", async () => {
    const { ran, state, setup } = await runTour(() =>
      createConnection(apiKeyConnection, { apiKey: PLATFORM_KEY }),
    );
    expect(new Set(ran).size).toBe(registry.length);
    expect(new Set(setup.schemes)).toEqual(new Set(["Klaviyo-API-Key"]));
    expect(state.listId && state.profileId && state.imageId && state.campaignId).toBeTruthy();
    // What the tour made and deleted is gone; what it made and kept is there.
    expect(setup.emulator.state.lists.get(state.listId as string)).toBeUndefined();
    expect(setup.emulator.state.profiles.get(state.profileId as string)).toBeDefined();
  }, 30_000);

  it("with the OAuth 2.0 connection (the platform's access token, as Bearer)", async () => {
    let token = "";
    const { ran, setup } = await runTour((s) => {
      // The scopes of every action, and metrics:read for the raw request the tour sends to /api/metrics.
      const scopes = [...DEFAULT_SCOPES.split(" "), "metrics:read"];
      token = s.emulator.oauth.issueTokens(CLIENT_ID, scopes).access_token;
      return createConnection(
        oauthConnection,
        { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, scopes: DEFAULT_SCOPES },
        { access_token: token, refresh_token: "unused", expires_in: 3600, token_type: "Bearer" },
      );
    });
    expect(new Set(ran).size).toBe(registry.length);
    expect(setup.schemes.length).toBeGreaterThan(registry.length);
    expect(new Set(setup.schemes)).toEqual(new Set(["Bearer"]));
    expect(setup.emulator.requests.every((r) => r.status < 300)).toBe(true);
  }, 30_000);
});

describe("the Prismatic component: failures", () => {
  const setup = platformEmulator();
  const harness = createHarness(createComponent({ client: setup.client }));
  const keyConnection = createConnection(apiKeyConnection, { apiKey: PLATFORM_KEY });

  it("bad input: a labelled error before anything is sent", async () => {
    const before = setup.sent.length;
    const error = await failure(
      harness.action("createProfile", { connection: keyConnection, email: "not-an-email", properties: "{" }),
    );
    expect(error).toBeInstanceOf(InputValidationError);
    expect(error.message).toMatch(/Individual's email address: is not an email address/);
    expect(error.message).toMatch(/Properties/);
    expect(setup.sent.length).toBe(before);
  });

  it("a key that cannot be right, or an OAuth connection without a token: refused by label, never echoed", async () => {
    const badKey = "pk-wrong secret value";
    const error = await failure(
      harness.action("getAccount", {
        connection: createConnection(apiKeyConnection, { apiKey: badKey }),
        accountId: "XqT4Lm",
      }),
    );
    expect(error.message).toMatch(/API Key/);
    expect(error.message).not.toContain("wrong secret");
    const noToken = await failure(
      harness.action("listAccounts", {
        connection: createConnection(oauthConnection, { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }),
      }),
    );
    expect(noToken.message).toMatch(/Connection.*authorize the OAuth 2\.0 connection first/);
    expect(noToken.message).not.toContain(CLIENT_SECRET);
  });

  it("a key Klaviyo refuses: Klaviyo's 401, the key not in the message", async () => {
    const error = await failure(
      harness.action("listAccounts", {
        connection: createConnection(apiKeyConnection, { apiKey: "pk_not_a_known_key_0123456789" }),
      }),
    );
    expect(error.name).toBe("AuthenticationError");
    expect(error.message).not.toContain("pk_not_a_known_key_0123456789");
  });

  it("spectral's invoke (raw values, no defaults filled in) runs the same perform", async () => {
    const component = createComponent({ client: setup.client });
    const action = (component.actions as Record<string, unknown>).listLists;
    const { result } = await invoke(action as never, { connection: keyConnection, pageSize: "2" } as never);
    const data = (result as { data: { data: unknown[] } }).data;
    expect(Array.isArray(data.data)).toBe(true);
  });
});
