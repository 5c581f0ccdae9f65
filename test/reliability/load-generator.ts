/**
 * A bounded load generator for the emulator, run as its own process (`node --import tsx load-generator.ts`):
 * `CONCURRENCY` workers, each sending one request at a time for `SECONDS`, a fixed mix of list and create calls
 * that keeps the emulator's data bounded (see `op`). Prints one JSON line of figures on stdout at the end.
 *
 * Environment: LOAD_URL (required), LOAD_SECONDS (default 60), LOAD_CONCURRENCY (default 16), LOAD_API_KEY.
 */

const url = process.env.LOAD_URL ?? "";
const seconds = Number(process.env.LOAD_SECONDS ?? 60);
const concurrency = Number(process.env.LOAD_CONCURRENCY ?? 16);
const apiKey = process.env.LOAD_API_KEY ?? "pk_emulator_dev_0000000000000000000000";
const revision = process.env.LOAD_REVISION ?? "2026-07-15";
if (!url || !(seconds > 0) || !(concurrency > 0)) {
  process.stderr.write("usage: LOAD_URL=http://127.0.0.1:PORT [LOAD_SECONDS=60] [LOAD_CONCURRENCY=16]\n");
  process.exit(2);
}

const headers = {
  authorization: `Klaviyo-API-Key ${apiKey}`,
  revision,
  accept: "application/vnd.api+json",
  "content-type": "application/vnd.api+json",
};

/** Per operation: requests, by status, and samples of anything that was neither 2xx nor a proper 429. */
interface OpFigures {
  requests: number;
  statuses: Record<string, number>;
}
const figures = {
  requests: 0,
  ok: 0,
  throttled: 0,
  /** A 429 without Retry-After or without Klaviyo's `throttled` error. */
  badThrottles: 0,
  unexpected: 0,
  connectionErrors: 0,
  samples: [] as string[],
  ops: {} as Record<string, OpFigures>,
  /** Requests completed in each second of the run. */
  perSecond: [] as number[],
  durationMs: 0,
};

const POOL = 40; // profiles (and event profiles) per worker: the store stops growing once each is made
const LISTS = 4; // lists a worker keeps at most: it deletes its oldest past that

interface Worker {
  readonly index: number;
  step: number;
  /** Pool slot → profile id, once created; later visits update it. */
  readonly profiles: Map<number, string>;
  /** Its lists, oldest first. */
  readonly lists: string[];
}

const started = Date.now();
const deadline = started + seconds * 1000;

async function send(op: string, method: string, path: string, body?: unknown): Promise<unknown> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(`${url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    text = await res.text();
  } catch (error) {
    figures.connectionErrors++;
    if (figures.samples.length < 10) figures.samples.push(`${op}: ${String(error)}`);
    return undefined;
  }
  figures.requests++;
  const second = Math.floor((Date.now() - started) / 1000);
  figures.perSecond[second] = (figures.perSecond[second] ?? 0) + 1;
  const entry = figures.ops[op] ?? { requests: 0, statuses: {} };
  figures.ops[op] = entry;
  entry.requests++;
  entry.statuses[res.status] = (entry.statuses[res.status] ?? 0) + 1;
  if (res.status >= 200 && res.status < 300) {
    figures.ok++;
    return text ? JSON.parse(text) : null;
  }
  if (res.status === 429) {
    figures.throttled++;
    const retryAfter = Number(res.headers.get("retry-after"));
    let code: unknown;
    try {
      code = (JSON.parse(text) as { errors?: Array<{ code?: string }> }).errors?.[0]?.code;
    } catch {
      code = undefined;
    }
    if (!(retryAfter >= 1) || code !== "throttled") {
      figures.badThrottles++;
      if (figures.samples.length < 10)
        figures.samples.push(`${op}: 429 ${res.headers.get("retry-after")} ${text}`);
    }
    // Back off a little, as a client would, and go on: the load stays steady, and never becomes a 429 storm.
    await new Promise((resolve) => setTimeout(resolve, Math.min(retryAfter * 1000, 50) || 50));
    return undefined;
  }
  figures.unexpected++;
  if (figures.samples.length < 10) figures.samples.push(`${op}: ${res.status} ${text.slice(0, 300)}`);
  return undefined;
}

/**
 * One step of a worker. Reads: the list and profile collections. Writes that keep the store bounded: a list is
 * created and, past `LISTS`, the worker's oldest deleted; a profile of the worker's pool is created once, then
 * updated; an event carries a `unique_id` from a bounded set, so after the first of each nothing is recorded.
 */
async function op(w: Worker): Promise<void> {
  const step = w.step++;
  const slot = step % POOL;
  switch (step % 10) {
    case 0:
    case 3:
    case 6:
      await send("get_lists", "GET", "/api/lists");
      return;
    case 1:
    case 7:
      await send("get_profiles", "GET", "/api/profiles?page[size]=20");
      return;
    case 2: {
      const created = (await send("create_list", "POST", "/api/lists", {
        data: { type: "list", attributes: { name: `load ${w.index}.${step}` } },
      })) as { data?: { id?: string } } | undefined;
      if (created?.data?.id) w.lists.push(created.data.id);
      if (w.lists.length > LISTS) {
        const oldest = w.lists[0] as string;
        const deleted = await send("delete_list", "DELETE", `/api/lists/${oldest}`);
        if (deleted !== undefined) w.lists.shift();
      }
      return;
    }
    case 4:
    case 8: {
      const email = `load-${w.index}-${slot}@load.example`;
      const id = w.profiles.get(slot);
      const attributes = { email, first_name: `Load ${step}`, properties: { step } };
      if (id) {
        await send("update_profile", "PATCH", `/api/profiles/${id}`, {
          data: { type: "profile", id, attributes },
        });
        return;
      }
      const created = (await send("create_profile", "POST", "/api/profiles", {
        data: { type: "profile", attributes },
      })) as { data?: { id?: string } } | undefined;
      if (created?.data?.id) w.profiles.set(slot, created.data.id);
      return;
    }
    default:
      await send("create_event", "POST", "/api/events", {
        data: {
          type: "event",
          attributes: {
            properties: { step: slot },
            unique_id: `load-${w.index}-${slot}`,
            metric: { data: { type: "metric", attributes: { name: "Load Test" } } },
            profile: {
              data: { type: "profile", attributes: { email: `event-${w.index}-${slot}@load.example` } },
            },
          },
        },
      });
  }
}

async function run(index: number): Promise<void> {
  const w: Worker = { index, step: index, profiles: new Map(), lists: [] };
  while (Date.now() < deadline) await op(w);
}

await Promise.all(Array.from({ length: concurrency }, (_, i) => run(i)));
figures.durationMs = Date.now() - started;
process.stdout.write(`${JSON.stringify(figures)}\n`);
