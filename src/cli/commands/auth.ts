import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { DEFAULT_SCOPES } from "../../actions/connections.js";
import { authorizeUrl, exchangeCode, KLAVIYO_OAUTH_URLS, revokeToken } from "../../auth/oauth.js";
import { oauth } from "../../auth/oauth-strategy.js";
import { MemoryTokenStore, type StoredConnection } from "../../auth/token-store.js";
import { KlaviyoClient } from "../../core/client.js";
import { redact } from "../../core/redact.js";
import { DEFAULT_BASE_URL } from "../../core/version.js";
import { baseUrlOf, checkBaseUrl, sameOrigin } from "../connection.js";
import { ENV, envValue } from "../env.js";
import { EXIT_AUTH, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, flagError, type Io, reportError } from "../output.js";
import { cliTokenStore } from "../token-stores.js";

interface LoginFlags {
  clientId: string;
  clientSecret?: string;
  scopes?: string;
  port: string;
  authorizeUrl?: string;
  tokenUrl?: string;
  revokeUrl?: string;
  baseUrl?: string;
  open?: boolean;
  timeout: string;
}

/** Reads the client secret: the flag, then $KLAVIYO_CLIENT_SECRET, then a prompt on a terminal. */
async function clientSecret(flags: LoginFlags, io: Io): Promise<string | undefined> {
  if (flags.clientSecret) return flags.clientSecret;
  const fromEnv = envValue(ENV.clientSecret);
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) return undefined;
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    io.stderr("Client secret (not echoed to history): ");
    return (await rl.question("")).trim() || undefined;
  } finally {
    rl.close();
  }
}

/** Opens the URL in a browser where there is one; quietly does nothing where there is not. */
function openBrowser(url: string): void {
  if (
    process.platform !== "darwin" &&
    process.platform !== "win32" &&
    !process.env.DISPLAY &&
    !process.env.WAYLAND_DISPLAY
  )
    return;
  const command =
    process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  try {
    const child = spawn(command, [url], { stdio: "ignore", detached: true });
    child.on("error", () => {});
    child.unref();
  } catch {
    // No browser: the printed URL is enough.
  }
}

