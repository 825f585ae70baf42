import type { CoreResources } from './resources.ts';
import type { Executor } from '../store/schema.ts';
import type { ChannelsTable } from '../store/schema.ts';
import type { SecretOpener } from '../domain/secrets.ts';
import { CoreError } from './errors.ts';
import { newId } from './ids.ts';
import {
  checkCallbackHost,
  checkCallbackUrl,
  originOf,
  systemResolveHost,
} from './callback-url.ts';
import { enqueue } from '../store/outbox.ts';
import { inTransaction } from '../store/transaction.ts';
import { ACTIVE, ACTIVE_AND_IDLE } from '../store/channel-states.ts';
import { parseStoredInterest } from '../store/stored-interest.ts';
import { closeChannels, closeExpired } from '../store/channel-closing.ts';

export interface ChannelView {
  readonly id: string;
  /** The id the client knows the channel by: its own choice in some dialects, else `id`. */
  readonly publicId: string;
  readonly dialect: string;
  readonly clientId: string;
  readonly accountId: string;
  readonly callbackUrl: string;
  /** The dialect's own settings, as it stored them (parsed, frozen): its face reads them. */
  readonly interest: unknown;
  readonly token: string | null;
  readonly expiresAt: number | null;
  readonly state: 'active' | 'closed';
  readonly closedReason: string | null;
  readonly closedAt: number | null;
  readonly failingSince: number | null;
  readonly createdAt: number;
}

export function toChannelView(row: ChannelsTable, secrets: SecretOpener): ChannelView {
  return {
    id: row.id,
    publicId: row.public_id,
    dialect: row.dialect,
    clientId: row.client_id,
    accountId: row.account_id,
    callbackUrl: row.callback_url,
    interest: parseStoredInterest(row.interest_json),
    token: row.sealed_token === null ? null : secrets.open(row.sealed_token),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    state: row.state as ChannelView['state'],
    closedReason: row.closed_reason,
    closedAt: row.closed_at === null ? null : Number(row.closed_at),
    failingSince: row.failing_since === null ? null : Number(row.failing_since),
    createdAt: Number(row.created_at),
  };
}

export interface NewChannel {
  readonly id: string;
  readonly clientId: string;
  readonly accountId: string;
  readonly dialect: string;
  readonly publicId: string;
  /** As the client wrote it (echoed back verbatim); already checked. */
  readonly callbackUrl: string;
  readonly interest: unknown;
  readonly requestKey?: string | null;
  /** The client's token, already sealed: the store never holds it in clear. */
  readonly sealedToken?: string | null;
  /** The hash of the access token the channel is made with (`Principal.tokenHash`). */
  readonly creatorTokenHash?: string | null;
  readonly expiresAt?: number | null;
  readonly now: number;
}

/** The row of a channel just made: active, healthy, nothing queued yet. */
export function activeChannelRow(c: NewChannel): ChannelsTable {
  return {
    id: c.id,
    client_id: c.clientId,
    account_id: c.accountId,
    dialect: c.dialect,
    public_id: c.publicId,
    callback_url: c.callbackUrl,
    origin: originOf(new URL(c.callbackUrl)),
    interest_json: JSON.stringify(c.interest),
    request_key: c.requestKey ?? null,
    sealed_token: c.sealedToken ?? null,
    creator_token_hash: c.creatorTokenHash ?? null,
    expires_at: c.expiresAt ?? null,
    ...ACTIVE_AND_IDLE,
    created_at: c.now,
  };
}

/** What a face asks for when a client opens a channel; the face has parsed the request. */
export interface ChannelRequest {
  /** A registered dialect's name: its first message is queued for the new channel. */
  readonly dialect: string;
  readonly accountId: string;
  readonly clientId: string;
  readonly callbackUrl: string;
  /** How the callback URL is checked, and the request field it is reported on. */
  readonly callback: { readonly requireHttps: boolean; readonly field: string };
  /** Prefix of the channel's own id. */
  readonly idPrefix: string;
  /** The dialect's settings for the channel, stored as JSON. */
  readonly interest: unknown;
  /**
   * The client's own id for the channel, unique among its live channels (a clash is a
   * `conflict` on `publicIdField`); without it the channel's own id serves.
   */
  readonly publicId?: { readonly value: string; readonly field: string };
  readonly token?: string | null;
  /**
   * The hash of the access token the request came with: revoking that token asks the
   * channel's dialect whether to tell it (`Dialect.revocationNotice`).
   */
  readonly creatorTokenHash?: string;
  readonly expiresAt?: number | null;
  /** An identical earlier request's live channel is returned instead of a new one. */
  readonly requestKey?: string;
  /** Calendars the channel is limited to: each must be one of the account's. */
  readonly calendars?: { readonly ids: readonly string[]; readonly field: string };
  /** Live channels of this dialect an account may hold (reported on the callback field). */
  readonly maxPerAccount?: number;
  /** When the face read the clock for this request (an expiry it computed from it). */
  readonly now?: number;
}

