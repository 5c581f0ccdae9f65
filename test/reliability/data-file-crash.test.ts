/**
 * The emulator's `--data-file` under SIGKILL: the real CLI emulator is killed while writers hammer it, several
 * times, half of the kills at a random moment and half at the moment a save begins (its temporary file appears),
 * and restarted each time from the same file. After every kill the file must parse, the restarted emulator must
 * hold exactly what the file holds, and the file must be a prefix-consistent snapshot: each writer does its
 * operations one after another (create its list; then, per step, create a profile, add it to the list, record an
 * event for it), so whatever instant a snapshot was taken at, every writer's operations in it are a prefix of
 * what it did, each entity whole, and nothing that was restored before is ever lost.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, type FSWatcher, mkdtempSync, readdirSync, readFileSync, rmSync, watch } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_REVISION } from "../../src/core/version.js";
import { DEV_API_KEY } from "../../src/emulator/auth.js";
import { BIN, requireBuild } from "../helpers/cli.js";
import { seededRandom } from "../helpers/random.js";

const LIVES = 10; // 9 SIGKILLs, then a clean stop
const WRITERS = 6;
const SEED_PROFILES = 4_000; // a snapshot of ~5 MB, so that a save takes long enough to be killed inside
const HEADERS = {
  authorization: `Klaviyo-API-Key ${DEV_API_KEY}`,
  revision: DEFAULT_REVISION,
  accept: "application/vnd.api+json",
  "content-type": "application/vnd.api+json",
};

/** The properties a writer gives its profile `step`: padding of varying length and a checksum over all of it. */
function profileProperties(life: number, writer: number, step: number) {
  const pad = `${life}.${writer}.${step}:`.padEnd(100 + ((life * 31 + writer * 7 + step) % 400), "~");
  const sum = createHash("sha256").update(`${life}|${writer}|${step}|${pad}`).digest("hex");
  return { crash_life: life, crash_writer: writer, crash_step: step, pad, sum };
}
const email = (life: number, writer: number, step: number) => `l${life}w${writer}s${step}@crash.example`;
const listName = (life: number, writer: number) => `crash life ${life} writer ${writer}`;

