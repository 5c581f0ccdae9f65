/**
 * The Activepieces piece, run as the Activepieces engine runs an action: its `run` with a context whose
 * `propsValue` holds the values as the engine delivers them (typed, defaults filled in from the props) and whose
 * `auth` is the connection's value (`{ type: "SECRET_TEXT", secret_text }` or an OAuth2 value with
 * `access_token`), against the emulator. The framework has no harness beyond `createMockActionContext`.
 */
import type { Action, Piece } from "@activepieces/pieces-framework";
import { describe, expect, it } from "vitest";
import { EVERYDAY_ACTION_KEYS, actions as registry } from "../../src/actions/index.js";
import { InputValidationError } from "../../src/core/errors.js";
import { createKlaviyoPiece, klaviyo } from "../../src/platforms/activepieces.js";
import { DEFAULT_SCOPES, snakeKey } from "../../src/platforms/common.js";
import { parseSpec, specAvailable } from "../helpers/spec.js";
import {
  actionOf,
  activepiecesValue,
  CLIENT_ID,
  failure,
  formOf,
  PLATFORM_KEY,
  platformEmulator,
  platformTour,
  runPieceAction,
  type TourState,
} from "./forms.js";

type Prop = { displayName: string; defaultValue?: unknown; required: boolean; type: string };

function actionsOf(piece: Piece<never> | typeof klaviyo): Action[] {
  return Object.values(piece.actions()) as Action[];
}

const secretText = (key: string) => ({ type: "SECRET_TEXT", secret_text: key });
const oauthValue = (token: string) => ({
  type: "OAUTH2",
  access_token: token,
  refresh_token: "unused",
  token_type: "Bearer",
  expires_in: 3600,
  claimed_at: Math.floor(Date.now() / 1000),
  client_id: CLIENT_ID,
  scope: DEFAULT_SCOPES,
  token_url: "https://a.klaviyo.com/oauth/token",
  data: {},
});

describe("the Activepieces piece: its definition", () => {
  it("has every action, each with every one of our inputs as a property, and both auth kinds", () => {
    const actions = actionsOf(klaviyo);
    expect(actions).toHaveLength(registry.length);
    for (const action of actions) {
      const ours = actionOf(action.name.replace(/_/g, "-"));
      expect(action.name).toBe(snakeKey(ours.key));
      expect(action.displayName).toBe(ours.label);
      expect(Object.keys(action.props)).toEqual(Object.values(ours.inputs).map((d) => d.key));
    }
    const metadata = klaviyo.metadata() as unknown as { auth: Array<Record<string, unknown>> };
    expect(metadata.auth.map((a) => a.type)).toEqual(["SECRET_TEXT", "OAUTH2"]);
    expect(metadata.auth[1]).toMatchObject({
      authUrl: "https://www.klaviyo.com/oauth/authorize",
      tokenUrl: "https://a.klaviyo.com/oauth/token",
      pkce: true,
      pkceMethod: "S256",
    });
  });

  it("maps our input types to the framework's properties", () => {
    const types = (name: string) =>
      Object.fromEntries(
        Object.entries(klaviyo.getAction(name)?.props as Record<string, Prop>).map(([k, p]) => [k, p.type]),
      );
    expect(types("raw_request")).toMatchObject({
      excludeAuthorization: "CHECKBOX",
      url: "SHORT_TEXT",
      method: "STATIC_DROPDOWN",
      data: "JSON",
      header: "OBJECT",
      maxRetryCount: "NUMBER",
    });
    expect(types("upload_image")).toMatchObject({ fileData: "FILE" });
    expect(types("get_profile")).toMatchObject({ fields: "STATIC_MULTI_SELECT_DROPDOWN" });
    // A boolean that may stay empty ("leave it as it is") is a true/false choice, not a checkbox.
    expect(types("update_segment")).toMatchObject({
      isActive: "STATIC_DROPDOWN",
      isStarred: "STATIC_DROPDOWN",
    });
    expect(types("get_segment")).toMatchObject({ includeProfileCount: "CHECKBOX" });
  });

  describe.skipIf(!specAvailable())("against ../shared/spec/connector-spec.txt", () => {
    it("every action of the specification, with every input's label and default exactly", () => {
      const spec = parseSpec();
      const actions = actionsOf(klaviyo);
      // The everyday actions stand beside the specification's (their labels are held apart by spec-labels.test.ts).
      const everyday = new Set(
        registry.filter((a) => EVERYDAY_ACTION_KEYS.includes(a.key)).map((a) => a.label),
      );
      const specified = actions.filter((a) => !everyday.has(a.displayName));
      expect(specified.map((a) => a.displayName).sort()).toEqual(spec.actions.map((a) => a.label).sort());
      for (const section of spec.actions) {
        const props = Object.values(
          actions.find((a) => a.displayName === section.label)?.props as Record<string, Prop>,
        );
        for (const want of section.inputs) {
          const got = props.find((p) => p.displayName === want.label);
          expect(got, `${section.label} / ${want.label}`).toBeDefined();
          expect(String(got?.defaultValue ?? ""), `${section.label} / ${want.label}: default`).toBe(
            want.default,
          );
        }
      }
    });
  });
});

