import ICAL from 'ical.js';
import { SourceError } from '../../domain/source.ts';

const byteOrderMark = /^\uFEFF/;
const calendarStart = /^\s*BEGIN:VCALENDAR\s*$/im;

/** Does the text open with BEGIN:VCALENDAR (after a byte-order mark and blank lines)? */
export function looksLikeICalendar(text: string): boolean {
  const head = text.replace(byteOrderMark, '').trimStart().slice(0, 40);
  const firstLine = head.split(/\r?\n/, 1)[0] ?? '';
  return calendarStart.test(firstLine);
}

/** A short quotation of untrusted text for an error message. */
export function quote(text: string, max = 60): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/**
 * Parses iCalendar text into its VCALENDAR components (a stream may hold several). Text that
 * is not iCalendar, or that ical.js cannot read, is a `malformed` SourceError whose message
 * quotes what is wrong.
 */
export function readCalendars(text: string): ICAL.Component[] {
  const body = text.replace(byteOrderMark, '');
  if (!looksLikeICalendar(body)) {
    throw new SourceError('malformed', `not iCalendar: the text starts with ${quote(body)}`);
  }
  let parsed: unknown;
  try {
    parsed = ICAL.parse(body);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new SourceError('malformed', `unreadable iCalendar: ${why}`);
  }
  // One root parses to a jCal array (its name first), several to an array of them.
  const roots = (Array.isArray(parsed) && typeof parsed[0] === 'string' ? [parsed] : parsed) as
    unknown[][] | undefined;
  const calendars = (roots ?? [])
    .map((jcal) => new ICAL.Component(jcal))
    .filter((component) => component.name === 'vcalendar');
  if (calendars.length === 0) throw new SourceError('malformed', 'no VCALENDAR in the text');
  return calendars;
}
