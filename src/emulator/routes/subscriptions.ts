/**
 * Bulk Subscribe (≤ 1,000 profiles) and Bulk Unsubscribe (≤ 100) Profiles: 202 with no body, as Klaviyo's
 * asynchronous jobs answer; the emulator runs the job before answering, so a later read sees its effect.
 */

import { readJson, validate } from "../body.js";
import { empty } from "../documents.js";
import type { EmulatorContext, RouteRuntime, RouteTable } from "../env.js";
import { checkType, memberAt } from "../request-documents.js";
import { subscribeBody, unsubscribeBody } from "../resources/subscriptions-body.js";
import { runSubscribeJob, runUnsubscribeJob } from "../resources/subscriptions-jobs.js";
import type { EmulatorState } from "../state.js";

/** The raw body with JSON:API type conflicts (job, profiles, list) refused as 409 before the schema runs. */
async function readJob(c: EmulatorContext, jobType: string): Promise<unknown> {
  const raw = await readJson(c);
  checkType(memberAt(raw, "data"), "/data", jobType);
  const profiles = memberAt(raw, "data", "attributes", "profiles", "data");
  if (Array.isArray(profiles)) {
    for (const [i, item] of profiles.entries())
      checkType(item, `/data/attributes/profiles/data/${i}`, "profile");
  }
  checkType(memberAt(raw, "data", "relationships", "list", "data"), "/data/relationships/list/data", "list");
  return raw;
}

/** The subscription handlers, over `state`. */
export function subscriptionRoutes(state: EmulatorState, runtime: RouteRuntime): RouteTable {
  return {
    async bulk_subscribe_profiles(c) {
      const body = validate(subscribeBody, await readJob(c, "profile-subscription-bulk-create-job"));
      runSubscribeJob(state, body, runtime.now());
      return empty(202);
    },

    async bulk_unsubscribe_profiles(c) {
      const body = validate(unsubscribeBody, await readJob(c, "profile-subscription-bulk-delete-job"));
      runUnsubscribeJob(state, body, runtime.now());
      return empty(202);
    },
  };
}
