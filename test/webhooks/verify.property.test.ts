/**
 * Properties of `verifyWebhook`: every genuine delivery (any batch of events, unicode anywhere in its body, any
 * secret, any time, the headers in any form a server hands them over) is accepted and comes back as sent; every
 * forgery — a changed body byte, a changed timestamp, the wrong secret, the ID of another webhook, a signature
 * truncated, extended, uppercased or with one character changed, a header missing or empty — is refused, for
 * the right reason, before the body is parsed, and without a secret or the expected signature in the error.
 * Deliveries are made with `signDelivery`, as the emulator makes them; an independent HMAC checks the recipe.
 */
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  signDelivery,
  WEBHOOK_HEADERS,
  type WebhookDelivery,
  type WebhookDeliveryItem,
} from "../../src/klaviyo/webhooks.js";
import {
  verifyWebhook,
  type WebhookHeaders,
  WebhookVerificationError,
  type WebhookVerificationReason,
} from "../../src/webhooks/index.js";

const text = fc.string({ unit: "binary", maxLength: 40 });
const id = fc.stringMatching(/^[0-9A-Za-z]{6,26}$/);
const json: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 3 });

const item: fc.Arbitrary<WebhookDeliveryItem> = fc.record({
  topic: fc.constantFrom(
    "event:klaviyo.subscribed_to_email_marketing",
    "event:klaviyo.received_email",
    "event:api.placed_order",
  ),
  external_id: fc.oneof(id, text),
  payload: fc.record({
    data: fc.record({
      type: fc.constant("event" as const),
      id,
      attributes: fc.record({
        timestamp: fc.integer({ min: 0, max: 2_000_000_000 }),
        event_properties: fc.dictionary(text, json, { maxKeys: 4 }),
        datetime: fc.constant("2026-07-15T10:00:00+00:00"),
        uuid: fc.uuid(),
      }),
    }),
  }),
});

const delivery: fc.Arbitrary<WebhookDelivery> = fc.record({
  data: fc.array(item, { minLength: 1, maxLength: 5 }),
  meta: fc.record({
    klaviyo_account_id: id,
    klaviyo_webhook_id: id,
    timestamp: fc.constant("2026-07-15T10:00:00.000Z"),
    version: fc.constant("2026-07-15"),
  }),
});

/**
 * Any secret: unicode included, never empty. Well-formed: a lone surrogate becomes U+FFFD in the UTF-8 key, so
 * two secrets differing only there are one key to HMAC (and to Klaviyo).
 */
const secret = fc
  .string({ unit: "binary", minLength: 1, maxLength: 80 })
  .filter((s) => Buffer.from(s, "utf8").toString("utf8") === s);
/** A moment between 2001 and 2100. */
const now = fc.integer({ min: 1_000_000_000_000, max: 4_100_000_000_000 });

const genuine = fc.record({ delivery, secret, now });
type Genuine = { delivery: WebhookDelivery; secret: string; now: number };

function signed({ delivery, secret, now }: Genuine) {
  const { body, headers } = signDelivery(delivery, secret, now);
  return { body, headers: { ...headers } as Record<string, string> };
}

/** The reason `verifyWebhook` refuses with (failing when it accepts, or throws something else). */
function refusal(
  body: string | Uint8Array,
  headers: WebhookHeaders,
  key: string | readonly string[],
): WebhookVerificationReason {
  try {
    verifyWebhook(body, headers, key);
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookVerificationError);
    const refused = error as WebhookVerificationError;
    for (const s of typeof key === "string" ? [key] : key)
      if (s.length >= 8) expect(refused.message).not.toContain(s);
    // Nor any signature (64 hex digits): neither the one expected nor the one sent.
    expect(refused.message).not.toMatch(/[0-9a-f]{64}/i);
    return refused.reason;
  }
  throw new Error("a forged delivery was accepted");
}

/** HMAC keys shorter than the block are padded with zero bytes: "k" and "k\0" are the same key to HMAC. */
const sameHmacKey = (a: string, b: string) => a.replace(/\0+$/, "") === b.replace(/\0+$/, "");

describe("verifyWebhook accepts every genuine delivery", () => {
  it("property: any batch, any secret, any time; body as text or bytes; headers as a record or a Headers", () => {
    fc.assert(
      fc.property(genuine, fc.boolean(), fc.boolean(), (g, asBytes, asHeaders) => {
        const { body, headers } = signed(g);
        // The recipe, computed independently: HMAC-SHA256 over the raw body, then the timestamp header.
        const independent = createHmac("sha256", g.secret)
          .update(body)
          .update(headers[WEBHOOK_HEADERS.timestamp] as string)
          .digest("hex");
        expect(headers[WEBHOOK_HEADERS.signature]).toBe(independent);
        const raw = asBytes ? new TextEncoder().encode(body) : body;
        // Node hands headers over lower-cased; a fetch Headers takes only byte strings, as HTTP carries them.
        const given: WebhookHeaders = asHeaders
          ? new Headers(headers)
          : Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
        // What was sent, every field as it was (compared as JSON: -0 and 0, for one, are the same on the wire).
        expect(JSON.stringify(verifyWebhook(raw, given, g.secret))).toBe(body);
      }),
      { numRuns: 300 },
    );
  });

  it("property: while rotating, any one of several secrets may have signed it", () => {
    fc.assert(
      fc.property(genuine, fc.array(secret, { maxLength: 3 }), fc.nat(), (g, others, at) => {
        const { body, headers } = signed(g);
        const secrets = [...others];
        secrets.splice(at % (others.length + 1), 0, g.secret);
        expect(JSON.stringify(verifyWebhook(body, headers, secrets))).toBe(body);
      }),
    );
  });
});

