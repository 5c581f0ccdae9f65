/** The page's logic for the triggers: their inputs as form fields, what each poll sends, how items are listed. */
import { describe, expect, it } from "vitest";
import type { TriggerChange } from "../../src/playground/contract.js";
import { triggerCatalogue } from "../../src/playground/triggers.js";
import {
  addTriggerItems,
  changeSummary,
  initialValues,
  type ManifestAction,
  pollSeconds,
  toInputs,
  triggerFormInput,
} from "../../ui/src/model.js";

const NOW = Date.parse("2026-06-01T10:00:00Z");

function formOf(key: string): ManifestAction {
  const trigger = triggerCatalogue(true).triggers.find((t) => t.key === key);
  if (!trigger) throw new Error(key);
  return { ...trigger, inputs: trigger.inputs.map((i) => triggerFormInput(i, undefined, NOW)) };
}

const change = (partial: Partial<TriggerChange> & Pick<TriggerChange, "record">): TriggerChange => ({
  stream: "profiles",
  change: "created",
  at: "2026-06-01T10:00:00Z",
  ...partial,
});

describe("a trigger's form", () => {
  it("shows a date as text with an example, and the two toggles as checkboxes on by default", () => {
    const form = formOf("new-and-updated-profiles");
    const [date, showNew] = form.inputs;
    expect(date).toMatchObject({
      key: "lookBackDate",
      type: "date",
      placeholder: "e.g. 2026-06-01T09:00:00Z",
    });
    expect(showNew).toMatchObject({ key: "showNewRecords", type: "boolean", default: true });
    expect(initialValues(form)).toEqual({ lookBackDate: "", showNewRecords: true, showUpdatedRecords: true });
  });

  it("sends what was filled in: the date as typed, a toggle only when turned off", () => {
    const form = formOf("new-and-updated-profiles");
    expect(toInputs(form, initialValues(form))).toEqual({});
    expect(
      toInputs(form, {
        lookBackDate: "2026-05-01T00:00:00Z",
        showNewRecords: false,
        showUpdatedRecords: true,
      }),
    ).toEqual({ lookBackDate: "2026-05-01T00:00:00Z", showNewRecords: false });
  });

  it("offers a picker's choices for an ID", () => {
    const list = triggerCatalogue(true).triggers.find((t) => t.key === "profile-added-to-list");
    const input = list?.inputs.find((i) => i.key === "listId");
    if (!input) throw new Error("no listId");
    const choices = [{ label: "Newsletter", value: "Y6nRLr" }];
    expect(triggerFormInput(input, choices)).toMatchObject({ type: "id", required: true, choices });
    expect(triggerFormInput(input, [])).not.toHaveProperty("choices");
  });

  it("polls every 5 seconds unless told otherwise, between 1 and 3600", () => {
    expect(pollSeconds("")).toBe(5);
    expect(pollSeconds("abc")).toBe(5);
    expect(pollSeconds("2")).toBe(2);
    expect(pollSeconds("0")).toBe(1);
    expect(pollSeconds("99999")).toBe(3600);
  });
});

describe("the items", () => {
  it("lists each poll's changes newest first, ahead of the earlier ones, and keeps the newest", () => {
    const a = change({ record: { type: "profile", id: "A" } });
    const b = change({ record: { type: "profile", id: "B" } });
    const c = change({ record: { type: "profile", id: "C" } });
    const first = addTriggerItems([], [a, b], 1);
    expect(first.map((i) => i.change.record.id)).toEqual(["B", "A"]);
    const second = addTriggerItems(first, [c], 2);
    expect(second.map((i) => [i.key, i.change.record.id])).toEqual([
      ["2.0", "C"],
      ["1.1", "B"],
      ["1.0", "A"],
    ]);
    expect(addTriggerItems(second, [a, b], 3, 4).map((i) => i.key)).toEqual(["3.1", "3.0", "2.0", "1.1"]);
  });

  it("sums each record up in a line", () => {
    expect(
      changeSummary(change({ record: { type: "profile", id: "P", attributes: { email: "a@x.io" } } })),
    ).toBe("a@x.io");
    expect(
      changeSummary(
        change({ record: { type: "profile", id: "P", attributes: { phone_number: "+15005550006" } } }),
      ),
    ).toBe("+15005550006");
    expect(
      changeSummary(
        change({
          stream: "events",
          change: "recorded",
          record: {
            type: "event",
            id: "E",
            attributes: { event_properties: { $value: 129, $value_currency: "USD" } },
          },
          related: [
            { type: "metric", id: "M", attributes: { name: "Placed Order" } },
            { type: "profile", id: "P", attributes: { email: "a@x.io" } },
          ],
        }),
      ),
    ).toBe("Placed Order · a@x.io · value 129 USD");
    expect(
      changeSummary(
        change({
          stream: "flows",
          record: { type: "flow", id: "F", attributes: { name: "Welcome", status: "live" } },
        }),
      ),
    ).toBe("Welcome (live)");
    expect(changeSummary(change({ record: { type: "list", id: "L", attributes: { name: "VIP" } } }))).toBe(
      "VIP",
    );
  });
});
