import type { CoreResources } from './resources.ts';
import { writeNow } from './resources.ts';
import type { CalendarsTable, Executor } from '../store/schema.ts';
import { CoreError } from './errors.ts';
import { newId } from './ids.ts';
import { recordChange } from './change-log.ts';
import { serializeAccountChanges } from '../store/account-lock.ts';
import { holdChannels } from '../store/channel-locks.ts';
import { prepared } from '../store/prepared.ts';
import { ACTIVE } from '../store/channel-states.ts';

export type CalendarRow = CalendarsTable;

const liveCalendar = prepared((db, calendarId: string) =>
  db.selectFrom('calendars').selectAll().where('id', '=', calendarId).where('deleted', '=', 0),
);

/** Finds a live calendar the account owns: 404 when unknown, 403 when someone else's. */
export async function ownedCalendar(
  trx: Executor,
  accountId: string,
  calendarId: string,
): Promise<CalendarRow> {
  const [row] = (await liveCalendar(trx, calendarId)).rows;
  return ownedOf(row, accountId, calendarId);
}

function ownedOf(row: CalendarRow | undefined, accountId: string, calendarId: string) {
  if (!row) throw new CoreError('not_found', `no calendar ${calendarId}`, { field: 'calendar_id' });
  if (row.account_id !== accountId) {
    throw new CoreError('forbidden', `calendar ${calendarId} belongs to another account`, {
      field: 'calendar_id',
    });
  }
  return row;
}

function writableOf(row: CalendarRow, calendarId: string): CalendarRow {
  if (row.readonly === 1) {
    throw new CoreError('forbidden', `calendar ${calendarId} is read-only: it mirrors a source`, {
      field: 'calendar_id',
    });
  }
  return row;
}

/**
 * A calendar the account owns and may write to: a source's calendars mirror another server
 * and are read-only here (403). Called first in a write's transaction, it takes the account's
 * lock: whatever the write reads next (whether the event it upserts exists, the row it
 * rewrites) cannot change under it on PostgreSQL, where two upserts of one new event_id had
 * both found none and one failed on the unique key. The lock is the one every change of the
 * account takes anyway, before any channel's, so the lock order holds.
 */
export async function writableCalendar(
  trx: Executor,
  accountId: string,
  calendarId: string,
): Promise<CalendarRow> {
  await serializeAccountChanges(trx, accountId);
  return writableOf(await ownedCalendar(trx, accountId, calendarId), calendarId);
}

/**
 * `writableCalendar`, with the calendar's read sent ahead of `read`, the write's next read
 * (the event it changes): on PostgreSQL both are answered in one round trip. `read` runs
 * under the account's lock but before the calendar is known to be the account's and
 * writable, so it must only read; whatever it finds or throws, the calendar's own error
 * (404, 403) comes first.
 */
export async function writableCalendarWith<T>(
  trx: Executor,
  accountId: string,
  calendarId: string,
  read: () => Promise<T>,
): Promise<T> {
  await serializeAccountChanges(trx, accountId);
  const calendar = liveCalendar.sentAhead(trx, calendarId);
  const outcome = await read().then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  const [row] = (await calendar).rows;
  writableOf(ownedOf(row, accountId, calendarId), calendarId);
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}

export async function listCalendars(
  res: CoreResources,
  accountId: string,
  options: { includeDeleted?: boolean } = {},
): Promise<CalendarRow[]> {
  let query = res.db.selectFrom('calendars').selectAll().where('account_id', '=', accountId);
  if (!options.includeDeleted) query = query.where('deleted', '=', 0);
  return query.orderBy('is_primary', 'desc').orderBy('created_at').execute();
}

export interface CalendarInput {
  readonly profileId?: string | undefined;
  readonly name: string;
  readonly description?: string | null | undefined;
  readonly location?: string | null | undefined;
  readonly timeZone?: string | undefined;
  readonly color?: string | null | undefined;
}

