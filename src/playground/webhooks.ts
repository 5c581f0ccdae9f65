/**
 * The playground's webhooks: on the embedded emulator, a webhook registered (Create Webhook) with the playground's
 * own receiver as its endpoint and a secret made and kept here (never sent to the page), and the deliveries the
 * emulator makes to it listed as they arrive, each with what `verifyWebhook` made of it. A forged delivery (its
 * body changed after signing) can be sent to the same receiver to see one refused.
 *
 * The receiver (`POST /hooks/klaviyo/<token>`) is outside `/api`: the emulator cannot send the page's token, so it
 * is protected by an unguessable token in its path (new for every webhook) and by the signature.
 */
import { randomBytes } from "node:crypto";
import { runActionByKey } from "../actions/index.js";
import type { KlaviyoClient } from "../core/client.js";
import { NotFoundError } from "../core/errors.js";
import { DEFAULT_REVISION } from "../core/version.js";
import {
  signDelivery,
  truncatedEndpoint,
  type WebhookDelivery,
  type WebhookDeliveryItem,
} from "../klaviyo/webhooks.js";
import { verifyWebhook, WebhookVerificationError } from "../webhooks/index.js";
import { constantTimeIncludes } from "../webhooks/verify.js";
import type {
  ReceivedDelivery,
  WebhookDeliveries,
  WebhookListening,
  WebhookTopicChoice,
  WebhookVerification,
} from "./webhooks-contract.js";

/** The receiver's path, before its token. */
export const RECEIVER_PREFIX = "/hooks/klaviyo/";

/** The deliveries kept (the newest). */
export const DELIVERIES_KEPT = 200;

/** The name of the webhook the playground registers. */
export const PLAYGROUND_WEBHOOK_NAME = "Klaviyo playground";

/** A header the forged delivery carries so that the list can say who sent it; it proves nothing and grants nothing. */
const FORGED_HEADER = "x-playground-forged";

export class WebhookInputError extends Error {}

export interface WebhookListenerOptions {
  /** A client on the playground's connection (the embedded emulator). */
  readonly client: () => KlaviyoClient;
  /** The playground's own origin (`http://127.0.0.1:PORT`), known once it listens. */
  readonly origin: () => string;
  /** The account's ID, for a forged delivery made before any genuine one arrived. */
  readonly accountId: () => string;
  /** The time; default `Date.now`. */
  readonly now?: () => number;
}

interface Session {
  webhookId: string;
  topics: string[];
  since: number;
  token: string;
  secret: string;
}

/** A request's headers as a record (names lowercased, as fetch gives them). */
function headerRecord(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

/** The body parsed (its text when it is not JSON), and its events' count and topics. */
function readBody(raw: Uint8Array): { body: unknown; eventCount: number; topics: string[] } {
  const text = Buffer.from(raw).toString("utf8");
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    return { body, eventCount: 0, topics: [] };
  }
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return { body, eventCount: 0, topics: [] };
  const topics = new Set<string>();
  for (const item of data as Array<{ topic?: unknown }>)
    if (typeof item?.topic === "string") topics.add(item.topic);
  return { body, eventCount: data.length, topics: [...topics] };
}

/** The webhook the playground listens with, its receiver and the deliveries it got. */
export class WebhookListener {
  #session: Session | undefined;
  readonly #deliveries: ReceivedDelivery[] = [];
  /** The last genuine delivery's body, which a forged one is made from. */
  #lastGenuine: WebhookDelivery | undefined;
  #next = 1;
  /** Start and stop one at a time: a second Start waits for the first's webhook, and replaces it. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: WebhookListenerOptions) {}

  #now(): number {
    return (this.options.now ?? Date.now)();
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** The secret of the webhook listened with, for the server to scrub from anything it answers. */
  secrets(): string[] {
    return this.#session ? [this.#session.secret] : [];
  }

  /** `GET /api/webhooks/topics`: the account's topics (List Webhook Topics). */
  async topics(): Promise<WebhookTopicChoice[]> {
    const output = (await runActionByKey("list-webhook-topics", {}, { client: this.options.client() })) as {
      data?: Array<{ id?: unknown; attributes?: { name?: unknown } }>;
    };
    return (output.data ?? [])
      .filter((t): t is { id: string; attributes?: { name?: unknown } } => typeof t.id === "string")
      .map((t) => ({ id: t.id, name: typeof t.attributes?.name === "string" ? t.attributes.name : t.id }));
  }

