import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestAccount, startHarness } from './support/harness.ts';

test('a recurrence written through the Google face is checked: a bad rule is a 400 naming it', async () => {
  const h = await startHarness();
  try {
    const account = await createTestAccount(h.service);
    const insert = (recurrence: string[]) =>
      h.service.app.request(`/calendar/v3/calendars/${account.calendarId}/events`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${account.accessToken}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          summary: 'Stand-up',
          start: { dateTime: '2026-10-19T09:00:00', timeZone: 'Europe/Paris' },
          end: { dateTime: '2026-10-19T09:15:00', timeZone: 'Europe/Paris' },
          recurrence,
        }),
      });
    const good = await insert([
      'RRULE:FREQ=WEEKLY;BYDAY=MO',
      'EXDATE;TZID=Europe/Paris:20261026T090000',
    ]);
    assert.equal(good.status, 200);
    const bad = await insert(['RRULE:FREQ=FORTNIGHTLY']);
    assert.equal(bad.status, 400);
    const body = (await bad.json()) as { error: { message: string; errors: { reason: string }[] } };
    assert.equal(body.error.errors[0]?.reason, 'invalid');
    assert.match(body.error.message, /RRULE/);
    const unknown = await insert(['NOTARULE:FREQ=DAILY']);
    assert.equal(unknown.status, 400);
  } finally {
    await h.close();
  }
});
