/**
 * The playground: actions on the left, the chosen action's form and its result, the history; the triggers, the
 * webhooks (on the emulator) and the inspector tabs.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, api } from "./api";
import { Field } from "./Field";
import { Inspector } from "./Inspector";
import {
  type FormValue,
  type FormValues,
  formatMs,
  groupActions,
  type Info,
  initialValues,
  issuesByKey,
  type Manifest,
  type ManifestAction,
  mergeRuns,
  type Run,
  runStatus,
  statusTone,
  toInputs,
} from "./model";
import { Result } from "./Result";
import { Triggers } from "./Triggers";
import { Webhooks } from "./Webhooks";

type Tab = "actions" | "triggers" | "webhooks" | "inspector";

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export function App() {
  const [info, setInfo] = useState<Info | undefined>();
  const [manifest, setManifest] = useState<Manifest | undefined>();
  const [fatal, setFatal] = useState<string | undefined>();
  const [tab, setTab] = useState<Tab>("actions");
  const [runs, setRuns] = useState<Run[]>([]);
  // The triggers stay mounted once opened, so that a trigger polls on while actions make changes.
  const [triggersOpened, setTriggersOpened] = useState(false);
  const [triggerPolling, setTriggerPolling] = useState(false);
  // The same for the webhooks: deliveries go on arriving while the other tabs are used.
  const [webhooksOpened, setWebhooksOpened] = useState(false);
  const [webhookListening, setWebhookListening] = useState(false);

  useEffect(() => {
    Promise.all([api.info(), api.manifest()])
      .then(([i, m]) => {
        setInfo(i);
        setManifest(m);
        document.title = `Klaviyo playground · ${i.mode === "emulator" ? "emulator" : hostOf(i.baseUrl)}`;
      })
      .catch((error: unknown) => setFatal(error instanceof Error ? error.message : String(error)));
    api
      .history()
      .then(({ runs: old }) => setRuns((current) => mergeRuns(current, old)))
      .catch(() => undefined);
  }, []);

  const emulator = info?.mode === "emulator";
  return (
    <div class="app">
      <header class="topbar">
        <h1>
          Klaviyo <span>playground</span>
        </h1>
        <div class="tabs" role="tablist" aria-label="Views">
          <button
            type="button"
            role="tab"
            aria-selected={tab === "actions"}
            class={tab === "actions" ? "on" : ""}
            data-testid="tab-actions"
            onClick={() => setTab("actions")}
          >
            Actions
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={tab === "triggers"}
            class={tab === "triggers" ? "on" : ""}
            data-testid="tab-triggers"
            onClick={() => {
              setTriggersOpened(true);
              setTab("triggers");
            }}
          >
            Triggers
            {triggerPolling && (
              <span class="polling-dot" title="a trigger is polling">
                <span class="sr-only"> (polling)</span>
              </span>
            )}
          </button>
          {emulator && (
            <button
              type="button"
              role="tab"
              aria-selected={tab === "webhooks"}
              class={tab === "webhooks" ? "on" : ""}
              data-testid="tab-webhooks"
              onClick={() => {
                setWebhooksOpened(true);
                setTab("webhooks");
              }}
            >
              Webhooks
              {webhookListening && (
                <span class="polling-dot" title="a webhook is listened to">
                  <span class="sr-only"> (listening)</span>
                </span>
              )}
            </button>
          )}
          {emulator && (
            <button
              type="button"
              role="tab"
              aria-selected={tab === "inspector"}
              class={tab === "inspector" ? "on" : ""}
              data-testid="tab-inspector"
              onClick={() => setTab("inspector")}
            >
              Emulator inspector
            </button>
          )}
        </div>
        {info && (
          <div class="connection" data-testid="info">
            <span class={`badge ${emulator ? "badge-emulator" : "badge-remote"}`}>{info.mode}</span>
            <span class="muted" title="base URL">
              {info.baseUrl}
            </span>
            <span class="muted" title="connection">
              {info.connection === "oauth" ? "OAuth" : "API key"}
            </span>
            <span class="muted" title="revision · version">
              {info.revision} · v{info.version}
            </span>
          </div>
        )}
      </header>
      {fatal && (
        <div class="banner" role="alert" data-testid="fatal">
          {fatal}
        </div>
      )}
      {manifest && tab === "actions" && <Actions manifest={manifest} runs={runs} setRuns={setRuns} />}
      {manifest && triggersOpened && <Triggers hidden={tab !== "triggers"} onPolling={setTriggerPolling} />}
      {manifest && webhooksOpened && emulator && (
        <Webhooks hidden={tab !== "webhooks"} onListening={setWebhookListening} />
      )}
      {manifest && tab === "inspector" && emulator && <Inspector />}
      {!manifest && !fatal && <p class="loading muted">Loading…</p>}
    </div>
  );
}

function keyFromHash(actions: readonly ManifestAction[]): string | undefined {
  const key = decodeURIComponent(window.location.hash.slice(1));
  return actions.some((a) => a.key === key) ? key : undefined;
}

function Actions(props: {
  manifest: Manifest;
  runs: Run[];
  setRuns: (update: (runs: Run[]) => Run[]) => void;
}) {
  const { manifest, runs, setRuns } = props;
  const actions = manifest.actions;
  const [query, setQuery] = useState("");
  const [selectedKey, setSelectedKey] = useState<string | undefined>(() => keyFromHash(actions));
  const [forms, setForms] = useState<Record<string, FormValues>>({});
  const [shownRunId, setShownRunId] = useState<number | undefined>();
  const [edited, setEdited] = useState<ReadonlySet<string>>(new Set());
  const [pending, setPending] = useState(false);
  const [runError, setRunError] = useState<string | undefined>();
  const searchRef = useRef<HTMLInputElement>(null);

  const groups = useMemo(() => groupActions(actions, query), [actions, query]);
  const selected = actions.find((a) => a.key === selectedKey);
  const values = selected ? (forms[selected.key] ?? initialValues(selected)) : {};
  const shownRun = runs.find((r) => r.id === shownRunId);
  const runForForm = shownRun && selected && shownRun.action === selected.key ? shownRun : undefined;
  const { byKey, other } = issuesByKey(selected, runForForm?.error?.issues);

  const select = useCallback(
    (key: string) => {
      setSelectedKey(key);
      setRunError(undefined);
      setEdited(new Set());
      setShownRunId(runs.find((r) => r.action === key)?.id);
      window.history.replaceState(window.history.state, "", `#${encodeURIComponent(key)}`);
    },
    [runs],
  );

  const setValue = (input: string, value: FormValue) => {
    if (!selected) return;
    setForms((all) => ({ ...all, [selected.key]: { ...values, [input]: value } }));
    setEdited((keys) => (keys.has(input) ? keys : new Set([...keys, input])));
  };

  const run = async () => {
    if (!selected || pending) return;
    setPending(true);
    setRunError(undefined);
    try {
      const result = await api.run(selected.key, toInputs(selected, values));
      setRuns((current) => mergeRuns(current, [result]));
      setShownRunId(result.id);
      setEdited(new Set());
      // Show what came of it: the first field the server refused, or the result.
      window.requestAnimationFrame(() => {
        const field = document.querySelector(".field.has-error");
        if (field) field.scrollIntoView({ block: "center", behavior: "smooth" });
        else
          document
            .querySelector('[data-testid="result"]')
            ?.scrollIntoView({ block: "start", behavior: "smooth" });
      });
    } catch (error) {
      setRunError(error instanceof ApiError || error instanceof Error ? error.message : String(error));
    } finally {
      setPending(false);
    }
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "/" && document.activeElement === document.body) {
        e.preventDefault();
        searchRef.current?.focus();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  const firstMatch = groups[0]?.actions[0];
  return (
    <main class="actions-view">
      <aside class="sidebar" aria-label="Actions">
        <input
          ref={searchRef}
          type="search"
          class="search"
          placeholder="Search actions  ( / )"
          aria-label="Search actions"
          data-testid="action-search"
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && firstMatch) select(firstMatch.key);
          }}
        />
        <nav class="action-list">
          {groups.length === 0 && <p class="muted">No action matches “{query}”.</p>}
          {groups.map((group) => (
            <section key={group.name} class="group">
              <h2>
                {group.name} <span class="count">{group.actions.length}</span>
              </h2>
              <ul>
                {group.actions.map((a) => (
                  <li key={a.key}>
                    <button
                      type="button"
                      class={`action-entry${a.key === selectedKey ? " on" : ""}`}
                      aria-current={a.key === selectedKey ? "true" : undefined}
                      data-testid={`action-${a.key}`}
                      title={a.description}
                      onClick={() => select(a.key)}
                    >
                      {a.label}
                    </button>
                  </li>
                ))}
              </ul>
            </section>
          ))}
        </nav>
      </aside>

      <section class="workspace">
        {selected ? (
          <>
            <form
              class="action-form"
              noValidate
              data-testid="run-form"
              onSubmit={(e) => {
                e.preventDefault();
                void run();
              }}
              onKeyDown={(e) => {
                if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
                  e.preventDefault();
                  void run();
                }
              }}
            >
              <header class="form-head">
                <div>
                  <h2>{selected.label}</h2>
                  <code class="muted">{selected.key}</code>
                </div>
                <div class="form-buttons">
                  <button
                    type="button"
                    class="secondary"
                    data-testid="reset-form"
                    onClick={() => {
                      setForms((all) => ({ ...all, [selected.key]: initialValues(selected) }));
                      setEdited(new Set(selected.inputs.map((i) => i.key)));
                    }}
                  >
                    Reset
                  </button>
                  <button
                    type="submit"
                    class="primary"
                    data-testid="run"
                    disabled={pending}
                    title="Ctrl+Enter"
                  >
                    {pending ? "Running…" : "Run"}
                  </button>
                </div>
              </header>
              <p class="description">{selected.description}</p>
              {other.length > 0 && (
                <div class="error-box" role="alert" data-testid="form-issues">
                  {other.map((i) => (
                    <div key={`${i.key}:${i.message}`}>
                      <strong>{i.label || i.key}</strong>: {i.message}
                    </div>
                  ))}
                </div>
              )}
              {runForForm && byKey.size > 0 && (
                <p class="issue-summary" data-testid="issue-summary">
                  {byKey.size === 1 ? "1 input needs" : `${byKey.size} inputs need`} attention:{" "}
                  {selected.inputs
                    .filter((i) => byKey.has(i.key))
                    .map((i) => i.label)
                    .join(", ")}
                  .
                </p>
              )}
              {selected.inputs.length === 0 && <p class="muted">This action has no inputs.</p>}
              <div class="fields">
                {selected.inputs.map((input) => (
                  <Field
                    key={`${selected.key}:${input.key}`}
                    input={input}
                    value={values[input.key] ?? null}
                    errors={edited.has(input.key) ? undefined : byKey.get(input.key)}
                    onChange={(v) => setValue(input.key, v)}
                  />
                ))}
              </div>
            </form>
            {runError && (
              <div class="banner" role="alert" data-testid="run-error">
                {runError}
              </div>
            )}
            <Result run={runForForm ?? shownRun} pending={pending} />
          </>
        ) : (
          <div class="welcome">
            <h2>Pick an action</h2>
            <p>
              {actions.length} actions of {manifest.name} {manifest.version} (Klaviyo revision{" "}
              {manifest.revision}
              ). Choose one on the left to see its inputs, run it, and see what went over the wire.
            </p>
            {shownRun && <Result run={shownRun} pending={false} />}
          </div>
        )}
      </section>

      <aside class="history-panel" aria-label="History">
        <h2>History</h2>
        <ol class="history" data-testid="history">
          {runs.length === 0 && <li class="muted">No runs yet.</li>}
          {runs.map((r) => {
            const status = runStatus(r);
            return (
              <li key={r.id}>
                <button
                  type="button"
                  class={`history-entry${r.id === shownRunId ? " on" : ""}`}
                  data-testid={`history-${r.id}`}
                  onClick={() => {
                    if (r.action !== selectedKey) {
                      setSelectedKey(r.action);
                      window.history.replaceState(
                        window.history.state,
                        "",
                        `#${encodeURIComponent(r.action)}`,
                      );
                    }
                    setShownRunId(r.id);
                    setRunError(undefined);
                    setEdited(new Set());
                  }}
                >
                  <span class={`status tone-${statusTone(status)}`}>{status}</span>
                  <span class="history-label">{r.label}</span>
                  <span class="muted small-text">
                    {new Date(r.at).toLocaleTimeString()} · {formatMs(r.ms)}
                  </span>
                </button>
              </li>
            );
          })}
        </ol>
      </aside>
    </main>
  );
}
