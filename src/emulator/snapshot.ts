/**
 * The emulator's state as a JSON snapshot on disk (`--data-file`). Writes are atomic: the snapshot goes to a
 * temporary file in the same directory, is flushed to disk, then renamed over the old one, so a crash at any
 * moment leaves either the previous complete snapshot or the new one, never a torn file.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { type Account, createState, type EmulatorState, TABLE_NAMES } from "./state.js";

const FORMAT = "klaviyo-emulator-snapshot";
const VERSION = 1;

/** Plain JSON of the whole state. */
export function serialize(state: EmulatorState): Record<string, unknown> {
  const out: Record<string, unknown> = {
    format: FORMAT,
    version: VERSION,
    accounts: [...state.accounts.values()],
    memberships: Object.fromEntries(
      [...state.memberships].map(([list, members]) => [list, Object.fromEntries(members)]),
    ),
    eventKeys: [...state.eventKeys],
  };
  for (const name of TABLE_NAMES) out[name] = state[name].toJSON();
  return out;
}

/** Rebuilds a state from `serialize`'s output; throws with a clear message on anything else. */
export function deserialize(json: unknown): EmulatorState {
  const doc = json as Record<string, unknown> | null;
  if (!doc || doc.format !== FORMAT || doc.version !== VERSION) {
    throw new Error(`not an emulator snapshot (format ${FORMAT} version ${VERSION})`);
  }
  const rows = Object.fromEntries(
    TABLE_NAMES.map((name) => [name, (doc[name] as unknown[] | undefined) ?? []]),
  );
  const memberships = new Map(
    Object.entries((doc.memberships as Record<string, Record<string, string>> | undefined) ?? {}).map(
      ([list, members]) => [list, new Map(Object.entries(members))],
    ),
  );
  const state = createState(
    (doc.accounts as Account[] | undefined) ?? [],
    rows as Parameters<typeof createState>[1],
    memberships,
    (doc.eventKeys as string[] | undefined) ?? [],
  );
  return state;
}

/** Loads a snapshot file, or returns undefined when there is none yet. */
export function loadSnapshot(file: string): EmulatorState | undefined {
  if (!existsSync(file)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(
      `cannot read the data file ${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return deserialize(json);
}

/** Writes the snapshot atomically (temporary file, fsync, rename). */
export function saveSnapshot(file: string, state: EmulatorState): void {
  const tmp = join(dirname(file), `.${process.pid}.${Date.now()}.tmp-snapshot`);
  const fd = openSync(tmp, "w", 0o600);
  try {
    try {
      writeSync(fd, JSON.stringify(serialize(state)));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (error) {
    // A failed save (disk full, …) leaves no temporary file behind; the previous snapshot stays whole.
    try {
      unlinkSync(tmp);
    } catch {
      // Already gone.
    }
    throw error;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Deletes the temporary files of saves that a killed emulator never finished, which would otherwise pile up (one
 * whole snapshot each) beside the data file. A save is synchronous, so this process has none in progress; those
 * of another emulator still running are left alone.
 */
export function removeUnfinishedSaves(file: string): void {
  const dir = dirname(file);
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    const pid = Number(/^\.(\d+)\.\d+\.tmp-snapshot$/.exec(name)?.[1]);
    if (!pid || (pid !== process.pid && isRunning(pid))) continue;
    try {
      unlinkSync(join(dir, name));
    } catch {
      // Removed meanwhile by another emulator starting on the same directory.
    }
  }
}

/**
 * Saves at most every `delayMs` after changes, and once more on `flush`, so bursts of writes cost one save. A
 * background save that fails (disk full, a removed directory) does not stop the emulator: it is reported once
 * (`onError`, by default on stderr) and tried again at the next change; the last good snapshot stays in place.
 */
export class SnapshotWriter {
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  constructor(
    private readonly file: string,
    private readonly state: () => EmulatorState,
    private readonly delayMs = 100,
    private readonly onError: (error: unknown) => void = (error) =>
      console.error(
        `emulator: could not save ${file} (${error instanceof Error ? error.message : String(error)}); the last saved snapshot is kept, and saving is tried again at the next change`,
      ),
  ) {
    removeUnfinishedSaves(file);
  }
  changed(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      try {
        saveSnapshot(this.file, this.state());
        this.failing = false;
      } catch (error) {
        if (!this.failing) this.onError(error);
        this.failing = true;
      }
    }, this.delayMs);
  }
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    saveSnapshot(this.file, this.state());
  }
}
