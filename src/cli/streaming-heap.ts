/**
 * Heap tuning for the CLI's long streaming commands (`ingest`, `run … --all`). These read or write millions of
 * items while holding little: a few requests' worth. V8's default heap sizing lets the old generation grow to
 * several times that live set between major collections (measured: 200 MB of RSS ingesting 1,000,000 events,
 * with ~30 MB live). V8's own mode for memory-constrained hosts, `--optimize-for-size`, collects sooner and
 * brings that run to about 125 MB at the same speed (it is read at each collection, so it can be turned on at
 * run time; the heap-size flags cannot).
 *
 * Only the CLI does this, in its own process, for those commands: the library never changes its host's V8
 * flags. `KLAVIYO_HEAP_TUNING=off` leaves V8's defaults.
 */
import { setFlagsFromString } from "node:v8";
import { ENV } from "./env.js";

let applied = false;

/** Turns on V8's memory-saving collection for the rest of this process (once; see the module's comment). */
export function tuneHeapForStreaming(env: NodeJS.ProcessEnv = process.env): boolean {
  if (applied) return true;
  if (env[ENV.heapTuning] === "off") return false;
  setFlagsFromString("--optimize-for-size");
  applied = true;
  return true;
}