  /** The webhook listened with, as the page sees it. */
  listening(): WebhookListening | null {
    const s = this.#session;
    if (!s) return null;
    return {
      webhookId: s.webhookId,
      topics: s.topics,
      since: new Date(s.since).toISOString(),
      endpoint: truncatedEndpoint(this.#receiverUrl(s)),
    };
  }

  /** `GET /api/webhooks/deliveries`. */
  deliveries(): WebhookDeliveries {
    return { listening: this.listening(), deliveries: this.#deliveries };
  }

  #receiverUrl(session: Session): string {
    return `${this.options.origin()}${RECEIVER_PREFIX}${session.token}`;
  }

  /**
   * `POST /api/webhooks/listen`: registers a webhook for `topics` (every topic of the account when none are
   * given) whose endpoint is the receiver, with a new secret and a new token; one listened with before is
   * deleted first. The deliveries listed so far are kept.
   */
  start(topics: readonly string[] | undefined): Promise<WebhookListening> {
    return this.#serial(async () => {
      if (topics !== undefined && (!Array.isArray(topics) || !topics.every((t) => typeof t === "string")))
        throw new WebhookInputError("topics must be a list of topic IDs");
      await this.#delete();
      const chosen = topics && topics.length > 0 ? [...topics] : (await this.topics()).map((t) => t.id);
      if (chosen.length === 0)
        throw new WebhookInputError(
          "the account has no webhook topics yet (topics are its metrics): record an event first",
        );
      const session: Omit<Session, "webhookId"> = {
        topics: chosen,
        since: this.#now(),
        token: randomBytes(32).toString("base64url"),
        secret: randomBytes(32).toString("hex"),
      };
      const created = (await runActionByKey(
        "create-webhook",
        {
          name: PLAYGROUND_WEBHOOK_NAME,
          endpointUrl: `${this.options.origin()}${RECEIVER_PREFIX}${session.token}`,
          secretKey: session.secret,
          topics: chosen,
          description: "Made by the playground's Webhooks tab; deleted by its Stop.",
        },
        { client: this.options.client() },
      )) as { data?: { id?: unknown } };
      const webhookId = created.data?.id;
      if (typeof webhookId !== "string") throw new Error("Create Webhook answered no webhook ID");
      this.#session = { ...session, webhookId };
      return this.listening() as WebhookListening;
    });
  }

  /** `DELETE /api/webhooks/listen`: deletes the webhook listened with; its ID, or undefined when there was none. */
  stop(): Promise<string | undefined> {
    return this.#serial(() => this.#delete());
  }

  async #delete(): Promise<string | undefined> {
    const session = this.#session;
    if (!session) return undefined;
    try {
      await runActionByKey(
        "delete-webhook",
        { webhookId: session.webhookId },
        { client: this.options.client() },
      );
    } catch (error) {
      // Gone already (the inspector's reset empties the emulator): deleted all the same.
      if (!(error instanceof NotFoundError)) throw error;
    }
    this.#session = undefined;
    return session.webhookId;
  }

  /** Whether `token` is the receiver's of the webhook listened with (compared in constant time). */
  accepts(token: string): boolean {
    const session = this.#session;
    return session !== undefined && constantTimeIncludes(token, [session.token]);
  }

  /**
   * The receiver: verifies a delivery with the webhook's secret, lists it with the result, and gives the status to
   * answer (200, or the 401 / 400 `verifyWebhook` says). Call only for a token `accepts`.
   */
  receive(raw: Uint8Array, headers: Headers): { status: number; body: { ok: boolean; error?: string } } {
    const session = this.#session;
    if (!session) return { status: 404, body: { ok: false, error: "not listening" } };
    let verification: WebhookVerification;
    let status = 200;
    try {
      this.#lastGenuine = verifyWebhook(raw, headers, session.secret);
      verification = { ok: true };
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      verification = { ok: false, reason: error.reason, message: error.message };
      status = error.status;
    }
    const shownHeaders = headerRecord(headers);
    const forged = shownHeaders[FORGED_HEADER] === "1";
    delete shownHeaders[FORGED_HEADER];
    this.#deliveries.unshift({
      id: this.#next++,
      at: new Date(this.#now()).toISOString(),
      forged,
      headers: shownHeaders,
      ...readBody(raw),
      verification,
      status,
    });
    if (this.#deliveries.length > DELIVERIES_KEPT) this.#deliveries.length = DELIVERIES_KEPT;
    return verification.ok
      ? { status, body: { ok: true } }
      : { status, body: { ok: false, error: verification.message } };
  }

  /**
   * `POST /api/webhooks/forge`: a delivery signed with the webhook's secret, then changed (an event's properties
   * say they were forged), POSTed to the receiver over HTTP as anyone could: the receiver refuses it. The listed
   * delivery it became.
   */
  async forge(): Promise<ReceivedDelivery> {
    const session = this.#session;
    if (!session)
      throw new WebhookInputError("start listening first: a forged delivery goes to the receiver");
    const genuine =
      this.#lastGenuine?.meta.klaviyo_webhook_id === session.webhookId ? this.#lastGenuine : undefined;
    const delivery = genuine ?? this.#sample(session);
    const signed = signDelivery(delivery, session.secret, this.#now());
    const body = JSON.parse(signed.body) as {
      data: Array<{ payload: { data: { attributes: Record<string, unknown> } } }>;
    };
    const attributes = body.data[0]?.payload.data.attributes;
    if (attributes)
      attributes.event_properties = {
        ...((attributes.event_properties as Record<string, unknown> | undefined) ?? {}),
        forged: "changed after signing",
      };
    const before = this.#next;
    const res = await fetch(this.#receiverUrl(session), {
      method: "POST",
      headers: { ...signed.headers, [FORGED_HEADER]: "1" },
      body: JSON.stringify(body),
    });
    await res.arrayBuffer();
    const listed = this.#deliveries.find((d) => d.id >= before && d.forged);
    if (!listed) throw new Error(`the receiver answered ${res.status} but listed nothing`);
    return listed;
  }

  /** A delivery of one made-up event of the first topic, for a forgery made before any delivery came. */
  #sample(session: Session): WebhookDelivery {
    const item: WebhookDeliveryItem = {
      topic: session.topics[0] ?? "event:api.sample",
      external_id: "forged-event",
      payload: {
        data: {
          type: "event",
          id: "forged-event",
          attributes: { event_properties: {}, datetime: new Date(this.#now()).toISOString() },
        },
      },
    };
    return {
      data: [item],
      meta: {
        klaviyo_account_id: this.options.accountId(),
        klaviyo_webhook_id: session.webhookId,
        timestamp: new Date(this.#now()).toISOString(),
        version: DEFAULT_REVISION,
      },
    };
  }
}
