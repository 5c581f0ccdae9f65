import { input } from "./inputs.js";

/** The minimal OAuth scopes that cover every action of the connector (reference §6.2). */
export const DEFAULT_SCOPES =
  "accounts:read campaigns:read campaigns:write events:read events:write images:read images:write lists:read lists:write profiles:read profiles:write segments:read segments:write subscriptions:write templates:read templates:write";

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
