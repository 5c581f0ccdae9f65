/**
 * Contract checks against Klaviyo's OpenAPI document: responses (the emulator's, or any other) against the
 * schema the document declares for the operation and status, and requests (the connector's) against the
 * operation's parameters and request body.
 *
 * The document is OpenAPI 3.0, which ajv does not read as such; schemas are normalised on the way in:
 *  - `nullable: true` admits null (a type array, `null` added to an enum, or `if null / else schema` around a
 *    `$ref`, a combinator or an untyped schema), `example`, `discriminator` and `x-*` keys are dropped;
 *  - `#/components/schemas/X` becomes a separately registered schema, added the first time it is referenced,
 *    so only what an operation needs is normalised and compiled (the whole 3 MB document takes seconds);
 *  - `oneOf` is read as `anyOf`: the document's unions have no discriminator and overlap (integer|number,
 *    objects whose members are all optional), so a valid value often matches several branches. The API's
 *    server-side models (pydantic unions) take the first branch that fits, which is `anyOf`;
 *  - `allOf` (used to extend a resource with extra attributes) is merged into one schema, so that
 *  - an object schema that declares `properties` admits no other member. This is stricter than the document,
 *    which never says `additionalProperties`, so a misspelt attribute fails instead of passing as an extra.
 *    The one place Klaviyo itself sends undeclared members, error objects, is widened explicitly (below).
 *
 * A response to a request with sparse fieldsets (`fields[type]=…`) holds only the attributes asked for, so
 * `required` is not enforced inside `attributes` then (`validateResponse(…, { sparse: true })`).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsPlugin from "ajv-formats";
import { matchOperation } from "../../src/klaviyo/operations.js";
import { contractProblems, expectNoContractProblems } from "./contract-problems.js";
import { loadOpenApi, openApiAvailable } from "./openapi.js";

type Schema = { [key: string]: unknown };

interface OpenApiParameter {
  readonly name: string;
  readonly in: "query" | "header" | "path" | "cookie";
  readonly required?: boolean;
  readonly schema?: Schema;
  readonly explode?: boolean;
  readonly style?: string;
}

interface OpenApiMedia {
  readonly schema?: Schema;
}

interface OpenApiResponse {
  readonly $ref?: string;
  readonly content?: Readonly<Record<string, OpenApiMedia>>;
}

interface OpenApiOperation {
  readonly operationId: string;
  readonly parameters?: readonly OpenApiParameter[];
  readonly requestBody?: {
    readonly required?: boolean;
    readonly content: Readonly<Record<string, OpenApiMedia>>;
  };
  readonly responses: Readonly<Record<string, OpenApiResponse>>;
}

interface OpenApiDocument {
  readonly paths: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly components: {
    readonly schemas: Readonly<Record<string, Schema>>;
    readonly responses?: Readonly<Record<string, OpenApiResponse>>;
  };
}

interface IndexedOperation {
  readonly method: string;
  readonly path: string;
  readonly operation: OpenApiOperation;
  readonly parameters: readonly OpenApiParameter[];
}

const SCHEMA_REF = "#/components/schemas/";
const RESPONSE_REF = "#/components/responses/";
const METHODS = ["get", "post", "put", "patch", "delete", "head", "options"];
/** The `revision` header's format, as the document's description of the parameter gives it. */
const REVISION = /^\d{4}-\d{2}-\d{2}(?:\.[A-Za-z0-9_-]+)?$/;