export async function createCalendar(
  res: CoreResources,
  accountId: string,
  input: CalendarInput,
): Promise<CalendarRow> {
  const row = await writeNow(res, async (trx, now) => {
    const profiles = await trx
      .selectFrom('profiles')
      .select(['id'])
      .where('account_id', '=', accountId)
      .orderBy('created_at')
      .execute();
    const profileId = input.profileId ?? profiles[0]?.id;
    const mirrored = await trx
      .selectFrom('sources')
      .select('id')
      .where('profile_id', '=', profileId ?? '')
      .executeTakeFirst();
    if (mirrored) {
      throw new CoreError('forbidden', 'a source profile holds only the calendars it mirrors', {
        field: 'profile_id',
      });
    }
    if (!profileId || !profiles.some((p) => p.id === profileId)) {
      throw new CoreError('invalid', `unknown profile ${input.profileId ?? ''}`, {
        field: 'profile_id',
      });
    }
    const account = await trx
      .selectFrom('accounts')
      .select('time_zone')
      .where('id', '=', accountId)
      .executeTakeFirstOrThrow();
    const id = newId('cal');
    const seq = await recordChange(
      trx,
      res.dialects,
      { accountId, resource: 'calendar', calendarId: id, resourceId: id, managed: true },
      now,
    );
    const calendar: CalendarRow = {
      id,
      account_id: accountId,
      profile_id: profileId,
      name: input.name,
      description: input.description ?? null,
      location: input.location ?? null,
      time_zone: input.timeZone ?? account.time_zone,
      color: input.color ?? null,
      is_primary: 0,
      readonly: 0,
      deleted: 0,
      created_at: now,
      updated_at: now,
      change_seq: seq,
    };
    await trx.insertInto('calendars').values(calendar).execute();
    return calendar;
  });
  res.notifyQueued();
  return row;
}

export type CalendarPatch = Partial<Omit<CalendarInput, 'profileId'>>;

export async function updateCalendar(
  res: CoreResources,
  accountId: string,
  calendarId: string,
  patch: CalendarPatch,
): Promise<CalendarRow> {
  const row = await writeNow(res, async (trx, now) => {
    const current = await writableCalendar(trx, accountId, calendarId);
    const seq = await recordChange(
      trx,
      res.dialects,
      { accountId, resource: 'calendar', calendarId, resourceId: calendarId, managed: true },
      now,
    );
    const next: CalendarRow = {
      ...current,
      name: patch.name ?? current.name,
      description: patch.description === undefined ? current.description : patch.description,
      location: patch.location === undefined ? current.location : patch.location,
      time_zone: patch.timeZone ?? current.time_zone,
      color: patch.color === undefined ? current.color : patch.color,
      updated_at: now,
      change_seq: seq,
    };
    await trx.updateTable('calendars').set(next).where('id', '=', calendarId).execute();
    return next;
  });
  res.notifyQueued();
  return row;
}

/** Deletes a secondary calendar and its events; the primary calendar cannot be deleted. */
export async function deleteCalendar(
  res: CoreResources,
  accountId: string,
  calendarId: string,
): Promise<void> {
  await writeNow(res, async (trx, now) => {
    const current = await writableCalendar(trx, accountId, calendarId);
    if (current.is_primary === 1) {
      throw new CoreError('invalid', 'the primary calendar cannot be deleted', {
        field: 'calendar_id',
        detail: 'primary_calendar',
      });
    }
    // Channels may hear of this in several kinds of notification (the calendar list changed,
    // the calendar is gone): lock every channel of the account in one ordered pass first, so
    // concurrent writers cannot deadlock. Every change takes its account's lock before any
    // channel's: so does this one.
    await serializeAccountChanges(trx, accountId);
    const watchers = await trx
      .selectFrom('channels')
      .select('id')
      .where('account_id', '=', accountId)
      .where('state', '=', ACTIVE)
      .execute();
    await holdChannels(trx, watchers.map((c) => c.id).sort());
    await markCalendarRemoved(res, trx, { accountId, calendarId, managed: true }, now);
  });
  res.notifyQueued();
}

/**
 * Records a calendar's removal and marks it deleted, in the caller's transaction: its list
 * watchers hear it changed, and its own watchers that it is gone. Returns the change.
 */
export async function markCalendarRemoved(
  res: CoreResources,
  trx: Executor,
  calendar: { accountId: string; calendarId: string; managed: boolean },
  now: number,
): Promise<number> {
  const { accountId, calendarId, managed } = calendar;
  const seq = await recordChange(
    trx,
    res.dialects,
    { accountId, resource: 'calendar', calendarId, resourceId: calendarId, managed, removed: true },
    now,
  );
  await trx
    .updateTable('calendars')
    .set({ deleted: 1, updated_at: now, change_seq: seq })
    .where('id', '=', calendarId)
    .execute();
  return seq;
}
