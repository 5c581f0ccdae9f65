/**
 * A stub of Klaviyo's Get Events and Get Profiles for bench/feed.bench.ts, run as its own process
 * (`node --import tsx bench/feed-stub.ts '<options as JSON>'`), so neither the reader's CPU nor its memory holds the
 * server's. It prints `listening on URL`; `GET /__stub/log` answers the requests it counted and the 429s it
 * answered. The emulator filters and sorts every stored record on every page of a sorted walk (about 0.1 s a page
 * at 100,000 events, 4 s at 1,000,000), so it cannot serve a 1,000,000-change walk in a benchmark's time; this
 * answers the same documents from arithmetic in well under a millisecond a record.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getOperation } from "../src/klaviyo/operations.js";
import { TierWindows } from "../src/klaviyo/rate-window.js";

/** Records `i` of a collection is at `base + floor(i * spacingMs / 1000)` s, the last one spacing before `now`. */
export interface StubCollection {
  readonly count: number;
  readonly spacingMs: number;
}

/** What the stub serves, and whether it counts requests in Klaviyo's windows. */
export interface StubOptions {
  readonly events?: StubCollection;
  readonly profiles?: StubCollection;
  readonly tiers: boolean;
  readonly now: number;
}

/**
 * A stub of Klaviyo's Get Events and Get Profiles, answering from arithmetic in the emulator's documents (each
 * record's attributes, relationships and links; an event's metric and profile included): bounds on the time field
 * (`datetime`, `updated`), sorted by it, an index cursor. With `tiers`, it counts requests in Klaviyo's real
 * windows for each operation (the emulator's `TierWindows`) and answers 429 with `Retry-After` past them;
 * without, it says its limits are off (`x-emulator-rate-limits: off`), as the emulator does under
 * `--rate-limits off`. The records end one spacing before `now`.
 */
