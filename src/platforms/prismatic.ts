/**
 * The connector as a Prismatic custom component, built with Prismatic's own framework
 * (`@prismatic-io/spectral`, an optional peer dependency: only this entry point loads it). Generated from the
 * same definitions as the library and the CLI: both connections (API Key; OAuth 2.0 as an authorization-code
 * connection with PKCE S256 on Klaviyo's URLs) and every action, with the specification's labels and defaults,
 * our comments, and each input mapped to spectral's types. Each `perform` validates its inputs by label (before
 * anything is sent) and runs the action on the connection the platform hands in. Beside them, the polling
 * triggers and the data sources (`./prismatic-triggers.ts`), each input taking an ID offered by its data source,
 * and the webhook triggers, one per topic family, with their topic data sources (`./prismatic-webhook-triggers.ts`).
 *
 *   import { component } from "klaviyo-connector/prismatic";   // export default component;
 */

import type {
  ActionPerformReturn,
  Connection,
  ConnectionDefinition,
  InputFieldDefinition,
} from "@prismatic-io/spectral";
import spectral from "@prismatic-io/spectral";
import { connections as ourConnections } from "../actions/connections.js";
import type { AnyAction } from "../actions/define.js";
import type { InputDefinition } from "../actions/inputs.js";
import { KlaviyoClient } from "../core/client.js";
import {
  type AdapterOptions,
  actionsOf,
  authOf,
  COMPONENT_DESCRIPTION,
  camelKey,
  DEFAULT_SCOPES,
  defaultText,
  KLAVIYO_AUTHORIZE_URL,
  KLAVIYO_TOKEN_URL,
  performFor,
} from "./common.js";
import { pickerForInput } from "./pickers.js";
import {
  type ClientForConnection,
  connectionInput,
  dataSourceKeyOf,
  type PrismaticDataSourceOptions,
  type PrismaticTriggerOptions,
  prismaticDataSources,
  prismaticTriggers,
} from "./prismatic-triggers.js";
import {
  type PrismaticWebhookTriggerOptions,
  prismaticWebhookDataSources,
  prismaticWebhookTriggers,
} from "./prismatic-webhook-triggers.js";

export {
  dataSourceKeyOf,
  type PrismaticDataSourceOptions,
  type PrismaticTriggerOptions,
  triggerKeyOf,
} from "./prismatic-triggers.js";
export {
  EVENTS_BRANCH,
  type PrismaticWebhookTriggerOptions,
  REFUSED_BRANCH,
  topicDataSourceKeyOf,
  webhookStateKey,
  webhookTriggerKeyOf,
} from "./prismatic-webhook-triggers.js";

// spectral is CommonJS: its default export is the module, and some members are not named exports under ESM.
const { component: defineComponent, action: defineAction, input, connection, oauth2Connection } = spectral;
const { OAuth2Type, OAuth2PkceMethod } = spectral;

/** A component as spectral builds it: what Prismatic imports, and what spectral's test harness runs. */
export type Component = ReturnType<typeof spectral.component>;

export const API_KEY_CONNECTION_KEY = "apiKey";
export const OAUTH2_CONNECTION_KEY = "oauth2";

const [apiKeySpec, oauthSpec] = ourConnections;
const inputOf = (defs: readonly InputDefinition[], key: string): InputDefinition => {
  const found = defs.find((d) => d.key === key);
  if (!found) throw new Error(`internal: connection input ${key} is not defined`);
  return found;
};

/** The API Key connection: the private key (`pk_…`), a password field. */
export const apiKeyConnection: ConnectionDefinition = connection({
  key: API_KEY_CONNECTION_KEY,
  display: { label: apiKeySpec.label, description: apiKeySpec.description },
  inputs: {
    apiKey: {
      label: inputOf(apiKeySpec.inputs, "apiKey").label,
      comments: inputOf(apiKeySpec.inputs, "apiKey").comments,
      type: "password",
      required: true,
    },
  },
});

/**
 * The OAuth 2.0 connection: authorization code with PKCE S256 on Klaviyo's authorize and token URLs (shown
 * read-only). Prismatic runs the authorization and the refreshes, and hands each step the current access token.
 * Scopes default to empty, as the specification says; the example and the comments give the set that covers
 * every action, to paste in.
 */
export const oauthConnection: ConnectionDefinition = oauth2Connection({
  key: OAUTH2_CONNECTION_KEY,
  display: { label: oauthSpec.label, description: oauthSpec.description },
  oauth2Type: OAuth2Type.AuthorizationCode,
  oauth2PkceMethod: OAuth2PkceMethod.S256,
  inputs: {
    authorizeUrl: {
      label: "Authorize URL",
      comments: "Klaviyo's OAuth 2.0 authorization URL.",
      type: "string",
      required: true,
      shown: false,
      default: KLAVIYO_AUTHORIZE_URL,
    },
    tokenUrl: {
      label: "Token URL",
      comments: "Klaviyo's OAuth 2.0 token URL, for the code exchange and the refreshes.",
      type: "string",
      required: true,
      shown: false,
      default: KLAVIYO_TOKEN_URL,
    },
    scopes: {
      label: inputOf(oauthSpec.inputs, "scopes").label,
      comments: `Space-separated OAuth scopes to request. Klaviyo needs at least one; this set covers every action: ${DEFAULT_SCOPES}.`,
      type: "string",
      required: false,
      default: "",
      example: DEFAULT_SCOPES,
    },
    clientId: {
      label: inputOf(oauthSpec.inputs, "clientId").label,
      comments: inputOf(oauthSpec.inputs, "clientId").comments,
      type: "string",
      required: true,
    },
    clientSecret: {
      label: inputOf(oauthSpec.inputs, "clientSecret").label,
      comments: inputOf(oauthSpec.inputs, "clientSecret").comments,
      type: "password",
      required: true,
    },
  },
});

