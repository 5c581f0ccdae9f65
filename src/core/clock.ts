/** Time as the transport sees it. Injected so that tests of retries and rate windows run instantly. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      if (ms <= 0) {
        resolve();
        return;
      }
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  },
};

/**
 * Virtual time for tests: it only moves when something sleeps on it. Sleepers wake in order of their wake
 * time, one per turn of the event loop, and the clock jumps to each wake time, so concurrent waiters see time
 * as they would on a real clock, only without waiting.
 */
export class FakeClock implements Clock {
  /** Every sleep asked for, in milliseconds, in call order. */
  readonly sleeps: number[] = [];
  private readonly pending: Array<{ at: number; seq: number; resolve: () => void }> = [];
  private seq = 0;
  private flushing = false;

  constructor(private time = 0) {}

  now(): number {
    return this.time;
  }

  advance(ms: number): void {
    this.time += ms;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.sleeps.push(ms);
    return new Promise<void>((resolve, reject) => {
      const entry = { at: this.time + Math.max(0, ms), seq: this.seq++, resolve };
      this.pending.push(entry);
      signal?.addEventListener(
        "abort",
        () => {
          const i = this.pending.indexOf(entry);
          if (i >= 0) this.pending.splice(i, 1);
          reject(signal.reason);
        },
        { once: true },
      );
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => {
      this.flushing = false;
      if (this.pending.length === 0) return;
      this.pending.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.pending.shift();
      if (!next) return;
      this.time = Math.max(this.time, next.at);
      next.resolve();
      if (this.pending.length > 0) this.schedule();
    });
  }
}
