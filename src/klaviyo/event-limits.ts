/**
 * Klaviyo's ingestion limits for events, in one place for the client's checks before sending and the
 * emulator's refusals. Sources: the OpenAPI descriptions of `create_event` and `bulk_create_events`
 * (`properties`: "must not exceed 400 properties", "each string cannot be larger than 100 KB"; `time`: "after
 * the year 1990 and can only be up to 1 year in the future"; bulk jobs of 1,000 events and 5 MB) and the docs'
 * ingestion-limit table (4,000 items per array, 10 levels of nested objects; it says 300 properties, older).
 */
export const EVENT_LIMITS = Object.freeze({
  /** Characters of a metric name (Klaviyo: under 128). */
  metricName: 127,
  /** Top-level keys of `properties`. */
  properties: 400,
  /** UTF-8 bytes of any one string; "100 KB" read as the smaller 100,000, so nothing passes one side that fails the other. */
  stringBytes: 100_000,
  /** Items in any one array of the event. */
  arrayItems: 4000,
  /** Levels of nested objects and arrays in `properties`, `properties` itself being the first. */
  depth: 10,
  /** The earliest `time` accepted: the first instant after the year 1990. */
  earliest: Date.UTC(1991, 0, 1),
  /** How far ahead `time` may be. */
  aheadMs: 365 * 24 * 3600 * 1000,
  /** Events in one bulk request. */
  bulkEvents: 1000,
  /** Bytes of one bulk request; 5 MB read as the smaller 5,000,000, less room for the envelope. */
  bulkBytes: 5_000_000 - 1_000,
});

/** Whether `text` is over the string limit; bytes are counted only when it could be (most strings are far below). */
export function overStringLimit(text: string): boolean {
  return (
    text.length * 3 > EVENT_LIMITS.stringBytes && Buffer.byteLength(text, "utf8") > EVENT_LIMITS.stringBytes
  );
}
