/**
 * Remembering which events were handed over, by `external_id`: Klaviyo may deliver an event more than once (a
 * retry after a timeout, a repeated batch), and the event's ID is the idempotency key.
 */

/**
 * Where a handler records the events it has seen. `claim` is a test-and-set: true the first time an ID is
 * claimed, false ever after (make it atomic when several processes share the store: Redis `SET NX`, a unique
 * key in a database). `release`, when the store has it, forgets a claim whose event was not handled (the handler
 * threw), so that Klaviyo's retry of the delivery hands it over again; a store without it drops such events on
 * the retry (at most once instead of at least once).
 */
export interface DedupeStore {
  claim(externalId: string): boolean | Promise<boolean>;
  release?(externalId: string): void | Promise<void>;
}

/** How many event IDs a memory store remembers by default. */
export const DEFAULT_DEDUPE_MAX = 100_000;

/** A dedupe store in memory, which can tell what it remembers (to save it somewhere and start from it again). */
export interface MemoryDedupeStore extends DedupeStore {
  /** The IDs remembered, oldest first. */
  ids(): string[];
}

/**
 * A dedupe store in this process's memory, remembering at most `max` IDs (default 100,000): past that, the
 * oldest claimed is forgotten first. Enough for one process; several share a store of their own (see
 * `DedupeStore`). `remembered` starts it with IDs saved from an earlier one (`ids()`), the newest `max` kept.
 */
export function memoryDedupeStore(
  options: { max?: number; remembered?: Iterable<string> } = {},
): MemoryDedupeStore {
  const max = options.max ?? DEFAULT_DEDUPE_MAX;
  if (!Number.isInteger(max) || max < 1)
    throw new RangeError("memoryDedupeStore: max must be a whole number ≥ 1");
  // A Set iterates in insertion order: its first entry is the oldest claim.
  const seen = new Set<string>([...(options.remembered ?? [])].slice(-max));
  return {
    claim(externalId) {
      if (seen.has(externalId)) return false;
      seen.add(externalId);
      if (seen.size > max) seen.delete(seen.values().next().value as string);
      return true;
    },
    release(externalId) {
      seen.delete(externalId);
    },
    ids: () => [...seen],
  };
}
