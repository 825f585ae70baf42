/**
 * Scenario 9. A week of a calendar read as instances through the Google face
 * (`singleEvents=true&orderBy=startTime`, one page of up to 2,500), from autocannon in its own
 * process. One server holds two calendars of one account, written through the core's
 * `insertEvent` (as the Google face's events.insert calls it) before the server starts:
 * 1,000 single events inside the week, and 800 single events plus 200 weekly series that
 * never end, begun over the past six years in several zones, some with BYDAY, so that the
 * week holds about 1,000 instances as well. Baseline: the single-event calendar's read in
 * the same run, so the ratio is the price of expanding series on read.
 */
import type { BenchContext } from '../context.ts';
import type { LoadResult } from './api-writes.ts';
import type { EventFields } from '../../src/core/events.ts';
import { runScript } from '../context.ts';
import { BenchServer } from '../server.ts';
import { openBenchStore } from '../setup.ts';
import { createAccount } from '../../src/core/accounts.ts';
import { createCalendar } from '../../src/core/calendars.ts';
import { insertEvent } from '../../src/core/events.ts';
import { wallClockIn } from '../../src/domain/time.ts';

/** Enough to keep the server's one main thread busy; more would only queue (and lift p99). */
export const READ_CONNECTIONS = 8;
const EVENTS = 1000;
const SERIES = 200;
const ZONES = [
  'Europe/Paris',
  'America/New_York',
  'Asia/Tokyo',
  'Europe/London',
  'America/Los_Angeles',
  'Australia/Sydney',
];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEKDAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];

export interface WeekRead extends LoadResult {
  /** Instances in one response, and its size. */
  readonly instances: number;
  readonly bytes: number;
  /** Server CPU per read during the load. */
  readonly cpuUs: number;
}

/** A boundary as Google's clients write it: the zone's wall time, and the zone. */
function zoned(at: number, timeZone: string) {
  const [y, mo, d, h, mi] = wallClockIn(at, timeZone);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return { dateTime: `${p(y, 4)}-${p(mo)}-${p(d)}T${p(h)}:${p(mi)}:00`, timeZone };
}

function fields(i: number, at: number, minutes: number, recurrence?: string[]): EventFields {
  const timeZone = ZONES[i % ZONES.length] ?? 'Etc/UTC';
  return {
    summary: `${recurrence ? 'Weekly' : 'Meeting'} ${i}`,
    description: i % 2 === 0 ? `Agenda for item ${i}: review, decisions, next steps.` : null,
    location: i % 3 === 0 ? `Room ${i % 40}` : null,
    start: zoned(at, timeZone),
    end: zoned(at + minutes * 60_000, timeZone),
    recurrence: recurrence ?? null,
  };
}

/** Singles spread over the week's days, on the quarter hour, 30 to 90 minutes long. */
function single(i: number, n: number, weekStart: number): EventFields {
  const at = weekStart + Math.floor((i * 7 * DAY) / n / (15 * 60_000)) * 15 * 60_000;
  return fields(i, at, 30 + 30 * (i % 3));
}

/**
 * A weekly series begun 1 to 6 years before the week, at an hour of the day that varies.
 * Seven in ten repeat on their start's weekday, 3 in 20 name it with BYDAY, and 3 in 20 fall
 * on two days every other week (so about one instance a week each).
 */
function series(j: number, weekStart: number): EventFields {
  const timeZone = ZONES[j % ZONES.length] ?? 'Etc/UTC';
  const years = 1 + (j % 6);
  const at = weekStart - years * 365 * DAY - ((j * 37) % 365) * DAY + (7 + (j % 10)) * HOUR;
  const [y, mo, d] = wallClockIn(at, timeZone);
  const weekday = WEEKDAYS[new Date(Date.UTC(y, mo - 1, d)).getUTCDay()] ?? 'MO';
  const kind = j % 20;
  const rule =
    kind < 14
      ? 'RRULE:FREQ=WEEKLY'
      : kind < 17
        ? `RRULE:FREQ=WEEKLY;BYDAY=${weekday}`
        : 'RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH';
  return fields(j, at, 30, [rule]);
}

