import type { CoreResources } from './resources.ts';
import type { Executor } from '../store/schema.ts';
import { CoreError } from './errors.ts';
import { hashToken, newSecret } from './ids.ts';
import { serializeAccountChanges } from '../store/account-lock.ts';
import { closeChannels } from '../store/channel-closing.ts';
import { ACTIVE } from '../store/channel-states.ts';
import { queueRevocationNotices } from './revocation-notices.ts';

/** Why an account's channels closed when its last token was revoked. */
export const AUTHORIZATION_REVOKED = 'authorization_revoked';

export interface RevokedTokens {
  readonly revoked: number;
  readonly remaining: number;
  /** Channels closed because no token was left to manage them with. */
  readonly closedChannels: number;
  /** Channels the revoked token made whose dialect was told to ask for a new one. */
  readonly noticedChannels: number;
}

/** Which tokens to revoke: one (as the bearer holds it), or every token of an account. */
export type TokenSelection =
  | { readonly token: string; readonly clientId?: string | undefined }
  | { readonly accountId: string };

/** A new access token for an account, alongside those it has (to replace a leaked one). */
export async function issueAccessToken(res: CoreResources, accountId: string): Promise<string> {
  const token = newSecret('tok');
  await res.write(async (trx) => {
    await requireAccount(trx, accountId);
    await trx
      .insertInto('access_tokens')
      .values({ token_hash: hashToken(token), account_id: accountId, created_at: res.clock.now() })
      .execute();
  });
  return token;
}

/**
 * Revokes access tokens: from the moment this returns, this process refuses them (other
 * processes once they next read the store's count of deleted tokens: within
 * `CALPUSH_TOKEN_CACHE_MS`, a second by default). When an account is
 * left with no token, nobody can list or stop its channels any more: they are closed with
 * it, as a provider stops notifying an application whose authorization was revoked.
 * Otherwise the channels the revoked token made live on, and each one's dialect may queue
 * a notice asking for another token (`Dialect.revocationNotice`).
 *
 * A token that is unknown (or, given `clientId`, another client's) revokes nothing and is
 * not an error: as RFC 7009 has it, the answer does not tell a revoked token from one that
 * never was.
 */
export async function revokeAccessTokens(
  res: CoreResources,
  which: TokenSelection,
): Promise<RevokedTokens> {
  const now = res.clock.now();
  const outcome = await res.write(async (trx) => {
    const accountId = 'accountId' in which ? which.accountId : await ownerOf(trx, which);
    if (accountId === undefined) {
      return { revoked: 0, remaining: 0, closed: [] as string[], noticed: 0 };
    }
    if ('accountId' in which) await requireAccount(trx, accountId);
    await serializeAccountChanges(trx, accountId);
    let revoke = trx.deleteFrom('access_tokens').where('account_id', '=', accountId);
    if ('token' in which) revoke = revoke.where('token_hash', '=', hashToken(which.token));
    const revoked = Number((await revoke.executeTakeFirst()).numDeletedRows);
    const { count } = await trx
      .selectFrom('access_tokens')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('account_id', '=', accountId)
      .executeTakeFirstOrThrow();
    const remaining = Number(count);
    let closed: string[] = [];
    if (remaining === 0) {
      closed = (
        await trx
          .selectFrom('channels')
          .select('id')
          .where('account_id', '=', accountId)
          .where('state', '=', ACTIVE)
          .execute()
      ).map((c) => c.id);
      await closeChannels(trx, closed, AUTHORIZATION_REVOKED, now);
    }
    let noticed = 0;
    if (remaining > 0 && revoked > 0 && 'token' in which) {
      const tokenHash = hashToken(which.token);
      noticed = await queueRevocationNotices(trx, res.dialects, { accountId, tokenHash }, now);
    }
    return { accountId, revoked, remaining, closed, noticed };
  });
  if ('token' in which) res.principals?.forget(hashToken(which.token));
  else res.principals?.forgetAccount(which.accountId);
  if (outcome.closed.length > 0) res.notifyClosed(outcome.closed);
  if (outcome.noticed > 0) res.notifyQueued();
  return {
    revoked: outcome.revoked,
    remaining: outcome.remaining,
    closedChannels: outcome.closed.length,
    noticedChannels: outcome.noticed,
  };
}

async function ownerOf(
  trx: Executor,
  which: { readonly token: string; readonly clientId?: string | undefined },
): Promise<string | undefined> {
  let query = trx
    .selectFrom('access_tokens')
    .innerJoin('accounts', 'accounts.id', 'access_tokens.account_id')
    .select('accounts.id as accountId')
    .where('access_tokens.token_hash', '=', hashToken(which.token));
  if (which.clientId !== undefined) query = query.where('accounts.client_id', '=', which.clientId);
  return (await query.executeTakeFirst())?.accountId;
}

async function requireAccount(trx: Executor, accountId: string): Promise<void> {
  const row = await trx
    .selectFrom('accounts')
    .select('id')
    .where('id', '=', accountId)
    .executeTakeFirst();
  if (!row) throw new CoreError('not_found', `no account ${accountId}`, { field: 'account_id' });
}
