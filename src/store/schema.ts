import type { Generated, Kysely, Transaction } from 'kysely';

/** Times are integer milliseconds since the epoch in every table, on every engine. */
export interface ClientsTable {
  id: string;
  name: string;
  created_at: number;
}

export interface ClientSecretsTable {
  id: Generated<number>;
  client_id: string;
  /** The secret notifications are signed with, sealed under the server's secret key. */
  sealed_secret: string;
  created_at: number;
}

export interface AccountsTable {
  id: string;
  client_id: string;
  email: string;
  name: string;
  time_zone: string;
  created_at: number;
}

export interface AccessTokensTable {
  token_hash: string;
  account_id: string;
  created_at: number;
}

export interface ProfilesTable {
  id: string;
  account_id: string;
  provider_name: string;
  name: string;
  connected: number;
  created_at: number;
}

export interface SourcesTable {
  id: string;
  account_id: string;
  profile_id: string;
  provider: string;
  name: string;
  url: string;
  host: string;
  username: string | null;
  /** The password, sealed under the server's secret key; never sent back. */
  sealed_password: string | null;
  /** initial_sync | connected | failing | disconnected */
  state: string;
  poll_interval_ms: number;
  /** When the next poll is due; null while nothing is to be polled (disconnected). */
  next_poll_at: number | null;
  /** Until when a node owns the poll under way. */
  lease_until: number | null;
  /** Polls failed in a row, for the backoff. */
  failures: number;
  cursor_json: string | null;
  last_polled_at: number | null;
  last_changed_at: number | null;
  last_error: string | null;
  synced_at: number | null;
  /** When a push last said the source changed upstream; null if none ever did. */
  pushed_at: number | null;
  created_at: number;
}

export interface SourceCalendarsTable {
  calendar_id: string;
  source_id: string;
  remote_id: string;
  cursor_json: string | null;
}

export interface SourceItemsTable {
  calendar_id: string;
  item_key: string;
  version: string;
  ical_uid: string | null;
  event_uids_json: string;
}

export interface CalendarsTable {
  id: string;
  account_id: string;
  profile_id: string;
  name: string;
  description: string | null;
  location: string | null;
  time_zone: string;
  color: string | null;
  is_primary: number;
  readonly: number;
  deleted: number;
  created_at: number;
  updated_at: number;
  change_seq: number;
}

export interface EventsTable {
  id: Generated<number>;
  calendar_id: string;
  account_id: string;
  /** Cronofy's event_uid and Google's event id: one opaque id for both faces. */
  uid: string;
  /** The application's own id for a managed event (Cronofy event_id). */
  external_id: string | null;
  ical_uid: string;
  managed: number;
  status: string;
  summary: string | null;
  description: string | null;
  location: string | null;
  /** Normalised start/end as JSON ({date} or {dateTime, timeZone}). */
  start_json: string;
  end_json: string;
  /** UTC instants for range queries; all-day events use midnight UTC of their dates. */
  start_at: number;
  end_at: number;
  recurrence_json: string | null;
  extra_json: string | null;
  /** Where the last occurrence ends: `end_at` for a single event, FOREVER for an endless series. */
  until_at: number;
  /** An exception: the series it belongs to, and the occurrence's start it replaces. */
  recurring_event_id: string | null;
  original_start_json: string | null;
  original_start_at: number | null;
  sequence: number;
  deleted: number;
  created_at: number;
  updated_at: number;
  change_seq: number;
}

/** A series' shape before a write replaced it (migration 012). */
export interface SeriesHistoryTable {
  id: Generated<number>;
  account_id: string;
  calendar_id: string;
  uid: string;
  /** The change sequence number of the write that replaced this shape. */
  replaced_seq: number;
  start_json: string;
  end_json: string;
  /** Null when the event did not recur then (a single event that became a series). */
  recurrence_json: string | null;
  at: number;
}

export interface ChangesTable {
  seq: Generated<number>;
  account_id: string;
  resource: string;
  calendar_id: string | null;
  resource_id: string;
  at: number;
}

