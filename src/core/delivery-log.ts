import type { CoreResources } from './resources.ts';
import type { ChannelView } from './channels.ts';
import type { ChannelsTable } from '../store/schema.ts';
import type { AttemptCursor, AttemptRow } from '../store/delivery-log.ts';
import { channelDeliveryFacts, channelIdsByHost, readAttempts } from '../store/delivery-log.ts';
import { toChannelView } from './channels.ts';
import { notificationIdText } from '../domain/delivery.ts';
import { channelRetryWindow, defaultRetryPolicy } from '../domain/retry-policy.ts';
import { CoreError } from './errors.ts';

/**
 * Who reads the log: an account's own application (its channels only), or the operator
 * (every channel of every client and account).
 */
export type LogScope =
  | { readonly kind: 'account'; readonly accountId: string; readonly clientId: string }
  | { readonly kind: 'operator' };

export const OPERATOR: LogScope = { kind: 'operator' };

/** A channel as a face names it: by calpush's own id, or by the id its client chose. */
export type ChannelRef =
  { readonly id: string } | { readonly publicId: string; readonly clientId: string };

/** Most attempts per page, and the default. */
const MAX_PAGE = 500;
const DEFAULT_PAGE = 50;
/** Channels a host search looks at. */
const HOST_CHANNELS = 1000;

/** One attempt as every face shows it (each in its own words). */
export interface AttemptView {
  /** The notification's id as sent (`Calpush-Notification-Id`); a replay keeps its original's. */
  readonly notificationId: string;
  readonly channelId: string;
  readonly at: number;
  readonly kind: string | null;
  readonly dialect: string | null;
  /** delivered, retry, close or drop. */
  readonly outcome: string;
  readonly status: number | null;
  readonly error: string | null;
  readonly errorClass: string | null;
  readonly latencyMs: number;
  readonly responseExcerpt: string | null;
  readonly nextRetryAt: number | null;
  readonly replay: boolean;
  readonly test: boolean;
}

export interface AttemptPage {
  readonly attempts: readonly AttemptView[];
  /** Where the next page starts; null on the last. */
  readonly nextCursor: string | null;
}

export interface AttemptQuery {
  readonly outcome?: 'delivered' | 'failed' | undefined;
  readonly from?: number | undefined;
  readonly to?: number | undefined;
  readonly cursor?: string | undefined;
  readonly limit?: number | undefined;
}

/** A channel's delivery health. */
export interface ChannelHealth {
  readonly channel: ChannelView;
  /** active, failing (a streak of failures under way) or closed. */
  readonly state: 'active' | 'failing' | 'closed';
  readonly closedAt: number | null;
  readonly lastSuccessAt: number | null;
  readonly lastAttemptAt: number | null;
  readonly failingSince: number | null;
  readonly failureStreak: number;
  /** When a failing channel closes if nothing gets through before. */
  readonly closesAt: number | null;
  readonly queued: number;
}

/** `ntf_123` (as sent) or `123`; anything else is not found. */
export function parseNotificationId(text: string, field = 'notification_id'): number {
  const match = /^(?:ntf_)?(\d{1,15})$/.exec(text);
  if (!match) throw new CoreError('not_found', `no notification ${text}`, { field });
  return Number(match[1]);
}

function encodeCursor(c: AttemptCursor): string {
  return Buffer.from(`${c.at}.${c.id}`).toString('base64url');
}

function decodeCursor(text: string): AttemptCursor {
  const match = /^(\d{1,16})\.(\d{1,16})$/.exec(Buffer.from(text, 'base64url').toString('utf8'));
  if (!match)
    throw new CoreError('invalid', 'not a cursor this server handed out', { field: 'cursor' });
  return { at: Number(match[1]), id: Number(match[2]) };
}

function canRead(scope: LogScope, row: Pick<ChannelsTable, 'account_id' | 'client_id'>): boolean {
  return (
    scope.kind === 'operator' ||
    (row.account_id === scope.accountId && row.client_id === scope.clientId)
  );
}

/**
 * A channel of any state the scope may read. A client-chosen id may name several channels
 * over time (it is unique among live ones): the live one, else the newest. Another
 * account's channel is forbidden, one that never was is not found.
 */
export async function channelInScope(
  res: CoreResources,
  ref: ChannelRef,
  scope: LogScope,
): Promise<ChannelView> {
  let query = res.db.selectFrom('channels').selectAll();
  query =
    'id' in ref
      ? query.where('id', '=', ref.id)
      : query.where('client_id', '=', ref.clientId).where('public_id', '=', ref.publicId);
  const rows = await query.orderBy('created_at', 'desc').limit(20).execute();
  const row = rows.find((r) => r.state === 'active') ?? rows[0];
  const name = 'id' in ref ? ref.id : ref.publicId;
  if (!row) throw new CoreError('not_found', `no channel ${name}`, { field: 'channel_id' });
  if (!canRead(scope, row)) {
    throw new CoreError('forbidden', 'not your channel', { field: 'channel_id' });
  }
  return toChannelView(row, res.secrets);
}

/**
 * A channel's health as operators read it: closed, failing (a streak of failures under way)
 * or active, and when a failing one closes unless something gets through before.
 */
