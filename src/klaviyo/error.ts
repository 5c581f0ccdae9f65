/**
 * The base of every error the connector throws, here so that Klaviyo's own rules (the filter language) can throw
 * it without this folder importing the transport. Nothing on it ever carries a secret.
 */
export class KlaviyoError extends Error {
  override name = "KlaviyoError";

  toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message };
  }
}
