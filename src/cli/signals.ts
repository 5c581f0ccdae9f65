/** Resolves on the first SIGINT or SIGTERM, so a long-running command can close cleanly and the process exit 0. */
export function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve(signal);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/**
 * Calls `onStop` on the first SIGINT or SIGTERM (the process then stays up: the command closes cleanly and exits
 * 0). Returns the function that removes the listeners, for a command that ends on its own.
 */
export function onStopSignal(onStop: (signal: NodeJS.Signals) => void): () => void {
  const dispose = () => {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  };
  const stop = (signal: NodeJS.Signals) => {
    dispose();
    onStop(signal);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  return dispose;
}
