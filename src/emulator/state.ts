/** What the emulator holds: the accounts credentials belong to and every resource the connector's actions touch. */
import type { ImportJobRow } from "./resources/profile-import-jobs.js";
import { type ResourceRow, Table } from "./store.js";

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

/** A profile; `attributes` as Get Profile returns them, `subscriptions` as `additional-fields[profile]` adds. */
export interface ProfileRow extends ResourceRow {
  subscriptions: Record<string, unknown>;
}

/** An event, with the metric and profile it belongs to. */
export interface EventRow extends ResourceRow {
  readonly metricId: string;
  readonly profileId: string;
  /**
   * When reads first see the event (epoch ms, the emulator's clock), for an event held back by the emulator's
   * indexing lag (`eventVisibilityDelayMs`, or an admin call for this one event); absent, it is seen at once.
   */
  visibleAt?: number;
}

/** A campaign; its messages live in `campaignMessages`, in this order. */
export interface CampaignRow extends ResourceRow {
  messageIds: string[];
}

export interface CampaignMessageRow extends ResourceRow {
  readonly campaignId: string;
  templateId: string | null;
}

/**
 * The send job of a campaign (Send Campaign): its ID is the campaign's; `attributes.status` is Klaviyo's
 * (`queued`, `processing`, `complete`, `cancelled`); its stages' times (epoch ms) are fixed when it is made.
 */
export interface CampaignSendJobRow extends ResourceRow {
  readonly campaignId: string;
  readonly queuedAt: number;
  readonly processingAt: number;
  readonly completeAt: number;
  /** How many events the job recorded on completion (not on the wire). */
  recipients?: number;
}

/** An uploaded image; `bytes` only for file uploads (data URIs and URLs keep what they were given). */
export interface ImageRow extends ResourceRow {
  contentType: string;
}

/** A tag: the tag group it belongs to and the resources it is on (ids, in tagging order), by relationship. */
export interface TagRow extends ResourceRow {
  groupId: string;
  lists: string[];
  segments: string[];
  campaigns: string[];
  flows: string[];
}

/** A bulk (un)suppression job; its work is done when it is created, its status advances as it is read. */
export interface SuppressionJobRow extends ResourceRow {
  readonly kind: "suppress" | "unsuppress";
  readonly listId: string | null;
  readonly segmentId: string | null;
  /** What the job did, shown once its status is `complete`. */
  readonly outcome: { readonly completed: number; readonly skipped: number };
}

/**
 * A system webhook (Create Webhook). `attributes` hold what Klaviyo's answers show (`name`, `description`,
 * `enabled`, `created_at`, `updated_at`); the full endpoint URL, the secret and the topics are kept beside them,
 * since an answer shows the URL truncated, never the secret, and the topics as a relationship.
 */
export interface WebhookRow extends ResourceRow {
  endpointUrl: string;
  /** The signing key of its deliveries; it never leaves the emulator except in the user's own data file. */
  secretKey: string;
  /** Topic ids (`event:klaviyo.subscribed_to_list`), in the order given, each once. */
  topics: string[];
}

/** Told of every event as it is recorded, whatever recorded it (webhook delivery listens here). */
export type EventListener = (row: EventRow) => void;

/**
 * Everything the emulator holds, in wire form (so a snapshot is plain JSON). Tables keep creation order, which
 * pagination relies on.
 */
export interface EmulatorState {
  readonly accounts: Map<string, Account>;
  readonly profiles: Table<ProfileRow>;
  readonly lists: Table<ResourceRow>;
  /** List id → profile id → when the profile joined (ISO), in joining order. */
  readonly memberships: Map<string, Map<string, string>>;
  readonly segments: Table<ResourceRow>;
  readonly campaigns: Table<CampaignRow>;
  readonly campaignMessages: Table<CampaignMessageRow>;
  readonly templates: Table<ResourceRow>;
  readonly images: Table<ImageRow>;
  readonly metrics: Table<ResourceRow>;
  readonly events: Table<EventRow>;
  /** Flows, their definition (triggers, actions) in `attributes.definition` (flows-model.ts). */
  readonly flows: Table<ResourceRow>;
  readonly campaignSendJobs: Table<CampaignSendJobRow>;
  /** `profileId metricId unique_id` of every event recorded, so a repeated `unique_id` records only the first. */
  readonly eventKeys: Set<string>;
  /** Bulk Import Profiles jobs, with what each did and its import errors. */
  readonly profileImportJobs: Table<ImportJobRow>;
  /**
   * Profile identifiers (`email\0ada@example.com`) → profile id, so finding a profile by email does not scan
   * every profile: with 100,000 profiles a bulk job would otherwise cost seconds. Kept by profile-model.ts.
   */
  readonly profileIndex: Map<string, string>;
  readonly tags: Table<TagRow>;
  /** Tag groups; the default one is made when first needed (`defaultTagGroup`). */
  readonly tagGroups: Table<ResourceRow>;
  readonly suppressionJobs: Table<SuppressionJobRow>;
  readonly webhooks: Table<WebhookRow>;
  /**
   * Called by `recordEvent` for every event recorded, after it is stored. Not part of the state's data: never
   * serialised, and kept by `clearState`.
   */
  readonly eventListeners: Set<EventListener>;
}

/** The state's tables of resources, by name (what a snapshot stores). */
export const TABLE_NAMES = [
  "profiles",
  "lists",
  "segments",
  "campaigns",
  "campaignMessages",
  "templates",
  "images",
  "metrics",
  "events",
  "tags",
  "tagGroups",
  "flows",
  "campaignSendJobs",
  "suppressionJobs",
  "profileImportJobs",
  "webhooks",
] as const;

export type TableName = (typeof TABLE_NAMES)[number];
type Rows = { [K in TableName]?: ReturnType<EmulatorState[K]["toJSON"]> };

/** A state holding the given accounts and, optionally, rows and memberships (from a snapshot). */
export function createState(
  accounts: readonly Account[],
  rows: Rows = {},
  memberships: Map<string, Map<string, string>> = new Map(),
  eventKeys: Iterable<string> = [],
): EmulatorState {
  return {
    accounts: new Map(accounts.map((a) => [a.id, a])),
    profiles: new Table(rows.profiles),
    lists: new Table(rows.lists),
    memberships,
    segments: new Table(rows.segments),
    campaigns: new Table(rows.campaigns),
    campaignMessages: new Table(rows.campaignMessages),
    templates: new Table(rows.templates),
    images: new Table(rows.images),
    metrics: new Table(rows.metrics),
    events: new Table(rows.events),
    flows: new Table(rows.flows),
    campaignSendJobs: new Table(rows.campaignSendJobs),
    eventKeys: new Set(eventKeys),
    profileImportJobs: new Table(rows.profileImportJobs),
    profileIndex: new Map(),
    tags: new Table(rows.tags),
    tagGroups: new Table(rows.tagGroups),
    suppressionJobs: new Table(rows.suppressionJobs),
    webhooks: new Table(rows.webhooks),
    eventListeners: new Set(),
  };
}

/** Empties every table in place (the routes hold the state object, so it is cleared, not replaced). */
export function clearState(state: EmulatorState): void {
  for (const name of TABLE_NAMES) state[name].clear();
  state.memberships.clear();
  state.eventKeys.clear();
  state.profileIndex.clear();
}
