/** What the emulator holds: the accounts credentials belong to (and, as routes are added, their resources). */

export interface StreetAddress {
  address1: string | null;
  address2: string | null;
  city: string | null;
  region: string | null;
  country: string | null;
  zip: string | null;
}

/** The attributes of Klaviyo's `account` resource (`AccountResponseObjectResource`), in wire names. */
export interface AccountAttributes {
  test_account: boolean;
  contact_information: {
    default_sender_name: string;
    default_sender_email: string;
    website_url: string | null;
    organization_name: string;
    street_address: StreetAddress;
  };
  industry: string | null;
  timezone: string;
  preferred_currency: string;
  /** The 6-character public key (site id) of `/client/*` calls; on Klaviyo it equals the account id. */
  public_api_key: string;
  locale: string;
}

export interface Account {
  readonly id: string;
  attributes: AccountAttributes;
}

/** The seeded account's id: fixed, so that tests and docs can name it. */
export const SEED_ACCOUNT_ID = "XqT4Lm";

/** A realistic account, as a small Boston shop would have it configured. */
export function seedAccount(id = SEED_ACCOUNT_ID): Account {
  return {
    id,
    attributes: {
      test_account: false,
      contact_information: {
        default_sender_name: "Harbor & Pine",
        default_sender_email: "hello@harborandpine.example",
        website_url: "https://harborandpine.example",
        organization_name: "Harbor & Pine Outfitters",
        street_address: {
          address1: "125 Summer Street",
          address2: "5th Floor",
          city: "Boston",
          region: "MA",
          country: "US",
          zip: "02110",
        },
      },
      industry: "Apparel & Accessories",
      timezone: "US/Eastern",
      preferred_currency: "USD",
      public_api_key: id,
      locale: "en-US",
    },
  };
}

export interface EmulatorState {
  readonly accounts: Map<string, Account>;
}

/** A fresh state holding the given accounts. */
export function createState(accounts: readonly Account[]): EmulatorState {
  return { accounts: new Map(accounts.map((a) => [a.id, a])) };
}