/** The next Monday, 00:00 UTC: a week that every series reaches years after its start. */
function nextWeek(now: number): number {
  const today = Math.floor(now / DAY) * DAY;
  return today + ((8 - new Date(today).getUTCDay()) % 7 || 7) * DAY;
}

export async function recurringReads(
  ctx: BenchContext,
): Promise<{ series: WeekRead; singles: WeekRead; seriesCount: number; events: number }> {
  const events = Math.round(EVENTS * ctx.scale);
  const seriesCount = Math.round(SERIES * ctx.scale);
  const seconds = Math.max(2, Math.round(10 * ctx.scale));
  const weekStart = nextWeek(Date.now());
  const dir = ctx.scratch('occ');
  const b = await openBenchStore(dir);
  const acc = await createAccount(b.core, { clientId: b.clientId, email: 'occ@bench.invalid' });
  const singlesCal = acc.calendarId;
  const seriesCal = (await createCalendar(b.core, acc.accountId, { name: 'With series' })).id;
  const into = (calendarId: string) => ({ accountId: acc.accountId, calendarId });
  for (let i = 0; i < events; i++) {
    await insertEvent(b.core, into(singlesCal), single(i, events, weekStart));
  }
  const singlesBeside = events - seriesCount;
  for (let i = 0; i < singlesBeside; i++) {
    await insertEvent(b.core, into(seriesCal), single(i, singlesBeside, weekStart));
  }
  for (let j = 0; j < seriesCount; j++) {
    await insertEvent(b.core, into(seriesCal), series(j, weekStart));
  }
  await b.store.close();

  const server = await BenchServer.start({
    dataDir: dir,
    env: { CALPUSH_RATE_LIMIT: '0' },
    cpuProfDir: ctx.cpuProfDir,
  });
  const week =
    `timeMin=${encodeURIComponent(new Date(weekStart).toISOString())}` +
    `&timeMax=${encodeURIComponent(new Date(weekStart + 7 * DAY).toISOString())}`;
  const pathOf = (calendarId: string) =>
    `/calendar/v3/calendars/${calendarId}/events?singleEvents=true&orderBy=startTime&${week}&maxResults=2500`;

  /** One read to count what the week holds (and to warm the server), then the load. */
  const measure = async (calendarId: string): Promise<WeekRead> => {
    let instances = 0;
    let bytes = 0;
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${server.url}${pathOf(calendarId)}`, {
        headers: { authorization: `Bearer ${acc.accessToken}` },
      });
      const text = await res.text();
      const body = JSON.parse(text) as { items?: unknown[]; nextPageToken?: string };
      if (res.status !== 200 || body.nextPageToken) {
        throw new Error(`week read answered ${res.status}, more pages: ${!!body.nextPageToken}`);
      }
      instances = body.items?.length ?? 0;
      bytes = Buffer.byteLength(text);
    }
    const cpu0 = server.cpuSeconds();
    const load = JSON.parse(
      await runScript('./load-api.ts', {
        url: server.url,
        connections: READ_CONNECTIONS,
        seconds,
        targets: [{ token: acc.accessToken, calendarId }],
        get: pathOf(calendarId),
      }),
    ) as LoadResult;
    const cpuUs = ((server.cpuSeconds() - cpu0) * 1e6) / Math.max(1, load.total);
    return { ...load, instances, bytes, cpuUs };
  };
  try {
    ctx.log(
      `  set-up: 1 account; ${events} single events in one calendar, ${singlesBeside} and ` +
        `${seriesCount} weekly series in another, through the core's insertEvent; ` +
        `${READ_CONNECTIONS} connections for ${seconds} s on each`,
    );
    const singles = await measure(singlesCal);
    const withSeries = await measure(seriesCal);
    for (const [label, r] of [
      ['single events', singles],
      [`with ${seriesCount} series`, withSeries],
    ] as const) {
      ctx.log(
        `  ${label}: ${r.instances} instances, ${(r.bytes / 1024).toFixed(0)} KiB per read; ` +
          `${r.cpuUs.toFixed(0)} µs server CPU per read; ` +
          `errors ${r.errors}, timeouts ${r.timeouts}, non-2xx ${r.non2xx}`,
      );
    }
    return { series: withSeries, singles, seriesCount, events };
  } finally {
    await server.stop();
  }
}
