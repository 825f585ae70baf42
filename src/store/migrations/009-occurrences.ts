import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { EventTime } from '../../domain/event-time.ts';
import { FOREVER, instantOf } from '../../domain/event-time.ts';

/** Rows read per query: small enough to keep the migration's memory flat. */
const BATCH = 500;

interface OldEvent {
  id: number;
  end_at: number;
  recurrence_json: string | null;
  extra_json: string | null;
  until_at: number | null;
  recurring_event_id: string | null;
  original_start_json: string | null;
  original_start_at: number | null;
}

/**
 * Occurrences of a series: an exception (a moved, changed or cancelled occurrence) is a row
 * of its own naming its series and the start it replaces, in columns a read can use; sources
 * kept both in `extra_json` until now. `until_at` is where an event's last occurrence ends
 * (its end for a single event), so a range query finds a series that started long before the
 * range. Series written before this are given no end: reads expand them to find out.
 */
export async function up(untyped: Kysely<unknown>): Promise<void> {
  const db = untyped as Kysely<{ events: OldEvent }>;
  await db.schema.alterTable('events').addColumn('until_at', 'bigint').execute();
  await db.schema.alterTable('events').addColumn('recurring_event_id', 'text').execute();
  await db.schema.alterTable('events').addColumn('original_start_json', 'text').execute();
  await db.schema.alterTable('events').addColumn('original_start_at', 'bigint').execute();
  if (db.isTransaction) await backfill(db);
  else await db.transaction().execute(backfill);
  await db.schema
    .createIndex('events_calendar_series')
    .on('events')
    .columns(['calendar_id', 'recurring_event_id'])
    .where(sql.ref('recurring_event_id'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('events_calendar_start')
    .on('events')
    .columns(['calendar_id', 'start_at'])
    .execute();
}

async function backfill(db: Kysely<{ events: OldEvent }>): Promise<void> {
  await db
    .updateTable('events')
    .set((eb) => ({ until_at: eb.ref('end_at') }))
    .where('recurrence_json', 'is', null)
    .execute();
  await db
    .updateTable('events')
    .set({ until_at: FOREVER })
    .where('recurrence_json', 'is not', null)
    .execute();
  let after = 0;
  for (;;) {
    const rows = await db
      .selectFrom('events')
      .select(['id', 'extra_json'])
      .where('id', '>', after)
      .where('extra_json', 'like', '%"recurringEventId"%')
      .orderBy('id')
      .limit(BATCH)
      .execute();
    for (const row of rows) {
      const extra = JSON.parse(row.extra_json ?? '{}') as Record<string, unknown>;
      const series = extra.recurringEventId;
      const original = extra.originalStartTime as EventTime | undefined;
      if (typeof series !== 'string' || !original) continue;
      delete extra.recurringEventId;
      delete extra.originalStartTime;
      await db
        .updateTable('events')
        .set({
          recurring_event_id: series,
          original_start_json: JSON.stringify(original),
          original_start_at: instantOf(original),
          extra_json: Object.keys(extra).length > 0 ? JSON.stringify(extra) : null,
        })
        .where('id', '=', row.id)
        .execute();
    }
    const last = rows.at(-1);
    if (!last || rows.length < BATCH) break;
    after = Number(last.id);
  }
}
