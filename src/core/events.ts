import type { Insertable, QueryResult, Updateable } from 'kysely';
import type { CoreResources } from './resources.ts';
import { writeNow } from './resources.ts';
import type { EventsTable, Executor } from '../store/schema.ts';
import type { EventTime } from '../domain/event-time.ts';
import { checkEventTime, instantOf } from '../domain/event-time.ts';
import { CoreError } from './errors.ts';
import { RecurrenceError, checkRecurrence, untilAt } from './recurrence.ts';
import { isSeries, occurrenceAt, occurrenceRow, parseOccurrenceUid } from './occurrence-rows.ts';
import { newEventUid } from './ids.ts';
import { MAX_KEPT_DEPTH, readEventColumns } from './event-columns.ts';
import { valueDeeperThan } from '../domain/json-bounds.ts';
import { recordChange } from './change-log.ts';
import { ownedCalendar, writableCalendar, writableCalendarWith } from './calendars.ts';
import { prepared } from '../store/prepared.ts';
import { boundLimit } from '../store/bound-limit.ts';
import { keepReplacedShape } from './series-history.ts';

export type EventRow = Omit<EventsTable, 'id'> & { id: number };

export const eventStatuses = ['confirmed', 'tentative', 'cancelled'] as const;
export type EventStatus = (typeof eventStatuses)[number];

/** An event's content as either face writes it. */
export interface EventFields {
  readonly summary: string | null;
  readonly description: string | null;
  readonly location: string | null;
  readonly start: EventTime;
  readonly end: EventTime;
  readonly status?: EventStatus | undefined;
  readonly recurrence?: readonly string[] | null | undefined;
  /** Face-specific fields kept as given (transparency, attendees, colour …). */
  readonly extra?: Readonly<Record<string, unknown>> | null | undefined;
}

/** Event fields whose boundaries were checked, with the instants they stand for. */
export interface CheckedEventFields extends EventFields {
  readonly startAt: number;
  readonly endAt: number;
}

function checkedInstant(time: EventTime, field: string): number {
  const checked = checkEventTime(time);
  if ('problem' in checked) throw new CoreError('invalid', checked.problem, { field });
  return checked.instant;
}

export function checkEventFields(
  fields: EventFields,
  fieldNames = { start: 'start', end: 'end' },
): CheckedEventFields {
  const startAt = checkedInstant(fields.start, fieldNames.start);
  const endAt = checkedInstant(fields.end, fieldNames.end);
  if ('date' in fields.start !== 'date' in fields.end) {
    throw new CoreError('invalid', 'start and end must both be dates or both be times', {
      field: fieldNames.end,
    });
  }
  if (endAt < startAt) {
    throw new CoreError('invalid', 'end must not be before start', { field: fieldNames.end });
  }
  // Faces check the fields they keep; this bound holds whatever a face lets through, since
  // a value nested deep enough fails JSON.stringify when it is stored or read back.
  if (fields.extra && valueDeeperThan(fields.extra, MAX_KEPT_DEPTH)) {
    throw new CoreError('invalid', `nested more than ${MAX_KEPT_DEPTH} levels deep`, {
      field: 'extra',
    });
  }
  if (fields.recurrence && fields.recurrence.length > 0) {
    try {
      checkRecurrence({ start: fields.start, end: fields.end, recurrence: fields.recurrence });
    } catch (err) {
      if (!(err instanceof RecurrenceError)) throw err;
      throw new CoreError('invalid', err.message, { field: 'recurrence' });
    }
  }
  return { ...fields, startAt, endAt };
}

function contentColumns(fields: CheckedEventFields) {
  return {
    summary: fields.summary,
    description: fields.description,
    location: fields.location,
    status: fields.status ?? 'confirmed',
    start_json: JSON.stringify(fields.start),
    end_json: JSON.stringify(fields.end),
    start_at: fields.startAt,
    end_at: fields.endAt,
    recurrence_json:
      fields.recurrence && fields.recurrence.length > 0 ? JSON.stringify(fields.recurrence) : null,
    extra_json: fields.extra ? JSON.stringify(fields.extra) : null,
    until_at: untilAt(fields, fields.endAt),
  };
}

