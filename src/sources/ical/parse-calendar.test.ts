import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkEventTime } from '../../domain/event-time.ts';
import type { SourceEvent, SourceItem } from '../../domain/source.ts';
import { SourceError } from '../../domain/source.ts';
import { isValidTimeZone } from '../../domain/time.ts';
import { parseItem } from './parse-calendar.ts';
import { feedHash, splitFeed } from './split-feed.ts';
import { windowsZones } from './windows-zones.ts';

const cal = (...lines: string[]) =>
  ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', ...lines, 'END:VCALENDAR', ''].join(
    '\r\n',
  );
const vevent = (...lines: string[]) => ['BEGIN:VEVENT', ...lines, 'END:VEVENT'];

/** Central European rules under any name: +01:00 in winter, +02:00 in summer. */
const centralEurope = (tzid: string) => [
  'BEGIN:VTIMEZONE',
  `TZID:${tzid}`,
  'BEGIN:STANDARD',
  'DTSTART:19701025T030000',
  'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
  'TZOFFSETFROM:+0200',
  'TZOFFSETTO:+0100',
  'END:STANDARD',
  'BEGIN:DAYLIGHT',
  'DTSTART:19700329T020000',
  'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
  'TZOFFSETFROM:+0100',
  'TZOFFSETTO:+0200',
  'END:DAYLIGHT',
  'END:VTIMEZONE',
];

/** Every event calpush would accept: checked boundaries of one kind, end not before start. */
function assertUsable(item: SourceItem): void {
  for (const event of item.events) {
    const times = [event.start, event.end, ...(event.recurrenceId ? [event.recurrenceId] : [])];
    for (const time of times) {
      const checked = checkEventTime(time);
      assert.ok('instant' in checked, `${JSON.stringify(time)}: ${JSON.stringify(checked)}`);
    }
    assert.equal('date' in event.start, 'date' in event.end);
    const start = checkEventTime(event.start);
    const end = checkEventTime(event.end);
    assert.ok('instant' in start && 'instant' in end && end.instant >= start.instant);
  }
}

function only(ics: string, options?: { floatingTimeZone?: string }): SourceEvent {
  const item = parseItem(ics, '/cal/one.ics', '"etag-1"', options);
  assertUsable(item);
  assert.equal(item.key, '/cal/one.ics');
  assert.equal(item.version, '"etag-1"');
  assert.equal(item.events.length, 1);
  return item.events[0]!;
}

function malformed(run: () => unknown, pattern: RegExp): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof SourceError, String(err));
    assert.equal(err.kind, 'malformed');
    assert.match(err.message, pattern);
    return true;
  });
}

test('an all-day event reads as dates, with or without VALUE=DATE', () => {
  const event = only(
    cal(
      ...vevent(
        'UID:day',
        'DTSTART;VALUE=DATE:20260707',
        'DTEND;VALUE=DATE:20260709',
        'SUMMARY:Trip',
      ),
    ),
  );
  assert.deepEqual(event, {
    icalUid: 'day',
    recurrenceId: null,
    summary: 'Trip',
    description: null,
    location: null,
    start: { date: '2026-07-07' },
    end: { date: '2026-07-09' },
    status: 'confirmed',
    recurrence: null,
  });
  const bare = only(cal(...vevent('UID:bare', 'DTSTART:20260707', 'DTEND:20260708')));
  assert.deepEqual([bare.start, bare.end], [{ date: '2026-07-07' }, { date: '2026-07-08' }]);
});

test('text fields are unescaped', () => {
  const event = only(
    cal(
      ...vevent(
        'UID:text',
        'DTSTART:20260707T090000Z',
        'SUMMARY:Lunch\\, then a walk',
        'DESCRIPTION:line one\\nline two',
        'LOCATION:Café; corner',
      ),
    ),
  );
  assert.equal(event.summary, 'Lunch, then a walk');
  assert.equal(event.description, 'line one\nline two');
  assert.equal(event.location, 'Café; corner');
});

