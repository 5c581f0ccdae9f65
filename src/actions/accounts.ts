import { FIELDSETS } from "../klaviyo/operations.js";
import { defineAction } from "./define.js";
import { input } from "./inputs.js";

const accountFields = () =>
  input.fields(
    {
      key: "fields",
      label: "Fields",
      comments:
        "The account fields to include in the response (Klaviyo's sparse fieldset `fields[account]`), as a list or comma-separated text; dotted names reach nested fields, e.g. contact_information.organization_name. Leave empty for every field.",
      example: "contact_information.organization_name,timezone",
    },
    FIELDSETS.account ?? [],
  );

/** A single-resource answer of Klaviyo's, as sent. */
export interface ResourceDocument {
  data: { type: string; id: string; attributes: Record<string, unknown>; [key: string]: unknown };
  links?: Record<string, unknown>;
  included?: unknown[];
  [key: string]: unknown;
}

/** `GET /api/accounts/{id}` (tier XS: 1/s, 15/m). */
export const getAccount = defineAction({
  key: "get-account",
  label: "Get Account",
  description:
    "Fetches the account that owns the connection's credentials, by its account ID: contact information, timezone, currency, locale and the public API key (site ID) that /client endpoints need. Klaviyo only answers for the connection's own account and allows 1 request per second, 15 per minute, so cache the result.",
  operation: "get_account",
  inputs: {
    accountId: input.id({
      key: "accountId",
      label: "Account ID",
      comments: "The ID of the account to retrieve: the connection's own account (List Accounts returns it).",
      example: "AbC123",
    }),
    fields: accountFields(),
  },
  async perform({ send }, { accountId, fields }) {
    const res = await send({
      path: { id: accountId },
      query: { "fields[account]": fields?.length ? fields : undefined },
    });
    return res.body;
  },
});

/** `GET /api/accounts` (tier XS: 1/s, 15/m). */
export const listAccounts = defineAction({
  key: "list-accounts",
  label: "List Accounts",
  description:
    "Lists the account(s) the connection's private API key or OAuth token belongs to: always exactly one. Use it to discover the account ID and the public API key (site ID). Limited to 1 request per second, 15 per minute.",
  operation: "get_accounts",
  inputs: { fields: accountFields() },
  async perform({ send }, { fields }) {
    const res = await send({
      query: { "fields[account]": fields?.length ? fields : undefined },
    });
    return res.body;
  },
});