/** A stored event's content; a column that cannot be read comes repaired (event-columns.ts). */
export function fieldsOf(row: EventRow): EventFields {
  const columns = readEventColumns(row);
  return {
    summary: row.summary,
    description: row.description,
    location: row.location,
    start: columns.start,
    end: columns.end,
    status: row.status as EventStatus,
    recurrence: columns.recurrence,
    extra: columns.extra,
  };
}

interface EventIdentity {
  readonly uid: string;
  readonly externalId: string | null;
  readonly icalUid: string;
  readonly managed: boolean;
  /** An exception: the series and the occurrence it replaces. */
  readonly exceptionOf?: { readonly series: EventRow; readonly originalStart: EventTime };
}

interface WriteTarget {
  readonly accountId: string;
  readonly calendarId: string;
}

const insertEventValues = prepared((db, values: Insertable<EventsTable>) =>
  db.insertInto('events').values(values).returning('id'),
);

const eventRewrite = prepared((db, id: number, changed: Updateable<EventsTable>) =>
  db.updateTable('events').set(changed).where('id', '=', id),
);

async function insertEventRow(
  res: CoreResources,
  trx: Executor,
  target: WriteTarget,
  fields: CheckedEventFields,
  identity: EventIdentity,
  now: number,
): Promise<EventRow> {
  const values = {
    calendar_id: target.calendarId,
    account_id: target.accountId,
    uid: identity.uid,
    external_id: identity.externalId,
    ical_uid: identity.icalUid,
    managed: identity.managed ? 1 : 0,
    ...contentColumns(fields),
    recurring_event_id: identity.exceptionOf?.series.uid ?? null,
    original_start_json: identity.exceptionOf
      ? JSON.stringify(identity.exceptionOf.originalStart)
      : null,
    original_start_at: identity.exceptionOf ? instantOf(identity.exceptionOf.originalStart) : null,
    sequence: 0,
    deleted: fields.status === 'cancelled' ? 1 : 0,
    created_at: now,
    updated_at: now,
  };
  let inserted: Promise<QueryResult<{ id: number }>> | undefined;
  const seq = await recordChange(
    trx,
    res.dialects,
    {
      accountId: target.accountId,
      resource: 'event',
      calendarId: target.calendarId,
      resourceId: identity.uid,
      managed: identity.managed,
      // An exception's row is new, but the occurrence it replaces was already there to read.
      created: identity.exceptionOf === undefined,
      // A cancelled occurrence is stored as a new row: for its readers the occurrence is gone.
      removed: fields.status === 'cancelled',
    },
    now,
    (seq) => {
      inserted = insertEventValues.sentAhead(trx, { ...values, change_seq: seq });
    },
  );
  if (!inserted) throw new Error('the change was recorded without its event');
  const [row] = (await inserted).rows;
  return { ...values, change_seq: seq, id: Number(row?.id) };
}

async function rewriteEventRow(
  res: CoreResources,
  trx: Executor,
  current: EventRow,
  fields: CheckedEventFields,
  now: number,
): Promise<EventRow> {
  const seq = await recordChange(
    trx,
    res.dialects,
    {
      accountId: current.account_id,
      resource: 'event',
      calendarId: current.calendar_id,
      resourceId: current.uid,
      managed: current.managed === 1,
      removed: fields.status === 'cancelled',
    },
    now,
  );
  // Only what a rewrite changes is written: naming the identity columns too would make the
  // store maintain their (unchanged) index entries on every update.
  const changed = {
    ...contentColumns(fields),
    sequence: current.sequence + 1,
    deleted: fields.status === 'cancelled' ? 1 : 0,
    updated_at: now,
    change_seq: seq,
  };
  await keepReplacedShape(trx, current, changed, {
    accountId: current.account_id,
    calendarId: current.calendar_id,
    seq,
    now,
  });
  // Its answer carries nothing: on PostgreSQL the next statement, at the latest the commit,
  // brings back its failure, if any.
  await eventRewrite.unawaited(trx, current.id, changed);
  return { ...current, ...changed };
}