/** Live channels an account may hold on one face unless configured: Cronofy's own limit. */
export const DEFAULT_CHANNELS_PER_ACCOUNT = 128;

/**
 * Opens a channel and queues its dialect's first message in the same transaction, or returns
 * the live channel an identical request made before.
 */
export async function openChannel(
  res: CoreResources,
  request: ChannelRequest,
): Promise<ChannelView> {
  const rules = { dev: res.dev, ...request.callback };
  const url = checkCallbackUrl(request.callbackUrl, rules);
  await checkCallbackHost(url, rules, res.resolveHost ?? systemResolveHost);
  const dialect = res.dialects.get(request.dialect);
  if (!dialect) throw new Error(`no dialect ${request.dialect} is registered`);
  const { firstMessage } = dialect;
  const now = request.now ?? res.clock.now();
  const opened = await res.write(async (trx) => {
    if (request.requestKey !== undefined) {
      const existing = await liveChannelFor(trx, request, request.requestKey);
      if (existing) return { channel: toChannelView(existing, res.secrets), created: false };
    }
    if (request.calendars) await requireOwnCalendars(trx, request.accountId, request.calendars);
    if (request.maxPerAccount !== undefined) await requireRoom(trx, request);
    if (request.publicId) {
      // A lifetime that has ended frees its channel's id even before the sweep comes by.
      await closeExpired(trx, now);
      await requireUnusedPublicId(trx, request.clientId, request.publicId);
    }
    const id = newId(request.idPrefix);
    const row = activeChannelRow({
      id,
      clientId: request.clientId,
      accountId: request.accountId,
      dialect: request.dialect,
      publicId: request.publicId?.value ?? id,
      callbackUrl: request.callbackUrl,
      interest: request.interest,
      requestKey: request.requestKey ?? null,
      sealedToken:
        request.token === undefined || request.token === null
          ? null
          : res.secrets.seal(request.token),
      creatorTokenHash: request.creatorTokenHash ?? null,
      expiresAt: request.expiresAt ?? null,
      now,
    });
    await trx.insertInto('channels').values(row).execute();
    // A channel created in this transaction has nothing on the wire.
    if (firstMessage !== null) await enqueue(trx, [id], firstMessage, now, null, []);
    return { channel: toChannelView(row, res.secrets), created: true };
  });
  if (opened.created && firstMessage !== null) res.notifyQueued();
  return opened.channel;
}

function liveChannelFor(trx: Executor, request: ChannelRequest, requestKey: string) {
  return trx
    .selectFrom('channels')
    .selectAll()
    .where('account_id', '=', request.accountId)
    .where('client_id', '=', request.clientId)
    .where('state', '=', ACTIVE)
    .where('request_key', '=', requestKey)
    .executeTakeFirst();
}

async function requireOwnCalendars(
  trx: Executor,
  accountId: string,
  calendars: NonNullable<ChannelRequest['calendars']>,
): Promise<void> {
  const found = await trx
    .selectFrom('calendars')
    .select('id')
    .where('account_id', '=', accountId)
    .where('deleted', '=', 0)
    .where('id', 'in', calendars.ids)
    .execute();
  const known = new Set(found.map((c) => c.id));
  const missing = calendars.ids.filter((id) => !known.has(id));
  if (missing.length > 0) {
    throw new CoreError('invalid', `unknown calendar ${missing.join(', ')}`, {
      field: calendars.field,
    });
  }
}

/**
 * Refuses (`limit_reached`, on `callback.field`) a channel more than the account may hold live
 * on its dialect; in the caller's transaction, before the channel is opened or reopened.
 */
