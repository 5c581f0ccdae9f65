/**
 * `bench/results.json`: one entry per figure, `{ name, unit, value, peer: { <contender>: value }, ceiling }`, as
 * issue #7 asks. Each benchmark records its own figures; entries of other benchmarks (and of parts not run this
 * time) are kept, so the file always holds the last measurement of every figure.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface Figure {
  name: string;
  unit: string;
  value: number;
  peer: Record<string, number>;
  /** The target or bound the figure is held against (a ceiling, a floor or a limit), or null. */
  ceiling: number | null;
}

const path = fileURLToPath(new URL("./results.json", import.meta.url));

/** Replaces the entries of these figures' names in bench/results.json, keeping the others. */
export function record(figures: readonly Figure[]): void {
  if (figures.length === 0) return;
  let previous: Figure[] = [];
  try {
    previous = JSON.parse(readFileSync(path, "utf8")) as Figure[];
  } catch {
    // First run.
  }
  const names = new Set(figures.map((f) => f.name));
  const round = (n: number) => (Number.isFinite(n) ? Math.round(n * 1000) / 1000 : n);
  const rounded = figures.map((f) => ({
    ...f,
    value: round(f.value),
    peer: Object.fromEntries(Object.entries(f.peer).map(([k, v]) => [k, round(v)])),
  }));
  writeFileSync(
    path,
    `${JSON.stringify([...previous.filter((p) => !names.has(p.name)), ...rounded], null, 2)}\n`,
  );
  console.log(`\nwrote ${figures.length} figures to ${path}`);
}
