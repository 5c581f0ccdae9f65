/**
 * `GET /api/accounts` and `GET /api/accounts/{id}` (XS tier: 1/s, 15/m). A credential only ever sees the
 * account it belongs to: the list holds that one account, and any other id is 404.
 */
import { FIELDSETS } from "../../klaviyo/operations.js";
import type { EmulatorContext, RouteTable } from "../env.js";
import { notFound } from "../errors.js";
import { applyFieldset } from "../fields.js";
import { canonicalUrl, jsonApi, selfLink } from "../json-api.js";
import { readQuery } from "../query.js";
import type { Account, EmulatorState } from "../state.js";

/** The names `fields[account]` accepts, from Klaviyo's OpenAPI document (via the generated operation table). */
export const ACCOUNT_FIELDS: readonly string[] = FIELDSETS.account ?? [];

function accountResource(account: Account, origin: string, fields: readonly string[] | undefined) {
  return {
    type: "account",
    id: account.id,
    attributes: applyFieldset({ ...account.attributes }, fields),
    links: { self: selfLink(origin, "accounts", account.id) },
  };
}

function ownAccount(c: EmulatorContext, state: EmulatorState): Account | undefined {
  return state.accounts.get(c.get("principal").accountId);
}

/** The account handlers, over `state`. */
export function accountRoutes(state: EmulatorState): RouteTable {
  return {
    get_accounts(c) {
      // readQuery, not only the fieldset: a fields[...] of another type or an include is 400 as on every read.
      const fields = readQuery(c).fields.get("account");
      const { origin } = new URL(c.req.url);
      const account = ownAccount(c, state);
      return jsonApi({
        data: account ? [accountResource(account, origin, fields)] : [],
        links: { self: canonicalUrl(c.req.url) },
      });
    },

    get_account(c) {
      const fields = readQuery(c).fields.get("account");
      const id = c.get("params").id ?? "";
      const account = ownAccount(c, state);
      if (!account || account.id !== id)
        throw notFound(`No account with id '${id}' is available to these credentials.`);
      return jsonApi({
        data: accountResource(account, new URL(c.req.url).origin, fields),
        links: { self: canonicalUrl(c.req.url) },
      });
    },
  };
}
