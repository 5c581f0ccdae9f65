import { getOperation } from "../klaviyo/operations.js";
import { actions } from "./index.js";
import { input } from "./inputs.js";

/**
 * The smallest set of OAuth scopes that covers every action: the union of the scopes of the operations they call
 * (their own and `alsoCalls`), as Klaviyo's OpenAPI document lists them.
 */
export const DEFAULT_SCOPES = [
  ...new Set(
    actions.flatMap((action) =>
      [...(action.operation ? [action.operation] : []), ...(action.alsoCalls ?? [])].flatMap(
        (id) => getOperation(id).scopes,
      ),
    ),
  ),
]
  .sort()
  .join(" ");

/** The connection types of the specification, with their inputs, for the manifest and for platforms. */
export const connections = [
  {
    key: "api-key",
    label: "API Key",
    description:
      "Connect with a Klaviyo private API key (starts with pk_). Create one in Klaviyo under Settings → API Keys → Create Private API Key, with the scopes your actions need; requests send it as Authorization: Klaviyo-API-Key.",
    inputs: [
      input.text({
        key: "apiKey",
        label: "API Key",
        comments:
          "Your Klaviyo private API key: pk_ followed by a long alphanumeric string. It is checked before any request (empty, whitespace, or a public key are refused) and never printed.",
        required: true,
      }),
    ],
  },
  {
    key: "oauth2",
    label: "OAuth 2.0",
    description:
      "Connect through a Klaviyo OAuth app (authorization code with PKCE S256). Create the app on Klaviyo's Manage apps page, copy its Client ID and Client secret here, and register the redirect URL your integration uses.",
    inputs: [
      input.text({
        key: "scopes",
        label: "Scopes",
        comments: `Space-separated OAuth scopes to request. Leave empty for the smallest set that covers every action: ${DEFAULT_SCOPES}.`,
      }),
      input.text({
        key: "clientId",
        label: "Client ID",
        comments: "The Client ID of your Klaviyo OAuth app.",
        required: true,
      }),
      input.text({
        key: "clientSecret",
        label: "Client secret",
        comments: "The Client secret of your Klaviyo OAuth app; kept secret, never printed.",
        required: true,
      }),
    ],
  },
] as const;