export async function requireRoom(
  trx: Executor,
  request: Pick<ChannelRequest, 'accountId' | 'dialect' | 'maxPerAccount'> & {
    readonly callback: Pick<ChannelRequest['callback'], 'field'>;
  },
): Promise<void> {
  const { count } = await trx
    .selectFrom('channels')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('account_id', '=', request.accountId)
    .where('dialect', '=', request.dialect)
    .where('state', '=', ACTIVE)
    .executeTakeFirstOrThrow();
  const max = request.maxPerAccount ?? Infinity;
  if (Number(count) >= max) {
    throw new CoreError('limit_reached', `an account may have at most ${max} channels`, {
      field: request.callback.field,
    });
  }
}

async function requireUnusedPublicId(
  trx: Executor,
  clientId: string,
  publicId: NonNullable<ChannelRequest['publicId']>,
): Promise<void> {
  const clash = await trx
    .selectFrom('channels')
    .select('id')
    .where('client_id', '=', clientId)
    .where('public_id', '=', publicId.value)
    .where('state', '=', ACTIVE)
    .executeTakeFirst();
  if (clash) {
    throw new CoreError('conflict', `channel id ${publicId.value} is not unique`, {
      field: publicId.field,
      detail: 'id_not_unique',
    });
  }
}

export async function listChannels(
  res: CoreResources,
  filter: { accountId: string; clientId: string; dialect: string },
): Promise<ChannelView[]> {
  const rows = await res.db
    .selectFrom('channels')
    .selectAll()
    .where('account_id', '=', filter.accountId)
    .where('client_id', '=', filter.clientId)
    .where('dialect', '=', filter.dialect)
    .where('state', '=', ACTIVE)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', res.clock.now())]))
    .orderBy('created_at')
    .execute();
  return rows.map((row) => toChannelView(row, res.secrets));
}

export async function findChannel(
  res: CoreResources,
  where: { id?: string; clientId?: string; publicId?: string },
): Promise<ChannelView | undefined> {
  let query = res.db.selectFrom('channels').selectAll().where('state', '=', ACTIVE);
  if (where.id !== undefined) query = query.where('id', '=', where.id);
  if (where.clientId !== undefined) query = query.where('client_id', '=', where.clientId);
  if (where.publicId !== undefined) query = query.where('public_id', '=', where.publicId);
  const row = await query.executeTakeFirst();
  return row ? toChannelView(row, res.secrets) : undefined;
}

/**
 * What a dialect may change on a live channel: its lifetime, where it is delivered, the
 * access token it is bound to (Graph's reauthorize).
 */
export interface ChannelChange {
  readonly expiresAt?: number;
  /** The hash of the access token that now answers for the channel. */
  readonly creatorTokenHash?: string;
  /** A new callback URL, checked as `openChannel` checks one. */
  readonly callback?: {
    readonly url: string;
    readonly requireHttps: boolean;
    readonly field: string;
  };
}

/**
 * Renews a live channel or points it elsewhere (Graph's PATCH of a subscription). What is
 * queued stays queued and goes to the new URL; a request already on the wire finishes.
 * Returns undefined when no live channel has this id.
 */
export async function changeChannel(
  res: CoreResources,
  channelId: string,
  change: ChannelChange,
): Promise<ChannelView | undefined> {
  const set: {
    expires_at?: number;
    callback_url?: string;
    origin?: string;
    creator_token_hash?: string;
  } = {};
  if (change.callback) {
    const rules = { dev: res.dev, ...change.callback };
    const url = checkCallbackUrl(change.callback.url, rules);
    await checkCallbackHost(url, rules, res.resolveHost ?? systemResolveHost);
    set.callback_url = change.callback.url;
    set.origin = originOf(url);
  }
  if (change.expiresAt !== undefined) set.expires_at = change.expiresAt;
  if (change.creatorTokenHash !== undefined) set.creator_token_hash = change.creatorTokenHash;
  return res.write(async (trx) => {
    if (Object.keys(set).length > 0) {
      await trx
        .updateTable('channels')
        .set(set)
        .where('id', '=', channelId)
        .where('state', '=', ACTIVE)
        .execute();
    }
    const row = await trx
      .selectFrom('channels')
      .selectAll()
      .where('id', '=', channelId)
      .where('state', '=', ACTIVE)
      .executeTakeFirst();
    return row ? toChannelView(row, res.secrets) : undefined;
  });
}

/**
 * Closes a channel at once: everything queued for it is cancelled in the same transaction,
 * and the dispatcher is told to abort a request already on the wire.
 */
export async function closeChannel(
  res: CoreResources,
  channelId: string,
  reason: string,
): Promise<void> {
  await inTransaction(res.db, (trx) => closeChannels(trx, [channelId], reason, res.clock.now()));
  res.notifyClosed([channelId]);
}
