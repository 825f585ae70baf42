import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import type { Harness, TestAccount } from './support/harness.ts';
import { addAccount, createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { Receiver } from './support/receiver.ts';
import { engines } from './support/postgres.ts';
import { callApi, settleSources } from './support/api.ts';
import { touchEvent } from './support/events.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { COPIED_TABLES } from '../src/store/copy.ts';
import { ACCOUNT_TABLES } from '../src/store/account-rows.ts';
import { deleteAccount } from '../src/core/account-erasure.ts';
import { issueAccessToken } from '../src/core/access-tokens.ts';

/** An ICS feed on loopback: the account's source, with calendars and items to erase. */
let feed: Server;
let feedUrl = '';
let receiver: Receiver;
before(async () => {
  receiver = await Receiver.start();
  const body = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//test//feed//EN',
    'X-WR-CALNAME:Team',
    'BEGIN:VEVENT',
    'UID:standup@example.com',
    'DTSTAMP:20261201T000000Z',
    'DTSTART:20261207T090000Z',
    'DTEND:20261207T093000Z',
    'SUMMARY:Standup',
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');
  feed = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'text/calendar' }).end(body),
  );
  feed.listen(0, '127.0.0.1');
  await once(feed, 'listening');
  feedUrl = `http://127.0.0.1:${(feed.address() as AddressInfo).port}/team.ics`;
});
after(async () => {
  await receiver.close();
  feed.closeAllConnections();
  await new Promise((resolve) => feed.close(resolve));
});

async function rowCounts(h: Harness): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of COPIED_TABLES) {
    const { n } = await h.service.store.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    counts[table] = Number(n);
  }
  return counts;
}

/** An account with a row in every table an account has rows in. */
async function populate(h: Harness, account: Omit<TestAccount, 'clientSecret'>, tag: string) {
  const call = <J>(method: string, path: string, body?: unknown) =>
    callApi<J>(h.service, account.accessToken, method, path, body);
  const cronofy = await watchAccount(h.service, account, `${receiver.url}/cronofy-${tag}`);
  const google = await call('POST', '/calendar/v3/calendars/primary/events/watch', {
    id: `g-${tag}`,
    type: 'web_hook',
    address: `${receiver.url}/google-${tag}`,
    token: `token-${tag}`,
  });
  assert.equal(google.status, 200);
  await touchEvent(h.service, account, `event-${tag}`);
  // A series whose rule changes keeps its old shape (series_history).
  const series = await call<{ id: string }>('POST', '/calendar/v3/calendars/primary/events', {
    summary: `series-${tag}`,
    start: { dateTime: '2026-12-01T09:00:00Z' },
    end: { dateTime: '2026-12-01T10:00:00Z' },
    recurrence: ['RRULE:FREQ=DAILY;COUNT=3'],
  });
  assert.equal(series.status, 200);
  const shortened = await call('PATCH', `/calendar/v3/calendars/primary/events/${series.json.id}`, {
    recurrence: ['RRULE:FREQ=DAILY;COUNT=2'],
  });
  assert.equal(shortened.status, 200);
  const acl = await call('POST', '/calendar/v3/calendars/primary/acl', {
    role: 'reader',
    scope: { type: 'user', value: `friend-${tag}@example.com` },
  });
  assert.equal(acl.status, 200);
  const source = await call('POST', '/v1/sources', {
    provider: 'ics',
    url: feedUrl,
    username: 'ada',
    password: `feed-password-${tag}`,
  });
  assert.equal(source.status, 201);
  await issueAccessToken(h.service.core, account.accountId);
  return cronofy;
}

/** Lets delivery run, then moves time on: retries and quiet intervals come due. */
const progressOf = (h: Harness, clock: ManualClock) => async () => {
  await h.service.dispatcher.runUntilIdle();
  clock.advance(1000);
};

