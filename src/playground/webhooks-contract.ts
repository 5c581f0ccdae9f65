/**
 * The playground's webhook routes as its page sees them: the shapes `src/playground/webhooks.ts` answers and
 * `ui/src/Webhooks.tsx` reads. Like `contract.ts`, it imports nothing, so that the page may import its types.
 */

/** A topic the account's webhooks may subscribe to (List Webhook Topics). */
export interface WebhookTopicChoice {
  id: string;
  name: string;
}

/** `GET /api/webhooks/topics`. */
export interface WebhookTopics {
  topics: WebhookTopicChoice[];
}

/** The webhook the playground listens with (its secret stays in the server). */
export interface WebhookListening {
  webhookId: string;
  topics: string[];
  /** When it was registered (ISO 8601). */
  since: string;
  /** Where the emulator delivers: the playground's receiver, its token masked. */
  endpoint: string;
}

/** What the receiver made of a delivery. */
export type WebhookVerification =
  | { ok: true }
  | {
      ok: false;
      /** `missing_header`, `bad_signature`, `webhook_id_mismatch` or `malformed_body` (verifyWebhook's reasons). */
      reason: string;
      message: string;
    };

/** A delivery the receiver got, as the page lists it. */
export interface ReceivedDelivery {
  id: number;
  /** When it arrived (ISO 8601). */
  at: string;
  /** Sent by the page's "forged delivery" button (its body changed after signing), not by the emulator. */
  forged: boolean;
  /** The request's headers as received (none of them secret: the signature is no key). */
  headers: Record<string, string>;
  /** The topics of its events, each once (from the body, whether verified or not). */
  topics: string[];
  eventCount: number;
  /** The body, parsed as JSON; its text when it is not JSON. */
  body: unknown;
  verification: WebhookVerification;
  /** What the receiver answered: 200, or verifyWebhook's 401 / 400. */
  status: number;
}

/** `GET /api/webhooks/deliveries`: the webhook listened with (or null) and the deliveries, newest first. */
export interface WebhookDeliveries {
  listening: WebhookListening | null;
  deliveries: ReceivedDelivery[];
}
