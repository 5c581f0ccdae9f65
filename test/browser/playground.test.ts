/**
 * The playground in a real browser: Debian's Chromium driven by Playwright (`playwright-core`, no browser
 * download), against `startPlayground` on a port with the embedded emulator. Without a browser the tests skip and
 * say so, unless REQUIRE_BROWSER=1 (CI installs Chromium and sets it). The tests take screenshots of the main
 * screens: into docs/screenshots/ (linked from the README) with UPDATE_SCREENSHOTS=1.
 */
import { existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_API_KEY } from "../../src/emulator/index.js";
import { type Playground, startPlayground } from "../../src/playground/server.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/**
 * Where the screenshots go: docs/screenshots (linked from the README) with UPDATE_SCREENSHOTS=1, else a temporary
 * directory, so a test run leaves the working tree as it found it.
 */
const SHOTS =
  process.env.UPDATE_SCREENSHOTS === "1"
    ? fileURLToPath(new URL("../../docs/screenshots/", import.meta.url))
    : `${join(tmpdir(), "klaviyo-playground-screenshots")}/`;
const UI_BUILT = existsSync(fileURLToPath(new URL("../../dist/ui/index.html", import.meta.url)));

function browserAvailable(): boolean {
  if (existsSync(CHROMIUM) && UI_BUILT) return true;
  const why = !existsSync(CHROMIUM)
    ? `no browser at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`
    : "the front end is not built (npm run build)";
  if (process.env.REQUIRE_BROWSER === "1") throw new Error(`REQUIRE_BROWSER=1, but ${why}`);
  console.warn(`Browser tests skipped: ${why}`);
  return false;
}

