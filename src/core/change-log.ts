import type { Insertable } from 'kysely';
import type { ChangesTable, Executor } from '../store/schema.ts';
import { prepared } from '../store/prepared.ts';
import type { ChangeFact } from '../domain/channel-matching.ts';
import { channelHears } from '../domain/channel-matching.ts';
import { enqueue } from '../store/outbox.ts';
import { serializeAccountChanges } from '../store/account-lock.ts';
import { ACTIVE } from '../store/channel-states.ts';
import { parseStoredInterest } from '../store/stored-interest.ts';

export interface Change extends ChangeFact {
  readonly accountId: string;
  readonly resourceId: string;
}

const appendChange = prepared((db, values: Insertable<ChangesTable>) =>
  db.insertInto('changes').values(values).returning('seq'),
);

/**
 * The account's live channels, with the head each one's lease is sending (which `enqueue`
 * takes as it stands on SQLite, and reads again under its row locks on PostgreSQL).
 */
const liveChannelsOf = prepared((db, accountId: string) =>
  db
    .selectFrom('channels')
    .select(['id', 'dialect', 'interest_json', 'sending_id'])
    .where('account_id', '=', accountId)
    .where('state', '=', ACTIVE),
);

/**
 * Appends a change and queues the notifications it causes, in the caller's transaction: a
 * change and its notifications commit together or not at all (transactional outbox).
 * Returns the change's sequence number, which every read view (Cronofy `last_modified`,
 * Google `syncToken`) is built on.
 */
export async function recordChange(trx: Executor, change: Change, now: number): Promise<number> {
  await serializeAccountChanges(trx, change.accountId);
  const [appended] = (
    await appendChange(trx, {
      account_id: change.accountId,
      resource: change.resource,
      calendar_id: change.calendarId,
      resource_id: change.resourceId,
      at: now,
    })
  ).rows;
  if (!appended) throw new Error('change log append returned nothing');
  const { rows: channels } = await liveChannelsOf(trx, change.accountId);
  const cronofy: string[] = [];
  const google: string[] = [];
  const cronofyHeads: number[] = [];
  const googleHeads: number[] = [];
  for (const channel of channels) {
    const interest = parseStoredInterest(channel.interest_json);
    if (!channelHears(interest, change)) continue;
    const cronofyChannel = interest.dialect === 'cronofy';
    (cronofyChannel ? cronofy : google).push(channel.id);
    if (channel.sending_id !== null) {
      (cronofyChannel ? cronofyHeads : googleHeads).push(Number(channel.sending_id));
    }
  }
  if (cronofy.length > 0) await enqueue(trx, cronofy, 'change', now, now, cronofyHeads);
  if (google.length > 0) await enqueue(trx, google, 'exists', now, null, googleHeads);
  return Number(appended.seq);
}
