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

/** An RRULE or EXRULE content line, once unfolded: its name and parameters, and its value. */
const ruleLine = /^((?:RRULE|EXRULE)(?:;[^:\r\n]*)?):([^\r\n]*)$/gim;

/**
 * The text with each recurrence rule ical.js cannot read (FREQ=SOMETIMES, BYDAY=XX) typed as
 * text instead. ical.js reads rules while it parses, and one it cannot read throws for the
 * whole feed; as text it is kept, and the core, which cannot expand it either, shows its
 * series as the first occurrence rather than lose the feed's other events.
 */
function unreadableRulesAsText(text: string): string {
  // RFC 5545 §3.1: a line is folded by a line break and one space or tab.
  return text.replace(/\r?\n[ \t]/g, '').replace(ruleLine, (line, head: string, value: string) => {
    try {
      ICAL.Property.fromString(line);
      return line;
    } catch {
      return `${head};VALUE=TEXT:${value}`;
    }
  });
}

/**
 * Parses iCalendar text into its VCALENDAR components (a stream may hold several). Text that
 * is not iCalendar, or that ical.js cannot read, is a `malformed` SourceError whose message
 * quotes what is wrong. A recurrence rule ical.js cannot read is kept as text.
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
    try {
      parsed = ICAL.parse(unreadableRulesAsText(body));
    } catch {
      throw new SourceError('malformed', `unreadable iCalendar: ${why}`);
    }
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
