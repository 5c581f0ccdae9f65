/**
 * The triggers: choose one of the platforms' polling triggers, fill its inputs, and poll it every few seconds on
 * the playground's connection, its items listed newest first as they arrive. The state between polls is kept
 * here, as a platform keeps it, and dropped on Stop: Start begins again from the inputs.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, api } from "./api";
import { Field } from "./Field";
import {
  addTriggerItems,
  changeSummary,
  changeTime,
  type FormValue,
  type FormValues,
  formatMs,
  initialValues,
  issuesByKey,
  type ManifestAction,
  type PickerChoices,
  pollSeconds,
  prettyValue,
  type TriggerCatalogue,
  type TriggerChange,
  type TriggerInfo,
  type TriggerItem,
  type TriggerPoll,
  toInputs,
  triggerFormInput,
} from "./model";
import { ExchangeView, Pre } from "./Result";

type Choices = PickerChoices["options"];

/** A trigger as a form: its inputs as the fields take them, with the choices of their pickers. */
function formOf(trigger: TriggerInfo, choices: Readonly<Record<string, Choices>>): ManifestAction {
  return {
    key: trigger.key,
    label: trigger.label,
    description: trigger.description,
    inputs: trigger.inputs.map((i) => triggerFormInput(i, i.picker ? choices[i.picker] : undefined)),
  };
}

const TONES: Record<string, string> = {
  created: "ok",
  joined: "ok",
  recorded: "ok",
  updated: "none",
  suppressed: "warn",
  unsubscribed: "warn",
};

function message(error: unknown): string {
  return error instanceof ApiError || error instanceof Error ? error.message : String(error);
}