/** One of our inputs as a spectral input: its label, our comments, the specification's default as text. */
export function prismaticInput(def: InputDefinition): InputFieldDefinition {
  const base = {
    label: def.label,
    comments: def.comments,
    required: def.required,
    ...(def.example !== undefined ? { example: def.example } : {}),
  };
  const fallback = defaultText(def);
  const withDefault = fallback === undefined ? {} : { default: fallback };
  const choices = (def.options ?? []).map((o) => ({ label: o, value: o }));
  switch (def.type) {
    case "boolean":
      // Prismatic gives a boolean input without a default the value false, but here empty means "leave it as it
      // is" (Is Active, Image Hidden …): those are a true/false choice that can be left empty.
      return fallback === undefined
        ? input({
            ...base,
            type: "string",
            model: [true, false].map((b) => ({ label: `${b}`, value: `${b}` })),
          })
        : input({ ...base, ...withDefault, type: "boolean" });
    case "json":
      return input({ ...base, ...withDefault, type: "code", language: "json" });
    case "key-value":
      return input({ ...base, type: "string", collection: "keyvaluelist" });
    case "fields":
      return input({
        ...base,
        type: "string",
        collection: "valuelist",
        ...(choices.length > 0 ? { model: choices } : {}),
      });
    case "enum":
      return input({ ...base, ...withDefault, type: "string", model: choices });
    case "binary":
      return input({ ...base, type: "data" });
    default:
      return input({ ...base, ...withDefault, type: "string" });
  }
}

/** The connection a step was handed, as our auth strategy (an access token for OAuth, else the API key). */
function authOfConnection(value: Connection | undefined) {
  if (value?.key === OAUTH2_CONNECTION_KEY || value?.token !== undefined)
    return authOf({ accessToken: value?.token?.access_token }, "Connection");
  return authOf({ apiKey: value?.fields?.apiKey }, apiKeySpec.inputs[0].label);
}

function prismaticAction(action: AnyAction, options: AdapterOptions) {
  const inputs: Record<string, InputFieldDefinition> = {
    connection: connectionInput(),
  };
  for (const def of Object.values(action.inputs)) {
    // An input taking an ID (List ID, Campaign ID, …) is offered the IDs of the account by its data source.
    const picker = pickerForInput(def.key);
    inputs[def.key] = picker
      ? ({ ...prismaticInput(def), dataSource: dataSourceKeyOf(picker) } as InputFieldDefinition)
      : prismaticInput(def);
  }
  return defineAction({
    display: { label: action.label, description: action.description },
    inputs,
    perform: async (_context, params): Promise<ActionPerformReturn<false, unknown>> => {
      const { connection: given, ...values } = params as Record<string, unknown> & {
        connection?: Connection;
      };
      // Our errors never carry the connection's secrets (test/security), so they can go to the platform's log.
      return { data: await performFor(action, values, authOfConnection(given), options) };
    },
  });
}

export interface ComponentOptions extends AdapterOptions {
  /** The component's key on Prismatic; default `klaviyo-connector`. */
  key?: string;
  /** The component's icon, a PNG path relative to the built component (Prismatic requires one to publish). */
  iconPath?: string;
  /** Publish as a public component (needs documentation URL and category on Prismatic); default false. */
  public?: boolean;
  /** How the polling triggers poll (tests: a clock shared with the emulator, no horizon). */
  triggers?: PrismaticTriggerOptions;
  /** How many options a data source offers at most. */
  dataSources?: PrismaticDataSourceOptions;
  /** How the webhook triggers batch their events. */
  webhookTriggers?: PrismaticWebhookTriggerOptions;
}

/**
 * Builds the component from the connector's definitions (or `options.actions`), its polling and webhook triggers
 * and data sources.
 */
export function createComponent(options: ComponentOptions = {}): Component {
  const actions: Record<string, ReturnType<typeof prismaticAction>> = {};
  for (const action of actionsOf(options)) actions[camelKey(action.key)] = prismaticAction(action, options);
  const clientFor: ClientForConnection = (given) =>
    new KlaviyoClient({ ...options.client, auth: authOfConnection(given) });
  return defineComponent({
    key: options.key ?? "klaviyo-connector",
    public: options.public ?? false,
    display: {
      label: "Klaviyo",
      description: COMPONENT_DESCRIPTION,
      iconPath: options.iconPath ?? "icon.png",
    },
    actions,
    triggers: {
      ...prismaticTriggers(clientFor, options.triggers),
      ...prismaticWebhookTriggers(clientFor, options.webhookTriggers),
    },
    dataSources: {
      ...prismaticDataSources(clientFor, options.dataSources),
      ...prismaticWebhookDataSources(clientFor),
    },
    connections: [apiKeyConnection, oauthConnection],
  });
}

/** Every action, trigger and data source, and both connections, on Klaviyo's API. */
export const component: Component = createComponent();
export default component;
