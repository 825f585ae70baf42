import type { Kysely } from 'kysely';

/** Rows read per query: small enough to keep the migration's memory flat. */
const BATCH = 500;

interface OldChannel {
  id: string;
  interest_json: string;
  resource_id: string | null;
  resource_uri: string | null;
}

/**
 * A channel's dialect keeps everything of its own in `interest_json`. Two columns only one
 * dialect used (the watched resource's opaque id and its URI, which its messages carry) move
 * into that JSON, as `resourceId` and `resourceUri`, and the columns go: the channel table
 * then has no column a new dialect must learn to leave empty.
 */
export async function up(untyped: Kysely<unknown>): Promise<void> {
  const db = untyped as Kysely<{ channels: OldChannel }>;
  // PostgreSQL runs each migration in a transaction already; on SQLite this one makes its
  // own, so that a crash between its statements leaves the store as it was, not half moved.
  if (db.isTransaction) return move(db);
  await db.transaction().execute(move);
}

async function move(db: Kysely<{ channels: OldChannel }>): Promise<void> {
  let after = '';
  for (;;) {
    const rows = await db
      .selectFrom('channels')
      .select(['id', 'interest_json', 'resource_id', 'resource_uri'])
      .where('id', '>', after)
      .where((eb) => eb.or([eb('resource_id', 'is not', null), eb('resource_uri', 'is not', null)]))
      .orderBy('id')
      .limit(BATCH)
      .execute();
    for (const row of rows) {
      const interest = JSON.parse(row.interest_json) as Record<string, unknown>;
      interest.resourceId = row.resource_id;
      interest.resourceUri = row.resource_uri;
      await db
        .updateTable('channels')
        .set({ interest_json: JSON.stringify(interest) })
        .where('id', '=', row.id)
        .execute();
    }
    const last = rows.at(-1);
    if (!last || rows.length < BATCH) break;
    after = last.id;
  }
  await db.schema.alterTable('channels').dropColumn('resource_id').execute();
  await db.schema.alterTable('channels').dropColumn('resource_uri').execute();
}
