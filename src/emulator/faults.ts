/**
 * Injected failures, so that a client's retries can be tested against the failures Klaviyo really produces:
 * throttling, server errors and dropped connections, both before a change is made and after it is committed
 * (the case where a blind retry of a POST duplicates work).
 */
import type { MiddlewareHandler } from "hono";
import type { EmulatorContext, EmulatorEnv } from "./env.js";
import { EmulatorProblem, problemResponse, serverError } from "./errors.js";
import { throttled } from "./rate-limit.js";

export const FAULT_KINDS = ["429", "500", "503", "reset", "500-after-commit", "reset-after-commit"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSpec {
  readonly kind: FaultKind;
  /** Chance, from 0 to 1, that the fault fires on a request. */
  readonly probability: number;
  /** Only requests to this operation id (`create_profile`, …) are affected; all of them when absent. */
  readonly operation?: string;
}

const AFTER_COMMIT: ReadonlySet<FaultKind> = new Set(["500-after-commit", "reset-after-commit"]);

function isFaultKind(value: string): value is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(value);
}

/** Refuses unknown kinds and probabilities outside 0..1, naming the offending entry. */
export function checkFaults(faults: readonly FaultSpec[]): FaultSpec[] {
  for (const fault of faults) {
    if (!isFaultKind(fault.kind)) {
      throw new Error(`Unknown fault kind "${String(fault.kind)}": use one of ${FAULT_KINDS.join(", ")}`);
    }
    const p = fault.probability;
    if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
      throw new Error(`The probability of fault "${fault.kind}" must be between 0 and 1, not ${String(p)}`);
    }
  }
  return [...faults];
}

/** Parses the CLI's `KIND=P,KIND=P` (such as `429=0.1,reset-after-commit=0.05`); throws on a bad entry. */
export function parseFaults(text: string): FaultSpec[] {
  const faults: FaultSpec[] = [];
  for (const entry of text.split(",").map((e) => e.trim())) {
    if (entry === "") continue;
    const match = /^([^=\s]+)\s*=\s*(\S+)$/.exec(entry);
    if (!match) throw new Error(`Bad fault "${entry}": write KIND=P, such as 500=0.1`);
    const kind = match[1] as string;
    if (!isFaultKind(kind))
      throw new Error(`Unknown fault kind "${kind}": use one of ${FAULT_KINDS.join(", ")}`);
    const probability = /^(?:\d+(?:\.\d*)?|\.\d+)$/.test(match[2] as string) ? Number(match[2]) : Number.NaN;
    faults.push({ kind, probability });
  }
  return checkFaults(faults);
}

/** Draws faults with an injectable `random`, so tests can force one to fire. */
export class FaultInjector {
  private faults: FaultSpec[];
  constructor(
    faults: readonly FaultSpec[],
    private readonly random: () => number,
  ) {
    this.faults = checkFaults(faults);
  }

  /** The faults in force. */
  get(): readonly FaultSpec[] {
    return this.faults;
  }

  /** Replaces the faults, checked as at construction, so a test can change them between requests. */
  set(faults: readonly FaultSpec[]): void {
    this.faults = checkFaults(faults);
  }

  /** The first fault of the phase whose draw comes in under its probability, if any. */
  draw(afterCommit: boolean, operationId: string): FaultKind | undefined {
    for (const fault of this.faults) {
      if (AFTER_COMMIT.has(fault.kind) !== afterCommit) continue;
      if (fault.operation !== undefined && fault.operation !== operationId) continue;
      if (this.random() < fault.probability) return fault.kind;
    }
    return undefined;
  }
}

function answer(c: EmulatorContext, kind: FaultKind): Response {
  c.set("fault", kind);
  switch (kind) {
    case "429":
      return problemResponse(throttled(1));
    case "500":
    case "500-after-commit":
      return problemResponse(serverError());
    case "503":
      return problemResponse(
        new EmulatorProblem({
          status: 503,
          code: "service_unavailable",
          title: "Service unavailable.",
          detail: "The service is temporarily unavailable. Try again later.",
        }),
      );
    case "reset":
    case "reset-after-commit":
      // The outermost stage drops the connection; this body is never sent.
      c.set("dropConnection", true);
      return new Response(null, { status: 500 });
  }
}

/** Answers with a fault instead of running the handler, or after a successful handler has committed.
 * @internal The emulator's own pipeline; its types are hono's, kept out of the published declarations.
 */
export function injectFaults(injector: FaultInjector): MiddlewareHandler<EmulatorEnv> {
  return async (c, next) => {
    const operationId = c.get("operation").id;
    const before = injector.draw(false, operationId);
    if (before) return answer(c, before);
    await next();
    // A failed handler committed nothing, so there is no "after commit" to fail.
    const after = c.res.status < 400 ? injector.draw(true, operationId) : undefined;
    if (after) {
      // Cleared first: hono would otherwise copy the handler's headers onto the fault's answer.
      c.res = undefined;
      c.res = answer(c, after);
    }
  };
}
