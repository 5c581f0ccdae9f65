/**
 * What the embedded emulator holds, refreshed every 2 s while the tab is shown and the page visible, and the live
 * rate charts (every second).
 */
import { Fragment } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api } from "./api";
import {
  cellText,
  type EmulatorState,
  eventTime,
  groupByDay,
  prettyValue,
  type Rates,
  type RequestEntry,
  type Resource,
  relatedId,
  statusTone,
} from "./model";
import { RateChart } from "./RateChart";
import { hasTraffic, tierOrder } from "./rates";

/** Calls `load` now and every `ms` while the page is visible; the latest answer wins. */
function usePoll<T>(
  load: () => Promise<T>,
  ms: number,
): { data: T | undefined; error: string | undefined; refresh: () => void } {
  const [data, setData] = useState<T | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    let busy = false;
    const step = async () => {
      if (stopped) return;
      if (document.visibilityState === "visible" && !busy) {
        busy = true;
        try {
          const value = await loadRef.current();
          if (!stopped) {
            setData(value);
            setError(undefined);
          }
        } catch (e) {
          if (!stopped) setError(e instanceof Error ? e.message : String(e));
        } finally {
          busy = false;
        }
      }
      if (!stopped) timer = window.setTimeout(step, ms);
    };
    const onVisible = () => {
      if (document.visibilityState === "visible") {
        window.clearTimeout(timer);
        void step();
      }
    };
    void step();
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [ms, tick]);
  return { data, error, refresh: () => setTick((t) => t + 1) };
}

const SECTIONS = [
  "profiles",
  "lists",
  "segments",
  "campaigns",
  "templates",
  "images",
  "events",
  "requests",
] as const;
type Section = (typeof SECTIONS)[number];

export function Inspector() {
  const state = usePoll(api.state, 2000);
  const requests = usePoll(() => api.requests(200), 2000);
  const rates = usePoll(() => api.rates(60), 1000);
  const [section, setSection] = useState<Section>("profiles");
  const [resetting, setResetting] = useState(false);
  const [resetError, setResetError] = useState<string | undefined>();
  const s = state.data;
  const count = (name: Section): number | undefined =>
    name === "requests" ? requests.data?.requests.length : (s?.counts[name] ?? s?.[name]?.length);

  return (
    <main class="inspector" data-testid="inspector">
      <RatesPanel rates={rates.data} error={rates.error} />
      <div class="inspector-bar">
        <div class="subtabs" role="tablist" aria-label="Emulator data">
          {SECTIONS.map((name) => (
            <button
              key={name}
              type="button"
              role="tab"
              aria-selected={section === name}
              class={section === name ? "on" : ""}
              data-testid={`inspector-tab-${name}`}
              onClick={() => setSection(name)}
            >
              {name.charAt(0).toUpperCase() + name.slice(1)}
              {count(name) !== undefined && <span class="count">{count(name)}</span>}
            </button>
          ))}
        </div>
        <div class="inspector-tools">
          {(state.error || requests.error) && (
            <span class="bad-text" role="alert">
              {state.error ?? requests.error}
            </span>
          )}
          {resetError && <span class="bad-text">{resetError}</span>}
          <span class="muted small-text">refreshed every 2 s</span>
          <button
            type="button"
            class="small secondary"
            disabled={resetting}
            data-testid="emulator-reset"
            onClick={async () => {
              if (!window.confirm("Replace everything in the emulator with fresh demo data?")) return;
              setResetting(true);
              setResetError(undefined);
              try {
                await api.reset();
                state.refresh();
                requests.refresh();
              } catch (e) {
                setResetError(e instanceof Error ? e.message : String(e));
              } finally {
                setResetting(false);
              }
            }}
          >
            Reset demo data
          </button>
        </div>
      </div>
      <div class="inspector-body">
        {section === "requests" ? (
          <RequestLog requests={requests.data?.requests} />
        ) : !s ? (
          <p class="muted">{state.error ? "" : "Loading…"}</p>
        ) : (
          <StateSection section={section} state={s} />
        )}
      </div>
    </main>
  );
}

