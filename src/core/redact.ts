/**
 * Scrubs credentials out of text that may reach an error, a log or a terminal. Known secrets are replaced
 * wherever they occur; anything shaped like a Klaviyo key, a bearer token or an OAuth parameter is masked too,
 * so a secret the client was never told about (one echoed by a proxy, say) is still caught.
 */
const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/\b(Klaviyo-API-Key|Bearer|Basic)\s+[^\s"',;]+/gi, "$1 [REDACTED]"],
  [/\bpk_[A-Za-z0-9_-]{4,}/g, "pk_[REDACTED]"],
  [
    /\b(access_token|refresh_token|client_secret|code_verifier|api_key|token|secret_key)=([^&\s"']+)/gi,
    "$1=[REDACTED]",
  ],
  // A webhook's `secret_key` (Create and Update Webhook send it) is its signing key.
  [
    /("(?:access_token|refresh_token|client_secret|api_key|apiKey|token|secret_key|secretKey)"\s*:\s*")(?:[^"\\]|\\.)*"/gi,
    '$1[REDACTED]"',
  ],
];

export function redact(text: string, secrets: Iterable<string> = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join("[REDACTED]");
  }
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}
