import { sql } from 'kysely';
import type { SelectQueryBuilder } from 'kysely';
import type { CoreResources } from './resources.ts';
import type { EventRow } from './events.ts';
import type { Database } from '../store/schema.ts';
import { expandRow, occurrenceAt, occurrenceRow } from './occurrence-rows.ts';
import { occurrenceCount } from './occurrence-count.ts';
import { boundLimit } from '../store/bound-limit.ts';
import { chunks, padToPowerOfTwo } from '../store/list-lengths.ts';
import { traitsOf } from '../store/engine-traits.ts';

/**
 * A calendar read as its instances: single events, the occurrences of every series inside
 * the window, and each exception in place of the occurrence it replaces, ordered by start
 * (then id) and paged by occurrence. Both faces serve their expanded reads from here.
 */

/** How far ahead a series that never ends is expanded when a read sets no end. */
export const OCCURRENCE_HORIZON_MS = 730 * 86_400_000;

/** Where a page ended: the last instance's start and id. */
export interface InstanceCursor {
  readonly at: number;
  readonly uid: string;
}

export interface InstanceQuery {
  readonly accountId: string;
  readonly calendarIds: readonly string[];
  /** Instances overlapping [from, to); without `to`, series end at the horizon. */
  readonly from?: number | undefined;
  readonly to?: number | undefined;
  /**
   * Only what changed after this change sequence number (or since this time): changed
   * events, every instance of a changed series, and changed exceptions.
   */
  readonly afterSeq?: number | undefined;
  readonly modifiedSince?: number | undefined;
  /** Only events with this iCalendar UID (Google's `iCalUID`). */
  readonly icalUid?: string | undefined;
  readonly includeDeleted: boolean;
  readonly managed: 'include' | 'exclude' | 'only';
  /** Only this series' instances (Google's events.instances). */
  readonly seriesUid?: string | undefined;
  /** Only the instance that replaces (or is) the occurrence starting then. */
  readonly originalStartAt?: number | undefined;
  readonly after?: InstanceCursor | undefined;
  readonly limit: number;
  readonly now: number;
}

/** A read's filters without its place and page size: what a count needs. */
export type InstanceFilter = Omit<InstanceQuery, 'after' | 'limit'>;

type EventsQuery = SelectQueryBuilder<Database, 'events', object>;

function commonFilters(res: CoreResources, q: InstanceFilter): EventsQuery {
  let query = res.db
    .selectFrom('events')
    .where('account_id', '=', q.accountId)
    .where('calendar_id', 'in', padToPowerOfTwo(q.calendarIds));
  if (q.managed === 'exclude') query = query.where('managed', '=', 0);
  if (q.managed === 'only') query = query.where('managed', '=', 1);
  if (q.icalUid !== undefined) query = query.where('ical_uid', '=', q.icalUid);
  return query;
}

function changedOnly(query: EventsQuery, q: InstanceFilter): EventsQuery {
  if (q.afterSeq !== undefined) query = query.where('change_seq', '>', q.afterSeq);
  if (q.modifiedSince !== undefined) query = query.where('updated_at', '>=', q.modifiedSince);
  return query;
}

/** Events that do not recur, in the read's window and filters. */
function singleEventsQuery(res: CoreResources, q: InstanceFilter): EventsQuery {
  let query = changedOnly(commonFilters(res, q), q)
    .where('recurrence_json', 'is', null)
    .where('recurring_event_id', 'is', null);
  if (!q.includeDeleted) query = query.where('deleted', '=', 0);
  const from = q.from;
  if (from !== undefined) {
    // As every instance: overlapping the window, or of no length and starting in it.
    query = query.where((eb) =>
      eb.or([
        eb('end_at', '>', from),
        eb.and([eb('start_at', '>=', from), eb('end_at', '=', eb.ref('start_at'))]),
      ]),
    );
  }
  if (q.to !== undefined) query = query.where('start_at', '<', q.to);
  return query;
}

/** Events that do not recur, in instance order after the cursor. */
async function singleEvents(res: CoreResources, q: InstanceQuery): Promise<EventRow[]> {
  let query = singleEventsQuery(res, q);
  const collation = traitsOf(res.db).bytewiseCollation;
  const uid =
    collation === null ? sql.ref('uid') : sql`${sql.ref('uid')} collate ${sql.id(collation)}`;
  const after = q.after;
  if (after) {
    query = query.where((eb) =>
      eb.or([
        eb('start_at', '>', after.at),
        eb.and([eb('start_at', '=', after.at), eb(uid, '>', after.uid)]),
      ]),
    );
  }
  const rows = await query
    .selectAll()
    .orderBy('start_at')
    .orderBy(uid)
    .limit(boundLimit(q.limit + 1))
    .execute();
  return rows;
}

