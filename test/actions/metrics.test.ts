/**
 * List Metrics, Get Metric and Query Metric Aggregates through the actions, against the emulator (requests and
 * answers held to Klaviyo's OpenAPI document): what is sent (the datetime range built from Start and End, the
 * extra conditions after it), paging of metrics, and bad input refused by label before anything is sent.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ListOutput } from "../../src/actions/list.js";
import { NotFoundError } from "../../src/core/errors.js";
import { actionsSetup, bodyOf, refused } from "./helpers.js";

interface Resource {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
}

async function withEvents(t: ReturnType<typeof actionsSetup>) {
  for (const [name, time, value] of [
    ["Placed Order", "2026-03-02T10:00:00Z", 20],
    ["Placed Order", "2026-03-02T23:30:00Z", 5],
    ["Placed Order", "2026-03-03T01:00:00Z", 7],
    ["Viewed Product", "2026-03-02T10:00:00Z", 0],
  ] as const) {
    await t.run("create-event", {
      name,
      profile: { email: "ada@example.com" },
      properties: {},
      time,
      value,
      valueCurrency: "USD",
      uniqueId: `${name}-${time}`,
    });
  }
  const metrics = await t.run<ListOutput<Resource>>("list-metrics", {});
  return metrics.data.find((m) => m.attributes.name === "Placed Order")?.id ?? "";
}

describe("List Metrics and Get Metric", () => {
  it("lists the metrics (with a filter and a sparse fieldset) and gets one", async () => {
    const t = actionsSetup();
    const id = await withEvents(t);
    const all = await t.run<ListOutput<Resource>>("list-metrics", { fields: "name" });
    expect(all.data.map((m) => m.attributes)).toEqual([{ name: "Placed Order" }, { name: "Viewed Product" }]);
    const api = await t.run<ListOutput<Resource>>("list-metrics", {
      filter: "equals(integration.name,'API')",
    });
    expect(api.data).toHaveLength(2);
    const none = await t.run<ListOutput<Resource>>("list-metrics", {
      filter: "equals(integration.category,'eCommerce')",
    });
    expect(none.data).toEqual([]);
    const one = await t.run<{ data: Resource }>("get-metric", { metricId: id });
    expect(one.data).toMatchObject({ type: "metric", id, attributes: { name: "Placed Order" } });
    await expect(t.run("get-metric", { metricId: "NoSuch" })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("refuses a filter Klaviyo does not allow on metrics, before sending", async () => {
    const t = actionsSetup();
    const bad = await refused(t.run("list-metrics", { filter: "equals(name,'Placed Order')" }));
    expect(bad.message).toMatch(/Filter: is not a valid Klaviyo filter/);
    expect(t.sent).toHaveLength(0);
  });
});

describe("Query Metric Aggregates", () => {
  it("builds the required datetime range from Start and End and returns Klaviyo's answer as it is", async () => {
    const t = actionsSetup();
    const metricId = await withEvents(t);
    t.sent.length = 0;
    const doc = await t.runText<{
      data: { type: string; attributes: { dates: string[]; data: unknown[] } };
    }>("query-metric-aggregates", {
      metricId,
      start: "2026-03-02",
      end: "2026-03-04T00:00:00Z",
      measurements: "count, sum_value,unique",
      interval: "day",
      timezone: "America/New_York",
      filter: "equals($value_currency,'USD')",
    });
    const sent = await bodyOf(t.sent[0]);
    expect(sent).toEqual({
      data: {
        type: "metric-aggregate",
        attributes: {
          metric_id: metricId,
          measurements: ["count", "sum_value", "unique"],
          interval: "day",
          timezone: "America/New_York",
          filter: [
            "greater-or-equal(datetime,2026-03-02T00:00:00Z)",
            "less-than(datetime,2026-03-04T00:00:00Z)",
            "equals($value_currency,'USD')",
          ],
        },
      },
    });
    expect(doc.data.type).toBe("metric-aggregate");
    // New York days: 1 March from 05:00 UTC (holds the range's start), 2 March, 3 March.
    expect(doc.data.attributes.dates).toEqual([
      "2026-03-01T05:00:00+00:00",
      "2026-03-02T05:00:00+00:00",
      "2026-03-03T05:00:00+00:00",
    ]);
    // 23:30 UTC on the 2nd and 01:00 UTC on the 3rd are both the 2nd in New York.
    expect(doc.data.attributes.data).toEqual([
      { dimensions: [], measurements: { count: [0, 3, 0], sum_value: [0, 32, 0], unique: [0, 1, 0] } },
    ]);
  });

  it("groups by a dimension and sorts", async () => {
    const t = actionsSetup();
    const metricId = await withEvents(t);
    const doc = await t.run<{ data: { attributes: { data: unknown[] } } }>("query-metric-aggregates", {
      metricId,
      start: "2026-03-01T00:00:00Z",
      end: "2026-04-01T00:00:00Z",
      interval: "month",
      by: ["$value_currency"],
      sort: "-count",
      pageSize: 10,
    });
    expect(doc.data.attributes.data).toEqual([{ dimensions: ["USD"], measurements: { count: [3] } }]);
  });

  it("refuses bad input by label before sending anything", async () => {
    const t = actionsSetup();
    const bad = await refused(
      t.run("query-metric-aggregates", {
        metricId: "RfcWBF",
        start: "yesterday",
        end: "2026-03-01T00:00:00Z",
        measurements: ["count", "average"],
        interval: "year",
        timezone: "america/new_york",
        by: "Campaign Name,Weather",
        filter: ["greater-than(datetime,2026-01-01)", "not a condition"],
      }),
    );
    for (const message of [
      /Start: must be an ISO 8601 date-time/,
      /Measurements: average: not measurements/,
      /Interval: must be one of hour, day, week, month/,
      /Timezone: must be an IANA time zone name/,
      /By: Weather: not dimensions/,
      /Filter: 'greater-than\(datetime,2026-01-01\)': give the time range with Start and End/,
      /'not a condition' is not a condition/,
    ])
      expect(bad.message).toMatch(message);
    const order = await refused(
      t.run("query-metric-aggregates", { metricId: "RfcWBF", start: "2026-03-02", end: "2026-03-01" }),
    );
    expect(order.message).toMatch(/End: must be after Start/);
    const sort = await refused(
      t.run("query-metric-aggregates", {
        metricId: "RfcWBF",
        start: "2026-03-01",
        end: "2026-03-02",
        sort: "-Subject",
      }),
    );
    expect(sort.message).toMatch(/Sort: sorts by Subject, which must then be named in By/);
    expect(t.sent).toHaveLength(0);
  });

  it("takes every IANA zone Intl knows in its own spelling, and refuses it in another case", () => {
    const t = actionsSetup();
    return fc.assert(
      fc.asyncProperty(fc.constantFrom(...Intl.supportedValuesOf("timeZone")), async (zone) => {
        const ok = await t
          .run("query-metric-aggregates", {
            metricId: "RfcWBF",
            start: "2026-03-01",
            end: "2026-03-02",
            timezone: zone,
          })
          .catch((e: unknown) => e);
        // The metric does not exist: the emulator's 404 shows that the zone passed our check and Klaviyo's.
        const refusedZone = ["Europe/Kyiv", "Pacific/Kanton", "Factory"].includes(zone);
        expect((ok as Error).constructor.name).toBe(refusedZone ? "InputValidationError" : "NotFoundError");
        if (zone.toLowerCase() !== zone) {
          await refused(
            t.run("query-metric-aggregates", {
              metricId: "RfcWBF",
              start: "2026-03-01",
              end: "2026-03-02",
              timezone: zone.toLowerCase(),
            }),
          );
        }
      }),
      { numRuns: 60 },
    );
  });
});
