/**
 * One consumer of the change feed, for bench/feed.bench.ts's memory part: run with plain `node` on the build
 * (`dist/`), so its peak RSS is the library's and the feed's, not a TypeScript loader's. It reads a stream with
 * `changeFeed` and, as a consumer does, saves every page's checkpoint (`JSON.stringify`, written to a file) before
 * reading the next; then prints one line of JSON: changes, pages, seconds, peak RSS, the final checkpoint's size.
 *
 * Environment: FEED_BASE_URL, FEED_API_KEY, FEED_STREAM (default events), FEED_SINCE (ISO), FEED_LOOKBACK
 * (seconds; unset: the feed's default), FEED_CHECKPOINT (the file to save to), FEED_IMPORT_ONLY=1 (import the
 * library and stop: the baseline RSS).
 */
import { writeFileSync } from "node:fs";

const library = await import("../dist/index.js");
if (process.env.FEED_IMPORT_ONLY === "1") {
  console.log(JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS }));
  process.exit(0);
}
const { KlaviyoClient, changeFeed } = library;
const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const client = new KlaviyoClient({ apiKey: env("FEED_API_KEY"), baseUrl: env("FEED_BASE_URL") });
const file = env("FEED_CHECKPOINT");
const options = { stream: process.env.FEED_STREAM ?? "events", since: env("FEED_SINCE") };
if (process.env.FEED_LOOKBACK !== undefined) options.lookbackSeconds = Number(process.env.FEED_LOOKBACK);

let changes = 0;
let pages = 0;
let late = 0;
let last = "";
let text = "";
let ordered = true;
const started = performance.now();
for await (const page of changeFeed(client, options)) {
  pages++;
  for (const change of page.changes) {
    changes++;
    if (change.late) late++;
    if (change.at < last) ordered = false;
    last = change.at;
  }
  text = JSON.stringify(page.checkpoint);
  writeFileSync(file, text);
}
const seconds = (performance.now() - started) / 1000;
const checkpoint = JSON.parse(text);
let digests = 0;
for (const hour of Object.values(checkpoint.delivered ?? {}))
  digests += hour === "" ? 0 : hour.split(" ").length;
console.log(
  JSON.stringify({
    changes,
    pages,
    late,
    ordered,
    last,
    seconds,
    maxRssKb: process.resourceUsage().maxRSS,
    heapUsedKb: Math.round(process.memoryUsage().heapUsed / 1024),
    checkpointBytes: Buffer.byteLength(text),
    digests,
    hours: Object.keys(checkpoint.delivered ?? {}).length,
  }),
);
