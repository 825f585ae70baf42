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
  /** The head its lease is sending, as read (under the row's lock when `locked`). */
  readonly sending_id: number | null;
}

export interface AppendedChange {
  readonly seq: number;
  /** The account's live channels, in id order when `locked`. */
  readonly channels: readonly LiveChannel[];
  /**
   * Whether the channel rows are locked for the rest of the transaction, in id order, and
   * were read under those locks: their `sending_id` then stands until commit.
   */
  readonly locked: boolean;
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
 * The append, the read of the live channels and their row locks as one statement: on
 * PostgreSQL each statement is a round trip made while the account's lock is held, and
 * those three were a quarter of an API write's. Every live channel is locked, not only those
 * the change will notify (which only the dialects can tell): the account's writers are
 * serialized by its lock already, and a claim passes over locked rows.
 */
const appendAndLock = prepared((db, values: Insertable<ChangesTable>, accountId: string) =>
  db
    .with('appended', (w) => w.insertInto('changes').values(values).returning('seq'))
    .selectFrom('appended')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('channels')
          .select(['id', 'dialect', 'interest_json', 'sending_id'])
          .where('account_id', '=', accountId)
          .where('state', '=', ACTIVE)
          .orderBy('id')
          .forUpdate()
          .as('c'),
      (join) => join.onTrue(),
    )
    .select(['appended.seq', 'c.id', 'c.dialect', 'c.interest_json', 'c.sending_id']),
);

/**
 * Appends a change to the log, in the caller's transaction, and reads the account's live
 * channels. On PostgreSQL, where writers run concurrently, the channels come back locked (see
 * `lockChannels`); SQLite runs one writer at a time, and nothing needs a lock.
 */
export async function appendChange(
  trx: Executor,
  values: Insertable<ChangesTable>,
): Promise<AppendedChange> {
  if (!traitsOf(trx).writesInWith) {
    const [appended] = (await appendOnly(trx, values)).rows;
    if (!appended) throw new Error('change log append returned nothing');
    const { rows } = await liveChannelsOf(trx, values.account_id);
    return { seq: Number(appended.seq), channels: rows, locked: false };
  }
  const { rows } = await appendAndLock(trx, values, values.account_id);
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
  return { seq: Number(first.seq), channels, locked: true };
}