export function healthOf(
  res: CoreResources,
  channel: {
    readonly state: string;
    readonly dialect: string;
    readonly failingSince: number | null;
  },
): Pick<ChannelHealth, 'state' | 'closesAt'> {
  if (channel.state === 'closed') return { state: 'closed', closesAt: null };
  if (channel.state !== 'active' || channel.failingSince === null) {
    return { state: 'active', closesAt: null };
  }
  const window = channelRetryWindow(
    res.deliveryWindowMs ?? defaultRetryPolicy.windowMs,
    res.dialects.get(channel.dialect)?.retryWindowMs,
  );
  return { state: 'failing', closesAt: channel.failingSince + window };
}

export async function channelHealth(
  res: CoreResources,
  channel: ChannelView,
): Promise<ChannelHealth> {
  const facts = await channelDeliveryFacts(res.db, channel.id);
  return {
    channel,
    closedAt: channel.closedAt,
    ...facts,
    failingSince: channel.failingSince,
    ...healthOf(res, channel),
  };
}

function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new CoreError('invalid', `limit must be a whole number from 1 to ${MAX_PAGE}`, {
      field: 'limit',
    });
  }
  return limit;
}

function toView(row: AttemptRow, publicIds: ReadonlyMap<string, string>): AttemptView {
  return {
    notificationId: notificationIdText(Number(row.notification_id)),
    channelId: publicIds.get(row.channel_id) ?? row.channel_id,
    at: Number(row.at),
    kind: row.kind,
    dialect: row.dialect,
    outcome: row.decision,
    status: row.status === null ? null : Number(row.status),
    error: row.error,
    errorClass: row.error_class,
    latencyMs: Number(row.latency_ms),
    responseExcerpt: row.response_excerpt,
    nextRetryAt: row.next_retry_at === null ? null : Number(row.next_retry_at),
    replay: row.purpose === 'replay',
    test: row.purpose === 'test',
  };
}

async function page(
  res: CoreResources,
  channelIds: readonly string[] | undefined,
  notificationId: number | undefined,
  query: AttemptQuery,
): Promise<AttemptPage> {
  const limit = pageSize(query.limit);
  const rows = await readAttempts(res.db, {
    ...(channelIds ? { channelIds } : {}),
    ...(notificationId === undefined ? {} : { notificationId }),
    ...(query.outcome ? { outcome: query.outcome } : {}),
    ...(query.from === undefined ? {} : { from: query.from }),
    ...(query.to === undefined ? {} : { to: query.to }),
    ...(query.cursor ? { after: decodeCursor(query.cursor) } : {}),
    limit: limit + 1,
  });
  const shown = rows.slice(0, limit);
  const ids = [...new Set(shown.map((r) => r.channel_id))];
  const publicIds = new Map<string, string>();
  if (ids.length > 0) {
    const channels = await res.db
      .selectFrom('channels')
      .select(['id', 'public_id'])
      .where('id', 'in', ids)
      .execute();
    for (const c of channels) publicIds.set(c.id, c.public_id);
  }
  const last = shown.at(-1);
  return {
    attempts: shown.map((r) => toView(r, publicIds)),
    nextCursor:
      rows.length > limit && last
        ? encodeCursor({ at: Number(last.at), id: Number(last.id) })
        : null,
  };
}

/** A channel's attempts, newest first. */
export function channelAttempts(
  res: CoreResources,
  channel: ChannelView,
  query: AttemptQuery,
): Promise<AttemptPage> {
  return page(res, [channel.id], undefined, query);
}

/**
 * One notification's attempts (its replays' included), newest first. Attempts of a
 * channel the scope may not read are forbidden; none at all is not found.
 */
export async function notificationAttempts(
  res: CoreResources,
  notificationId: number,
  scope: LogScope,
  query: AttemptQuery = {},
): Promise<AttemptPage> {
  const channelId = await channelOfNotification(res, notificationId, scope);
  return page(res, [channelId], notificationId, query);
}

/** The channel a notification (or its attempts) belongs to, checked against the scope. */
export async function channelOfNotification(
  res: CoreResources,
  notificationId: number,
  scope: LogScope,
): Promise<string> {
  const row =
    (await res.db
      .selectFrom('notifications')
      .select('channel_id')
      .where('id', '=', notificationId)
      .executeTakeFirst()) ??
    (await res.db
      .selectFrom('attempts')
      .select('channel_id')
      .where('notification_id', '=', notificationId)
      .limit(1)
      .executeTakeFirst());
  const missing = () =>
    new CoreError('not_found', `no notification ${notificationIdText(notificationId)}`, {
      field: 'notification_id',
    });
  if (!row) throw missing();
  const channel = await res.db
    .selectFrom('channels')
    .select(['account_id', 'client_id'])
    .where('id', '=', row.channel_id)
    .executeTakeFirst();
  if (!channel) throw missing();
  if (!canRead(scope, channel)) {
    throw new CoreError('forbidden', 'not your notification', { field: 'notification_id' });
  }
  return row.channel_id;
}

/** The operator's search: by notification id, by callback host, or the whole log. */
export async function searchAttempts(
  res: CoreResources,
  search: AttemptQuery & { readonly notificationId?: number; readonly host?: string },
): Promise<AttemptPage> {
  const channelIds =
    search.host === undefined
      ? undefined
      : await channelIdsByHost(res.db, search.host, HOST_CHANNELS);
  return page(res, channelIds, search.notificationId, search);
}
