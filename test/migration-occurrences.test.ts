import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { createTestAccount, startHarness } from './support/harness.ts';
import { engines } from './support/postgres.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { FOREVER } from '../src/domain/event-time.ts';
import { up as upOccurrences } from '../src/store/migrations/009-occurrences.ts';

for (const engine of engines) {
  test(`upgrading gives series their end and moves source overrides into columns, on ${engine}`, async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
    const h = await startHarness({ clock, engine });
    try {
      const account = await createTestAccount(h.service);
      const db = h.service.store.db;
      // The store as the version before 009 left it.
      await sql`drop index events_calendar_series`.execute(db);
      await sql`drop index events_calendar_start`.execute(db);
      for (const column of [
        'until_at',
        'recurring_event_id',
        'original_start_json',
        'original_start_at',
      ]) {
        await sql`alter table events drop column ${sql.ref(column)}`.execute(db);
      }
      const row = (uid: string, start: string, end: string, more: Record<string, unknown>) => ({
        calendar_id: account.calendarId,
        account_id: account.accountId,
        uid,
        external_id: null,
        ical_uid: `${uid}@example.com`,
        managed: 0,
        status: 'confirmed',
        summary: uid,
        description: null,
        location: null,
        start_json: JSON.stringify({ dateTime: start }),
        end_json: JSON.stringify({ dateTime: end }),
        start_at: Date.parse(start),
        end_at: Date.parse(end),
        recurrence_json: null,
        extra_json: null,
        sequence: 0,
        deleted: 0,
        created_at: clock.now(),
        updated_at: clock.now(),
        change_seq: 1,
        ...more,
      });
      const old = db as unknown as Kysely<{ events: Record<string, unknown> }>;
      await old
        .insertInto('events')
        .values([
          row('single', '2026-12-07T09:00:00Z', '2026-12-07T10:00:00Z', {}),
          row('series', '2026-12-07T09:00:00Z', '2026-12-07T10:00:00Z', {
            recurrence_json: JSON.stringify(['RRULE:FREQ=WEEKLY;COUNT=3']),
          }),
          row('moved', '2026-12-15T09:00:00Z', '2026-12-15T10:00:00Z', {
            extra_json: JSON.stringify({
              recurringEventId: 'series',
              originalStartTime: { dateTime: '2026-12-14T09:00:00Z' },
              colorId: '3',
            }),
          }),
        ])
        .execute();

      await upOccurrences(db as unknown as Kysely<unknown>);

      const rows = await db
        .selectFrom('events')
        .select([
          'uid',
          'until_at',
          'end_at',
          'recurring_event_id',
          'original_start_json',
          'original_start_at',
          'extra_json',
        ])
        .orderBy('uid')
        .execute();
      const byUid = new Map(rows.map((r) => [r.uid, r]));
      assert.equal(Number(byUid.get('single')?.until_at), Date.parse('2026-12-07T10:00:00Z'));
      // Series written before are given no end: reads expand them to find out.
      assert.equal(Number(byUid.get('series')?.until_at), FOREVER);
      const moved = byUid.get('moved');
      assert.equal(moved?.recurring_event_id, 'series');
      assert.deepEqual(JSON.parse(moved?.original_start_json ?? 'null'), {
        dateTime: '2026-12-14T09:00:00Z',
      });
      assert.equal(Number(moved?.original_start_at), Date.parse('2026-12-14T09:00:00Z'));
      assert.deepEqual(JSON.parse(moved?.extra_json ?? 'null'), { colorId: '3' });
      assert.equal(byUid.get('single')?.recurring_event_id, null);
    } finally {
      await h.close();
    }
  });
}
