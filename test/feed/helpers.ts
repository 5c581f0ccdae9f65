import { runActionByKey } from "../../src/actions/index.js";
import { KlaviyoClient } from "../../src/core/client.js";
import { FakeClock } from "../../src/core/clock.js";
import { createEmulator, type EmulatorOptions } from "../../src/emulator/index.js";
import {
  type Change,
  type ChangeFeedOptions,
  changeFeed,
  type FeedCheckpoint,
} from "../../src/feed/index.js";
import { checkedFetch } from "../helpers/contract.js";

export const FEED_KEY = "pk_feed_test_key_0123456789abcdef";
/** A whole second, so tests know which second each write lands in. */
export const T0 = Date.parse("2026-06-01T10:00:00Z");

/**
 * An emulator on a fake clock, and a client; the feed's clock is the same one, `skewMs` ahead (a client's clock
 * running ahead of Klaviyo's is what makes a walk read a second still being written).
 */
export function feedSetup(options: EmulatorOptions & { skewMs?: number } = {}) {
  const clock = new FakeClock(T0 + 100);
  const { skewMs = 0, ...emulatorOptions } = options;
  const emulator = createEmulator({
    apiKeys: [{ key: FEED_KEY }],
    rateLimits: "off",
    clock,
    ...emulatorOptions,
  });
  const requests: URL[] = [];
  const checked = checkedFetch(emulator.fetch);
  const client = new KlaviyoClient({
    apiKey: FEED_KEY,
    baseUrl: emulator.baseUrl,
    rateLimiter: false,
    fetch: (input, init) => {
      requests.push(new URL(input instanceof Request ? input.url : String(input)));
      return checked(input, init);
    },
  });
  const now = () => clock.now() + skewMs;
  return {
    emulator,
    client,
    clock,
    requests,
    now,
    action: <T = unknown>(key: string, inputs: Record<string, unknown>) =>
      runActionByKey(key, inputs, { client }) as Promise<T>,
    /** One run of the feed to its end (or after `stopAfterPages` pages with changes): its changes and the last checkpoint. */
    async run(
      feed: Omit<ChangeFeedOptions, "now">,
      stopAfterPages?: number,
    ): Promise<{ changes: Change[]; checkpoint: FeedCheckpoint | undefined; pages: number }> {
      const changes: Change[] = [];
      let checkpoint: FeedCheckpoint | undefined;
      let pages = 0;
      for await (const page of changeFeed(client, { horizonSeconds: 0, ...feed, now })) {
        changes.push(...page.changes);
        // As a consumer saves it: through JSON, so nothing lives on in shared objects.
        checkpoint = JSON.parse(JSON.stringify(page.checkpoint)) as FeedCheckpoint;
        // A crash after the first pages that delivered something (a walk's first page may only re-read the
        // watermark's second, delivering nothing).
        if (page.changes.length > 0) pages++;
        if (stopAfterPages !== undefined && pages >= stopAfterPages) break;
      }
      return { changes, checkpoint, pages };
    },
  };
}

export type FeedSetup = ReturnType<typeof feedSetup>;

/** `(kind, id)` of each change, to compare runs. */
export const summary = (changes: readonly Change[]) => changes.map((c) => `${c.change} ${c.record.id}`);
