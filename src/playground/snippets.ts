/**
 * A run written three ways, to copy: a `klaviyo run` command line (the CLI's own flag names), library code
 * (`runAction`), and curl (from the first request sent). The credential is never written: the CLI reads
 * `$KLAVIYO_API_KEY`, the library `process.env.KLAVIYO_API_KEY`, curl `$KLAVIYO_API_KEY` in its header. Nor is a
 * secret input's value (a webhook's Secret Key): `"$SECRET_KEY"`, `process.env.SECRET_KEY`, and the recorded
 * body curl copies has it masked (`redact`).
 */
import type { AnyAction } from "../actions/define.js";
import { fromText } from "../actions/define.js";
import { flagOf, holdsFiles, type InputDefinition, secretVariable } from "../actions/inputs.js";
import { DEFAULT_BASE_URL } from "../core/version.js";
import { parse } from "../klaviyo/schema.js";

/** Binary values longer than this (as base64) are written as a file to read rather than inline. */
const INLINE_BINARY = 4096;

/** What a recorded request carried, as curl needs it (the credential only by its scheme). */
export interface SentRequest {
  readonly method: string;
  readonly url: string;
  /** Lower-case names; no `authorization`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly authScheme: "Klaviyo-API-Key" | "Bearer" | undefined;
  readonly body?:
    | { readonly kind: "text"; readonly text: string }
    | { readonly kind: "bytes"; readonly size: number }
    | {
        readonly kind: "form";
        readonly parts: ReadonlyArray<
          | { readonly name: string; readonly value: string }
          | { readonly name: string; readonly file: { name: string; type: string; size: number } }
        >;
      };
}

/** Quotes a word for POSIX sh: bare when it is safe, else in single quotes. */
export function shellQuote(word: string): string {
  if (word !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== "";
}

/** The pairs of a key/value value as the playground holds it (JSON or its text form); none when it is not one. */
function pairsIn(def: InputDefinition, value: unknown): Array<[string, string | Uint8Array]> {
  const read = typeof value === "string" ? fromText(def, value) : { value };
  if ("problem" in read) return [];
  const parsed = parse(def.schema, read.value);
  return parsed.success ? (parsed.data as Array<[string, string | Uint8Array]>) : [];
}

/** A file name for a binary value too long to inline: the run's File Name when it has one. */
function fileFor(inputs: Readonly<Record<string, unknown>>): string {
  const name = inputs.fileName;
  return typeof name === "string" && /^[^\s/]+$/.test(name) ? name : "FILE";
}

function text(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** `klaviyo run <key> --flag value …`, with the flags `klaviyo run` generates from the inputs. */
export function cliSnippet(
  action: AnyAction,
  inputs: Readonly<Record<string, unknown>>,
  baseUrl: string | undefined,
): string {
  const words = ["klaviyo", "run", action.key];
  for (const def of Object.values(action.inputs)) {
    const value = inputs[def.key];
    if (!present(value)) continue;
    const flag = `--${flagOf(def.key)}`;
    if (def.secret) {
      // A secret is never written out: the command reads it from a variable of its name.
      words.push(flag, `"$${secretVariable(def.key)}"`);
      continue;
    }
    switch (def.type) {
      case "boolean":
        if (value === true || value === "true") words.push(flag);
        else words.push(flag, shellQuote(String(value)));
        break;
      case "key-value": {
        for (const [k, v] of pairsIn(def, value)) {
          let pairValue = typeof v === "string" ? v : Buffer.from(v).toString("base64");
          if (holdsFiles(def) && pairValue.length > INLINE_BINARY) pairValue = `@${k}`;
          words.push(flag, shellQuote(`${k}=${pairValue}`));
        }
        break;
      }
      case "fields":
        words.push(flag, shellQuote(Array.isArray(value) ? value.join(",") : String(value)));
        break;
      case "binary": {
        const base64 = String(value);
        words.push(flag, base64.length > INLINE_BINARY ? `@${fileFor(inputs)}` : shellQuote(base64));
        break;
      }
      default:
        words.push(flag, shellQuote(text(value)));
    }
  }
  if (baseUrl && baseUrl !== DEFAULT_BASE_URL) words.push("--base-url", shellQuote(baseUrl));
  return words.join(" ");
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A library call: `runAction("key", { … }, { apiKey: process.env.KLAVIYO_API_KEY })`. */
export function librarySnippet(
  action: AnyAction,
  inputs: Readonly<Record<string, unknown>>,
  baseUrl: string | undefined,
): string {
  let readsFile = false;
  const lines: string[] = [];
  for (const def of Object.values(action.inputs)) {
    const value = inputs[def.key];
    if (!present(value)) continue;
    const name = IDENTIFIER.test(def.key) ? def.key : JSON.stringify(def.key);
    let literal: string;
    if (def.secret) literal = `process.env.${secretVariable(def.key)}`;
    else if (def.type === "binary" && String(value).length > INLINE_BINARY) {
      readsFile = true;
      literal = `await readFile(${JSON.stringify(fileFor(inputs))})`;
    } else if (
      typeof value === "string" &&
      def.type !== "text" &&
      def.type !== "enum" &&
      def.type !== "binary"
    ) {
      // The form holds text forms ("10", "true", JSON text); the library takes the values they stand for.
      const read = fromText(def, value);
      literal = JSON.stringify("value" in read ? read.value : value);
    } else literal = JSON.stringify(value);
    lines.push(`    ${name}: ${literal},`);
  }
  const options = [
    "apiKey: process.env.KLAVIYO_API_KEY",
    ...(baseUrl && baseUrl !== DEFAULT_BASE_URL ? [`baseUrl: ${JSON.stringify(baseUrl)}`] : []),
  ];
  return [
    ...(readsFile ? ['import { readFile } from "node:fs/promises";'] : []),
    'import { runAction } from "klaviyo-connector";',
    "",
    "const output = await runAction(",
    `  ${JSON.stringify(action.key)},`,
    lines.length > 0 ? `  {\n${lines.join("\n")}\n  },` : "  {},",
    `  { ${options.join(", ")} },`,
    ");",
    "console.log(output);",
  ].join("\n");
}

/** Headers curl sends itself, or that say nothing worth copying. */
const CURL_SKIPS = new Set(["authorization", "user-agent", "content-length", "host", "connection"]);

/**
 * curl for the first request a run sent, against `origin` (the run's own origin, or Klaviyo's when the run went
 * to the in-process emulator, which curl cannot reach).
 */
export function curlSnippet(sent: SentRequest | undefined, origin?: string): string {
  if (!sent) return "# No request was sent: the inputs were refused before sending.";
  const url = new URL(sent.url);
  const target = origin ? `${origin.replace(/\/+$/, "")}${url.pathname}${url.search}` : url.href;
  const lines = [`curl${sent.method === "GET" ? "" : ` -X ${sent.method}`} ${shellQuote(target)}`];
  if (sent.authScheme === "Klaviyo-API-Key")
    lines.push(`-H "Authorization: Klaviyo-API-Key $KLAVIYO_API_KEY"`);
  else if (sent.authScheme === "Bearer") lines.push(`-H "Authorization: Bearer $KLAVIYO_ACCESS_TOKEN"`);
  const form = sent.body?.kind === "form";
  for (const [name, value] of Object.entries(sent.headers)) {
    if (CURL_SKIPS.has(name) || (form && name === "content-type")) continue;
    lines.push(`-H ${shellQuote(`${name}: ${value}`)}`);
  }
  const body = sent.body;
  if (body?.kind === "text") lines.push(`--data-raw ${shellQuote(body.text)}`);
  else if (body?.kind === "bytes") lines.push("--data-binary @FILE");
  else if (body?.kind === "form") {
    for (const part of body.parts) {
      if ("file" in part) {
        const type = part.file.type ? `;type=${part.file.type}` : "";
        lines.push(`-F ${shellQuote(`${part.name}=@${part.file.name || "FILE"}${type}`)}`);
      } else lines.push(`--form-string ${shellQuote(`${part.name}=${part.value}`)}`);
    }
  }
  return lines.join(" \\\n  ");
}