test('a TZID that is an IANA zone keeps the wall-clock time and the zone', () => {
  const withDefinition = only(
    cal(
      ...centralEurope('Europe/Paris'),
      ...vevent(
        'UID:paris',
        'DTSTART;TZID=Europe/Paris:20260707T090000',
        'DTEND;TZID=Europe/Paris:20260707T100000',
      ),
    ),
  );
  assert.deepEqual(withDefinition.start, {
    dateTime: '2026-07-07T09:00:00',
    timeZone: 'Europe/Paris',
  });
  assert.deepEqual(withDefinition.end, {
    dateTime: '2026-07-07T10:00:00',
    timeZone: 'Europe/Paris',
  });
  // No VTIMEZONE at all (common in the wild), and a zone name in another case.
  const bare = only(cal(...vevent('UID:ny', 'DTSTART;TZID=america/new_york:20261201T090000')));
  assert.deepEqual(bare.start, { dateTime: '2026-12-01T09:00:00', timeZone: 'America/New_York' });
});

test('a made-up TZID converts to UTC through its VTIMEZONE', () => {
  const ics = cal(
    ...centralEurope('Office Time'),
    ...vevent(
      'UID:office',
      'DTSTART;TZID=Office Time:20260707T090000',
      'DTEND;TZID=Office Time:20261207T090000',
    ),
  );
  const event = only(ics);
  assert.deepEqual(event.start, { dateTime: '2026-07-07T07:00:00Z' });
  assert.deepEqual(event.end, { dateTime: '2026-12-07T08:00:00Z' });
});

test('a Windows or prefixed TZID maps to IANA when the VTIMEZONE agrees', () => {
  const windows = only(
    cal(
      ...centralEurope('W. Europe Standard Time'),
      ...vevent('UID:win', 'DTSTART;TZID=W. Europe Standard Time:20260707T090000'),
    ),
  );
  assert.deepEqual(windows.start, { dateTime: '2026-07-07T09:00:00', timeZone: 'Europe/Berlin' });
  const mozilla = only(
    cal(...vevent('UID:moz', 'DTSTART;TZID=/mozilla.org/20050126_1/Europe/Rome:20260707T090000')),
  );
  assert.deepEqual(mozilla.start, { dateTime: '2026-07-07T09:00:00', timeZone: 'Europe/Rome' });
  // The feed's definition says +05:00 all year: the name is wrong, the definition wins.
  const disagreeing = only(
    cal(
      'BEGIN:VTIMEZONE',
      'TZID:W. Europe Standard Time',
      'BEGIN:STANDARD',
      'DTSTART:19700101T000000',
      'TZOFFSETFROM:+0500',
      'TZOFFSETTO:+0500',
      'END:STANDARD',
      'END:VTIMEZONE',
      ...vevent('UID:odd', 'DTSTART;TZID=W. Europe Standard Time:20260707T090000'),
    ),
  );
  assert.deepEqual(disagreeing.start, { dateTime: '2026-07-07T04:00:00Z' });
});

test('every Windows zone in the table is a zone calpush accepts', () => {
  for (const [windows, iana] of windowsZones)
    assert.ok(isValidTimeZone(iana), `${windows} → ${iana}`);
});

test('UTC times keep their Z', () => {
  const event = only(
    cal(...vevent('UID:utc', 'DTSTART:20260707T090000Z', 'DTEND:20260707T093000Z')),
  );
  assert.deepEqual(
    [event.start, event.end],
    [{ dateTime: '2026-07-07T09:00:00Z' }, { dateTime: '2026-07-07T09:30:00Z' }],
  );
});