function stubKlaviyo(options: StubOptions): Server {
  const { now } = options;
  const log = { requests: 0, throttled: 0 };
  const windows = new Map<string, TierWindows>();
  const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "+00:00");
  const ulid = (prefix: string, n: number) => `${prefix}${n.toString(32).toUpperCase().padStart(23, "0")}`;
  const metrics = ["Viewed Product", "Added to Cart", "Placed Order"];
  const products: Array<[string, number]> = [
    ["Trail Jacket", 129],
    ["Wool Beanie", 24],
    ["Canvas Tote", 38],
    ["Hiking Boots", 164],
  ];
  const links = (origin: string, type: string, id: string, rels: string[]) => ({
    relationships: Object.fromEntries(
      rels.map((rel) => [
        rel,
        {
          links: {
            self: `${origin}/api/${type}/${id}/relationships/${rel}/`,
            related: `${origin}/api/${type}/${id}/${rel}/`,
          },
        },
      ]),
    ),
    links: { self: `${origin}/api/${type}/${id}/` },
  });
  const metric = (origin: string, m: number, at: string) => {
    const id = `Mt${m}xYz`;
    return {
      type: "metric",
      id,
      attributes: {
        name: metrics[m],
        created: at,
        updated: at,
        integration: { object: "integration", id: "7FtS4J", key: "api", name: "API", category: "API" },
      },
      ...links(origin, "metrics", id, ["flow-triggers"]),
    };
  };
  const profile = (origin: string, p: number, at: string) => {
    const id = ulid("01P", p);
    return {
      type: "profile",
      id,
      attributes: {
        email: `bench.${p}@example.com`,
        phone_number: null,
        external_id: null,
        first_name: "Sarah",
        last_name: "Mason",
        organization: null,
        locale: null,
        title: null,
        image: null,
        created: at,
        updated: at,
        last_event_date: iso(now),
        location: {
          address1: null,
          address2: null,
          city: "Boston",
          country: "United States",
          latitude: null,
          longitude: null,
          region: "MA",
          zip: "02110",
          timezone: null,
          ip: null,
        },
        properties: { loyalty_tier: ["bronze", "silver", "gold"][p % 3], orders: p % 7 },
      },
      ...links(origin, "profiles", id, ["lists", "segments", "push-tokens"]),
    };
  };
  const event = (origin: string, i: number, ms: number, at: string) => {
    const id = ulid("01E", i);
    const [product, price] = products[i % products.length] as [string, number];
    const rel = (type: string, target: string) => ({
      data: { type, id: target },
      links: {
        self: `${origin}/api/events/${id}/relationships/${type}/`,
        related: `${origin}/api/events/${id}/${type}/`,
      },
    });
    return {
      type: "event",
      id,
      attributes: {
        timestamp: ms / 1000,
        event_properties: { product, price, quantity: 1 + (i % 3), $event_id: `seed-0-${i}` },
        datetime: at,
        uuid: `b94b8b80-d07d-11ef-805b-${i.toString(16).padStart(12, "0")}`,
      },
      relationships: {
        metric: rel("metric", `Mt${i % 3}xYz`),
        profile: rel("profile", ulid("01P", i % 100)),
        attributions: {
          links: {
            self: `${origin}/api/events/${id}/relationships/attributions/`,
            related: `${origin}/api/events/${id}/attributions/`,
          },
        },
      },
      links: { self: `${origin}/api/events/${id}/` },
    };
  };
  const routes = {
    "/api/events": { operation: "get_events", field: "datetime", collection: options.events },
    "/api/profiles": { operation: "get_profiles", field: "updated", collection: options.profiles },
  } as const;

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
    if (url.pathname === "/__stub/log") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(log));
      return;
    }
    const route = (routes as Record<string, (typeof routes)[keyof typeof routes]>)[url.pathname];
    if (!route?.collection) {
      res.writeHead(404).end();
      return;
    }
    log.requests++;
    if (options.tiers) {
      let w = windows.get(route.operation);
      if (!w) {
        w = TierWindows.of(getOperation(route.operation).tier);
        windows.set(route.operation, w);
      }
      const at = Date.now();
      if (!w.tryTake(at)) {
        log.throttled++;
        res.writeHead(429, {
          "content-type": "application/vnd.api+json",
          "retry-after": String(Math.max(1, Math.ceil(w.waitMs(at) / 1000))),
        });
        res.end(
          JSON.stringify({ errors: [{ status: 429, code: "throttled", title: "Request was throttled." }] }),
        );
        return;
      }
    }
    const { count, spacingMs } = route.collection;
    const base = Math.floor((now - count * spacingMs) / 1000) * 1000;
    const timeOf = (i: number) => base + Math.floor((i * spacingMs) / 1000) * 1000;
    /** The first index whose time passes `test` (times never decrease along the indexes). */
    const firstWhere = (test: (ms: number) => boolean) => {
      let lo = 0;
      let hi = count;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (test(timeOf(mid))) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    };
    const filter = url.searchParams.get("filter") ?? "";
    const bound = (op: string) => {
      const m = new RegExp(`${op}\\(${route.field},([^)]+)\\)`).exec(filter);
      return m?.[1] ? Date.parse(m[1]) : undefined;
    };
    const ge = bound("greater-or-equal");
    const gt = bound("greater-than");
    const lt = bound("less-than");
    const from = firstWhere((ms) => (ge === undefined || ms >= ge) && (gt === undefined || ms > gt));
    const to = lt === undefined ? count : firstWhere((ms) => ms >= lt);
    const size = Number(url.searchParams.get("page[size]") ?? 20);
    const start = Math.max(from, Number(url.searchParams.get("page[cursor]") ?? from));
    const end = Math.min(to, start + size);
    const data: unknown[] = [];
    const metricsOn = new Set<number>();
    const profilesOn = new Set<number>();
    const origin = url.origin;
    for (let i = start; i < end; i++) {
      const ms = timeOf(i);
      if (route.operation === "get_profiles") {
        data.push(profile(origin, i, iso(ms)));
        continue;
      }
      data.push(event(origin, i, ms, iso(ms)));
      metricsOn.add(i % 3);
      profilesOn.add(i % 100);
    }
    const next = new URL(url);
    next.searchParams.set("page[cursor]", String(end));
    const body = JSON.stringify({
      data,
      links: { self: url.toString(), next: end < to ? next.toString() : null, prev: null },
      ...(route.operation === "get_events"
        ? {
            included: [
              ...[...metricsOn].map((m) => metric(origin, m, iso(base))),
              ...[...profilesOn].map((p) => profile(origin, p, iso(base))),
            ],
          }
        : {}),
    });
    res.writeHead(200, {
      "content-type": "application/vnd.api+json",
      ...(options.tiers ? {} : { "x-emulator-rate-limits": "off" }),
    });
    res.end(body);
  });
  return server;
}

const server = stubKlaviyo(JSON.parse(process.argv[2] ?? "{}") as StubOptions);
server.listen(0, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
