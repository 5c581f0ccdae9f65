/**
 * What the change-feed tests of the emulator share: an emulator on a loopback port whose clock the test sets (so
 * every recorded time is the test's), called through real HTTP with every exchange held against Klaviyo's
 * OpenAPI document, and a walk that follows `links.next` to the end, page by page.
 */
import { expect } from "vitest";
import type { RunningEmulator, StartOptions } from "../../src/emulator/index.js";
import { checkedFetch } from "../helpers/contract.js";
import { klaviyoHeaders, servedEmulators } from "./helpers.js";

/** A clock the test moves; `at` takes an ISO time (milliseconds and all). */
export class TestClock {
  t: number;
  constructor(iso: string) {
    this.t = Date.parse(iso);
  }
  now(): number {
    return this.t;
  }
  at(iso: string): void {
    this.t = Date.parse(iso);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface Resource {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  relationships?: Record<string, { data?: unknown }>;
}

export interface Page {
  data: Resource[];
  included?: Resource[];
  links: { self: string; next?: string | null; prev?: string | null };
}

export interface Harness {
  readonly running: RunningEmulator;
  readonly clock: TestClock;
  /** A request to the emulator's port; JSON bodies are sent as JSON:API. */
  call(method: string, path: string, body?: unknown): Promise<Response>;
  /** A request that must answer `status`; its JSON body (undefined when empty). */
  expectStatus<T = unknown>(status: number, method: string, path: string, body?: unknown): Promise<T>;
  /** Every page of a collection, following `links.next` from `path?query`, each page checked to be 200. */
  walk(path: string, query: Record<string, string>): Promise<Page[]>;
  /** The ids of every item of a walk, in order. */
  ids(path: string, query: Record<string, string>): Promise<string[]>;
}

/** Starts emulators (closed after each test) with a clock at `start`, and the helpers over one. */
export function changesHarness(
  defaults: StartOptions = {},
): (start: string, options?: StartOptions) => Promise<Harness> {
  const serve = servedEmulators({ rateLimits: "off", ...defaults });
  const http = checkedFetch((input, init) => fetch(input, init));
  return async (start, options = {}) => {
    const clock = new TestClock(start);
    const running = await serve({ clock, ...options });
    const call = (method: string, path: string, body?: unknown) =>
      http(path.startsWith("http") ? path : `${running.url}${path}`, {
        method,
        headers: klaviyoHeaders(
          undefined,
          body === undefined ? {} : { "Content-Type": "application/vnd.api+json" },
        ),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const expectStatus = async <T>(status: number, method: string, path: string, body?: unknown) => {
      const res = await call(method, path, body);
      const text = await res.text();
      expect(res.status, `${method} ${path}: ${text}`).toBe(status);
      return (text ? JSON.parse(text) : undefined) as T;
    };
    const walk = async (path: string, query: Record<string, string>) => {
      const pages: Page[] = [];
      let next: string | null | undefined = `${path}?${new URLSearchParams(query)}`;
      while (next) {
        const page: Page = await expectStatus<Page>(200, "GET", next);
        pages.push(page);
        if (page.links.next) expect(page.links.next.startsWith(`${running.url}${path}?`)).toBe(true);
        next = page.links.next;
        if (pages.length > 1000) throw new Error("the walk does not end");
      }
      return pages;
    };
    const ids = async (path: string, query: Record<string, string>) =>
      (await walk(path, query)).flatMap((page) => page.data.map((item) => item.id));
    return { running, clock, call, expectStatus, walk, ids };
  };
}

/** Klaviyo's way of writing a whole-second UTC time: `2031-03-01T10:00:00+00:00`. */
export function klaviyoTime(iso: string): string {
  return new Date(Math.floor(Date.parse(iso) / 1000) * 1000).toISOString().replace(".000Z", "+00:00");
}