describe("verifyWebhook refuses every forgery", () => {
  it("property: one body byte changed → bad_signature", () => {
    fc.assert(
      fc.property(genuine, fc.nat(), fc.integer({ min: 1, max: 255 }), (g, at, xor) => {
        const { body, headers } = signed(g);
        const bytes = new TextEncoder().encode(body);
        const i = at % bytes.length;
        bytes[i] = (bytes[i] as number) ^ xor;
        expect(refusal(bytes, headers, g.secret)).toBe("bad_signature");
      }),
      { numRuns: 300 },
    );
  });

  it("property: the timestamp changed (another moment, or any other text) → bad_signature", () => {
    fc.assert(
      fc.property(
        genuine,
        fc.oneof(
          now.map((ms) => new Date(ms).toUTCString()),
          fc
            .string({ minLength: 1, maxLength: 40 })
            .filter((s) => s.trim() === s && /^[\x21-\x7e ]+$/.test(s)),
        ),
        (g, timestamp) => {
          const { body, headers } = signed(g);
          fc.pre(timestamp !== headers[WEBHOOK_HEADERS.timestamp]);
          headers[WEBHOOK_HEADERS.timestamp] = timestamp;
          expect(refusal(body, headers, g.secret)).toBe("bad_signature");
        },
      ),
    );
  });

  it("property: bytes moved across the body's end and the timestamp's start (the recipe has no separator) → refused", () => {
    fc.assert(
      fc.property(genuine, fc.integer({ min: 1, max: 3 }), (g, k) => {
        const { body, headers } = signed(g);
        // The same signed string, cut elsewhere: the signature matches, and the body is then no JSON.
        const moved = {
          ...headers,
          [WEBHOOK_HEADERS.timestamp]: `${body.slice(-k)}${headers[WEBHOOK_HEADERS.timestamp]}`,
        };
        expect(refusal(body.slice(0, -k), moved, g.secret)).toBe("malformed_body");
      }),
    );
  });

  it("property: verified with the wrong secret (or several, none the signer's) → bad_signature", () => {
    fc.assert(
      fc.property(genuine, fc.array(secret, { minLength: 1, maxLength: 3 }), (g, wrong) => {
        fc.pre(wrong.every((w) => !sameHmacKey(w, g.secret)));
        const { body, headers } = signed(g);
        expect(refusal(body, headers, wrong.length === 1 ? (wrong[0] as string) : wrong)).toBe(
          "bad_signature",
        );
      }),
    );
  });

  it("property: a delivery signed for one webhook presented as another's (the ID header) → webhook_id_mismatch", () => {
    fc.assert(
      fc.property(genuine, id, (g, other) => {
        fc.pre(other !== g.delivery.meta.klaviyo_webhook_id);
        const { body, headers } = signed(g);
        headers[WEBHOOK_HEADERS.id] = other;
        expect(refusal(body, headers, g.secret)).toBe("webhook_id_mismatch");
      }),
    );
  });

  it("property: the body of one webhook's delivery under another's signed headers → refused", () => {
    fc.assert(
      fc.property(genuine, delivery, (g, other) => {
        const first = signed(g);
        const second = signed({ ...g, delivery: other });
        fc.pre(first.body !== second.body);
        // The signature and timestamp of the second, the body (and ID) of the first.
        const headers = {
          ...second.headers,
          [WEBHOOK_HEADERS.id]: first.headers[WEBHOOK_HEADERS.id] as string,
        };
        expect(refusal(first.body, headers, g.secret)).toBe("bad_signature");
      }),
    );
  });

  it("property: the signature truncated, extended, uppercased or with one character changed → bad_signature", () => {
    const mangle = fc.oneof(
      fc.nat(63).map((n) => (sig: string) => sig.slice(0, n)),
      fc.string({ minLength: 1, maxLength: 8 }).map((extra) => (sig: string) => `${sig}${extra}`),
      fc.constant((sig: string) => ` ${sig}`),
      fc.constant((sig: string) => sig.toUpperCase()),
      fc.tuple(fc.nat(63), fc.constantFrom(..."0123456789abcdefABCDEFxz")).map(
        ([at, c]) =>
          (sig: string) =>
            `${sig.slice(0, at)}${c}${sig.slice(at + 1)}`,
      ),
    );
    fc.assert(
      fc.property(genuine, mangle, (g, change) => {
        const { body, headers } = signed(g);
        const forged = change(headers[WEBHOOK_HEADERS.signature] as string);
        fc.pre(forged !== headers[WEBHOOK_HEADERS.signature] && forged !== "");
        headers[WEBHOOK_HEADERS.signature] = forged;
        expect(refusal(body, headers, g.secret)).toBe("bad_signature");
      }),
      { numRuns: 300 },
    );
  });

  it("property: a header missing, empty, or sent twice → missing_header (the first two) or refused", () => {
    const names = Object.values(WEBHOOK_HEADERS);
    fc.assert(
      fc.property(
        genuine,
        fc.subarray(names, { minLength: 1 }),
        fc.constantFrom("absent", "empty", "twice"),
        (g, chosen, how) => {
          const { body, headers } = signed(g);
          const given: Record<string, string | string[] | undefined> = { ...headers };
          for (const name of chosen) {
            if (how === "absent") delete given[name];
            else if (how === "empty") given[name] = "";
            else given[name] = [headers[name] as string, headers[name] as string];
          }
          const reason = refusal(body, given, g.secret);
          if (how === "twice") {
            // Joined as a fetch Headers joins repeats: never the one value that was signed or named. A doubled
            // signature or timestamp breaks the signature (checked first); a doubled ID alone, the ID's match.
            const signing =
              chosen.includes(WEBHOOK_HEADERS.signature) || chosen.includes(WEBHOOK_HEADERS.timestamp);
            expect(reason).toBe(signing ? "bad_signature" : "webhook_id_mismatch");
          } else expect(reason).toBe("missing_header");
        },
      ),
    );
  });

  it("property: a signed body that is not a delivery → malformed_body (400), never thrown as anything else", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: "binary" }),
          json.map((j) => JSON.stringify(j) ?? ""),
        ),
        secret,
        now,
        (body, key, ms) => {
          const timestamp = new Date(ms).toUTCString();
          const headers = {
            [WEBHOOK_HEADERS.id]: "01J0WEBHOOK",
            [WEBHOOK_HEADERS.timestamp]: timestamp,
            [WEBHOOK_HEADERS.signature]: createHmac("sha256", key)
              .update(body)
              .update(timestamp)
              .digest("hex"),
          };
          let error: unknown;
          try {
            verifyWebhook(body, headers, key);
          } catch (caught) {
            error = caught;
          }
          expect(error).toBeInstanceOf(WebhookVerificationError);
          expect((error as WebhookVerificationError).reason).toBe("malformed_body");
          expect((error as WebhookVerificationError).status).toBe(400);
        },
      ),
    );
  });
});