function isSchema(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function schemaArray(value: unknown): Schema[] {
  return Array.isArray(value) ? value.filter(isSchema) : [];
}

/** How `required` is read: as written, or (inside the attributes of a sparse-fieldset answer) not at all. */
type Mode = "full" | "sparse" | "sparse-attributes";

/** The validator of one test process: the document, one ajv instance, and what has been compiled so far. */
class ContractValidator {
  readonly ajv: Ajv;
  private readonly operations = new Map<string, IndexedOperation>();
  private readonly registered = new Set<string>();
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly doc: OpenApiDocument) {
    this.ajv = new Ajv({ strict: false, allErrors: true, verbose: true, validateSchema: false });
    // ajv-formats is CommonJS whose `module.exports` is the plugin; under NodeNext its type is the namespace.
    addFormatsPlugin.default(this.ajv, {
      mode: "full",
      formats: ["date-time", "date", "uri", "email", "uuid"],
    });
    // The document's `time` fields are local wall-clock times (flow delays), written without an offset.
    this.ajv.addFormat("time", /^(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?:[zZ]|[+-]\d\d:?\d\d)?$/);
    // A file part of a multipart upload; nothing to check in JSON.
    this.ajv.addFormat("binary", true);
    for (const [path, item] of Object.entries(doc.paths)) {
      const shared = Array.isArray(item.parameters) ? (item.parameters as OpenApiParameter[]) : [];
      for (const method of METHODS) {
        const operation = item[method] as OpenApiOperation | undefined;
        if (!operation?.operationId) continue;
        const own = operation.parameters ?? [];
        const parameters = [
          ...shared.filter((p) => !own.some((o) => o.name === p.name && o.in === p.in)),
          ...own,
        ];
        this.operations.set(operation.operationId, {
          method: method.toUpperCase(),
          path,
          operation,
          parameters,
        });
      }
    }
  }

  operation(operationId: string): IndexedOperation {
    const found = this.operations.get(operationId);
    if (!found) throw new Error(`Klaviyo's OpenAPI document has no operation "${operationId}"`);
    return found;
  }

  response(response: OpenApiResponse): OpenApiResponse {
    if (!response.$ref) return response;
    const name = response.$ref.startsWith(RESPONSE_REF)
      ? response.$ref.slice(RESPONSE_REF.length)
      : undefined;
    const target = name === undefined ? undefined : this.doc.components.responses?.[name];
    if (!target) throw new Error(`Cannot resolve response ${response.$ref}`);
    return this.response(target);
  }

  /** A compiled validator, cached under `key`; `build` runs only the first time. */
  compile(key: string, build: () => Schema): ValidateFunction {
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(build());
      this.compiled.set(key, validate);
    }
    return validate;
  }

  /** The JSON Schema for an OpenAPI schema, its component references registered with ajv as needed. */
  schema(raw: Schema, mode: Mode = "full"): Schema {
    const source = Array.isArray(raw.allOf) ? this.mergeAllOf(raw) : raw;
    const out: Schema = {};
    for (const [key, value] of Object.entries(source)) {
      if (key === "example" || key === "discriminator" || key === "nullable" || key.startsWith("x-"))
        continue;
      switch (key) {
        case "$ref":
          out.$ref = this.component(String(value), mode);
          break;
        case "properties":
          out.properties = Object.fromEntries(
            Object.entries(isSchema(value) ? value : {}).map(([name, child]) => [
              name,
              this.schema(
                isSchema(child) ? child : {},
                mode === "sparse" && name === "attributes" ? "sparse-attributes" : mode,
              ),
            ]),
          );
          break;
        case "required":
          if (mode !== "sparse-attributes") out.required = value;
          break;
        case "items":
        case "not":
          out[key] = isSchema(value) ? this.schema(value, mode) : value;
          break;
        case "additionalProperties":
          out[key] = isSchema(value) ? this.schema(value, mode) : value;
          break;
        case "oneOf":
        case "anyOf":
          out.anyOf = [...schemaArray(out.anyOf), ...schemaArray(value).map((s) => this.schema(s, mode))];
          break;
        case "allOf":
          out.allOf = schemaArray(value).map((s) => this.schema(s, mode));
          break;
        default:
          out[key] = value;
      }
    }
    if (isSchema(out.properties) && !("additionalProperties" in out)) out.additionalProperties = false;
    return source.nullable === true ? allowNull(out) : out;
  }

  /** The ajv id of component `ref` in `mode`, normalising and registering it on first use. */
  private component(ref: string, mode: Mode): string {
    if (!ref.startsWith(SCHEMA_REF)) throw new Error(`Unsupported $ref ${ref}`);
    const name = ref.slice(SCHEMA_REF.length);
    const id = `https://openapi.klaviyo.invalid/${mode}/${encodeURIComponent(name)}`;
    if (!this.registered.has(id)) {
      const raw = this.doc.components.schemas[name];
      if (!raw) throw new Error(`Klaviyo's OpenAPI document has no schema ${name}`);
      // Marked before normalising, so that a schema that refers to itself does not recurse forever.
      this.registered.add(id);
      this.ajv.addSchema({ ...this.schema(raw, mode), $id: id });
    }
    return id;
  }

  /** A schema with its `$ref` replaced by the target (the reference's own siblings, such as `nullable`, kept). */
  private deref(schema: Schema): Schema {
    if (typeof schema.$ref !== "string") return schema;
    const { $ref, ...siblings } = schema;
    const target = $ref.startsWith(SCHEMA_REF)
      ? this.doc.components.schemas[$ref.slice(SCHEMA_REF.length)]
      : undefined;
    if (!target) throw new Error(`Cannot resolve ${$ref}`);
    return { ...this.deref(target), ...siblings };
  }

  /**
   * `allOf` as one schema: properties merged member by member (recursively where two members declare the
   * same one), `required` united. Null is admitted where the schema itself says `nullable` (the document's
   * idiom for a nullable reference) or every member does.
   */
  private mergeAllOf(schema: Schema): Schema {
    const { allOf, nullable, ...own } = schema;
    const members = schemaArray(allOf).map((m) => this.deref(m));
    const merged = members.reduce((a, b) => this.mergeTwo(a, b), own);
    const membersNullable = members.length > 0 && members.every((m) => m.nullable === true);
    const result: Schema = { ...merged };
    delete result.nullable;
    if (nullable === true || membersNullable) result.nullable = true;
    return result;
  }

  private mergeTwo(a: Schema, b: Schema): Schema {
    const out: Schema = { ...a };
    for (const [key, value] of Object.entries(b)) {
      if (key === "properties" && isSchema(value) && isSchema(a.properties)) {
        const properties: Schema = { ...a.properties };
        for (const [name, child] of Object.entries(value)) {
          const mine = properties[name];
          if (!isSchema(mine) || !isSchema(child)) properties[name] = child;
          else {
            const [x, y] = [this.deref(mine), this.deref(child)];
            const both = this.mergeTwo(x, y);
            delete both.nullable;
            if (x.nullable === true && y.nullable === true) both.nullable = true;
            properties[name] = both;
          }
        }
        out.properties = properties;
      } else if (key === "required" && Array.isArray(value) && Array.isArray(a.required)) {
        out.required = [...new Set([...a.required, ...value])];
      } else if (!(key in out)) {
        out[key] = value;
      }
    }
    return out;
  }
}

