import type { AclRuleRow } from '../../core/acl.ts';
import type { CalendarRow } from '../../core/calendars.ts';
import type { ChannelView } from '../../core/channels.ts';
import type { EventRow } from '../../core/events.ts';
import type { SettingRow } from '../../core/settings.ts';
import type { EventTime } from '../../domain/event-time.ts';
import { formatUtcMillis } from '../../domain/time.ts';
import { googleInterestOf } from './interest.ts';
import { etag } from './list-params.ts';
import { keptEventFields } from './schemas.ts';

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

export function eventJson(event: EventRow, ownerEmail: string) {
  const extra = event.extra_json ? (JSON.parse(event.extra_json) as Record<string, unknown>) : {};
  const kept: Record<string, unknown> = {};
  for (const name of keptEventFields) if (extra[name] !== undefined) kept[name] = extra[name];
  const recurrence = event.recurrence_json ? (JSON.parse(event.recurrence_json) as string[]) : null;
  // An occurrence, changed or not, names its series and the start it stands for.
  const instance =
    event.recurring_event_id !== null && event.original_start_json !== null
      ? {
          recurringEventId: event.recurring_event_id,
          originalStartTime: timeJson(JSON.parse(event.original_start_json) as EventTime),
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
    start: timeJson(JSON.parse(event.start_json) as EventTime),
    end: timeJson(JSON.parse(event.end_json) as EventTime),
    ...(recurrence ? { recurrence } : {}),
    ...instance,
    iCalUID: event.ical_uid,
    sequence: event.sequence,
    reminders: { useDefault: true },
    eventType: 'default',
    ...kept,
  };
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