describe("verifyWebhook: what it is given", () => {
  const g = {
    delivery: fc.sample(delivery, { seed: 1, numRuns: 1 })[0] as WebhookDelivery,
    secret: "whsec_test",
    now: 1_760_000_000_000,
  };

  it("says which headers are missing, with status 401, and the error serialises without a secret", () => {
    const { body, headers } = signed(g);
    const { [WEBHOOK_HEADERS.signature]: _s, [WEBHOOK_HEADERS.timestamp]: _t, ...rest } = headers;
    let error: WebhookVerificationError | undefined;
    try {
      verifyWebhook(body, rest, g.secret);
    } catch (caught) {
      error = caught as WebhookVerificationError;
    }
    expect(error?.status).toBe(401);
    expect(error?.message).toBe(
      `a Klaviyo webhook header is missing: ${WEBHOOK_HEADERS.signature}, ${WEBHOOK_HEADERS.timestamp}`,
    );
    expect(JSON.stringify(error)).not.toContain(g.secret);
    expect(error?.toJSON()).toMatchObject({
      name: "WebhookVerificationError",
      reason: "missing_header",
      status: 401,
    });
  });

  it("keeps fields it does not know, at every level", () => {
    const extra = {
      ...g.delivery,
      extra: { kept: true },
      data: g.delivery.data.map((i) => ({ ...i, note: "kept" })),
      meta: { ...g.delivery.meta, region: "eu" },
    };
    const { body, headers } = signDelivery(extra, g.secret, g.now);
    expect(verifyWebhook(body, headers, g.secret)).toEqual(extra);
  });

  it("refuses to verify with no secret, an empty one, or an empty list (a programming error, not a forgery)", () => {
    const { body, headers } = signed(g);
    expect(() => verifyWebhook(body, headers, "")).toThrow(TypeError);
    expect(() => verifyWebhook(body, headers, [])).toThrow(TypeError);
    expect(() => verifyWebhook(body, headers, [g.secret, ""])).toThrow(TypeError);
    expect(() => verifyWebhook(body, headers, undefined as unknown as string)).toThrow(TypeError);
  });

  it("bytes that are not UTF-8, signed, are a malformed body", () => {
    const bytes = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]);
    const timestamp = new Date(g.now).toUTCString();
    const headers = {
      [WEBHOOK_HEADERS.id]: "x",
      [WEBHOOK_HEADERS.timestamp]: timestamp,
      [WEBHOOK_HEADERS.signature]: createHmac("sha256", g.secret)
        .update(bytes)
        .update(timestamp)
        .digest("hex"),
    };
    expect(refusal(bytes, headers, g.secret)).toBe("malformed_body");
  });
});
