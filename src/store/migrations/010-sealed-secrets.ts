import type { Kysely } from 'kysely';
import type { MigrationContext } from './context.ts';
import type { SecretSealer } from '../../domain/secrets.ts';

/** Rows read per query: small enough to keep the migration's memory flat. */
const BATCH = 500;

interface Tables {
  client_secrets: { id: number; secret: string; sealed_secret: string };
  channels: { id: string; token: string | null; sealed_token: string | null };
  meta: { key: string; value: string };
}

/**
 * Secrets calpush reads back were kept in clear: client secrets (whoever reads one can
 * forge the client's notifications), Google channel tokens, and the key page and sync
 * tokens are signed with. They are sealed now, under the server's secret key, in columns
 * whose names say so (`sealed_secret`, `sealed_token`, meta `sealed_token_key`), so no
 * reader can take a sealed value for a clear one.
 *
 * One transaction on each engine: a crash leaves the store as it was or wholly sealed. On
 * SQLite the migrator records the migration after that transaction commits, so a crash in
 * between runs it again: it finds its columns renamed and stops there, for a value sealed
 * twice would never open to the secret.
 */
export async function up(untyped: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  const db = untyped as Kysely<Tables>;
  if (db.isTransaction) return seal(db, ctx.sealer);
  await db.transaction().execute((trx) => seal(trx, ctx.sealer));
}

async function seal(db: Kysely<Tables>, sealer: SecretSealer | undefined): Promise<void> {
  const tables = await db.introspection.getTables();
  const secrets = tables.find((t) => t.name === 'client_secrets');
  if (!secrets?.columns.some((c) => c.name === 'secret')) return;
  await db.schema.alterTable('client_secrets').renameColumn('secret', 'sealed_secret').execute();
  await db.schema.alterTable('channels').renameColumn('token', 'sealed_token').execute();
  const need = (): SecretSealer => {
    if (sealer) return sealer;
    throw new Error('this store holds secrets in clear, and sealing them needs the secret key');
  };
  let after = 0;
  for (;;) {
    const rows = await db
      .selectFrom('client_secrets')
      .select(['id', 'sealed_secret'])
      .where('id', '>', after)
      .orderBy('id')
      .limit(BATCH)
      .execute();
    for (const row of rows) {
      await db
        .updateTable('client_secrets')
        .set({ sealed_secret: need().seal(row.sealed_secret) })
        .where('id', '=', row.id)
        .execute();
    }
    const last = rows.at(-1);
    if (!last || rows.length < BATCH) break;
    after = Number(last.id);
  }
  let afterChannel = '';
  for (;;) {
    const rows = await db
      .selectFrom('channels')
      .select(['id', 'sealed_token'])
      .where('id', '>', afterChannel)
      .where('sealed_token', 'is not', null)
      .orderBy('id')
      .limit(BATCH)
      .execute();
    for (const row of rows) {
      if (row.sealed_token === null) continue;
      await db
        .updateTable('channels')
        .set({ sealed_token: need().seal(row.sealed_token) })
        .where('id', '=', row.id)
        .execute();
    }
    const last = rows.at(-1);
    if (!last || rows.length < BATCH) break;
    afterChannel = last.id;
  }
  const tokenKey = await db
    .selectFrom('meta')
    .select('value')
    .where('key', '=', 'token_key')
    .executeTakeFirst();
  if (tokenKey) {
    await db
      .insertInto('meta')
      .values({ key: 'sealed_token_key', value: need().seal(tokenKey.value) })
      .execute();
    await db.deleteFrom('meta').where('key', '=', 'token_key').execute();
  }
}
