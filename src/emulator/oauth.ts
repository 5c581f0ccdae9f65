/**
 * Klaviyo's OAuth 2.0 authorization server, as Klaviyo documents it: authorization code with PKCE (S256 only),
 * HTTP Basic client authentication with form-encoded bodies, rotating refresh tokens that die after 90 days
 * unused, and RFC 7009 revocation. Mounted at `/oauth`, ahead of the Klaviyo pipeline (so neither its request
 * log nor its faults see these calls). Authorization is approved at once: a test client needs no human.
 *
 * Secrets, codes and tokens appear in no error, log or response except the token response itself.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { type Context, Hono } from "hono";
import { checkScopes, knownScopes } from "./auth.js";
import type { EmulatorBindings } from "./env.js";
import {
  BEARER_SCHEME,
  type Clock,
  describeScopes,
  OAuthError,
  OAuthGrants,
  type RevocableCredentialRegistry,
  type TokenResponse,
} from "./oauth-grants.js";
import { readBodyWithin } from "./request-body.js";

export {
  AUTHORIZATION_CODE_TTL_MS,
  OAuthError,
  REFRESH_TOKEN_IDLE_MS,
  RevocableCredentialRegistry,
  s256,
  type TokenResponse,
} from "./oauth-grants.js";

/** A registered OAuth app. */
export interface OAuthClient {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Compared exactly, character for character, with the `redirect_uri` of a request. */
  readonly redirectUris: readonly string[];
}

export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 3600;

/** Counts of token-endpoint calls by `grant_type`, refused ones included (`other`: any other or none). */
export interface TokenRequestCounts {
  authorization_code: number;
  refresh_token: number;
  other: number;
}

/** What tests can do to the OAuth server besides calling it. */
export interface OAuthControls {
  readonly tokenRequests: Readonly<TokenRequestCounts>;
  /** Tokens as a completed authorization of `clientId` would give them, skipping `/oauth/authorize`. */
  issueTokens(clientId: string, scopes: readonly string[]): TokenResponse;
  /** The access token expires now: the API answers it 401 `authentication_failed`. False if unknown. */
  expireAccessToken(accessToken: string): boolean;
  expireAccessTokens(): void;
  /** Revokes the installation, as an uninstall would: the refresh token and its access tokens die. */
  revokeRefreshToken(refreshToken: string): boolean;
  /** Moves the refresh token's last use `days` (default 90, so it dies) into the past. False if unknown. */
  ageRefreshToken(refreshToken: string, days?: number): boolean;
}

/** Throws on a client that could never authenticate or be redirected to; the message never holds the secret. */
export function checkOAuthClients(clients: readonly OAuthClient[]): void {
  const seen = new Set<string>();
  for (const { clientId, clientSecret, redirectUris } of clients) {
    if (!clientId || /[\s:]/.test(clientId))
      throw new Error("an OAuth client id cannot be empty or hold spaces or colons");
    if (seen.has(clientId)) throw new Error(`OAuth client ${clientId} is given twice`);
    seen.add(clientId);
    if (!clientSecret || /\s/.test(clientSecret))
      throw new Error(`the secret of OAuth client ${clientId} cannot be empty or hold spaces`);
    if (redirectUris.length === 0) throw new Error(`OAuth client ${clientId} needs a redirect URI`);
    for (const uri of redirectUris) {
      if (!URL.canParse(uri) || /\s/.test(uri))
        throw new Error(`a redirect URI of OAuth client ${clientId} is not an absolute URL`);
      if (uri.includes("#"))
        throw new Error(`a redirect URI of OAuth client ${clientId} cannot hold a fragment (#)`);
    }
  }
}

/**
 * Reads `--oauth-client` values, `ID:SECRET:REDIRECT_URI` (split on the first two colons: the URI has its own),
 * merging repeats of one id into one client with several redirect URIs. Errors never quote the secret.
 */
export function parseOAuthClients(values: readonly string[]): OAuthClient[] {
  const clients = new Map<string, { clientId: string; clientSecret: string; redirectUris: string[] }>();
  for (const value of values) {
    const first = value.indexOf(":");
    const second = first < 0 ? -1 : value.indexOf(":", first + 1);
    if (second < 0)
      throw new Error("give ID:SECRET:REDIRECT_URI, such as app:s3cret:http://localhost:8080/cb");
    const clientId = value.slice(0, first);
    const clientSecret = value.slice(first + 1, second);
    const redirectUri = value.slice(second + 1);
    const known = clients.get(clientId);
    if (known && known.clientSecret !== clientSecret)
      throw new Error(`OAuth client ${clientId} is given two different secrets`);
    if (known) {
      if (!known.redirectUris.includes(redirectUri)) known.redirectUris.push(redirectUri);
    } else {
      clients.set(clientId, { clientId, clientSecret, redirectUris: [redirectUri] });
    }
  }
  const list = [...clients.values()];
  checkOAuthClients(list);
  return list;
}