interface Emulator {
  url: string;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Emulators started and not yet seen to exit: killed if the test fails half-way. */
const running = new Set<ChildProcess>();

async function start(dataFile: string): Promise<Emulator> {
  const child = spawn(
    process.execPath,
    [
      BIN,
      "emulator",
      "--port",
      "0",
      "--rate-limits",
      "off",
      "--data-file",
      dataFile,
      "--seed-profiles",
      String(SEED_PROFILES),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  running.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  let err = "";
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d) => {
      out += d;
      const m = /^Klaviyo emulator listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    void exited.then(({ code }) => reject(new Error(`the emulator exited with ${code}: ${err}`)));
  });
  return { url, child, exited };
}

/** What the test knows a writer did: operations acknowledged (2xx), in order, and whether one was in flight. */
interface WriterLog {
  acked: string[];
  inFlight: string | undefined;
}

/**
 * One writer: creates its list, then per step a profile, its membership, its event, each waiting for the last.
 * Runs until `stop()` says so or the emulator goes away (a dropped connection ends the writer quietly).
 */
async function writer(
  url: string,
  life: number,
  w: number,
  log: WriterLog,
  stop: () => boolean,
): Promise<void> {
  const send = async (op: string, method: string, path: string, body: unknown): Promise<unknown> => {
    log.inFlight = op;
    const res = await fetch(`${url}${path}`, { method, headers: HEADERS, body: JSON.stringify(body) });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${op}: ${res.status} ${text.slice(0, 300)}`);
    log.acked.push(op);
    log.inFlight = undefined;
    return text ? JSON.parse(text) : undefined;
  };
  try {
    const list = (await send("L", "POST", "/api/lists", {
      data: { type: "list", attributes: { name: listName(life, w) } },
    })) as { data: { id: string } };
    for (let step = 0; !stop(); step++) {
      const profile = (await send(`P${step}`, "POST", "/api/profiles", {
        data: {
          type: "profile",
          attributes: { email: email(life, w, step), properties: profileProperties(life, w, step) },
        },
      })) as { data: { id: string } };
      if (stop()) return;
      await send(`M${step}`, "POST", `/api/lists/${list.data.id}/relationships/profiles`, {
        data: [{ type: "profile", id: profile.data.id }],
      });
      if (stop()) return;
      await send(`E${step}`, "POST", "/api/events", {
        data: {
          type: "event",
          attributes: {
            properties: { crash_life: life, crash_writer: w, crash_step: step },
            unique_id: `crash-${life}-${w}-${step}`,
            metric: { data: { type: "metric", attributes: { name: "Crash Test Step" } } },
            profile: { data: { type: "profile", attributes: { email: email(life, w, step) } } },
          },
        },
      });
    }
  } catch (error) {
    // The emulator was killed under us: the operation in flight may or may not have been recorded.
    if (!stop()) throw error;
  }
}

type Row = { id: string; seq: number; attributes: Record<string, unknown> } & Record<string, unknown>;
interface Snapshot {
  format: string;
  version: number;
  profiles: Row[];
  lists: Row[];
  events: Row[];
  metrics: Row[];
  memberships: Record<string, Record<string, string>>;
  [table: string]: unknown;
}

function readSnapshot(file: string): Snapshot {
  // Throws (failing the test) on a torn or half-written file.
  const doc = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  expect(doc.format).toBe("klaviyo-emulator-snapshot");
  expect(doc.version).toBe(1);
  return doc;
}

/** Every writer's operations found in the snapshot, checked whole, in the order the writer did them. */
function operationsIn(doc: Snapshot, life: number): Map<number, string[]> {
  const profilesById = new Map(doc.profiles.map((p) => [p.id, p]));
  const metricIds = new Set(doc.metrics.map((m) => m.id));
  const found = new Map<number, Set<string>>();
  const add = (w: number, op: string) => {
    const set = found.get(w) ?? new Set<string>();
    expect(set.has(op), `operation ${op} of writer ${w} twice`).toBe(false);
    set.add(op);
    found.set(w, set);
  };
  const stepOfProfile = new Map<string, { w: number; step: number }>();
  for (const p of doc.profiles) {
    const props = (p.attributes.properties ?? {}) as Record<string, unknown>;
    if (props.crash_life !== life) continue;
    const w = props.crash_writer as number;
    const step = props.crash_step as number;
    // Whole: every property as written, the checksum over the padding intact.
    expect(props).toEqual(profileProperties(life, w, step));
    expect(p.attributes.email).toBe(email(life, w, step));
    stepOfProfile.set(p.id, { w, step });
    add(w, `P${step}`);
  }
  for (const l of doc.lists) {
    const match = /^crash life (\d+) writer (\d+)$/.exec(String(l.attributes.name));
    if (!match || Number(match[1]) !== life) continue;
    const w = Number(match[2]);
    add(w, "L");
    const members = doc.memberships[l.id];
    expect(members, `list ${l.id} without its membership table`).toBeDefined();
    for (const profileId of Object.keys(members ?? {})) {
      const of = stepOfProfile.get(profileId);
      // A member always exists as a profile, and is the writer's own.
      expect(of, `member ${profileId} of list ${l.id} is not a profile of this life`).toBeDefined();
      expect(of?.w).toBe(w);
      add(w, `M${of?.step}`);
    }
  }
  for (const e of doc.events) {
    const props = (e.attributes.event_properties ?? e.attributes.properties ?? {}) as Record<string, unknown>;
    if (props.crash_life !== life) continue;
    const w = props.crash_writer as number;
    const step = props.crash_step as number;
    expect(profilesById.has(e.profileId as string), `event ${e.id} of a missing profile`).toBe(true);
    expect(metricIds.has(e.metricId as string), `event ${e.id} of a missing metric`).toBe(true);
    expect(stepOfProfile.get(e.profileId as string)).toEqual({ w, step });
    add(w, `E${step}`);
  }
  // In the writer's own order: L, P0, M0, E0, P1, …
  const order = (op: string) => (op === "L" ? -1 : Number(op.slice(1)) * 3 + "PME".indexOf(op[0] as string));
  return new Map([...found].map(([w, ops]) => [w, [...ops].sort((a, b) => order(a) - order(b))]));
}

function counts(doc: Snapshot) {
  return {
    profiles: doc.profiles.length,
    lists: doc.lists.length,
    events: doc.events.length,
    memberships: Object.values(doc.memberships).reduce((n, m) => n + Object.keys(m).length, 0),
  };
}

/** Polls `condition` (a bounded wait for something that must happen, not a timed assertion). */
async function until(condition: () => boolean, boundMs = 10_000): Promise<void> {
  for (const end = Date.now() + boundMs; !condition(); ) {
    if (Date.now() > end) throw new Error("gave up waiting");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const temporaryFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".tmp-snapshot"));

let dir: string;
beforeAll(() => {
  requireBuild();
  dir = mkdtempSync(join(tmpdir(), "klaviyo-crash-"));
});
afterAll(() => {
  for (const child of running) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("--data-file survives SIGKILL while saving under load", () => {
  it(`${LIVES - 1} kills (at random moments and mid-save), each restart from the last complete snapshot`, async () => {
    const file = join(dir, "state.json");
    const random = seededRandom(8);
    const figures = { kills: 0, midSave: 0, acked: 0, restored: 0, lostOnKill: 0 };
    let previous: { counts: ReturnType<typeof counts>; ids: Set<string> } | undefined;
    const logs = new Map<number, WriterLog[]>();

    for (let life = 0; life < LIVES; life++) {
      const emulator = await start(file);
      // The first life starts from the seeded state's first snapshot, so every later life has one to go back to.
      if (life === 0) await until(() => existsSync(file));
      // The unfinished saves of the killed emulators are cleared away on start, not left to fill the disk.
      else expect(temporaryFiles(dir)).toEqual([]);
      // What the restarted emulator holds is what the file holds: it loaded this snapshot.
      if (life > 0) {
        const doc = readSnapshot(file);
        const health = (await (await fetch(`${emulator.url}/__emulator/health`)).json()) as {
          resources: Record<string, number>;
        };
        expect(health.resources).toMatchObject({
          profiles: doc.profiles.length,
          lists: doc.lists.length,
          events: doc.events.length,
        });
        // Counts only grow, and nothing restored before is lost.
        const now = counts(doc);
        const ids = new Set([...doc.profiles, ...doc.lists, ...doc.events].map((r) => r.id));
        if (previous) {
          for (const key of Object.keys(now) as Array<keyof typeof now>)
            expect(now[key]).toBeGreaterThanOrEqual(previous.counts[key]);
          for (const id of previous.ids) expect(ids.has(id), `entity ${id} lost`).toBe(true);
        }
        previous = { counts: now, ids };
        // Every earlier life's operations: a prefix of what each writer did, never more than it was told done
        // plus the one in flight when the kill came.
        for (let past = 0; past < life; past++) {
          for (const [w, ops] of operationsIn(doc, past)) {
            const log = logs.get(past)?.[w];
            expect(log).toBeDefined();
            const did = [...(log?.acked ?? []), ...(log?.inFlight ? [log.inFlight] : [])];
            expect(ops, `life ${past} writer ${w}: not a prefix of what it did`).toEqual(
              did.slice(0, ops.length),
            );
          }
        }
        figures.restored = now.profiles + now.events + now.lists + now.memberships;
      }

      // Under load: writers run until the kill (or, in the last life, until told to stop).
      let stopped = false;
      const lifeLogs = Array.from({ length: WRITERS }, (): WriterLog => ({ acked: [], inFlight: undefined }));
      logs.set(life, lifeLogs);
      const writers = lifeLogs.map((log, w) => writer(emulator.url, life, w, log, () => stopped));

      if (life < LIVES - 1) {
        const tmpBefore = new Set(temporaryFiles(dir));
        let watcher: FSWatcher | undefined;
        if (life % 2 === 1) {
          // At the moment a save begins: its temporary file appears in the directory.
          const saving = new Promise<void>((resolve) => {
            watcher = watch(dir, (_event, name) => {
              if (name?.endsWith(".tmp-snapshot") && !tmpBefore.has(name)) {
                emulator.child.kill("SIGKILL");
                resolve();
              }
            });
          });
          await Promise.race([saving, emulator.exited]);
        } else {
          await new Promise((resolve) => setTimeout(resolve, 150 + Math.floor(random() * 900)));
        }
        stopped = true;
        emulator.child.kill("SIGKILL");
        expect((await emulator.exited).signal).toBe("SIGKILL");
        watcher?.close();
        await Promise.all(writers);
        figures.kills++;
        // A temporary file left behind by this process is the proof that the kill came in the middle of a save.
        const left = temporaryFiles(dir).filter((f) => !tmpBefore.has(f));
        if (left.some((f) => f.startsWith(`.${emulator.child.pid}.`))) figures.midSave++;
        expect(existsSync(file)).toBe(true);
      } else {
        // The last life ends cleanly: SIGTERM flushes, and then nothing acknowledged is missing.
        await new Promise((resolve) => setTimeout(resolve, 500));
        stopped = true;
        await Promise.all(writers);
        emulator.child.kill("SIGTERM");
        expect(await emulator.exited).toEqual({ code: 0, signal: null });
        const doc = readSnapshot(file);
        for (const [w, ops] of operationsIn(doc, life)) expect(ops).toEqual(lifeLogs[w]?.acked);
        expect(operationsIn(doc, life).size).toBe(WRITERS);
      }
      const acked = lifeLogs.reduce((n, l) => n + l.acked.length, 0);
      figures.acked += acked;
      expect(acked, `life ${life}: the writers got nothing done`).toBeGreaterThan(0);
    }

    // The kills were real tests of the snapshot: some came mid-save, and work was done and kept across them.
    expect(figures.kills).toBe(LIVES - 1);
    expect(figures.midSave).toBeGreaterThanOrEqual(Math.floor((LIVES - 1) / 2));
    const final = readSnapshot(file);
    let kept = 0;
    for (let life = 0; life < LIVES; life++)
      for (const ops of operationsIn(final, life).values()) kept += ops.length;
    figures.lostOnKill = figures.acked - kept;
    expect(kept).toBeGreaterThan(0);

    // The restored state works as a state, not just a file: its profile index is rebuilt, so a duplicate is refused.
    const emulator = await start(file);
    const duplicate = await fetch(`${emulator.url}/api/profiles`, {
      method: "POST",
      headers: HEADERS,
      body: JSON.stringify({ data: { type: "profile", attributes: { email: email(0, 0, 0) } } }),
    });
    const ops0 = operationsIn(final, 0).get(0) ?? [];
    expect(duplicate.status).toBe(ops0.includes("P0") ? 409 : 201);
    emulator.child.kill("SIGTERM");
    await emulator.exited;

    console.log(
      `data-file crash: ${figures.kills} SIGKILLs (${figures.midSave} mid-save), ${figures.acked} writes acknowledged, ` +
        `${figures.restored} entities and memberships restored by the last restart after a kill, ` +
        `${kept} kept, ${figures.lostOnKill} acknowledged in the last moments before a kill and not yet saved`,
    );
  }, 120_000);
});
