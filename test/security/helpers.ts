/**
 * Listeners and checks shared by the security tests: a canary that records every connection made to it, a
 * recording forwarder that stands in front of the emulator and keeps every request (and answer) byte for byte,
 * `klaviyo auth login` driven with a scripted browser, and the search for planted secrets in any text.
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { type AddressInfo, createServer as createNetServer, type Socket } from "node:net";
import { BIN, type CliResult } from "../helpers/cli.js";

/** A loopback TCP listener that answers nothing and records every connection and every byte sent to it. */
export interface Canary {
  /** `127.0.0.1:PORT`. */
  readonly hostPort: string;
  readonly url: string;
  /** Connections accepted so far (a request is not needed: connecting at all counts). */
  connections(): number;
  /** Every byte received, as text. */
  received(): string;
  close(): Promise<void>;
}

export async function startCanary(): Promise<Canary> {
  let connections = 0;
  let received = "";
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on("data", (d) => {
      received += d.toString("latin1");
    });
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    // Whatever arrives, the canary closes without answering: nothing that reaches it can succeed.
    socket.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    hostPort: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    received: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** One request as a listener received it, and what it answered. */
export interface Recorded {
  readonly method: string;
  /** The request target exactly as received (origin-form: path and query). */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  status: number;
  responseBody: string;
}

export interface RecordingServer {
  readonly url: string;
  readonly requests: Recorded[];
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * A loopback HTTP server that records every request. With `forwardTo` it passes each request on unchanged (the
 * raw request target, the headers, the body) to that origin and relays the answer; otherwise `answer` decides.
 */
export async function startRecorder(
  options: { forwardTo?: string; answer?: (req: Recorded, res: ServerResponse) => void } = {},
): Promise<RecordingServer> {
  const requests: Recorded[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const target = options.forwardTo ? new URL(options.forwardTo) : undefined;
  const server = createServer(async (req, res) => {
    const record: Recorded = {
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      body: await readBody(req),
      status: 0,
      responseBody: "",
    };
    requests.push(record);
    if (!target) {
      if (options.answer) options.answer(record, res);
      else res.writeHead(200, { "content-type": "application/vnd.api+json" }).end('{"data": []}');
      record.status = res.statusCode;
      return;
    }
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: record.method,
        path: record.url,
        headers: { ...req.headers, host: target.host },
      },
      async (answer) => {
        const body = await readBody(answer);
        record.status = answer.statusCode ?? 0;
        record.responseBody = body;
        const headers = { ...answer.headers };
        delete headers["content-length"];
        delete headers["transfer-encoding"];
        res.writeHead(record.status, headers).end(body);
      },
    );
    upstream.on("error", () => res.destroy());
    upstream.end(record.body);
  });
  server.on("connection", (socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The whole of a recorded request as one text: request line, headers and body. */
export function requestText(r: Recorded): string {
  return `${r.method} ${r.url}\n${JSON.stringify(r.headers)}\n${r.body}`;
}

/**
 * Runs `klaviyo auth login …`, plays the browser when it prints the authorization URL (`browse`), and resolves
 * with the outcome once the command exits.
 */
export function cliLogin(
  args: readonly string[],
  env: Record<string, string>,
  browse: (authorizeUrl: string) => Promise<void>,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [BIN, "auth", "login", ...args], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let browsing: Promise<void> | undefined;
    child.stdout?.on("data", (d) => {
      stdout += d;
      const newline = stdout.indexOf("\n");
      if (newline >= 0 && !browsing) browsing = browse(stdout.slice(0, newline)).catch(reject);
    });
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", async (code) => {
      await browsing;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The browser's part: follow the authorize URL to its redirect, let `tamper` change it, then visit it. */
export async function playBrowser(authorizeUrl: string, tamper?: (callback: URL) => void): Promise<void> {
  const res = await fetch(authorizeUrl, { redirect: "manual" });
  const location = res.headers.get("location");
  if (res.status !== 302 || !location) throw new Error(`authorize answered ${res.status}, not a redirect`);
  const callback = new URL(location);
  tamper?.(callback);
  await (await fetch(callback)).text();
}

/** A secret and the forms it could leak in: as is, base64, base64url, URL-encoded and hex. */
export function encodings(secret: string): Array<[string, string]> {
  const forms: Array<[string, string]> = [
    ["as is", secret],
    ["base64", Buffer.from(secret).toString("base64").replace(/=+$/, "")],
    ["base64url", Buffer.from(secret).toString("base64url")],
    ["URL-encoded", encodeURIComponent(secret)],
    ["form-encoded", new URLSearchParams({ s: secret }).toString().slice(2)],
    ["hex", Buffer.from(secret).toString("hex")],
  ];
  const seen = new Set<string>();
  return forms.filter(([, form]) => {
    if (seen.has(form)) return false;
    seen.add(form);
    return true;
  });
}

/**
 * Every planted secret (and encoding of one) found in any of `views`, as readable lines:
 * `what it was / which view: the secret's name (encoding)`. An empty list is the pass.
 */
export function findLeaks(
  views: ReadonlyArray<readonly [where: string, text: string]>,
  secrets: ReadonlyMap<string, string>,
): string[] {
  const forms = [...secrets].flatMap(([name, secret]) =>
    encodings(secret).map(([encoding, form]) => ({ name, encoding, form })),
  );
  const leaks: string[] = [];
  for (const [where, text] of views) {
    for (const { name, encoding, form } of forms) {
      if (text.includes(form)) leaks.push(`${where}: ${name} (${encoding})`);
    }
  }
  return leaks;
}
