/**
 * The emulator's delays as values: the CLI's `N | MIN-MAX`, the library's and the admin route's
 * `number | [min, max]`, and one delay drawn per request. Pure: the delays applied to requests are in
 * network.test.ts.
 */
import { describe, expect, it } from "vitest";
import { checkLatency, drawLatency, MAX_LATENCY_MS, parseLatency } from "../../src/emulator/latency.js";

describe("parseLatency (the CLI's --latency and --request-latency)", () => {
  it.each([
    ["0", 0],
    ["200", 200],
    ["20-80", [20, 80]],
    [" 20 - 80 ", [20, 80]],
    ["50-50", [50, 50]],
    [String(MAX_LATENCY_MS), MAX_LATENCY_MS],
  ] as const)("%j", (text, expected) => {
    expect(parseLatency(text, "--request-latency")).toEqual(expected);
  });

  it.each([
    ["-5", /^--request-latency must be a whole number of milliseconds/],
    ["1.5", /^--request-latency must be a whole number/],
    ["abc", /^--request-latency must be a whole number/],
    ["", /^--request-latency must be a whole number/],
    ["20-", /^--request-latency must be a whole number/],
    ["20-80-100", /^--request-latency must be a whole number/],
    [String(MAX_LATENCY_MS + 1), /from 0 to 600000/],
    [`0-${MAX_LATENCY_MS + 1}`, /from 0 to 600000/],
    ["80-20", /^--request-latency: the range 80-20 runs backwards/],
  ])("refuses %j, naming the flag", (text, message) => {
    expect(() => parseLatency(text, "--request-latency")).toThrow(message);
  });
});

describe("checkLatency (the library's options and the admin route)", () => {
  it("accepts milliseconds and [min, max] ranges within the bounds", () => {
    expect(checkLatency(0)).toBe(0);
    expect(checkLatency(12.5)).toBe(12.5);
    expect(checkLatency([20, 80])).toEqual([20, 80]);
    expect(checkLatency([0, MAX_LATENCY_MS])).toEqual([0, MAX_LATENCY_MS]);
  });

  it.each([
    [-1, /must be milliseconds from 0 to 600000/],
    [Number.NaN, /must be milliseconds/],
    [Number.POSITIVE_INFINITY, /must be milliseconds/],
    [MAX_LATENCY_MS + 1, /must be milliseconds/],
    ["50", /must be milliseconds/],
    [null, /must be milliseconds/],
    [[20], /must be milliseconds/],
    [[20, 80, 100], /must be milliseconds/],
    [[-1, 80], /must be milliseconds/],
    [[20, Number.POSITIVE_INFINITY], /must be milliseconds/],
    [[80, 20], /min <= max, not \[80, 20\]/],
  ])("refuses %j, naming the value", (value, message) => {
    expect(() => checkLatency(value, "requestLatencyMs")).toThrow(message);
    expect(() => checkLatency(value, "requestLatencyMs")).toThrow(/^requestLatencyMs /);
  });
});

describe("drawLatency", () => {
  it("a fixed delay draws nothing; a range draws uniformly with the random given", () => {
    let draws = 0;
    const random = (value: number) => () => {
      draws++;
      return value;
    };
    expect(drawLatency(70, random(0.5))).toBe(70);
    expect(drawLatency([40, 40], random(0.5))).toBe(40);
    expect(draws).toBe(0);
    expect(drawLatency([20, 80], random(0))).toBe(20);
    expect(drawLatency([20, 80], random(0.5))).toBe(50);
    expect(drawLatency([20, 80], random(0.999))).toBeCloseTo(79.94);
    expect(draws).toBe(3);
  });
});
