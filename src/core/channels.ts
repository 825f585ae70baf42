import type { CoreResources } from './resources.ts';
import type { Executor } from '../store/schema.ts';
import type { ChannelsTable } from '../store/schema.ts';
import type { ChannelInterest, WatchedResource } from '../domain/channel-matching.ts';
import { CoreError } from './errors.ts';
import { newId } from './ids.ts';
import { checkCallbackUrl, originOf } from './callback-url.ts';
import { cancelQueued, enqueue } from '../store/outbox.ts';
import { lockChannels } from '../store/channel-locks.ts';
import { inTransaction } from '../store/transaction.ts';
import { boundLimit } from '../store/bound-limit.ts';
import { ACTIVE } from '../store/channel-states.ts';
import { parseStoredInterest } from '../store/stored-interest.ts';

export const CRONOFY_CHANNELS_PER_ACCOUNT = 128;
export const GOOGLE_MAX_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

export interface ChannelView {
  readonly id: string;
  readonly publicId: string;
  readonly dialect: 'cronofy' | 'google';
  readonly clientId: string;
  readonly accountId: string;
  readonly callbackUrl: string;
  readonly interest: ChannelInterest;
  readonly resourceId: string | null;
  readonly resourceUri: string | null;
  readonly token: string | null;
  readonly expiresAt: number | null;
  readonly state: 'active' | 'closed';
  readonly closedReason: string | null;
  readonly failingSince: number | null;
  readonly createdAt: number;
}

export function toChannelView(row: ChannelsTable): ChannelView {
  return {
    id: row.id,
    publicId: row.public_id,
    dialect: row.dialect as ChannelView['dialect'],
    clientId: row.client_id,
    accountId: row.account_id,
    callbackUrl: row.callback_url,
    interest: parseStoredInterest(row.interest_json),
    resourceId: row.resource_id,
    resourceUri: row.resource_uri,
    token: row.token,
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    state: row.state as ChannelView['state'],
    closedReason: row.closed_reason,
    failingSince: row.failing_since === null ? null : Number(row.failing_since),
    createdAt: Number(row.created_at),
  };
}

export interface NewChannel {
  readonly id: string;
  readonly clientId: string;
  readonly accountId: string;
  readonly dialect: 'cronofy' | 'google';
  readonly publicId: string;
  /** As the client wrote it (echoed back verbatim); already checked. */
  readonly callbackUrl: string;
  readonly interest: ChannelInterest;
  readonly requestKey?: string | null;
  readonly resourceId?: string | null;
  readonly resourceUri?: string | null;
  readonly token?: string | null;
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
    resource_id: c.resourceId ?? null,
    resource_uri: c.resourceUri ?? null,
    token: c.token ?? null,
    expires_at: c.expiresAt ?? null,
    state: 'active',
    closed_reason: null,
    closed_at: null,
    failing_since: null,
    queue_due_at: null,
    lease_until: null,
    quiet_until: null,
    sending_id: null,
    created_at: c.now,
  };
}

export interface CronofyChannelInput {
  readonly accountId: string;
  readonly clientId: string;
  readonly callbackUrl: string;
  readonly calendarIds: readonly string[] | null;
  readonly onlyManaged: boolean;
}

/** Creates a Cronofy channel, or returns the live one an identical request made before. */
export async function createCronofyChannel(
  res: CoreResources,
  input: CronofyChannelInput,
): Promise<ChannelView> {
  checkCallbackUrl(input.callbackUrl, {
    dev: res.dev,
    requireHttps: false,
    field: 'callback_url',
  });
  const calendarIds = input.calendarIds ? [...new Set(input.calendarIds)].sort() : null;
  const interest: ChannelInterest = {
    dialect: 'cronofy',
    calendarIds,
    onlyManaged: input.onlyManaged,
  };
  const requestKey = JSON.stringify([input.callbackUrl, calendarIds, input.onlyManaged]);
  const now = res.clock.now();
  const view = await res.write(async (trx) => {
    const existing = await trx
      .selectFrom('channels')
      .selectAll()
      .where('account_id', '=', input.accountId)
      .where('client_id', '=', input.clientId)
      .where('state', '=', ACTIVE)
      .where('request_key', '=', requestKey)
      .executeTakeFirst();
    if (existing) return { channel: toChannelView(existing), created: false };
    if (calendarIds) await requireOwnCalendars(trx, input.accountId, calendarIds);
    const { count } = await trx
      .selectFrom('channels')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('account_id', '=', input.accountId)
      .where('dialect', '=', 'cronofy')
      .where('state', '=', ACTIVE)
      .executeTakeFirstOrThrow();
    if (Number(count) >= CRONOFY_CHANNELS_PER_ACCOUNT) {
      throw new CoreError(
        'limit_reached',
        `an account may have at most ${CRONOFY_CHANNELS_PER_ACCOUNT} channels`,
        { field: 'callback_url' },
      );
    }
    const id = newId('chn');
    const row = activeChannelRow({
      id,
      clientId: input.clientId,
      accountId: input.accountId,
      dialect: 'cronofy',
      publicId: id,
      callbackUrl: input.callbackUrl,
      interest,
      requestKey,
      now,
    });
    await trx.insertInto('channels').values(row).execute();
    // A channel created in this transaction has nothing on the wire.
    await enqueue(trx, [id], 'verification', now, null, []);
    return { channel: toChannelView(row), created: true };
  });
  if (view.created) res.notifyQueued();
  return view.channel;
}

