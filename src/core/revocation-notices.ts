import type { Dialects } from '../domain/dialect.ts';
import type { NotificationKind } from '../domain/notification.ts';
import type { Executor } from '../store/schema.ts';
import { ACTIVE } from '../store/channel-states.ts';
import { enqueue } from '../store/outbox.ts';
import { parseStoredInterest } from '../store/stored-interest.ts';

/**
 * Queues each dialect's revocation notice for the account's live channels that the revoked
 * token made (or last reauthorized), in the caller's transaction; channels of a dialect
 * that declares none are left as they are. Returns how many were queued.
 */
export async function queueRevocationNotices(
  trx: Executor,
  dialects: Dialects,
  revoked: { readonly accountId: string; readonly tokenHash: string },
  now: number,
): Promise<number> {
  const rows = await trx
    .selectFrom('channels')
    .select(['id', 'dialect', 'interest_json', 'expires_at'])
    .where('account_id', '=', revoked.accountId)
    .where('state', '=', ACTIVE)
    .where('creator_token_hash', '=', revoked.tokenHash)
    .execute();
  const byKind = new Map<NotificationKind, string[]>();
  for (const row of rows) {
    // A lifetime that has ended is the expiry sweep's to close, not a channel to warn.
    if (row.expires_at !== null && Number(row.expires_at) <= now) continue;
    const notice = dialects.get(row.dialect)?.revocationNotice;
    if (!notice?.applies(parseStoredInterest(row.interest_json))) continue;
    const ids = byKind.get(notice.kind) ?? [];
    ids.push(row.id);
    byKind.set(notice.kind, ids);
  }
  let queued = 0;
  for (const [kind, ids] of byKind) {
    await enqueue(trx, ids, kind, now);
    queued += ids.length;
  }
  return queued;
}
