import type { EventTime } from '../../src/domain/event-time.ts';
import type { SourceEvent, SourceItem } from '../../src/domain/source.ts';
import { SourceError } from '../../src/domain/source.ts';

/**
 * A stand-in for the shared iCalendar parser (src/sources/ical/), enough for the CalDAV
 * tests: each VEVENT's UID, RECURRENCE-ID, SUMMARY, DTSTART, DTEND, STATUS and recurrence
 * lines, read with regexes. A resource without VEVENT (a VTODO) gives no events.
 */
export function standInParseItem(ics: string, key: string, version: string): SourceItem {
  const text = ics.replace(/\r?\n[ \t]/g, '');
  if (!/^BEGIN:VCALENDAR\r?$/m.test(text) || !/^END:VCALENDAR\r?$/m.test(text)) {
    throw new SourceError('malformed', `${key}: not a VCALENDAR`);
  }
  const blocks = [...text.matchAll(/^BEGIN:VEVENT\r?\n([\s\S]*?)^END:VEVENT\r?$/gm)];
  return { key, version, events: blocks.map((b) => eventOf(b[1] ?? '', key)) };
}

function eventOf(block: string, key: string): SourceEvent {
  const lines = block.split(/\r?\n/).filter(Boolean);
  const prop = (name: string) =>
    lines.find((l) => l.startsWith(`${name}:`) || l.startsWith(`${name};`));
  const value = (name: string) => {
    const line = prop(name);
    return line === undefined ? null : line.slice(line.indexOf(':') + 1);
  };
  const uid = value('UID');
  const start = timeOf(prop('DTSTART'));
  if (uid === null || start === null)
    throw new SourceError('malformed', `${key}: no UID or DTSTART`);
  const recurrence = lines.filter((l) => /^(RRULE|RDATE|EXDATE)[:;]/.test(l));
  const status = value('STATUS')?.toLowerCase();
  return {
    icalUid: uid,
    recurrenceId: timeOf(prop('RECURRENCE-ID')),
    summary: value('SUMMARY'),
    description: value('DESCRIPTION'),
    location: value('LOCATION'),
    start,
    end: timeOf(prop('DTEND')) ?? start,
    status: status === 'tentative' || status === 'cancelled' ? status : 'confirmed',
    recurrence: recurrence.length > 0 ? recurrence : null,
  };
}

function timeOf(line: string | undefined): EventTime | null {
  if (line === undefined) return null;
  const [params = '', value = ''] = [
    line.slice(0, line.indexOf(':')),
    line.slice(line.indexOf(':') + 1),
  ];
  const date = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (date) return { date: `${date[1]}-${date[2]}-${date[3]}` };
  const time = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)$/.exec(value);
  if (!time) return null;
  const local = `${time[1]}-${time[2]}-${time[3]}T${time[4]}:${time[5]}:${time[6]}`;
  if (time[7] === 'Z') return { dateTime: `${local}Z` };
  const tzid = /;TZID=([^;:]+)/.exec(params)?.[1];
  return tzid === undefined ? { dateTime: local } : { dateTime: local, timeZone: tzid };
}

/** One VEVENT in a VCALENDAR, for writing to a server. */
export function eventIcs(
  uid: string,
  summary: string,
  start = '20261201T090000Z',
  end = '20261201T100000Z',
): string {
  return vcalendar([
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20261101T000000Z',
    `DTSTART:${start}`,
    `DTEND:${end}`,
    `SUMMARY:${summary}`,
    'END:VEVENT',
  ]);
}

export function vcalendar(lines: readonly string[]): string {
  return [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//calpush tests//EN',
    ...lines,
    'END:VCALENDAR',
    '',
  ].join('\r\n');
}
