/**
 * Secrets at rest: AES-256-GCM with a key the user provides. A sealed value is base64 of
 * `version (1 byte) ‖ IV (12 random bytes) ‖ auth tag (16 bytes) ‖ ciphertext`; the version byte and a context
 * string (such as the Redis key the value is stored under) are authenticated as additional data, so a value
 * cannot be altered, nor moved to another key, without failing to open. No error here ever quotes a key, a
 * plaintext or a ciphertext.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { KlaviyoError } from "../core/errors.js";

export const ENCRYPTION_KEY_BYTES = 32;
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + IV_BYTES + TAG_BYTES;

/** A bad key, or a value that cannot be opened with the key given. */
export class EncryptionError extends KlaviyoError {
  override name = "EncryptionError";
  constructor(
    readonly code: "invalid_key" | "cannot_decrypt",
    message: string,
  ) {
    super(message);
  }
}

const HEX = /^[0-9a-fA-F]+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * A 32-byte key from its text: 64 hex digits, or base64 / base64url (44 or 43 characters), surrounding
 * whitespace ignored; or the 32 bytes themselves. Errors say what is wrong, never what was given.
 * (`openssl rand -base64 32` makes one.)
 */
export function encryptionKeyFrom(
  value: string | Uint8Array,
  name = "the token encryption key (KLAVIYO_TOKEN_ENCRYPTION_KEY)",
): Buffer {
  const advice = "give 32 random bytes as 64 hex digits or as base64 (openssl rand -base64 32)";
  if (typeof value !== "string") {
    if (!(value instanceof Uint8Array))
      throw new EncryptionError("invalid_key", `${name} must be text or bytes; ${advice}`);
    if (value.length !== ENCRYPTION_KEY_BYTES)
      throw new EncryptionError(
        "invalid_key",
        `${name} must be ${ENCRYPTION_KEY_BYTES} bytes, not ${value.length}; ${advice}`,
      );
    return Buffer.from(value);
  }
  const text = value.trim();
  if (!text) throw new EncryptionError("invalid_key", `${name} is empty; ${advice}`);
  let bytes: Buffer;
  if (text.length === ENCRYPTION_KEY_BYTES * 2 && HEX.test(text)) {
    bytes = Buffer.from(text, "hex");
  } else if (HEX.test(text) && text.length % 2 === 0 && text.length !== 44) {
    // Hex of the wrong length (44 characters of hex digits is also valid base64 of 33 bytes: reported below).
    throw new EncryptionError(
      "invalid_key",
      `${name} is ${text.length / 2} bytes of hex, not ${ENCRYPTION_KEY_BYTES}; ${advice}`,
    );
  } else if (BASE64.test(text) || BASE64URL.test(text)) {
    const standard = text.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
    if (standard.length % 4 === 1)
      throw new EncryptionError("invalid_key", `${name} is not valid base64 or hex; ${advice}`);
    bytes = Buffer.from(standard, "base64");
    // Node's decoder skips what it cannot read: only a canonical round trip is a real base64 key.
    if (bytes.toString("base64").replace(/=+$/, "") !== standard)
      throw new EncryptionError("invalid_key", `${name} is not valid base64 or hex; ${advice}`);
  } else {
    throw new EncryptionError("invalid_key", `${name} is neither hex nor base64; ${advice}`);
  }
  if (bytes.length !== ENCRYPTION_KEY_BYTES)
    throw new EncryptionError(
      "invalid_key",
      `${name} decodes to ${bytes.length} bytes, not ${ENCRYPTION_KEY_BYTES}; ${advice}`,
    );
  return bytes;
}

function additionalData(context: string): Buffer {
  return Buffer.concat([Buffer.from([VERSION]), Buffer.from(context, "utf8")]);
}

/** Encrypts `plaintext` under `key`, bound to `context`; returns base64 text. */
export function encrypt(plaintext: string, key: Uint8Array, context: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData(context));
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]).toString("base64");
}

/**
 * Opens what `encrypt` sealed with the same key and context. A wrong key, another context, an unknown version
 * or any altered byte throws `EncryptionError("cannot_decrypt")`, with nothing of the value in its message.
 */
export function decrypt(sealed: string, key: Uint8Array, context: string): string {
  const fail = (why: string) =>
    new EncryptionError("cannot_decrypt", `the value cannot be decrypted: ${why}`);
  const bytes = Buffer.from(sealed, "base64");
  if (bytes.length < HEADER_BYTES || bytes.toString("base64") !== sealed)
    throw fail("it is not a value this library encrypted");
  if (bytes[0] !== VERSION) throw fail(`unknown format version ${bytes[0]}`);
  const iv = bytes.subarray(1, 1 + IV_BYTES);
  const tag = bytes.subarray(1 + IV_BYTES, HEADER_BYTES);
  const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(additionalData(context));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(bytes.subarray(HEADER_BYTES)), decipher.final()]).toString("utf8");
  } catch {
    throw fail("wrong key, or the value was altered or moved from another key");
  }
}
