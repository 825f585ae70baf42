import type { CoreResources } from './resources.ts';
import type { AccountTable } from '../store/account-rows.ts';
import { deleteAccountRows } from '../store/account-rows.ts';
import { CoreError } from './errors.ts';
import { recordChange } from './change-log.ts';
import { writeNow } from './resources.ts';
import { closeChannels } from '../store/channel-closing.ts';
import { ACTIVE } from '../store/channel-states.ts';
import { liveStateOf } from '../store/live-notifications.ts';
import { serializeAccountChanges } from '../store/account-lock.ts';
import { holdChannels } from '../store/channel-locks.ts';
import { chunks } from '../store/list-lengths.ts';
import { leaseClockOf, leaseNowOn } from '../store/lease-time.ts';

export const ACCOUNT_DELETED = 'account_deleted';

export interface ErasureOptions {
  /** How long the account's last notifications may take to be delivered. */
  readonly waitMs: number;
  /**
   * Lets delivery go on for a while (the caller's dispatcher sends what is due), then
   * resolves; called until the account's notifications are delivered or the wait is over.
   */
  readonly progress: () => Promise<void>;
}

export interface Erasure {
  /** Notifications still queued when the wait ended (a receiver failing, say): not sent. */
  readonly undelivered: number;
  /** Rows erased, per table. */
  readonly rows: Readonly<Record<AccountTable, number>>;
}

/**
 * Erases an account for good. First its channels are told (Cronofy's `gdpr_requested`: the
 * application should forget the user too) while nothing else can change it: its tokens are
 * revoked and its sources stop polling. Once those notifications, and any queued before
 * them, are delivered or `waitMs` is over, its channels are closed (a request on the wire
 * here is aborted) and every row of the account goes in one transaction: events, change
 * log, channels, notifications, attempts, sources and their state, calendars, settings,
 * tokens and the account itself.
 */
export async function deleteAccount(
  res: CoreResources,
  accountId: string,
  options: ErasureOptions,
): Promise<Erasure> {
  const revokedTokens = await requestErasure(res, accountId);
  const deadline = res.clock.now() + options.waitMs;
  let undelivered = await unsettled(res, accountId);
  while (undelivered > 0 && res.clock.now() < deadline) {
    await options.progress();
    undelivered = await unsettled(res, accountId);
  }
  if (undelivered > 0) {
    // Given up on: closed first, so what is on the wire here is aborted and its outcome
    // recorded before the erase rather than after it.
    await closeAll(res, accountId);
    await options.progress();
  }
  const rows = await res.write(async (trx) => {
    await serializeAccountChanges(trx, accountId);
    // In the store's lock order (account, then channels by id), before the deletes lock
    // their rows in whatever order they meet them: a completion locks channels first too.
    const channels = await trx
      .selectFrom('channels')
      .select('id')
      .where('account_id', '=', accountId)
      .orderBy('id')
      .execute();
    for (const ids of chunks(channels.map((c) => c.id))) await holdChannels(trx, ids);
    return deleteAccountRows(trx, accountId);
  });
  res.principals?.forgetAccount(accountId);
  return { undelivered, rows: { ...rows, access_tokens: rows.access_tokens + revokedTokens } };
}

/** Revokes the account's tokens, stops its sources, queues its notifications; tokens revoked. */
async function requestErasure(res: CoreResources, accountId: string): Promise<number> {
  const revoked = await writeNow(res, async (trx, now) => {
    const account = await trx
      .selectFrom('accounts')
      .select('id')
      .where('id', '=', accountId)
      .executeTakeFirst();
    if (!account)
      throw new CoreError('not_found', `no account ${accountId}`, { field: 'account_id' });
    await recordChange(
      trx,
      res.dialects,
      {
        accountId,
        resource: 'account',
        calendarId: null,
        resourceId: accountId,
        managed: false,
        accountEvent: 'erasure_requested',
      },
      now,
    );
    const tokens = await trx
      .deleteFrom('access_tokens')
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    await trx
      .updateTable('sources')
      .set({ next_poll_at: null })
      .where('account_id', '=', accountId)
      .execute();
    return Number(tokens.numDeletedRows);
  });
  res.principals?.forgetAccount(accountId);
  res.notifyQueued();
  return revoked;
}

/**
 * What is still to be sent for the account: queued notifications of its live channels, and
 * channels leased by a dispatcher (a request on the wire, here or on another node).
 */
async function unsettled(res: CoreResources, accountId: string): Promise<number> {
  const now = res.clock.now();
  const { queued } = await res.db
    .selectFrom('notifications as n')
    .innerJoin('channels as c', 'c.id', 'n.channel_id')
    .select((eb) => eb.fn.countAll<number>().as('queued'))
    .where('c.account_id', '=', accountId)
    .where('c.state', '=', ACTIVE)
    .where(liveStateOf('n'))
    .executeTakeFirstOrThrow();
  const { leased } = await res.db
    .selectFrom('channels')
    .select((eb) => eb.fn.countAll<number>().as('leased'))
    .where('account_id', '=', accountId)
    .where('state', '=', ACTIVE)
    .where('lease_until', '>', leaseNowOn(leaseClockOf(res.db), now))
    .executeTakeFirstOrThrow();
  return Number(queued) + Number(leased);
}

async function closeAll(res: CoreResources, accountId: string): Promise<void> {
  const closed = await writeNow(res, async (trx, now) => {
    await serializeAccountChanges(trx, accountId);
    const ids = (
      await trx
        .selectFrom('channels')
        .select('id')
        .where('account_id', '=', accountId)
        .where('state', '=', ACTIVE)
        .execute()
    ).map((c) => c.id);
    await closeChannels(trx, ids, ACCOUNT_DELETED, now);
    return ids;
  });
  if (closed.length > 0) res.notifyClosed(closed);
}
