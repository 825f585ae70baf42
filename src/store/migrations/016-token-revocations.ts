import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { MigrationContext } from './context.ts';

/**
 * A count of the access tokens ever deleted, kept by the database itself: a revocation on
 * any node, an erased account, a `calpush` command run beside the server or an operator's own
 * SQL all move it. A node trusts the tokens it has checked for as long as the count stays
 * where it was (core/principal-cache.ts), and reads the count instead of each request's token.
 */
export async function up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('token_revocations')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('count', 'bigint', (c) => c.notNull())
    .execute();
  await sql`insert into token_revocations (id, count) values (1, 0)`.execute(db);
  for (const statement of ctx.deleteCounter('access_tokens', 'token_revocations')) {
    await sql.raw(statement).execute(db);
  }
}
