/**
 * The reading loop of a streamed ingestion: takes the source one item at a time (an array, an `Iterable` or an
 * `AsyncIterable`), validates it, packs what is valid into requests and hands each full request to the
 * `Ingestion`, which may make the loop wait for a free slot (so reading never runs ahead of sending). Once the
 * run stops (an abort, or an error every request would meet), the rest of the source is still read, unchecked,
 * only to report it unsent and hand it to `onUnsent`: the result covers the whole input, and the unsent items
 * make a complete file for a re-run.
 */
import {
  type Batch,
  type BatchRules,
  Ingestion,
  type IngestionSpec,
  type IngestResult,
  RequestBuilder,
} from "./engine.js";

/** What an ingestion reads: an array, any iterable, or an async iterable (read lazily). */
export type IngestSource<R> = Iterable<R> | AsyncIterable<R>;

/** How one input item is read. */
export interface ItemReader<R, T> {
  /** The item's values (one per position), or why it is refused and how many positions it takes. */
  read(raw: R): { values: T[] } | { reason: string; positions: number };
  /** How many positions an item takes without reading it (after the run stopped). */
  positions(raw: R): number;
}

/** Progress is reported at least every this many positions read. */
const PROGRESS_EVERY = 1000;

/** Runs an ingestion over `source`: see the module's comment. */
export async function ingestSource<R, T>(
  source: IngestSource<R>,
  reader: ItemReader<R, T>,
  rules: BatchRules<T>,
  spec: IngestionSpec<T>,
): Promise<IngestResult> {
  const ingestion = new Ingestion(spec);
  const builder = new RequestBuilder(rules);
  const dispatch = async (batches: readonly Batch<T>[]) => {
    for (const batch of batches) await ingestion.dispatch(batch);
  };
  let position = 0;
  let nextProgress = PROGRESS_EVERY;
  let draining = false;
  try {
    await readAll();
  } catch (error) {
    // The source failed (a file that cannot be read further): let the requests in flight settle, then say so.
    await ingestion.finish();
    throw error;
  }
  await dispatch(builder.end());
  return ingestion.finish();

  async function readAll(): Promise<void> {
    for await (const raw of source) {
      if (!draining && ingestion.stopped !== undefined) {
        draining = true;
        // What is held is reported unsent before the rest, to keep the unsent items in reading order.
        await dispatch(builder.end());
      }
      if (draining) {
        const count = reader.positions(raw);
        ingestion.read(count);
        ingestion.unsent(position, raw, count);
        position += count;
        continue;
      }
      const read = reader.read(raw);
      if ("reason" in read) {
        ingestion.read(read.positions);
        ingestion.reject(position, raw, read.positions, read.reason);
        position += read.positions;
      } else {
        ingestion.read(read.values.length);
        for (const value of read.values) {
          const done = builder.push({ position: position++, value });
          if (done.length > 0) await dispatch(done); // rarely: one item in a thousand completes a request
        }
      }
      if (position >= nextProgress) {
        nextProgress = position + PROGRESS_EVERY;
        ingestion.progress();
      }
    }
  }
}
