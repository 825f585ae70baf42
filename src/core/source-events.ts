import { createHash } from 'node:crypto';
import type { Insertable } from 'kysely';
import type { EventsTable, Executor } from '../store/schema.ts';
import type { EventTime } from '../domain/event-time.ts';
import type { SourceEvent, SourceItem } from '../domain/source.ts';
import { checkEventTime, instantOf } from '../domain/event-time.ts';
import { untilAt } from './recurrence.ts';
import { occurrenceUid } from './occurrence-rows.ts';
import { CoreError } from './errors.ts';
import { digestBase32 } from './ids.ts';
// Bound lists at power-of-two lengths: each other length would be one more statement kept.
import { chunks, insertRuns, padToPowerOfTwo } from '../store/list-lengths.ts';
import { keepReplacedShape } from './series-history.ts';

/**
 * A source event's id, the same at every poll and after every restart: derived from its
 * calendar and its iCalendar UID, in Google's alphabet (lowercase base32hex) so both faces
 * can serve it. An override is the occurrence it replaces: `{seriesId}_{start}`, the id the
 * occurrence has when unchanged.
 */
export function sourceEventUid(
  calendarId: string,
  icalUid: string,
  recurrenceId: EventTime | null,
) {
  const digest = createHash('sha256').update(`${calendarId}\n${icalUid}\n`).digest();
  const seriesUid = `evs${digestBase32(digest, 23)}`;
  if (recurrenceId === null) return seriesUid;
  return occurrenceUid(seriesUid, recurrenceId, instantOf(recurrenceId));
}

/** The columns an event's content is stored in; equal columns mean nothing changed. */
interface EventContent {
  readonly ical_uid: string;
  readonly status: string;
  readonly summary: string | null;
  readonly description: string | null;
  readonly location: string | null;
  readonly start_json: string;
  readonly end_json: string;
  readonly start_at: number;
  readonly end_at: number;
  readonly recurrence_json: string | null;
  readonly extra_json: string | null;
  readonly until_at: number;
  readonly recurring_event_id: string | null;
  readonly original_start_json: string | null;
  readonly original_start_at: number | null;
}

const contentColumns = [
  'ical_uid',
  'status',
  'summary',
  'description',
  'location',
  'start_json',
  'end_json',
  'start_at',
  'end_at',
  'recurrence_json',
  'extra_json',
  'until_at',
  'recurring_event_id',
  'original_start_json',
  'original_start_at',
] as const satisfies readonly (keyof EventContent)[];

function instant(time: EventTime, what: string, event: SourceEvent): number {
  const checked = checkEventTime(time);
  if ('problem' in checked) {
    throw new CoreError('invalid', `event ${event.icalUid}: ${what} ${checked.problem}`);
  }
  return checked.instant;
}

function contentOf(calendarId: string, event: SourceEvent): EventContent {
  const startAt = instant(event.start, 'start', event);
  const endAt = instant(event.end, 'end', event);
  if (endAt < startAt)
    throw new CoreError('invalid', `event ${event.icalUid}: ends before it starts`);
  // An override names the series it belongs to and the occurrence it replaces.
  const override = event.recurrenceId;
  return {
    ical_uid: event.icalUid,
    status: event.status,
    summary: event.summary,
    description: event.description,
    location: event.location,
    start_json: JSON.stringify(event.start),
    end_json: JSON.stringify(event.end),
    start_at: startAt,
    end_at: endAt,
    recurrence_json:
      override === null && event.recurrence && event.recurrence.length > 0
        ? JSON.stringify(event.recurrence)
        : null,
    extra_json: null,
    until_at: override === null ? untilAt(event, endAt) : endAt,
    recurring_event_id: override === null ? null : sourceEventUid(calendarId, event.icalUid, null),
    original_start_json: override === null ? null : JSON.stringify(override),
    original_start_at: override === null ? null : instantOf(override),
  };
}

type StoredEvent = EventContent & {
  readonly id: number;
  readonly uid: string;
  readonly sequence: number;
  readonly deleted: number;
};

function sameContent(stored: StoredEvent, next: EventContent): boolean {
  return contentColumns.every((c) => String(stored[c]) === String(next[c]));
}

export interface MirrorTarget {
  readonly accountId: string;
  readonly calendarId: string;
  /** The change every event written here is stamped with. */
  readonly seq: number;
  readonly now: number;
}

