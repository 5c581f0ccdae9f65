/**
 * Who is calling. Credentials live in one small registry, keyed by scheme and credential, so that OAuth
 * `Bearer` tokens can be added beside private keys without touching the middleware. Credentials are only ever
 * used as map keys: nothing here puts one into a response, a log entry or an error.
 */
import type { MiddlewareHandler } from "hono";
import { allOperations } from "../klaviyo/operations.js";
import type { EmulatorEnv } from "./env.js";
import { EmulatorProblem } from "./errors.js";

/** The documented development key the emulator accepts when it is given no keys. Not a secret. */
export const DEV_API_KEY = "pk_emulator_dev_0000000000000000000000";

export const API_KEY_SCHEME = "Klaviyo-API-Key";

/** What a credential grants. */
export interface Principal {
  readonly accountId: string;
  /** The scopes granted; `undefined` grants every scope (a full-access private key). */
  readonly scopes: ReadonlySet<string> | undefined;
  /**
   * Whose quota requests count against. Klaviyo limits per account: every private key of an account shares
   * one quota, while each OAuth app installation gets its own.
   */
  readonly rateBucket: string;
}

let scopeCache: ReadonlySet<string> | undefined;

/** Every scope some operation of Klaviyo's API requires, to catch typos such as `list:read` early. */
export function knownScopes(): ReadonlySet<string> {
  scopeCache ??= new Set([...allOperations()].flatMap((op) => op.scopes));
  return scopeCache;
}

/** Throws on a scope Klaviyo does not have, since a typo would otherwise surface as a puzzling 403. */
export function checkScopes(scopes: readonly string[]): void {
  const unknown = scopes.filter((s) => !knownScopes().has(s));
  if (unknown.length > 0) throw new Error(`Unknown Klaviyo scope(s): ${unknown.join(", ")}`);
}

/** Credentials by scheme; schemes compare case-insensitively, as Klaviyo's do. */
export class CredentialRegistry {
  private readonly entries = new Map<string, Map<string, Principal>>();

  /** Grants `principal` to requests that send `Authorization: <scheme> <credential>`. */
  register(scheme: string, credential: string, principal: Principal): void {
    if (!credential || /\s/.test(credential))
      throw new Error(`A ${scheme} credential cannot be empty or hold spaces`);
    const key = scheme.toLowerCase();
    const map = this.entries.get(key) ?? new Map<string, Principal>();
    map.set(credential, principal);
    this.entries.set(key, map);
  }

  /** Registers a private key of `accountId`; its rate bucket is the account, shared with the account's other keys. */
  addApiKey(key: string, accountId: string, scopes?: readonly string[]): void {
    if (scopes) checkScopes(scopes);
    this.register(API_KEY_SCHEME, key, {
      accountId,
      scopes: scopes ? new Set(scopes) : undefined,
      rateBucket: `account:${accountId}`,
    });
  }

  /** Whether any credential uses `scheme`; an unknown scheme is "not authenticated", not "wrong key". */
  hasScheme(scheme: string): boolean {
    return this.entries.has(scheme.toLowerCase());
  }

  /** What the credential grants, if it is known. */
  lookup(scheme: string, credential: string): Principal | undefined {
    return this.entries.get(scheme.toLowerCase())?.get(credential);
  }
}

const notAuthenticated = () =>
  new EmulatorProblem({
    status: 401,
    code: "not_authenticated",
    title: "Authentication credentials were not provided.",
    detail: "Missing or invalid authorization scheme. Please use Klaviyo-API-Key.",
  });

/** Answers 401 / 403 exactly as Klaviyo does, and leaves the caller's principal for the later stages.
 * @internal The emulator's own pipeline; its types are hono's, kept out of the published declarations.
 */
export function authenticate(registry: CredentialRegistry): MiddlewareHandler<EmulatorEnv> {
  return async (c, next) => {
    const header = c.req.header("Authorization")?.trim() ?? "";
    const match = /^(\S+)\s+(\S+)$/.exec(header);
    if (!match || !registry.hasScheme(match[1] as string)) throw notAuthenticated();
    const principal = registry.lookup(match[1] as string, match[2] as string);
    if (!principal) {
      throw new EmulatorProblem({
        status: 401,
        code: "authentication_failed",
        title: "Incorrect authentication credentials.",
        detail: "Incorrect authentication credentials.",
      });
    }
    const operation = c.get("operation");
    const granted = principal.scopes;
    const missing = granted ? operation.scopes.filter((s) => !granted.has(s)) : [];
    if (missing.length > 0) {
      throw new EmulatorProblem({
        status: 403,
        code: "permission_denied",
        title: "You do not have permission to perform this action.",
        detail: `These credentials lack the scope(s) ${operation.id} requires: ${missing.join(", ")}.`,
      });
    }
    c.set("principal", principal);
    await next();
  };
}
