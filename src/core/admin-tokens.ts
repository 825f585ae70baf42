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
  return token ? isOperatorTokenHash(res, hashToken(token), configured) : false;
}

/**
 * `isOperatorToken` for a token kept only as its hash (a dashboard session's), so a session
 * can be checked again later without holding the token itself.
 */
export async function isOperatorTokenHash(
  res: CoreResources,
  tokenHash: string,
  configured: string | undefined,
): Promise<boolean> {
  const hash = Buffer.from(tokenHash, 'hex');
  const configuredHash =
    configured === undefined ? undefined : Buffer.from(hashToken(configured), 'hex');
  if (
    configuredHash &&
    configuredHash.length === hash.length &&
    timingSafeEqual(hash, configuredHash)
  ) {
    return true;
  }
  const row = await res.db
    .selectFrom('admin_tokens')
    .select('name')
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
  return row !== undefined;
}
