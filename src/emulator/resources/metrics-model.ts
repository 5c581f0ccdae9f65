/**
 * Metrics as Klaviyo keeps them: one per name, created the first time an event names it. Metrics created
 * through the API report Klaviyo's "API" integration, exactly as real accounts show it (`id` 7FtS4J); those
 * Klaviyo records itself (a message received, a consent given) its own "Klaviyo" integration.
 */
import { TOPIC_INTEGRATIONS } from "../../klaviyo/webhooks.js";
import { type Included, type JsonApiResource, relationshipLinks, resource } from "../documents.js";
import type { QueryContext } from "../query.js";
import type { EmulatorState } from "../state.js";
import { isoNow, type ResourceRow, shortId } from "../store.js";

/** The integration object of every metric created through `/api/events` or the bulk job. */
export const API_INTEGRATION = Object.freeze({
  object: "integration",
  id: "7FtS4J",
  key: TOPIC_INTEGRATIONS.api,
  name: "API",
  category: "API",
});

/**
 * The metrics Klaviyo records itself (messages it sends, consent it records) belong to Klaviyo's own integration,
 * not the API one. The object below is the emulator's reading of how real accounts show them (the id `0rG4eQ` is
 * the one Klaviyo's document uses as its example metric id).
 */
export const KLAVIYO_INTEGRATION = Object.freeze({
  object: "integration",
  id: "0rG4eQ",
  key: TOPIC_INTEGRATIONS.klaviyo,
  name: "Klaviyo",
  category: "Internal",
});

/** Klaviyo's metric and event timestamps: to the second, with an explicit offset (`2026-07-20T12:00:00+00:00`). */
export function isoSeconds(ms: number): string {
  return isoNow(ms);
}

/** The metric with exactly this name, if one exists. */
export function findMetricByName(state: EmulatorState, name: string): ResourceRow | undefined {
  for (const row of state.metrics.values()) if (row.attributes.name === name) return row;
  return undefined;
}

/** The metric named `name`, created (with `integration`, by default the API one) when there is none yet. */
export function ensureMetric(
  state: EmulatorState,
  name: string,
  now: number,
  integration: Readonly<Record<string, unknown>> = API_INTEGRATION,
): ResourceRow {
  const found = findMetricByName(state, name);
  if (found) return found;
  let id = shortId();
  while (state.metrics.get(id)) id = shortId();
  const stamp = isoSeconds(now);
  return state.metrics.insert({
    id,
    seq: state.metrics.seq(),
    attributes: { name, created: stamp, updated: stamp, integration: { ...integration } },
  });
}

/** The metric named `name`, created under Klaviyo's own integration when there is none yet. */
export function ensureKlaviyoMetric(state: EmulatorState, name: string, now: number): ResourceRow {
  return ensureMetric(state, name, now, KLAVIYO_INTEGRATION);
}

/** The integration key of a metric (`klaviyo`, `api`, …): what its topic is named by. */
export function metricIntegrationKey(row: ResourceRow): string {
  const integration = row.attributes.integration as Record<string, unknown> | null | undefined;
  return typeof integration?.key === "string" ? integration.key : API_INTEGRATION.key;
}

/** A metric's value for `get_metrics` filters (`integration.name`, `integration.category`). */
export function metricField(row: ResourceRow, name: string): unknown {
  const integration = row.attributes.integration as Record<string, unknown> | null | undefined;
  if (name === "integration.name") return integration?.name;
  if (name === "integration.category") return integration?.category;
  return row.attributes[name];
}

/**
 * The metric as Get Metric renders it. The emulator has no flows, so `flow-triggers` is only links (and an
 * empty linkage when `include=flow-triggers` asks for it).
 */
export function metricResource(query: QueryContext, row: ResourceRow, _included?: Included): JsonApiResource {
  const flowTriggers = {
    ...(query.include.has("flow-triggers") ? { data: [] } : {}),
    links: relationshipLinks(query, "metrics", row.id, "flow-triggers"),
  };
  return resource(query, "metric", "metrics", row.id, row.attributes, { "flow-triggers": flowTriggers });
}