/**
 * Writes a source calendar's changed items: each item's events are created, rewritten where
 * their content differs, and removed where the item no longer holds them. Returns the event
 * ids each item now holds, and how many events changed.
 */
export async function mirrorItems(
  trx: Executor,
  target: MirrorTarget,
  items: readonly SourceItem[],
  previous: ReadonlyMap<string, readonly string[]>,
): Promise<{ uidsByItem: Map<string, string[]>; changed: number }> {
  const wanted = new Map<string, EventContent>();
  const uidsByItem = new Map<string, string[]>();
  for (const item of items) {
    const uids: string[] = [];
    for (const event of item.events) {
      const uid = sourceEventUid(target.calendarId, event.icalUid, event.recurrenceId);
      wanted.set(uid, contentOf(target.calendarId, event));
      uids.push(uid);
    }
    uidsByItem.set(item.key, uids);
  }
  const dropped = [...items].flatMap((item) =>
    (previous.get(item.key) ?? []).filter((uid) => !wanted.has(uid)),
  );
  const stored = await storedEvents(trx, target.calendarId, [...wanted.keys(), ...dropped]);
  let changed = 0;
  const inserts: Insertable<EventsTable>[] = [];
  for (const [uid, content] of wanted) {
    const current = stored.get(uid);
    if (!current) {
      inserts.push({
        ...content,
        calendar_id: target.calendarId,
        account_id: target.accountId,
        uid,
        external_id: null,
        managed: 0,
        sequence: 0,
        deleted: content.status === 'cancelled' ? 1 : 0,
        created_at: target.now,
        updated_at: target.now,
        change_seq: target.seq,
      });
      changed++;
    } else if (current.deleted === 1 || !sameContent(current, content)) {
      await keepReplacedShape(trx, { ...current, uid }, content, target);
      await trx
        .updateTable('events')
        .set({
          ...content,
          deleted: content.status === 'cancelled' ? 1 : 0,
          sequence: current.sequence + 1,
          updated_at: target.now,
          change_seq: target.seq,
        })
        .where('id', '=', current.id)
        .execute();
      changed++;
    }
  }
  for (const batch of insertRuns(trx, inserts, 128)) {
    await trx.insertInto('events').values(batch).execute();
  }
  changed += await removeEvents(trx, target, dropped, stored);
  return { uidsByItem, changed };
}

/** Marks a source calendar's events removed upstream as deleted (cancelled), in one change. */
export async function removeEventsByUid(
  trx: Executor,
  target: MirrorTarget,
  uids: readonly string[],
): Promise<number> {
  return removeEvents(trx, target, uids, await storedEvents(trx, target.calendarId, uids));
}

async function removeEvents(
  trx: Executor,
  target: MirrorTarget,
  uids: readonly string[],
  stored: ReadonlyMap<string, StoredEvent>,
): Promise<number> {
  const live = uids.flatMap((uid) => {
    const row = stored.get(uid);
    return row && row.deleted === 0 ? [row.id] : [];
  });
  for (const ids of chunks(live)) {
    await trx
      .updateTable('events')
      .set((eb) => ({
        status: 'cancelled',
        deleted: 1,
        sequence: eb('sequence', '+', 1),
        updated_at: target.now,
        change_seq: target.seq,
      }))
      .where('id', 'in', padToPowerOfTwo(ids))
      .execute();
  }
  return live.length;
}

async function storedEvents(
  trx: Executor,
  calendarId: string,
  uids: readonly string[],
): Promise<Map<string, StoredEvent>> {
  const out = new Map<string, StoredEvent>();
  for (const batch of chunks(uids)) {
    const rows = await trx
      .selectFrom('events')
      .select(['id', 'uid', 'sequence', 'deleted', ...contentColumns])
      .where('calendar_id', '=', calendarId)
      .where('uid', 'in', padToPowerOfTwo(batch))
      .execute();
    for (const row of rows) {
      out.set(row.uid, {
        ...row,
        id: Number(row.id),
        start_at: Number(row.start_at),
        end_at: Number(row.end_at),
        until_at: Number(row.until_at),
        original_start_at: row.original_start_at === null ? null : Number(row.original_start_at),
      });
    }
  }
  return out;
}
