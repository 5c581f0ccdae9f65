/**
 * Readable names over the types generated from Klaviyo's OpenAPI document (`api.generated.ts`, by
 * `npm run gen:types`): an operation's path parameters, query, body and success response by operation id, and
 * the document's schemas by name. Types only; nothing here exists at run time.
 *
 * The types are as closed as the document: it never says `additionalProperties`, so an object with declared
 * properties gets no index signature. At run time nothing is stripped — a field Klaviyo adds after this revision
 * is in `response.body` all the same (TypeScript's structural typing never drops fields), only not in its type:
 * read it as `(res.body.data.attributes as Record<string, unknown>).new_field`. Free-form objects (profile and
 * event `properties`, `custom_metadata`, …) are `Record<string, unknown>`.
 */
import type { components, operations } from "./api.generated.js";

export type { components, operations };

/** Every operation id of the document (`get_list`, `create_profile`, …): the ids of the operation table. */
export type OperationId = keyof operations;

/** A schema of the document by name: `Schema<"ListResponseObjectResource">`. */
export type Schema<Name extends keyof components["schemas"]> = components["schemas"][Name];

type ParametersOf<Op extends OperationId> = operations[Op]["parameters"];

/** Arrays as the caller may hold them (`as const` tuples included); the wire form is the same. */
type Loose<T> = T extends readonly (infer E)[] ? readonly E[] : T;

/** The path parameters (`{ id: string }`), `never` when the path has none. Each is sent as one segment. */
export type OperationPathParams<Op extends OperationId> = NonNullable<ParametersOf<Op>["path"]>;

/**
 * The query parameters the document declares (`fields[list]`, `filter`, `page[size]`, …), `never` when there are
 * none. Arrays are sent comma-separated (`fields[list]=name,created`).
 */
export type OperationQuery<Op extends OperationId> = {
  [K in keyof NonNullable<ParametersOf<Op>["query"]>]: Loose<NonNullable<ParametersOf<Op>["query"]>[K]>;
};

type Media<T> = T extends { content: infer C } ? C[keyof C] : never;

/** The request body (JSON:API for every operation but Upload Image From File's multipart form), or `never`. */
export type OperationBody<Op extends OperationId> = Media<NonNullable<operations[Op]["requestBody"]>>;

type SuccessStatus = 200 | 201 | 202 | 203 | 204 | 206;
type JsonOrNull<R> = R extends { content: infer C } ? C[keyof C] : null;

/**
 * The parsed body of a success (2xx) answer: the document's JSON:API document, or `null` for an operation that
 * answers 204 (or 202) without one.
 */
export type OperationResponse<Op extends OperationId> = JsonOrNull<
  operations[Op]["responses"][Extract<keyof operations[Op]["responses"], SuccessStatus>]
>;

/** One item of a collection answer's `data` (a resource, or a relationship's `{ type, id }`); `never` otherwise. */
export type OperationItem<Op extends OperationId> =
  OperationResponse<Op> extends { data: readonly (infer Item)[] } ? Item : never;

/** The operations whose answer is a collection (`data` is an array): those `paginateOperation` walks. */
export type CollectionOperationId = {
  [Op in OperationId]: OperationResponse<Op> extends { data: readonly unknown[] } ? Op : never;
}[OperationId];

type PathInput<Op extends OperationId> = [OperationPathParams<Op>] extends [never]
  ? { path?: never }
  : { path: OperationPathParams<Op> };

type QueryInput<Op extends OperationId> = [keyof OperationQuery<Op>] extends [never]
  ? { query?: never }
  : undefined extends ParametersOf<Op>["query"]
    ? { query?: OperationQuery<Op> }
    : { query: OperationQuery<Op> };

type BodyInput<Op extends OperationId> = operations[Op]["requestBody"] extends {
  content: { "multipart/form-data": unknown };
}
  ? { form: FormData; body?: never }
  : [OperationBody<Op>] extends [never]
    ? { body?: never; form?: never }
    : undefined extends operations[Op]["requestBody"]
      ? { body?: OperationBody<Op>; form?: never }
      : { body: OperationBody<Op>; form?: never };

/**
 * What an operation takes: `path` (its path parameters), `query` and `body` (or, for the multipart upload,
 * `form`), each required when the document requires it and refused when the operation has none.
 */
export type OperationInput<Op extends OperationId> = PathInput<Op> & QueryInput<Op> & BodyInput<Op>;

/** Short names for the resources most calls return (`components["schemas"]["…ResponseObjectResource"]`). */
export type AccountResource = Schema<"AccountResponseObjectResource">;
export type CampaignResource = Schema<"CampaignResponseObjectResource">;
export type CampaignMessageResource = Schema<"CampaignMessageResponseObjectResource">;
export type CatalogItemResource = Schema<"CatalogItemResponseObjectResource">;
export type CouponResource = Schema<"CouponResponseObjectResource">;
export type EventResource = Schema<"EventResponseObjectResource">;
export type FlowResource = Schema<"FlowResponseObjectResource">;
export type ImageResource = Schema<"ImageResponseObjectResource">;
export type ListResource = Schema<"ListResponseObjectResource">;
export type MetricResource = Schema<"MetricResponseObjectResource">;
export type ProfileResource = Schema<"ProfileResponseObjectResource">;
export type SegmentResource = Schema<"SegmentResponseObjectResource">;
export type TagResource = Schema<"TagResponseObjectResource">;
export type TemplateResource = Schema<"TemplateResponseObjectResource">;
