/**
 * Load: the real CLI emulator (one process) under a steady load from a second process (load-generator.ts) on
 * loopback, for LOAD_SECONDS (default 60): list and create calls from LOAD_CONCURRENCY (default 16) workers, with
 * Klaviyo's limits scaled by 10, so that some operations are throttled as Klaviyo would throttle them (Create
 * List has a daily cap equal to its per-minute limit, and it is reached).
 *
 * What "flat memory" means for a store that grows by design: the load is built so that the emulator's data
 * reaches a fixed size early and stays there (lists are created in a ring, each worker deleting its oldest past
 * four; profiles come from a fixed pool per worker, created once and then updated; events repeat a bounded set
 * of `unique_id`s, which Klaviyo records once). The request log keeps the latest 1,000 requests and the rate
 * windows are per (key, operation). So after warm-up the emulator's working set is constant, and its resident
 * memory must be too: the last third of the run may not peak above the middle third by more than GC noise (20%,
 * about 25 MB: a leak of 1.5 kB per request at the ~900 requests a second this machine serves).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { REQUEST_LOG_LIMIT } from "../../src/emulator/connection.js";
import { requireBuild, startCliEmulator } from "../helpers/cli.js";

const SECONDS = Number(process.env.LOAD_SECONDS ?? 60);
const CONCURRENCY = Number(process.env.LOAD_CONCURRENCY ?? 16);
const SCALE = 10;
const GENERATOR = fileURLToPath(new URL("./load-generator.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Resident memory of a process, in kB: /proc where there is one, else `ps`. */
function rssKb(pid: number): number | undefined {
  const status = `/proc/${pid}/status`;
  const text = existsSync(status)
    ? (/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(status, "utf8"))?.[1] ?? "")
    : execFileSync("ps", ["-o", "rss=", "-p", String(pid)], { encoding: "utf8" });
  const kb = Number.parseInt(text.trim(), 10);
  return Number.isFinite(kb) ? kb : undefined;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

interface GeneratorFigures {
  requests: number;
  ok: number;
  throttled: number;
  badThrottles: number;
  unexpected: number;
  connectionErrors: number;
  samples: string[];
  ops: Record<string, { requests: number; statuses: Record<string, number> }>;
  perSecond: number[];
  durationMs: number;
}

function runGenerator(url: string): { child: ChildProcess; done: Promise<GeneratorFigures> } {
  const child = spawn(process.execPath, ["--import", "tsx", GENERATOR], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      LOAD_URL: url,
      LOAD_SECONDS: String(SECONDS),
      LOAD_CONCURRENCY: String(CONCURRENCY),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const done = new Promise<GeneratorFigures>((resolve, reject) => {
    child.once("exit", (code) => {
      if (code !== 0) reject(new Error(`the load generator exited with ${code}: ${err}`));
      else resolve(JSON.parse(out) as GeneratorFigures);
    });
  });
  return { child, done };
}

beforeAll(() => {
  requireBuild();
});

describe("the emulator under a steady load from another process", () => {
  it(
    `holds ${SECONDS} s of list and create calls: only 2xx and the 429s it was told to give, flat memory`,
    async () => {
      const emulator = await startCliEmulator(["--rate-limits", `scale=${SCALE}`]);
      let stderr = "";
      emulator.child.stderr?.on("data", (d) => {
        stderr += d;
      });
      const pid = emulator.child.pid as number;
      const rss: number[] = [];
      const first = rssKb(pid);
      const sampler = setInterval(() => {
        const kb = rssKb(pid);
        if (kb !== undefined) rss.push(kb);
      }, 1000);
      let figures: GeneratorFigures;
      try {
        figures = await runGenerator(emulator.url).done;
      } catch (error) {
        emulator.child.kill("SIGKILL");
        throw error;
      } finally {
        clearInterval(sampler);
      }

      // What the emulator holds after the run: bounded, as the load was built to keep it.
      const health = (await (await fetch(`${emulator.url}/__emulator/health`)).json()) as {
        resources: Record<string, number>;
      };
      const log = (await (await fetch(`${emulator.url}/__emulator/requests`)).json()) as {
        requests: unknown[];
      };
      const code = await emulator.stop();

      const thirds = Math.floor(rss.length / 3);
      const middle = rss.slice(thirds, 2 * thirds);
      const last = rss.slice(2 * thirds);
      const mb = (kb: number) => Math.round(kb / 102.4) / 10;
      const seconds = figures.durationMs / 1000;
      console.log(
        `load: ${SECONDS} s, ${CONCURRENCY} workers, limits x${SCALE}: ${figures.requests} requests ` +
          `(${Math.round(figures.requests / seconds)} req/s; slowest second ${Math.min(...figures.perSecond.slice(0, -1))}), ` +
          `${figures.ok} 2xx, ${figures.throttled} 429, ${figures.unexpected} other, ${figures.connectionErrors} connection errors; ` +
          `RSS MB start ${mb(first ?? 0)}, middle third median ${mb(median(middle))} max ${mb(Math.max(...middle))}, ` +
          `last third median ${mb(median(last))} max ${mb(Math.max(...last))}; ` +
          `store ${JSON.stringify(health.resources)}; request log ${log.requests.length}`,
      );
      console.log(
        `load by operation: ${Object.entries(figures.ops)
          .map(([op, f]) => `${op} ${JSON.stringify(f.statuses)}`)
          .join(", ")}`,
      );

      // No errors other than the rate limits: every answer a 2xx or a proper 429 (Retry-After, `throttled`).
      expect(figures.samples).toEqual([]);
      expect(figures.unexpected).toBe(0);
      expect(figures.connectionErrors).toBe(0);
      expect(figures.badThrottles).toBe(0);
      expect(figures.ok).toBeGreaterThan(0);
      // The limits were enforced: Create List reached its (scaled) daily cap, and no more lists were made than it allows.
      const createList = figures.ops.create_list?.statuses ?? {};
      expect(createList["429"]).toBeGreaterThan(0);
      expect(createList["201"]).toBeLessThanOrEqual(150 * SCALE);
      // A clean exit, and nothing on stderr but the line naming the development key.
      expect(code).toBe(0);
      expect(
        stderr.replace(/^No --api-key given: .*\n/, "").replace(/^Klaviyo emulator stopped\.\n$/, ""),
      ).toBe("");

      // Bounded data: the ring of lists, the pools of profiles and events, the capped request log.
      expect(health.resources.lists).toBeLessThanOrEqual(CONCURRENCY * 5);
      expect(health.resources.profiles).toBeLessThanOrEqual(CONCURRENCY * 80);
      expect(health.resources.events).toBeLessThanOrEqual(CONCURRENCY * 40);
      expect(health.resources.metrics).toBe(1);
      expect(log.requests.length).toBeLessThanOrEqual(REQUEST_LOG_LIMIT);

      // Flat memory: the last third of the run peaks no higher than the middle third, give or take GC's
      // sawtooth (peaks, since they come back to the same height every collection cycle; the first third is
      // warm-up).
      expect(rss.length).toBeGreaterThanOrEqual(Math.min(9, SECONDS - 1));
      expect(Math.max(...last)).toBeLessThanOrEqual(Math.max(...middle) * 1.2);
    },
    SECONDS * 1000 + 60_000,
  );
});