export interface OAuthServerOptions {
  readonly clients: readonly OAuthClient[];
  /** Where access tokens are registered (scheme `Bearer`), for the API pipeline to authenticate them. */
  readonly registry: RevocableCredentialRegistry;
  readonly accountId: string;
  readonly clock: Clock;
  readonly accessTokenTtlSeconds?: number;
}

const NO_STORE = { "Cache-Control": "no-store", Pragma: "no-cache" } as const;

/** The most the token and revocation endpoints read of a body: their forms take a few hundred bytes. */
export const FORM_BODY_LIMIT = 64 * 1024;

/** The routes' context: on a real port the Node request, whose body is read as it arrives. */
type OAuthEnv = { Bindings: EmulatorBindings };

/** The body as text, read within `FORM_BODY_LIMIT` (413 past it, without reading the rest). */
async function formText(c: Context<OAuthEnv>): Promise<string> {
  const bytes = await readBodyWithin(c.req.raw, c.env?.incoming, FORM_BODY_LIMIT);
  if (!bytes)
    throw new OAuthError(413, "invalid_request", `The body is larger than ${FORM_BODY_LIMIT} bytes.`);
  return new TextDecoder().decode(bytes);
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers: { ...NO_STORE, ...headers } });
}

function errorResponse(error: OAuthError): Response {
  const body = error.description
    ? { error: error.error, error_description: error.description }
    : { error: error.error };
  const headers: Record<string, string> =
    error.status === 401 ? { "WWW-Authenticate": 'Basic realm="oauth"' } : {};
  return json(body, error.status, headers);
}

const invalidRequest = (description: string) => new OAuthError(400, "invalid_request", description);

/** The single value of `name`, or undefined; a repeated parameter is an error (RFC 6749 §3.1). */
function single(params: URLSearchParams, name: string): string | undefined {
  const values = params.getAll(name);
  if (values.length > 1) throw invalidRequest(`${name} is given more than once.`);
  return values[0];
}

