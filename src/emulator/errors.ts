/**
 * Klaviyo's error document. Klaviyo's API is built on Django REST Framework, so its titles are DRF's default
 * messages ("Not found.", "Request was throttled.") and every entry carries an integer `status`, a `source`,
 * and empty `links` / `meta` objects even though the OpenAPI schema omits them.
 */
import { jsonApi } from "./json-api.js";

export type ErrorSource = { readonly pointer: string } | { readonly parameter: string };

export interface ProblemInit {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  /** Where in the request the problem is; Klaviyo answers `/data/` when nothing more precise applies. */
  readonly source?: ErrorSource;
  readonly links?: Readonly<Record<string, string>>;
  readonly meta?: Readonly<Record<string, unknown>>;
}

/** A failure a middleware or handler throws to answer with Klaviyo's error format. */
export class EmulatorProblem extends Error {
  override name = "EmulatorProblem";
  constructor(
    readonly init: ProblemInit,
    readonly headers: Readonly<Record<string, string>> = {},
    /** Further errors of the same answer (Klaviyo lists every invalid field, not just the first). */
    readonly others: readonly ProblemInit[] = [],
  ) {
    super(init.detail);
  }
}

/** Renders a problem as the `{"errors": [...]}` response Klaviyo would send. */
export function problemResponse(problem: EmulatorProblem): Response {
  const render = ({ status, code, title, detail, source, links, meta }: ProblemInit) => ({
    id: crypto.randomUUID(),
    status,
    code,
    title,
    detail,
    source: source ?? { pointer: "/data/" },
    links: links ?? {},
    meta: meta ?? {},
  });
  const errors = [problem.init, ...problem.others].map(render);
  return jsonApi({ errors }, problem.init.status, { ...problem.headers });
}

/** 400 `invalid` for a request body member, pointing at it (`/data/attributes/name`). */
export function invalidBody(pointer: string, detail: string): ProblemInit {
  return { status: 400, code: "invalid", title: "Invalid input.", detail, source: { pointer } };
}

/** 400 `invalid` for a bad query parameter or header, naming it in `source.parameter`. */
export function invalidParameter(parameter: string, detail: string): EmulatorProblem {
  return new EmulatorProblem({
    status: 400,
    code: "invalid",
    title: "Invalid input.",
    detail,
    source: { parameter },
  });
}

/** 404 `not_found`, for an unknown route and for an id that does not exist. */
export function notFound(detail: string): EmulatorProblem {
  return new EmulatorProblem({ status: 404, code: "not_found", title: "Not found.", detail });
}

/** 500 as Klaviyo's servers answer it; nothing of the cause reaches the client. */
export function serverError(detail = "A server error occurred."): EmulatorProblem {
  return new EmulatorProblem({ status: 500, code: "error", title: "A server error occurred.", detail });
}
