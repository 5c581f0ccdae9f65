/**
 * JSON:API documents as Klaviyo writes them: resource objects with absolute `links.self`, sparse fieldsets
 * applied per type, `included` de-duplicated, and collection links.
 */
import { applyFieldset } from "./fields.js";
import { canonicalUrl, jsonApi, selfLink } from "./json-api.js";
import type { QueryContext } from "./query.js";

export interface Relationship {
  data?: { type: string; id: string } | Array<{ type: string; id: string }> | null;
  links?: { self: string; related: string };
}

export interface JsonApiResource {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  relationships?: Record<string, Relationship>;
  links: { self: string };
}

/** A resource object with its self link (`/api/<path>/<id>/`), attributes copied so state never leaks by alias. */
export function resource(
  query: QueryContext,
  type: string,
  path: string,
  id: string,
  attributes: Record<string, unknown>,
  relationships?: Record<string, Relationship>,
): JsonApiResource {
  return {
    type,
    id,
    attributes: applyFieldset(attributes, query.fields.get(type)),
    ...(relationships ? { relationships } : {}),
    links: { self: selfLink(query.origin, path, id) },
  };
}

/** Relationship links as Klaviyo gives them: `/api/<path>/<id>/relationships/<name>/` and the related URL. */
export function relationshipLinks(
  query: QueryContext,
  path: string,
  id: string,
  name: string,
): Relationship["links"] {
  return {
    self: `${selfLink(query.origin, path, id)}relationships/${name}/`,
    related: `${selfLink(query.origin, path, id)}${name}/`,
  };
}

/** Collects included resources once each, in the order first met. */
export class Included {
  private readonly seen = new Map<string, JsonApiResource>();
  add(item: JsonApiResource): void {
    const key = `${item.type}\u0000${item.id}`;
    if (!this.seen.has(key)) this.seen.set(key, item);
  }
  get size(): number {
    return this.seen.size;
  }
  toArray(): JsonApiResource[] {
    return [...this.seen.values()];
  }
}

/** A single-resource answer (`201` for creates). */
export function single(
  requestUrl: string,
  data: JsonApiResource,
  included?: Included,
  status = 200,
): Response {
  return jsonApi(
    {
      data,
      ...(included && included.size > 0 ? { included: included.toArray() } : {}),
      links: { self: canonicalUrl(requestUrl) },
    },
    status,
  );
}

/**
 * A document of one resource or a list read with the request's `include`: `included` is there whenever something
 * was asked to be included (empty when nothing matched), as Klaviyo answers `include=`.
 */
export function withIncluded(
  requestUrl: string,
  query: Pick<QueryContext, "include">,
  data: JsonApiResource | JsonApiResource[],
  included: Included,
): Response {
  return jsonApi({
    data,
    ...(query.include.size > 0 ? { included: included.toArray() } : {}),
    links: { self: canonicalUrl(requestUrl) },
  });
}

/** An empty answer (202 for jobs and events, 204 for deletes). */
export function empty(status: 202 | 204): Response {
  return new Response(null, { status });
}
