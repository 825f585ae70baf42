import type { CalendarRow } from '../../core/calendars.ts';
import type { ChannelView } from '../../core/channels.ts';
import type { SourceView } from '../../core/sources.ts';
import type { EventRow } from '../../core/events.ts';
import type { EventTime } from '../../domain/event-time.ts';
import { instantOf } from '../../domain/event-time.ts';
import { formatUtc } from '../../domain/time.ts';
import { cronofyInterestOf } from './interest.ts';
import { readEventColumns } from '../../core/event-columns.ts';
import type { RowReport } from '../../http/row-report.ts';
import { unreadableRow } from '../../http/row-report.ts';

/** `filters` holds only what differs from the defaults, as Cronofy echoes it. */
export function channelFilters(stored: unknown): Record<string, unknown> {
  const interest = cronofyInterestOf(stored);
  const filters: Record<string, unknown> = {};
  if (interest.calendarIds) filters.calendar_ids = interest.calendarIds;
  if (interest.onlyManaged) filters.only_managed = true;
  return filters;
}

export function channelJson(channel: ChannelView) {
  return {
    channel_id: channel.publicId,
    callback_url: channel.callbackUrl,
    filters: channelFilters(channel.interest),
  };
}

export function calendarJson(
  calendar: CalendarRow,
  profile: { id: string; name: string; providerName?: string },
) {
  return {
    provider_name: profile.providerName ?? 'calpush',
    profile_id: profile.id,
    profile_name: profile.name,
    calendar_id: calendar.id,
    calendar_name: calendar.name,
    calendar_readonly: calendar.readonly === 1,
    calendar_deleted: calendar.deleted === 1,
    calendar_primary: calendar.is_primary === 1,
    calendar_integrated_conferencing_available: false,
    calendar_attendee_permissions: { can_add_attendees: false },
    permission_level: 'unrestricted',
    ...(calendar.color ? { calendar_color: calendar.color } : {}),
  };
}

function cronofyTime(time: EventTime): string {
  return 'date' in time ? time.date : formatUtc(instantOf(time));
}

/**
 * The series an event belongs to: its own uid for a series, the series' for an occurrence or
 * an exception; none for a single event (Cronofy then leaves `series_identifier` out).
 */
function seriesIdentifier(event: EventRow): string | null {
  if (event.recurring_event_id !== null) return event.recurring_event_id;
  return event.recurrence_json !== null ? event.uid : null;
}

/**
 * One event as Cronofy shows it. An occurrence (made from its series or an exception) is an
 * event of its own: its uid, its start and end, `deleted` when it was cancelled.
 */
export function eventJson(event: EventRow, organizerEmail: string, report?: RowReport) {
  const { start, end, extra, unreadable } = readEventColumns(event);
  if (unreadable.length > 0) report?.repaired(unreadableRow(event), unreadable);
  const managed = event.managed === 1;
  const series = seriesIdentifier(event);
  return {
    calendar_id: event.calendar_id,
    event_uid: event.uid,
    summary: event.summary ?? '',
    description: event.description ?? '',
    start: cronofyTime(start),
    end: cronofyTime(end),
    deleted: event.deleted === 1,
    created: formatUtc(Number(event.created_at)),
    updated: formatUtc(Number(event.updated_at)),
    ...(event.location ? { location: { description: event.location } } : {}),
    participation_status: 'none',
    attendees: [],
    organizer: { email: organizerEmail },
    transparency: extra?.transparency === 'transparent' ? 'transparent' : 'opaque',
    status: event.status === 'cancelled' ? 'cancelled' : event.status,
    categories: [],
    recurring: series !== null,
    ...(series !== null ? { series_identifier: series } : {}),
    event_private: false,
    options: { delete: managed, update: managed, change_participation_status: false },
    ...(managed && event.external_id ? { event_id: event.external_id } : {}),
  };
}

/** A page's events: a row that cannot be shown at all is logged and left out, not the page. */
export function eventItems(rows: readonly EventRow[], organizerEmail: string, report: RowReport) {
  const items: ReturnType<typeof eventJson>[] = [];
  for (const row of rows) {
    try {
      items.push(eventJson(row, organizerEmail, report));
    } catch (err) {
      report.skipped(unreadableRow(row), err);
    }
  }
  return items;
}

function timeOrNull(ms: number | null): string | null {
  return ms === null ? null : formatUtc(ms);
}

/** A source as the API shows it: never its credentials. */
export function sourceJson(source: SourceView) {
  return {
    source_id: source.id,
    profile_id: source.profileId,
    provider: source.provider,
    name: source.name,
    url: source.url,
    state: source.state,
    poll_interval_seconds: source.pollIntervalMs / 1000,
    last_polled_at: timeOrNull(source.lastPolledAt),
    last_changed_at: timeOrNull(source.lastChangedAt),
    last_error: source.lastError,
    calendar_ids: source.calendarIds,
  };
}