/** Waits for one request to /callback and answers the browser. */
function waitForCallback(server: Server, timeoutMs: number): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no callback within ${timeoutMs / 1000} s`)), timeoutMs);
    server.on("request", (req, res) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      if (url.pathname !== "/callback") {
        res.writeHead(404).end();
        return;
      }
      const ok = url.searchParams.has("code");
      res.writeHead(ok ? 200 : 400, { "content-type": "text/html; charset=utf-8" });
      res.end(
        ok
          ? "<!doctype html><title>Klaviyo connector</title><p>Connected. You can close this window.</p>"
          : "<!doctype html><title>Klaviyo connector</title><p>Authorization failed; see the terminal.</p>",
      );
      clearTimeout(timer);
      resolve(url.searchParams);
    });
  });
}

/** Klaviyo's OAuth endpoints for Klaviyo's API; for another base URL (the emulator), its own `/oauth/…`. */
export function oauthEndpointsFor(baseUrl: string): {
  authorizeUrl: string;
  tokenUrl: string;
  revokeUrl: string;
} {
  const base = new URL(baseUrl);
  if (base.origin === new URL(DEFAULT_BASE_URL).origin) return { ...KLAVIYO_OAUTH_URLS };
  const at = (path: string) => new URL(path, base.origin).href;
  return {
    authorizeUrl: at("/oauth/authorize"),
    tokenUrl: at("/oauth/token"),
    revokeUrl: at("/oauth/revoke"),
  };
}

function wholeNumber(flag: string, value: string, min: number, max: number): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max)) throw flagError(flag, `must be a whole number from ${min} to ${max}`);
  return n;
}

/** The login's settings from its flags and the environment, checked before anything is listened on or sent. */
function loginSettings(flags: LoginFlags, env: NodeJS.ProcessEnv) {
  if (flags.clientId.trim() === "") throw flagError("--client-id", "must not be empty");
  const port = wholeNumber("--port", flags.port, 1, 65535);
  const timeoutSeconds = wholeNumber("--timeout", flags.timeout, 1, 86_400);
  // The API the tokens are for: --base-url, else $KLAVIYO_BASE_URL (as every command), else Klaviyo's.
  const baseUrl = baseUrlOf(flags, env) ?? DEFAULT_BASE_URL;
  const endpoints = oauthEndpointsFor(baseUrl);
  return {
    port,
    timeoutSeconds,
    baseUrl,
    authorizeUrl: checkUrl("--authorize-url", flags.authorizeUrl) ?? endpoints.authorizeUrl,
    tokenUrl: checkUrl("--token-url", flags.tokenUrl) ?? endpoints.tokenUrl,
    revokeUrl: checkUrl("--revoke-url", flags.revokeUrl) ?? endpoints.revokeUrl,
  };
}

function checkUrl(flag: string, value: string | undefined): string | undefined {
  return value === undefined ? undefined : checkBaseUrl(value, flag);
}

/** Says, on stderr, when $KLAVIYO_API_KEY means the commands do not use the OAuth login. */
function keyOverridesLogin(io: Io, env: NodeJS.ProcessEnv): void {
  if (envValue(ENV.apiKey, env) !== undefined) {
    io.stderr(
      `Note: ${ENV.apiKey} is set, so commands use that key, not this login, while it is set (unset it to use the login).\n`,
    );
  }
}

async function login(flags: LoginFlags, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const settings = loginSettings(flags, env);
  const secret = await clientSecret(flags, io);
  if (!secret) {
    io.stderr(
      "error: the client secret is required: --client-secret, $KLAVIYO_CLIENT_SECRET, or a prompt on a terminal\n",
    );
    return EXIT_USAGE;
  }
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(settings.port, "127.0.0.1", () => resolve());
  });
  try {
    const { port } = server.address() as AddressInfo;
    const redirectUri = `http://127.0.0.1:${port}/callback`;
    const config = {
      clientId: flags.clientId,
      clientSecret: secret,
      redirectUri,
      scopes: flags.scopes ?? DEFAULT_SCOPES,
      authorizeUrl: settings.authorizeUrl,
      tokenUrl: settings.tokenUrl,
      revokeUrl: settings.revokeUrl,
    };
    const request = authorizeUrl(config);
    io.stderr(
      `Logging in for ${settings.baseUrl} (tokens from ${settings.tokenUrl}, revoked at ${settings.revokeUrl}).\n` +
        `Waiting for the authorization on ${redirectUri}\nOpen this URL to connect your Klaviyo account:\n`,
    );
    io.stdout(`${request.url}\n`);
    if (flags.open !== false) openBrowser(request.url);
    const params = await waitForCallback(server, settings.timeoutSeconds * 1000);
    if (params.get("error")) {
      io.stderr(
        `error: authorization refused: ${params.get("error")} ${params.get("error_description") ?? ""}\n`,
      );
      return EXIT_AUTH; // the login was refused: authentication, as the exit-code table says
    }
    const tokens = await exchangeCode(
      config,
      { code: params.get("code"), state: params.get("state") },
      request,
    );
    const baseUrl = settings.baseUrl;
    const connection: StoredConnection = {
      tokens,
      clientId: config.clientId,
      clientSecret: secret,
      tokenUrl: config.tokenUrl,
      revokeUrl: config.revokeUrl,
      baseUrl,
    };
    // Which account did we connect? (also proves the token works)
    const client = new KlaviyoClient({ baseUrl, auth: oauth({ store: new MemoryTokenStore(connection) }) });
    const res = await client.request<{
      data: Array<{ id: string; attributes: { contact_information?: { organization_name?: string } } }>;
    }>({
      method: "GET",
      path: "/api/accounts",
      query: { "fields[account]": "contact_information.organization_name" },
    });
    const account = res.body.data[0];
    if (account) {
      connection.account = {
        id: account.id,
        ...(account.attributes.contact_information?.organization_name
          ? { name: account.attributes.contact_information.organization_name }
          : {}),
      };
    }
    const store = cliTokenStore();
    await store.save(connection);
    io.stderr(
      `Connected to ${connection.account?.name ?? "your account"} (${connection.account?.id ?? "?"}) with scopes: ${tokens.scope}\nTokens saved to ${store.where}\n`,
    );
    keyOverridesLogin(io, env);
    return EXIT_OK;
  } finally {
    server.close();
  }
}