async function markDeleted(
  res: CoreResources,
  trx: Executor,
  current: EventRow,
  now: number,
): Promise<EventRow> {
  // The stored boundaries were checked when written: only their instants are needed again.
  const fields = fieldsOf(current);
  const startAt = instantOf(fields.start);
  const endAt = instantOf(fields.end);
  return rewriteEventRow(
    res,
    trx,
    current,
    { ...fields, startAt, endAt, status: 'cancelled' },
    now,
  );
}

type EventKey = { readonly uid: string } | { readonly externalId: string };

/** A calendar's event by its id or by the application's own id, deleted or not. */
async function findEvent(
  trx: Executor,
  calendarId: string,
  key: EventKey,
): Promise<EventRow | undefined> {
  const { rows } =
    'uid' in key
      ? await eventByUid(trx, calendarId, key.uid)
      : await eventByExternalId(trx, calendarId, key.externalId);
  return rows[0];
}

const eventByUid = prepared((db, calendarId: string, uid: string) =>
  db.selectFrom('events').selectAll().where('calendar_id', '=', calendarId).where('uid', '=', uid),
);

const eventByExternalId = prepared((db, calendarId: string, externalId: string) =>
  db
    .selectFrom('events')
    .selectAll()
    .where('calendar_id', '=', calendarId)
    .where('external_id', '=', externalId),
);

async function requireEvent(trx: Executor, calendarId: string, uid: string): Promise<EventRow> {
  const row = await findEvent(trx, calendarId, { uid });
  if (!row) throw new CoreError('not_found', `no event ${uid}`, { field: 'eventId' });
  return row;
}

/** Cronofy's upsert of an application-managed event, keyed by the application's event_id. */
export async function upsertManagedEvent(
  res: CoreResources,
  target: WriteTarget,
  externalId: string,
  fields: EventFields,
): Promise<EventRow> {
  const checked = checkEventFields(fields);
  const row = await writeNow(res, async (trx, now) => {
    const current = await writableCalendarWith(trx, target.accountId, target.calendarId, () =>
      findEvent(trx, target.calendarId, { externalId }),
    );
    if (current)
      return rewriteEventRow(res, trx, current, { ...checked, status: 'confirmed' }, now);
    const uid = newEventUid(now);
    return insertEventRow(
      res,
      trx,
      target,
      checked,
      { uid, externalId, icalUid: `${uid}@calpush`, managed: true },
      now,
    );
  });
  res.notifyQueued();
  return row;
}

/** Deleting an unknown or already deleted managed event succeeds and changes nothing. */
export async function deleteManagedEvent(
  res: CoreResources,
  target: WriteTarget,
  externalId: string,
): Promise<void> {
  const changed = await writeNow(res, async (trx, now) => {
    const current = await writableCalendarWith(trx, target.accountId, target.calendarId, () =>
      findEvent(trx, target.calendarId, { externalId }),
    );
    if (!current || current.deleted === 1) return false;
    await markDeleted(res, trx, current, now);
    return true;
  });
  if (changed) res.notifyQueued();
}

/**
 * An event by id, or an occurrence of a series by its occurrence id: a stored row (an event,
 * or an exception), or one made from the series (`virtual`) when the occurrence is unchanged.
 */
async function findEventOrOccurrence(
  trx: Executor,
  calendarId: string,
  uid: string,
): Promise<{ row: EventRow; virtual: boolean } | undefined> {
  const row = await findEvent(trx, calendarId, { uid });
  if (row) return { row, virtual: false };
  const ref = parseOccurrenceUid(uid);
  if (!ref) return undefined;
  const series = await findEvent(trx, calendarId, { uid: ref.seriesUid });
  if (!series || series.deleted === 1 || !isSeries(series)) return undefined;
  const occurrence = occurrenceAt(series, ref.originalAt);
  if (!occurrence) return undefined;
  const virtual = occurrenceRow(series, occurrence);
  // The id must be the one the occurrence is known by, not another spelling of its start.
  return virtual.uid === uid ? { row: virtual, virtual: true } : undefined;
}

async function requireEventOrOccurrence(trx: Executor, calendarId: string, uid: string) {
  const found = await findEventOrOccurrence(trx, calendarId, uid);
  if (!found) throw new CoreError('not_found', `no event ${uid}`, { field: 'eventId' });
  return found;
}

