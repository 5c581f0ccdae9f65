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
import { ENV, envValue } from "../env.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type Io, reportError } from "../output.js";
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

async function login(flags: LoginFlags, io: Io): Promise<number> {
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
    server.listen(Number(flags.port), "127.0.0.1", () => resolve());
  });
  try {
    const { port } = server.address() as AddressInfo;
    const redirectUri = `http://127.0.0.1:${port}/callback`;
    const config = {
      clientId: flags.clientId,
      clientSecret: secret,
      redirectUri,
      scopes: flags.scopes ?? DEFAULT_SCOPES,
      authorizeUrl: flags.authorizeUrl ?? KLAVIYO_OAUTH_URLS.authorizeUrl,
      tokenUrl: flags.tokenUrl ?? KLAVIYO_OAUTH_URLS.tokenUrl,
      revokeUrl: flags.revokeUrl ?? KLAVIYO_OAUTH_URLS.revokeUrl,
    };
    const request = authorizeUrl(config);
    io.stderr(
      `Waiting for the authorization on ${redirectUri}\nOpen this URL to connect your Klaviyo account:\n`,
    );
    io.stdout(`${request.url}\n`);
    if (flags.open !== false) openBrowser(request.url);
    const params = await waitForCallback(server, Number(flags.timeout) * 1000);
    if (params.get("error")) {
      io.stderr(
        `error: authorization refused: ${params.get("error")} ${params.get("error_description") ?? ""}\n`,
      );
      return EXIT_FAILURE;
    }
    const tokens = await exchangeCode(
      config,
      { code: params.get("code"), state: params.get("state") },
      request,
    );
    const baseUrl = flags.baseUrl ?? DEFAULT_BASE_URL;
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
    .option("--authorize-url <url>", "authorize endpoint (default Klaviyo's)")
    .option("--token-url <url>", "token endpoint (default Klaviyo's)")
    .option("--revoke-url <url>", "revoke endpoint (default Klaviyo's)")
    .option("--base-url <url>", "API base URL these tokens are for")
    .option("--no-open", "do not try to open a browser")
    .option("--timeout <seconds>", "how long to wait for the authorization", "300")
    .action(async (flags: LoginFlags) => {
      try {
        setExit(await login(flags, io));
      } catch (error) {
        setExit(reportError(error, io, flags.clientSecret ? [flags.clientSecret] : []));
      }
    });
  auth
    .command("status")
    .description("show the stored OAuth connection: account, scopes, expiry (no secret)")
    .action(async () => {
      const store = cliTokenStore();
      const stored = await store.load();
      if (!stored) {
        io.stderr("Not logged in (no stored OAuth tokens). Run: klaviyo auth login --client-id ID\n");
        setExit(EXIT_FAILURE);
        return;
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