async function runTour(auth: (setup: ReturnType<typeof platformEmulator>) => unknown) {
  const setup = platformEmulator();
  const piece = createKlaviyoPiece({ client: setup.client });
  const value = auth(setup);
  const state: TourState = {};
  const ran: string[] = [];
  for (const step of platformTour("activepieces")) {
    const action = actionOf(step.action);
    const output = await runPieceAction(
      piece,
      snakeKey(step.action),
      value,
      formOf(action, step.inputs(state), activepiecesValue),
    );
    // A step's output is stored as JSON by the engine: it must survive the round trip.
    expect(JSON.parse(JSON.stringify(output ?? null)), step.action).toEqual(output ?? null);
    step.keep?.(output, state);
    ran.push(step.action);
  }
  return { ran, state, setup };
}

describe("the Activepieces piece: every action, run as the engine runs it, against the emulator", () => {
  it("with the API key auth", async () => {
    const { ran, state, setup } = await runTour(() => secretText(PLATFORM_KEY));
    expect(new Set(ran).size).toBe(registry.length);
    expect(new Set(setup.schemes)).toEqual(new Set(["Klaviyo-API-Key"]));
    expect(setup.emulator.state.lists.get(state.listId as string)).toBeUndefined();
    expect(setup.emulator.state.profiles.get(state.profileId as string)).toBeDefined();
  }, 30_000);

  it("with the OAuth2 auth (the platform's access token, as Bearer)", async () => {
    const { ran, setup } = await runTour((s) =>
      oauthValue(
        s.emulator.oauth.issueTokens(CLIENT_ID, [...DEFAULT_SCOPES.split(" "), "metrics:read"]).access_token,
      ),
    );
    expect(new Set(ran).size).toBe(registry.length);
    expect(new Set(setup.schemes)).toEqual(new Set(["Bearer"]));
  }, 30_000);
});

describe("the Activepieces piece: failures", () => {
  const setup = platformEmulator();
  const piece = createKlaviyoPiece({ client: setup.client });

  it("bad input: a labelled error before anything is sent", async () => {
    const before = setup.sent.length;
    const error = await failure(
      runPieceAction(piece, "create_event", secretText(PLATFORM_KEY), {
        name: "Viewed",
        profile: { email: "a@example.com" },
        valueCurrency: "dollars",
      }),
    );
    expect(error).toBeInstanceOf(InputValidationError);
    expect(error.message).toMatch(/Event Value Currency: must be an ISO 4217 currency code/);
    expect(setup.sent.length).toBe(before);
  });

  it("a malformed key, or an OAuth value without a token: refused by label, never echoed", async () => {
    const error = await failure(runPieceAction(piece, "list_accounts", secretText("pk_has a space"), {}));
    expect(error.message).toMatch(/API Key: contains whitespace/);
    expect(error.message).not.toContain("has a space");
    const noToken = await failure(runPieceAction(piece, "list_accounts", { type: "OAUTH2" }, {}));
    expect(noToken.message).toMatch(/OAuth 2\.0: is missing/);
  });

  it("a raw request's binary answer comes back as base64 text (step outputs are JSON)", async () => {
    const output = (await runPieceAction(piece, "raw_request", secretText(PLATFORM_KEY), {
      url: "/api/accounts",
      method: "GET",
      responseType: "binary",
    })) as { status: number; data: unknown };
    expect(output.status).toBe(200);
    expect(typeof output.data).toBe("string");
    const decoded = JSON.parse(Buffer.from(output.data as string, "base64").toString("utf8"));
    expect(decoded.data[0].type).toBe("account");
  });
});