test('floating times take the given zone, else X-WR-TIMEZONE, else Etc/UTC', () => {
  const lines = vevent('UID:float', 'DTSTART:20260707T090000', 'DTEND:20260707T100000');
  assert.deepEqual(only(cal(...lines)).start, {
    dateTime: '2026-07-07T09:00:00',
    timeZone: 'Etc/UTC',
  });
  const withZone = cal('X-WR-TIMEZONE:Europe/Lisbon', ...lines);
  assert.deepEqual(only(withZone).start, {
    dateTime: '2026-07-07T09:00:00',
    timeZone: 'Europe/Lisbon',
  });
  assert.deepEqual(only(withZone, { floatingTimeZone: 'Asia/Tokyo' }).end, {
    dateTime: '2026-07-07T10:00:00',
    timeZone: 'Asia/Tokyo',
  });
});

test('DURATION gives the end; without DTEND or DURATION a day or no time', () => {
  const timed = only(
    cal(...vevent('UID:d1', 'DTSTART;TZID=Europe/Paris:20260707T230000', 'DURATION:PT1H30M')),
  );
  assert.deepEqual(timed.end, { dateTime: '2026-07-08T00:30:00', timeZone: 'Europe/Paris' });
  const utc = only(cal(...vevent('UID:d2', 'DTSTART:20260707T090000Z', 'DURATION:P1W')));
  assert.deepEqual(utc.end, { dateTime: '2026-07-14T09:00:00Z' });
  const days = only(cal(...vevent('UID:d3', 'DTSTART;VALUE=DATE:20261230', 'DURATION:P3D')));
  assert.deepEqual(days.end, { date: '2027-01-02' });
  const allDay = only(cal(...vevent('UID:d4', 'DTSTART;VALUE=DATE:20260228')));
  assert.deepEqual(allDay.end, { date: '2026-03-01' });
  const instant = only(cal(...vevent('UID:d5', 'DTSTART:20260707T090000Z')));
  assert.deepEqual(instant.end, instant.start);
});

test('an end before the start, or of the other kind, is repaired to the default end', () => {
  const backwards = only(
    cal(...vevent('UID:b1', 'DTSTART:20260707T090000Z', 'DTEND:20260707T080000Z')),
  );
  assert.deepEqual(backwards.end, { dateTime: '2026-07-07T09:00:00Z' });
  const mixed = only(
    cal(...vevent('UID:b2', 'DTSTART;VALUE=DATE:20260707', 'DTEND:20260707T100000Z')),
  );
  assert.deepEqual(mixed.end, { date: '2026-07-08' });
  const negative = only(cal(...vevent('UID:b3', 'DTSTART;VALUE=DATE:20260707', 'DURATION:-P1D')));
  assert.deepEqual(negative.end, { date: '2026-07-08' });
});

test('STATUS maps to confirmed, tentative or cancelled', () => {
  const status = (value: string | null) =>
    only(cal(...vevent('UID:s', 'DTSTART:20260707T090000Z', ...(value ? [`STATUS:${value}`] : []))))
      .status;
  assert.equal(status(null), 'confirmed');
  assert.equal(status('CONFIRMED'), 'confirmed');
  assert.equal(status('TENTATIVE'), 'tentative');
  assert.equal(status('CANCELLED'), 'cancelled');
  assert.equal(status('x-odd'), 'confirmed');
});

