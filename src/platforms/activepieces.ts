/**
 * The connector as an Activepieces piece, built with Activepieces' own framework
 * (`@activepieces/pieces-framework`, an optional peer dependency: only this entry point loads it). Generated from
 * the same definitions as the library, the CLI and the Prismatic component: auth as a private API key or OAuth 2.0
 * (PKCE S256 on Klaviyo's URLs), and every action with the specification's labels and defaults, our descriptions,
 * and each input as the matching `Property` (an input taking a list's, segment's, campaign's … ID as a dynamic
 * dropdown of them). Each `run` validates its values by label (before anything is sent) and runs the action with
 * the auth the platform hands in. The polling triggers (New and Updated Profiles, New Event, Profile Added to
 * List …) come from `./activepieces-triggers.ts`, the webhook triggers (one per topic family: Email Engagement,
 * Consent Changes …) from `./activepieces-webhook-triggers.ts`.
 *
 *   import { klaviyo } from "klaviyo-connector/activepieces";
 */
import {
  type Action,
  createAction,
  createPiece,
  type InputPropertyMap,
  type Piece,
  PieceAuth,
  type PieceAuthProperty,
  Property,
} from "@activepieces/pieces-framework";
import { connections as ourConnections } from "../actions/connections.js";
import type { AnyAction } from "../actions/define.js";
import type { InputDefinition } from "../actions/inputs.js";
import {
  authOfValue,
  type DropdownOptions,
  pickerDropdown,
  pieceTriggers,
  type TriggerOptions,
} from "./activepieces-triggers.js";
import { type ActivepiecesWebhookOptions, pieceWebhookTriggers } from "./activepieces-webhook-triggers.js";
import {
  actionsOf,
  COMPONENT_DESCRIPTION,
  DEFAULT_SCOPES,
  KLAVIYO_AUTHORIZE_URL,
  KLAVIYO_TOKEN_URL,
  performFor,
  snakeKey,
} from "./common.js";
import { pickerForInput } from "./pickers.js";

export {
  type RefusedDelivery,
  SEEN_EVENTS_STORE_KEY,
  WEBHOOK_STORE_KEY,
  type WebhookTriggerOptions,
  webhookTriggerNameOf,
} from "./activepieces-webhook-triggers.js";
export type { DropdownOptions, TriggerOptions };

const [apiKeySpec, oauthSpec] = ourConnections;

/** Auth by private API key (`pk_…`): Activepieces hands it to a step as `{ type: "SECRET_TEXT", secret_text }`. */
export const apiKeyAuth = PieceAuth.SecretText({
  displayName: apiKeySpec.label,
  description: apiKeySpec.description,
  required: true,
});

/**
 * Auth by OAuth 2.0, authorization code with PKCE S256: Activepieces runs the authorization and the refreshes,
 * and hands each step the current `access_token`.
 */
export const oauthAuth = PieceAuth.OAuth2({
  displayName: oauthSpec.label,
  description: oauthSpec.description,
  required: true,
  authUrl: KLAVIYO_AUTHORIZE_URL,
  tokenUrl: KLAVIYO_TOKEN_URL,
  scope: DEFAULT_SCOPES.split(" "),
  pkce: true,
  pkceMethod: "S256",
});

/** Both auth kinds: the user picks one when connecting. */
export const klaviyoAuth: PieceAuthProperty[] = [apiKeyAuth, oauthAuth];

/** One of our inputs as an Activepieces property: label, our comments, the specification's default. */
export function activepiecesProperty(def: InputDefinition) {
  const base = { displayName: def.label, description: def.comments, required: def.required };
  const options = (def.options ?? []).map((o) => ({ label: o, value: o }));
  switch (def.type) {
    case "boolean":
      // A checkbox is never empty, but here empty means "leave it as it is" (Is Active, Image Hidden …): those
      // are a true/false choice that can be left empty.
      return def.default === undefined
        ? Property.StaticDropdown({
            ...base,
            options: { options: [true, false].map((b) => ({ label: `${b}`, value: b })) },
          })
        : Property.Checkbox({ ...base, defaultValue: def.default as boolean });
    case "number":
      return Property.Number({ ...base, defaultValue: def.default as number | undefined });
    case "json":
      return Property.Json({
        ...base,
        ...(def.default !== undefined ? { defaultValue: def.default as Record<string, unknown> } : {}),
      });
    case "key-value":
      return Property.Object({ ...base });
    case "fields":
      return options.length > 0
        ? Property.StaticMultiSelectDropdown({ ...base, options: { options } })
        : Property.Array({ ...base });
    case "enum":
      return Property.StaticDropdown({
        ...base,
        options: { options },
        ...(def.default !== undefined ? { defaultValue: def.default as string } : {}),
      });
    case "binary":
      return Property.File({ ...base });
    default:
      return Property.ShortText({
        ...base,
        ...(def.default !== undefined ? { defaultValue: String(def.default) } : {}),
      });
  }
}

/** Bytes as base64 text: a step's output must be JSON (a raw request's binary answer, for one). */
function jsonSafe(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = jsonSafe(v);
      if (out[k] !== v) changed = true;
    }
    return changed ? out : value;
  }
  return value;
}

/**
 * An input taking the ID of something a picker offers (List ID, Campaign ID …), as a dynamic dropdown of them;
 * the value stays the ID, validated as any other by our `validateInputs`.
 */
function pickerProperty(def: InputDefinition, options: PieceOptions) {
  const picker = def.type === "text" ? pickerForInput(def.key) : undefined;
  if (!picker) return undefined;
  return pickerDropdown(
    picker,
    klaviyoAuth,
    { displayName: def.label, description: def.comments, required: def.required },
    options,
  );
}

function pieceAction(action: AnyAction, options: PieceOptions): Action {
  const props: InputPropertyMap = {};
  for (const def of Object.values(action.inputs))
    props[def.key] = pickerProperty(def, options) ?? activepiecesProperty(def);
  return createAction({
    name: snakeKey(action.key),
    displayName: action.label,
    description: action.description,
    auth: klaviyoAuth,
    props,
    async run(context) {
      const values = context.propsValue as Record<string, unknown>;
      return jsonSafe(await performFor(action, values, authOfValue(context.auth), options));
    },
  }) as unknown as Action;
}

export interface PieceOptions extends ActivepiecesWebhookOptions {
  /** The piece's logo; default Activepieces' Klaviyo logo. */
  logoUrl?: string;
  authors?: string[];
}

/** Builds the piece from the connector's definitions (or `options.actions`). */
export function createKlaviyoPiece(options: PieceOptions = {}): Piece<PieceAuthProperty[]> {
  return createPiece({
    displayName: "Klaviyo",
    description: COMPONENT_DESCRIPTION,
    auth: klaviyoAuth,
    logoUrl: options.logoUrl ?? "https://cdn.activepieces.com/pieces/klaviyo.png",
    authors: options.authors ?? ["klaviyo-connector"],
    actions: actionsOf(options).map((a) => pieceAction(a, options)),
    triggers: [...pieceTriggers(klaviyoAuth, options), ...pieceWebhookTriggers(klaviyoAuth, options)],
  });
}

/** Every action, both auth kinds, on Klaviyo's API. */
export const klaviyo: Piece<PieceAuthProperty[]> = createKlaviyoPiece();
export default klaviyo;
