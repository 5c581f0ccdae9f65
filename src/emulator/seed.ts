/**
 * Seed data: `demo`, a small realistic account to explore (profiles, lists and their members, events), and
 * `seedProfiles(n)` / `seedEvents(n)`, many fast, for benchmarks (100,000 profiles in about a second).
 */
import { recordEvent } from "./resources/events-model.js";
import type { EventAttributesInput } from "./resources/events-schema.js";
import { insertProfile } from "./resources/profile-model.js";
import { insertTag } from "./resources/tags-model.js";
import { seedFlows } from "./seed-flows.js";
import type { EmulatorState } from "./state.js";
import { isoNow, shortId } from "./store.js";

const FIRST = [
  "Sarah",
  "Miguel",
  "Aiko",
  "Liam",
  "Priya",
  "Noah",
  "Fatima",
  "Lucas",
  "Chloe",
  "Omar",
  "Ingrid",
  "Wei",
];
const LAST = [
  "Mason",
  "Garcia",
  "Tanaka",
  "Murphy",
  "Patel",
  "Okafor",
  "Haddad",
  "Silva",
  "Dubois",
  "Khan",
  "Berg",
  "Chen",
];
const CITIES: Array<[string, string, string, string]> = [
  ["Boston", "MA", "United States", "02110"],
  ["Austin", "TX", "United States", "73301"],
  ["Toronto", "ON", "Canada", "M5H 2N2"],
  ["London", "England", "United Kingdom", "EC1A 1BB"],
  ["Berlin", "Berlin", "Germany", "10115"],
];

/** Adds a list by name and returns its id. */
export function seedList(state: EmulatorState, name: string, now = Date.now()): string {
  const id = shortId();
  const stamp = isoNow(now);
  state.lists.insert({
    id,
    seq: state.lists.seq(),
    attributes: { name, created: stamp, updated: stamp, opt_in_process: "single_opt_in" },
  });
  state.memberships.set(id, new Map());
  return id;
}

/** Adds `count` profiles with distinct emails, names and locations; returns their ids. */
export function seedProfiles(state: EmulatorState, count: number, now: number): string[] {
  const ids: string[] = [];
  const offset = state.profiles.size;
  for (let i = 0; i < count; i++) {
    const n = offset + i;
    const first = FIRST[n % FIRST.length] as string;
    const last = LAST[Math.floor(n / FIRST.length) % LAST.length] as string;
    const [city, region, country, zip] = CITIES[n % CITIES.length] as [string, string, string, string];
    const row = insertProfile(
      state,
      {
        email: `${first}.${last}.${n}@example.com`.toLowerCase(),
        first_name: first,
        last_name: last,
        location: { city, region, country, zip },
        properties: { loyalty_tier: ["bronze", "silver", "gold"][n % 3], orders: n % 7 },
      },
      now - (count - i) * 1000,
    );
    ids.push(row.id);
  }
  return ids;
}

const METRICS = ["Viewed Product", "Added to Cart", "Placed Order"];
const PRODUCTS: Array<[string, number]> = [
  ["Trail Jacket", 129],
  ["Wool Beanie", 24],
  ["Canvas Tote", 38],
  ["Hiking Boots", 164],
];

/**
 * Adds `count` events spread over the existing profiles (created first if there are none) and three metrics,
 * at times spaced back from `now`; returns how many were recorded.
 */
export function seedEvents(state: EmulatorState, count: number, now: number): number {
  let profiles = [...state.profiles.values()];
  if (profiles.length === 0) {
    seedProfiles(state, Math.min(100, Math.max(1, count)), now);
    profiles = [...state.profiles.values()];
  }
  let recorded = 0;
  for (let i = 0; i < count; i++) {
    const profile = profiles[i % profiles.length];
    if (!profile) break;
    const [product, price] = PRODUCTS[i % PRODUCTS.length] as [string, number];
    const metric = METRICS[i % METRICS.length] as string;
    const event: EventAttributesInput = {
      properties: { product, price, quantity: 1 + (i % 3) },
      metric: { data: { type: "metric", attributes: { name: metric } } },
      time: new Date(now - (count - i) * 60_000).toISOString(),
      unique_id: `seed-${state.events.size}-${i}`,
      ...(metric === "Placed Order" ? { value: price, value_currency: "USD" } : {}),
    } as EventAttributesInput;
    if (recordEvent(state, profile, event, now)) recorded++;
  }
  return recorded;
}

/**
 * The `demo` seed: 24 profiles in three lists, 60 events, and four flows (one archived), so every read has
 * something to show.
 */
export function seedDemo(state: EmulatorState, now = Date.now()): void {
  const profiles = seedProfiles(state, 24, now);
  const lists = [
    seedList(state, "Newsletter", now),
    seedList(state, "VIP Customers", now),
    seedList(state, "Back in Stock", now),
  ];
  profiles.forEach((profileId, i) => {
    const joined = isoNow(now - (profiles.length - i) * 60_000);
    state.memberships.get(lists[0] as string)?.set(profileId, joined);
    if (i % 4 === 0) state.memberships.get(lists[1] as string)?.set(profileId, joined);
    if (i % 6 === 1) state.memberships.get(lists[2] as string)?.set(profileId, joined);
  });
  seedEvents(state, 60, now);
  seedFlows(state, lists[0] as string, now);
  // Two tags in the default tag group, the first on the newsletter list.
  insertTag(state, "Newsletter", undefined).lists.push(lists[0] as string);
  insertTag(state, "Seasonal", undefined);
}