test('a series with RRULE, EXDATE, RDATE and an override in one object', () => {
  const ics = cal(
    ...centralEurope('Europe/Paris'),
    ...vevent(
      'UID:weekly',
      'DTSTART;TZID=Europe/Paris:20261102T090000',
      'DTEND;TZID=Europe/Paris:20261102T100000',
      'SUMMARY:Standup',
      'RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20261231T235959Z',
      'EXDATE;TZID=Europe/Paris:20261207T090000',
      'RDATE;TZID=Europe/Paris:20261210T090000',
    ),
    ...vevent(
      'UID:weekly',
      'RECURRENCE-ID;TZID=Europe/Paris:20261116T090000',
      'DTSTART;TZID=Europe/Paris:20261116T110000',
      'DTEND;TZID=Europe/Paris:20261116T120000',
      'SUMMARY:Standup (moved)',
      'SEQUENCE:1',
    ),
  );
  const item = parseItem(ics, '/cal/weekly.ics', '"e2"');
  assertUsable(item);
  assert.equal(item.events.length, 2);
  const [series, override] = item.events;
  assert.deepEqual(series!.recurrence, [
    'RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20261231T235959Z',
    'EXDATE;TZID=Europe/Paris:20261207T090000',
    'RDATE;TZID=Europe/Paris:20261210T090000',
  ]);
  assert.equal(series!.recurrenceId, null);
  assert.equal(override!.icalUid, 'weekly');
  assert.deepEqual(override!.recurrenceId, {
    dateTime: '2026-11-16T09:00:00',
    timeZone: 'Europe/Paris',
  });
  assert.deepEqual(override!.start, { dateTime: '2026-11-16T11:00:00', timeZone: 'Europe/Paris' });
  assert.equal(override!.summary, 'Standup (moved)');
  assert.equal(override!.recurrence, null);
});

test('a rule ical.js cannot read is kept as written, and the rest of the text is read', () => {
  const ics = cal(
    ...vevent('UID:good', 'DTSTART:20261207T090000Z', 'RRULE:FREQ=WEEKLY;COUNT=2'),
    ...vevent('UID:often', 'DTSTART:20261208T090000Z', 'RRULE:FREQ=SOMETIMES'),
    // Folded in the middle of the value.
    ...vevent('UID:days', 'DTSTART:20261209T090000Z', 'RRULE:FREQ=WEEKLY;', ' BYDAY=XX'),
    ...vevent('UID:until', 'DTSTART:20261210T090000Z', 'EXRULE:FREQ=DAILY;UNTIL=tomorrow'),
  );
  const item = parseItem(ics, 'k', 'v');
  assertUsable(item);
  assert.deepEqual(
    item.events.map((e) => [e.icalUid, e.recurrence]),
    [
      ['good', ['RRULE:FREQ=WEEKLY;COUNT=2']],
      ['often', ['RRULE:FREQ=SOMETIMES']],
      ['days', ['RRULE:FREQ=WEEKLY;BYDAY=XX']],
      ['until', ['EXRULE:FREQ=DAILY;UNTIL=tomorrow']],
    ],
  );
  // The same through a feed's canonical objects, which are written out and read again.
  const objects = splitFeed(ics).objects;
  assert.deepEqual(
    objects.map((o) => o.item().events[0]?.recurrence),
    item.events.map((e) => e.recurrence),
  );
});

test('the same UID and RECURRENCE-ID twice: the higher SEQUENCE wins', () => {
  const ics = cal(
    ...vevent('UID:dup', 'DTSTART:20260707T090000Z', 'SUMMARY:new', 'SEQUENCE:2'),
    ...vevent('UID:dup', 'DTSTART:20260707T090000Z', 'SUMMARY:old', 'SEQUENCE:1'),
  );
  assert.equal(only(ics).summary, 'new');
});

test('VTODO and VJOURNAL are skipped', () => {
  const ics = cal(
    'BEGIN:VTODO',
    'UID:todo',
    'DTSTART:20260707T090000Z',
    'SUMMARY:Buy milk',
    'END:VTODO',
    'BEGIN:VJOURNAL',
    'UID:journal',
    'DTSTART;VALUE=DATE:20260707',
    'END:VJOURNAL',
  );
  assert.deepEqual(parseItem(ics, '/cal/todo.ics', '"e"').events, []);
});