async function requireOwnCalendars(
  trx: Executor,
  accountId: string,
  calendarIds: readonly string[],
): Promise<void> {
  const found = await trx
    .selectFrom('calendars')
    .select('id')
    .where('account_id', '=', accountId)
    .where('deleted', '=', 0)
    .where('id', 'in', calendarIds)
    .execute();
  const known = new Set(found.map((c) => c.id));
  const missing = calendarIds.filter((id) => !known.has(id));
  if (missing.length > 0) {
    throw new CoreError('invalid', `unknown calendar ${missing.join(', ')}`, {
      field: 'filters.calendar_ids',
    });
  }
}

export interface GoogleChannelInput {
  readonly accountId: string;
  readonly clientId: string;
  readonly publicId: string;
  readonly address: string;
  readonly token: string | null;
  /** Requested lifetime end in ms, from `expiration` or `params.ttl`. */
  readonly requestedExpiry: number | null;
  readonly resource: WatchedResource;
  readonly resourceId: string;
  readonly resourceUri: string;
}

export async function createGoogleChannel(
  res: CoreResources,
  input: GoogleChannelInput,
): Promise<ChannelView> {
  checkCallbackUrl(input.address, {
    dev: res.dev,
    requireHttps: true,
    field: 'address',
    reason: 'push.webhookUrlUnauthorized',
  });
  const now = res.clock.now();
  const cap = now + GOOGLE_MAX_LIFETIME_MS;
  const expiresAt =
    input.requestedExpiry === null ? cap : Math.min(Math.max(input.requestedExpiry, now), cap);
  const interest: ChannelInterest = { dialect: 'google', resource: input.resource };
  const row = activeChannelRow({
    id: newId('gch'),
    clientId: input.clientId,
    accountId: input.accountId,
    dialect: 'google',
    publicId: input.publicId,
    callbackUrl: input.address,
    interest,
    resourceId: input.resourceId,
    resourceUri: input.resourceUri,
    token: input.token,
    expiresAt,
    now,
  });
  await res.write(async (trx) => {
    await closeExpired(trx, now);
    const clash = await trx
      .selectFrom('channels')
      .select('id')
      .where('client_id', '=', input.clientId)
      .where('public_id', '=', input.publicId)
      .where('state', '=', ACTIVE)
      .executeTakeFirst();
    if (clash) {
      throw new CoreError('conflict', `channel id ${input.publicId} is not unique`, {
        field: 'id',
        reason: 'channelIdNotUnique',
      });
    }
    await trx.insertInto('channels').values(row).execute();
    await enqueue(trx, [row.id], 'sync', now, null, []);
  });
  res.notifyQueued();
  return toChannelView(row);
}

export async function listChannels(
  res: CoreResources,
  filter: { accountId: string; clientId: string; dialect: 'cronofy' | 'google' },
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
  return rows.map(toChannelView);
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
  return row ? toChannelView(row) : undefined;
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

export async function closeChannels(
  trx: Executor,
  channelIds: readonly string[],
  reason: string,
  now: number,
): Promise<void> {
  if (channelIds.length === 0) return;
  await lockChannels(trx, [...channelIds].sort());
  await trx
    .updateTable('channels')
    .set({
      state: 'closed',
      closed_reason: reason,
      closed_at: now,
      queue_due_at: null,
      lease_until: null,
      sending_id: null,
    })
    .where('id', 'in', channelIds)
    .where('state', '=', ACTIVE)
    .execute();
  await cancelQueued(trx, channelIds);
}

/** Google channels stop by themselves when their lifetime ends. */
export async function closeExpired(trx: Executor, now: number): Promise<string[]> {
  const expired = await trx
    .selectFrom('channels')
    .select('id')
    .where('state', '=', ACTIVE)
    .where('expires_at', '<=', now)
    .limit(boundLimit(1000))
    .execute();
  await closeChannels(
    trx,
    expired.map((c) => c.id),
    'expired',
    now,
  );
  return expired.map((c) => c.id);
}
