import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';

let h: Harness;
let account: TestAccount;
before(async () => {
  h = await startHarness();
  account = await createTestAccount(h.service);
});
after(() => h.close());

/** In process, no socket: what the app answers, status and parsed body. */
async function call(method: string, path: string, body?: string, token = account.accessToken) {
  const response = await h.service.app.request(`http://calpush.test${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body }),
  });
  const json = (await response.json()) as { error?: { code?: string; innerError?: unknown } };
  return { status: response.status, json };
}

test("bad input gets Graph's error envelope and a 4xx, never a 500", async () => {
  const event = JSON.stringify({
    subject: 'x',
    start: { dateTime: '2026-12-01T09:00:00', timeZone: 'UTC' },
    end: { dateTime: '2026-12-01T10:00:00', timeZone: 'UTC' },
  });
  const cases: [string, string, string | undefined, number][] = [
    ['POST', '/v1.0/subscriptions', '{not json', 400],
    ['POST', '/v1.0/subscriptions', '[]', 400],
    ['POST', '/v1.0/subscriptions', JSON.stringify({ changeType: 5 }), 400],
    [
      'POST',
      '/v1.0/subscriptions',
      JSON.stringify({
        changeType: 'created',
        notificationUrl: 'not a url',
        resource: 'me/events',
        expirationDateTime: new Date(Date.now() + 3_600_000).toISOString(),
      }),
      400,
    ],
    [
      'POST',
      '/v1.0/subscriptions',
      JSON.stringify({
        changeType: 'created',
        notificationUrl: 'http://127.0.0.1:9/x',
        resource: 'users/%ZZ/events',
        expirationDateTime: new Date(Date.now() + 3_600_000).toISOString(),
      }),
      400,
    ],
    ['PATCH', '/v1.0/subscriptions/nope', '{}', 404],
    ['GET', '/v1.0/me/events?$top=abc', undefined, 400],
    ['GET', '/v1.0/me/events?$top=0', undefined, 400],
    ['GET', '/v1.0/me/events?$filter=x', undefined, 400],
    ['GET', '/v1.0/me/events?$skiptoken=forged', undefined, 400],
    ['GET', '/v1.0/me/calendarView/delta', undefined, 400],
    ['GET', '/v1.0/me/calendarView/delta?startDateTime=soon&endDateTime=later', undefined, 400],
    [
      'GET',
      '/v1.0/me/calendarView/delta?startDateTime=2026-12-02&endDateTime=2026-12-01',
      undefined,
      400,
    ],
    ['GET', '/v1.0/me/calendarView/delta?$skiptoken=forged', undefined, 410],
    ['GET', '/v1.0/me/calendarView/other', undefined, 404],
    ['POST', '/v1.0/me/events', '{"subject": 3}', 400],
    ['POST', '/v1.0/me/events', '{"subject": "no times"}', 400],
    [
      'POST',
      '/v1.0/me/events',
      JSON.stringify({
        subject: 'backwards',
        start: { dateTime: '2026-12-01T10:00:00', timeZone: 'UTC' },
        end: { dateTime: '2026-12-01T09:00:00', timeZone: 'UTC' },
      }),
      400,
    ],
    [
      'POST',
      '/v1.0/me/events',
      JSON.stringify({
        subject: 'bad rule',
        start: { dateTime: '2026-12-01T10:00:00', timeZone: 'UTC' },
        end: { dateTime: '2026-12-01T11:00:00', timeZone: 'UTC' },
        recurrence: { pattern: { type: 'weekly' }, range: { type: 'numbered' } },
      }),
      400,
    ],
    ['POST', '/v1.0/me/calendars/nope/events', event, 404],
    ['GET', '/v1.0/users/someone@else.example/events', undefined, 403],
    ['GET', '/v1.0/me/messages', undefined, 400],
    ['POST', '/v1.0/me/events', `{"subject": "${'x'.repeat(300 * 1024)}"}`, 413],
  ];
  for (const [method, path, body, status] of cases) {
    const answer = await call(method, path, body);
    assert.equal(answer.status, status, `${method} ${path}`);
    assert.equal(typeof answer.json.error?.code, 'string', `${method} ${path}`);
    assert.ok(answer.json.error?.innerError, `${method} ${path}`);
  }
  const anonymous = await call('GET', '/v1.0/me/events', undefined, '');
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.json.error?.code, 'InvalidAuthenticationToken');
});
