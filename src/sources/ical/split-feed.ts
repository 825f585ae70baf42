import { createHash } from 'node:crypto';
import ICAL from 'ical.js';
import type { SourceItem } from '../../domain/source.ts';
import { SourceError } from '../../domain/source.ts';
import { calendarZoneOf, itemOf, textOf } from './parse-calendar.ts';
import { quote, readCalendars } from './read-icalendar.ts';

/**
 * A whole ICS feed cut into objects, one per UID: its VEVENTs (series, overrides) and the
 * VTIMEZONEs they name, written canonically so that an object's version (a sha256 of its text)
 * changes exactly when its content does:
 * - DTSTAMP is left out (many servers set it to the download time);
 * - a VEVENT's properties are sorted by name (same-name ones keep their order), its VEVENTs by
 *   RECURRENCE-ID, its VTIMEZONEs by TZID, so the feed's order does not matter;
 * - nothing else of the feed is in it (PRODID, X-WR-CALNAME, other objects), except the
 *   feed's X-WR-TIMEZONE: it places the object's floating times (see parse-calendar.ts).
 * Components other than VEVENT and VTIMEZONE (VTODO, VJOURNAL, VFREEBUSY) are skipped.
 */

type JCalProperty = [string, Record<string, unknown>, string, ...unknown[]];
type JCalComponent = [string, JCalProperty[], JCalComponent[]];

export interface FeedObject {
  readonly uid: string;
  /** The canonical iCalendar text of the object. */
  readonly text: string;
  /** sha256 (hex) of `text`. */
  readonly version: string;
  /** The object as a SourceItem (key = UID); throws SourceError `malformed`. */
  item(): SourceItem;
}

export interface Feed {
  /** X-WR-CALNAME, else NAME (RFC 7986); null when neither. */
  readonly name: string | null;
  /** X-WR-TIMEZONE when it is (or maps to) an IANA zone. */
  readonly timeZone: string | null;
  /** REFRESH-INTERVAL (RFC 7986), else X-PUBLISHED-TTL, in ms; null when absent or unusable. */
  readonly refreshIntervalMs: number | null;
  readonly objects: readonly FeedObject[];
}

const prodid = '-//calpush//feed object//EN';

function valueOf(component: JCalComponent, name: string): unknown {
  return component[1].find((prop) => prop[0] === name)?.[3];
}

function canonicalEvent(vevent: JCalComponent): JCalComponent {
  const props = vevent[1]
    .filter((prop) => prop[0] !== 'dtstamp')
    .toSorted((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return [vevent[0], props, vevent[2]];
}

function collectTzids(component: JCalComponent, into: Set<string>): void {
  for (const prop of component[1]) {
    const tzid = prop[1].tzid;
    if (typeof tzid === 'string') into.add(tzid);
  }
  for (const sub of component[2]) collectTzids(sub, into);
}

function byKey<T>(entries: [string, T][]): T[] {
  return entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, value]) => value);
}

function objectOf(
  uid: string,
  vevents: readonly JCalComponent[],
  zones: ReadonlyMap<string, JCalComponent>,
  floatingZone: string | null,
): FeedObject {
  const events = byKey(
    vevents.map(canonicalEvent).map((event): [string, JCalComponent] => {
      const rid = event[1].find((prop) => prop[0] === 'recurrence-id');
      return [`${JSON.stringify(rid?.slice(1) ?? '')}\n${JSON.stringify(event)}`, event];
    }),
  );
  const tzids = new Set<string>();
  for (const event of events) collectTzids(event, tzids);
  const used = byKey(
    [...tzids].flatMap((tzid): [string, JCalComponent][] => {
      const zone = zones.get(tzid);
      return zone ? [[tzid, zone]] : [];
    }),
  );
  const props: JCalProperty[] = [
    ['prodid', {}, 'text', prodid],
    ['version', {}, 'text', '2.0'],
  ];
  if (floatingZone) props.push(['x-wr-timezone', {}, 'unknown', floatingZone]);
  const jcal: JCalComponent = ['vcalendar', props, [...used, ...events]];
  const text = ICAL.stringify(jcal);
  const version = createHash('sha256').update(text).digest('hex');
  return { uid, text, version, item: () => itemOf([new ICAL.Component(jcal)], uid, version) };
}

function durationMs(value: string | null): number | null {
  if (!value) return null;
  try {
    const ms = ICAL.Duration.fromString(value.trim()).toSeconds() * 1000;
    return ms > 0 ? ms : null;
  } catch {
    return null;
  }
}

/** Cuts a feed into per-UID objects; throws SourceError `malformed` when it cannot. */
export function splitFeed(ics: string): Feed {
  const calendars = readCalendars(ics);
  const zones = new Map<string, JCalComponent>();
  const groups = new Map<string, JCalComponent[]>();
  for (const calendar of calendars) {
    for (const component of (calendar.jCal as JCalComponent)[2]) {
      if (component[0] === 'vtimezone') {
        const tzid = valueOf(component, 'tzid');
        if (typeof tzid === 'string' && !zones.has(tzid)) zones.set(tzid, component);
      } else if (component[0] === 'vevent') {
        const uid = valueOf(component, 'uid');
        if (typeof uid !== 'string' || uid === '') {
          const summary = valueOf(component, 'summary');
          const which = typeof summary === 'string' ? `SUMMARY ${quote(summary)}` : 'no SUMMARY';
          throw new SourceError('malformed', `a VEVENT has no UID (${which})`);
        }
        const group = groups.get(uid);
        if (group) group.push(component);
        else groups.set(uid, [component]);
      }
    }
  }
  const first = <T>(read: (calendar: ICAL.Component) => T | null): T | null =>
    calendars.reduce<T | null>((found, calendar) => found ?? read(calendar), null);
  const timeZone = first(calendarZoneOf);
  return {
    name: first((c) => textOf(c, 'x-wr-calname')?.trim() || textOf(c, 'name')?.trim() || null),
    timeZone,
    refreshIntervalMs: first(
      (c) => durationMs(textOf(c, 'refresh-interval')) ?? durationMs(textOf(c, 'x-published-ttl')),
    ),
    objects: [...groups].map(([uid, vevents]) => objectOf(uid, vevents, zones, timeZone)),
  };
}

/** DTSTAMP lines, folded continuations included. */
const dtstampLines = /^DTSTAMP[;:][^\r\n]*(?:\r?\n[ \t][^\r\n]*)*(?:\r?\n|$)/gim;

/**
 * A hash of a whole feed body that ignores its DTSTAMP lines: the cheap "anything changed?"
 * test before splitting, which a feed that stamps every download would otherwise always fail.
 */
export function feedHash(body: string): string {
  return createHash('sha256').update(body.replace(dtstampLines, '')).digest('hex');
}
