import type { Socket } from "node:net";
import type { Operation } from "../klaviyo/operations.js";
import type { Principal } from "./auth.js";
import type { FaultKind } from "./faults.js";
import type { Context } from "./http/context.js";

/** What the runtime hands `app.fetch`: on a real port the Node request (`http/node.ts`); in-process, nothing. */
export interface EmulatorBindings {
  /** Only its socket is used: a `reset` fault destroys it. */
  readonly incoming?: { readonly socket: Socket };
}

/** What each stage of the pipeline learns about a request and leaves for the next ones. */
export interface EmulatorVariables {
  operation: Operation;
  /** Path parameters of the operation's template, decoded. */
  params: Readonly<Record<string, string>>;
  principal: Principal;
  /** Set by a `reset` fault: the connection is to be dropped instead of answered. */
  dropConnection: boolean;
  /** Set once the handler has run, so its change (if any) is in the state. */
  handled: boolean;
  fault: FaultKind | undefined;
}

export type EmulatorEnv = { Bindings: EmulatorBindings; Variables: EmulatorVariables };
export type EmulatorContext = Context<EmulatorEnv>;

/** One implemented operation: answers a request that has passed auth, revision, rate and fault checks. */
export type OperationHandler = (c: EmulatorContext) => Response | Promise<Response>;

/** Implemented operations by operation id (`get_accounts`, …). */
export type RouteTable = Readonly<Record<string, OperationHandler>>;
