import type { Executor } from './schema.ts';
import { prepared } from './prepared.ts';

const countRow = prepared((db) =>
  db.selectFrom('token_revocations').select('count').where('id', '=', 1),
);

/** How many access tokens were ever deleted, by anyone (migration 016's trigger). */
export async function tokenRevocationCount(db: Executor): Promise<number> {
  const [row] = (await countRow(db)).rows;
  return Number(row?.count ?? 0);
}