/** Admits null besides what `schema` admits. */
function allowNull(schema: Schema): Schema {
  const plain = !("$ref" in schema || "anyOf" in schema || "allOf" in schema || "not" in schema);
  if (plain && (typeof schema.type === "string" || Array.isArray(schema.type))) {
    const types: unknown[] = Array.isArray(schema.type) ? schema.type : [schema.type];
    const out: Schema = { ...schema, type: types.includes("null") ? types : [...types, "null"] };
    if (Array.isArray(schema.enum) && !schema.enum.includes(null)) out.enum = [...schema.enum, null];
    return out;
  }
  // Not `anyOf: [schema, null]`: on a wrong value that would report "must be null" besides the real problem.
  return { if: { type: "null" }, else: schema };
}

/**
 * Klaviyo's error objects carry `status`, `links` and `meta` besides the `id`, `code`, `title`, `detail` and
 * `source` the document declares (see src/emulator/errors.ts). The document does not forbid other members,
 * but the normalisation above does (`additionalProperties: false` on every declared object), so these three
 * are declared here: they are part of what Klaviyo really sends.
 */
function allowKlaviyoErrorMembers(schema: Schema): Schema {
  const errors = isSchema(schema.properties) ? schema.properties.errors : undefined;
  const item = isSchema(errors) && isSchema(errors.items) ? errors.items : undefined;
  if (!item || !isSchema(item.properties)) return schema;
  item.properties = {
    ...item.properties,
    status: { type: "integer" },
    links: { type: "object" },
    meta: { type: "object" },
  };
  return schema;
}

