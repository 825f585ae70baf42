import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SourceCredentials } from '../src/domain/source.ts';
import { SourceError } from '../src/domain/source.ts';
import { createOutboundHttp } from '../src/net/outbound-http.ts';
import { NO_EXCEPTIONS } from '../src/net/safe-lookup.ts';
import { createCaldavProvider } from '../src/sources/caldav/caldav-provider.ts';
import { CountingHttp } from './support/counting-http.ts';
import { eventIcs, standInParseItem, vcalendar } from './support/ical-stand-in.ts';
import { Radicale, RadicaleUser } from './support/radicale.ts';
import { SourceState } from './support/source-state.ts';

// A real Radicale (Debian's 3.1.8) on loopback: discovery, sync-collection, multiget.

let radicale: Radicale;
let http: CountingHttp;

before(async () => {
  radicale = await Radicale.start();
  http = CountingHttp.loopback();
});

after(async () => {
  await http.close();
  await radicale.stop();
});

function provider() {
  return createCaldavProvider({ http, parseItem: standInParseItem });
}

async function newUser(
  name: string,
): Promise<{ user: RadicaleUser; credentials: SourceCredentials }> {
  const password = `secret-${name}-pw`;
  await radicale.addUser(name, password);
  return {
    user: new RadicaleUser(radicale, name, password),
    credentials: { username: name, password },
  };
}

/** Connects, then reads everything once, as a new source's first poll does. */
async function connectedState(url: string, credentials: SourceCredentials): Promise<SourceState> {
  const caldav = provider();
  const state = new SourceState(url, credentials, await caldav.connect({ url, credentials }));
  state.apply(await caldav.poll(state.input()));
  return state;
}

/** Replaces a calendar's stored token by one of Radicale's form that it never issued. */
function forgetSyncToken(state: SourceState, remoteId: string): void {
  const stored = state.calendars.get(remoteId);
  assert.ok(stored);
  stored.cursor = {
    ...(stored.cursor as object),
    syncToken: `http://radicale.org/ns/sync/${'0'.repeat(64)}`,
  };
}

async function rejectsWith(promise: Promise<unknown>, kind: string): Promise<SourceError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof SourceError, `expected a SourceError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    return err;
  }
  assert.fail(`expected a SourceError ${kind}`);
}

describe('connect', () => {
  test('discovers the event calendars from the server root and from /.well-known/caldav', async () => {
    const { user, credentials } = await newUser('rooted');
    const work = await user.mkcalendar('work', {
      name: 'Work',
      color: '#336699ff',
      components: ['VEVENT'],
      tzid: 'Europe/Paris',
    });
    await user.mkcalendar('tasks', { name: 'Tasks', components: ['VTODO'] });
    const mixed = await user.mkcalendar('mixed');
    const expected = [
      // Radicale names a calendar without displayname by its path.
      { remoteId: mixed, name: 'rooted/mixed', color: null, timeZone: null },
      { remoteId: work, name: 'Work', color: '#336699ff', timeZone: 'Europe/Paris' },
    ];
    const home = `${radicale.url}/rooted/`;
    for (const url of [`${radicale.url}/`, `${radicale.url}/.well-known/caldav`, home]) {
      const connected = await provider().connect({ url, credentials });
      const calendars = [...connected.calendars].sort((a, b) => a.name.localeCompare(b.name));
      assert.deepEqual(calendars, expected, url);
      assert.deepEqual(connected.cursor, {
        v: 1,
        home,
        single: false,
        syncCollection: 'supported',
      });
      assert.ok(!JSON.stringify(connected.cursor).includes(credentials.password));
    }
  });

  test('a calendar URL is used alone, and its probe lists that collection only', async () => {
    const { user, credentials } = await newUser('single');
    const work = await user.mkcalendar('work', { name: 'Work' });
    await user.mkcalendar('other', { name: 'Other' });
    await user.put(work, 'a.ics', eventIcs('a', 'A'));
    const connected = await provider().connect({ url: work, credentials });
    assert.deepEqual(
      connected.calendars.map((c) => c.remoteId),
      [work],
    );
    assert.deepEqual(connected.cursor, {
      v: 1,
      home: work,
      single: true,
      syncCollection: 'supported',
    });
    const state = await connectedState(work, credentials);
    const idle = await http.measure(() => provider().poll(state.input()));
    assert.equal(idle.requests, 1);
    assert.equal(idle.exchanges[0]?.request.headers?.['depth'], '0');
    assert.deepEqual(idle.result.changes, []);
  });

  test('a wrong password is auth, and the password shows nowhere', async () => {
    const { user, credentials } = await newUser('wrongpw');
    await user.mkcalendar('work');
    const wrong = { username: credentials.username, password: 'not-the-password-123' };
    const err = await rejectsWith(
      provider().connect({ url: `${radicale.url}/`, credentials: wrong }),
      'auth',
    );
    assert.ok(!err.message.includes(wrong.password));
    // A password in the URL counts as credentials and is kept out of messages too.
    const inUrl = `http://wrongpw:${wrong.password}@127.0.0.1:${new URL(radicale.url).port}/`;
    const fromUrl = await rejectsWith(
      provider().connect({ url: inUrl, credentials: null }),
      'auth',
    );
    assert.ok(!fromUrl.message.includes(wrong.password), fromUrl.message);
    // A source whose password changed upstream fails its next poll the same way.
    const state = await connectedState(`${radicale.url}/`, credentials);
    await rejectsWith(provider().poll({ ...state.input(), credentials: wrong }), 'auth');
  });

  test('a URL with no event calendar is not_found', async () => {
    const { user, credentials } = await newUser('nocal');
    const tasks = await user.mkcalendar('tasks', { components: ['VTODO'] });
    await rejectsWith(provider().connect({ url: `${radicale.url}/`, credentials }), 'not_found');
    await rejectsWith(provider().connect({ url: tasks, credentials }), 'not_found');
    await rejectsWith(
      provider().connect({ url: `${radicale.url}/nocal/missing/`, credentials }),
      'not_found',
    );
  });

  test('an address the outbound client may not reach is refused', async () => {
    const guarded = createOutboundHttp({
      dev: false,
      exceptions: NO_EXCEPTIONS,
      timeoutMs: 1000,
      maxBodyBytes: 1024,
      connectionsPerOrigin: 1,
    });
    try {
      const caldav = createCaldavProvider({ http: guarded, parseItem: standInParseItem });
      await rejectsWith(caldav.connect({ url: `${radicale.url}/`, credentials: null }), 'refused');
    } finally {
      await guarded.close();
    }
  });
});

