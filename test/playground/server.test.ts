import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actions as registry } from "../../src/actions/index.js";
import { runUi } from "../../src/cli/commands/ui.js";
import { createEmulator, DEV_API_KEY } from "../../src/emulator/index.js";
import {
  CONTENT_SECURITY_POLICY,
  type Playground,
  startPlayground,
  TEMPLATE_PREVIEW_POLICY,
} from "../../src/playground/server.js";

interface Answer {
  path: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  bytes: Buffer;
  json: () => unknown;
}

/** Every answer any test received, to search for secrets and check the headers of. */
const answers: Answer[] = [];

/** One request over real HTTP, with any Host and raw path (fetch would normalize both). */
function call(
  pg: Playground,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; token?: string | null } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== null && path.startsWith("/api"))
    headers["x-playground-token"] ??= options.token ?? pg.token;
  if (options.body !== undefined) headers["content-type"] ??= "application/json";
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port: pg.port, path, method: options.method ?? "GET", headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const bytes = Buffer.concat(chunks);
          const body = bytes.toString("utf8");
          const answer = {
            path,
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            bytes,
            json: () => JSON.parse(body),
          };
          answers.push(answer);
          resolve(answer);
        });
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

interface RunAnswer {
  id: number;
  action: string;
  ok: boolean;
  output?: { data?: { id?: string; attributes?: Record<string, unknown> } };
  error?: { name: string; message: string; status?: number; issues?: Array<{ label: string; key: string }> };
  exchanges: Array<{
    request: { method: string; url: string; headers: Record<string, string>; body?: string };
    response?: { status: number; headers: Record<string, string>; body?: string };
    ms: number;
  }>;
  rateLimit?: { limit?: number; remaining?: number };
  snippets: { cli: string; library: string; curl: string };
}

async function run(pg: Playground, action: string, inputs: Record<string, unknown>): Promise<RunAnswer> {
  const answer = await call(pg, "/api/run", { method: "POST", body: JSON.stringify({ action, inputs }) });
  expect(answer.status).toBe(200);
  return answer.json() as RunAnswer;
}

