import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { MigrationContext } from './context.ts';

/**
 * A count of the changes that can take an access token away, kept by the database itself:
 * every row deleted (a revocation on any node, an erased account, a `calpush` command run
 * beside the server, an operator's own SQL), every token or owner rewritten, every TRUNCATE.
 * A node trusts the tokens it has checked for as long as the count stays where it was
 * (core/principal-cache.ts), and reads the count instead of each request's token.
 */
export async function up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  // All or nothing: SQLite's migrations run outside a transaction, and a table made without
  // its trigger would count nothing, and fail the next start's attempt to make it again.
  if (db.isTransaction) return make(db, ctx);
  await db.transaction().execute((trx) => make(trx, ctx));
}

async function make(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('token_revocations')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('count', 'bigint', (c) => c.notNull())
    .execute();
  await sql`insert into token_revocations (id, count) values (1, 0)`.execute(db);
  for (const statement of ctx.tokenRevocationCounter('access_tokens', 'token_revocations')) {
    await sql.raw(statement).execute(db);
  }
}
