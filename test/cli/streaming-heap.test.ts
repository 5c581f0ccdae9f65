import { describe, expect, it } from "vitest";
import { tuneHeapForStreaming } from "../../src/cli/streaming-heap.js";

describe("tuneHeapForStreaming", () => {
  it("leaves V8's flags alone when KLAVIYO_HEAP_TUNING=off, and applies them (once) otherwise", () => {
    expect(tuneHeapForStreaming({ KLAVIYO_HEAP_TUNING: "off" })).toBe(false);
    expect(tuneHeapForStreaming({})).toBe(true);
    // Once applied, the process keeps them: a later call says so whatever it is given.
    expect(tuneHeapForStreaming({ KLAVIYO_HEAP_TUNING: "off" })).toBe(true);
  });
});
