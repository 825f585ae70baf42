import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { callApi } from './support/api.ts';
import { engines } from './support/postgres.ts';

/**
 * Found by the fuzzer: PostgreSQL cannot store a NUL character (U+0000) in text, so a NUL in
 * a body or a URL was a 500 there (and stored as is on SQLite). It is refused on every engine,
 * in the face's format, naming the field.
 */

interface GoogleErrorBody {
  error: { code: number; message: string; errors: { reason: string }[] };
}
interface CronofyErrorBody {
  errors: Record<string, { key: string }[]>;
}

for (const engine of engines)
  describe(`NUL characters on ${engine}`, () => {
    let h: Harness;
    let account: TestAccount;
    before(async () => {
      h = await startHarness({ engine });
      account = await createTestAccount(h.service);
    });
    after(() => h.close());

    const call = <J>(method: string, path: string, body?: unknown) =>
      callApi<J>(h.service, account.accessToken, method, path, body);
    const times = {
      start: { dateTime: '2026-12-10T09:00:00Z' },
      end: { dateTime: '2026-12-10T10:00:00Z' },
    };

    test('a NUL in a body is a 400 or 422 naming the field, and nothing is stored', async () => {
      const google = await call<GoogleErrorBody>('POST', '/calendar/v3/calendars/primary/events', {
        ...times,
        summary: 'a\u0000b',
      });
      assert.equal(google.status, 400);
      assert.equal(google.json.error.errors[0]?.reason, 'invalid');
      assert.match(google.json.error.message, /summary/);
      const key = await call<GoogleErrorBody>('POST', '/calendar/v3/calendars/primary/events', {
        ...times,
        extendedProperties: { private: { 'k\u0000': 'v' } },
      });
      assert.equal(key.status, 400);
      assert.match(key.json.error.message, /extendedProperties\.private/);
      const calendar = await call<GoogleErrorBody>('POST', '/calendar/v3/calendars', {
        summary: 'x\u0000',
      });
      assert.equal(calendar.status, 400);

      const cronofy = await call<CronofyErrorBody>(
        'POST',
        `/v1/calendars/${account.calendarId}/events`,
        { event_id: 'e\u0000', summary: 's', start: times.start.dateTime, end: times.end.dateTime },
      );
      assert.equal(cronofy.status, 422);
      assert.equal(cronofy.json.errors.event_id?.[0]?.key, 'errors.invalid');

      const list = await call<{ items: unknown[] }>('GET', '/calendar/v3/calendars/primary/events');
      assert.equal(list.json.items.length, 0);
    });

    test('a NUL in a path segment or a query parameter is a 400 in the face format', async () => {
      const google = await call<GoogleErrorBody>('GET', '/calendar/v3/calendars/a%00b');
      assert.equal(google.status, 400);
      assert.equal(google.json.error.code, 400);
      const query = await call<GoogleErrorBody>(
        'GET',
        '/calendar/v3/calendars/primary/events?iCalUID=a%00',
      );
      assert.equal(query.status, 400);
      assert.equal(query.json.error.code, 400);
      const cronofy = await call<CronofyErrorBody>('GET', '/v1/sources/src%00');
      assert.equal(cronofy.status, 400);
      assert.ok(cronofy.json.errors.request?.[0]?.key);
      // An escaped percent sign is text, not a NUL.
      const text = await call<GoogleErrorBody>('GET', '/calendar/v3/calendars/a%2500b');
      assert.equal(text.status, 404);
    });
  });
