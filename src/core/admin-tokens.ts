import { timingSafeEqual } from 'node:crypto';
import type { CoreResources } from './resources.ts';
import { hashToken, newSecret } from './ids.ts';

/** A new operator token, stored hashed like access tokens; shown once. */
export async function createAdminToken(res: CoreResources, name: string): Promise<string> {
  const token = newSecret('adm');
  await res.write(async (trx) => {
    await trx
      .insertInto('admin_tokens')
      .values({ token_hash: hashToken(token), name, created_at: res.clock.now() })
      .execute();
  });
  return token;
}

/** Removes every stored operator token; the configured one (if any) still opens. */
export async function revokeAdminTokens(res: CoreResources): Promise<number> {
  const result = await res.write((trx) => trx.deleteFrom('admin_tokens').executeTakeFirst());
  return Number(result.numDeletedRows);
}

/**
 * Whether a bearer token is the operator's: the configured `CALPUSH_ADMIN_TOKEN` (compared
 * in constant time, as hashes) or one made with `calpush admin-token create`.
 */
export async function isOperatorToken(
  res: CoreResources,
  token: string | undefined,
  configured: string | undefined,
): Promise<boolean> {
  if (!token) return false;
  const hash = Buffer.from(hashToken(token), 'hex');
  if (
    configured !== undefined &&
    timingSafeEqual(hash, Buffer.from(hashToken(configured), 'hex'))
  ) {
    return true;
  }
  const row = await res.db
    .selectFrom('admin_tokens')
    .select('name')
    .where('token_hash', '=', hashToken(token))
    .executeTakeFirst();
  return row !== undefined;
}
