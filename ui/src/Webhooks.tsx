/**
 * The webhooks (embedded emulator only): pick topics, Start registers a webhook whose endpoint is the playground's
 * own receiver (its secret stays in the server), and every delivery the emulator makes is listed as it arrives,
 * newest first, with what verifyWebhook made of it. "Send a forged delivery" sends the receiver one whose body
 * was changed after signing, to see it refused. Stop deletes the webhook.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type {
  ReceivedDelivery,
  WebhookListening,
  WebhookTopicChoice,
} from "../../src/playground/webhooks-contract.js";
import { ApiError, api } from "./api";
import { changeTime, prettyValue } from "./model";
import { Pre } from "./Result";

/** How often the deliveries are asked for while listening. */
const REFRESH_MS = 1000;

function message(error: unknown): string {
  return error instanceof ApiError || error instanceof Error ? error.message : String(error);
}

export function Webhooks(props: { hidden: boolean; onListening: (listening: boolean) => void }) {
  const { hidden, onListening } = props;
  const [topics, setTopics] = useState<WebhookTopicChoice[] | undefined>();
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [listening, setListening] = useState<WebhookListening | null>(null);
  const [deliveries, setDeliveries] = useState<ReceivedDelivery[]>([]);
  const [pending, setPending] = useState(false);
  const [failure, setFailure] = useState<string | undefined>();
  const timer = useRef<number | undefined>(undefined);

  const refresh = async () => {
    try {
      const answer = await api.deliveries();
      setDeliveries(answer.deliveries);
      setListening(answer.listening);
    } catch (error) {
      setFailure(message(error));
    }
  };

  useEffect(() => {
    api
      .webhookTopics()
      .then((t) => setTopics(t.topics))
      .catch((error: unknown) => setFailure(message(error)));
    void refresh();
    return () => window.clearInterval(timer.current);
  }, []);

  useEffect(() => {
    onListening(listening !== null);
    window.clearInterval(timer.current);
    if (listening) timer.current = window.setInterval(() => void refresh(), REFRESH_MS);
  }, [listening, onListening]);

  const act = async (work: () => Promise<void>) => {
    if (pending) return;
    setPending(true);
    setFailure(undefined);
    try {
      await work();
    } catch (error) {
      setFailure(message(error));
    } finally {
      setPending(false);
    }
  };

  const start = () =>
    act(async () => {
      const answer = await api.listen([...chosen]);
      setListening(answer.listening);
    });
  const stop = () =>
    act(async () => {
      await api.stopListening();
      setListening(null);
      await refresh();
    });
  const forge = () =>
    act(async () => {
      await api.forge();
      await refresh();
    });

  const toggle = (id: string) =>
    setChosen((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <main class="triggers-view" hidden={hidden} data-testid="webhooks">
      <aside class="sidebar" aria-label="Webhook topics">
        <h2 class="sidebar-title">Topics</h2>
        <p class="muted small-text">None ticked: every topic of the account.</p>
        {!topics && !failure && <p class="muted">Loading…</p>}
        <fieldset class="topic-list" disabled={listening !== null}>
          <legend class="sr-only">Topics to subscribe to</legend>
          {topics?.map((t) => (
            <label key={t.id} class="topic-choice" title={t.id}>
              <input
                type="checkbox"
                checked={chosen.has(t.id)}
                data-testid={`topic-${t.id}`}
                onChange={() => toggle(t.id)}
              />
              <span>{t.name}</span>
              {t.name !== t.id && <code class="muted small-text">{t.id}</code>}
            </label>
          ))}
        </fieldset>
      </aside>

      <section class="workspace">
        <header class="form-head">
          <div>
            <h2>Webhooks</h2>
            <span class="muted small-text" aria-live="polite" data-testid="webhook-status">
              {listening
                ? `Listening: webhook ${listening.webhookId} delivers ${listening.topics.length === 1 ? "1 topic" : `${listening.topics.length} topics`} to ${listening.endpoint} since ${changeTime(listening.since)}`
                : "Not listening"}
            </span>
          </div>
          <div class="form-buttons">
            <button
              type="button"
              class="secondary"
              data-testid="webhook-forge"
              disabled={!listening || pending}
              title="a delivery signed with the webhook's secret, its body changed afterwards"
              onClick={() => void forge()}
            >
              Send a forged delivery
            </button>
            <button
              type="button"
              class="primary"
              data-testid={listening ? "webhook-stop" : "webhook-start"}
              disabled={pending}
              onClick={() => void (listening ? stop() : start())}
            >
              {listening ? "Stop" : "Start"}
            </button>
          </div>
        </header>
        <p class="description">
          Start registers a webhook on the emulator (Create Webhook) whose endpoint is this playground's
          receiver, with a secret kept in the playground's server. Record an event of a chosen topic (Create
          Event on the Actions tab, or Subscribe Profiles for the consent topics) and the emulator's delivery
          shows here, checked by verifyWebhook: its signature over the raw body and the Klaviyo-Timestamp
          header, and its webhook ID. Stop deletes the webhook.
        </p>
        {failure && (
          <div class="error-box" role="alert" data-testid="webhook-failure">
            {failure}
          </div>
        )}
        <section class="result" aria-label="Deliveries" data-testid="webhook-feed">
          <header class="result-head">
            <h3>Deliveries</h3>
            <span class="count" data-testid="webhook-delivery-count">
              {deliveries.length}
            </span>
          </header>
          {deliveries.length === 0 ? (
            <p class="muted">
              {listening
                ? "No delivery yet: record an event of a chosen topic and it shows here."
                : "Start listening to see the emulator's deliveries arrive, newest first."}
            </p>
          ) : (
            <ol class="trigger-items" data-testid="webhook-deliveries">
              {deliveries.map((d) => (
                <Delivery key={d.id} delivery={d} />
              ))}
            </ol>
          )}
        </section>
      </section>
    </main>
  );
}

function Delivery({ delivery }: { delivery: ReceivedDelivery }) {
  const { verification } = delivery;
  return (
    <li>
      <details class="trigger-item" data-testid="webhook-delivery">
        <summary>
          <span
            class={`status tone-${verification.ok ? "ok" : "bad"}`}
            data-testid="webhook-verification"
            title={verification.ok ? "signature and webhook ID verified" : verification.message}
          >
            {verification.ok ? "verified" : `refused: ${verification.reason}`}
          </span>
          <time dateTime={delivery.at} title={delivery.at}>
            {changeTime(delivery.at)}
          </time>
          <span class="muted">{delivery.status}</span>
          <span class="trigger-summary">
            {delivery.eventCount === 1 ? "1 event" : `${delivery.eventCount} events`}
            {delivery.topics.length > 0 && ` · ${delivery.topics.join(", ")}`}
          </span>
          {delivery.forged && (
            <span class="badge badge-remote" title="sent by Send a forged delivery, not by the emulator">
              forged
            </span>
          )}
        </summary>
        <div class="trigger-record">
          {!verification.ok && (
            <p class="bad-text" data-testid="webhook-refusal">
              {verification.message}
            </p>
          )}
          <h4>Headers</h4>
          <Pre text={prettyValue(delivery.headers)} />
          <h4>Body</h4>
          <Pre text={prettyValue(delivery.body)} testid="webhook-delivery-json" />
        </div>
      </details>
    </li>
  );
}
