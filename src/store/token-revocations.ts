import type { Executor } from './schema.ts';
import { prepared } from './prepared.ts';

const countRow = prepared((db) =>
  db.selectFrom('token_revocations').select('count').where('id', '=', 1),
);

/**
 * How many times an access token was deleted or rewritten, by anyone (migration 016's
 * triggers). Without its row (removed by hand) the count is NaN, which equals no earlier
 * reading: a cache then drops what it holds at every reading instead of trusting it forever.
 */
export async function tokenRevocationCount(db: Executor): Promise<number> {
  const [row] = (await countRow(db)).rows;
  return row ? Number(row.count) : Number.NaN;
}