export interface ChannelsTable {
  id: string;
  client_id: string;
  account_id: string;
  dialect: string;
  /** The id the client knows the channel by: its own choice in some dialects, else `id`. */
  public_id: string;
  callback_url: string;
  /** scheme://host:port of the callback, the unit of delivery concurrency. */
  origin: string;
  /** The dialect's own settings: what the channel hears and what its messages carry. */
  interest_json: string;
  /** Canonical form of a create request, to return the live channel an identical one made. */
  request_key: string | null;
  /** A value the client chose to have echoed back with every notification, sealed. */
  sealed_token: string | null;
  /** Hash of the access token that made (or last reauthorized) the channel; null if unknown. */
  creator_token_hash: string | null;
  expires_at: number | null;
  state: string;
  closed_reason: string | null;
  closed_at: number | null;
  failing_since: number | null;
  /** Due time of the channel's oldest pending notification; null when nothing is queued. */
  queue_due_at: number | null;
  /** Until when a dispatcher owns the channel's head notification. */
  lease_until: number | null;
  /** Not notified again before this time after a delivery (the minimum interval). */
  quiet_until: number | null;
  /** The notification the lease is sending (the channel's head when it was claimed). */
  sending_id: number | null;
  created_at: number;
}

export interface NotificationsTable {
  id: Generated<number>;
  channel_id: string;
  kind: string;
  /**
   * pending → delivered | cancelled. A head on the wire stays pending (its channel's
   * `sending_id` names it) unless a change of its kind arrives meanwhile: then it is moved to
   * `sending`, out of the coalescing index, and the change queues behind it.
   */
  state: string;
  changes_since: number | null;
  /** The latest change it covers, for dialects that name the version (migration 013). */
  latest_seq: number | null;
  created_at: number;
  due_at: number;
  attempts: number;
  delivered_at: number | null;
  /** A replay's original notification: its id is the one sent. */
  replay_of: number | null;
  /** Why it was queued besides a change: `replay`, `test`; null for a change. */
  purpose: string | null;
}

export interface AttemptsTable {
  id: Generated<number>;
  notification_id: number;
  channel_id: string;
  at: number;
  status: number | null;
  error: string | null;
  latency_ms: number;
  decision: string;
  /** The notification's kind and its channel's dialect; null on attempts logged before. */
  kind: string | null;
  dialect: string | null;
  /** A class of what went wrong (`domain/attempt-log.ts`); null when delivered. */
  error_class: string | null;
  /** The start of a failed answer's body, at most RESPONSE_EXCERPT_BYTES. */
  response_excerpt: string | null;
  /** When the notification is tried again after this attempt, if it is. */
  next_retry_at: number | null;
  /** `replay` or `test` when the notification was queued as one. */
  purpose: string | null;
}

export interface AdminTokensTable {
  token_hash: string;
  name: string;
  created_at: number;
}

export interface AclRulesTable {
  id: string;
  calendar_id: string;
  role: string;
  scope_type: string;
  scope_value: string | null;
  deleted: number;
  updated_at: number;
  change_seq: number;
}

export interface SettingsTable {
  account_id: string;
  id: string;
  value: string;
  change_seq: number;
}

/** How often an access token was deleted or rewritten: one row, kept by triggers (016). */
export interface TokenRevocationsTable {
  id: number;
  count: number;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface Database {
  meta: MetaTable;
  token_revocations: TokenRevocationsTable;
  clients: ClientsTable;
  client_secrets: ClientSecretsTable;
  accounts: AccountsTable;
  access_tokens: AccessTokensTable;
  profiles: ProfilesTable;
  calendars: CalendarsTable;
  events: EventsTable;
  series_history: SeriesHistoryTable;
  changes: ChangesTable;
  channels: ChannelsTable;
  notifications: NotificationsTable;
  attempts: AttemptsTable;
  admin_tokens: AdminTokensTable;
  acl_rules: AclRulesTable;
  settings: SettingsTable;
  sources: SourcesTable;
  source_calendars: SourceCalendarsTable;
  source_items: SourceItemsTable;
}

export type Db = Kysely<Database>;
/** Store functions take either the database or an open transaction. */
export type Executor = Kysely<Database> | Transaction<Database>;
