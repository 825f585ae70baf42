import type { EventRow } from '../../core/events.ts';
import type { EventTime } from '../../domain/event-time.ts';
import { wallClockIn } from '../../domain/time.ts';
import { graphInstant, graphLocal } from './graph-time.ts';
import { patternOf } from './recurrence-pattern.ts';

/** Graph's four kinds of event: an occurrence nobody changed has no row of its own. */
export type GraphEventType = 'singleInstance' | 'occurrence' | 'exception' | 'seriesMaster';

export function eventTypeOf(row: EventRow, stored: boolean): GraphEventType {
  if (row.recurring_event_id !== null) return stored ? 'exception' : 'occurrence';
  return row.recurrence_json !== null ? 'seriesMaster' : 'singleInstance';
}

export interface EventJsonContext {
  readonly ownerName: string;
  readonly ownerEmail: string;
  /** The zone reads are written in (`Prefer: outlook.timezone`), UTC by default. */
  readonly zone: { readonly name: string; readonly iana: string };
}

const pad = (n: number) => String(n).padStart(2, '0');

/** An instant as a wall clock in the reader's zone, Graph's `dateTimeTimeZone`. */
function dateTimeIn(ms: number, zone: EventJsonContext['zone']) {
  const [y, mo, d, h, mi, s] = wallClockIn(ms, zone.iana);
  return {
    dateTime: graphLocal(`${y}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}`),
    timeZone: zone.name,
  };
}

/** An all-day boundary: its date at midnight, whatever the reader's zone. */
function dateOnly(date: string, zone: EventJsonContext['zone']) {
  return { dateTime: graphLocal(`${date}T00:00:00`), timeZone: zone.name };
}

function zoneOf(time: EventTime): string {
  return 'date' in time ? 'UTC' : (time.timeZone ?? 'UTC');
}

const stringOr = (value: unknown, fallback: string) =>
  typeof value === 'string' ? value : fallback;

/** A cancelled occurrence or deleted event as a delta lists it. */
export function removedJson(id: string) {
  return { '@odata.type': '#microsoft.graph.event', id, '@removed': { reason: 'deleted' } };
}

/** An event in Graph's shape. Fields calpush does not model read as Graph's defaults. */
export function graphEventJson(row: EventRow, type: GraphEventType, ctx: EventJsonContext) {
  const extra = row.extra_json ? (JSON.parse(row.extra_json) as Record<string, unknown>) : {};
  const start = JSON.parse(row.start_json) as EventTime;
  const end = JSON.parse(row.end_json) as EventTime;
  const allDay = 'date' in start;
  const recurrence =
    type === 'seriesMaster' && row.recurrence_json
      ? patternOf(
          JSON.parse(row.recurrence_json) as string[],
          // The range starts on the series' first day as its own clock reads it.
          'date' in start ? start.date : start.dateTime.slice(0, 10),
          zoneOf(start),
        )
      : null;
  const description = row.description ?? '';
  return {
    '@odata.etag': `W/"${row.change_seq}"`,
    id: row.uid,
    createdDateTime: graphInstant(Number(row.created_at)),
    lastModifiedDateTime: graphInstant(Number(row.updated_at)),
    changeKey: String(row.change_seq),
    categories: Array.isArray(extra.categories) ? extra.categories : [],
    originalStartTimeZone: zoneOf(start),
    originalEndTimeZone: zoneOf(end),
    iCalUId: row.ical_uid,
    reminderMinutesBeforeStart: 15,
    isReminderOn: true,
    hasAttachments: false,
    subject: row.summary ?? '',
    bodyPreview: description.slice(0, 255),
    importance: stringOr(extra.importance, 'normal'),
    sensitivity: stringOr(extra.sensitivity, 'normal'),
    isAllDay: allDay,
    isCancelled: row.deleted === 1 || row.status === 'cancelled',
    isOrganizer: true,
    responseRequested: true,
    seriesMasterId: row.recurring_event_id,
    showAs: stringOr(extra.showAs, row.status === 'tentative' ? 'tentative' : 'busy'),
    type,
    webLink: null,
    body: { contentType: stringOr(extra.bodyContentType, 'text'), content: description },
    start: allDay ? dateOnly(start.date, ctx.zone) : dateTimeIn(Number(row.start_at), ctx.zone),
    end: 'date' in end ? dateOnly(end.date, ctx.zone) : dateTimeIn(Number(row.end_at), ctx.zone),
    location: {
      displayName: row.location ?? '',
      locationType: 'default',
      uniqueIdType: 'unknown',
    },
    locations: row.location ? [{ displayName: row.location, locationType: 'default' }] : [],
    recurrence,
    attendees: Array.isArray(extra.attendees) ? extra.attendees : [],
    organizer: { emailAddress: { name: ctx.ownerName, address: ctx.ownerEmail } },
  };
}