function RatesPanel({ rates, error }: { rates: Rates | undefined; error: string | undefined }) {
  const busy = (rates?.tiers ?? []).filter(hasTraffic).sort((a, b) => tierOrder(a.tier, b.tier));
  return (
    <section class="rates" aria-label="Requests per rate tier" data-testid="rates">
      <h2>
        Rate tiers <span class="muted small-text">requests per second, last 60 s</span>
        <span class="legend">
          <i class="key-ok" /> requests <i class="key-429" /> 429 <i class="key-fault" /> fault{" "}
          <i class="key-limit" /> burst limit
        </span>
      </h2>
      {error && <p class="bad-text">{error}</p>}
      {rates && busy.length === 0 && <p class="muted">No requests in the last minute.</p>}
      <div class="charts">
        {rates && busy.map((tier) => <RateChart key={tier.tier} tier={tier} now={rates.now} />)}
      </div>
    </section>
  );
}

function attr(r: Resource, name: string): unknown {
  return r.attributes[name];
}

function time(value: unknown): string {
  if (typeof value !== "string" && typeof value !== "number") return "";
  const t = typeof value === "number" ? value * 1000 : Date.parse(value);
  return Number.isFinite(t) ? new Date(t).toLocaleString() : String(value);
}

function StateSection({ section, state }: { section: Exclude<Section, "requests">; state: EmulatorState }) {
  const emails = useMemo(
    () =>
      new Map(
        state.profiles.map((p) => [p.id, cellText(attr(p, "email") ?? attr(p, "phone_number") ?? p.id)]),
      ),
    [state.profiles],
  );
  switch (section) {
    case "profiles":
      return (
        <ResourceTable
          testid="inspector-profiles"
          rows={state.profiles}
          columns={[
            ["Email", (p) => attr(p, "email")],
            ["Phone", (p) => attr(p, "phone_number")],
            ["Name", (p) => [attr(p, "first_name"), attr(p, "last_name")].filter(Boolean).join(" ")],
            ["External ID", (p) => attr(p, "external_id")],
            ["Created", (p) => time(attr(p, "created"))],
            ["ID", (p) => p.id],
          ]}
        />
      );
    case "lists":
      return <Lists state={state} emails={emails} />;
    case "segments":
      return (
        <ResourceTable
          testid="inspector-segments"
          rows={state.segments}
          columns={[
            ["Name", (r) => attr(r, "name")],
            ["Active", (r) => attr(r, "is_active")],
            ["Starred", (r) => attr(r, "is_starred")],
            ["Updated", (r) => time(attr(r, "updated"))],
            ["ID", (r) => r.id],
          ]}
        />
      );
    case "campaigns":
      return (
        <ResourceTable
          testid="inspector-campaigns"
          rows={state.campaigns}
          columns={[
            ["Name", (r) => attr(r, "name")],
            ["Status", (r) => attr(r, "status")],
            ["Channel", (r) => attr(r, "channel") ?? (r.attributes.send_channel as unknown)],
            ["Send time", (r) => time(attr(r, "send_time") ?? attr(r, "scheduled_at"))],
            ["Created", (r) => time(attr(r, "created_at") ?? attr(r, "created"))],
            ["ID", (r) => r.id],
          ]}
        />
      );
    case "templates":
      return <Templates templates={state.templates} />;
    case "images":
      return <Images images={state.images} />;
    case "events":
      return <Events state={state} emails={emails} />;
  }
}

type Column = [string, (r: Resource) => unknown];

