import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SourceError } from '../src/domain/source.ts';
import { createCaldavProvider } from '../src/sources/caldav/caldav-provider.ts';
import { CountingHttp } from './support/counting-http.ts';
import type { SyncMode } from './support/fake-caldav.ts';
import { FakeCaldav } from './support/fake-caldav.ts';
import { eventIcs, standInParseItem } from './support/ical-stand-in.ts';
import { SourceState } from './support/source-state.ts';

// A fake WebDAV server on loopback, for what Radicale does not do: refuse tokens in other
// ways, lack sync-collection, truncate sync answers, fail.

let http: CountingHttp;

before(() => {
  http = CountingHttp.loopback();
});

after(async () => {
  await http.close();
});

function provider() {
  return createCaldavProvider({ http, parseItem: standInParseItem });
}

/** A fake with three events, connected and read once; the caller closes it. */
async function readFake(mode: SyncMode, pageSize?: number) {
  const fake = await FakeCaldav.start(mode, pageSize);
  try {
    for (const name of ['one.ics', 'two.ics', 'meet@example.com.ics']) {
      fake.put(name, eventIcs(name, `Event ${name}`));
    }
    const caldav = provider();
    const connected = await caldav.connect({ url: fake.homeUrl, credentials: null });
    const state = new SourceState(fake.homeUrl, null, connected);
    const from = fake.requests.length;
    state.apply(await caldav.poll(state.input()));
    assert.deepEqual(fake.since(from), [
      'PROPFIND /dav/ 1',
      'PROPFIND /dav/cal/ 1',
      'REPORT /dav/cal/ calendar-multiget',
    ]);
    assert.deepEqual([...state.items(fake.calendarUrl).keys()].sort(), [
      fake.key('meet@example.com.ics'),
      fake.key('one.ics'),
      fake.key('two.ics'),
    ]);
    return { fake, caldav, state, connected };
  } catch (err) {
    await fake.close();
    throw err;
  }
}

/** One event created, one changed, one deleted upstream. */
function churn(fake: FakeCaldav): void {
  fake.put('three.ics', eventIcs('three', 'Three'));
  fake.put('one.ics', eventIcs('one', 'One moved'));
  fake.delete('two.ics');
}

