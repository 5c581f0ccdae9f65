/**
 * Events as Get Event / Get Events render them: `timestamp`, `event_properties`, `datetime`, `uuid`, with
 * `metric` and `profile` relationships (linkage and links) and, on `include=`, the metric and profile rendered
 * as Get Metric and Get Profile render them.
 */
import { type Included, type JsonApiResource, relationshipLinks, resource } from "../documents.js";
import type { QueryContext } from "../query.js";
import type { EmulatorState, EventRow } from "../state.js";
import { metricResource } from "./metrics-model.js";
import { PROFILE_RELATIONSHIPS, profileResource } from "./profiles-render.js";

/** A value of an event for `get_events` filters and sorts. */
export function eventField(row: EventRow, name: string): unknown {
  switch (name) {
    case "metric_id":
    case "metric":
      return row.metricId;
    case "profile_id":
    case "profile":
      return row.profileId;
    default:
      return row.attributes[name];
  }
}

/** The event resource, adding its metric and profile to `included` when the request asks for them. */
export function eventResource(
  state: EmulatorState,
  query: QueryContext,
  row: EventRow,
  included: Included,
): JsonApiResource {
  const relationships = {
    metric: {
      data: { type: "metric", id: row.metricId },
      links: relationshipLinks(query, "events", row.id, "metric"),
    },
    profile: {
      data: { type: "profile", id: row.profileId },
      links: relationshipLinks(query, "events", row.id, "profile"),
    },
    // The emulator sends no messages, so nothing is ever attributed to one.
    attributions: {
      ...(query.include.has("attributions") ? { data: [] } : {}),
      links: relationshipLinks(query, "events", row.id, "attributions"),
    },
  };
  if (query.include.has("metric")) {
    const metric = state.metrics.get(row.metricId);
    if (metric) included.add(metricResource(query, metric));
  }
  if (query.include.has("profile")) {
    const profile = state.profiles.get(row.profileId);
    if (profile)
      included.add(profileResource(state, query, profile, { relationships: PROFILE_RELATIONSHIPS }));
  }
  return resource(query, "event", "events", row.id, row.attributes, relationships);
}
