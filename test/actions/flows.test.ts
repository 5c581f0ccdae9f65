import { describe, expect, it } from "vitest";
import { NotFoundError } from "../../src/core/errors.js";
import { actionsSetup, bodyOf, refused } from "./helpers.js";

type Json = Record<string, unknown>;
interface Doc {
  data: { type: string; id: string; attributes: Json; relationships?: Record<string, { data?: unknown[] }> };
  included?: Array<{ type: string; id: string; attributes: Json }>;
}
interface ListResult {
  data: Array<{ id: string; attributes: Json }>;
  included?: Array<{ type: string }>;
  nextCursor?: string;
  pages: number;
}

const names = (r: ListResult) => r.data.map((f) => f.attributes.name);

describe("List Flows", () => {
  it("lists the account's flows, the archived ones only when the filter asks for them", async () => {
    const { runText, sent } = actionsSetup({ seed: "demo" });
    const all = await runText<ListResult>("list-flows");
    expect(names(all)).toEqual(["Welcome Series", "Abandoned Cart", "Browse Abandonment"]);
    expect(all.pages).toBe(1);
    expect(all.nextCursor).toBeUndefined();
    const url = new URL((sent.at(-1) as Request).url);
    expect(url.pathname).toBe("/api/flows");
    const archived = await runText<ListResult>("list-flows", { filter: "equals(archived,true)" });
    expect(names(archived)).toEqual(["Winback 2024"]);
    const sorted = await runText<ListResult>("list-flows", {
      filter: "equals(trigger_type,'Metric')",
      sort: "-created",
      fields: "name,status",
    });
    expect(sorted.data.map((f) => f.attributes)).toEqual([
      { name: "Browse Abandonment", status: "draft" },
      { name: "Abandoned Cart", status: "manual" },
    ]);
  });

  it("pages with a cursor, gathers with Limit, and includes actions", async () => {
    const { runText } = actionsSetup({ seed: "demo" });
    const first = await runText<ListResult>("list-flows", { pageSize: "2" });
    expect(names(first)).toEqual(["Welcome Series", "Abandoned Cart"]);
    expect(first.nextCursor).toBeDefined();
    const rest = await runText<ListResult>("list-flows", { pageSize: "2", cursor: first.nextCursor });
    expect(names(rest)).toEqual(["Browse Abandonment"]);
    const gathered = await runText<ListResult>("list-flows", { pageSize: "1", limit: "3" });
    expect(gathered.pages).toBe(3);
    expect(names(gathered)).toEqual(["Welcome Series", "Abandoned Cart", "Browse Abandonment"]);
    const withActions = await runText<ListResult>("list-flows", {
      filter: "equals(name,'Abandoned Cart')",
      include: "flow-actions",
    });
    expect(withActions.included?.map((i) => i.type)).toEqual(["flow-action", "flow-action"]);
  });

  it("refuses a filter Klaviyo would refuse, an unknown sort and a page size over 50, before sending", async () => {
    const { runText, sent } = actionsSetup({ seed: "demo" });
    const error = await refused(
      runText("list-flows", {
        filter: "any(status,['live'])",
        sort: "priority",
        pageSize: "51",
        fields: "definition",
      }),
    );
    expect(error.message).toContain("Filter: is not a valid Klaviyo filter");
    expect(error.message).toContain("Sort: must be one of");
    expect(error.message).toContain("Page Size: must be at most 50");
    expect(error.message).toContain('Fields: unknown field "definition"');
    expect(sent).toHaveLength(0);
  });
});

describe("Get Flow", () => {
  it("returns the flow, with its definition and actions when asked", async () => {
    const { run, emulator, sent } = actionsSetup({ seed: "demo" });
    const id = [...emulator.state.flows.values()][0]?.id as string;
    const plain = await run<Doc>("get-flow", { flowId: id });
    expect(plain.data.attributes).toMatchObject({ name: "Welcome Series", status: "live", archived: false });
    expect(plain.data.attributes).not.toHaveProperty("definition");
    const full = await run<Doc>("get-flow", {
      flowId: id,
      includeDefinition: true,
      include: ["flow-actions", "tags"],
    });
    const url = new URL((sent.at(-1) as Request).url);
    expect(url.searchParams.get("additional-fields[flow]")).toBe("definition");
    expect(url.searchParams.get("include")).toBe("flow-actions,tags");
    expect((full.data.attributes.definition as { actions: unknown[] }).actions).toHaveLength(3);
    expect(full.included).toHaveLength(3);
    expect(full.data.relationships?.tags?.data).toEqual([]);
  });

  it("refuses a bad ID and an unknown include before sending; an unknown flow is a NotFoundError", async () => {
    const { run, sent } = actionsSetup({ seed: "demo" });
    const error = await refused(run("get-flow", { flowId: "a b", include: "flow-messages" }));
    expect(error.message).toContain("Flow ID:");
    expect(error.message).toContain('Include: cannot include "flow-messages"');
    expect(sent).toHaveLength(0);
    await expect(run("get-flow", { flowId: "NoSuch" })).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("Update Flow Status", () => {
  it("sends only the status and returns the flow as updated", async () => {
    const { runText, emulator, sent } = actionsSetup({ seed: "demo" });
    const flow = [...emulator.state.flows.values()].find((f) => f.attributes.status === "draft");
    const id = flow?.id as string;
    const manual = await runText<Doc>("update-flow-status", { flowId: id, status: "manual" });
    expect(manual.data.attributes.status).toBe("manual");
    expect(await bodyOf(sent.at(-1))).toEqual({
      data: { type: "flow", id, attributes: { status: "manual" } },
    });
    expect((sent.at(-1) as Request).method).toBe("PATCH");
    await runText("update-flow-status", { flowId: id, status: "draft" });
    expect(emulator.state.flows.get(id)?.attributes.status).toBe("draft");
  });

  it("refuses a status other than draft, manual or live, and a missing one, before sending", async () => {
    const { run, sent } = actionsSetup({ seed: "demo" });
    const paused = await refused(run("update-flow-status", { flowId: "XVTP5Q", status: "paused" }));
    expect(paused.message).toContain("Status: must be one of draft, manual, live");
    const missing = await refused(run("update-flow-status", { flowId: "XVTP5Q" }));
    expect(missing.message).toContain("Status: is required");
    expect(sent).toHaveLength(0);
    await expect(run("update-flow-status", { flowId: "NoSuch", status: "live" })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});
