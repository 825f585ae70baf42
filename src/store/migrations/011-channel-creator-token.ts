import type { Kysely } from 'kysely';

/**
 * `creator_token_hash`: the hash of the access token a channel was made (or last
 * reauthorized) with, so revoking that token can tell the channel's dialect (Graph:
 * reauthorizationRequired). Null for channels made before it was recorded: no token is
 * taken for theirs, and revoking one tells them nothing, as before.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('channels').addColumn('creator_token_hash', 'text').execute();
}
