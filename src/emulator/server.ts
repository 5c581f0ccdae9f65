import type { AddressInfo } from "node:net";
import { createEmulator, type Emulator, type EmulatorOptions } from "./app.js";
import { createNodeServer } from "./http/node.js";

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
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** Serves an emulator on a real port, so clients talk to it over TCP as they would to Klaviyo. */
export async function startEmulator(options: StartOptions = {}): Promise<RunningEmulator> {
  const { port = 0, host = "127.0.0.1", ...emulatorOptions } = options;
  const emulator = createEmulator(emulatorOptions);
  // The node bindings ({incoming, outgoing}) reach the app, so a `reset` fault can destroy the real socket.
  const server = createNodeServer(emulator.app.fetch);
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
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive connections would hold `close` open; an emulator has no requests worth draining.
        if ("closeAllConnections" in server) server.closeAllConnections();
      });
      return closing;
    },
  };
}