function summary(result: Awaited<ReturnType<ReturnType<typeof provider>['poll']>>) {
  return result.changes.map((c) => ({
    remoteId: c.remoteId,
    changed: c.changed.map((i) => i.key).sort(),
    removed: [...c.removed].sort(),
  }));
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

describe('a refused sync token falls back to an etag diff', () => {
  for (const mode of ['refuse-403', 'refuse-412', 'refuse-500'] as const) {
    test(mode, async () => {
      const { fake, caldav, state, connected } = await readFake(mode);
      try {
        assert.equal((connected.cursor as { syncCollection: string }).syncCollection, 'supported');
        let from = fake.requests.length;
        const idle = await caldav.poll(state.input());
        assert.deepEqual(fake.since(from), ['PROPFIND /dav/ 1']);
        assert.deepEqual(idle.changes, []);

        churn(fake);
        from = fake.requests.length;
        const result = await caldav.poll(state.input());
        assert.deepEqual(fake.since(from), [
          'PROPFIND /dav/ 1',
          'REPORT /dav/cal/ 0 sync-collection',
          'PROPFIND /dav/cal/ 1',
          'REPORT /dav/cal/ calendar-multiget',
        ]);
        assert.deepEqual(summary(result), [
          {
            remoteId: fake.calendarUrl,
            changed: [fake.key('one.ics'), fake.key('three.ics')],
            removed: [fake.key('two.ics')],
          },
        ]);
        assert.equal(state.itemReads, 1);
        // A refused token says nothing against the report itself: it is tried again next time.
        assert.equal((result.cursor as { syncCollection: string }).syncCollection, 'supported');
        assert.deepEqual(result.changes[0]?.cursor, {
          ctag: '"ctag-6"',
          syncToken: 'urn:fake:sync:6',
        });
        state.apply(result);
        assert.equal(
          state.items(fake.calendarUrl).get(fake.key('one.ics'))?.events[0]?.summary,
          'One moved',
        );
      } finally {
        await fake.close();
      }
    });
  }
});

describe('a server without sync-collection', () => {
  test('is read by etag diff and never asked for the report', async () => {
    const { fake, caldav, state, connected } = await readFake('none');
    try {
      assert.equal((connected.cursor as { syncCollection: string }).syncCollection, 'unsupported');
      churn(fake);
      const from = fake.requests.length;
      const result = await caldav.poll(state.input());
      assert.deepEqual(fake.since(from), [
        'PROPFIND /dav/ 1',
        'PROPFIND /dav/cal/ 1',
        'REPORT /dav/cal/ calendar-multiget',
      ]);
      assert.deepEqual(summary(result), [
        {
          remoteId: fake.calendarUrl,
          changed: [fake.key('one.ics'), fake.key('three.ics')],
          removed: [fake.key('two.ics')],
        },
      ]);
      assert.deepEqual(result.changes[0]?.cursor, { ctag: '"ctag-6"', syncToken: null });
    } finally {
      await fake.close();
    }
  });

  test('that answers the report 501 is learned once, then not asked again', async () => {
    const { fake, caldav, state, connected } = await readFake('unsupported-501');
    try {
      assert.equal((connected.cursor as { syncCollection: string }).syncCollection, 'unknown');
      fake.put('three.ics', eventIcs('three', 'Three'));
      let from = fake.requests.length;
      const first = await caldav.poll(state.input());
      assert.deepEqual(fake.since(from), [
        'PROPFIND /dav/ 1',
        'REPORT /dav/cal/ 0 sync-collection',
        'PROPFIND /dav/cal/ 1',
        'REPORT /dav/cal/ calendar-multiget',
      ]);
      assert.deepEqual(summary(first)[0]?.changed, [fake.key('three.ics')]);
      assert.equal((first.cursor as { syncCollection: string }).syncCollection, 'unsupported');
      state.apply(first);

      fake.delete('three.ics');
      from = fake.requests.length;
      const second = await caldav.poll(state.input());
      assert.deepEqual(fake.since(from), ['PROPFIND /dav/ 1', 'PROPFIND /dav/cal/ 1']);
      assert.deepEqual(summary(second), [
        { remoteId: fake.calendarUrl, changed: [], removed: [fake.key('three.ics')] },
      ]);
    } finally {
      await fake.close();
    }
  });
});

describe('sync-collection', () => {
  test('follows a truncated answer (507) to the end', async () => {
    const { fake, caldav, state } = await readFake('sync', 2);
    try {
      churn(fake);
      const from = fake.requests.length;
      const result = await caldav.poll(state.input());
      assert.deepEqual(fake.since(from), [
        'PROPFIND /dav/ 1',
        'REPORT /dav/cal/ 0 sync-collection',
        'REPORT /dav/cal/ 0 sync-collection',
        'REPORT /dav/cal/ calendar-multiget',
      ]);
      assert.deepEqual(summary(result), [
        {
          remoteId: fake.calendarUrl,
          changed: [fake.key('one.ics'), fake.key('three.ics')],
          removed: [fake.key('two.ics')],
        },
      ]);
      assert.deepEqual(result.changes[0]?.cursor, {
        ctag: '"ctag-6"',
        syncToken: 'urn:fake:sync:6',
      });
      assert.equal(state.itemReads, 0);
    } finally {
      await fake.close();
    }
  });

  test('an item deleted between the report and the multiget is a removal', async () => {
    const { fake, caldav, state } = await readFake('sync');
    try {
      fake.put('three.ics', eventIcs('three', 'Three'));
      fake.onRequest = (request) => {
        if (request.body.includes('calendar-multiget')) fake.delete('three.ics');
        return undefined;
      };
      const result = await caldav.poll(state.input());
      assert.deepEqual(summary(result), [
        { remoteId: fake.calendarUrl, changed: [], removed: [fake.key('three.ics')] },
      ]);
    } finally {
      await fake.close();
    }
  });
});

describe('failures', () => {
  test('503 with Retry-After in seconds is unavailable with the delay', async () => {
    const { fake, caldav, state } = await readFake('sync');
    try {
      fake.onRequest = () => ({ status: 503, headers: { 'retry-after': '120' } });
      const err = await rejectsWith(caldav.poll(state.input()), 'unavailable');
      assert.equal(err.retryAfterMs, 120_000);
    } finally {
      await fake.close();
    }
  });

  test('429 with a Retry-After date counts from the server Date', async () => {
    const { fake, caldav, state } = await readFake('sync');
    try {
      fake.onRequest = () => ({
        status: 429,
        headers: {
          date: 'Sun, 06 Dec 2026 08:00:00 GMT',
          'retry-after': 'Sun, 06 Dec 2026 08:00:30 GMT',
        },
      });
      const err = await rejectsWith(caldav.poll(state.input()), 'unavailable');
      assert.equal(err.retryAfterMs, 30_000);
    } finally {
      await fake.close();
    }
  });

  test('a sync report answered 503 fails the poll instead of falling back', async () => {
    const { fake, caldav, state } = await readFake('sync');
    try {
      fake.put('three.ics', eventIcs('three', 'Three'));
      fake.onRequest = (request) =>
        request.body.includes('sync-collection') ? { status: 503 } : undefined;
      const from = fake.requests.length;
      await rejectsWith(caldav.poll(state.input()), 'unavailable');
      assert.deepEqual(fake.since(from), [
        'PROPFIND /dav/ 1',
        'REPORT /dav/cal/ 0 sync-collection',
      ]);
    } finally {
      await fake.close();
    }
  });

  test('an answer that is not XML is malformed', async () => {
    const { fake, caldav, state } = await readFake('sync');
    try {
      fake.onRequest = () => ({ status: 207, body: '<multistatus xmlns="DAV:"><response>' });
      await rejectsWith(caldav.poll(state.input()), 'malformed');
    } finally {
      await fake.close();
    }
  });

  test('a redirect loop is not_found after a bounded number of hops', async () => {
    const fake = await FakeCaldav.start('sync');
    try {
      const from = fake.requests.length;
      await rejectsWith(
        provider().connect({ url: `${fake.url}/loop`, credentials: null }),
        'not_found',
      );
      assert.equal(fake.requests.length - from, 6);
    } finally {
      await fake.close();
    }
  });
});
