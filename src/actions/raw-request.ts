import type { KlaviyoResponse, RequestOptions } from "../core/client.js";
import { type InputIssue, InputValidationError } from "../core/errors.js";
import { redact } from "../core/redact.js";
import { defineAction } from "./define.js";
import { sniffImageFormat } from "./images-bytes.js";
import { input } from "./inputs.js";
import {
  fileDataInput,
  fileNameProblems,
  headerProblems,
  type RawBody,
  rawBodySchema,
  rawPathSchema,
  SECRET_RESPONSE_HEADERS,
} from "./raw-request-inputs.js";
import { attemptOutcome, decideRawRetry, RAW_METHODS, type RawRetrySettings } from "./raw-request-retry.js";

/** What Raw Request returns: Klaviyo's answer as it came, headers as a plain object. */
export interface RawRequestOutput {
  status: number;
  /** Response headers by lower-case name; credential-bearing ones (Set-Cookie…) are redacted. */
  headers: Record<string, string>;
  /** Parsed JSON (`null` for an empty body), text, or bytes, as Response Type asked. */
  data: unknown;
}

const JSON_API = "application/vnd.api+json";

/** Response headers as an object, with values that could carry a credential replaced. */
function outputHeaders(headers: Headers, secrets: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of headers) {
    out[name] = SECRET_RESPONSE_HEADERS.has(name) ? "[REDACTED]" : redact(value, secrets);
  }
  return out;
}

/** Header pairs as one object by lower-case name; a repeated name's values are joined with ", ". */
function headerObject(pairs: ReadonlyArray<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    out[key] = out[key] === undefined ? value : `${out[key]}, ${value}`;
  }
  return out;
}

/** The multipart body: text fields, then files (each with a file name, which Klaviyo needs to see a file). */
function multipart(
  fields: ReadonlyArray<[string, string]>,
  files: ReadonlyArray<[string, Uint8Array]>,
  names: ReadonlyMap<string, string>,
): FormData {
  const form = new FormData();
  for (const [key, value] of fields) form.append(key, value);
  for (const [key, bytes] of files) {
    const format = sniffImageFormat(bytes);
    const type = format ? `image/${format}` : "application/octet-stream";
    const fallback = format ? `${key}.${format === "jpeg" ? "jpg" : format}` : key;
    form.append(key, new Blob([new Uint8Array(bytes)], { type }), names.get(key) ?? fallback);
  }
  return form;
}

