import type { EventTime } from '../../domain/event-time.ts';
import { checkEventTime } from '../../domain/event-time.ts';
import type { RemoteCalendar, SourceEvent, SourceItem } from '../../domain/source.ts';

/** The fields of a Google Calendar event calpush mirrors; everything else is ignored. */
export interface GoogleEvent {
  readonly id: string;
  readonly status: string | null;
  readonly version: string;
  readonly json: Readonly<Record<string, unknown>>;
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function record(value: unknown): Readonly<Record<string, unknown>> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/** An entry of an events list, if it names an event; its etag (else `updated`) is its version. */
export function readGoogleEvent(value: unknown): GoogleEvent | null {
  const json = record(value);
  const id = text(json?.['id']);
  if (!json || !id) return null;
  const version = text(json['etag']) ?? text(json['updated']) ?? '';
  return { id, status: text(json['status']), version, json };
}

/** A Google start or end: `{date}` all day, or `{dateTime, timeZone?}`; null if unusable. */
function eventTime(value: unknown): EventTime | null {
  const json = record(value);
  if (!json) return null;
  const date = text(json['date']);
  const dateTime = text(json['dateTime']);
  const timeZone = text(json['timeZone']);
  const time: EventTime | null = date
    ? { date }
    : dateTime
      ? { dateTime, ...(timeZone ? { timeZone } : {}) }
      : null;
  if (time === null || 'problem' in checkEventTime(time)) return null;
  return time;
}

/** Google's statuses are iCalendar's; anything else reads as confirmed. */
function statusOf(status: string | null): SourceEvent['status'] {
  return status === 'tentative' || status === 'cancelled' ? status : 'confirmed';
}

/** RRULE, EXRULE, RDATE and EXDATE lines, as Google keeps a series' recurrence. */
function recurrenceOf(value: unknown): string[] | null {
  if (!Array.isArray(value)) return null;
  const lines = value.filter((line): line is string => typeof line === 'string' && line !== '');
  return lines.length > 0 ? lines : null;
}

/**
 * A Google event as a source event. An override (`recurringEventId`) replaces the occurrence
 * at its `originalStartTime`; a cancelled one carries no times of its own, and stands as a
 * cancelled occurrence at its original start. Null for an entry calpush cannot read (no
 * start, an unknown time zone): it is kept as an item with no event, so it is not read again
 * until it changes.
 */
export function sourceEventOf(event: GoogleEvent): SourceEvent | null {
  const { json } = event;
  const override = text(json['recurringEventId']) !== null;
  // An override shares its series' UID; without it, it would stand as an event of its own.
  const icalUid = text(json['iCalUID']) ?? (override ? null : event.id);
  const recurrenceId = override ? eventTime(json['originalStartTime']) : null;
  if (icalUid === null || (override && recurrenceId === null)) return null;
  const status = statusOf(event.status);
  const start = eventTime(json['start']) ?? (status === 'cancelled' ? recurrenceId : null);
  const end = eventTime(json['end']) ?? (status === 'cancelled' ? start : null);
  if (start === null || end === null) return null;
  return {
    icalUid,
    recurrenceId,
    summary: text(json['summary']),
    description: text(json['description']),
    location: text(json['location']),
    start,
    end,
    status,
    recurrence: recurrenceId === null ? recurrenceOf(json['recurrence']) : null,
  };
}

/** One Google event is one item: a series, an override, or a single event. */
export function itemOf(event: GoogleEvent): SourceItem {
  const mirrored = sourceEventOf(event);
  return { key: event.id, version: event.version, events: mirrored ? [mirrored] : [] };
}

/**
 * Whether an entry says an event is gone: cancelled, and not an override (a cancelled
 * override is a cancelled occurrence of a series that goes on).
 */
export function isRemoval(event: GoogleEvent): boolean {
  return event.status === 'cancelled' && text(event.json['recurringEventId']) === null;
}

/** A calendarList entry as a remote calendar; null for a deleted or unreadable entry. */
export function remoteCalendarOf(value: unknown): RemoteCalendar | null {
  const json = record(value);
  const id = text(json?.['id']);
  if (!json || !id || json['deleted'] === true) return null;
  return {
    remoteId: id,
    name: text(json['summaryOverride']) ?? text(json['summary']) ?? id,
    color: text(json['backgroundColor']),
    timeZone: text(json['timeZone']),
  };
}