/** A 1×1 PNG. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);

let dir: string;
let staticDir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "playground-"));
  staticDir = join(dir, "ui");
  mkdirSync(join(staticDir, "assets"), { recursive: true });
  writeFileSync(join(staticDir, "index.html"), "<!doctype html><title>playground page</title>");
  writeFileSync(join(staticDir, "assets", "app.js"), "console.log('app');");
  writeFileSync(join(staticDir, "assets", "app.css"), "body { margin: 0 }");
  writeFileSync(join(dir, "secret.txt"), "TOP-SECRET-OUTSIDE");
  // Links inside the served directory that lead out of it.
  symlinkSync(join(dir, "secret.txt"), join(staticDir, "assets", "link.txt"));
  symlinkSync(dir, join(staticDir, "outside"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  // Whatever was asked, with whatever result: every answer carries the policy and its companions.
  expect(answers.length).toBeGreaterThan(30);
  for (const answer of answers) {
    // A template's preview is the one answer with a policy of its own (sandboxed, inline styles only).
    const preview = answer.status === 200 && /\/templates\/[^/]+\/preview\?/.test(answer.path);
    expect(answer.headers["content-security-policy"], answer.path).toBe(
      preview ? TEMPLATE_PREVIEW_POLICY : CONTENT_SECURITY_POLICY,
    );
    expect(answer.headers["x-content-type-options"]).toBe("nosniff");
    expect(answer.headers["referrer-policy"]).toBe("no-referrer");
  }
});

describe("the playground on the embedded emulator", () => {
  let pg: Playground;

  beforeAll(async () => {
    // No client-side limiter and no retries, so a burst reaches the emulator and its 429s show.
    pg = await startPlayground({
      port: 0,
      staticDir,
      client: { rateLimiter: false, retry: { maxRetries: 0 } },
    });
  });
  afterAll(() => pg.close());

  it("serves the page only with the token of its address", async () => {
    expect(pg.url).toBe(`http://127.0.0.1:${pg.port}/?token=${pg.token}`);
    expect(pg.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    for (const path of ["/", "/index.html", "/?token=wrong", `/?token=${pg.token.slice(0, -1)}`]) {
      const answer = await call(pg, path);
      expect(answer.status, path).toBe(403);
      expect(answer.body).toContain(
        "This playground needs the address printed by klaviyo ui (with its token)",
      );
    }
    const page = await call(pg, `/?token=${pg.token}`);
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.body).toContain("playground page");
    const asset = await call(pg, "/assets/app.js");
    expect(asset.status).toBe(200);
    expect(asset.headers["content-type"]).toMatch(/^text\/javascript/);
    expect(asset.body).toBe("console.log('app');");
    const style = await call(pg, "/assets/app.css");
    expect([style.status, style.headers["content-type"]]).toEqual([200, "text/css; charset=utf-8"]);
    expect((await call(pg, "/assets/nothing.js")).status).toBe(404);
  });

  it("answers HEAD as GET without the body, and refuses other methods on the page", async () => {
    for (const [path, headers] of [
      [`/?token=${pg.token}`, {}],
      ["/assets/app.js", {}],
      ["/api/info", { "x-playground-token": pg.token }],
    ] as const) {
      const got = await call(pg, path, { headers });
      const head = await call(pg, path, { method: "HEAD", headers });
      expect([head.status, head.bytes.byteLength], path).toEqual([200, 0]);
      expect(head.headers["content-type"], path).toBe(got.headers["content-type"]);
      expect(head.headers["content-length"], path).toBe(String(got.bytes.byteLength));
    }
    const post = await call(pg, `/?token=${pg.token}`, { method: "POST", body: "{}" });
    expect([post.status, post.headers.allow]).toEqual([405, "GET, HEAD"]);
    expect((await call(pg, "/api/info", { method: "DELETE" })).status).toBe(405);
  });

  it("refuses the API without the token header, or with a wrong one", async () => {
    for (const token of [null, "", "wrong", `${pg.token}x`]) {
      const answer = await call(pg, "/api/info", { token });
      expect(answer.status).toBe(403);
      expect(answer.json()).toHaveProperty("error");
    }
    const info = await call(pg, "/api/info");
    expect(info.status).toBe(200);
    expect(info.headers["cache-control"]).toBe("no-store");
    expect(info.json()).toMatchObject({ mode: "emulator", connection: "api-key", revision: "2026-07-15" });
  });

  it("refuses another Host (DNS rebinding), even with the token", async () => {
    for (const host of ["evil.example", `evil.example:${pg.port}`, "127.0.0.1:1"]) {
      const page = await call(pg, `/?token=${pg.token}`, { headers: { host } });
      expect(page.status).toBe(403);
      const api = await call(pg, "/api/info", { headers: { host } });
      expect(api.status).toBe(403);
    }
    // A Host that is not a host never makes a URL: refused before any route (with the policy all the same).
    for (const host of ["a/b", `127.0.0.1:${pg.port}@evil.example`]) {
      const page = await call(pg, `/?token=${pg.token}`, { headers: { host } });
      expect([page.status, page.body], host).toEqual([400, "Bad request\n"]);
      const api = await call(pg, "/api/info", { headers: { host } });
      expect([api.status, api.body], host).toEqual([400, "Bad request\n"]);
    }
    expect((await call(pg, "/api/info", { headers: { host: `localhost:${pg.port}` } })).status).toBe(200);
  });

  it("serves nothing outside its directory", async () => {
    for (const path of [
      "/../secret.txt",
      "/%2e%2e/secret.txt",
      "/assets/..%2f..%2fsecret.txt",
      "/assets/%2e%2e/%2e%2e/secret.txt",
      "/..%5csecret.txt",
      "/assets/app.js%00.html",
      "/assets/link.txt",
      "/outside/secret.txt",
    ]) {
      const answer = await call(pg, path);
      expect(answer.status, path).toBeGreaterThanOrEqual(400);
      expect(answer.body).not.toContain("TOP-SECRET");
    }
  });

  it("takes API posts as JSON only", async () => {
    const form = await call(pg, "/api/run", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "action=get-account",
    });
    expect(form.status).toBe(415);
    const text = await call(pg, "/api/run", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: '{"action":"get-account"}',
    });
    expect(text.status).toBe(415);
    expect((await call(pg, "/api/run", { method: "POST", body: "{not json" })).status).toBe(400);
    const unknown = await call(pg, "/api/run", { method: "POST", body: '{"action":"no-such","inputs":{}}' });
    expect(unknown.status).toBe(400);
    expect(unknown.json()).toEqual({ error: expect.stringContaining("no-such") });
  });

  it("refuses an API body past its limit while the client is still sending, and keeps serving", async () => {
    const answer = await new Promise<Answer>((resolve, reject) => {
      const req = request({
        host: "127.0.0.1",
        port: pg.port,
        path: "/api/run",
        method: "POST",
        headers: {
          "x-playground-token": pg.token,
          "content-type": "application/json",
          "transfer-encoding": "chunked",
        },
      });
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          req.destroy();
          const bytes = Buffer.concat(chunks);
          const body = bytes.toString("utf8");
          const result = {
            path: "/api/run",
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            bytes,
            json: () => JSON.parse(body),
          };
          answers.push(result);
          resolve(result);
        });
      });
      req.on("error", reject);
      // 17 MB of a body that never ends: past the 16 MB limit, and the refusal cannot wait for the end.
      for (let i = 0; i < 17 * 16; i++) req.write(Buffer.alloc(64 * 1024, 0x20));
    });
    expect(answer.status).toBe(413);
    expect(answer.json()).toEqual({ error: expect.stringContaining("larger than") });
    expect((await call(pg, "/api/info")).status).toBe(200);
  });

  it("publishes the manifest", async () => {
    const manifest = (await call(pg, "/api/manifest")).json() as {
      actions: Array<{ key: string; inputs: Array<{ key: string; type: string }> }>;
    };
    expect(manifest.actions).toHaveLength(registry.length);
    const create = manifest.actions.find((a) => a.key === "create-profile");
    expect(create?.inputs.find((i) => i.key === "email")?.type).toBe("text");
  });

  it("runs Create Profile: the exchange with a masked key, the profile then in the emulator's state", async () => {
    const result = await run(pg, "create-profile", {
      email: "grace.hopper@example.com",
      firstName: "Grace",
      properties: '{"rank": "rear admiral"}',
    });
    expect(result.ok).toBe(true);
    expect(result.action).toBe("create-profile");
    const id = result.output?.data?.id;
    expect(id).toBeTruthy();
    expect(result.exchanges).toHaveLength(1);
    const [exchange] = result.exchanges;
    expect(exchange?.request.method).toBe("POST");
    expect(new URL(exchange?.request.url ?? "").pathname).toBe("/api/profiles");
    expect(exchange?.request.headers.authorization).toBe("Klaviyo-API-Key pk_…****");
    expect(exchange?.request.body).toContain("grace.hopper@example.com");
    expect(exchange?.response?.status).toBe(201);
    expect(exchange?.response?.body).toContain(`"id": "${id}"`);
    expect(result.rateLimit?.limit).toBe(750);
    expect(result.snippets.cli).toBe(
      "klaviyo run create-profile --email grace.hopper@example.com --first-name Grace " +
        `--properties '{"rank": "rear admiral"}'`,
    );
    expect(result.snippets.library).toContain('runAction(\n  "create-profile"');
    expect(result.snippets.library).toContain("apiKey: process.env.KLAVIYO_API_KEY");
    expect(result.snippets.curl).toContain("curl -X POST https://a.klaviyo.com/api/profiles");
    expect(result.snippets.curl).toContain(`-H "Authorization: Klaviyo-API-Key $KLAVIYO_API_KEY"`);
    expect(result.snippets.curl).toContain('--data-raw \'{"data":');
    for (const snippet of Object.values(result.snippets)) expect(snippet).not.toContain(DEV_API_KEY);

    const state = (await call(pg, "/api/emulator/state")).json() as {
      counts: Record<string, number>;
      profiles: Array<{ id: string; attributes: { email: string } }>;
      lists: Array<{ members: string[] }>;
      events: unknown[];
    };
    expect(state.profiles[0]).toMatchObject({ id, attributes: { email: "grace.hopper@example.com" } });
    expect(state.counts.profiles).toBe(25);
    expect(state.lists).toHaveLength(3);
    expect(state.events).toHaveLength(60);
  });

  it("refuses a bad input before sending, naming its label", async () => {
    const result = await run(pg, "create-profile", { email: "not-an-email" });
    expect(result.ok).toBe(false);
    expect(result.error?.name).toBe("InputValidationError");
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ label: "Individual's email address", key: "email" }),
    ]);
    expect(result.exchanges).toEqual([]);
    expect(result.snippets.curl).toMatch(/^# No request was sent/);
  });

  it("reports an API failure with its status and the exchange", async () => {
    const result = await run(pg, "get-list", { listId: "NoSuch" });
    expect(result.ok).toBe(false);
    expect(result.error).toMatchObject({ name: "NotFoundError", status: 404 });
    expect(result.exchanges[0]?.response?.status).toBe(404);
  });

  it("writes key/value, fields and boolean inputs with the CLI's flags", async () => {
    const result = await run(pg, "raw-request", {
      method: "GET",
      url: "/api/lists",
      queryParameter: [{ key: "fields[list]", value: "name" }],
      header: [{ key: "X-Trace", value: "it's me" }],
    });
    expect(result.ok).toBe(true);
    expect(result.snippets.cli).toBe(
      "klaviyo run raw-request --url /api/lists --method GET --query-parameter 'fields[list]=name' --header 'X-Trace=it'\\''s me'",
    );
    expect(result.snippets.curl).toContain("'https://a.klaviyo.com/api/lists?fields%5Blist%5D=name'");
    const lists = await run(pg, "list-lists", { fields: ["name"] });
    expect(lists.snippets.cli).toBe("klaviyo run list-lists --fields name");
  });

  it("keeps the bytes of uploaded images for thumbnails", async () => {
    const fromUri = await run(pg, "upload-image", {
      imageUrl: `data:image/png;base64,${PNG.toString("base64")}`,
      imageName: "dot",
    });
    expect(fromUri.ok).toBe(true);
    const fromFile = await run(pg, "upload-image", { fileData: PNG.toString("base64"), fileName: "dot.png" });
    expect(fromFile.ok).toBe(true);
    expect(fromFile.exchanges[0]?.request.body).toContain("<file dot.png, image/png, 70 bytes>");
    expect(fromFile.snippets.curl).toContain("-F 'file=@dot.png;type=image/png'");
    for (const result of [fromUri, fromFile]) {
      const image = await call(pg, `/api/emulator/images/${result.output?.data?.id}`);
      expect(image.status).toBe(200);
      expect(image.headers["content-type"]).toBe("image/png");
      expect(image.bytes.equals(PNG)).toBe(true);
    }
    expect((await call(pg, "/api/emulator/images/123")).status).toBe(404);
  });

  it("serves a template's HTML for the preview frame under its own policy, with the token in the query only", async () => {
    const made = await run(pg, "create-template", {
      name: "Preview",
      editorType: "CODE",
      html: '<p style="color: red">Hi</p>',
    });
    expect(made.ok).toBe(true);
    const path = `/api/emulator/templates/${made.output?.data?.id}/preview`;
    expect((await call(pg, path, { token: null })).status).toBe(403);
    expect((await call(pg, `${path}?token=wrong`, { token: null })).status).toBe(403);
    const preview = await call(pg, `${path}?token=${pg.token}`, { token: null });
    expect(preview.status).toBe(200);
    expect(preview.body).toBe('<p style="color: red">Hi</p>');
    expect(preview.headers["content-security-policy"]).toBe(TEMPLATE_PREVIEW_POLICY);
    expect(preview.headers["content-type"]).toContain("text/html");
    expect((await call(pg, `/api/emulator/templates/nope/preview?token=${pg.token}`)).status).toBe(404);
  });

  it("charts the rate tiers: a burst of an XS action beyond its limit shows 429s", async () => {
    // List Accounts is in tier XS (1/s, 15/m): five at once, and at most two fit (one per second).
    const results = await Promise.all(Array.from({ length: 5 }, () => run(pg, "list-accounts", {})));
    const throttled = results.filter((r) => r.error?.status === 429);
    expect(throttled.length).toBeGreaterThanOrEqual(3);
    const rates = (await call(pg, "/api/emulator/rates?seconds=10")).json() as {
      now: number;
      tiers: Array<{
        tier: string;
        burstPerSecond: number;
        steadyPerMinute: number;
        seconds: Array<{ t: number; requests: number; throttled: number; faults: number }>;
      }>;
    };
    expect(rates.tiers.map((t) => t.tier)).toEqual(["XS", "S", "M", "L", "XL"]);
    const xs = rates.tiers[0];
    expect(xs).toMatchObject({ burstPerSecond: 1, steadyPerMinute: 15 });
    expect(xs?.seconds).toHaveLength(10);
    expect(xs?.seconds.reduce((n, s) => n + s.requests, 0)).toBe(5);
    expect(xs?.seconds.reduce((n, s) => n + s.throttled, 0)).toBe(throttled.length);
    expect(rates.tiers[3]?.seconds.reduce((n, s) => n + s.requests, 0)).toBeGreaterThanOrEqual(1);

    const log = (await call(pg, "/api/emulator/requests?limit=5")).json() as {
      requests: Array<{
        at: number;
        method: string;
        path: string;
        operationId: string;
        status: number;
        tier: string;
      }>;
    };
    expect(log.requests).toHaveLength(5);
    expect(log.requests.every((r) => r.operationId === "get_accounts" && r.tier === "XS")).toBe(true);
    expect(log.requests.filter((r) => r.status === 429)).toHaveLength(throttled.length);
    expect(log.requests[0]?.at).toBeGreaterThanOrEqual(log.requests[4]?.at ?? 0);
  });

  it("keeps the history, newest first, and resets the demo data", async () => {
    const history = (await call(pg, "/api/history")).json() as { runs: RunAnswer[] };
    expect(history.runs.length).toBeGreaterThanOrEqual(10);
    const ids = history.runs.map((r) => r.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    const reset = await call(pg, "/api/emulator/reset", { method: "POST", body: "{}" });
    expect(reset.json()).toMatchObject({ ok: true, counts: { profiles: 24, lists: 3, events: 60 } });
  });
});

describe("the playground connected with an API key", () => {
  const KEY = "pk_playgroundCanary_5f3e9a1c7b2d4e6f";
  let pg: Playground;

  beforeAll(async () => {
    const emulator = createEmulator({ apiKeys: [{ key: KEY }], rateLimits: "off", seed: "demo" });
    pg = await startPlayground({
      port: 0,
      apiKey: KEY,
      baseUrl: emulator.baseUrl,
      staticDir,
      client: { fetch: emulator.fetch },
    });
  });
  afterAll(() => pg.close());

  it("never lets the key out, in any answer", async () => {
    const mine: Answer[] = [];
    const keep = async (p: Promise<Answer>) => {
      const a = await p;
      mine.push(a);
      return a;
    };
    const info = await keep(call(pg, "/api/info"));
    expect(info.json()).toMatchObject({ mode: "remote", connection: "api-key" });
    await keep(call(pg, "/api/manifest"));
    await keep(call(pg, `/?token=${pg.token}`));
    const runs: Array<[string, Record<string, unknown>]> = [
      ["get-account", { accountId: "XqT4Lm" }],
      ["create-profile", { email: "ada@example.com" }],
      ["create-profile", { email: "ada@example.com" }], // 409
      ["get-list", { listId: "NoSuch" }],
      ["create-profile", { email: "nope" }],
      [
        "raw-request",
        { method: "GET", url: "/api/accounts", queryParameter: [{ key: "api_key", value: KEY }] },
      ],
      ["raw-request", { method: "GET", url: "/api/lists", header: [{ key: "X-Echo", value: KEY }] }],
      ["create-list", { listName: `named ${KEY}` }],
    ];
    const outcomes: unknown[] = [];
    for (const [action, inputs] of runs) {
      const answer = await keep(
        call(pg, "/api/run", { method: "POST", body: JSON.stringify({ action, inputs }) }),
      );
      expect(answer.status).toBe(200);
      const result = answer.json() as RunAnswer;
      for (const exchange of result.exchanges)
        expect(exchange.request.headers.authorization).toBe("Klaviyo-API-Key pk_…****");
      expect(result.snippets.cli.startsWith(`klaviyo run ${action}`)).toBe(true);
      outcomes.push(result.ok ? "ok" : (result.error?.status ?? result.error?.name ?? "?"));
    }
    // Successes, API failures and a refused input all went by (the key searched in each).
    expect(outcomes).toEqual(["ok", "ok", 409, 404, "InputValidationError", "ok", "ok", "ok"]);
    await keep(call(pg, "/api/history"));
    const state = await keep(call(pg, "/api/emulator/state"));
    expect(state.status).toBe(404);
    expect(state.json()).toEqual({ error: "not connected to the emulator" });
    for (const path of ["/api/emulator/rates", "/api/emulator/requests", "/api/emulator/images/1"])
      expect((await keep(call(pg, path))).status).toBe(404);
    expect(mine.length).toBeGreaterThan(10);
    for (const answer of mine) {
      expect(answer.body).not.toContain(KEY);
      expect(answer.body).not.toContain(KEY.slice(3));
    }
  });

  it("points the snippets at its base URL", async () => {
    const result = await run(pg, "list-accounts", {});
    expect(result.ok).toBe(true);
    expect(result.snippets.cli).toBe("klaviyo run list-accounts --base-url http://klaviyo.emulator.local");
    expect(result.snippets.library).toContain('baseUrl: "http://klaviyo.emulator.local"');
    expect(result.snippets.curl).toContain("http://klaviyo.emulator.local/api/accounts");
  });
});

describe("klaviyo ui", () => {
  it("prints its address, serves it, and stops cleanly", async () => {
    let out = "";
    let err = "";
    let stop = () => {};
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const code = runUi({}, { stdout: (t) => (out += t), stderr: (t) => (err += t) }, () => stopped, {
      env: {},
      staticDir,
    });
    await expect.poll(() => out, { timeout: 10_000 }).toMatch(/Playground: /);
    const url = /^Playground: (http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43})\n$/.exec(out)?.[1];
    expect(url).toBeDefined();
    expect(err).toContain("embedded Klaviyo emulator with demo data");
    const page = await fetch(url as string);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("playground page");
    stop();
    expect(await code).toBe(0);
    expect(err).toContain("Playground stopped.");
    await expect(fetch(url as string)).rejects.toThrow();
  });

  it("says when the front end is not built, and serves the API all the same", async () => {
    let out = "";
    let err = "";
    let stop = () => {};
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const code = runUi({}, { stdout: (t) => (out += t), stderr: (t) => (err += t) }, () => stopped, {
      env: {},
      staticDir: join(dir, "missing"),
    });
    await expect.poll(() => out, { timeout: 10_000 }).toMatch(/Playground: /);
    expect(err).toContain("run npm run build");
    const url = new URL(out.slice("Playground: ".length).trim());
    const token = url.searchParams.get("token") ?? "";
    expect((await fetch(url)).status).toBe(503);
    const info = await fetch(new URL("/api/info", url), { headers: { "x-playground-token": token } });
    expect(info.status).toBe(200);
    stop();
    expect(await code).toBe(0);
  });

  it("refuses --emulator with --base-url (exit 2), and a bad key without quoting it", async () => {
    let err = "";
    const io = { stdout: () => {}, stderr: (t: string) => (err += t) };
    const never = () => new Promise<void>(() => {});
    expect(await runUi({ emulator: true, baseUrl: "http://127.0.0.1:1" }, io, never, { env: {} })).toBe(2);
    expect(await runUi({ port: "70000" }, io, never, { env: {} })).toBe(2);
    expect(await runUi({ apiKey: "pk_has space inside" }, io, never, { env: {} })).toBe(2);
    expect(err).not.toContain("has space inside");
  });

  it("runs as a command until SIGTERM, then exits 0", async () => {
    const cli = fileURLToPath(new URL("./fixtures/klaviyo-cli.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", cli, "ui", "--port", "0"], {
      env: { PATH: process.env.PATH ?? "", KLAVIYO_CONFIG_DIR: dir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    await expect.poll(() => out, { timeout: 15_000, interval: 100 }).toMatch(/Playground: .*\n/);
    const url = new URL(out.slice("Playground: ".length).trim());
    const info = await fetch(new URL("/api/info", url), {
      headers: { "x-playground-token": url.searchParams.get("token") ?? "" },
    });
    expect(await info.json()).toMatchObject({ mode: "emulator" });
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(err).toContain("Playground stopped.");
  }, 30_000);
});
