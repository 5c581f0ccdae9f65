/**
 * Streaming readers for files of records: NDJSON (one JSON value per line) or one JSON array, told apart by the
 * first character that is not white space (`[` is an array). Neither ever holds the whole file: NDJSON is split
 * line by line, and an array is cut element by element by a small scanner that tracks strings, escapes and
 * bracket depth, each element then parsed on its own. A record that does not parse is not thrown: it is yielded
 * as an `UnreadableRecord`, with its line, so a bulk run can reject it and go on.
 */

import type { Readable } from "node:stream";
import { builtins } from "../core/builtins.js";

/** A record that could not be read: it takes its place in the sequence, so positions stay those of the file. */
export class UnreadableRecord {
  constructor(
    /** The line (counted from 1) where the record starts. */
    readonly line: number,
    readonly reason: string,
    /** The record's text as it stood, when it could be cut out (a broken array ends with no text). */
    readonly text?: string,
  ) {}

  toString(): string {
    return `line ${this.line}: ${this.reason}`;
  }
}

function parseRecord(text: string, line: number): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const preview = text.length > 60 ? `${text.slice(0, 57)}...` : text;
    return new UnreadableRecord(
      line,
      `not valid JSON (${error instanceof Error ? error.message : String(error)}): ${JSON.stringify(preview)}`,
      text,
    );
  }
}

/** Splits NDJSON text fed in pieces into records; blank lines are skipped, `\r\n` endings accepted. */
export class NdjsonSplitter {
  private pending: string[] = [];
  private line = 1;

  /** Takes the next piece of text and returns the records it completed. */
  push(text: string): unknown[] {
    const out: unknown[] = [];
    let start = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
      this.pending.push(text.slice(start, nl));
      this.emit(out);
      start = nl + 1;
    }
    if (start < text.length) this.pending.push(text.slice(start));
    return out;
  }

  /** The last record, when the text does not end with a newline. */
  end(): unknown[] {
    const out: unknown[] = [];
    if (this.pending.length > 0) this.emit(out);
    return out;
  }

  private emit(out: unknown[]): void {
    const raw = this.pending.length === 1 ? (this.pending[0] as string) : this.pending.join("");
    this.pending = [];
    const line = this.line++;
    const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (text.trim() === "") return;
    out.push(parseRecord(text, line));
  }
}

const Char = {
  Newline: 10,
  Space: 32,
  Tab: 9,
  Return: 13,
  Quote: 34,
  Comma: 44,
  Backslash: 92,
  OpenBracket: 91,
  CloseBracket: 93,
  OpenBrace: 123,
  CloseBrace: 125,
} as const;

const isSpace = (c: number) => c === Char.Space || c === Char.Newline || c === Char.Tab || c === Char.Return;

/**
 * Cuts a JSON array fed in pieces into its elements, parsing each one alone: memory holds one element, never
 * the array. It tracks only what finds an element's end (string and escape state, bracket depth); what is
 * inside an element is left to `JSON.parse`, so a malformed element is reported (`UnreadableRecord`) and the
 * next one read. A break in the array's own structure ends the scan with one `UnreadableRecord` saying where.
 */
export class JsonArrayScanner {
  private state: "start" | "between" | "element" | "done" | "broken" = "start";
  /** Inside the current element: bracket depth (0 for a bare scalar), string and escape state. */
  private depth = 0;
  private inString = false;
  private escaped = false;
  private scalar = false;
  private pieces: string[] = [];
  private line = 1;
  private elementLine = 1;
  /** After an element, a comma is needed before the next one. */
  private needComma = false;
  private afterComma = false;