describe.skipIf(!browserAvailable())("the playground in Chromium", () => {
  let browser: Browser;
  let playground: Playground;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    playground = await startPlayground({ port: 0, emulator: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await playground?.close();
  });

  async function open(): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(playground.url);
    await page.getByTestId("action-search").waitFor();
    return { page, errors };
  }

  it("does not load without its token, nor with a wrong one", async () => {
    const page = await browser.newPage();
    const bare = await page.goto(playground.url.replace(/\?token=.*$/, ""));
    expect(bare?.status()).toBe(403);
    expect(await page.getByTestId("action-search").count()).toBe(0);
    const wrong = await page.goto(playground.url.replace(/token=[^&]+/, "token=not-the-token"));
    expect(wrong?.status()).toBe(403);
    expect(await page.content()).toContain("klaviyo ui");
    await page.close();
  });

  it("runs Create Profile from its form, and the profile shows in the inspector", async () => {
    const { page, errors } = await open();
    const email = `ada.${Date.now()}@example.com`;
    await page.getByTestId("action-search").fill("create profile");
    await page.getByTestId("action-create-profile").click();
    await page.getByTestId("input-email").fill(email);
    await page.getByTestId("input-firstName").fill("Ada");
    await page.getByTestId("run").click();
    await expect
      .poll(() => page.getByTestId("result-status").textContent(), { timeout: 10_000 })
      .toContain("201");
    // The wire: the request went to /api/profiles, its key masked.
    const text = (await page.locator("body").textContent()) ?? "";
    expect(text).toContain("/api/profiles");
    expect(text).toContain("Klaviyo-API-Key pk_…****");
    expect(text).not.toContain(DEV_API_KEY);
    await page.screenshot({ path: `${SHOTS}actions.png` });
    await page.getByTestId("result").screenshot({ path: `${SHOTS}run-result.png` });
    await page.getByTestId("tab-inspector").click();
    await expect
      .poll(() => page.getByTestId("inspector-profiles").textContent(), { timeout: 10_000 })
      .toContain(email);
    await page.screenshot({ path: `${SHOTS}inspector.png`, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("shows a bad input's message next to its field, and sends nothing", async () => {
    const { page } = await open();
    const before = playground.emulator?.requests.length ?? 0;
    await page.getByTestId("action-create-profile").click();
    await page.getByTestId("input-email").fill("not-an-email");
    await page.getByTestId("run").click();
    const message = page.getByTestId("error-email");
    await expect.poll(() => message.textContent(), { timeout: 10_000 }).toContain("is not an email address");
    expect(await page.getByTestId("result-status").textContent()).toContain("invalid");
    expect(playground.emulator?.requests.length ?? 0).toBe(before);
    await page.screenshot({ path: `${SHOTS}validation.png` });
    await page.close();
  });

  it("previews a template's HTML in a sandboxed frame: its inline styles apply, its scripts do not run", async () => {
    const { page } = await open();
    const html =
      '<html><body><h1 id="t" style="color: rgb(200, 0, 0)">Spring sale</h1>' +
      '<script>document.getElementById("t").textContent = "script ran"</script></body></html>';
    const created = await fetch(`http://127.0.0.1:${playground.port}/api/run`, {
      method: "POST",
      headers: { "x-playground-token": playground.token, "content-type": "application/json" },
      body: JSON.stringify({
        action: "create-template",
        inputs: { name: "Preview check", editorType: "CODE", html },
      }),
    }).then((r) => r.json() as Promise<{ ok: boolean }>);
    expect(created.ok).toBe(true);
    await page.getByTestId("tab-inspector").click();
    await page.getByTestId("inspector-tab-templates").click();
    await page.getByRole("button", { name: /Preview check/ }).click();
    const heading = page.frameLocator('[data-testid="template-preview"]').locator("#t");
    await expect.poll(() => heading.textContent(), { timeout: 10_000 }).toBe("Spring sale");
    expect(await heading.evaluate((el) => el.ownerDocument.defaultView?.getComputedStyle(el).color)).toBe(
      "rgb(200, 0, 0)",
    );
    await page.screenshot({ path: `${SHOTS}template-preview.png` });
    await page.close();
  });

  it("polls a trigger and lists its items newest first, then a profile made on the Actions tab", async () => {
    const { page, errors } = await open();
    await page.getByTestId("tab-triggers").click();
    await page.getByTestId("trigger-new-and-updated-profiles").click();
    await page.getByLabel("Look-back Date").fill(new Date(Date.now() - 3_600_000).toISOString());
    await page.getByTestId("poll-every").fill("1");
    await page.getByTestId("trigger-start").click();
    const items = page.getByTestId("trigger-item");
    await expect.poll(() => items.count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(24);
    const count = await items.count();
    // The fields are locked while it polls; an item opens on its record.
    expect(await page.getByLabel("Look-back Date").isDisabled()).toBe(true);
    await items.first().locator("summary").click();
    expect(await items.first().getByTestId("trigger-item-json").textContent()).toContain('"type": "profile"');
    // A profile made on the Actions tab arrives while the trigger polls on.
    const email = `trigger.${Date.now()}@example.com`;
    await page.getByTestId("tab-actions").click();
    await page.getByTestId("action-create-profile").click();
    await page.getByTestId("input-email").fill(email);
    await page.getByTestId("run").click();
    await expect
      .poll(() => page.getByTestId("result-status").textContent(), { timeout: 10_000 })
      .toContain("201");
    await page.getByTestId("tab-triggers").click();
    await expect.poll(() => items.count(), { timeout: 10_000 }).toBe(count + 1);
    expect(await items.first().textContent()).toContain(email);
    expect(await page.getByTestId("trigger-status").textContent()).toMatch(/Polling every 1 s · \d+ polls/);
    await page.screenshot({ path: `${SHOTS}triggers.png` });
    await page.getByTestId("trigger-stop").click();
    expect(await page.getByLabel("Look-back Date").isDisabled()).toBe(false);
    expect(await page.locator("body").textContent()).not.toContain(DEV_API_KEY);
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);

  it("listens to webhooks: a delivery arrives verified, a forged one is refused, Stop deletes the webhook", async () => {
    const { page, errors } = await open();
    const emulator = playground.emulator;
    if (!emulator) throw new Error("no emulator");
    const runAction = (action: string, inputs: Record<string, unknown>) =>
      fetch(`http://127.0.0.1:${playground.port}/api/run`, {
        method: "POST",
        headers: { "x-playground-token": playground.token, "content-type": "application/json" },
        body: JSON.stringify({ action, inputs }),
      }).then((r) => r.json() as Promise<{ ok: boolean }>);
    const event = (value: number) =>
      runAction("create-event", {
        name: "Browser Hook",
        profile: "browser.hook@example.com",
        properties: JSON.stringify({ value }),
        uniqueId: `browser-hook-${value}-${Date.now()}`,
      });
    // The metric first, so that its topic is offered.
    expect((await event(0)).ok).toBe(true);
    await page.getByTestId("tab-webhooks").click();
    const topic = page.getByTestId("topic-event:api.browser_hook");
    await topic.check();
    await page.getByTestId("webhook-start").click();
    await expect
      .poll(() => page.getByTestId("webhook-status").textContent(), { timeout: 10_000 })
      .toContain("Listening: webhook");
    expect(await topic.isDisabled()).toBe(true);
    expect([...emulator.state.webhooks.values()].map((w) => w.topics)).toEqual([["event:api.browser_hook"]]);
    // The webhook's secret key, read from the emulator while the webhook exists: it must never reach the page.
    const secret = [...emulator.state.webhooks.values()][0]?.secretKey ?? "";
    expect(secret.length).toBeGreaterThan(0);
    expect((await event(1)).ok).toBe(true);
    const items = page.getByTestId("webhook-delivery");
    await expect.poll(() => items.count(), { timeout: 10_000 }).toBe(1);
    expect(await items.first().getByTestId("webhook-verification").textContent()).toBe("verified");
    await items.first().locator("summary").click();
    expect(await items.first().getByTestId("webhook-delivery-json").textContent()).toContain(
      '"topic": "event:api.browser_hook"',
    );
    await page.getByTestId("webhook-forge").click();
    await expect.poll(() => items.count(), { timeout: 10_000 }).toBe(2);
    expect(await items.first().getByTestId("webhook-verification").textContent()).toBe(
      "refused: bad_signature",
    );
    expect(await items.first().textContent()).toContain("forged");
    // Listening, a delivery opened: neither the text nor the markup carries the secret.
    expect((await page.locator("body").textContent()) ?? "").not.toContain(secret);
    expect(await page.content()).not.toContain(secret);
    await page.screenshot({ path: `${SHOTS}webhooks.png` });
    await page.getByTestId("webhook-stop").click();
    await expect
      .poll(() => page.getByTestId("webhook-status").textContent(), { timeout: 10_000 })
      .toBe("Not listening");
    expect(emulator.state.webhooks.size).toBe(0);
    const text = (await page.locator("body").textContent()) ?? "";
    expect(text).not.toContain(DEV_API_KEY);
    expect(text).not.toContain(secret);
    expect(await page.content()).not.toContain(secret);
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);

  it("marks the 429s of a burst against an XS-tier action on the rate chart", async () => {
    const { page } = await open();
    await page.getByTestId("tab-inspector").click();
    await page.getByTestId("rates").waitFor();
    // Get Account is XS (1 request a second, 15 a minute): three runs at once, as three tabs would send them, meet
    // 429s (each then waits out its Retry-After and succeeds).
    const run = () =>
      fetch(`http://127.0.0.1:${playground.port}/api/run`, {
        method: "POST",
        headers: { "x-playground-token": playground.token, "content-type": "application/json" },
        body: JSON.stringify({
          action: "get-account",
          inputs: { accountId: playground.emulator?.account.id },
        }),
      }).then(
        (r) => r.json() as Promise<{ ok: boolean; exchanges: Array<{ response?: { status: number } }> }>,
      );
    const runs = await Promise.all(Array.from({ length: 3 }, run));
    expect(runs.every((r) => r.ok)).toBe(true);
    const statuses = runs.flatMap((r) => r.exchanges.map((e) => e.response?.status));
    expect(statuses).toContain(429);
    const marks = page.getByTestId("rate-chart-XS").getByTestId("throttled-mark");
    await expect.poll(() => marks.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await page.getByTestId("rate-chart-XS").scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}rate-chart.png`, fullPage: true });
    await page.close();
  }, 30_000);
});