export async function getEvent(
  res: CoreResources,
  target: WriteTarget,
  uid: string,
): Promise<EventRow> {
  await ownedCalendar(res.db, target.accountId, target.calendarId);
  return (await requireEventOrOccurrence(res.db, target.calendarId, uid)).row;
}

/** Google's insert: the client may choose the id; the event is not application-managed. */
export async function insertEvent(
  res: CoreResources,
  target: WriteTarget,
  fields: EventFields,
  identity: { uid?: string | undefined; icalUid?: string | undefined } = {},
): Promise<EventRow> {
  const checked = checkEventFields(fields);
  const row = await writeNow(res, async (trx, now) => {
    const chosen = identity.uid;
    if (chosen === undefined) await writableCalendar(trx, target.accountId, target.calendarId);
    else if (
      await writableCalendarWith(trx, target.accountId, target.calendarId, () =>
        findEvent(trx, target.calendarId, { uid: chosen }),
      )
    ) {
      throw new CoreError('conflict', 'The requested identifier already exists.', { field: 'id' });
    }
    const uid = chosen ?? newEventUid(now);
    return insertEventRow(
      res,
      trx,
      target,
      checked,
      { uid, externalId: null, icalUid: identity.icalUid ?? `${uid}@calpush`, managed: false },
      now,
    );
  });
  res.notifyQueued();
  return row;
}

function originalStartOf(occurrence: EventRow): EventTime {
  const columns = readEventColumns(occurrence);
  return columns.originalStart ?? columns.start;
}

/** The identity of the exception that will replace an unchanged occurrence. */
function exceptionIdentity(occurrence: EventRow, series: EventRow): EventIdentity {
  return {
    uid: occurrence.uid,
    externalId: null,
    icalUid: series.ical_uid,
    managed: series.managed === 1,
    exceptionOf: { series, originalStart: originalStartOf(occurrence) },
  };
}

/**
 * Replaces an event's content; `change` may merge into the current content (a patch). On an
 * occurrence of a series, the first change makes the exception that replaces it.
 */
export async function updateEvent(
  res: CoreResources,
  target: WriteTarget,
  uid: string,
  change: (current: EventFields) => EventFields,
): Promise<EventRow> {
  const row = await writeNow(res, async (trx, now) => {
    const { row: current, virtual } = await writableCalendarWith(
      trx,
      target.accountId,
      target.calendarId,
      () => requireEventOrOccurrence(trx, target.calendarId, uid),
    );
    const fields = checkEventFields(change(fieldsOf(current)));
    if (current.recurring_event_id !== null && fields.recurrence && fields.recurrence.length > 0) {
      throw new CoreError('invalid', 'An occurrence of a recurring event cannot recur itself.', {
        field: 'recurrence',
      });
    }
    if (virtual) {
      const series = await requireEvent(trx, target.calendarId, current.recurring_event_id ?? '');
      return insertEventRow(res, trx, target, fields, exceptionIdentity(current, series), now);
    }
    const next = await rewriteEventRow(res, trx, current, fields, now);
    if (isSeries(current) || isSeries(next)) await keepMatchingExceptions(res, trx, next, now);
    return next;
  });
  res.notifyQueued();
  return row;
}

/** Deleting an occurrence makes a cancelled exception; deleting a series ends its exceptions. */
export async function deleteEvent(
  res: CoreResources,
  target: WriteTarget,
  uid: string,
): Promise<void> {
  await writeNow(res, async (trx, now) => {
    const { row: current, virtual } = await writableCalendarWith(
      trx,
      target.accountId,
      target.calendarId,
      () => requireEventOrOccurrence(trx, target.calendarId, uid),
    );
    if (virtual) {
      const series = await requireEvent(trx, target.calendarId, current.recurring_event_id ?? '');
      const fields = fieldsOf(current);
      await insertEventRow(
        res,
        trx,
        target,
        { ...fields, status: 'cancelled', startAt: current.start_at, endAt: current.end_at },
        exceptionIdentity(current, series),
        now,
      );
      return;
    }
    if (current.deleted === 1) {
      throw new CoreError('gone', 'Resource has been deleted');
    }
    const next = await markDeleted(res, trx, current, now);
    if (isSeries(current)) await keepMatchingExceptions(res, trx, next, now);
  });
  res.notifyQueued();
}