test('malformed objects are SourceError malformed, naming what is wrong', () => {
  malformed(() => parseItem('hello world\r\n', 'k', 'v'), /not iCalendar.*hello world/);
  malformed(() => parseItem('<!DOCTYPE html><html></html>', 'k', 'v'), /not iCalendar/);
  malformed(
    () => parseItem('BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n', 'k', 'v'),
    /did not end/,
  );
  malformed(
    () => parseItem(cal('this is not a line'), 'k', 'v'),
    /invalid line.*this is not a line/,
  );
  malformed(
    () => parseItem(cal(...vevent('UID:nostart', 'SUMMARY:x')), 'k', 'v'),
    /"nostart" has no DTSTART/,
  );
  malformed(
    () => parseItem(cal(...vevent('UID:month', 'DTSTART:20261301T090000')), 'k', 'v'),
    /"month": DTSTART is not a valid date-time.*20261301T090000/,
  );
  malformed(
    () => parseItem(cal(...vevent('UID:feb', 'DTSTART;VALUE=DATE:20260230')), 'k', 'v'),
    /"feb": DTSTART is not a valid date/,
  );
  malformed(
    () => parseItem(cal(...vevent('UID:xx', 'DTSTART:2026XX01T090000')), 'k', 'v'),
    /"xx": DTSTART is not a date or date-time.*2026XX01T090000/,
  );
  malformed(
    () =>
      parseItem(cal(...vevent('UID:zone', 'DTSTART;TZID=Nowhere Time:20260707T090000')), 'k', 'v'),
    /"zone": DTSTART has TZID "Nowhere Time", neither an IANA zone nor defined by a VTIMEZONE/,
  );
  malformed(
    () =>
      parseItem(
        cal(
          'BEGIN:VTIMEZONE',
          'TZID:Empty Time',
          'END:VTIMEZONE',
          ...vevent('UID:empty', 'DTSTART;TZID=Empty Time:20260707T090000'),
        ),
        'k',
        'v',
      ),
    /"empty": DTSTART has TZID "Empty Time", neither an IANA zone nor defined by a VTIMEZONE/,
  );
  malformed(
    () =>
      parseItem(cal(...vevent('UID:dur', 'DTSTART:20260707T090000Z', 'DURATION:soon')), 'k', 'v'),
    /"dur": DURATION is not a duration.*soon/,
  );
  malformed(
    () => parseItem(cal(...vevent('DTSTART:20260707T090000Z', 'SUMMARY:Anon')), 'k', 'v'),
    /no UID.*Anon/,
  );
});

const feedEvents = {
  a: vevent(
    'UID:a@example.com',
    'DTSTAMP:20260101T000000Z',
    'DTSTART;TZID=Office Time:20260707T090000',
    'DTEND;TZID=Office Time:20260707T100000',
    'SUMMARY:Alpha',
  ),
  aOverride: vevent(
    'UID:a@example.com',
    'DTSTAMP:20260101T000000Z',
    'RECURRENCE-ID:20260714T070000Z',
    'DTSTART:20260714T080000Z',
    'SUMMARY:Alpha moved',
  ),
  b: vevent(
    'UID:b@example.com',
    'DTSTAMP:20260101T000000Z',
    'DTSTART;VALUE=DATE:20260801',
    'SUMMARY:Beta',
  ),
};

test('a feed splits by UID; each object parses as the same item from its own text', () => {
  const feed = splitFeed(
    cal(
      'X-WR-CALNAME:Team',
      'X-WR-TIMEZONE:Europe/Paris',
      'REFRESH-INTERVAL;VALUE=DURATION:PT1H',
      ...centralEurope('Office Time'),
      ...centralEurope('Unused Time'),
      ...feedEvents.a,
      ...feedEvents.b,
      ...feedEvents.aOverride,
      'BEGIN:VTODO',
      'UID:todo',
      'END:VTODO',
    ),
  );
  assert.equal(feed.name, 'Team');
  assert.equal(feed.timeZone, 'Europe/Paris');
  assert.equal(feed.refreshIntervalMs, 3_600_000);
  assert.deepEqual(
    feed.objects.map((o) => o.uid),
    ['a@example.com', 'b@example.com'],
  );
  const a = feed.objects[0]!;
  assert.match(a.text, /TZID:Office Time/);
  assert.doesNotMatch(a.text, /Unused Time|DTSTAMP|Beta|X-WR-CALNAME/);
  assert.match(a.version, /^[0-9a-f]{64}$/);
  const item = a.item();
  assertUsable(item);
  assert.equal(item.key, 'a@example.com');
  assert.equal(item.version, a.version);
  assert.deepEqual(
    item.events.map((e) => e.summary),
    ['Alpha', 'Alpha moved'],
  );
  assert.deepEqual(parseItem(a.text, a.uid, a.version), item);
});