function ResourceTable({ rows, columns, testid }: { rows: Resource[]; columns: Column[]; testid: string }) {
  const [open, setOpen] = useState<string | undefined>();
  if (rows.length === 0)
    return (
      <p class="muted" data-testid={testid}>
        None yet.
      </p>
    );
  return (
    <div class="table-wrap">
      <table class="data" data-testid={testid}>
        <thead>
          <tr>
            {columns.map(([name]) => (
              <th key={name} scope="col">
                {name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <Fragment key={r.id}>
              <tr
                class={`clickable${open === r.id ? " on" : ""}`}
                data-id={r.id}
                onClick={() => setOpen(open === r.id ? undefined : r.id)}
              >
                {columns.map(([name, get]) => (
                  <td key={name}>{cellText(get(r))}</td>
                ))}
              </tr>
              {open === r.id && (
                <tr class="detail">
                  <td colSpan={columns.length}>
                    <pre>{prettyValue(r)}</pre>
                  </td>
                </tr>
              )}
            </Fragment>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Lists({ state, emails }: { state: EmulatorState; emails: Map<string, string> }) {
  if (state.lists.length === 0)
    return (
      <p class="muted" data-testid="inspector-lists">
        None yet.
      </p>
    );
  return (
    <div class="cards" data-testid="inspector-lists">
      {state.lists.map((list) => {
        const members = list.members ?? [];
        return (
          <details class="card" key={list.id} data-id={list.id}>
            <summary>
              <strong>{cellText(attr(list, "name"))}</strong>{" "}
              <span class="count">{members.length} members</span>{" "}
              <span class="muted small-text">
                {cellText(attr(list, "opt_in_process"))} · {list.id}
              </span>
            </summary>
            {members.length === 0 ? (
              <p class="muted">No members.</p>
            ) : (
              <ul class="members">
                {members.map((id) => (
                  <li key={id}>
                    {emails.get(id) ?? id} <span class="muted small-text">{id}</span>
                  </li>
                ))}
              </ul>
            )}
          </details>
        );
      })}
    </div>
  );
}

function Templates({ templates }: { templates: Resource[] }) {
  const [chosen, setChosen] = useState<string | undefined>();
  if (templates.length === 0)
    return (
      <p class="muted" data-testid="inspector-templates">
        None yet.
      </p>
    );
  const current = templates.find((t) => t.id === chosen) ?? templates[0]!;
  const html = typeof current.attributes.html === "string" ? current.attributes.html : "";
  return (
    <div class="templates" data-testid="inspector-templates">
      <ul class="template-list">
        {templates.map((t) => (
          <li key={t.id}>
            <button
              type="button"
              class={`action-entry${t.id === current.id ? " on" : ""}`}
              onClick={() => setChosen(t.id)}
            >
              {cellText(attr(t, "name"))}
              <span class="muted small-text"> {cellText(attr(t, "editor_type"))}</span>
            </button>
          </li>
        ))}
      </ul>
      <div class="template-preview">
        <div class="muted small-text">
          {cellText(attr(current, "name"))} · {current.id} · updated {time(attr(current, "updated"))} ·
          preview in a sandboxed frame (its own styles and data: images; no scripts, nothing fetched)
        </div>
        {html ? (
          <iframe
            title={`Preview of ${cellText(attr(current, "name"))}`}
            sandbox=""
            src={api.templatePreviewUrl(current.id)}
            data-testid="template-preview"
          />
        ) : (
          <p class="muted">This template has no HTML.</p>
        )}
        {typeof current.attributes.text === "string" && current.attributes.text && (
          <details>
            <summary>Text version</summary>
            <pre>{current.attributes.text}</pre>
          </details>
        )}
      </div>
    </div>
  );
}

/** Image bytes through the API (an <img src> could not carry the token), kept while the id is shown. */
function Thumbnail({ id, alt }: { id: string; alt: string }) {
  const [url, setUrl] = useState<string | undefined>();
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const controller = new AbortController();
    let made: string | undefined;
    api
      .imageUrl(id, controller.signal)
      .then((u) => {
        made = u;
        setUrl(u);
      })
      .catch(() => {
        if (!controller.signal.aborted) setFailed(true);
      });
    return () => {
      controller.abort();
      if (made) URL.revokeObjectURL(made);
    };
  }, [id]);
  if (failed) return <div class="thumb missing">no bytes</div>;
  if (!url) return <div class="thumb loading" />;
  return <img class="thumb" src={url} alt={alt} loading="lazy" />;
}

function Images({ images }: { images: Resource[] }) {
  if (images.length === 0)
    return (
      <p class="muted" data-testid="inspector-images">
        None yet.
      </p>
    );
  return (
    <div class="image-grid" data-testid="inspector-images">
      {images.map((img) => (
        <figure key={img.id} class="image-card" data-id={img.id}>
          <Thumbnail id={img.id} alt={cellText(attr(img, "name")) || img.id} />
          <figcaption>
            <strong>{cellText(attr(img, "name"), 40)}</strong>
            <span class="muted small-text">
              {cellText(attr(img, "format"))} {attr(img, "size") ? `· ${cellText(attr(img, "size"))} B` : ""}
              {attr(img, "hidden") === true ? " · hidden" : ""} · {img.id}
            </span>
          </figcaption>
        </figure>
      ))}
    </div>
  );
}

function Events({ state, emails }: { state: EmulatorState; emails: Map<string, string> }) {
  const metrics = useMemo(
    () => new Map(state.metrics.map((m) => [m.id, cellText(attr(m, "name"))])),
    [state.metrics],
  );
  const days = useMemo(() => groupByDay(state.events, eventTime), [state.events]);
  if (state.events.length === 0)
    return (
      <p class="muted" data-testid="inspector-events">
        None yet.
      </p>
    );
  return (
    <div class="timeline" data-testid="inspector-events">
      {days.map((day) => (
        <section key={day.day} class="day">
          <h3>
            {day.day === "unknown"
              ? "Time unknown"
              : new Date(`${day.day}T12:00:00`).toLocaleDateString(undefined, {
                  weekday: "long",
                  year: "numeric",
                  month: "long",
                  day: "numeric",
                })}{" "}
            <span class="count">{day.items.length}</span>
          </h3>
          <ol>
            {day.items.map((event) => {
              const t = eventTime(event);
              const metricId = relatedId(event, "metric");
              const profileId = relatedId(event, "profile");
              const props = (event.attributes.event_properties ?? {}) as Record<string, unknown>;
              const value = props.$value ?? event.attributes.value;
              const shown = Object.entries(props).filter(([k]) => !k.startsWith("$"));
              return (
                <li key={event.id} class="event" data-id={event.id}>
                  <time class="muted">{t === undefined ? "" : new Date(t).toLocaleTimeString()}</time>
                  <span class="metric">{(metricId && metrics.get(metricId)) || metricId || "event"}</span>
                  <span class="who">{profileId ? (emails.get(profileId) ?? profileId) : ""}</span>
                  {value !== undefined && value !== null && (
                    <span class="value">value {cellText(value)}</span>
                  )}
                  <span class="props muted">
                    {shown
                      .slice(0, 4)
                      .map(([k, v]) => `${k}: ${cellText(v, 40)}`)
                      .join(" · ")}
                  </span>
                </li>
              );
            })}
          </ol>
        </section>
      ))}
    </div>
  );
}

/** A logged path with its query decoded, for reading (`fields[profile]=email` rather than `%5B…%5D`). */
function readablePath(path: string): string {
  try {
    return decodeURIComponent(path.replace(/\+/g, " "));
  } catch {
    return path;
  }
}

function RequestLog({ requests }: { requests: RequestEntry[] | undefined }) {
  if (!requests) return <p class="muted">Loading…</p>;
  if (requests.length === 0)
    return (
      <p class="muted" data-testid="inspector-requests">
        No requests yet.
      </p>
    );
  return (
    <div class="table-wrap">
      <table class="data" data-testid="inspector-requests">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Method</th>
            <th scope="col">Path</th>
            <th scope="col">Status</th>
            <th scope="col">Tier</th>
            <th scope="col">Fault</th>
            <th scope="col">Operation</th>
          </tr>
        </thead>
        <tbody>
          {requests.map((r, i) => (
            <tr key={`${r.at}-${i}`} class={r.fault ? "fault" : ""}>
              <td class="muted nowrap">{new Date(r.at).toLocaleTimeString()}</td>
              <td>
                <span class="method">{r.method}</span>
              </td>
              <td class="path" title={r.path}>
                {readablePath(r.path)}
              </td>
              <td>
                <span class={`status tone-${statusTone(String(r.status))}`}>
                  {r.status === 0 ? "reset" : r.status}
                </span>
              </td>
              <td>{r.tier ?? ""}</td>
              <td class={r.fault ? "warn-text" : ""}>{r.fault ?? ""}</td>
              <td class="muted">{r.operationId ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