for (const engine of engines) {
  test(`deleting an account tells its Cronofy channels, then erases every row of it, on ${engine}`, async () => {
    receiver.requests.length = 0;
    receiver.reply = { status: 200 };
    const clock = new ManualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
    const h = await startHarness({ clock, engine });
    try {
      const kept = await createTestAccount(h.service, 'kept@example.com');
      await populate(h, kept, `kept-${engine}`);
      await settleSources(h.service, clock);
      const before = await rowCounts(h);

      const doomed = await addAccount(h.service, kept.clientId, 'doomed@example.com');
      const channel = await populate(h, doomed, `doomed-${engine}`);
      await settleSources(h.service, clock);
      const populated = await rowCounts(h);
      for (const table of ACCOUNT_TABLES) {
        assert.ok(populated[table]! > before[table]!, `the account has rows in ${table}`);
      }

      receiver.requests.length = 0;
      const erased = await deleteAccount(h.service.core, doomed.accountId, {
        waitMs: 30_000,
        progress: progressOf(h, clock),
      });
      assert.equal(erased.undelivered, 0);

      // The application heard of it first, signed like any notification.
      const told = receiver.requests.filter((r) => r.path === `/cronofy-doomed-${engine}`);
      assert.equal(told.length, 1);
      assert.deepEqual(JSON.parse(told[0]!.body), {
        notification: { type: 'gdpr_requested' },
        channel: {
          channel_id: channel.publicId,
          callback_url: `${receiver.url}/cronofy-doomed-${engine}`,
          filters: {},
        },
      });
      assert.equal(
        told[0]!.headers['cronofy-hmac-sha256'],
        createHmac('sha256', kept.clientSecret).update(told[0]!.body).digest('base64'),
      );
      // Google has no such message: its channel is only stopped.
      assert.ok(!receiver.requests.some((r) => r.path === `/google-doomed-${engine}`));

      // Every row of the account is gone, and only those: each table is as before it came.
      assert.deepEqual(await rowCounts(h), before);
      // The report counts them too (with the gdpr_requested's own change, notification and
      // attempt, made during the erasure).
      for (const table of ACCOUNT_TABLES) {
        assert.ok(erased.rows[table] >= populated[table]! - before[table]!, table);
      }
      const refused = await callApi(h.service, doomed.accessToken, 'GET', '/v1/calendars');
      assert.equal(refused.status, 401);
      const still = await callApi(h.service, kept.accessToken, 'GET', '/v1/calendars');
      assert.equal(still.status, 200);
    } finally {
      await h.close();
    }
  });
}

test('a receiver that keeps failing holds the erasure up only for the wait given', async () => {
  receiver.requests.length = 0;
  receiver.reply = (req) =>
    req.path.startsWith('/cronofy-failing') ? { status: 500 } : { status: 200 };
  const clock = new ManualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
  const h = await startHarness({ clock, random: () => 0.5 });
  try {
    const kept = await createTestAccount(h.service, 'kept@example.com');
    await h.service.dispatcher.runUntilIdle();
    const before = await rowCounts(h);
    const failing = await addAccount(h.service, kept.clientId, 'failing@example.com');
    await watchAccount(h.service, failing, `${receiver.url}/cronofy-failing`);
    const started = clock.now();
    const erased = await deleteAccount(h.service.core, failing.accountId, {
      waitMs: 10_000,
      progress: progressOf(h, clock),
    });
    assert.ok(clock.now() - started >= 10_000 && clock.now() - started < 12_000);
    // Its verification and its gdpr_requested were still queued behind the failures.
    assert.equal(erased.undelivered, 2);
    assert.ok(receiver.requests.filter((r) => r.path === '/cronofy-failing').length >= 2);
    assert.deepEqual(await rowCounts(h), before);
  } finally {
    receiver.reply = { status: 200 };
    await h.close();
  }
});

test('deleting an unknown account is an error and erases nothing', async () => {
  const h = await startHarness();
  try {
    await createTestAccount(h.service);
    const before = await rowCounts(h);
    await assert.rejects(
      deleteAccount(h.service.core, 'acc_nope', { waitMs: 0, progress: async () => {} }),
      /no account acc_nope/,
    );
    assert.deepEqual(await rowCounts(h), before);
  } finally {
    await h.close();
  }
});