/** `klaviyo auth login|status|logout`: the OAuth 2.0 connection for the CLI. */
export function registerAuthCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  const auth = program.command("auth").description("connect with OAuth 2.0 (PKCE) instead of an API key");
  auth
    .command("login")
    .description("authorize this machine for your Klaviyo account through your OAuth app")
    .requiredOption("--client-id <id>", "your OAuth app's Client ID")
    .option(
      "--client-secret <secret>",
      "your OAuth app's Client secret (or $KLAVIYO_CLIENT_SECRET, or a prompt)",
    )
    .option("--scopes <scopes>", "space-separated scopes (default: what every action needs)")
    .option(
      "--port <n>",
      "local port for the redirect http://127.0.0.1:PORT/callback (register it with the app)",
      "8765",
    )
    .option(
      "--base-url <url>",
      "API base URL these tokens are for; default $KLAVIYO_BASE_URL or https://a.klaviyo.com",
    )
    .option(
      "--authorize-url <url>",
      "authorize endpoint; default Klaviyo's for https://a.klaviyo.com, else <base URL>/oauth/authorize",
    )
    .option("--token-url <url>", "token endpoint; default Klaviyo's, else <base URL>/oauth/token")
    .option("--revoke-url <url>", "revoke endpoint; default Klaviyo's, else <base URL>/oauth/revoke")
    .option("--no-open", "do not try to open a browser")
    .option("--timeout <seconds>", "how long to wait for the authorization", "300")
    .addHelpText(
      "after",
      `
Against the emulator: start it with an app whose redirect URI is this login's callback (--oauth-client
my-app:my-secret:http://127.0.0.1:8765/callback); it prints the klaviyo auth login line to paste. Login needs only
the emulator's base URL (--base-url or $KLAVIYO_BASE_URL): the OAuth endpoints follow it.`,
    )
    .action(async (flags: LoginFlags) => {
      try {
        setExit(await login(flags, io));
      } catch (error) {
        setExit(reportError(error, io, flags.clientSecret ? [flags.clientSecret] : []));
      }
    });
  auth
    .command("status")
    .description(
      "show the stored OAuth connection: account, scopes, expiry (no secret); exit 3 when not logged in",
    )
    .action(async () => {
      const store = cliTokenStore();
      const stored = await store.load();
      if (!stored) {
        io.stderr("Not logged in (no stored OAuth tokens). Run: klaviyo auth login --client-id ID\n");
        setExit(EXIT_AUTH);
        return;
      }
      keyOverridesLogin(io, process.env);
      const envBase = envValue(ENV.baseUrl);
      const base = stored.baseUrl ?? DEFAULT_BASE_URL;
      if (envBase !== undefined && envValue(ENV.apiKey) === undefined && !sameOrigin(envBase, base)) {
        io.stderr(
          `Note: ${ENV.baseUrl} names ${envBase}, not ${base} (the URL this login is for): commands refuse to send its token there unless given --base-url.\n`,
        );
      }
      const expires = new Date(stored.tokens.expiresAt).toISOString();
      io.stdout(
        `${JSON.stringify(
          {
            account: stored.account ?? null,
            clientId: stored.clientId,
            scopes: stored.tokens.scope.split(" ").filter(Boolean),
            accessTokenExpiresAt: expires,
            accessTokenExpired: stored.tokens.expiresAt <= Date.now(),
            baseUrl: stored.baseUrl ?? DEFAULT_BASE_URL,
            file: store.file.path,
            ...(store.shared ? { sharedThroughRedis: true } : {}),
          },
          null,
          2,
        )}\n`,
      );
      setExit(EXIT_OK);
    });
  auth
    .command("logout")
    .description("revoke the stored refresh token at Klaviyo, then delete the stored tokens")
    .action(async () => {
      const store = cliTokenStore();
      const stored = await store.load();
      if (!stored) {
        io.stderr("Not logged in: nothing to do.\n");
        setExit(EXIT_OK);
        return;
      }
      let code = EXIT_OK;
      try {
        await revokeToken(
          {
            clientId: stored.clientId,
            clientSecret: stored.clientSecret,
            ...(stored.revokeUrl ? { revokeUrl: stored.revokeUrl } : {}),
          },
          stored.tokens.refreshToken,
        );
        io.stderr("Revoked the refresh token.\n");
      } catch (error) {
        io.stderr(
          `warning: could not revoke the token: ${redact(String((error as Error).message), [stored.clientSecret])}\n`,
        );
        code = EXIT_FAILURE;
      }
      await store.clear();
      io.stderr(`Deleted ${store.where}\n`);
      setExit(code);
    });
}
