import type { Operation } from "./operations.js";
import type { RateTier } from "./rate-window.js";

/**
 * Klaviyo's lower limits for some query parameters, which only the descriptions of its operations state (in the
 * OpenAPI document, not in `x-klaviyo-ratelimit`): `profile_count` on lists and segments and `include=lists|segments` on a profile cost 1/s, 15/m;
 * `predictive_analytics` on profiles 10/s, 150/m. Such requests are counted in a tier of their own.
 */
const SPECIAL: ReadonlyArray<{
  operations: readonly string[];
  parameter: string;
  values: readonly string[];
  burst: number;
  steady: number;
}> = [
  {
    operations: ["get_list", "get_lists"],
    parameter: "additional-fields[list]",
    values: ["profile_count"],
    burst: 1,
    steady: 15,
  },
  {
    operations: ["get_segment", "get_segments"],
    parameter: "additional-fields[segment]",
    values: ["profile_count"],
    burst: 1,
    steady: 15,
  },
  { operations: ["get_profile"], parameter: "include", values: ["lists", "segments"], burst: 1, steady: 15 },
  {
    operations: ["get_profile", "get_profiles", "get_profiles_for_list", "get_profiles_for_segment"],
    parameter: "additional-fields[profile]",
    values: ["predictive_analytics"],
    burst: 10,
    steady: 150,
  },
];

const cache = new Map<string, RateTier>();

/** The tier a request is counted in: its operation's, or a lower one its query parameters call for. */
export function effectiveTier(operation: Operation, query: URLSearchParams): RateTier {
  for (const rule of SPECIAL) {
    if (!rule.operations.includes(operation.id)) continue;
    const asked = query.getAll(rule.parameter).flatMap((v) => v.split(","));
    const hit = rule.values.find((v) => asked.includes(v));
    if (!hit) continue;
    const name = `${operation.id}+${hit}`;
    let tier = cache.get(name);
    if (!tier) {
      tier = { name, burst: rule.burst, steady: rule.steady, daily: operation.tier.daily };
      cache.set(name, tier);
    }
    return tier;
  }
  return operation.tier;
}
