import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { Receiver } from './support/receiver.ts';

/** The few response fields these tests read. */
interface Reply {
  id?: string;
  expiration?: string;
  items?: { id: string; summary?: string }[];
  events?: { event_uid: string }[];
  error?: { code: number; errors: { domain: string; reason: string }[] };
}

describe('Google and Cronofy faces share one core', () => {
  let h: Harness;
  let receiver: Receiver;
  let account: TestAccount;
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${h.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${account.accessToken}`,
        'content-type': 'application/json',
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      json: (text ? JSON.parse(text) : undefined) as Reply,
    };
  };

  before(async () => {
    h = await startHarness({ listen: true, start: true });
    receiver = await Receiver.start();
    account = await createTestAccount(h.service);
  });
  after(async () => {
    await h.close();
    await receiver.close();
  });

  test('a Google channel hears a change made through the Cronofy face', async () => {
    const watch = await call('POST', '/calendar/v3/calendars/primary/events/watch', {
      id: 'g-watch',
      type: 'web_hook',
      address: `${receiver.url}/google`,
    });
    assert.equal(watch.status, 200);
    await receiver.waitFor((rs) => rs.some((r) => r.path === '/google'));
    const upsert = await call('POST', `/v1/calendars/${account.calendarId}/events`, {
      event_id: 'booking-1',
      summary: 'From Cronofy',
      start: '2026-12-01T09:00:00Z',
      end: '2026-12-01T10:00:00Z',
    });
    assert.equal(upsert.status, 202);
    await receiver.waitFor((rs) =>
      rs.some((r) => r.path === '/google' && r.headers['x-goog-resource-state'] === 'exists'),
    );
    const list = await call('GET', '/calendar/v3/calendars/primary/events');
    assert.deepEqual(
      list.json.items?.map((e) => e.summary),
      ['From Cronofy'],
    );
  });

  test('a Cronofy channel hears an event made through the Google face', async () => {
    const created = await call('POST', '/v1/channels', { callback_url: `${receiver.url}/cronofy` });
    assert.equal(created.status, 200);
    await receiver.waitFor((rs) => rs.some((r) => r.path === '/cronofy'));
    const insert = await call('POST', '/calendar/v3/calendars/primary/events', {
      summary: 'From Google',
      start: { date: '2026-12-24' },
      end: { date: '2026-12-25' },
    });
    assert.equal(insert.status, 200);
    await receiver.waitFor((rs) =>
      rs.some((r) => r.path === '/cronofy' && r.body.includes('"type":"change"')),
    );
    const events = await call('GET', '/v1/events?tzid=Etc/UTC&from=2026-11-01&to=2027-01-31');
    assert.ok(events.json.events?.some((e) => e.event_uid === insert.json.id));
  });

  test('bad input never gives a 500 and always uses the Google envelope', async () => {
    const cases: [string, string, unknown, number, string][] = [
      ['POST', '/calendar/v3/calendars/primary/events', '{nope', 400, 'parseError'],
      ['POST', '/calendar/v3/calendars/primary/events', { start: 5 }, 400, 'invalid'],
      [
        'POST',
        '/calendar/v3/calendars/primary/events',
        { id: 'BAD_ID', start: {}, end: {} },
        400,
        'invalid',
      ],
      [
        'POST',
        '/calendar/v3/calendars/primary/events',
        { start: { dateTime: 'soon' }, end: { dateTime: 'later' } },
        400,
        'invalid',
      ],
      ['GET', '/calendar/v3/calendars/primary/events?maxResults=abc', undefined, 400, 'invalid'],
      ['GET', '/calendar/v3/calendars/primary/events?timeMin=yesterday', undefined, 400, 'invalid'],
      ['GET', '/calendar/v3/calendars/primary/events?pageToken=zzz', undefined, 400, 'invalid'],
      ['GET', '/calendar/v3/calendars/primary/events?showDeleted=maybe', undefined, 400, 'invalid'],
      [
        'GET',
        '/calendar/v3/users/me/calendarList?syncToken=x.y',
        undefined,
        410,
        'fullSyncRequired',
      ],
      ['GET', '/calendar/v3/calendars/cal_unknown/events', undefined, 404, 'notFound'],
      ['GET', '/calendar/v3/calendars/cal_unknown', undefined, 404, 'notFound'],
      ['DELETE', '/calendar/v3/calendars/primary', undefined, 400, 'cannotDeletePrimaryCalendar'],
      ['GET', '/calendar/v3/users/me/settings/nope', undefined, 404, 'notFound'],
      ['DELETE', '/calendar/v3/calendars/primary/acl/user:nobody', undefined, 404, 'notFound'],
      [
        'POST',
        '/calendar/v3/calendars/primary/acl',
        { role: 'god', scope: { type: 'user' } },
        400,
        'invalid',
      ],
      [
        'POST',
        '/calendar/v3/calendars/primary/acl',
        { role: 'reader', scope: { type: 'user' } },
        400,
        'required',
      ],
      ['POST', '/calendar/v3/calendars', { description: 'no title' }, 400, 'required'],
      [
        'POST',
        '/calendar/v3/calendars',
        { summary: 'x', timeZone: 'Mars/Olympus' },
        400,
        'invalid',
      ],
      ['POST', '/calendar/v3/channels/stop', { id: 'never-made' }, 404, 'notFound'],
      ['POST', '/calendar/v3/channels/stop', {}, 400, 'required'],
      ['GET', '/calendar/v3/does/not/exist', undefined, 404, 'notFound'],
    ];
    const watchUrl = '/calendar/v3/calendars/primary/events/watch';
    const address = `${receiver.url}/x`;
    cases.push(
      ['POST', watchUrl, { id: 'x'.repeat(65), type: 'web_hook', address }, 400, 'invalid'],
      ['POST', watchUrl, { id: 'ok', type: 'carrier_pigeon', address }, 400, 'invalid'],
      [
        'POST',
        watchUrl,
        { id: 'ok', type: 'web_hook', address, token: 't'.repeat(257) },
        400,
        'invalid',
      ],
      ['POST', watchUrl, { id: 'ok', type: 'web_hook' }, 400, 'required'],
      [
        'POST',
        watchUrl,
        { id: 'ok', type: 'web_hook', address: 'ftp://example.com' },
        400,
        'push.webhookUrlUnauthorized',
      ],
    );
    for (const [method, path, body, status, reason] of cases) {
      const got = await call(method, path, body);
      assert.equal(got.status, status, `${method} ${path} ${JSON.stringify(body)}`);
      assert.equal(got.json.error?.code, status);
      assert.equal(got.json.error.errors[0]?.reason, reason, `${method} ${path}`);
      assert.equal(got.json.error.errors[0]?.domain, 'global');
    }
  });

  test('channel lifetime: default and cap of 7 days', async () => {
    const week = 7 * 24 * 3600 * 1000;
    const now = Date.now();
    const plain = await call('POST', '/calendar/v3/users/me/settings/watch', {
      id: 'life-1',
      type: 'web_hook',
      address: `${receiver.url}/life`,
    });
    const far = await call('POST', '/calendar/v3/users/me/settings/watch', {
      id: 'life-2',
      type: 'web_hook',
      address: `${receiver.url}/life`,
      expiration: String(now + 30 * week),
    });
    for (const { json } of [plain, far]) {
      const expiration = Number(json.expiration);
      assert.ok(
        expiration >= now + week && expiration <= Date.now() + week,
        String(json.expiration),
      );
    }
  });
});