/** Series with an occurrence in the window (or, for a changed-only read, that changed). */
async function seriesRows(res: CoreResources, q: InstanceFilter, to: number): Promise<EventRow[]> {
  let query = commonFilters(res, q)
    .where('recurrence_json', 'is not', null)
    .where('recurring_event_id', 'is', null)
    .where('start_at', '<', to);
  // At: a last occurrence of no length may start right at the window's start.
  if (q.from !== undefined) query = query.where('until_at', '>=', q.from);
  if (q.seriesUid !== undefined) query = query.where('uid', '=', q.seriesUid);
  if (!q.includeDeleted) query = query.where('deleted', '=', 0);
  return await changedOnly(query, q).selectAll().execute();
}

const seriesKey = (calendarId: string, uid: string) => `${calendarId}\n${uid}`;

/** Every exception of these series, by series. */
async function exceptionsOf(
  res: CoreResources,
  q: InstanceFilter,
  series: readonly EventRow[],
): Promise<Map<string, EventRow[]>> {
  const out = new Map<string, EventRow[]>();
  const uids = [...new Set(series.map((s) => s.uid))];
  for (const batch of chunks(uids)) {
    const rows = (await commonFilters(res, q)
      .where('recurring_event_id', 'in', padToPowerOfTwo(batch))
      .selectAll()
      .execute()) as EventRow[];
    for (const row of rows) {
      const key = seriesKey(row.calendar_id, row.recurring_event_id ?? '');
      out.set(key, [...(out.get(key) ?? []), row]);
    }
  }
  return out;
}

/**
 * Exceptions in the window whose series has no occurrence there (an occurrence moved far
 * from the rest), of series still live: a full read lists them like any event in it.
 */
async function movedInExceptions(
  res: CoreResources,
  q: InstanceFilter,
  bounds: { from: number; to: number },
  loaded: ReadonlySet<string>,
): Promise<EventRow[]> {
  let query = commonFilters(res, q)
    .where('recurring_event_id', 'is not', null)
    .where('start_at', '<', bounds.to)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('events as s')
          .select(sql<number>`1`.as('one'))
          .whereRef('s.calendar_id', '=', 'events.calendar_id')
          .whereRef('s.uid', '=', 'events.recurring_event_id')
          .where('s.deleted', '=', 0),
      ),
    );
  if (Number.isFinite(bounds.from)) query = query.where('end_at', '>=', bounds.from);
  if (q.seriesUid !== undefined) query = query.where('recurring_event_id', '=', q.seriesUid);
  if (!q.includeDeleted) query = query.where('deleted', '=', 0);
  const rows = await query.selectAll().execute();
  return rows.filter((e) => !loaded.has(seriesKey(e.calendar_id, e.recurring_event_id ?? '')));
}

/** Exceptions that changed although their series did not. */
async function changedExceptions(res: CoreResources, q: InstanceFilter): Promise<EventRow[]> {
  let query = changedOnly(commonFilters(res, q), q).where('recurring_event_id', 'is not', null);
  if (q.seriesUid !== undefined) query = query.where('recurring_event_id', '=', q.seriesUid);
  return await query.selectAll().execute();
}

function compareInstances(a: EventRow, b: EventRow): number {
  return Number(a.start_at) - Number(b.start_at) || (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0);
}

type Placed = Pick<
  EventRow,
  'start_at' | 'end_at' | 'deleted' | 'recurring_event_id' | 'original_start_at'
>;

/** Whether an instance belongs to the read (its window and filters), whatever the page. */
function inRead(row: Placed, q: InstanceFilter, bounds: { from: number; to: number }): boolean {
  const startAt = Number(row.start_at);
  const endAt = Number(row.end_at);
  if (row.deleted === 1 && !q.includeDeleted) return false;
  // The horizon bounds what series make; a single event far ahead is still shown.
  const end = row.recurring_event_id === null ? (q.to ?? Infinity) : bounds.to;
  if (startAt >= end || !(endAt > bounds.from || (endAt === startAt && startAt >= bounds.from))) {
    return false;
  }
  return q.originalStartAt === undefined || Number(row.original_start_at) === q.originalStartAt;
}

