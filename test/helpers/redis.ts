/**
 * A real `redis-server` for the shared-store tests: each suite starts its own on a free loopback port, with no
 * persistence, and stops it at the end. Without `redis-server` on the PATH the suites skip and say so, unless
 * REQUIRE_REDIS=1 (CI installs Redis and sets it).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { connect, createServer } from "node:net";

export function redisServerPath(): string | undefined {
  try {
    return execFileSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Whether the suites can run; absent Redis they skip with a message, unless REQUIRE_REDIS=1. */
export function redisAvailable(): boolean {
  if (redisServerPath()) return true;
  if (process.env.REQUIRE_REDIS === "1")
    throw new Error("REQUIRE_REDIS=1, but redis-server is not on the PATH (apt-get install -y redis-server)");
  console.warn(
    "redis-server is not on the PATH: the shared-store tests are skipped " +
      "(install it: apt-get install -y redis-server, brew install redis; then run the tests again)",
  );
  return false;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty: no persistence). */
  start(): Promise<void>;
}

/** Starts `redis-server` on a free loopback port; resolves once it accepts connections. */
export async function startRedis(): Promise<TestRedis> {
  const bin = redisServerPath();
  if (!bin) throw new Error("redis-server is not on the PATH");
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const proc = spawn(
      bin,
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--loglevel",
        "warning",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child = proc;
    await new Promise<void>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
      const poll = setInterval(() => {
        const socket = connect(port, "127.0.0.1");
        socket.once("connect", () => {
          socket.end();
          clearInterval(poll);
          clearTimeout(timer);
          resolve();
        });
        socket.once("error", () => socket.destroy());
      }, 25);
      proc.stderr?.on("data", (d) => {
        out += d;
      });
      proc.once("exit", (code) => {
        clearInterval(poll);
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}: ${out}`));
      });
    });
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    async stop() {
      const proc = child;
      if (!proc || proc.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        proc.once("exit", () => resolve());
        proc.kill("SIGTERM");
      });
    },
  };
}
