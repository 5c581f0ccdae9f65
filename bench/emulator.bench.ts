/**
 * The emulator at benchmark sizes: how long seeding 100,000 profiles takes, and whether finding a profile by
 * its identifiers stays flat as the account grows (the identifier index): Create Event for a new profile with
 * 100,000 profiles already there, next to the same with 100, as a ratio (target: about 1x, not 1000x).
 */

import { createEmulator, DEV_API_KEY } from "../src/emulator/index.js";
import { KlaviyoClient } from "../src/index.js";

const N = Number(process.env.BENCH_SEED_PROFILES ?? 100_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 2000);

const started = performance.now();
const big = createEmulator({ rateLimits: "off", seedProfiles: N });
const seedMs = performance.now() - started;
const small = createEmulator({ rateLimits: "off", seedProfiles: 100 });
console.log(
  `seed ${N} profiles: ${(seedMs / 1000).toFixed(2)} s (${((seedMs * 1000) / N).toFixed(1)} us per profile)`,
);

async function createEvents(emulator: ReturnType<typeof createEmulator>, tag: string): Promise<number> {
  const client = new KlaviyoClient({
    apiKey: DEV_API_KEY,
    baseUrl: emulator.baseUrl,
    fetch: emulator.fetch,
    rateLimiter: false,
  });
  const t = performance.now();
  for (let i = 0; i < EVENTS; i++) {
    await client.request({
      method: "POST",
      path: "/api/events",
      body: {
        data: {
          type: "event",
          attributes: {
            properties: { i },
            metric: { data: { type: "metric", attributes: { name: "Bench" } } },
            profile: { data: { type: "profile", attributes: { email: `${tag}-${i}@bench.example` } } },
          },
        },
      },
    });
  }
  return (performance.now() - t) / EVENTS;
}

await createEvents(small, "warm");
const smallMs = await createEvents(small, "small");
const bigMs = await createEvents(big, "big");
console.log(
  `Create Event for a new profile: ${(smallMs * 1000).toFixed(0)} us with 100 profiles, ${(bigMs * 1000).toFixed(0)} us with ${N}: ${(bigMs / smallMs).toFixed(2)}x`,
);