describe('poll', () => {
  test('reads everything first, then only what was created, changed or deleted', async (t) => {
    const { user, credentials } = await newUser('poller');
    const calendar = await user.mkcalendar('home', { name: 'Home' });
    for (const n of [1, 2, 3])
      await user.put(calendar, `e${n}.ics`, eventIcs(`e${n}`, `Event ${n}`));
    const caldav = provider();
    const url = `${radicale.url}/`;
    const state = new SourceState(url, credentials, await caldav.connect({ url, credentials }));
    const key = (n: number) => `/poller/home/e${n}.ics`;

    const initial = await http.measure(() => caldav.poll(state.input()));
    assert.equal(initial.requests, 3, 'probe, etag listing, multiget');
    const [first] = initial.result.changes;
    assert.equal(first?.remoteId, calendar);
    assert.deepEqual(first.changed.map((i) => i.key).sort(), [key(1), key(2), key(3)]);
    assert.deepEqual(first.removed, []);
    assert.match(first.changed[0]?.version ?? '', /^".+"$/);
    assert.equal(first.changed.find((i) => i.key === key(2))?.events[0]?.summary, 'Event 2');
    state.apply(initial.result);
    t.diagnostic(`initial poll of 3 events: ${initial.requests} requests, ${initial.bytes} bytes`);

    const idle = await http.measure(() => caldav.poll(state.input()));
    assert.equal(idle.requests, 1);
    assert.deepEqual(idle.result.changes, []);
    assert.deepEqual(idle.result.calendars, [
      { remoteId: calendar, name: 'Home', color: null, timeZone: null },
    ]);
    state.apply(idle.result);
    t.diagnostic(`idle poll: ${idle.requests} request, ${idle.bytes} bytes`);

    await user.put(calendar, 'e4.ics', eventIcs('e4', 'Event 4'));
    const created = await http.measure(() => caldav.poll(state.input()));
    assert.equal(created.requests, 3, 'probe, sync-collection, multiget');
    assert.deepEqual(
      created.result.changes.map((c) => ({
        changed: c.changed.map((i) => i.key),
        removed: c.removed,
      })),
      [{ changed: [key(4)], removed: [] }],
    );
    state.apply(created.result);
    t.diagnostic(`one event created: ${created.requests} requests, ${created.bytes} bytes`);

    const before = state.items(calendar).get(key(2))?.version;
    // No comma: Radicale (vobject) cuts an unescaped one and everything after it.
    await user.put(calendar, 'e2.ics', eventIcs('e2', 'Event 2 moved'));
    const changed = await http.measure(() => caldav.poll(state.input()));
    const [change] = changed.result.changes;
    assert.deepEqual(
      change?.changed.map((i) => i.key),
      [key(2)],
    );
    assert.deepEqual(change.removed, []);
    assert.equal(change.changed[0]?.events[0]?.summary, 'Event 2 moved');
    assert.notEqual(change.changed[0]?.version, before);
    state.apply(changed.result);
    t.diagnostic(`one event changed: ${changed.requests} requests, ${changed.bytes} bytes`);

    await user.delete(`${calendar}e3.ics`);
    const deleted = await http.measure(() => caldav.poll(state.input()));
    assert.equal(deleted.requests, 2, 'probe, sync-collection');
    assert.deepEqual(
      deleted.result.changes.map((c) => ({ changed: c.changed, removed: c.removed })),
      [{ changed: [], removed: [key(3)] }],
    );
    state.apply(deleted.result);
    t.diagnostic(`one event deleted: ${deleted.requests} requests, ${deleted.bytes} bytes`);

    const idleAgain = await http.measure(() => caldav.poll(state.input()));
    assert.equal(idleAgain.requests, 1);
    assert.deepEqual(idleAgain.result.changes, []);
    assert.deepEqual([...state.items(calendar).keys()].sort(), [key(1), key(2), key(4)]);
    assert.equal(state.itemReads, 0, 'sync-collection never needs the stored versions');
  });

  test('a token Radicale no longer knows (403 valid-sync-token) falls back to the etag diff', async () => {
    const { user, credentials } = await newUser('stale');
    const calendar = await user.mkcalendar('cal');
    for (const n of [1, 2]) await user.put(calendar, `e${n}.ics`, eventIcs(`e${n}`, `Event ${n}`));
    const state = await connectedState(`${radicale.url}/`, credentials);
    forgetSyncToken(state, calendar);

    await user.put(calendar, 'e3.ics', eventIcs('e3', 'Event 3'));
    await user.delete(`${calendar}e1.ics`);
    const fallback = await http.measure(() => provider().poll(state.input()));
    assert.deepEqual(
      fallback.exchanges.map((e) => `${e.request.method} ${e.status}`),
      ['PROPFIND 207', 'REPORT 403', 'PROPFIND 207', 'REPORT 207'],
    );
    assert.deepEqual(
      fallback.result.changes.map((c) => ({
        changed: c.changed.map((i) => i.key),
        removed: c.removed,
      })),
      [{ changed: ['/stale/cal/e3.ics'], removed: ['/stale/cal/e1.ics'] }],
    );
    assert.equal(state.itemReads, 1);
    state.apply(fallback.result);

    // The probe's token was stored: the next change is read by sync-collection again.
    await user.put(calendar, 'e4.ics', eventIcs('e4', 'Event 4'));
    const synced = await http.measure(() => provider().poll(state.input()));
    assert.deepEqual(
      synced.exchanges.map((e) => `${e.request.method} ${e.status}`),
      ['PROPFIND 207', 'REPORT 207', 'REPORT 207'],
    );
    assert.deepEqual(
      synced.result.changes[0]?.changed.map((i) => i.key),
      ['/stale/cal/e4.ics'],
    );
  });

  test('a calendar created upstream appears in calendars and changes; a deleted one goes', async () => {
    const { user, credentials } = await newUser('grower');
    const first = await user.mkcalendar('first', { name: 'First' });
    await user.put(first, 'a.ics', eventIcs('a', 'A'));
    const state = await connectedState(`${radicale.url}/`, credentials);

    const second = await user.mkcalendar('second', { name: 'Second', color: '#00ff00ff' });
    await user.put(second, 'b.ics', eventIcs('b', 'B'));
    const grown = await provider().poll(state.input());
    assert.deepEqual(grown.calendars.map((c) => c.remoteId).sort(), [first, second]);
    assert.deepEqual(
      grown.changes.map((c) => ({ remoteId: c.remoteId, keys: c.changed.map((i) => i.key) })),
      [{ remoteId: second, keys: ['/grower/second/b.ics'] }],
    );
    state.apply(grown);

    await user.delete(second);
    const shrunk = await provider().poll(state.input());
    assert.deepEqual(
      shrunk.calendars.map((c) => c.remoteId),
      [first],
    );
    assert.deepEqual(shrunk.changes, []);
  });

  test('a series with an EXDATE and an override is one item keyed by its href', async () => {
    const { user, credentials } = await newUser('series');
    const calendar = await user.mkcalendar('cal');
    const state = await connectedState(`${radicale.url}/`, credentials);
    const ics = vcalendar([
      'BEGIN:VEVENT',
      'UID:standup',
      'DTSTAMP:20261101T000000Z',
      'DTSTART;TZID=Europe/Paris:20261201T093000',
      'DTEND;TZID=Europe/Paris:20261201T094500',
      'RRULE:FREQ=DAILY;COUNT=5',
      'EXDATE;TZID=Europe/Paris:20261203T093000',
      'SUMMARY:Standup',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:standup',
      'DTSTAMP:20261101T000000Z',
      'RECURRENCE-ID;TZID=Europe/Paris:20261204T093000',
      'DTSTART;TZID=Europe/Paris:20261204T110000',
      'DTEND;TZID=Europe/Paris:20261204T111500',
      'SUMMARY:Standup (late)',
      'END:VEVENT',
    ]);
    await user.put(calendar, 'standup.ics', ics);
    const result = await provider().poll(state.input());
    const items = result.changes.flatMap((c) => c.changed);
    assert.equal(items.length, 1);
    const [item] = items;
    assert.equal(item?.key, '/series/cal/standup.ics');
    assert.equal(item.events.length, 2);
    const series = item.events.find((e) => e.recurrenceId === null);
    const override = item.events.find((e) => e.recurrenceId !== null);
    // Radicale writes the properties back in its own order.
    assert.deepEqual(series?.recurrence?.toSorted(), [
      'EXDATE;TZID=Europe/Paris:20261203T093000',
      'RRULE:FREQ=DAILY;COUNT=5',
    ]);
    assert.deepEqual(override?.recurrenceId, {
      dateTime: '2026-12-04T09:30:00',
      timeZone: 'Europe/Paris',
    });
    assert.equal(override.summary, 'Standup (late)');
  });

  test('a task in a calendar that also holds events is an item without events', async () => {
    const { user, credentials } = await newUser('tasker');
    const calendar = await user.mkcalendar('both');
    await user.put(calendar, 'event.ics', eventIcs('event', 'Event'));
    const todo = vcalendar([
      'BEGIN:VTODO',
      'UID:todo',
      'DTSTAMP:20261101T000000Z',
      'SUMMARY:Todo',
      'END:VTODO',
    ]);
    await user.put(calendar, 'todo.ics', todo);
    const state = await connectedState(`${radicale.url}/`, credentials);
    const items = state.items(calendar);
    assert.equal(items.get('/tasker/both/todo.ics')?.events.length, 0);
    assert.equal(items.get('/tasker/both/event.ics')?.events.length, 1);
  });

  test("an idle poll's bytes do not grow with the calendar's size", async (t) => {
    const measured: Record<string, { initial: number; idle: number; change: number }> = {};
    for (const [name, count] of [
      ['small', 20],
      ['large', 200],
    ] as const) {
      const { user, credentials } = await newUser(name);
      const events = Array.from({ length: count }, (_, i) => [
        'BEGIN:VEVENT',
        `UID:event-${i}`,
        'DTSTAMP:20261101T000000Z',
        'DTSTART:20261201T090000Z',
        'DTEND:20261201T100000Z',
        `SUMMARY:Event ${i}`,
        'END:VEVENT',
      ]);
      const calendar = await user.putCalendar(
        'cal',
        vcalendar(['X-WR-CALNAME:Calendar', ...events.flat()]),
      );
      const caldav = provider();
      const url = `${radicale.url}/`;
      const state = new SourceState(url, credentials, await caldav.connect({ url, credentials }));
      const initial = await http.measure(() => caldav.poll(state.input()));
      assert.equal(initial.result.changes[0]?.changed.length, count);
      state.apply(initial.result);
      const idle = await http.measure(() => caldav.poll(state.input()));
      assert.equal(idle.requests, 1);
      assert.deepEqual(idle.result.changes, []);
      await user.put(calendar, 'event-0.ics', eventIcs('event-0', 'Event 0 changed'));
      const change = await http.measure(() => caldav.poll(state.input()));
      assert.equal(change.result.changes[0]?.changed.length, 1);
      state.apply(change.result);
      forgetSyncToken(state, calendar);
      await user.put(calendar, 'event-1.ics', eventIcs('event-1', 'Event 1 changed'));
      const diff = await http.measure(() => caldav.poll(state.input()));
      assert.equal(diff.result.changes[0]?.changed.length, 1);
      measured[name] = { initial: initial.bytes, idle: idle.bytes, change: change.bytes };
      t.diagnostic(
        `${count} events: initial ${initial.requests} requests ${initial.bytes} bytes, ` +
          `idle ${idle.requests} request ${idle.bytes} bytes, ` +
          `one changed ${change.requests} requests ${change.bytes} bytes, ` +
          `one changed by etag diff ${diff.requests} requests ${diff.bytes} bytes`,
      );
    }
    const small = measured['small'];
    const large = measured['large'];
    assert.ok(small && large);
    // Same user-name length and hashes of fixed length: the probe's answers should match.
    assert.ok(Math.abs(large.idle - small.idle) <= small.idle * 0.01, JSON.stringify(measured));
    assert.ok(
      Math.abs(large.change - small.change) <= small.change * 0.05,
      JSON.stringify(measured),
    );
    assert.ok(large.initial > small.initial * 5, 'the initial read does grow');
  });
});
