/**
 * The value checks of Raw Request's inputs that the generic input kinds do not make: a path that cannot leave
 * the connection's host, a body of JSON or text, files as bytes, and headers that are safe to send.
 */
import * as v from "valibot";
import { transformWith } from "../klaviyo/schema.js";
import { fileDataSchema, type InputDefinition } from "./inputs.js";

/** Why `raw` is not a path on the connection's base URL. */
function rawPathProblem(raw: unknown): string {
  if (typeof raw !== "string") return "must be text";
  if (/\p{Cc}/u.test(raw)) return "must not contain line breaks, tabs or other control characters";
  const path = raw.trim();
  if (/^[a-z][a-z0-9+.-]*:/i.test(path))
    return "must be a path such as /api/accounts, not a full URL: the connection's base URL (https://a.klaviyo.com) is put in front of it";
  if (!path.startsWith("/")) return "must be a path beginning with /, such as /api/accounts";
  return "must not begin with // nor contain a backslash: the request must stay on Klaviyo's host";
}

/**
 * A path on the connection's base URL (`/api/accounts`, query allowed). Refused: full URLs, anything that could
 * be read as another host (`//host`, backslashes), and control characters (CR/LF would split the request line).
 */
export const rawPathSchema = v.pipe(
  v.string("must be text"),
  v.regex(/^[^\S\p{Cc}]*\/(?!\/)[^\\\p{Cc}]*$/u, (issue) => rawPathProblem(issue.input)),
);

/** A request body: text as given (`json` when it parses as JSON), any other JSON value serialised, or bytes. */
export interface RawBody {
  readonly body: string | Uint8Array;
  /** The body is JSON (sent as `application/vnd.api+json` unless a Content-Type header says otherwise). */
  readonly json: boolean;
}

function isJsonText(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export const rawBodySchema = v.pipe(
  v.unknown(),
  transformWith((raw, ctx): RawBody => {
    if (typeof raw === "string") return { body: raw, json: isJsonText(raw) };
    if (raw instanceof Uint8Array) return { body: raw, json: false };
    if (raw instanceof ArrayBuffer) return { body: new Uint8Array(raw), json: false };
    let text: string | undefined;
    try {
      text = JSON.stringify(raw);
    } catch (error) {
      ctx.addIssue({ message: `cannot be written as JSON: ${(error as Error).message}` });
      return undefined as never;
    }
    if (text === undefined) {
      ctx.addIssue({
        message: "must be JSON (an object, an array, a number…), text or bytes",
      });
      return undefined as never;
    }
    return { body: text, json: true };
  }),
);

export function fileDataInput(base: {
  key: string;
  label: string;
  comments: string;
  example?: string;
}): InputDefinition<Array<[string, Uint8Array]>, false> {
  return { ...base, type: "key-value", required: false, schema: fileDataSchema };
}

/** RFC 9110 `token`: what a header name may be made of. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Headers the transport owns: the credentials (the connection's), and the framing of the message. */
const FORBIDDEN_HEADERS: Readonly<Record<string, string>> = {
  authorization:
    "is set from the connection (turn on Exclude Authorization to send none); it cannot be given here",
  "proxy-authorization": "cannot be given here",
  host: "is the connection's host; it cannot be given here",
  "content-length": "is computed from the body; it cannot be given here",
  "transfer-encoding": "is decided by the transport; it cannot be given here",
  connection: "is decided by the transport; it cannot be given here",
  "keep-alive": "is decided by the transport; it cannot be given here",
  upgrade: "cannot be given here",
  te: "cannot be given here",
  trailer: "cannot be given here",
  expect: "cannot be given here",
};

/** Problems with header pairs: names that are not tokens, values with line breaks, transport-owned names. */
export function headerProblems(pairs: ReadonlyArray<[string, string]>): string[] {
  const problems: string[] = [];
  for (const [name, value] of pairs) {
    const shown = JSON.stringify(name.slice(0, 40));
    if (!HEADER_NAME.test(name)) problems.push(`${shown} is not a valid header name`);
    else if (FORBIDDEN_HEADERS[name.toLowerCase()])
      problems.push(`${name} ${FORBIDDEN_HEADERS[name.toLowerCase()]}`);
    // Only the name is shown: the value may be a secret.
    if (/[\r\n\0]/.test(value)) problems.push(`the value of ${shown} contains a line break or NUL`);
  }
  return problems;
}

/** Problems with file names: blank, or with control characters. */
export function fileNameProblems(pairs: ReadonlyArray<[string, string]>): string[] {
  return pairs
    .filter(([, name]) => name.trim() === "" || /\p{Cc}/u.test(name))
    .map(([key]) => `the file name for "${key}" must not be blank nor contain control characters`);
}

/** Response headers whose values are credentials or session state: never copied into an output. */
export const SECRET_RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "set-cookie2",
  "x-api-key",
]);