const liveExceptions = prepared((db, calendarId: string, seriesUid: string) =>
  db
    .selectFrom('events')
    .selectAll()
    .where('calendar_id', '=', calendarId)
    .where('recurring_event_id', '=', seriesUid)
    .where('deleted', '=', 0),
);

/**
 * After a series changed, its exceptions that still replace one of its occurrences stay;
 * the others (their occurrence moved away, or the series ended or was deleted) are cancelled,
 * each a change of its own so an incremental read hears of it.
 */
async function keepMatchingExceptions(
  res: CoreResources,
  trx: Executor,
  series: EventRow,
  now: number,
): Promise<void> {
  const { rows } = await liveExceptions(trx, series.calendar_id, series.uid);
  for (const exception of rows) {
    const still =
      series.deleted === 0 &&
      isSeries(series) &&
      occurrenceAt(series, Number(exception.original_start_at)) !== undefined;
    if (!still) await markDeleted(res, trx, exception, now);
  }
}

export interface EventQuery {
  readonly accountId: string;
  readonly calendarIds?: readonly string[] | undefined;
  /** Events overlapping [from, to). */
  readonly from?: number | undefined;
  readonly to?: number | undefined;
  readonly modifiedSince?: number | undefined;
  /** Only events changed after this change sequence number (incremental sync). */
  readonly afterSeq?: number | undefined;
  /** Only events with this iCalendar UID (Google's `iCalUID`). */
  readonly icalUid?: string | undefined;
  readonly includeDeleted: boolean;
  /** Cancelled occurrences of a series are listed even without `includeDeleted` (Google's rule). */
  readonly includeCancelledOccurrences?: boolean | undefined;
  readonly managed: 'include' | 'exclude' | 'only';
  /** Resume after this event row id. */
  readonly afterId?: number | undefined;
  readonly limit: number;
}

function eventFilter(res: CoreResources, q: Omit<EventQuery, 'limit'>) {
  let query = res.db.selectFrom('events').where('account_id', '=', q.accountId);
  if (q.calendarIds) query = query.where('calendar_id', 'in', [...q.calendarIds]);
  // A series is in the range when any occurrence is: its last one ends at `until_at`.
  if (q.from !== undefined) query = query.where('until_at', '>', q.from);
  if (q.to !== undefined) query = query.where('start_at', '<', q.to);
  if (q.modifiedSince !== undefined) query = query.where('updated_at', '>=', q.modifiedSince);
  if (q.afterSeq !== undefined) query = query.where('change_seq', '>', q.afterSeq);
  if (q.icalUid !== undefined) query = query.where('ical_uid', '=', q.icalUid);
  if (!q.includeDeleted && q.includeCancelledOccurrences) {
    query = query.where((eb) =>
      eb.or([eb('deleted', '=', 0), eb('recurring_event_id', 'is not', null)]),
    );
  } else if (!q.includeDeleted) query = query.where('deleted', '=', 0);
  if (q.managed === 'exclude') query = query.where('managed', '=', 0);
  if (q.managed === 'only') query = query.where('managed', '=', 1);
  if (q.afterId !== undefined) query = query.where('id', '>', q.afterId);
  return query;
}

/** One page of events in a stable order (row id), and whether more follow. */
export async function queryEvents(
  res: CoreResources,
  q: EventQuery,
): Promise<{ rows: EventRow[]; more: boolean }> {
  if (q.calendarIds?.length === 0) return { rows: [], more: false };
  const rows = await eventFilter(res, q)
    .selectAll()
    .orderBy('id')
    .limit(boundLimit(q.limit + 1))
    .execute();
  const more = rows.length > q.limit;
  return { rows: more ? rows.slice(0, q.limit) : rows, more };
}

export async function countEvents(
  res: CoreResources,
  q: Omit<EventQuery, 'limit'>,
): Promise<number> {
  if (q.calendarIds?.length === 0) return 0;
  const row = await eventFilter(res, q)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The newest change sequence number of an account: where an incremental read resumes. */
export async function latestSeq(res: CoreResources, accountId: string): Promise<number> {
  const row = await res.db
    .selectFrom('changes')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  return Number(row?.seq ?? 0);
}