/** One page of a calendar's instances, and whether more follow. */
export async function listInstances(
  res: CoreResources,
  q: InstanceQuery,
): Promise<{ rows: EventRow[]; more: boolean }> {
  if (q.calendarIds.length === 0) return { rows: [], more: false };
  const from = q.from ?? -Infinity;
  const to = q.to ?? q.now + OCCURRENCE_HORIZON_MS;
  const changed = q.afterSeq !== undefined || q.modifiedSince !== undefined;
  const found: EventRow[] = q.seriesUid === undefined ? await singleEvents(res, q) : [];
  const series = await seriesRows(res, q, to);
  const exceptions = await exceptionsOf(res, q, series);
  // A page needs the first `limit + 1` instances after the cursor: no series can add more.
  // Occurrences that started before the cursor were on earlier pages; one that starts at it
  // may still be shown (a later id), or be the cursor itself, hence one more.
  const startsFrom = q.after?.at;
  const window = { from: Math.max(from, startsFrom ?? -Infinity), to };
  const atCursor = startsFrom === undefined ? 0 : 1;
  for (const s of series) {
    const own = exceptions.get(seriesKey(s.calendar_id, s.uid)) ?? [];
    const replaced = new Set(own.map((e) => Number(e.original_start_at)));
    const limit = q.limit + 1 + replaced.size + atCursor;
    for (const occurrence of expandRow(s, window, limit, startsFrom)) {
      if (!replaced.has(occurrence.startAt)) found.push(occurrenceRow(s, occurrence));
    }
    found.push(...own);
  }
  const loaded = new Set(series.map((s) => seriesKey(s.calendar_id, s.uid)));
  if (changed) {
    for (const e of await changedExceptions(res, q)) {
      if (!loaded.has(seriesKey(e.calendar_id, e.recurring_event_id ?? ''))) found.push(e);
    }
  } else {
    found.push(...(await movedInExceptions(res, q, { from, to }, loaded)));
  }
  const after = q.after;
  const shown = found.filter(
    (row) =>
      inRead(row, q, { from, to }) &&
      (!after || compareInstances(row, { start_at: after.at, uid: after.uid } as EventRow) > 0),
  );
  shown.sort(compareInstances);
  const more = shown.length > q.limit;
  return { rows: more ? shown.slice(0, q.limit) : shown, more };
}

/** How many of a series' occurrences the read lists: those in it that no exception replaces. */
function occurrencesListed(
  series: EventRow,
  replaced: ReadonlySet<number>,
  q: InstanceFilter,
  bounds: { from: number; to: number },
): number {
  // Every occurrence lasts as long as the series' first: one that cannot reach the window
  // is not looked up (a series running for years may have exceptions all along).
  const duration = Number(series.end_at) - Number(series.start_at);
  const listedAt = (at: number) => {
    if (at >= bounds.to || at + duration < bounds.from) return false;
    const o = occurrenceAt(series, at);
    if (o === undefined) return false;
    const { deleted, uid } = series;
    const placed = { start_at: o.startAt, end_at: o.endAt, original_start_at: o.startAt };
    return inRead({ ...placed, deleted, recurring_event_id: uid }, q, bounds);
  };
  if (q.originalStartAt !== undefined) {
    return !replaced.has(q.originalStartAt) && listedAt(q.originalStartAt) ? 1 : 0;
  }
  // Each exception is looked up where it stands instead of walking the window again.
  let count = occurrenceCount(series, bounds);
  for (const at of replaced) if (listedAt(at)) count--;
  return count;
}

/**
 * How many instances a read lists in all, for a page count: the rows listInstances would
 * list, none of them made. Single events are counted by the store, occurrences by their
 * series.
 */
export async function countInstances(res: CoreResources, q: InstanceFilter): Promise<number> {
  if (q.calendarIds.length === 0) return 0;
  const bounds = { from: q.from ?? -Infinity, to: q.to ?? q.now + OCCURRENCE_HORIZON_MS };
  let count = 0;
  // A single event replaces no occurrence: an `originalStartAt` read lists none.
  if (q.seriesUid === undefined && q.originalStartAt === undefined) {
    const row = await singleEventsQuery(res, q)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    count += Number(row.n);
  }
  const series = await seriesRows(res, q, bounds.to);
  const exceptions = await exceptionsOf(res, q, series);
  const listed = (row: Placed) => inRead(row, q, bounds);
  for (const s of series) {
    const own = exceptions.get(seriesKey(s.calendar_id, s.uid)) ?? [];
    const replaced = new Set(own.map((e) => Number(e.original_start_at)));
    count += occurrencesListed(s, replaced, q, bounds) + own.filter(listed).length;
  }
  const loaded = new Set(series.map((s) => seriesKey(s.calendar_id, s.uid)));
  if (q.afterSeq !== undefined || q.modifiedSince !== undefined) {
    for (const e of await changedExceptions(res, q)) {
      if (!loaded.has(seriesKey(e.calendar_id, e.recurring_event_id ?? '')) && listed(e)) count++;
    }
  } else {
    count += (await movedInExceptions(res, q, bounds, loaded)).filter(listed).length;
  }
  return count;
}
