import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { klaviyoHeaders, onlyError } from "./helpers.js";

describe("startEmulator on a real port", () => {
  let running: RunningEmulator;
  beforeAll(async () => {
    running = await startEmulator({ port: 0, rateLimits: "off" });
  });
  afterAll(async () => {
    await running?.close();
  });

  it("binds 127.0.0.1 on a free port", () => {
    expect(running.port).toBeGreaterThan(0);
    expect(running.url).toBe(`http://127.0.0.1:${running.port}`);
  });

  it("answers the global fetch, with links built from the request's origin", async () => {
    for (const path of ["/api/accounts", "/api/accounts/"]) {
      const res = await fetch(`${running.url}${path}`, { headers: klaviyoHeaders() });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/vnd.api+json");
      const body = (await res.json()) as { data: Array<{ links: { self: string } }> };
      expect(body.data[0]?.links.self).toBe(`${running.url}/api/accounts/${running.emulator.account.id}/`);
    }
  });

  it("errors are Klaviyo's JSON, never a text page", async () => {
    const res = await fetch(`${running.url}/nowhere`);
    expect(res.status).toBe(404);
    expect((await onlyError(res)).code).toBe("not_found");
  });

  it("a reset fault really drops the TCP connection, and the server keeps serving", async () => {
    running.emulator.setFaults([{ kind: "reset", probability: 1 }]);
    const error = await fetch(`${running.url}/api/accounts`, { headers: klaviyoHeaders() }).then(
      () => undefined,
      (e: unknown) => e,
    );
    running.emulator.setFaults([]);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe("fetch failed");
    expect(((error as TypeError).cause as NodeJS.ErrnoException).code).toBe("ECONNRESET");
    expect(running.emulator.requests.at(-1)).toMatchObject({ status: 0, fault: "reset" });

    expect((await fetch(`${running.url}/api/accounts`, { headers: klaviyoHeaders() })).status).toBe(200);
  });
});

describe("closing", () => {
  it("close() stops listening: the next connection is refused", async () => {
    const running = await startEmulator();
    const res = await fetch(`${running.url}/api/accounts`, { headers: klaviyoHeaders() });
    await res.text();
    await running.close();
    const error = await fetch(`${running.url}/api/accounts`).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(((error as TypeError).cause as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
  });

  it("a busy port is an error, not a hang", async () => {
    const first = await startEmulator();
    await expect(startEmulator({ port: first.port })).rejects.toMatchObject({ code: "EADDRINUSE" });
    await first.close();
  });
});