test('X-PUBLISHED-TTL is the refresh interval when REFRESH-INTERVAL is absent', () => {
  assert.equal(splitFeed(cal('X-PUBLISHED-TTL:P1D')).refreshIntervalMs, 86_400_000);
  assert.equal(splitFeed(cal('X-PUBLISHED-TTL:often')).refreshIntervalMs, null);
  assert.equal(splitFeed(cal()).name, null);
});

test('an object version ignores DTSTAMP and order, and changes with its content', () => {
  const versions = (ics: string) => new Map(splitFeed(ics).objects.map((o) => [o.uid, o.version]));
  const zone = centralEurope('Office Time');
  const base = versions(cal(...zone, ...feedEvents.a, ...feedEvents.aOverride, ...feedEvents.b));
  const restamped = (lines: string[]) =>
    lines.map((l) => l.replace(/^DTSTAMP:.*/, 'DTSTAMP:20261224T235959Z'));
  // Another DTSTAMP, components in another order, properties in another order.
  const shuffled = versions(
    cal(
      'X-WR-CALNAME:Renamed',
      ...restamped(feedEvents.b),
      ...restamped(feedEvents.aOverride),
      ...zone,
      ...vevent(
        'SUMMARY:Alpha',
        'DTEND;TZID=Office Time:20260707T100000',
        'DTSTAMP:20261224T235959Z',
        'UID:a@example.com',
        'DTSTART;TZID=Office Time:20260707T090000',
      ),
    ),
  );
  assert.deepEqual(shuffled, base);
  const retitled = versions(
    cal(
      ...zone,
      ...feedEvents.a.map((l) => l.replace('SUMMARY:Alpha', 'SUMMARY:Alpha!')),
      ...feedEvents.aOverride,
      ...feedEvents.b,
    ),
  );
  assert.notEqual(retitled.get('a@example.com'), base.get('a@example.com'));
  assert.equal(retitled.get('b@example.com'), base.get('b@example.com'));
  // The definition of a zone the object uses is part of its content.
  const rezoned = versions(
    cal(...zone.map((l) => l.replace('+0100', '+0000')), ...feedEvents.a, ...feedEvents.b),
  );
  assert.notEqual(rezoned.get('a@example.com'), base.get('a@example.com'));
  assert.equal(rezoned.get('b@example.com'), base.get('b@example.com'));
});

test('a bad VEVENT fails its object by UID; a VEVENT without UID fails the feed', () => {
  const feed = splitFeed(cal(...feedEvents.b, ...vevent('UID:broken', 'SUMMARY:No start')));
  assert.equal(feed.objects.length, 2);
  assert.equal(feed.objects[0]!.item().events.length, 1);
  malformed(() => feed.objects[1]!.item(), /"broken" has no DTSTART/);
  malformed(
    () => splitFeed(cal(...vevent('SUMMARY:Who', 'DTSTART:20260707T090000Z'))),
    /no UID.*Who/,
  );
  malformed(() => splitFeed('<html>Sign in</html>'), /not iCalendar/);
});

test('the feed hash ignores DTSTAMP lines, folded ones included, and nothing else', () => {
  const body = cal(...feedEvents.b);
  const stamped = body.replace(
    'DTSTAMP:20260101T000000Z',
    'DTSTAMP;VALUE=DATE-TIME:20261224\r\n T235959Z',
  );
  assert.equal(feedHash(stamped), feedHash(body));
  assert.notEqual(feedHash(body.replace('Beta', 'Beta!')), feedHash(body));
});