function required(params: URLSearchParams, name: string): string {
  const value = single(params, name);
  if (!value) throw invalidRequest(`${name} is required.`);
  return value;
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** `Basic base64(id:secret)`, strictly: canonical base64 of UTF-8 with a colon, or nothing. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header ?? "");
  const encoded = match?.[1];
  if (!encoded) return undefined;
  const bytes = Buffer.from(encoded, "base64");
  if (bytes.toString("base64") !== encoded) return undefined;
  let decoded: string;
  try {
    decoded = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

function parseScopes(text: string): string[] {
  return [...new Set(text.split(/[ ]+/).filter((s) => s.length > 0))];
}

const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** The OAuth server: `routes` to mount at `/oauth`, `controls` for tests.
 * @internal The emulator's own pipeline; its types are hono's, kept out of the published declarations.
 */
export function createOAuthServer(options: OAuthServerOptions): {
  routes: Hono<OAuthEnv>;
  controls: OAuthControls;
} {
  checkOAuthClients(options.clients);
  const ttl = options.accessTokenTtlSeconds ?? DEFAULT_ACCESS_TOKEN_TTL_SECONDS;
  if (!(Number.isInteger(ttl) && ttl > 0))
    throw new Error(`The access token lifetime must be a whole number of seconds > 0, not ${ttl}`);
  const clients = new Map(options.clients.map((client) => [client.clientId, client]));
  if (clients.size > 0) options.registry.addScheme(BEARER_SCHEME);
  const grants = new OAuthGrants({
    registry: options.registry,
    accountId: options.accountId,
    clock: options.clock,
    accessTokenTtlSeconds: ttl,
  });
  const tokenRequests: TokenRequestCounts = { authorization_code: 0, refresh_token: 0, other: 0 };

  /** The client the Basic header authenticates; 401 `invalid_client` otherwise (RFC 6749 §5.2). */
  const authenticateClient = (header: string | undefined): string => {
    const credentials = basicCredentials(header);
    const client = credentials ? clients.get(credentials.id) : undefined;
    if (!(credentials && client && timingSafeEqual(digest(credentials.secret), digest(client.clientSecret))))
      throw new OAuthError(401, "invalid_client");
    return client.clientId;
  };

  /** The form parameters of a body that must be `application/x-www-form-urlencoded`. */
  const formBody = (contentType: string | undefined, text: string): URLSearchParams => {
    if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(contentType ?? ""))
      throw invalidRequest("The body must be application/x-www-form-urlencoded.");
    return new URLSearchParams(text);
  };

  /** The client and redirect URI of an authorization request, both checked; throws otherwise. */
  const registeredTarget = (query: URLSearchParams) => {
    const client = clients.get(required(query, "client_id"));
    if (!client) throw new OAuthError(400, "invalid_client", "Unknown client_id.");
    const redirectUri = required(query, "redirect_uri");
    if (!client.redirectUris.includes(redirectUri))
      throw invalidRequest("redirect_uri is not one of the client's registered redirect URIs.");
    return { client, redirectUri };
  };

  const routes = new Hono<OAuthEnv>();

  routes.get("/authorize", (c) => {
    const query = new URL(c.req.url).searchParams;
    // Until the client and its redirect URI are known to match, errors are answered here: redirecting to an
    // unchecked URI would make the emulator an open redirector.
    let target: { client: OAuthClient; redirectUri: string };
    try {
      target = registeredTarget(query);
    } catch (error) {
      if (error instanceof OAuthError) return errorResponse(error);
      throw error;
    }
    const { client, redirectUri } = target;
    const redirect = (params: Record<string, string | undefined>) => {
      const location = new URL(redirectUri);
      for (const [name, value] of Object.entries(params))
        if (value !== undefined) location.searchParams.set(name, value);
      return new Response(null, { status: 302, headers: { ...NO_STORE, Location: location.href } });
    };
    const states = query.getAll("state");
    const state = states.length === 1 ? states[0] : undefined;
    try {
      const responseType = required(query, "response_type");
      if (responseType !== "code")
        throw new OAuthError(400, "unsupported_response_type", "response_type must be code.");
      if (!state) throw invalidRequest("state is required (exactly once).");
      if (single(query, "code_challenge_method") !== "S256")
        throw invalidRequest("PKCE is required: code_challenge_method must be S256.");
      const challenge = required(query, "code_challenge");
      if (!CHALLENGE.test(challenge))
        throw invalidRequest("code_challenge must be base64url(SHA-256(code_verifier)) without padding.");
      const scopes = parseScopes(single(query, "scope") ?? "");
      if (scopes.length === 0) throw new OAuthError(400, "invalid_scope", "scope is required.");
      const unknown = scopes.filter((s) => !knownScopes().has(s));
      if (unknown.length > 0)
        throw new OAuthError(400, "invalid_scope", `Unknown scope(s): ${describeScopes(unknown)}.`);
      const code = grants.issueCode({ clientId: client.clientId, redirectUri, scopes, challenge });
      return redirect({ code, state });
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      return redirect({ error: error.error, error_description: error.description, state });
    }
  });

  routes.post("/token", async (c) => {
    try {
      let text: string;
      try {
        text = await formText(c);
      } catch (error) {
        tokenRequests.other++;
        throw error;
      }
      const counted = new URLSearchParams(text).getAll("grant_type");
      const grantType = counted.length === 1 ? counted[0] : undefined;
      if (grantType === "authorization_code" || grantType === "refresh_token") tokenRequests[grantType]++;
      else tokenRequests.other++;
      const clientId = authenticateClient(c.req.header("Authorization"));
      const body = formBody(c.req.header("Content-Type"), text);
      const named = single(body, "client_id");
      if (named !== undefined && named !== clientId)
        throw invalidRequest("client_id does not match the authenticated client.");
      const type = required(body, "grant_type");
      if (type === "authorization_code") {
        const code = required(body, "code");
        const verifier = required(body, "code_verifier");
        const redirectUri = required(body, "redirect_uri");
        return json(grants.redeemCode(clientId, code, verifier, redirectUri));
      }
      if (type === "refresh_token") {
        const refreshToken = required(body, "refresh_token");
        const scope = single(body, "scope");
        const scopes = scope === undefined ? undefined : parseScopes(scope);
        if (scopes?.length === 0) throw new OAuthError(400, "invalid_scope", "scope cannot be empty.");
        return json(grants.refresh(clientId, refreshToken, scopes));
      }
      throw new OAuthError(
        400,
        "unsupported_grant_type",
        "grant_type must be authorization_code or refresh_token.",
      );
    } catch (error) {
      if (error instanceof OAuthError) return errorResponse(error);
      throw error;
    }
  });

  routes.post("/revoke", async (c) => {
    try {
      const clientId = authenticateClient(c.req.header("Authorization"));
      const body = formBody(c.req.header("Content-Type"), await formText(c));
      // token_type_hint only speeds a search up (RFC 7009 §2.1); every kind of token is looked for anyway.
      grants.revoke(clientId, required(body, "token"));
      return new Response(null, { status: 200, headers: NO_STORE });
    } catch (error) {
      if (error instanceof OAuthError) return errorResponse(error);
      throw error;
    }
  });

  const allowed: Record<string, string> = { "/authorize": "GET", "/token": "POST", "/revoke": "POST" };
  routes.all("*", (c) => {
    const path = new URL(c.req.url).pathname.replace(/^\/oauth/, "").replace(/\/$/, "");
    const allow = allowed[path];
    if (allow)
      return json({ error: "invalid_request", error_description: `Use ${allow}.` }, 405, { Allow: allow });
    return errorResponse(
      new OAuthError(404, "invalid_request", "Unknown OAuth endpoint: use authorize, token or revoke."),
    );
  });

  const controls: OAuthControls = {
    tokenRequests,
    issueTokens: (clientId, scopes) => {
      if (!clients.has(clientId)) throw new Error(`Unknown OAuth client ${clientId}`);
      checkScopes(scopes);
      return grants.issueDirectly(clientId, scopes);
    },
    expireAccessToken: (token) => grants.expireAccessToken(token),
    expireAccessTokens: () => grants.expireAccessTokens(),
    revokeRefreshToken: (token) => grants.revokeRefreshToken(token),
    ageRefreshToken: (token, days = 90) => grants.ageRefreshToken(token, days),
  };
  return { routes, controls };
}
