/**
 * Scenario 8, first part: what a CalDAV poll costs against a real server. Debian's Radicale
 * on loopback holds two users' calendars, one of 10,000 events and one of 1,000 (each made
 * by one PUT of a whole VCALENDAR). calpush's own CalDAV provider, with the shared
 * iCalendar parser and the outbound client in dev mode, polls each through a wrapper that
 * counts the response bodies' bytes.
 *
 * The source's stored state is what a first sync leaves: the cursor `connect` returns and
 * the calendar's ctag and sync token from the probe. (A first read of 10,000 events from
 * Radicale takes about 40 s, nearly all of it Radicale's; an idle poll never reads the
 * stored items, and the first idle poll is checked to be one request.)
 *
 * Per calendar: the full download (the baseline: one calendar-query REPORT, Depth 1, asking
 * every event's calendar-data, as a client that re-reads everything would), idle polls,
 * and polls after one event changed upstream (a PUT of that event). Times are medians.
 */
import type { BenchContext } from '../context.ts';
import { median } from '../aggregate.ts';
import { Radicale, RadicaleUser } from '../../test/support/radicale.ts';
import { CountingHttp } from '../../test/support/counting-http.ts';
import { SourceState } from '../../test/support/source-state.ts';
import { createOutboundHttp } from '../../src/net/outbound-http.ts';
import { NO_EXCEPTIONS } from '../../src/net/safe-lookup.ts';
import { systemClock } from '../../src/domain/clock.ts';
import { createCaldavProvider } from '../../src/sources/caldav/caldav-provider.ts';
import { parseItem } from '../../src/sources/ical/parse-calendar.ts';
import { createDavSession } from '../../src/sources/caldav/dav-session.ts';
import { calendarOf, probeBody } from '../../src/sources/caldav/calendar-props.ts';
import { readSourceCursor } from '../../src/sources/caldav/cursors.ts';
import type { SourceCredentials } from '../../src/domain/source.ts';

export interface CalendarPollCost {
  readonly events: number;
  readonly putSeconds: number;
  /** The baseline: a calendar-query REPORT of every event with its data. */
  readonly fullBytes: number;
  readonly fullMs: number;
  readonly idleBytes: number;
  /** The probe's request body, the same every time. */
  readonly idleRequestBytes: number;
  readonly idleMs: number;
  /** The same probe without getctag and sync-token: Radicale's time apart from those. */
  readonly bareProbeMs: number;
  readonly changeBytes: number;
  readonly changeMs: number;
  readonly changeRequests: number;
}

export interface SourceBytesResult {
  readonly large: CalendarPollCost;
  readonly small: CalendarPollCost;
}

const IDLE_POLLS = 5;
const CHANGES = 3;
const FULL_DOWNLOADS = 3;

const calendarQuery =
  '<?xml version="1.0" encoding="utf-8"?>' +
  '<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">' +
  '<d:prop><d:getetag/><c:calendar-data/></d:prop>' +
  '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"/></c:comp-filter></c:filter>' +
  '</c:calendar-query>';

const bareProbe =
  '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:">' +
  '<d:prop><d:resourcetype/><d:displayname/></d:prop></d:propfind>';

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
}

/** One meeting an hour from 2027 on; no commas (Radicale's vobject cuts at an unescaped one). */
function vevent(i: number, summary = `Meeting ${i}`): string[] {
  const start = Date.UTC(2027, 0, 4, 8) + i * 3_600_000;
  return [
    'BEGIN:VEVENT',
    `UID:event-${i}`,
    'DTSTAMP:20261101T000000Z',
    `DTSTART:${stamp(start)}`,
    `DTEND:${stamp(start + 1_800_000)}`,
    `SUMMARY:${summary}`,
    `LOCATION:Room ${i % 40}`,
    `DESCRIPTION:Agenda and notes for meeting ${i}`,
    'END:VEVENT',
  ];
}

function vcalendar(lines: readonly string[]): string {
  return [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//calpush bench//EN',
    ...lines,
    'END:VCALENDAR',
    '',
  ].join('\r\n');
}

async function timed<T>(step: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await step();
  return { value, ms: performance.now() - t0 };
}

export async function sourceBytes(ctx: BenchContext): Promise<SourceBytesResult> {
  const radicale = await Radicale.start();
  // As calpush's own outbound client (src/service.ts), with its default limits.
  const http = new CountingHttp(
    createOutboundHttp({
      dev: true,
      exceptions: NO_EXCEPTIONS,
      timeoutMs: 30_000,
      maxBodyBytes: 20 * 1024 * 1024,
      connectionsPerOrigin: 4,
      headers: { 'user-agent': 'calpush' },
    }),
  );
  try {
    // User names of one length: the probe's answers differ only by the calendar's size.
    const calendars: { name: string; events: number }[] = [
      { name: 'large', events: Math.round(10_000 * ctx.scale) },
      { name: 'small', events: Math.round(1_000 * ctx.scale) },
    ];
    const made = [];
    for (const c of calendars) {
      const password = `${c.name}-password`;
      await radicale.addUser(c.name, password);
      const user = new RadicaleUser(radicale, c.name, password);
      const body = vcalendar([
        'X-WR-CALNAME:Work',
        ...Array.from({ length: c.events }, (_, i) => vevent(i)).flat(),
      ]);
      const put = await timed(() => user.putCalendar('cal', body));
      ctx.log(
        `  set-up: ${c.events.toLocaleString('en-US')} events (${(body.length / 2 ** 20).toFixed(1)} MiB) ` +
          `put into Radicale in ${(put.ms / 1000).toFixed(1)} s`,
      );
      made.push({
        ...c,
        user,
        putSeconds: put.ms / 1000,
        credentials: { username: c.name, password },
      });
    }
    const costs: CalendarPollCost[] = [];
    for (const c of made) {
      costs.push(await measure(ctx, radicale, http, c));
    }
    return { large: costs[0]!, small: costs[1]! };
  } finally {
    await http.close();
    await radicale.stop();
  }
}

