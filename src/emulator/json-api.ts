/** Klaviyo answers every `/api/*` call, success or error, with this media type. */
export const JSON_API = "application/vnd.api+json";

/** A JSON:API response as Klaviyo sends it, so clients that check `Content-Type` see the real thing. */
export function jsonApi(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": JSON_API, ...headers },
  });
}

/** The URL a resource's `links.self` points at: Klaviyo writes them absolute, with a trailing slash. */
export function selfLink(origin: string, ...segments: string[]): string {
  return `${origin}/api/${segments.map(encodeURIComponent).join("/")}/`;
}

/**
 * The request URL as a link: the query re-serialised so brackets are percent-encoded (`fields%5Bprofile%5D`),
 * as Klaviyo writes its links, which must be valid URIs.
 */
export function canonicalUrl(requestUrl: string): string {
  const url = new URL(requestUrl);
  url.search = url.searchParams.toString();
  return url.toString();
}