  push(text: string): unknown[] {
    const out: unknown[] = [];
    let start = -1;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.state === "element") {
        if (start < 0) start = i;
        if (this.inString) {
          if (this.escaped) this.escaped = false;
          else if (c === Char.Backslash) this.escaped = true;
          else if (c === Char.Quote) {
            this.inString = false;
            if (this.depth === 0) {
              this.finish(text.slice(start, i + 1), out);
              start = -1;
            }
          } else if (c === Char.Newline) this.line++;
          continue;
        }
        if (this.scalar) {
          if (isSpace(c) || c === Char.Comma || c === Char.CloseBracket) {
            this.finish(text.slice(start, i), out);
            start = -1;
            i--; // the delimiter is read again, between elements
          }
          continue;
        }
        if (c === Char.Quote) this.inString = true;
        else if (c === Char.OpenBrace || c === Char.OpenBracket) this.depth++;
        else if (c === Char.CloseBrace || c === Char.CloseBracket) {
          this.depth--;
          if (this.depth === 0) {
            this.finish(text.slice(start, i + 1), out);
            start = -1;
          }
        } else if (c === Char.Newline) this.line++;
        continue;
      }
      if (c === Char.Newline) this.line++;
      if (isSpace(c)) continue;
      if (this.state === "start") {
        if (c === Char.OpenBracket) this.state = "between";
        else this.fail(`a JSON array file must start with "[", not ${JSON.stringify(text[i])}`, out);
      } else if (this.state === "between") {
        if (c === Char.CloseBracket) {
          if (this.afterComma) this.fail(`a "," before the array's closing "]"`, out);
          else this.state = "done";
        } else if (c === Char.Comma) {
          if (this.needComma) {
            this.needComma = false;
            this.afterComma = true;
          } else this.fail(`unexpected "," in the array`, out);
        } else if (this.needComma) this.fail(`expected "," or "]" after an element of the array`, out);
        else {
          this.state = "element";
          this.afterComma = false;
          this.elementLine = this.line;
          this.scalar = c !== Char.Quote && c !== Char.OpenBrace && c !== Char.OpenBracket;
          this.inString = c === Char.Quote;
          this.depth = c === Char.OpenBrace || c === Char.OpenBracket ? 1 : 0;
          this.escaped = false;
          start = i;
        }
      } else if (this.state === "done") {
        this.fail(`unexpected text after the end of the array`, out);
      }
      if (this.state === "broken") return out;
    }
    if (this.state === "element" && start >= 0) this.pieces.push(text.slice(start));
    return out;
  }

  /** Whatever the end of the text completes, or says is missing. */
  end(): unknown[] {
    const out: unknown[] = [];
    if (this.state === "element" && this.scalar) this.finish("", out);
    if (this.state === "element")
      this.fail(`the file ends inside an element of the array`, out, this.elementLine);
    else if (this.state === "start") {
      // An empty file holds no records.
    } else if (this.state === "between") this.fail(`the file ends before the array's closing "]"`, out);
    return out;
  }

  private finish(last: string, out: unknown[]): void {
    this.pieces.push(last);
    const text = this.pieces.length === 1 ? (this.pieces[0] as string) : this.pieces.join("");
    this.pieces = [];
    this.state = "between";
    this.needComma = true;
    this.scalar = false;
    out.push(parseRecord(text, this.elementLine));
  }

  private fail(reason: string, out: unknown[], line = this.line): void {
    this.state = "broken";
    this.pieces = [];
    out.push(new UnreadableRecord(line, reason));
  }
}

/** The records of a text stream: the format is decided by the first character that is not white space. */
export async function* recordsOf(chunks: AsyncIterable<string>): AsyncGenerator<unknown> {
  let reader: NdjsonSplitter | JsonArrayScanner | undefined;
  let head = "";
  for await (const chunk of chunks) {
    if (!reader) {
      head += chunk;
      const first = head.replace(/^\uFEFF/, "").trimStart();
      if (first === "") continue;
      reader = first.startsWith("[") ? new JsonArrayScanner() : new NdjsonSplitter();
      yield* reader.push(head.replace(/^\uFEFF/, ""));
      head = "";
      continue;
    }
    yield* reader.push(chunk);
  }
  if (reader) yield* reader.end();
}

async function* decoded(stream: AsyncIterable<unknown>): AsyncGenerator<string> {
  const decoder = new builtins.stringDecoder.StringDecoder("utf8");
  for await (const chunk of stream) {
    if (typeof chunk === "string") yield chunk;
    else if (chunk instanceof Uint8Array)
      yield decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  const rest = decoder.end();
  if (rest) yield rest;
}

/**
 * Reads a file (by path) or a stream of NDJSON or of one JSON array, one record at a time. A line or element
 * that does not parse is yielded as an `UnreadableRecord`; a file that cannot be opened rejects.
 */
export function readRecords(input: string | Readable): AsyncGenerator<unknown> {
  const stream =
    typeof input === "string" ? builtins.fs.createReadStream(input, { highWaterMark: 64 * 1024 }) : input;
  return recordsOf(decoded(stream));
}
