/**
 * How a request gets its credentials. The transport asks the strategy for the `Authorization` header on every
 * attempt, so a strategy that refreshes (OAuth) can hand out a new token between attempts.
 */
export interface AuthStrategy {
  readonly kind: "api-key" | "oauth";
  /** A stable, non-secret name for the credential (a hash prefix): the key rate-limit buckets are kept under. */
  readonly id: string;
  /** The value of the `Authorization` header for the next attempt. */
  authorization(signal?: AbortSignal): Promise<string> | string;
  /**
   * Called after a 401 with the `Authorization` the refused request carried. Returns true when the strategy has
   * fresh credentials and the request should be sent once more (OAuth refresh); an API key has none.
   */
  onUnauthorized?(used: string | undefined, signal?: AbortSignal): Promise<boolean>;
  /** Every secret this strategy holds, so errors and logs can scrub them. */
  secrets(): readonly string[];
}