/** Any Klaviyo endpoint, with the connection's credentials, `revision` header and rate limits. */
export const rawRequest = defineAction({
  key: "raw-request",
  label: "Raw Request",
  description:
    "Calls any Klaviyo API endpoint directly, for what the other actions do not cover: you give the method, the path (the connection's base URL, https://a.klaviyo.com, is added) and optionally a JSON or text body or a multipart form with files, query parameters and headers. The connection's credentials and the revision header are added for you (Exclude Authorization leaves the credentials out, for the public /client endpoints); the client-side rate limits of the endpoint apply, and a 429 answer is waited out per its Retry-After when retries are allowed. Returns the status, the response headers and the body (JSON, text or bytes). An answer of 300 or more fails the action with Klaviyo's error (status, errors[], request id), after any retries.",
  inputs: {
    excludeAuthorization: input.boolean({
      key: "excludeAuthorization",
      label: "Exclude Authorization",
      comments:
        "true sends no Authorization header at all. Needed for Klaviyo's public client endpoints (/client/...), which must never get a private key and instead identify the account by a company_id query parameter holding its public API key (site ID): add it under Query Parameter. Off (false) by default, for every /api endpoint.",
      default: false,
    }),
    url: {
      ...input.text<true>({
        key: "url",
        label: "URL",
        required: true,
        comments:
          "The endpoint's path, beginning with /, such as /api/accounts or /api/profiles/01GDDKASAP8TKDDA2GRZDSVP4H; a query string may follow (?page[size]=5). The connection's base URL (https://a.klaviyo.com, or the emulator's) is put in front of it: full URLs, paths beginning with //, backslashes and line breaks are refused, so the request and its credentials cannot go to another host.",
        example: "/api/accounts",
      }),
      schema: rawPathSchema,
    },
    method: input.enum<(typeof RAW_METHODS)[number], true>(
      {
        key: "method",
        label: "Method",
        required: true,
        comments:
          "The HTTP method: GET reads, POST creates (or starts a job), PATCH updates, DELETE removes. Klaviyo's API has no PUT endpoint today; it is offered for completeness. GET cannot carry a body.",
        example: "GET",
      },
      RAW_METHODS,
    ),
    data: input.json<RawBody>(
      {
        key: "data",
        label: "Data",
        comments:
          'The request body. A JSON value (object, array…) is sent as JSON with Content-Type application/vnd.api+json, the JSON:API form Klaviyo expects ({"data": {"type": …, "attributes": {…}}}); text is sent as it is (as JSON when it parses as JSON, otherwise as text/plain), and bytes as application/octet-stream. A Content-Type under Header overrides these. Not with GET, nor together with Form Data or File Data.',
        example: '{"data": {"type": "list", "attributes": {"name": "VIP"}}}',
      },
      rawBodySchema,
    ),
    formData: input.keyValue({
      key: "formData",
      label: "Form Data",
      comments:
        "Text fields of a multipart/form-data body, as key/value pairs (CLI: --form-data name=Logo, repeatable), such as name and hidden for /api/image-upload. Content-Type (with its boundary) is then set for you. Not with Data.",
      example: "name=Logo",
    }),
    fileData: fileDataInput({
      key: "fileData",
      label: "File Data",
      comments:
        "Files of a multipart/form-data body, by field name: each value is the file's bytes (a Buffer or Uint8Array, such as an earlier step's binary output), base64 text, or a base64 data: URI; on the command line, --file-data file=@logo.png reads a local file (repeatable). Each is sent as a file part, with its name from File Data File Names (otherwise the field name, plus .png/.jpg/.gif for images). Not with Data.",
      example: "file=@logo.png",
    }),
    fileDataFileNames: input.keyValue({
      key: "fileDataFileNames",
      label: "File Data File Names",
      comments:
        "The file name to send with each file of File Data, by the same key (file=logo.png). Servers such as Klaviyo's read a part as a file only when it has a file name, and Klaviyo names an uploaded image after it. Every key must be one of File Data's.",
      example: "file=logo.png",
    }),
    queryParameter: input.keyValue({
      key: "queryParameter",
      label: "Query Parameter",
      comments:
        "Query parameters to add after the path, as key/value pairs (CLI: --query-parameter 'fields[profile]=email', repeatable); a repeated key is sent once per value. Klaviyo's lists are comma-separated in one value (fields[profile]=email,phone_number), and filters are text such as equals(email,'ada@example.com'). They are URL-encoded for you.",
      example: "page[size]=5",
    }),
    header: input.keyValue({
      key: "header",
      label: "Header",
      comments:
        "Extra request headers, as key/value pairs (CLI: --header 'Accept: application/json', repeatable). A revision header here replaces the connection's revision (such as 2026-07-15 or a beta 2026-07-15.pre). Authorization, Host, Content-Length and other headers the transport sets are refused; header values are never printed in errors or output.",
      example: "revision=2026-07-15",
    }),
    responseType: input.enum(
      {
        key: "responseType",
        label: "Response Type",
        comments:
          "How to read the response body: json parses it (an empty body gives null; a body that is not JSON fails the action), text returns it as a string, binary returns the bytes (printed as base64 by the CLI). json by default.",
        default: "json",
      },
      ["json", "text", "binary"],
    ),
    timeoutMs: input.number(
      {
        key: "timeoutMs",
        label: "Timeout",
        comments:
          "How long to wait for each attempt's complete answer, in milliseconds (1 to 600000); an attempt that takes longer fails with a timeout (and is retried if retries are allowed). The connection's timeout, 60000 ms, when empty.",
        example: "30000",
      },
      { min: 1, max: 600_000, integer: true },
    ),
    retryDelayMs: input.number(
      {
        key: "retryDelayMs",
        label: "Retry Delay (ms)",
        comments:
          "With Use Exponential Backoff off, how many milliseconds to wait before each retry (0 to 600000; 0 retries at once). A Retry-After sent by Klaviyo (with a 429) is waited instead.",
        default: 0,
      },
      { min: 0, max: 600_000, integer: true },
    ),
    retryOnAllErrors: input.boolean({
      key: "retryOnAllErrors",
      label: "Retry On All Errors",
      comments:
        "Off (false): only 5xx answers, network errors and timeouts are retried, plus 429 (rate limited), which is always retried after its Retry-After once any retry is allowed. On (true): every 3xx and 4xx answer is retried too, such as 404 or 409. Has no effect while Max Retry Count is 0.",
      default: false,
    }),
    maxRetryCount: input.number(
      {
        key: "maxRetryCount",
        label: "Max Retry Count",
        comments:
          "How many times to try again after a failed attempt (0 to 10); 0, the default, sends the request exactly once. Retries apply to every method, POST included: only allow them when repeating the request cannot do the work twice.",
        default: 0,
      },
      { min: 0, max: 10, integer: true },
    ),
    useExponentialBackoff: input.boolean({
      key: "useExponentialBackoff",
      label: "Use Exponential Backoff",
      comments:
        "On (true): wait a random time before each retry, up to 0.5 s, then 1 s, 2 s, 4 s… (at most 20 s), instead of Retry Delay (ms), which is then ignored. Klaviyo's Retry-After is still waited when it sends one. Off (false) by default.",
      default: false,
    }),
  },
  async perform({ client, signal }, values) {
    const { url, method, data, formData, fileData, fileDataFileNames, queryParameter, header } = values;
    const issues: InputIssue[] = [];
    const issue = (label: string, key: string, message: string) => issues.push({ label, key, message });
    const hasForm = (formData?.length ?? 0) > 0 || (fileData?.length ?? 0) > 0;
    if (method === "GET") {
      if (data !== undefined) issue("Data", "data", "cannot be sent with GET: choose POST, PATCH or PUT");
      if (formData?.length) issue("Form Data", "formData", "cannot be sent with GET");
      if (fileData?.length) issue("File Data", "fileData", "cannot be sent with GET");
    }
    if (data !== undefined && hasForm)
      issue("Data", "data", "cannot be sent together with Form Data or File Data: a request has one body");
    const fileKeys = new Set((fileData ?? []).map(([key]) => key));
    const names = fileDataFileNames ?? [];
    const unknownNames = names.filter(([key]) => !fileKeys.has(key)).map(([key]) => `"${key}"`);
    if (unknownNames.length > 0)
      issue(
        "File Data File Names",
        "fileDataFileNames",
        `names files File Data does not have: ${unknownNames.join(", ")}; File Data's keys are ${fileKeys.size ? [...fileKeys].map((k) => `"${k}"`).join(", ") : "none"}`,
      );
    for (const problem of fileNameProblems(names))
      issue("File Data File Names", "fileDataFileNames", problem);
    const headerPairs = header ?? [];
    for (const problem of headerProblems(headerPairs)) issue("Header", "header", problem);
    const headers = headerObject(headerPairs);
    if (hasForm && headers["content-type"] !== undefined)
      issue(
        "Header",
        "header",
        "Content-Type cannot be given with Form Data or File Data: the multipart type and its boundary are set for you",
      );
    if (issues.length > 0) throw new InputValidationError(issues, "Raw Request");

    const { revision, "content-type": contentType, ...rest } = headers;
    const query = new URLSearchParams();
    for (const [key, value] of queryParameter ?? []) query.append(key, value);
    const request: RequestOptions = {
      method,
      path: url.trim(),
      query,
      headers: rest,
      ...(revision !== undefined ? { revision } : {}),
      authenticate: !values.excludeAuthorization,
      responseType: values.responseType ?? "json",
      ...(values.timeoutMs !== undefined ? { timeoutMs: values.timeoutMs } : {}),
      // The retries are this action's (below), so the transport makes a single attempt per call.
      retry: { maxRetries: 0 },
      signal,
    };
    if (hasForm) request.form = multipart(formData ?? [], fileData ?? [], new Map(names));
    else if (data !== undefined) {
      request.rawBody = data.body;
      request.contentType =
        contentType ??
        (data.json
          ? JSON_API
          : typeof data.body === "string"
            ? "text/plain; charset=utf-8"
            : "application/octet-stream");
    } else if (contentType !== undefined) request.headers = headers;

    const settings: RawRetrySettings = {
      maxRetryCount: values.maxRetryCount ?? 0,
      retryDelayMs: values.retryDelayMs ?? 0,
      retryOnAllErrors: values.retryOnAllErrors ?? false,
      useExponentialBackoff: values.useExponentialBackoff ?? false,
    };
    let res: KlaviyoResponse;
    for (let attempt = 0; ; attempt++) {
      try {
        res = await client.request(request);
        break;
      } catch (error) {
        const outcome = attemptOutcome(error);
        if (!outcome) throw error;
        const decision = decideRawRetry(settings, method, outcome, attempt, Math.random);
        if (!decision.retry) throw error;
        await client.clock.sleep(decision.delayMs, signal);
      }
    }
    return {
      status: res.status,
      headers: outputHeaders(res.headers, client.auth?.secrets() ?? []),
      data: res.body,
    } satisfies RawRequestOutput;
  },
});

/** The raw-request actions. */