export function Triggers(props: { hidden: boolean; onPolling: (polling: boolean) => void }) {
  const { hidden, onPolling } = props;
  const [catalogue, setCatalogue] = useState<TriggerCatalogue | undefined>();
  const [loadError, setLoadError] = useState<string | undefined>();
  const [selectedKey, setSelectedKey] = useState<string | undefined>();
  const [forms, setForms] = useState<Record<string, FormValues>>({});
  const [choices, setChoices] = useState<Record<string, Choices>>({});
  const [every, setEvery] = useState("5");
  const [polling, setPolling] = useState(false);
  const [items, setItems] = useState<TriggerItem[]>([]);
  const [polls, setPolls] = useState(0);
  const [last, setLast] = useState<TriggerPoll | undefined>();
  const [failure, setFailure] = useState<string | undefined>();
  /** Bumped by Start and Stop: a poll of an earlier session that answers late is dropped. */
  const session = useRef(0);
  const timer = useRef<number | undefined>(undefined);
  const state = useRef<unknown>(undefined);
  const asked = useRef(new Set<string>());

  useEffect(() => {
    api
      .triggers()
      .then((c) => {
        setCatalogue(c);
        setSelectedKey((key) => key ?? c.triggers[0]?.key);
      })
      .catch((error: unknown) => setLoadError(message(error)));
    return () => {
      session.current++;
      window.clearTimeout(timer.current);
    };
  }, []);

  useEffect(() => onPolling(polling), [polling, onPolling]);

  const trigger = catalogue?.triggers.find((t) => t.key === selectedKey);

  // The choices of the chosen trigger's pickers (lists, segments, metrics), asked once each.
  useEffect(() => {
    for (const input of trigger?.inputs ?? []) {
      const picker = input.picker;
      if (!picker || asked.current.has(picker)) continue;
      asked.current.add(picker);
      api
        .picker(picker)
        .then((c) => setChoices((all) => ({ ...all, [picker]: c.options })))
        .catch(() => undefined);
    }
  }, [trigger]);

  const form = useMemo(() => (trigger ? formOf(trigger, choices) : undefined), [trigger, choices]);
  const values = form ? (forms[form.key] ?? initialValues(form)) : {};
  const error = last && !last.ok ? last.error : undefined;
  const { byKey, other } = issuesByKey(form, error?.issues);

  const stop = () => {
    session.current++;
    window.clearTimeout(timer.current);
    state.current = undefined;
    setPolling(false);
  };

  const start = () => {
    if (!form) return;
    stop();
    const id = session.current;
    const key = form.key;
    const inputs = toInputs(form, values);
    const interval = pollSeconds(every) * 1000;
    let count = 0;
    setItems([]);
    setPolls(0);
    setLast(undefined);
    setFailure(undefined);
    setPolling(true);
    const tick = async () => {
      let delay = interval;
      try {
        const result = await api.poll(key, inputs, state.current);
        if (session.current !== id) return;
        count++;
        setPolls(count);
        setLast(result);
        setFailure(undefined);
        if (result.ok) {
          state.current = result.state;
          if (result.changes.length > 0)
            setItems((current) => addTriggerItems(current, result.changes, count));
          // More changes wait behind this poll's: go on at once.
          if (result.more) delay = 250;
        } else if (result.error?.name === "InputValidationError" || result.error?.name === "TypeError") {
          // Inputs (or a state) that no poll will take: stop, and show why by label.
          stop();
          return;
        }
      } catch (caught) {
        if (session.current !== id) return;
        setFailure(message(caught));
      }
      if (session.current === id) timer.current = window.setTimeout(() => void tick(), delay);
    };
    void tick();
  };

  const select = (key: string) => {
    if (key === selectedKey) return;
    stop();
    setSelectedKey(key);
    setItems([]);
    setPolls(0);
    setLast(undefined);
    setFailure(undefined);
  };

  const setValue = (input: string, value: FormValue) => {
    if (!form) return;
    setForms((all) => ({ ...all, [form.key]: { ...values, [input]: value } }));
  };

  const horizon = catalogue?.horizonSeconds ?? 0;
  return (
    <main class="triggers-view" hidden={hidden} data-testid="triggers">
      <aside class="sidebar" aria-label="Triggers">
        <h2 class="sidebar-title">Triggers</h2>
        {loadError && (
          <p class="bad-text" role="alert">
            {loadError}
          </p>
        )}
        <ul class="trigger-list">
          {catalogue?.triggers.map((t) => (
            <li key={t.key}>
              <button
                type="button"
                class={`action-entry${t.key === selectedKey ? " on" : ""}`}
                aria-current={t.key === selectedKey ? "true" : undefined}
                data-testid={`trigger-${t.key}`}
                title={t.description}
                onClick={() => select(t.key)}
              >
                {t.label}
              </button>
            </li>
          ))}
        </ul>
      </aside>

      <section class="workspace">
        {!catalogue && !loadError && <p class="muted">Loading…</p>}
        {form && (
          <form
            class="action-form"
            noValidate
            data-testid="trigger-form"
            aria-label={`${form.label} trigger`}
            onSubmit={(e) => {
              e.preventDefault();
              if (polling) stop();
              else start();
            }}
          >
            <header class="form-head">
              <div>
                <h2>{form.label}</h2>
                <code class="muted">{form.key}</code>
              </div>
              <div class="form-buttons">
                <label class="poll-every">
                  Every
                  <input
                    type="number"
                    min={1}
                    max={3600}
                    step={1}
                    value={every}
                    disabled={polling}
                    data-testid="poll-every"
                    onInput={(e) => setEvery(e.currentTarget.value)}
                  />
                  s
                </label>
                <button
                  type="submit"
                  class="primary"
                  data-testid={polling ? "trigger-stop" : "trigger-start"}
                >
                  {polling ? "Stop" : "Start"}
                </button>
              </div>
            </header>
            <p class="description">{form.description}</p>
            <p class="muted small-text" data-testid="trigger-horizon">
              {horizon === 0
                ? "On the emulator a poll reads up to the last whole second (Klaviyo's times are whole seconds): a change shows within a second or two, at the next poll."
                : `A poll reads up to ${horizon} seconds behind now, so that nothing still being written is skipped: a change shows about ${horizon} seconds after it is made.`}
            </p>
            {other.length > 0 && (
              <div class="error-box" role="alert" data-testid="trigger-issues">
                {other.map((i) => (
                  <div key={`${i.key}:${i.message}`}>
                    <strong>{i.label || i.key}</strong>: {i.message}
                  </div>
                ))}
              </div>
            )}
            <fieldset class="fields" disabled={polling}>
              <legend class="sr-only">Inputs of {form.label}</legend>
              {form.inputs.map((input) => (
                <Field
                  key={`${form.key}:${input.key}`}
                  scope="trigger"
                  input={input}
                  value={values[input.key] ?? null}
                  errors={byKey.get(input.key)}
                  onChange={(v) => setValue(input.key, v)}
                />
              ))}
            </fieldset>
          </form>
        )}

        {form && (
          <section class="result" aria-label="Items" data-testid="trigger-feed">
            <header class="result-head">
              <h3>Items</h3>
              <span class="count" data-testid="trigger-item-count">
                {items.length}
              </span>
              <span class="muted" aria-live="polite" data-testid="trigger-status">
                {polling ? `Polling every ${pollSeconds(every)} s` : polls > 0 ? "Stopped" : "Not started"}
                {` · ${polls === 1 ? "1 poll" : `${polls} polls`}`}
                {last && ` · last at ${new Date(last.at).toLocaleTimeString()} (${formatMs(last.ms)})`}
                {last?.more && " · more waiting"}
              </span>
            </header>
            {failure && (
              <div class="error-box" role="alert" data-testid="trigger-failure">
                {failure}
              </div>
            )}
            {error && (
              <div class="error-box" role="alert" data-testid="trigger-error">
                <strong>{error.name}</strong>
                {error.status !== undefined && <span> (HTTP {error.status})</span>}
                {(error.issues?.length ?? 0) === 0 ? (
                  `: ${error.message}`
                ) : (
                  <ul class="issues">
                    {error.issues?.map((issue) => (
                      <li key={`${issue.key}:${issue.message}`}>
                        <strong>{issue.label || issue.key}</strong>: {issue.message}
                      </li>
                    ))}
                  </ul>
                )}
              </div>
            )}
            {items.length === 0 ? (
              <p class="muted">
                {polling
                  ? "No items yet: make a change (on the Actions tab, say) and it shows here."
                  : "Start the trigger to see its items arrive, newest first."}
              </p>
            ) : (
              <ol class="trigger-items" data-testid="trigger-items">
                {items.map((item) => (
                  <Item key={item.key} change={item.change} />
                ))}
              </ol>
            )}
            {last && last.exchanges.length > 0 && (
              <details class="trigger-wire" data-testid="trigger-wire">
                <summary>
                  Last poll: {last.exchanges.length === 1 ? "1 request" : `${last.exchanges.length} requests`}{" "}
                  (secrets masked)
                </summary>
                {last.exchanges.map((exchange, i) => (
                  <ExchangeView key={i} exchange={exchange} index={i} open={false} />
                ))}
              </details>
            )}
          </section>
        )}
      </section>
    </main>
  );
}

function Item({ change }: { change: TriggerChange }) {
  const { record } = change;
  return (
    <li>
      <details class="trigger-item" data-testid="trigger-item">
        <summary>
          <span class={`status tone-${TONES[change.change] ?? "none"}`} data-testid="trigger-item-kind">
            {change.change}
          </span>
          <time dateTime={change.at} title={change.at}>
            {changeTime(change.at)}
          </time>
          <code>{record.type}</code>
          <code class="muted" data-testid="trigger-item-id">
            {record.id}
          </code>
          <span class="trigger-summary">{changeSummary(change)}</span>
          {change.late && (
            <span
              class="badge badge-remote"
              title="found by the lookback: recorded with a past time, or late"
            >
              late
            </span>
          )}
        </summary>
        <div class="trigger-record">
          <Pre text={prettyValue(record)} testid="trigger-item-json" />
          {change.related && (
            <>
              <h4>Related</h4>
              <Pre text={prettyValue(change.related)} />
            </>
          )}
        </div>
      </details>
    </li>
  );
}
