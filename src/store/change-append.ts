import type { Insertable } from 'kysely';
import type { ChangesTable, Executor } from './schema.ts';
import { traitsOf } from './engine-traits.ts';
import { prepared } from './prepared.ts';
import { ACTIVE } from './channel-states.ts';

/** A live channel of the account a change was appended to. */
export interface LiveChannel {
  readonly id: string;
  readonly dialect: string;
  readonly interest_json: string;
  /** The head its lease is sending, as read. */
  readonly sending_id: number | null;
}

export interface AppendedChange {
  readonly seq: number;
  /** The account's live channels. */
  readonly channels: readonly LiveChannel[];
}

const appendOnly = prepared((db, values: Insertable<ChangesTable>) =>
  db.insertInto('changes').values(values).returning('seq'),
);

const liveChannelsOf = prepared((db, accountId: string) =>
  db
    .selectFrom('channels')
    .select(['id', 'dialect', 'interest_json', 'sending_id'])
    .where('account_id', '=', accountId)
    .where('state', '=', ACTIVE),
);

/**
 * The append and the read of the live channels as one statement: on PostgreSQL each
 * statement is a round trip made while the account's lock is held. The channels are not
 * locked here: only those the change notifies are (the enqueue's lock), which only the
 * dialects can tell, and a write must not wait on, or hold up, the account's other channels.
 */
const appendAndRead = prepared((db, values: Insertable<ChangesTable>, accountId: string) =>
  db
    .with('appended', (w) => w.insertInto('changes').values(values).returning('seq'))
    .selectFrom('appended')
    .leftJoin('channels as c', (join) =>
      join.on('c.account_id', '=', accountId).on('c.state', '=', ACTIVE),
    )
    .select(['appended.seq', 'c.id', 'c.dialect', 'c.interest_json', 'c.sending_id']),
);

/**
 * Appends a change to the log, in the caller's transaction, and reads the account's live
 * channels, unlocked (the enqueue locks those it queues to).
 */
export async function appendChange(
  trx: Executor,
  values: Insertable<ChangesTable>,
): Promise<AppendedChange> {
  if (!traitsOf(trx).writesInWith) {
    const [appended] = (await appendOnly(trx, values)).rows;
    if (!appended) throw new Error('change log append returned nothing');
    const { rows } = await liveChannelsOf(trx, values.account_id);
    return { seq: Number(appended.seq), channels: rows };
  }
  const { rows } = await appendAndRead(trx, values, values.account_id);
  const first = rows[0];
  if (!first) throw new Error('change log append returned nothing');
  const channels: LiveChannel[] = [];
  for (const row of rows) {
    if (row.id === null || row.dialect === null || row.interest_json === null) continue;
    channels.push({
      id: row.id,
      dialect: row.dialect,
      interest_json: row.interest_json,
      sending_id: row.sending_id === null ? null : Number(row.sending_id),
    });
  }
  return { seq: Number(first.seq), channels };
}
