import { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { createEmulator, type Emulator, type EmulatorOptions, stopWebhookDeliveries } from "./app.js";
import type { EmulatorBindings } from "./bindings.js";

export interface StartOptions extends EmulatorOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1, so the emulator is not reachable from other machines unless asked. */
  readonly host?: string;
}

export interface RunningEmulator {
  /** `http://host:port`, to use as a client's base URL. */
  readonly url: string;
  readonly port: number;
  readonly emulator: Emulator;
  /** Stops listening, closes every connection and stops webhook deliveries (batched ones are dropped). */
  close(): Promise<void>;
}

/**
 * Serves an emulator on a real port, so clients talk to it over TCP as they would to Klaviyo. @hono/node-server
 * hands the app a lightweight `Request` (a real one is built only if a handler asks for it) and the Node request
 * and response as bindings: a `reset` fault destroys the socket, bodies are read from the request as they arrive.
 * A Host or request target that does not make a URL is answered 400 before the app sees it.
 */
export async function startEmulator(options: StartOptions = {}): Promise<RunningEmulator> {
  const { port = 0, host = "127.0.0.1", ...emulatorOptions } = options;
  const emulator = createEmulator(emulatorOptions);
  // The global Request and Response stay Node's own: the emulator may run inside its user's test process.
  const server = createAdaptorServer({
    // On a port the bindings are node:http's request and response (HTTP/2 is never served).
    fetch: (request, bindings) => emulator.app.fetch(request, bindings as EmulatorBindings),
    overrideGlobalObjects: false,
  });
  if (!(server instanceof Server)) throw new Error("@hono/node-server did not make a node:http server");
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    emulator,
    close() {
      stopWebhookDeliveries(emulator);
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive connections would hold `close` open; an emulator has no requests worth draining.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