async function measure(
  ctx: BenchContext,
  radicale: Radicale,
  http: CountingHttp,
  c: { events: number; user: RadicaleUser; putSeconds: number; credentials: SourceCredentials },
): Promise<CalendarPollCost> {
  const caldav = createCaldavProvider({
    http,
    clock: systemClock,
    parseItem: (ics, key, version) => parseItem(ics, key, version),
    defaultIntervalMs: 60_000,
    minIntervalMs: 30_000,
  });
  const url = `${radicale.url}/`;
  const state = new SourceState(
    url,
    c.credentials,
    await caldav.connect({ url, credentials: c.credentials }),
  );

  // The calendar's cursor as its first read stores it: the probe's ctag and sync token.
  const session = createDavSession(http, c.credentials, systemClock, new URL(url).origin);
  const home = readSourceCursor(state.cursor)?.home;
  if (!home) throw new Error('connect returned no calendar home');
  const probe = await session.multistatus(
    { method: 'PROPFIND', url: home, depth: '1', body: probeBody },
    'probe',
  );
  const found = probe.responses.map((r) => calendarOf(r, probe.url)).filter((x) => x !== null);
  if (found.length !== 1) throw new Error(`expected one calendar, found ${found.length}`);
  const calendar = found[0]!;
  const stored = state.calendars.get(calendar.remoteId);
  if (!stored) throw new Error(`connect did not find ${calendar.remoteId}`);
  stored.cursor = { ctag: calendar.ctag, syncToken: calendar.syncToken };

  const auth = `Basic ${Buffer.from(`${c.credentials.username}:${c.credentials.password}`).toString('base64')}`;
  const full = [];
  for (let k = 0; k < FULL_DOWNLOADS; k++) {
    const t = await timed(() =>
      http.measure(() =>
        http.request({
          method: 'REPORT',
          url: calendar.remoteId,
          headers: {
            'content-type': 'application/xml; charset=utf-8',
            depth: '1',
            authorization: auth,
          },
          body: calendarQuery,
        }),
      ),
    );
    if (t.value.result.status !== 207) {
      throw new Error(`calendar-query answered ${t.value.result.status}`);
    }
    full.push({ ms: t.ms, bytes: t.value.bytes });
  }

  const idle = [];
  for (let k = 0; k < IDLE_POLLS; k++) {
    const t = await timed(() => http.measure(() => caldav.poll(state.input())));
    const { requests, bytes, result } = t.value;
    if (requests !== 1 || result.changes.length !== 0) {
      throw new Error(`an idle poll took ${requests} requests, ${result.changes.length} changes`);
    }
    state.apply(result);
    const sent = t.value.exchanges.reduce(
      (sum, e) => sum + Buffer.byteLength(e.request.body ?? ''),
      0,
    );
    idle.push({ ms: t.ms, bytes, sent });
  }

  const bare = [];
  for (let k = 0; k < 3; k++) {
    const t = await timed(() =>
      session.send({ method: 'PROPFIND', url: home, depth: '1', body: bareProbe }),
    );
    bare.push(t.ms);
  }

  const changes = [];
  for (let k = 0; k < CHANGES; k++) {
    const i = Math.floor(((k + 1) * c.events) / (CHANGES + 1));
    await c.user.put(
      calendar.remoteId,
      `event-${i}.ics`,
      vcalendar(vevent(i, `Meeting ${i} moved`)),
    );
    const t = await timed(() => http.measure(() => caldav.poll(state.input())));
    const { requests, bytes, result } = t.value;
    const changed = result.changes[0]?.changed ?? [];
    if (changed.length !== 1 || changed[0]?.events[0]?.summary !== `Meeting ${i} moved`) {
      throw new Error(`a poll after one change found ${changed.length} changed items`);
    }
    state.apply(result);
    changes.push({ ms: t.ms, bytes, requests });
  }

  const cost: CalendarPollCost = {
    events: c.events,
    putSeconds: c.putSeconds,
    fullBytes: median(full.map((f) => f.bytes)),
    fullMs: median(full.map((f) => f.ms)),
    idleBytes: median(idle.map((f) => f.bytes)),
    idleRequestBytes: median(idle.map((f) => f.sent)),
    idleMs: median(idle.map((f) => f.ms)),
    bareProbeMs: median(bare),
    changeBytes: median(changes.map((f) => f.bytes)),
    changeMs: median(changes.map((f) => f.ms)),
    changeRequests: median(changes.map((f) => f.requests)),
  };
  const n = c.events.toLocaleString('en-US');
  ctx.log(
    `  ${n} events: full download ${cost.fullBytes.toLocaleString('en-US')} B in ${cost.fullMs.toFixed(0)} ms; ` +
      `idle poll ${cost.idleBytes} B (request body ${cost.idleRequestBytes} B) in ${cost.idleMs.toFixed(0)} ms (` +
      `the probe without getctag and sync-token ${cost.bareProbeMs.toFixed(0)} ms); ` +
      `after one change ${cost.changeBytes} B, ${cost.changeRequests} requests, in ${cost.changeMs.toFixed(0)} ms`,
  );
  return cost;
}