let instance: ContractValidator | undefined;

function validator(): ContractValidator {
  instance ??= new ContractValidator(loadOpenApi<OpenApiDocument>());
  return instance;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** ajv's errors as `where/pointer: problem` lines, without duplicates. */
function describeErrors(errors: readonly ErrorObject[] | null | undefined, where: string): string[] {
  const lines = new Set<string>();
  for (const error of errors ?? []) {
    // The "must match else schema" of a nullable wrapper: the errors inside say what is wrong.
    if (error.keyword === "if") continue;
    const at = `${where}${error.instancePath}`;
    switch (error.keyword) {
      case "additionalProperties":
        lines.add(`${at}/${error.params.additionalProperty}: not declared by the document`);
        break;
      case "required":
        lines.add(`${at}/${error.params.missingProperty}: required, missing`);
        break;
      case "enum":
        lines.add(`${at}: ${show(error.data)} is not one of ${show(error.params.allowedValues)}`);
        break;
      case "type":
        lines.add(`${at}: ${show(error.data)} is not of type ${show(error.params.type)}`);
        break;
      default:
        lines.add(
          `${at}: ${error.message ?? error.keyword}${error.data === undefined ? "" : ` (${show(error.data)})`}`,
        );
    }
  }
  return [...lines];
}

function mediaType(contentType: string | null | undefined): string {
  return (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

function isJsonMedia(type: string): boolean {
  return type === "application/json" || type.endsWith("+json");
}

/** What `validateResponse` is given as the body: the raw text, a parsed value, or nothing. */
export type ResponseBody = string | object | null | undefined;

export interface ResponseCheckOptions {
  /** The request asked for sparse fieldsets (`fields[type]=…`), so attributes may be missing. */
  readonly sparse?: boolean;
}

/**
 * Every way a response departs from what the document declares for `operationId` and `status` (empty when it
 * conforms). `body` is the raw text (parsed here), or an already parsed value; `null`/`undefined` or `""` is
 * an empty body.
 */
export function validateResponse(
  operationId: string,
  status: number,
  contentType: string | null | undefined,
  body: ResponseBody,
  options: ResponseCheckOptions = {},
): string[] {
  const v = validator();
  const { operation } = v.operation(operationId);
  const key = [String(status), `${String(status)[0]}XX`, "default"].find((k) => operation.responses[k]);
  if (!key) {
    return [`status ${status} is not declared (declared: ${Object.keys(operation.responses).join(", ")})`];
  }
  const declared = v.response(operation.responses[key] as OpenApiResponse);
  const empty = body === undefined || body === null || body === "";
  const media = Object.entries(declared.content ?? {});
  if (media.length === 0) {
    return empty ? [] : [`status ${status} declares no content, but the body is ${show(body)}`];
  }
  if (empty) return [`empty body, but status ${status} declares ${media.map(([type]) => type).join(" or ")}`];
  const type = mediaType(contentType);
  const entry = media.find(([declaredType]) => declaredType.toLowerCase() === type);
  if (!entry) {
    return [
      `Content-Type ${show(contentType)}, but status ${status} declares ${media.map(([t]) => t).join(" or ")}`,
    ];
  }
  const [, { schema }] = entry;
  if (!schema || !isJsonMedia(type)) return [];
  let value: unknown = body;
  if (typeof body === "string") {
    try {
      value = JSON.parse(body);
    } catch {
      return [`the body is not JSON: ${show(body)}`];
    }
  }
  const mode: Mode = options.sparse ? "sparse" : "full";
  const validate = v.compile(`response ${operationId} ${key} ${type} ${mode}`, () =>
    allowKlaviyoErrorMembers(v.schema(schema, mode)),
  );
  return validate(value) ? [] : describeErrors(validate.errors, "body");
}

/** Whether a query asks for sparse fieldsets, so that the answer may leave attributes out. */
export function asksSparseFieldsets(query: URLSearchParams): boolean {
  for (const name of query.keys()) if (name.startsWith("fields[")) return true;
  return false;
}

export interface RequestParts {
  readonly query: URLSearchParams;
  readonly headers: Headers | Readonly<Record<string, string>>;
  /** The parsed JSON body; `undefined` when there is none. Not read for a multipart operation. */
  readonly body?: unknown;
}

/** A query value as the parameter's schema types it: numbers and booleans from their text, a list split at commas. */
function queryValue(text: string, schema: Schema): unknown {
  if (schema.type === "array") {
    const items = isSchema(schema.items) ? schema.items : {};
    return text.split(",").map((part) => queryValue(part, items));
  }
  if ((schema.type === "integer" || schema.type === "number") && /^-?\d+(?:\.\d+)?$/.test(text))
    return Number(text);
  if (schema.type === "boolean" && (text === "true" || text === "false")) return text === "true";
  return text;
}

/**
 * Every way a request departs from what the document declares for `operationId` (empty when it conforms): its
 * query parameters (required ones present, no undeclared or repeated ones, each value against its schema, with
 * `explode: false` lists comma-separated), its headers (`revision` present and well formed), and its body.
 */
export function validateRequest(operationId: string, request: RequestParts): string[] {
  const v = validator();
  const { operation, parameters } = v.operation(operationId);
  const problems: string[] = [];
  const headers = request.headers instanceof Headers ? request.headers : new Headers(request.headers);

  const declaredQuery = new Set(parameters.filter((p) => p.in === "query").map((p) => p.name));
  for (const name of new Set(request.query.keys())) {
    if (!declaredQuery.has(name)) problems.push(`query ${name}: not a parameter of ${operationId}`);
  }
  for (const parameter of parameters) {
    if (parameter.in === "query") {
      const values = request.query.getAll(parameter.name);
      if (values.length === 0) {
        if (parameter.required) problems.push(`query ${parameter.name}: required, missing`);
        continue;
      }
      const raw = parameter.schema ?? {};
      // `explode` defaults to true for query parameters: a list is then the parameter repeated.
      const exploded = raw.type === "array" && parameter.explode !== false;
      if (values.length > 1 && !exploded) {
        problems.push(`query ${parameter.name}: given ${values.length} times; the document takes one value`);
      }
      const validate = v.compile(`parameter ${operationId} query ${parameter.name}`, () => v.schema(raw));
      const items = isSchema(raw.items) ? raw.items : {};
      const given = exploded
        ? [values.map((text) => queryValue(text, items))]
        : values.map((t) => queryValue(t, raw));
      for (const value of given) {
        if (!validate(value)) problems.push(...describeErrors(validate.errors, `query ${parameter.name}`));
      }
    } else if (parameter.in === "header") {
      const value = headers.get(parameter.name);
      if (value === null) {
        if (parameter.required) problems.push(`header ${parameter.name}: required, missing`);
      } else if (parameter.name.toLowerCase() === "revision" && !REVISION.test(value)) {
        problems.push(`header revision: ${show(value)} is not YYYY-MM-DD[.suffix]`);
      }
    }
  }

  const contentType = mediaType(headers.get("content-type"));
  const requestBody = operation.requestBody;
  if (!requestBody) {
    if (request.body !== undefined) problems.push(`body: ${operationId} takes no body`);
    return problems;
  }
  const declared = Object.keys(requestBody.content);
  if (declared.includes("multipart/form-data")) {
    if (contentType !== "multipart/form-data") {
      problems.push(`Content-Type ${show(contentType)}, but ${operationId} takes multipart/form-data`);
    }
    return problems;
  }
  if (request.body === undefined) {
    if (requestBody.required) problems.push(`body: required, missing`);
    return problems;
  }
  const entry = Object.entries(requestBody.content).find(([type]) => type.toLowerCase() === contentType);
  if (!entry) {
    problems.push(`Content-Type ${show(contentType)}, but ${operationId} takes ${declared.join(" or ")}`);
    return problems;
  }
  const [type, { schema }] = entry;
  if (schema) {
    const validate = v.compile(`request ${operationId} ${type}`, () => v.schema(schema));
    if (!validate(request.body)) problems.push(...describeErrors(validate.errors, "body"));
  }
  return problems;
}

/** Every problem `checkedFetch` has seen and not yet reported, each prefixed `METHOD /path -> status:`. */
export { contractProblems, expectNoContractProblems };

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface CheckedFetchOptions {
  /** Check requests too (default). Off for a test that sends a request the document forbids on purpose. */
  readonly requests?: boolean;
}

/** The request's parsed JSON body, `undefined` when it has none, or a problem when it is unreadable. */
async function requestBody(request: Request): Promise<{ body?: unknown; problem?: string }> {
  const type = mediaType(request.headers.get("content-type"));
  if (request.body === null || type === "multipart/form-data") return {};
  const text = await request.text();
  if (text === "") return {};
  if (!isJsonMedia(type)) return { problem: `body: Content-Type ${show(type)} is not JSON` };
  try {
    return { body: JSON.parse(text) };
  } catch {
    return { problem: `body: not JSON: ${show(text)}` };
  }
}

/**
 * A `fetch` that passes every call on to `fetchImpl` unchanged and, when the method and path address an
 * operation of Klaviyo's API, checks the request and the response (read from a clone) against the document,
 * adding what it finds to `contractProblems`. Calls to paths the API does not have are not checked.
 */
export function checkedFetch(fetchImpl: FetchLike, options: CheckedFetchOptions = {}): FetchLike {
  // Without the document (a user's fresh clone) nothing is checked, and openApiAvailable() says so once;
  // under REQUIRE_OPENAPI_SPEC=1 its absence throws instead.
  if (!openApiAvailable()) return fetchImpl;
  return async (input, init) => {
    // A copy to read; the original input and init go to fetchImpl untouched. A streamed body cannot be copied.
    const streamed = init?.body instanceof ReadableStream;
    const copy = new Request(input instanceof Request ? input.clone() : input, {
      ...init,
      ...(streamed ? { body: null } : {}),
      signal: null,
    });
    const url = new URL(copy.url);
    const match = matchOperation(copy.method, url.pathname);
    const where = `${copy.method} ${url.pathname}`;
    const problems: string[] = [];
    if (match && options.requests !== false) {
      try {
        const { body, problem } = streamed ? {} : await requestBody(copy);
        if (problem) problems.push(problem);
        problems.push(
          ...validateRequest(match.operation.id, { query: url.searchParams, headers: copy.headers, body }),
        );
      } catch (error) {
        problems.push(`request not checked: ${String(error)}`);
      }
    }
    let response: Response;
    try {
      response = await fetchImpl(input, init);
    } catch (error) {
      contractProblems.push(...problems.map((p) => `${where} -> no response: ${p}`));
      throw error;
    }
    if (match) {
      try {
        const text = await response.clone().text();
        problems.push(
          ...validateResponse(
            match.operation.id,
            response.status,
            response.headers.get("content-type"),
            text,
            {
              sparse: asksSparseFieldsets(url.searchParams),
            },
          ),
        );
      } catch (error) {
        problems.push(`response not checked: ${String(error)}`);
      }
    }
    contractProblems.push(...problems.map((p) => `${where} -> ${response.status}: ${p}`));
    return response;
  };
}
