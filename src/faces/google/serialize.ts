import type { AclRuleRow } from '../../core/acl.ts';
import type { CalendarRow } from '../../core/calendars.ts';
import type { ChannelView } from '../../core/channels.ts';
import type { EventRow } from '../../core/events.ts';
import type { SettingRow } from '../../core/settings.ts';
import type { EventTime } from '../../domain/event-time.ts';
import { formatUtcMillis } from '../../domain/time.ts';
import { googleInterestOf } from './interest.ts';
import { etag } from './list-params.ts';
import { keptEventFields, keptFieldSchemas } from './schemas.ts';
import { readEventColumns } from '../../core/event-columns.ts';
import type { RowReport } from '../../http/row-report.ts';
import { unreadableRow } from '../../http/row-report.ts';

const conferenceProperties = { allowedConferenceSolutionTypes: [] as string[] };

/** What a calendar and its calendar-list entry both say about it. */
function calendarFields(cal: CalendarRow) {
  return {
    etag: etag(cal.change_seq),
    id: cal.id,
    summary: cal.name,
    ...(cal.description ? { description: cal.description } : {}),
    ...(cal.location ? { location: cal.location } : {}),
    timeZone: cal.time_zone,
  };
}

export function calendarJson(cal: CalendarRow) {
  return { kind: 'calendar#calendar', ...calendarFields(cal), conferenceProperties };
}

export function calendarListEntryJson(cal: CalendarRow) {
  if (cal.deleted === 1) {
    return {
      kind: 'calendar#calendarListEntry',
      etag: etag(cal.change_seq),
      id: cal.id,
      deleted: true,
    };
  }
  const color = cal.color?.startsWith('#') ? cal.color : undefined;
  return {
    kind: 'calendar#calendarListEntry',
    ...calendarFields(cal),
    ...(color ? { backgroundColor: color, foregroundColor: '#000000' } : {}),
    selected: true,
    accessRole: cal.readonly === 1 ? 'reader' : 'owner',
    defaultReminders: [],
    ...(cal.is_primary === 1 ? { primary: true } : {}),
    conferenceProperties,
  };
}

function timeJson(time: EventTime) {
  if ('date' in time) return { date: time.date };
  return { dateTime: time.dateTime, ...(time.timeZone ? { timeZone: time.timeZone } : {}) };
}

/**
 * The fields kept as given that still have Google's shape. One stored before calpush checked
 * them (or damaged since) is left out, named in `unreadable`, rather than sent to a client
 * that could not read it.
 */
function keptFields(extra: Readonly<Record<string, unknown>> | null, unreadable: string[]) {
  const kept: Record<string, unknown> = {};
  if (!extra) return kept;
  for (const name of keptEventFields) {
    const value = extra[name];
    if (value === undefined) continue;
    const checked = keptFieldSchemas[name].safeParse(value);
    if (checked.success) kept[name] = checked.data;
    else unreadable.push(`extra_json.${name}`);
  }
  return kept;
}

export function eventJson(event: EventRow, ownerEmail: string, report?: RowReport) {
  const columns = readEventColumns(event);
  const unreadable: string[] = [...columns.unreadable];
  const kept = keptFields(columns.extra, unreadable);
  if (unreadable.length > 0) report?.repaired(unreadableRow(event), unreadable);
  // An occurrence, changed or not, names its series and the start it stands for.
  const instance =
    event.recurring_event_id !== null && columns.originalStart !== null
      ? {
          recurringEventId: event.recurring_event_id,
          originalStartTime: timeJson(columns.originalStart),
        }
      : null;
  if (instance && event.deleted === 1) {
    // A cancelled occurrence is only its identity, as Google lists it.
    return {
      kind: 'calendar#event',
      etag: etag(event.change_seq),
      id: event.uid,
      status: 'cancelled',
      ...instance,
    };
  }
  return {
    kind: 'calendar#event',
    etag: etag(event.change_seq),
    id: event.uid,
    status: event.deleted === 1 ? 'cancelled' : event.status,
    created: formatUtcMillis(Number(event.created_at)),
    updated: formatUtcMillis(Number(event.updated_at)),
    ...(event.summary !== null ? { summary: event.summary } : {}),
    ...(event.description ? { description: event.description } : {}),
    ...(event.location ? { location: event.location } : {}),
    creator: { email: ownerEmail, self: true },
    organizer: { email: ownerEmail, self: true },
    start: timeJson(columns.start),
    end: timeJson(columns.end),
    ...(columns.recurrence ? { recurrence: columns.recurrence } : {}),
    ...instance,
    iCalUID: event.ical_uid,
    sequence: event.sequence,
    reminders: { useDefault: true },
    eventType: 'default',
    ...kept,
  };
}

/** A list's events: a row that cannot be shown at all is logged and left out, not the list. */
export function eventItems(rows: readonly EventRow[], ownerEmail: string, report: RowReport) {
  const items: ReturnType<typeof eventJson>[] = [];
  for (const row of rows) {
    try {
      items.push(eventJson(row, ownerEmail, report));
    } catch (err) {
      report.skipped(unreadableRow(row), err);
    }
  }
  return items;
}

export function aclRuleJson(rule: AclRuleRow) {
  return {
    kind: 'calendar#aclRule',
    etag: etag(rule.change_seq),
    id: rule.id,
    scope: {
      type: rule.scope_type,
      ...(rule.scope_value !== null ? { value: rule.scope_value } : {}),
    },
    role: rule.deleted === 1 ? 'none' : rule.role,
  };
}

export function settingJson(setting: SettingRow) {
  return {
    kind: 'calendar#setting',
    etag: etag(setting.change_seq),
    id: setting.id,
    value: setting.value,
  };
}

/** The watch response: `expiration` is a string of milliseconds, as Google sends int64s. */
export function channelJson(channel: ChannelView) {
  const interest = googleInterestOf(channel.interest);
  return {
    kind: 'api#channel',
    id: channel.publicId,
    resourceId: interest.resourceId,
    resourceUri: interest.resourceUri,
    ...(channel.token !== null ? { token: channel.token } : {}),
    ...(channel.expiresAt !== null ? { expiration: String(channel.expiresAt) } : {}),
  };
}
