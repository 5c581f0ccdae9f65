/** A run: its status, time and rate-limit state, what went over the wire, the output, and how to repeat it. */
import { useEffect, useRef, useState } from "preact/hooks";
import {
  describeRateLimit,
  type Exchange,
  formatMs,
  prettyBody,
  prettyValue,
  type Run,
  runStatus,
  statusTone,
} from "./model";

const MAX_SHOWN = 200_000;

export function Result({ run, pending }: { run: Run | undefined; pending: boolean }) {
  if (!run)
    return (
      <section class="result empty" data-testid="result" aria-busy={pending}>
        <p class="muted">
          {pending ? "Running…" : "Run the action to see the request, the response and the output."}
        </p>
      </section>
    );
  const status = runStatus(run);
  const issues = run.error?.issues ?? [];
  return (
    <section class="result" data-testid="result" aria-busy={pending} aria-label="Result">
      <header class="result-head">
        <span class={`status tone-${statusTone(status)}`} data-testid="result-status">
          {status}
        </span>
        <strong>{run.label}</strong>
        <span class={run.ok ? "ok-text" : "bad-text"}>{run.ok ? "succeeded" : "failed"}</span>
        <span class="muted" data-testid="result-time" title="time taken">
          {formatMs(run.ms)}
        </span>
        <span class="muted" data-testid="result-rate-limit" title="rate-limit state of the last response">
          {describeRateLimit(run.rateLimit)}
        </span>
        <span class="muted small-text" title={run.at}>
          #{run.id} · {new Date(run.at).toLocaleTimeString()}
        </span>
        {pending && <span class="muted">running…</span>}
      </header>

      {run.error && (
        <div class="error-box" role="alert" data-testid="result-error">
          <strong>{run.error.name}</strong>
          {run.error.status !== undefined && <span> (HTTP {run.error.status})</span>}: {run.error.message}
          {issues.length > 0 && (
            <ul class="issues" data-testid="issues-summary">
              {issues.map((issue) => (
                <li key={`${issue.key}:${issue.message}`}>
                  <strong>{issue.label || issue.key}</strong>: {issue.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}

      <Snippets run={run} />

      {run.exchanges.length === 0 ? (
        <p class="muted">Nothing was sent.</p>
      ) : (
        <div class="exchanges">
          <h3>
            {run.exchanges.length === 1 ? "1 request" : `${run.exchanges.length} requests`} (secrets masked)
          </h3>
          {run.exchanges.map((exchange, i) => (
            <ExchangeView key={i} exchange={exchange} index={i} open={i === run.exchanges.length - 1} />
          ))}
        </div>
      )}

      {run.output !== undefined && (
        <div class="output">
          <h3>Output</h3>
          <Pre text={prettyValue(run.output)} testid="result-output" />
        </div>
      )}
    </section>
  );
}

export function ExchangeView({
  exchange,
  index,
  open,
}: {
  exchange: Exchange;
  index: number;
  open: boolean;
}) {
  const { request, response } = exchange;
  const status = response ? String(response.status) : "no response";
  return (
    <details class="exchange" open={open} data-testid={`exchange-${index}`}>
      <summary>
        <span class="method">{request.method}</span> <span class="url">{request.url}</span>
        <span class={`status tone-${statusTone(status)}`}>{status}</span>
        <span class="muted">{formatMs(exchange.ms)}</span>
      </summary>
      <div class="exchange-body">
        <div>
          <h4>Request</h4>
          <Headers headers={request.headers} />
          {request.body !== undefined && request.body !== "" && <Pre text={prettyBody(request.body)} />}
        </div>
        <div>
          <h4>Response</h4>
          {response ? (
            <>
              <Headers headers={response.headers} />
              {response.body !== undefined && response.body !== "" ? (
                <Pre text={prettyBody(response.body)} />
              ) : (
                <p class="muted">No body.</p>
              )}
            </>
          ) : (
            <p class="muted">The connection failed before a response came.</p>
          )}
        </div>
      </div>
    </details>
  );
}

function Headers({ headers }: { headers: Record<string, string> }) {
  const entries = Object.entries(headers);
  if (entries.length === 0) return <p class="muted">No headers.</p>;
  return (
    <table class="headers">
      <tbody>
        {entries.map(([name, value]) => (
          <tr key={name}>
            <th scope="row">{name}</th>
            <td>{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Pre({ text, testid }: { text: string; testid?: string }) {
  const [all, setAll] = useState(false);
  const long = text.length > MAX_SHOWN;
  return (
    <div class="pre-wrap">
      <pre data-testid={testid}>{long && !all ? `${text.slice(0, MAX_SHOWN)}\n…` : text}</pre>
      {long && !all && (
        <button type="button" class="small" onClick={() => setAll(true)}>
          Show all {Math.round(text.length / 1024)} kB
        </button>
      )}
    </div>
  );
}

const SNIPPETS = [
  { key: "cli", label: "CLI" },
  { key: "library", label: "Library" },
  { key: "curl", label: "curl" },
] as const;

type SnippetKey = (typeof SNIPPETS)[number]["key"];

function Snippets({ run }: { run: Run }) {
  const [shown, setShown] = useState<SnippetKey | undefined>();
  const [copied, setCopied] = useState<SnippetKey | undefined>();
  const [manual, setManual] = useState<SnippetKey | undefined>();
  useEffect(() => {
    setCopied(undefined);
    setManual(undefined);
  }, [run.id]);
  useEffect(() => {
    if (!copied) return;
    const timer = window.setTimeout(() => setCopied(undefined), 1500);
    return () => window.clearTimeout(timer);
  }, [copied]);
  const copy = async (key: SnippetKey) => {
    const text = run.snippets[key];
    try {
      if (!navigator.clipboard) throw new Error("no clipboard");
      await navigator.clipboard.writeText(text);
      setManual(undefined);
      setCopied(key);
    } catch {
      // No clipboard access (an insecure context, a denied permission): show the text, selected, to copy by hand.
      setShown(key);
      setManual(key);
    }
  };
  return (
    <div class="snippets">
      <div class="snippet-buttons">
        <span class="muted">Copy as</span>
        {SNIPPETS.map(({ key, label }) => (
          <span class="split" key={key}>
            <button type="button" class="small" data-testid={`copy-${key}`} onClick={() => copy(key)}>
              {copied === key ? "Copied ✓" : label}
            </button>
            <button
              type="button"
              class={`small toggle${shown === key ? " on" : ""}`}
              aria-expanded={shown === key}
              aria-label={`Show the ${label} snippet`}
              data-testid={`show-${key}`}
              onClick={() => setShown(shown === key ? undefined : key)}
            >
              ▾
            </button>
          </span>
        ))}
      </div>
      {shown && (
        <SnippetText text={run.snippets[shown]} select={manual === shown} testid={`snippet-${shown}`} />
      )}
    </div>
  );
}

function SnippetText({ text, select, testid }: { text: string; select: boolean; testid: string }) {
  const ref = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (select && ref.current) {
      ref.current.focus();
      ref.current.select();
      try {
        document.execCommand("copy");
      } catch {
        // the text stays selected for Ctrl+C
      }
    }
  }, [select, text]);
  return (
    <div class="snippet">
      {select && <p class="muted small-text">Press Ctrl+C (⌘C) to copy the selected text.</p>}
      <textarea
        ref={ref}
        class="code"
        readOnly
        spellcheck={false}
        rows={Math.min(16, text.split("\n").length + 1)}
        value={text}
        data-testid={testid}
      />
    </div>
  );
}
